//! Shared helpers of the tern-atlas integration tests: where the real data comes from (the
//! excerpts in testdata/, the full files in ../shared/data when present) and sagan's Python,
//! all through tern-testkit.
#![allow(dead_code, unused_imports)]

use std::path::PathBuf;

pub use tern_testkit::{fixture, full_data, sagan_python};

const MEASUREMENTS: [&str; 3] = ["44104396", "44104397", "44104399"];

/// The three real traceroute measurements: the full files (911–948 records each) when
/// ../shared/data has them, else their 30-record excerpts in testdata/.
pub fn traceroute_files() -> Vec<PathBuf> {
    if let Some(d) = tern_testkit::shared_data_dir()
        .map(|d| d.join("atlas/traceroute"))
        .filter(|d| d.is_dir())
    {
        return MEASUREMENTS
            .iter()
            .map(|id| d.join(format!("RIPE-Atlas-measurement-{id}.json")))
            .collect();
    }
    println!("using the 30-record excerpts in testdata/ (../shared/data is absent)");
    MEASUREMENTS
        .iter()
        .map(|id| {
            fixture(&format!(
                "atlas/traceroute/RIPE-Atlas-measurement-{id}-first30.json"
            ))
        })
        .collect()
}

/// Fewest records a comparison over [`traceroute_files`] must cover: ~930 per full file, 30 per
/// excerpt.
pub fn traceroute_min_records() -> usize {
    if traceroute_files()[0].to_string_lossy().contains("first30") {
        90
    } else {
        2700
    }
}
