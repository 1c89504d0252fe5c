//! `tern simulate` as a user runs it, on a small AS graph written here: shares, JSON facts,
//! --compare, --html, and bad input (garbage, truncated and empty graph files, probes in ASes
//! not in the graph, a provider without an AS) with clear messages and exit codes, never a panic.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TERN: &str = env!("CARGO_BIN_EXE_tern");

struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("tern-sim-cli-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn write(&self, name: &str, body: &[u8]) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, body).unwrap();
        p.display().to_string()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tern(args: &[&str]) -> Output {
    Command::new(TERN).args(args).output().unwrap()
}

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
        .display()
        .to_string()
}

/// Two tier-1s (174 Cogent, 3257 GTT) peering; Vultr (20473) buys from both, BuyVM (53667)
/// from 174; eyeballs 100 (Europe) under 174, 200 (North America) under 3257, 300 under both.
const GRAPH: &str = "# small test graph\n174|3257|0\n174|20473|-1\n3257|20473|-1\n174|53667|-1\n174|100|-1\n3257|200|-1\n174|300|-1\n3257|300|-1\n";

const PROBES: &str = r#"{"results":[
 {"id":1,"asn_v6":100,"asn_v4":100,"country_code":"DE","geometry":{"coordinates":[8.6,50.1]}},
 {"id":2,"asn_v6":200,"asn_v4":200,"country_code":"US","geometry":{"coordinates":[-74.0,40.7]}},
 {"id":3,"asn_v6":300,"country_code":"JP","geometry":{"coordinates":[139.7,35.7]}},
 {"id":4,"asn_v6":999,"country_code":"FR"},
 {"id":5,"asn_v4":100,"country_code":"DE"}
]}"#;

#[test]
fn simulate_reports_every_probe_and_counts_the_rest() {
    let d = Dir::new("ok");
    let g = d.write("g.txt", GRAPH.as_bytes());
    let p = d.write("p.json", PROBES.as_bytes());
    let cfg = example("anycast/tern.toml");
    let o = tern(&[
        "simulate",
        &cfg,
        "--graph",
        &g,
        "--probes",
        &p,
        "--json",
        "--all-ases",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // Probe 4's AS is not in the graph, probe 5 has no IPv6 AS: counted, not guessed.
    assert_eq!(v["probes_not_in_graph"], 1);
    assert_eq!(v["missing_asns"], serde_json::json!([999]));
    assert_eq!(v["probes_no_asn"], 1);
    let probes = v["probes"].as_array().unwrap();
    assert_eq!(probes.len(), 3);
    for pr in probes {
        let sites = pr["sites"].as_array().unwrap();
        assert!(!sites.is_empty(), "{pr}");
        assert_eq!(pr["tied"], sites.len() > 1);
        assert_eq!(
            *pr["path"].as_array().unwrap().last().unwrap(),
            4200000001u32
        );
    }
    // lux (BuyVM under Cogent only) prepends; AS100 hears Vultr and BuyVM via Cogent.
    assert!(v["all_nodes"].as_array().unwrap().len() >= 7);
    assert_eq!(v["overall"]["probes"], 3);

    // Text and HTML.
    let html = d.0.join("m.html");
    let o = tern(&[
        "simulate",
        &cfg,
        "--graph",
        &g,
        "--probes",
        &p,
        "--html",
        html.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("in ASes not in the graph"), "{text}");
    assert!(std::fs::read_to_string(&html).unwrap().contains("<html"));

    // Compare with a failed-site variant: transitions in atlas diff form.
    let o = tern(&[
        "simulate",
        &cfg,
        "--graph",
        &g,
        "--probes",
        &p,
        "--compare",
        &cfg,
        "--json",
    ]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["diff"]["site_changed"], 0, "same file: nothing moves");
    assert_eq!(v["diff"]["matched"], 3);
}

#[test]
fn failing_a_site_moves_its_probes() {
    let d = Dir::new("fail");
    let g = d.write("g.txt", GRAPH.as_bytes());
    let p = d.write("p.json", PROBES.as_bytes());
    let cfg = example("anycast/tern.toml");
    let sites = |extra: &[&str]| -> Vec<String> {
        let mut a = vec![
            "simulate",
            cfg.as_str(),
            "--graph",
            &g,
            "--probes",
            &p,
            "--json",
        ];
        a.extend_from_slice(extra);
        let o = tern(&a);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["probes"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| {
                p["sites"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_owned())
            })
            .collect()
    };
    assert!(sites(&[]).iter().any(|s| s == "ewr"));
    let after = sites(&["--fail", "ewr"]);
    assert!(!after.iter().any(|s| s == "ewr"), "{after:?}");
    assert!(!after.is_empty());
    // Only lux left (BuyVM under Cogent): every probe reaches it.
    let only = sites(&[
        "--fail", "ams", "--fail", "fra", "--fail", "ewr", "--fail", "nrt",
    ]);
    assert_eq!(only, ["lux", "lux", "lux"]);
    let o = tern(&["simulate", &cfg, "--graph", &g, "--fail", "nowhere"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no site \"nowhere\""));
}

#[test]
fn bad_graph_files_are_clear_errors() {
    let d = Dir::new("bad");
    let cfg = example("anycast/tern.toml");
    let garbage = d.write("garbage.txt", b"174|3257|0\nhello world\n");
    let empty = d.write("empty.txt", b"");
    let comments = d.write("comments.txt", b"# nothing\n");
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    std::io::Write::write_all(&mut bz, GRAPH.as_bytes()).unwrap();
    let bz = bz.finish().unwrap();
    let cut = d.write("cut.bz2", &bz[..bz.len() / 2]);
    let binary = d.write("bin", &[0u8, 159, 146, 150, 0xff, 0x10]);
    for (file, want) in [
        (&garbage, "garbage.txt:2"),
        (&empty, "no AS links"),
        (&comments, "no AS links"),
        (&cut, "corrupt or truncated"),
        (&binary, "not text"),
    ] {
        let o = tern(&["simulate", &cfg, "--graph", file]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{file}: {err}");
        assert!(err.contains(want), "{file}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let o = tern(&["simulate", &cfg, "--graph", "/nonexistent/graph"]);
    assert_eq!(o.status.code(), Some(2));
}

const NO_AS: &str = r#"
[network]
asn = 4200000002
allocations = ["2001:db8:b0::/48"]
lab = true

[[prefix]]
prefix = "2001:db8:b0::/48"
role = "anycast"

[site.ams]
lat = 52.37
lon = 4.90
router_id = "198.51.100.10"

[[site.ams.upstream]]
name = "private"
neighbor = "2001:db8:ff01::1"
remote_as = 64999
"#;

const VULTR_SITE: &str = r#"
[site.ewr]
lat = 40.69
lon = -74.17
provider = "vultr"
router_id = "198.51.100.11"

[[site.ewr.upstream]]
neighbor = "2001:19f0:ffff::1"
source = "2001:db8:ff02::10"
gateway = "fe80::fc00:4ff:fe00:1"
interface = "enp1s0"
password_env = "TERN_EWR_BGP_PASSWORD"
"#;

#[test]
fn a_provider_without_an_as_is_left_out_and_said() {
    let d = Dir::new("noas");
    let g = d.write("g.txt", GRAPH.as_bytes());
    // Only a session to a private AS with no provider dictionary: nothing attaches.
    let cfg = d.write("t.toml", NO_AS.as_bytes());
    let o = tern(&["simulate", &cfg, "--graph", &g]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("left out: ams private: provider has no AS"),
        "{err}"
    );
    assert!(err.contains("nothing to simulate"), "{err}");
    // With a Vultr site too: simulated, the private session listed as left out.
    let cfg = d.write("t2.toml", format!("{NO_AS}{VULTR_SITE}").as_bytes());
    let o = tern(&["simulate", &cfg, "--graph", &g, "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["origins"].as_array().unwrap().len(), 1);
    assert_eq!(v["skipped"][0]["site"], "ams");
    assert!(
        v["skipped"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("provider has no AS")
    );
}
