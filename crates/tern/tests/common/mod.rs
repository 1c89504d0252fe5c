//! What the black-box tests of the `tern` binary share: running it; temporary directories and
//! test data (fixtures, the full public data, sagan's Python) are tern-testkit's. Each test file
//! uses part of it.
#![allow(dead_code, unused_imports, clippy::unwrap_used)]

use std::process::{Command, Output};

pub use tern_testkit::{TempDir, fixture, full_data};

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
