//! `tern observe` as a user runs it: examples/anycast against the generated collector view in
//! tern-observe's fixtures (what each route shows: crates/tern-observe/tests/observe_anycast.rs),
//! text and --json, exit codes, and bad MRT input.
#![allow(clippy::unwrap_used)]

mod common;

use common::{TempDir, tern};

const MODEL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/anycast/tern.toml"
);
const RIB: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tern-observe/tests/fixtures/observe-anycast.rib.mrt"
);
const UPDATES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tern-observe/tests/fixtures/observe-anycast.updates.mrt"
);

#[test]
fn verdicts_in_text_and_exit_1_when_an_intent_fails() {
    let out = tern(&["observe", MODEL, RIB, UPDATES]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains(
        "fra/vultr6 no-announce to AS2914 (by vultr, AS20473) via AS20473: FAILS, 1 of 3 paths through AS20473 contain 2914 20473 4200000001"
    ), "{text}");
    assert!(
        text.contains("ams/vultr6 no-announce to AS6939 (by vultr, AS20473) via AS20473: BYPASSED"),
        "{text}"
    );
    assert!(
        text.contains("2001:db8:a3::/48: unexpected origin AS64666"),
        "{text}"
    );
    assert!(
        text.contains("2023-11-14 22:16:40 Withdraw from 2001:db8:ffff::1 (AS174)"),
        "{text}"
    );
    assert!(
        text.contains("upstreams (AS next to ours): AS20473 (2), AS53667 (1)"),
        "{text}"
    );
}

#[test]
fn json_carries_every_fact_and_rpki_states() {
    let dir = TempDir::new("observe");
    let vrps = dir.write(
        "vrps.json",
        r#"{"roas": [{"asn": "AS4200000001", "prefix": "2001:db8:a0::/44", "maxLength": 48, "ta": "t"}]}"#,
    );
    let out = tern(&["observe", MODEL, RIB, UPDATES, "--vrps", &vrps, "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let verdicts = v["verdicts"].as_array().unwrap();
    assert!(
        verdicts
            .iter()
            .any(|x| x["site"] == "fra" && x["status"] == "fails")
    );
    let fra = verdicts
        .iter()
        .find(|x| x["site"] == "fra" && x["status"] == "fails")
        .unwrap();
    let a2 = fra["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["prefix"] == "2001:db8:a2::/48")
        .unwrap();
    assert_eq!(a2["contradicting"], 1);
    assert_eq!(
        a2["examples"][0],
        "2914 20473 4200000001 (peer 2001:db8:ffff::4)"
    );
    let a0 = v["prefixes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["prefix"] == "2001:db8:a0::/48")
        .unwrap();
    assert_eq!(a0["rpki"][0]["state"], "valid");
    assert_eq!(a0["routes"].as_array().unwrap().len(), 3);
    assert!(
        v["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "rpki-invalid" && a["origin"] == 64999)
    );
    assert_eq!(v["inputs"][0][1]["rib_entries"], 11);
}

#[test]
fn truncated_and_garbage_mrt_exit_2_with_the_offset() {
    let dir = TempDir::new("observe-bad");
    let bytes = std::fs::read(RIB).unwrap();
    let cut = dir.join("cut.mrt");
    std::fs::write(&cut, &bytes[..bytes.len() - 7]).unwrap();
    let out = tern(&["observe", MODEL, cut.to_str().unwrap()]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("truncated record") && err.contains("at byte "),
        "{err}"
    );
    assert!(err.contains("read before: 7 records"), "{err}");
    let junk = dir.write("junk.mrt", "hello, this is not MRT at all\n");
    let out = tern(&["observe", MODEL, &junk]);
    assert_eq!(out.status.code(), Some(2));
    let missing = tern(&["observe", MODEL, "/nonexistent/file.mrt"]);
    assert_eq!(missing.status.code(), Some(2));
}
