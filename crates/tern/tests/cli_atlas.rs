//! Black-box tests of `tern atlas analyse` and `tern atlas diff` on real RIPE Atlas data (the
//! excerpts in testdata/atlas; the full files in ../shared/data/atlas for the full-data test,
//! skipped when absent) and on small synthetic fixtures (documentation prefixes only).
#![allow(clippy::unwrap_used)]

mod common;
use common::*;

use std::path::Path;
use std::process::Output;

use serde_json::Value;

fn ok_stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "tern failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn traceroute_table_groups_by_last_hop_with_countries() {
    let Some(d) = full_data("atlas") else { return };
    let tr = d.join("traceroute/RIPE-Atlas-measurement-44104396.json");
    let probes = d.join("probes/20171103.json.bz2");
    let out = ok_stdout(&tern(&["atlas", "analyse", p(&tr), "--probes", p(&probes)]));
    assert!(out.contains("911 records, 0 skipped"), "{out}");
    assert!(out.contains("911 probes"), "{out}");
    // Without hints, probes are grouped by the network of the hop before the target.
    assert!(out.contains("via "), "{out}");
    assert!(out.contains("continent"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("DE ")), "{out}");

    let json: Value = serde_json::from_str(&ok_stdout(&tern(&[
        "atlas",
        "analyse",
        p(&tr),
        "--probes",
        p(&probes),
        "--json",
    ])))
    .unwrap();
    assert_eq!(json["overall"]["probes"], 911);
    let with_rtt = json["overall"]["with_rtt"].as_u64().unwrap();
    assert!(with_rtt > 850 && with_rtt <= 911, "{with_rtt}");
    let p50 = json["overall"]["p50"].as_f64().unwrap();
    assert!((5.0..40.0).contains(&p50), "{p50}");
    // 595 of the 911 probes are in the 2017 archive (shared/data/README.md); 17 of those have
    // neither country nor location there (checked with python's json + bz2).
    let located = json["probes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["country"].is_string())
        .count();
    assert_eq!(located, 578);
    let eu = json["by_continent"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == "EU")
        .unwrap();
    assert!(eu["probes"].as_u64().unwrap() > 300);
}

/// The same on the committed excerpt (30 records; probes 1 NL and 1000 AU are in the archive
/// excerpt), so a fresh clone runs it.
#[test]
fn traceroute_table_on_the_excerpt() {
    let d = fixture("atlas");
    let tr = d.join("traceroute/RIPE-Atlas-measurement-44104396-first30.json");
    let probes = d.join("probes/20171103-excerpt.json.bz2");
    let out = ok_stdout(&tern(&["atlas", "analyse", p(&tr), "--probes", p(&probes)]));
    assert!(out.contains("30 records, 0 skipped"), "{out}");
    assert!(out.contains("30 probes"), "{out}");
    assert!(out.contains("via "), "{out}");
    assert!(out.contains("continent"), "{out}");
    let json: Value = serde_json::from_str(&ok_stdout(&tern(&[
        "atlas",
        "analyse",
        p(&tr),
        "--probes",
        p(&probes),
        "--json",
    ])))
    .unwrap();
    assert_eq!(json["overall"]["probes"], 30);
    let located: Vec<&str> = json["probes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["country"].as_str())
        .collect();
    assert_eq!(located.len(), 2, "{located:?}");
    assert!(
        located.contains(&"NL") && located.contains(&"AU"),
        "{located:?}"
    );
}

#[test]
fn jsonl_dump_reads_like_the_api_array() {
    let d = fixture("atlas/traceroute/RIPE-Atlas-measurement-44104397-first30.json");
    let tmp = TempDir::new("jsonl");
    let arr: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&d).unwrap()).unwrap();
    let mut lines = String::new();
    for v in &arr {
        lines.push_str(&serde_json::to_string(v).unwrap());
        lines.push('\n');
    }
    // One broken line in the middle: reported and skipped, not fatal.
    lines.push_str("{\"fw\": 5020, \"prb_id\": \n");
    let jsonl = tmp.join("dump.jsonl");
    std::fs::write(&jsonl, &lines).unwrap();
    let a: Value =
        serde_json::from_str(&ok_stdout(&tern(&["atlas", "analyse", p(&d), "--json"]))).unwrap();
    let out = tern(&["atlas", "analyse", p(&jsonl), "--json"]);
    let l: Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    assert_eq!(a["overall"], l["overall"]);
    assert_eq!(a["by_site"], l["by_site"]);
    assert_eq!(l["inputs"][0]["skipped"]["count"], 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("1 broken record(s) skipped"), "{stderr}");
    assert!(
        stderr.contains(&format!("record #{}", arr.len())),
        "{stderr}"
    );
}

#[test]
fn not_json_is_exit_2_with_a_clear_message() {
    let tmp = TempDir::new("notjson");
    let f = tmp.join("x.json");
    std::fs::write(&f, "this is not json\n").unwrap();
    let out = tern(&["atlas", "analyse", p(&f)]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not RIPE Atlas JSON"), "{stderr}");
    let missing = tern(&["atlas", "analyse", "/nonexistent/tern-atlas.json"]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn dns_chaos_catchment_and_abuf_only_file() {
    let d = fixture("atlas/dns");
    let j: Value = serde_json::from_str(&ok_stdout(&tern(&[
        "atlas",
        "analyse",
        p(&d.join("RIPE-Atlas-measurement-29083406.json")),
        "--json",
    ])))
    .unwrap();
    let site = |name: &str| {
        j["by_site"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["key"] == name)
            .map(|g| g["probes"].as_u64().unwrap())
    };
    // Counted independently in shared/reference/measurement.md: ams 18, vie 13, fra 12, cdg 10.
    assert_eq!(site("ams"), Some(18));
    assert_eq!(site("vie"), Some(13));
    assert_eq!(site("fra"), Some(12));
    assert_eq!(site("cdg"), Some(10));
    assert_eq!(
        j["by_evidence"]["chaos"].as_u64().unwrap() + j["by_evidence"]["unknown"].as_u64().unwrap(),
        96
    );

    // 24980149 has only abuf (CNAME id.server.on.quad9.net → resNNN.<site>.on.quad9.net).
    let j: Value = serde_json::from_str(&ok_stdout(&tern(&[
        "atlas",
        "analyse",
        p(&d.join("RIPE-Atlas-measurement-24980149.json")),
        "--json",
    ])))
    .unwrap();
    let sites: Vec<&str> = j["by_site"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["key"].as_str().unwrap())
        .collect();
    assert!(
        sites.contains(&"mia") && sites.contains(&"ams"),
        "{sites:?}"
    );
    assert_eq!(j["by_evidence"]["chaos"], 13);
}

#[test]
fn diff_of_the_quad9_pair() {
    let d = fixture("atlas/dns");
    let before = d.join("RIPE-Atlas-measurement-29083406.json");
    let after = d.join("RIPE-Atlas-measurement-29096558.json");
    let j: Value = serde_json::from_str(&ok_stdout(&tern(&[
        "atlas",
        "diff",
        p(&before),
        p(&after),
        "--json",
    ])))
    .unwrap();
    assert_eq!(j["matched"], 96);
    let sites: Vec<String> = j["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    let m = j["matrix"].as_array().unwrap();
    let cell = |a: &str, b: &str| {
        let i = sites.iter().position(|s| s == a).unwrap();
        let k = sites.iter().position(|s| s == b).unwrap();
        m[i][k].as_u64().unwrap()
    };
    let col = |b: &str| sites.iter().map(|a| cell(a, b)).sum::<u64>();
    let row = |a: &str| sites.iter().map(|b| cell(a, b)).sum::<u64>();
    // ams 18 → 17, vie 13 → 12, fra 12 → 13 (shared/reference/measurement.md).
    assert_eq!((row("ams"), col("ams")), (18, 17));
    assert_eq!((row("vie"), col("vie")), (13, 12));
    assert_eq!((row("fra"), col("fra")), (12, 13));
    let changed: u64 = (0..sites.len())
        .flat_map(|i| (0..sites.len()).map(move |k| (i, k)))
        .filter(|(i, k)| i != k)
        .map(|(i, k)| m[i][k].as_u64().unwrap())
        .sum();
    assert_eq!(j["site_changed"].as_u64().unwrap(), changed);
    assert!(changed > 0);
    // Worse probes are sorted by the increase, largest first.
    let deltas: Vec<f64> = j["worse"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["delta"].as_f64().unwrap())
        .collect();
    assert!(!deltas.is_empty());
    assert!(deltas.windows(2).all(|w| w[0] >= w[1]), "{deltas:?}");

    let text = ok_stdout(&tern(&["atlas", "diff", p(&before), p(&after)]));
    assert!(text.contains("site transitions"), "{text}");
    assert!(text.contains("probes got worse"), "{text}");
}

#[test]
fn diff_without_common_probes_says_so() {
    // The three real traceroute repetitions used disjoint probe sets.
    let d = fixture("atlas/traceroute");
    let a = d.join("RIPE-Atlas-measurement-44104396-first30.json");
    let b = d.join("RIPE-Atlas-measurement-44104397-first30.json");
    let text = ok_stdout(&tern(&["atlas", "diff", p(&a), p(&b)]));
    assert!(
        text.contains("0 probes in both runs (30 only before, 30 only after)"),
        "{text}"
    );
    assert!(text.contains("--from-msm"), "{text}");
}

fn base64(b: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                s.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// A DNS response to `id.server CH TXT` with no answer but an NSID option (RFC 5001).
fn nsid_response(nsid: &str) -> Vec<u8> {
    let mut b = vec![0x12, 0x34, 0x84, 0x00, 0, 1, 0, 0, 0, 0, 0, 1];
    b.extend([
        2, b'i', b'd', 6, b's', b'e', b'r', b'v', b'e', b'r', 0, 0, 16, 0, 3,
    ]);
    let n = nsid.as_bytes();
    b.extend([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0]);
    b.extend(((n.len() + 4) as u16).to_be_bytes());
    b.extend([0, 3]);
    b.extend((n.len() as u16).to_be_bytes());
    b.extend(n);
    b
}

#[test]
fn site_hints_give_sites_and_the_nearest_share() {
    let tmp = TempDir::new("hints");
    let hints = tmp.join("sites.toml");
    std::fs::write(
        &hints,
        r#"
[[sites]]
id = "fra1"
iata = "FRA"
lat = 50.11
lon = 8.68
prefixes = ["2001:db8:1::/48"]
router_addrs = ["198.51.100.1"]
names = ["*.fra.example"]

[[sites]]
id = "ams1"
lat = 52.37
lon = 4.90
prefixes = ["2001:db8:2::/48"]
router_addrs = ["198.51.100.2"]
"#,
    )
    .unwrap();
    let probes = tmp.join("probes.json");
    std::fs::write(
        &probes,
        r#"{"results":[
 {"id":1,"country_code":"DE","geometry":{"type":"Point","coordinates":[8.6,50.1]}},
 {"id":2,"country_code":"NL","geometry":{"type":"Point","coordinates":[4.9,52.4]}},
 {"id":3,"country_code":"NL","geometry":{"type":"Point","coordinates":[5.1,52.1]}}]}"#,
    )
    .unwrap();
    let tr6 = r#"{"fw":5080,"type":"traceroute","prb_id":1,"msm_id":9,"timestamp":1,"af":6,"proto":"UDP","dst_addr":"2001:db8:100::1","result":[{"hop":1,"result":[{"from":"2001:db8:ffff::1","rtt":0.5}]},{"hop":2,"result":[{"from":"2001:db8:1::1","rtt":4.0},{"x":"*"}]},{"hop":3,"result":[{"from":"2001:db8:100::1","rtt":5.25},{"from":"2001:db8:100::1","rtt":5.0}]}]}"#;
    let tr4 = r#"{"fw":4790,"type":"traceroute","prb_id":2,"msm_id":9,"timestamp":1,"af":4,"proto":"TCP","dst_addr":"192.0.2.1","result":[{"hop":1,"result":[{"from":"198.51.100.2","rtt":2.0,"err":"N"}]},{"hop":2,"result":[{"from":"192.0.2.1","rtt":3.0,"icmpext":{"version":2,"rfc4884":1,"obj":[{"class":1,"type":1,"mpls":[{"label":16001,"exp":0,"s":1,"ttl":1}]}]}}]}]}"#;
    let dns = format!(
        r#"{{"fw":5080,"type":"dns","prb_id":3,"msm_id":9,"timestamp":1,"af":6,"dst_addr":"2001:db8:100::53","result":{{"rt":7.5,"size":40,"abuf":"{}","ID":4660,"ANCOUNT":0,"QDCOUNT":1,"NSCOUNT":0,"ARCOUNT":1}}}}"#,
        base64(&nsid_response("ns1.fra.example"))
    );
    let ping = r#"{"fw":5080,"type":"ping","prb_id":4,"msm_id":9,"timestamp":1,"af":6,"dst_addr":"2001:db8:100::1","sent":3,"rcvd":2,"min":9.0,"avg":9.5,"max":10.0,"result":[{"rtt":9.0},{"x":"*"},{"rtt":10.0}]}"#;
    let results = tmp.join("results.jsonl");
    std::fs::write(&results, format!("{tr6}\n{tr4}\n{dns}\n{ping}\n")).unwrap();
    let j: Value = serde_json::from_str(&ok_stdout(&tern(&[
        "atlas",
        "analyse",
        p(&results),
        "--probes",
        p(&probes),
        "--hints",
        p(&hints),
        "--json",
    ])))
    .unwrap();
    let rows = j["probes"].as_array().unwrap();
    let row = |id: u64| rows.iter().find(|r| r["prb_id"] == id).unwrap();
    assert_eq!(row(1)["catchment"]["site"], "fra1");
    assert_eq!(row(1)["catchment"]["evidence"], "hop-prefix");
    assert_eq!(row(1)["min_rtt"], 5.0);
    assert_eq!(row(2)["catchment"]["site"], "ams1");
    assert_eq!(row(2)["catchment"]["evidence"], "hop-router");
    assert_eq!(row(3)["catchment"]["site"], "fra1");
    assert_eq!(row(3)["catchment"]["evidence"], "nsid");
    assert_eq!(row(3)["min_rtt"], 7.5);
    assert_eq!(row(3)["nearest_site"], "ams1");
    assert_eq!(row(4)["catchment"]["site"], Value::Null);
    assert_eq!(row(4)["min_rtt"], 9.0);
    // Probes 1 and 2 are at their nearest site, probe 3 (near Amsterdam) went to Frankfurt.
    assert_eq!(j["nearest"]["considered"], 3);
    assert_eq!(j["nearest"]["at_nearest"], 2);
    let text = ok_stdout(&tern(&[
        "atlas",
        "analyse",
        p(&results),
        "--probes",
        p(&probes),
        "--hints",
        p(&hints),
    ]));
    assert!(
        text.contains("served by the nearest site: 2/3 probes (66.7%)"),
        "{text}"
    );

    // Unknown keys in the hints file are refused, with a clear error and exit 2.
    std::fs::write(&hints, "[[sites]]\nid = \"x\"\ncolour = \"red\"\n").unwrap();
    let out = tern(&["atlas", "analyse", p(&results), "--hints", p(&hints)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("colour"));
}
