//! Provider dictionaries the operator adds or overrides without rebuilding tern.
//!
//! Dictionaries are read from the built-in set first, then from each providers directory in
//! rising precedence:
//!
//! 1. [`SYSTEM_DIR`] (`/etc/tern/providers`), when it exists;
//! 2. `[network] providers = "DIR"` in tern.toml (relative to the file);
//! 3. `--providers DIR` on the command line ([`use_directory`], set once by the binary).
//!
//! Every `NAME.toml` there has the format of `crates/tern-model/providers/*.toml`; it adds the
//! dictionary `NAME`, or replaces the built-in one of that name (and one of a lower directory).
//! A broken file is an error diagnostic with file:line:col; the other dictionaries still load.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::{Origin, Provider, ProviderError, Providers};
use crate::diag::{Diagnostic, Location, Severity, Source};

/// The system-wide providers directory, read when it exists.
pub const SYSTEM_DIR: &str = "/etc/tern/providers";

static CLI_DIR: OnceLock<PathBuf> = OnceLock::new();

/// Sets the directory of `--providers DIR` for this process (the binary calls it once, before
/// any tern.toml is read). Returns false when it was already set.
pub fn use_directory(dir: PathBuf) -> bool {
    CLI_DIR.set(dir).is_ok()
}

/// The directory set by [`use_directory`].
pub fn cli_directory() -> Option<&'static Path> {
    CLI_DIR.get().map(PathBuf::as_path)
}

/// Why a directory is searched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DirKind {
    /// [`SYSTEM_DIR`]: skipped when absent.
    System,
    /// `[network] providers` in tern.toml, written here: must exist.
    Network(Location),
    /// `--providers`: must exist.
    CommandLine,
}

/// One providers directory to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dir {
    /// The directory.
    pub path: PathBuf,
    /// Why it is read.
    pub kind: DirKind,
}

/// The directories to read, lowest precedence first: the system directory (when it exists),
/// `network` (from `[network] providers`, resolved and located), then `--providers`.
pub fn search(network: Option<(PathBuf, Location)>) -> Vec<Dir> {
    let mut v = Vec::new();
    if Path::new(SYSTEM_DIR).is_dir() {
        v.push(Dir {
            path: PathBuf::from(SYSTEM_DIR),
            kind: DirKind::System,
        });
    }
    if let Some((path, at)) = network {
        v.push(Dir {
            path,
            kind: DirKind::Network(at),
        });
    }
    if let Some(p) = cli_directory() {
        v.push(Dir {
            path: p.to_path_buf(),
            kind: DirKind::CommandLine,
        });
    }
    v
}

/// A dictionary id from a file stem: lowercase letters, digits, `-` and `_`.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

impl Providers {
    /// The built-in dictionaries, then every dictionary of `dirs` in order (later ones replace
    /// earlier ones of the same name). Problems with the operator's files are diagnostics; a
    /// broken built-in dictionary is an error (a bug in tern).
    pub fn with_dirs(dirs: &[Dir]) -> Result<(Providers, Vec<Diagnostic>), ProviderError> {
        let mut all = Providers::builtin()?;
        let builtin: Vec<String> = all.iter().map(|p| p.id.clone()).collect();
        let mut diags = Vec::new();
        for d in dirs {
            let at = match &d.kind {
                DirKind::Network(l) => Some(l.clone()),
                _ => None,
            };
            let entries = match std::fs::read_dir(&d.path) {
                Ok(rd) => rd,
                Err(e) => {
                    diags.push(
                        Diagnostic::new(
                            Severity::Error,
                            "provider-dir",
                            at,
                            format!("cannot read providers directory {}: {e}", d.path.display()),
                        )
                        .with_fix("create the directory, or correct the path"),
                    );
                    continue;
                }
            };
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
                .collect();
            files.sort();
            for f in files {
                let id = f
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default()
                    .to_owned();
                if !valid_id(&id) {
                    diags.push(
                        Diagnostic::new(
                            Severity::Error,
                            "provider-dictionary",
                            Some(Source::new(&f, "").location(0)),
                            format!("{id:?} is not a dictionary name"),
                        )
                        .with_fix("name the file with lowercase letters, digits, '-' or '_', e.g. cogent.toml"),
                    );
                    continue;
                }
                let text = match std::fs::read_to_string(&f) {
                    Ok(t) => t,
                    Err(e) => {
                        diags.push(Diagnostic::new(
                            Severity::Error,
                            "provider-dictionary",
                            Some(Source::new(&f, "").location(0)),
                            format!("cannot read {}: {e}", f.display()),
                        ));
                        continue;
                    }
                };
                match Provider::parse(&id, &text) {
                    Ok(mut p) => {
                        p.origin = Origin::File(f.clone());
                        p.overrides_builtin = builtin.contains(&id);
                        all.set(p);
                    }
                    Err(e) => {
                        let src = Source::new(&f, text.as_str());
                        let loc = src.location(e.span().map_or(0, |s| s.start));
                        let fix = if builtin.contains(&id) {
                            format!(
                                "correct the file; until then the built-in {id} dictionary is used"
                            )
                        } else {
                            "correct the file (same format as `tern providers show NAME --toml`)"
                                .to_owned()
                        };
                        diags.push(
                            Diagnostic::new(
                                Severity::Error,
                                "provider-dictionary",
                                Some(loc),
                                e.detail(),
                            )
                            .with_fix(fix),
                        );
                    }
                }
            }
        }
        Ok((all, diags))
    }

    /// Adds a dictionary, replacing one of the same id.
    fn set(&mut self, p: Provider) {
        match self.0.iter_mut().find(|o| o.id == p.id) {
            Some(o) => *o = p,
            None => {
                self.0.push(p);
                self.0.sort_by(|a, b| a.id.cmp(&b.id));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tern_types::Asn;

    struct Tmp(PathBuf);
    impl Drop for Tmp {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    fn tmp(tag: &str) -> Tmp {
        let p = std::env::temp_dir().join(format!("tern-providers-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Tmp(p)
    }

    const ACME: &str = "[provider]\nname = \"Acme\"\nasn = 64999\npasses_communities = false\n\
        source = \"https://acme.example/bgp\"\n\n[[community]]\naction = \"no-announce\"\n\
        target = \"peer\"\nstandard = \"64999:{asn}\"\nmeaning = \"do not announce to AS{asn}\"\n\
        source = \"https://acme.example/bgp\"\nverified = true\n";

    #[test]
    fn a_file_adds_or_overrides_and_a_broken_one_has_file_line() {
        let t = tmp("dirs");
        std::fs::write(t.0.join("acme.toml"), ACME).unwrap();
        // Override GTT with a copy whose entry is verified.
        let gtt = Providers::builtin()
            .unwrap()
            .find("gtt")
            .unwrap()
            .text
            .clone();
        std::fs::write(
            t.0.join("gtt.toml"),
            gtt.replace("verified = false", "verified = true"),
        )
        .unwrap();
        // Broken: line 8 has a template that is no community.
        std::fs::write(
            t.0.join("broken.toml"),
            ACME.replace("64999:{asn}", "64999:x")
                .replace("Acme", "Broken"),
        )
        .unwrap();
        let dirs = [Dir {
            path: t.0.clone(),
            kind: DirKind::CommandLine,
        }];
        let (p, d) = Providers::with_dirs(&dirs).unwrap();
        let acme = p.find("acme").unwrap();
        assert_eq!(acme.asn, Asn(64999));
        assert_eq!(acme.origin, Origin::File(t.0.join("acme.toml")));
        assert!(!acme.overrides_builtin);
        let g = p.find("gtt").unwrap();
        assert!(g.overrides_builtin && g.entries.iter().all(|e| e.verified));
        assert!(p.find("broken").is_none());
        assert_eq!(d.len(), 1, "{d:?}");
        let l = d[0].location.as_ref().unwrap();
        assert_eq!(
            (l.file.clone(), l.line),
            (t.0.join("broken.toml"), 7),
            "{}",
            d[0]
        );
        assert!(d[0].message.contains("64999:x"), "{}", d[0]);
    }

    #[test]
    fn a_missing_directory_is_an_error_unless_it_is_the_system_one() {
        let dirs = [Dir {
            path: PathBuf::from("/nonexistent/tern-providers"),
            kind: DirKind::CommandLine,
        }];
        let (p, d) = Providers::with_dirs(&dirs).unwrap();
        assert!(p.find("vultr").is_some());
        assert_eq!(d[0].code, "provider-dir");
        assert!(
            search(None)
                .iter()
                .all(|d| d.kind != DirKind::CommandLine || cli_directory().is_some())
        );
    }
}
