//! Where test data comes from. A fresh clone has only `testdata/` (small excerpts, provenance in
//! testdata/README.md); the full public files are in `../shared/data` beside the repository (or
//! `$TERN_SHARED_DATA`) on a developer's or CI's machine, for benches and extra full-data tests,
//! which say plainly that they are skipped when it is absent. Python with ripe.atlas.sagan is in
//! the virtual environment scripts/setup makes.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The repository root (this crate is crates/tern-testkit).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A committed fixture: `testdata/REL`. Panics if it is missing (a broken checkout).
pub fn fixture(rel: &str) -> PathBuf {
    let p = repo_root().join("testdata").join(rel);
    assert!(
        p.exists(),
        "fixture {} is missing from the repository",
        p.display()
    );
    p
}

/// The full public data folder (`$TERN_SHARED_DATA`, else `../shared/data` beside the
/// repository), if it is there.
pub fn shared_data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("TERN_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/data"));
    dir.is_dir().then_some(dir)
}

/// `REL` inside the full public data, for an extra full-data test. When it is absent, says
/// `skipped (full-data test): …` on the test process's standard error (past the test harness's
/// capture, so `cargo test` shows it) and returns None: the test then returns at once.
pub fn full_data(rel: &str) -> Option<PathBuf> {
    let found = shared_data_dir()
        .map(|d| d.join(rel))
        .filter(|p| p.exists());
    if found.is_none() {
        let msg = format!(
            "skipped (full-data test): {rel} is not in ../shared/data (set TERN_SHARED_DATA to \
             the folder holding it to run this test)"
        );
        say(&msg);
    }
    found
}

/// A Python 3 that can `import ripe.atlas.sagan`: `$TERN_PYTHON`, else the virtual environment
/// scripts/setup makes (`$TERN_VENV`, default /opt/tern-venv), else `python3` on PATH. None
/// (and a `skipped: …` line) when there is none, so a machine without Python skips the
/// comparison instead of failing it; scripts/setup makes sure CI has one.
pub fn sagan_python() -> Option<PathBuf> {
    let venv = std::env::var_os("TERN_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/tern-venv"));
    let candidates = std::env::var_os("TERN_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain([venv.join("bin/python3"), PathBuf::from("python3")]);
    for py in candidates {
        let ok = Command::new(&py)
            .args(["-c", "import ripe.atlas.sagan"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Some(py);
        }
    }
    let msg = format!(
        "skipped: no Python with ripe.atlas.sagan (looked at $TERN_PYTHON, {}, python3); \
         scripts/setup installs it",
        venv.join("bin/python3").display()
    );
    say(&msg);
    None
}

/// A line straight to file descriptor 2: libtest captures only the print macros, and a skip
/// must be seen in a passing run.
fn say(msg: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{msg}");
}
