//! "Did you mean": a misspelt key, action, region, provider, site or intent target names the
//! expected word it is closest to.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use tern_model::{LoadError, parse};

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
provider = "vultr"
router_id = "198.51.100.1"
connected = ["2001:db8:ffff::/64"]
intents = [ { action = "prepend", times = 2, to = "AS174" } ]

[[site.ams.upstream]]
neighbor = "2001:db8:ffff::1"
source = "2001:db8:ffff::10"
"#;

fn syntax(text: &str) -> String {
    match parse(Path::new("t.toml"), text) {
        Err(LoadError::Syntax { message, .. }) => message,
        other => panic!("not a syntax error: {other:?}"),
    }
}

fn finding(text: &str, code: &str) -> String {
    let m = parse(Path::new("t.toml"), text).unwrap();
    m.diagnostics
        .iter()
        .find(|d| d.code == code)
        .unwrap_or_else(|| panic!("no {code} in {:#?}", m.diagnostics))
        .message
        .clone()
}

#[test]
fn unknown_keys_and_words_name_the_closest_expected_one() {
    assert!(parse(Path::new("t.toml"), NET).is_ok());
    let m = syntax(&NET.replace("neighbor =", "neighbour ="));
    assert!(
        m.starts_with("unknown field `neighbour`") && m.ends_with("(did you mean `neighbor`?)"),
        "{m}"
    );
    let m = syntax(&NET.replace("action = \"prepend\"", "action = \"prepand\""));
    assert!(m.ends_with("(did you mean `prepend`?)"), "{m}");
    let m = syntax(&NET.replace("to = \"AS174\"", "to = \"AS174\", regoin = \"asia\""));
    assert!(m.ends_with("(did you mean `region`?)"), "{m}");
    let m = syntax(&NET.replace("to = \"AS174\"", "to = \"AS174\", region = \"aisa\""));
    assert!(m.ends_with("(did you mean `asia`?)"), "{m}");
    // Nothing close: no guess.
    let m = syntax(&NET.replace("neighbor =", "zzzzzz ="));
    assert!(!m.contains("did you mean"), "{m}");
}

#[test]
fn unknown_providers_sites_and_intent_targets_name_the_closest_known_one() {
    let m = finding(
        &NET.replace("provider = \"vultr\"", "provider = \"vulrt\""),
        "unknown-provider",
    );
    assert!(m.ends_with("(did you mean `vultr`?)"), "{m}");
    let m = finding(
        &NET.replace("to = \"AS174\"", "to = \"cogen\""),
        "bad-intent",
    );
    assert!(m.ends_with("(did you mean `cogent`?)"), "{m}");
    let m = finding(&NET.replace("to = \"AS174\"", "to = \"al\""), "bad-intent");
    assert!(m.ends_with("(did you mean `all`?)"), "{m}");
    let m = finding(
        &NET.replace("to = \"AS174\"", "region = \"asia\", via = \"gt\""),
        "unknown-provider",
    );
    assert!(m.ends_with("(did you mean `gtt`?)"), "{m}");
    let m = finding(
        &NET.replace(
            "role = \"anycast\"",
            "role = \"anycast\"\nsites = [\"amss\"]",
        ),
        "unknown-site",
    );
    assert!(m.ends_with("(did you mean `ams`?)"), "{m}");
}
