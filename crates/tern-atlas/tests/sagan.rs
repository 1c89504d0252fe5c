//! tern-atlas vs ripe.atlas.sagan (the RIPE NCC reference parser) on the real traceroute files
//! (full in ../shared/data, else the excerpts in testdata/; skipped without sagan's Python):
//! per record, the last median RTT, the minimum RTT of that hop, the hop count and whether the
//! destination answered must be equal.

#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use serde_json::Value;
use tern_atlas::{Body, read_results};

#[test]
fn per_probe_values_equal_sagans() {
    let Some(python) = common::sagan_python() else {
        return;
    };
    let files = common::traceroute_files();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sagan_dump.py");
    let out = Command::new(&python)
        .arg(script)
        .args(&files)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    assert!(
        out.status.success(),
        "sagan dump failed (pip install ripe.atlas.sagan): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sagan: Vec<Vec<Value>> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sagan.len(), files.len());
    let mut compared = 0;
    for (file, theirs) in files.iter().zip(&sagan) {
        let ours = read_results(file).unwrap();
        assert_eq!(ours.skipped.count, 0, "{}", file.display());
        assert_eq!(ours.records.len(), theirs.len(), "{}", file.display());
        for (r, s) in ours.records.iter().zip(theirs) {
            let Body::Traceroute(t) = &r.body else {
                panic!("record {} is not a traceroute", r.index)
            };
            let ctx = format!("{} record {} probe {}", file.display(), r.index, r.prb_id);
            assert_eq!(Some(u64::from(r.prb_id)), s["prb_id"].as_u64(), "{ctx}");
            assert_eq!(
                t.hops.len() as u64,
                s["total_hops"].as_u64().unwrap(),
                "{ctx}"
            );
            assert_eq!(
                t.destination_responded(r.dst_addr),
                s["destination_ip_responded"].as_bool().unwrap(),
                "{ctx}"
            );
            let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
                (Some(a), Some(b)) => (a - b).abs() < 1e-9,
                (None, None) => true,
                _ => false,
            };
            assert!(
                close(t.last_median_rtt(), s["last_median_rtt"].as_f64()),
                "{ctx}: last median {:?} vs sagan {}",
                t.last_median_rtt(),
                s["last_median_rtt"]
            );
            assert!(
                close(t.last_min_rtt(), s["last_min_rtt"].as_f64()),
                "{ctx}: last min {:?} vs sagan {}",
                t.last_min_rtt(),
                s["last_min_rtt"]
            );
            compared += 1;
        }
    }
    // ~930 probes per full file, 30 per excerpt: make sure the comparison really covered them.
    assert!(
        compared >= common::traceroute_min_records(),
        "only {compared} records compared"
    );
}
