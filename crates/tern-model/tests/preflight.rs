//! Pre-flight checks with outside data, driven with an explicit clock and in-memory inputs.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::{Duration, SystemTime};

use tern_model::preflight::{Inputs, preflight};
use tern_rpki::VrpSet;

const NET: &str = r#"[network]
asn = 4200000001
allocations = ["2001:db8:a0::/44"]
lab = true

[[prefix]]
prefix = "2001:db8:a0::/48"
role = "anycast"

[site.ams]
lat = 52.4
lon = 4.9
router_id = "192.0.2.1"
"#;

#[test]
fn vrp_age_is_judged_against_the_given_clock() {
    let m = tern_model::parse(Path::new("t.toml"), NET).unwrap();
    let vrps = VrpSet::from_json_str(
        r#"{"metadata": {"generated": 1767225600}, "roas": [{"asn": "AS4200000001", "prefix": "2001:db8:a0::/48", "maxLength": 48, "ta": "x"}]}"#,
        "vrps.json",
    )
    .unwrap();
    let generated = vrps.generated().unwrap();
    let run = |after: u64| {
        preflight(
            &m.network,
            Inputs {
                vrps: Some((&vrps, Path::new("vrps.json"))),
                irr: None,
                now: Some(generated + Duration::from_secs(after)),
            },
        )
    };
    assert!(run(3600).is_empty(), "{:?}", run(3600));
    let d = run(48 * 3600);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].code, "rpki-stale");
    assert!(d[0].message.contains("48 hours ago"), "{}", d[0].message);
    // A clock before the build time (skew) is not an error.
    let early = preflight(
        &m.network,
        Inputs {
            vrps: Some((&vrps, Path::new("vrps.json"))),
            irr: None,
            now: Some(SystemTime::UNIX_EPOCH),
        },
    );
    assert!(early.is_empty());
}

#[test]
fn bogon_prefixes_even_in_a_lab() {
    let net = NET
        .replace(
            "\"2001:db8:a0::/44\"]",
            "\"2001:db8:a0::/44\", \"10.0.0.0/8\"]",
        )
        .replace(
            "lab = true\n",
            "lab = true\n\n[[prefix]]\nprefix = \"10.1.0.0/24\"\nrole = \"anycast\"\n",
        );
    let m = tern_model::parse(Path::new("t.toml"), &net).unwrap();
    let d = preflight(&m.network, Inputs::default());
    let codes: Vec<(&str, usize)> = d
        .iter()
        .map(|d| (d.code, d.location.as_ref().unwrap().line))
        .collect();
    assert_eq!(codes, [("prefix-bogon", 3), ("prefix-bogon", 7)], "{d:?}");
    assert!(d[1].message.contains("RFC 1918"), "{}", d[1].message);
}
