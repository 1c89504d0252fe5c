//! Black-box tests of `tern check` with the built binary: the examples, every kind of finding at
//! once with file:line, RPKI against a VRP file and IRR against an RPSL file.

#![allow(clippy::unwrap_used)]

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::Output;

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../examples/{name}/tern.toml"))
}

/// (code, severity, line) of every finding, via --json.
fn findings(out: &Output) -> Vec<(String, String, u64)> {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_owned(),
                d["severity"].as_str().unwrap().to_owned(),
                d["location"]["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

fn codes(f: &[(String, String, u64)]) -> std::collections::BTreeSet<String> {
    f.iter().map(|x| x.0.clone()).collect()
}

#[test]
fn anycast_example_has_only_the_expected_lab_findings() {
    let ex = example("anycast");
    let out = tern_env(&["check", ex.to_str().unwrap(), "--json"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let f = findings(&out);
    let want: std::collections::BTreeSet<String> = [
        "lab-private-asn",
        "lab-documentation-prefix",
        "intent-unverified",
        "secret-unavailable",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(codes(&f), want, "{f:?}");
    assert!(f.iter().all(|x| x.1 != "error"));
    // One secret warning per site (both sessions share the key), 5 unverified intents.
    assert_eq!(f.iter().filter(|x| x.0 == "secret-unavailable").count(), 5);
    assert_eq!(f.iter().filter(|x| x.0 == "intent-unverified").count(), 5);

    // Text output: file:line:col, severity and a fix for every finding.
    let out = tern_env(&["check", ex.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("tern.toml:11:7: info[lab-private-asn]"),
        "{text}"
    );
    assert!(text.contains("0 error(s)"), "{text}");
    assert_eq!(text.matches("    fix: ").count(), f.len());
}

#[test]
fn minimal_example_and_secrets() {
    let ex = example("minimal");
    let ex = ex.to_str().unwrap();
    let out = tern_env(&["check", ex, "--json"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let f = findings(&out);
    let c: Vec<&str> = f.iter().map(|x| x.0.as_str()).collect();
    assert_eq!(
        c,
        [
            "lab-private-asn",
            "lab-documentation-prefix",
            "secret-unavailable"
        ]
    );
    // With the key set the secret finding disappears.
    let out = tern_env(
        &["check", ex, "--json"],
        &[("TERN_AMS_BGP_PASSWORD", "abc123")],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(!codes(&findings(&out)).contains("secret-unavailable"));
    // An 81-byte key is refused (Linux TCP_MD5SIG_MAXKEYLEN is 80).
    let long = "k".repeat(81);
    let out = tern_env(
        &["check", ex, "--json"],
        &[("TERN_AMS_BGP_PASSWORD", &long)],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(codes(&findings(&out)).contains("md5-key-too-long"));
    let ok = "k".repeat(80);
    let out = tern_env(&["check", ex, "--json"], &[("TERN_AMS_BGP_PASSWORD", &ok)]);
    assert_eq!(out.status.code(), Some(0));
}

const BROKEN: &str = r#"[network]
asn = 64512
allocations = ["2a0e:1000::/44", "10.0.0.0/16"]

[[prefix]]
prefix = "2a0e:1000::/48"
role = "anycast"

[[prefix]]
prefix = "2a0e:1000::/47"
role = "anycast"

[[prefix]]
prefix = "2a0e:2000::/48"
role = "unicast"
site = "ams"

[[prefix]]
prefix = "2a0e:1000:1::/56"
role = "unicast"
site = "nowhere"

[[prefix]]
prefix = "10.0.0.0/24"
role = "anycast"

[[prefix]]
prefix = "2001:db8::/48"
role = "anycast"

[site.ams]
lat = 52.4
lon = 4.9
provider = "vultr"
intents = [
  { action = "no-announce", to = "AS6939", via = "he" },
  { action = "local-pref", level = "low", via = "vultr" },
]
communities = ["0:666", "70000:1"]

[[site.ams.upstream]]
neighbor = "2001:19f0:ffff::1"
password = "hunter2"

[[site.ams.upstream]]
neighbor = "169.254.169.254"
provider = "nosuch"
"#;

#[test]
fn every_problem_is_reported_at_once_with_its_line() {
    let d = TempDir::new("cli-check");
    let f = d.write("tern.toml", BROKEN);
    let out = tern_env(&["check", &f, "--json"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let fs = findings(&out);
    let at = |code: &str| -> Vec<u64> { fs.iter().filter(|x| x.0 == code).map(|x| x.2).collect() };
    assert_eq!(at("asn-bogon"), [2], "{fs:?}");
    assert_eq!(at("prefix-overlap"), [10, 19]);
    assert_eq!(at("prefix-too-long"), [19]);
    assert_eq!(at("prefix-outside-allocation"), [14, 28]);
    assert_eq!(at("unknown-site"), [21]);
    assert_eq!(at("prefix-bogon"), [3, 24]);
    assert_eq!(at("prefix-documentation"), [28]);
    assert_eq!(at("intent-unsupported"), [36, 37]);
    assert_eq!(at("community-reserved"), [39]);
    assert_eq!(at("bad-community"), [39]);
    assert_eq!(at("password-literal"), [43]);
    assert_eq!(at("unknown-provider"), [47]);
    assert!(!at("host-route-missing").is_empty());
    assert!(!at("router-id-missing").is_empty());

    // The text form says what the provider supports and why a literal password is refused.
    let out = tern_env(&["check", &f], &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Hurricane Electric (AS6939) documents no action communities"),
        "{text}"
    );
    assert!(
        text.contains("Vultr (AS20473) supports: no-announce to AS<n>"),
        "{text}"
    );
    assert!(text.contains("version control"), "{text}");
    assert!(
        text.contains("ip -6 route add 2001:19f0:ffff::1/128 via <gateway>"),
        "{text}"
    );
    assert!(
        text.contains(&format!("{f}:10:10: error[prefix-overlap]")),
        "{text}"
    );
}

const RPKI_NET: &str = r#"[network]
asn = 4200000001
allocations = ["2001:db8:a0::/44", "192.0.2.0/24"]
lab = true

[[prefix]]
prefix = "2001:db8:a0::/48"
role = "anycast"

[[prefix]]
prefix = "2001:db8:a1::/48"
role = "anycast"

[[prefix]]
prefix = "2001:db8:a2::/48"
role = "anycast"

[[prefix]]
prefix = "192.0.2.0/24"
role = "anycast"

[site.ams]
lat = 52.4
lon = 4.9
router_id = "198.51.100.1"

[[site.ams.upstream]]
neighbor = "2001:db8:ffff::1"
remote_as = 64515
"#;

#[test]
fn rpki_and_irr_states_per_announced_prefix() {
    let d = TempDir::new("cli-check");
    let f = d.write("tern.toml", RPKI_NET);
    // rpki-client style (asn as a number) and Routinator style ("AS…") mixed.
    let vrps = d.write(
        "vrps.json",
        r#"{"metadata": {"buildtime": "2026-01-01T00:00:00Z"}, "roas": [
  {"asn": 4200000001, "prefix": "2001:db8:a0::/48", "maxLength": 48, "ta": "ripe"},
  {"asn": "AS64512", "prefix": "2001:db8:a1::/48", "maxLength": 48, "ta": "ripe"},
  {"asn": 4200000001, "prefix": "192.0.2.0/24", "maxLength": 26, "ta": "arin"}
]}"#,
    );
    let irr = d.write(
        "irr.rpsl",
        "route6:         2001:db8:a0::/48\norigin:         AS4200000001\nsource:         RIPE\n\n\
         route6:         2001:db8:a1::/48\norigin:         AS64512\nsource:         RIPE\n\n\
         route:          192.0.2.0/24\norigin:         AS4200000001\nsource:         RADB\n\n\
         route6:         2001:db8:a2::/47\norigin:         AS4200000001\nsource:         RIPE\n",
    );
    let out = tern_env(
        &["check", &f, "--vrps", &vrps, "--irr", &irr, "--json"],
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let fs = findings(&out);
    let at = |code: &str| -> Vec<(String, u64)> {
        fs.iter()
            .filter(|x| x.0 == code)
            .map(|x| (x.1.clone(), x.2))
            .collect()
    };
    assert_eq!(at("rpki-invalid"), [("error".to_owned(), 11)], "{fs:?}");
    assert_eq!(at("rpki-not-found"), [("warning".to_owned(), 15)]);
    assert_eq!(at("rpki-maxlength"), [("warning".to_owned(), 19)]);
    // buildtime 2026-01-01 is older than a day (the test clock is the real one, after 2026-01-02).
    assert_eq!(at("rpki-stale"), [("warning".to_owned(), 0)]);
    assert_eq!(at("irr-missing"), [("error".to_owned(), 11)]);
    // Only a covering /47 for the third /48: a warning, since many filters want exact objects.
    assert_eq!(at("irr-exact-missing"), [("warning".to_owned(), 15)]);
    // A file without a build time is not judged stale.
    let fresh = d.write(
        "fresh.json",
        r#"{"roas": [{"asn": 4200000001, "prefix": "2001:db8:a0::/48", "maxLength": 48, "ta": "ripe"}]}"#,
    );
    let out = tern_env(&["check", &f, "--vrps", &fresh, "--json"], &[]);
    assert!(!codes(&findings(&out)).contains("rpki-stale"));
    // Without the data files, none of these checks run.
    let out = tern_env(&["check", &f, "--json"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let c = codes(&findings(&out));
    assert!(
        !c.iter()
            .any(|c| c.starts_with("rpki-") || c.starts_with("irr-"))
    );
}
