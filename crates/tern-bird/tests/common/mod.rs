//! Shared helpers of the tern-bird tests: the examples; the temp dir is tern-testkit's.

#![allow(dead_code, unused_imports, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

/// Every example directory that has a tern.toml, by name.
pub fn examples() -> Vec<(String, PathBuf)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut v: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let e = e.ok()?;
            let toml = e.path().join("tern.toml");
            toml.exists()
                .then(|| (e.file_name().to_string_lossy().into_owned(), toml))
        })
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no examples found in {}", dir.display());
    v
}

/// A directory removed on drop: tern-testkit's.
pub use tern_testkit::TempDir;
