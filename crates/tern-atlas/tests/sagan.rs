//! tern-atlas vs ripe.atlas.sagan (the RIPE NCC reference parser) on the real traceroute files:
//! per record, the last median RTT, the minimum RTT of that hop, the hop count and whether the
//! destination answered must be equal.

#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use serde_json::Value;
use tern_atlas::{Body, read_results};

#[test]
fn per_probe_values_equal_sagans() {
    let files = common::traceroute_files();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sagan_dump.py");
    let out = Command::new("python3")
        .arg(script)
        .args(&files)
        .output()
        .expect("python3 must be installed");
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
    // ~930 probes per file: make sure the comparison really covered them.
    assert!(compared > 2700, "only {compared} records compared");
}
