//! Names the commit in `tern --version`: `TERN_COMMIT` when set (packagers building from a
//! tarball), else the commit HEAD was at when built (`git rev-parse`), else "unknown commit", so
//! a build without git or outside a clone still works.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!s.is_empty()).then_some(s)
}

fn main() {
    println!("cargo:rerun-if-env-changed=TERN_COMMIT");
    let commit = std::env::var("TERN_COMMIT")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown commit".to_owned());
    // Rebuild when HEAD moves (a commit, a checkout); the git dir of a worktree is elsewhere.
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        for f in ["HEAD", "logs/HEAD"] {
            let p = std::path::Path::new(&dir).join(f);
            if p.exists() {
                println!("cargo:rerun-if-changed={}", p.display());
            }
        }
    }
    println!("cargo:rustc-env=TERN_COMMIT={commit}");
}
