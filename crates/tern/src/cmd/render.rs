//! `tern render`: write the BIRD 2 configuration of one site (`--site NAME`, to standard output,
//! `-o FILE` or `--out DIR` as `DIR/NAME.conf`) or of every site (`--all --out DIR`, one
//! `NAME.conf` each).
//!
//! A rendered file that holds a key (an MD5 password resolved at render time) is created with
//! mode 0600 from the start: written to a new file opened with that mode and renamed over the
//! target, so neither a fresh file nor one left 0644 by an earlier render is ever readable by
//! others with a key in it. (BIRD reading it as user `bird` needs a `chown bird`.)
//!
//! MD5 keys: inlined when resolvable now (see tern-bird); otherwise the config includes
//! `secrets/<site>_<upstream>.conf` next to it, and render creates that file as an empty stub
//! (mode 0600, never overwriting) so that the config parses; until the key is put there, the
//! session runs without MD5 and providers that require it will refuse it.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use tern_model::{Severity, Site};
use tern_types::SiteId;

use crate::exit::Exit;

/// Arguments of `tern render`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["site", "all"])))]
pub struct Args {
    /// The network description.
    pub file: PathBuf,
    /// Render this site.
    #[arg(long, value_name = "NAME")]
    pub site: Option<String>,
    /// Render every site (needs --out).
    #[arg(long, requires = "out")]
    pub all: bool,
    /// With --site: write here instead of standard output.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        conflicts_with = "all"
    )]
    pub output: Option<PathBuf>,
    /// The directory for NAME.conf files (with --all, or with --site for that one site).
    #[arg(long, value_name = "DIR", conflicts_with = "output")]
    pub out: Option<PathBuf>,
}

/// Runs `tern render`.
pub fn run(args: Args) -> anyhow::Result<Exit> {
    let m = tern_model::load(&args.file)?;
    if m.has_errors() {
        for d in m
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
        {
            eprintln!("{d}");
        }
        eprintln!(
            "not rendering: {} has errors (run `tern check {}`)",
            args.file.display(),
            args.file.display()
        );
        return Ok(Exit::Findings);
    }
    let net = &m.network;
    if args.all {
        let dir = args.out.context("--all needs --out DIR")?;
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        for s in &net.sites {
            let file = dir.join(format!("{}.conf", s.id));
            write_site(net, s, Some(&file))?;
        }
        eprintln!("wrote {} config(s) to {}", net.sites.len(), dir.display());
        return Ok(Exit::Ok);
    }
    let name = args.site.context("say which site: --site NAME, or --all")?;
    let id: SiteId = name.parse()?;
    let site = net.site(&id).with_context(|| {
        format!(
            "there is no site {name:?}; sites are: {}",
            net.sites
                .iter()
                .map(|s| s.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    let file = match (&args.output, &args.out) {
        (Some(f), _) => Some(f.clone()),
        (None, Some(dir)) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            Some(dir.join(format!("{}.conf", site.id)))
        }
        (None, None) => None,
    };
    write_site(net, site, file.as_deref())?;
    if let (None, Some(f)) = (&args.output, &file) {
        eprintln!("wrote {}", f.display());
    }
    Ok(Exit::Ok)
}

fn write_site(net: &tern_model::Network, s: &Site, file: Option<&Path>) -> anyhow::Result<()> {
    let text = tern_bird::render(net, &s.id)?;
    let Some(file) = file else {
        print!("{text}");
        for u in &s.upstreams {
            if let Some(sec) = &u.password {
                if sec.resolve().is_err() {
                    eprintln!(
                        "note: {}/{} includes {} (relative to the config) for its MD5 key from {sec}",
                        s.id,
                        u.name,
                        tern_bird::secret_include(&s.id, u)
                    );
                }
            }
        }
        return Ok(());
    };
    let holds_key = s
        .upstreams
        .iter()
        .any(|u| u.password.as_ref().is_some_and(|p| p.resolve().is_ok()));
    replace_file(file, &text, holds_key)?;
    let dir = file.parent().unwrap_or(Path::new("."));
    for u in &s.upstreams {
        let Some(sec) = &u.password else { continue };
        if sec.resolve().is_ok() {
            continue;
        }
        let inc = dir.join(tern_bird::secret_include(&s.id, u));
        if inc.exists() {
            continue;
        }
        if let Some(p) = inc.parent() {
            std::fs::create_dir_all(p).with_context(|| format!("cannot create {}", p.display()))?;
        }
        stub(
            &inc,
            &format!(
                "# MD5 key of {}/{} (from {sec}, which was not available at render time).\n# Replace this comment by: password \"<key>\";\n",
                s.id, u.name
            ),
        )?;
        eprintln!(
            "note: {}/{} needs its MD5 key in {} (from {sec})",
            s.id,
            u.name,
            inc.display()
        );
    }
    Ok(())
}

/// Writes `text` to `path` through a new file in the same directory renamed over it: mode 0600
/// from creation when `private`, else the usual 0666 less the umask. A crash leaves the old
/// file or the new one, never half of either.
fn replace_file(path: &Path, text: &str, private: bool) -> anyhow::Result<()> {
    use std::io::Write as _;
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file name", path.display()))?;
    let tmp = path.with_file_name(format!(
        ".{}.tmp{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&tmp);
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(0o600);
    }
    let written = o.open(&tmp).and_then(|mut f| {
        f.write_all(text.as_bytes())?;
        f.sync_all()
    });
    let done = written.and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = done {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(())
}

/// Creates a secrets stub readable only by its owner.
fn stub(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(0o600);
    }
    let mut f = o
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
