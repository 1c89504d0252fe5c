//! `tern atlas analyse|report --hints tern.toml`: the network model is the hints (issue 16.7),
//! `--json` carries sagan's per-probe values, and without hints the keys are hand-over points,
//! never private addresses. Fixtures: documentation prefixes only, and the repository's
//! examples/anycast/tern.toml.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;

use std::path::Path;

use serde_json::Value;

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn json_of(args: &[&str]) -> Value {
    let out = tern(args);
    assert!(
        out.status.success(),
        "tern failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A traceroute of probe `prb` through `hops` to the anycast target 2001:db8:a0::1.
fn traceroute(prb: u32, ts: i64, hops: &[&str]) -> String {
    let mut res: Vec<String> = hops
        .iter()
        .enumerate()
        .map(|(i, a)| {
            format!(
                r#"{{"hop":{},"result":[{{"from":"{a}","rtt":{}.5}}]}}"#,
                i + 1,
                i + 1
            )
        })
        .collect();
    res.push(format!(
        r#"{{"hop":{},"result":[{{"from":"2001:db8:a0::1","rtt":9.0}},{{"from":"2001:db8:a0::1","rtt":8.0}},{{"x":"*"}}]}}"#,
        hops.len() + 1
    ));
    format!(
        r#"{{"fw":5080,"type":"traceroute","prb_id":{prb},"msm_id":7,"timestamp":{ts},"af":6,"proto":"ICMP","dst_addr":"2001:db8:a0::1","result":[{}]}}"#,
        res.join(",")
    )
}

#[test]
fn tern_toml_is_the_hints_and_report_is_an_alias() {
    let model = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/anycast/tern.toml"
    );
    let tmp = TempDir::new("atlas-model");
    let results = tmp.join("results.json");
    // Probe 1 crosses fra's unicast /48, probe 2 ams's; probe 3 only unknown hops.
    let recs = [
        traceroute(1, 10, &["2001:db8:ff00::1", "2001:db8:a2::9"]),
        traceroute(2, 10, &["2001:db8:ff00::1", "2001:db8:a1::9"]),
        traceroute(3, 10, &["2001:db8:ff00::1", "2001:db8:ff00::2"]),
    ];
    std::fs::write(&results, format!("[{}]", recs.join(","))).unwrap();
    for cmd in ["analyse", "report"] {
        let j = json_of(&["atlas", cmd, p(&results), "--hints", model, "--json"]);
        let rows = j["probes"].as_array().unwrap();
        let row = |id: u64| rows.iter().find(|r| r["prb_id"] == id).unwrap();
        assert_eq!(row(1)["catchment"]["site"], "fra", "{cmd}");
        assert_eq!(row(1)["catchment"]["evidence"], "hop-prefix");
        assert_eq!(row(2)["catchment"]["site"], "ams");
        assert_eq!(j["keys"], "sites");
        // The sites and their coordinates come from the model.
        let sites: Vec<&str> = j["sites"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap())
            .collect();
        assert!(
            sites.contains(&"ams") && sites.contains(&"fra"),
            "{sites:?}"
        );
        // sagan's per-probe values are in --json.
        let t = &row(1)["traceroute"];
        assert_eq!(t["total_hops"], 3);
        assert_eq!(t["destination_responded"], true);
        assert_eq!(t["last_median_rtt"], 8.5);
        assert_eq!(t["last_min_rtt"], 8.0);
        assert_eq!(t["min_rtt_to_destination"], 8.0);
        assert_eq!(row(1)["results"], 1);
    }
    // The old hints format still works.
    let hints = tmp.join("sites.json");
    std::fs::write(
        &hints,
        r#"{"sites":[{"id":"fra","prefixes":["2001:db8:a2::/48"]}]}"#,
    )
    .unwrap();
    let j = json_of(&[
        "atlas",
        "analyse",
        p(&results),
        "--hints",
        p(&hints),
        "--json",
    ]);
    let fra = j["probes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["catchment"]["site"] == "fra")
        .count();
    assert_eq!(fra, 1);
}

#[test]
fn without_hints_keys_are_hand_over_points_never_private_addresses() {
    let tmp = TempDir::new("atlas-handover");
    let results = tmp.join("results.json");
    // Probe 1: public hand-over hop 2001:db8:77::1 then a ULA hop right before the target.
    // Probe 2: only private hops (RFC 1918 and fe80::) before the target: no key at all.
    let recs = [
        traceroute(1, 10, &["fd00::1", "2001:db8:77::1", "fd00:1::1"]),
        traceroute(2, 10, &["fe80::1", "fc00::2"]),
    ];
    std::fs::write(&results, format!("[{}]", recs.join(","))).unwrap();
    let j = json_of(&["atlas", "analyse", p(&results), "--json"]);
    assert_eq!(j["keys"], "hand-over");
    let rows = j["probes"].as_array().unwrap();
    assert_eq!(rows[0]["catchment"]["site"], "via 2001:db8:77::/48");
    assert_eq!(rows[0]["traceroute"]["hand_over"], "2001:db8:77::1");
    assert_eq!(rows[1]["catchment"]["site"], Value::Null);
    for g in j["by_site"].as_array().unwrap() {
        let k = g["key"].as_str().unwrap();
        assert!(
            !k.contains("fd00") && !k.contains("fc00") && !k.contains("fe80"),
            "{k}"
        );
    }
    let out = tern(&["atlas", "report", p(&results)]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("last hop before the target"), "{text}");
    assert!(text.contains("hand-over points"), "{text}");
}

#[test]
fn damaged_and_cut_off_files_are_reported() {
    let tmp = TempDir::new("atlas-damaged");
    let results = tmp.join("results.json");
    let recs: Vec<String> = (1..=5)
        .map(|i| traceroute(i, 10, &["2001:db8:77::1"]))
        .collect();
    // One damaged byte in record 2 of a one-line array, and no closing bracket.
    let text = format!("[{}", recs.join(",")).replacen("\"prb_id\":2,", "\"prb_id\":2;", 1);
    std::fs::write(&results, text).unwrap();
    let out = tern(&["atlas", "analyse", p(&results), "--json"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("1 broken record(s) skipped, 4 read"), "{err}");
    assert!(err.contains("no closing `]`"), "{err}");
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["inputs"][0]["records"], 4);
    assert_eq!(j["inputs"][0]["skipped"]["count"], 1);
    assert_eq!(j["inputs"][0]["unclosed_array"], true);
}
