//! Black-box tests of `tern dns map` and `tern dns answer`: measurement results (RIPE Atlas
//! ping JSON, the format `tern lab measure` writes too) of each site's unicast address become a
//! latency map, and the answer for a client follows it, falling back when a site is down.

#![allow(clippy::unwrap_used)]

mod common;

use common::{TempDir, tern};

const TOML: &str = r#"
[network]
asn = 65001
allocations = ["2001:db8::/32"]
lab = true
[[prefix]]
prefix = "2001:db8::/48"
role = "anycast"
[[prefix]]
prefix = "2001:db8:1::/48"
role = "unicast"
site = "ams"
[[prefix]]
prefix = "2001:db8:2::/48"
role = "unicast"
site = "nyc"
[site.ams]
lat = 52.37
lon = 4.90
router_id = "192.0.2.1"
[site.nyc]
lat = 40.71
lon = -74.01
router_id = "192.0.2.2"
[dns]
zone = "example.net"
ns = ["ns1.example.net"]
map = "dns-map.json"
[[dns.name]]
name = "www"
answer = "best"
"#;

fn ping(prb: u32, from: &str, dst: &str, min: f64) -> String {
    format!(
        r#"{{"fw":5080,"type":"ping","prb_id":{prb},"msm_id":1,"timestamp":1,"af":6,"dst_addr":"{dst}","from":"{from}","sent":3,"rcvd":3,"min":{min},"avg":{min},"max":{min},"result":[{{"rtt":{min}}}]}}"#
    )
}

#[test]
fn map_then_answer() {
    let d = TempDir::new("dns-map");
    let cfg = d.write("tern.toml", TOML);
    // Probe 1 (Europe) is close to ams, probe 2 (US) to nyc; a third result has a target that
    // is no site and is skipped.
    let results = [
        ping(1, "2001:db8:e0::5", "2001:db8:1::1", 4.0),
        ping(1, "2001:db8:e0::5", "2001:db8:2::1", 80.0),
        ping(2, "2001:db8:f0::7", "2001:db8:1::1", 90.0),
        ping(2, "2001:db8:f0::7", "2001:db8:2::1", 6.0),
        ping(3, "2001:db8:f1::7", "2001:db8:9::1", 6.0),
    ]
    .join("\n");
    let res = d.write("results.json", &results);
    let out = tern(&["dns", "map", &cfg, &res, "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["used"], 4);
    assert_eq!(v["skipped"]["target is no known site"], 1);
    assert_eq!(v["prefixes"], 2);
    assert_eq!(v["best_site_networks"]["ams"], 1);
    assert!(d.join("dns-map.json").is_file());

    let answer = |client: &str, down: &[&str]| {
        let mut args = vec![
            "dns",
            "answer",
            &cfg,
            "www.example.net",
            "AAAA",
            "--client",
            client,
            "--json",
        ];
        for s in down {
            args.extend(["--down", s]);
        }
        let out = tern(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let v = answer("2001:db8:e0:1::/56", &[]);
    assert_eq!(v["site"], "ams");
    assert_eq!(v["answers"][0]["data"], "2001:db8:1::1");
    assert_eq!(v["ecs_scope"], 48);
    assert_eq!(v["choice"]["reason"]["by"], "map-prefix");
    assert_eq!(answer("2001:db8:f0::9", &[])["site"], "nyc");
    // ams down: the European network gets its second-best site.
    let v = answer("2001:db8:e0:1::/56", &["ams"]);
    assert_eq!(
        (
            v["site"].as_str(),
            v["choice"]["reason"]["skipped"].as_u64()
        ),
        (Some("nyc"), Some(1))
    );
    // Unknown client: anycast.
    let v = answer("2001:db8:aa::/48", &[]);
    assert_eq!(v["answers"][0]["data"], "2001:db8::1");
    assert!(v["site"].is_null());

    // A broken map is refused.
    std::fs::write(d.join("dns-map.json"), "{\"version\": 7}").unwrap();
    let out = tern(&["dns", "answer", &cfg, "www.example.net"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("map version 7"));
}

#[test]
fn check_reports_dns_mistakes_with_lines() {
    let d = TempDir::new("dns-check");
    let bad = TOML.replace("answer = \"best\"", "answer = \"site\"\nsite = \"lon\"");
    let cfg = d.write("tern.toml", &bad);
    let out = tern(&["check", &cfg]);
    assert_eq!(out.status.code(), Some(1));
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("tern.toml:32:8: error[unknown-site]"),
        "{text}"
    );
}

/// `tern run` with `[dns]`: the site daemon's DNS listener serves the GeoDNS zone (here with no
/// site healthy yet, so the anycast address) and still names the site in CHAOS and NSID.
#[test]
fn tern_run_serves_the_zone_on_its_dns_listener() {
    let d = TempDir::new("dns-run");
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let toml = TOML.replace(
        "[site.nyc]",
        &format!(
            "[site.ams.edge]\nctl_socket = \"ctl.sock\"\ndrain_file = \"drain\"\ndns_listen = [\"127.0.0.1:{port}\"]\n[site.nyc]"
        ),
    );
    let cfg = d.write("tern.toml", &toml);
    d.write("dns-map.json", "{\"version\": 1}");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(["run", &cfg, "--site", "ams", "--log", "warn"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let dig = |args: &[&str]| {
        let out = std::process::Command::new("dig")
            .args(["@127.0.0.1", "-p", &port.to_string(), "+time=1", "+tries=1"])
            .args(args)
            .output()
            .expect("dig (dnsutils) must be installed");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let mut answer = String::new();
    for _ in 0..50 {
        answer = dig(&["+nsid", "www.example.net", "AAAA"]);
        if answer.contains("status: NOERROR") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let chaos = dig(&["+short", "id.server", "CH", "TXT"]);
    let nx = dig(&["nope.example.net", "A"]);
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(answer.contains("flags: qr aa rd;"), "{answer}\n{err}");
    assert!(
        answer.contains("www.example.net.\t30\tIN\tAAAA\t2001:db8::1"),
        "{answer}"
    );
    assert!(
        answer.contains("(\"ams\")"),
        "NSID names the site: {answer}"
    );
    assert_eq!(chaos.trim(), "\"ams\"");
    assert!(nx.contains("status: NXDOMAIN"), "{nx}");
}
