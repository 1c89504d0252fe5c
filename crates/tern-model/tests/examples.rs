//! The bundled examples load, validate without errors and compile the intended communities.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use tern_model::{Severity, load};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../examples/{name}/tern.toml"))
}

#[test]
fn anycast_example_validates() {
    let m = load(&example("anycast")).unwrap();
    for d in &m.diagnostics {
        eprintln!("{d}");
    }
    assert!(!m.has_errors());
    let n = &m.network;
    assert_eq!(n.sites.len(), 5);
    let ams = n.sites.iter().find(|s| s.id.as_str() == "ams").unwrap();
    let v6 = ams.upstreams.iter().find(|u| u.name == "vultr6").unwrap();
    assert_eq!(v6.remote_as.0, 64515);
    assert_eq!(v6.multihop, Some(2));
    let c: Vec<String> = v6
        .export
        .communities
        .iter()
        .map(|c| c.to_string())
        .collect();
    for want in [
        "64600:6939",
        "64600:2914",
        "64600:1239",
        "64600:1299",
        "64600:3356",
        "3257:2592",
    ] {
        assert!(c.contains(&want.to_owned()), "{want} missing in {c:?}");
    }
    let lux = n.sites.iter().find(|s| s.id.as_str() == "lux").unwrap();
    let b6 = &lux.upstreams[0];
    let l: Vec<String> = b6
        .export
        .large_communities
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(l, ["53667:102:174", "53667:109:6939"]);
    assert_eq!(b6.export.prepend, 1);
    // Regional anycast only where listed.
    assert!(
        ams.announces
            .iter()
            .any(|p| p.to_string() == "2001:db8:af::/48")
    );
    let nrt = n.sites.iter().find(|s| s.id.as_str() == "nrt").unwrap();
    assert!(
        !nrt.announces
            .iter()
            .any(|p| p.to_string() == "2001:db8:af::/48")
    );
    // Only lab and unverified-data findings.
    for d in &m.diagnostics {
        assert!(
            matches!(
                d.code,
                "lab-private-asn" | "lab-documentation-prefix" | "intent-unverified"
            ),
            "unexpected {d}"
        );
        assert!(d.severity <= Severity::Warning);
    }
}

#[test]
fn minimal_example_validates() {
    let m = load(&example("minimal")).unwrap();
    assert!(!m.has_errors(), "{:?}", m.diagnostics);
    let codes: Vec<&str> = m.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["lab-private-asn", "lab-documentation-prefix"]);
}
