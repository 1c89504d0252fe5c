//! Shared helpers of the tern-atlas integration tests.

use std::path::PathBuf;

/// The shared real-data folder (`../shared/data` next to the repository, or `TERN_SHARED_DATA`).
/// Panics with a clear message when it is missing: these tests must not pass silently.
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

/// The three real traceroute measurements.
#[allow(dead_code)]
pub fn traceroute_files() -> Vec<PathBuf> {
    let d = shared_data().join("atlas/traceroute");
    ["44104396", "44104397", "44104399"]
        .iter()
        .map(|id| d.join(format!("RIPE-Atlas-measurement-{id}.json")))
        .collect()
}
