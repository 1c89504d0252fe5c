//! The committed excerpts of real RIPE Atlas data (testdata/atlas, provenance in
//! testdata/README.md) read without loss: what a fresh clone tests the readers on. The full
//! files are checked in formats.rs when ../shared/data is present.

#![allow(clippy::unwrap_used)]

mod common;

use tern_atlas::record::Proto;
use tern_atlas::{Body, read_probes, read_results};

#[test]
fn excerpts_read_without_loss() {
    let d = common::fixture("atlas");
    for (f, n) in [
        (
            "traceroute/RIPE-Atlas-measurement-44104396-first30.json",
            30,
        ),
        (
            "traceroute/RIPE-Atlas-measurement-44104397-first30.json",
            30,
        ),
        (
            "traceroute/RIPE-Atlas-measurement-44104399-first30.json",
            30,
        ),
        ("dns/RIPE-Atlas-measurement-29083406.json", 96),
        ("dns/RIPE-Atlas-measurement-29096558.json", 96),
        ("dns/RIPE-Atlas-measurement-24980149.json", 14),
        ("dns/RIPE-Atlas-measurement-24980204.json", 14),
    ] {
        let r = read_results(&d.join(f)).unwrap();
        assert_eq!((r.records.len(), r.skipped.count), (n, 0), "{f}");
        if f.starts_with("traceroute") {
            assert!(r.records.iter().all(
                |r| matches!(r.body, Body::Traceroute(ref t) if t.proto == Some(Proto::Icmp))
            ));
        }
    }
    let p = read_probes(&d.join("probes/20171103-excerpt.json.bz2")).unwrap();
    assert_eq!(p.probes.len(), 10);
    let one = p.get(1).unwrap();
    assert_eq!(
        (one.country.as_deref(), one.location()),
        (Some("NL"), Some((52.3875, 4.8875)))
    );
}
