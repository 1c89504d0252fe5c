//! `tern completions SHELL` and `tern man`: shell completions and the man page, both generated
//! at run time from the same clap definitions as the parser, so they can never drift from it.
//!
//! Install: `tern completions bash > /etc/bash_completion.d/tern`,
//! `tern completions zsh > "${fpath[1]}/_tern"`, `tern completions fish >
//! ~/.config/fish/completions/tern.fish`; `tern man > /usr/local/share/man/man1/tern.1`.

use std::io::Write as _;

use anyhow::Context as _;

use crate::exit::Exit;

/// Shells `tern completions` writes for.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Shell {
    /// bash (bash-completion).
    Bash,
    /// zsh (a `_tern` file in $fpath).
    Zsh,
    /// fish.
    Fish,
}

/// Arguments of `tern completions`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to write completions for.
    pub shell: Shell,
}

/// Writes the completion script for `args.shell` to standard output.
pub fn run(args: Args, mut cmd: clap::Command) -> anyhow::Result<Exit> {
    use clap_complete::Shell as S;
    let shell = match args.shell {
        Shell::Bash => S::Bash,
        Shell::Zsh => S::Zsh,
        Shell::Fish => S::Fish,
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "tern", &mut out);
    std::io::stdout()
        .write_all(&out)
        .context("cannot write to standard output")?;
    Ok(Exit::Ok)
}

/// Arguments of `tern man`.
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write tern.1 and one page per subcommand (tern-lab-up.1, …) into this directory
    /// instead of printing tern(1).
    #[arg(long, value_name = "DIR")]
    pub out: Option<std::path::PathBuf>,
}

/// Prints the man page tern(1), or writes every page into `--out DIR`.
pub fn man(args: ManArgs, cmd: clap::Command) -> anyhow::Result<Exit> {
    let Some(dir) = args.out else {
        let mut out = Vec::new();
        clap_mangen::Man::new(cmd).render(&mut out)?;
        std::io::stdout()
            .write_all(&out)
            .context("cannot write to standard output")?;
        return Ok(Exit::Ok);
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    clap_mangen::generate_to(cmd, &dir)
        .with_context(|| format!("cannot write man pages to {}", dir.display()))?;
    let n = std::fs::read_dir(&dir)
        .map(|r| {
            r.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "1"))
                .count()
        })
        .unwrap_or(0);
    eprintln!("wrote {n} man page(s) to {}", dir.display());
    Ok(Exit::Ok)
}
