//! What the black-box tests of the `tern` binary share: running it, temporary directories and
//! the shared test data. Each test file uses part of it.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// `../shared/data` beside the repository (or `TERN_SHARED_DATA`); fails loudly when absent.
pub fn shared_data() -> PathBuf {
    let dir = std::env::var_os("TERN_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        });
    assert!(
        dir.join("atlas").is_dir(),
        "shared test data not found at {} (set TERN_SHARED_DATA to the folder holding atlas/)",
        dir.display()
    );
    dir
}

/// Runs the built `tern`; a panic message on stderr fails the test whatever the exit code.
pub fn tern(args: &[&str]) -> Output {
    tern_env(args, &[])
}

/// Runs the built `tern` with no `TERN_*_PASSWORD` from the caller's environment, plus `env`.
pub fn tern_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tern"));
    c.args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("TERN_") && k.ends_with("_PASSWORD") {
            c.env_remove(k);
        }
    }
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "tern panicked: {err}");
    out
}

/// A fresh temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A new empty directory whose name contains `tag`, unique within the test run.
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "tern-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    /// A path inside it.
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Writes `text` to `name` inside it and returns the path as text.
    pub fn write(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
