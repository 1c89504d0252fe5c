//! Black-box tests of `tern providers` and `--providers DIR`: the built-in dictionaries, one
//! dictionary's communities, a providers directory that adds and overrides dictionaries (and
//! what `tern check` then says), a broken file with file:line.

#![allow(clippy::unwrap_used)]

mod common;
use common::*;

use serde_json::Value;

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

const ACME: &str = "[provider]\nname = \"Acme\"\nasn = 64999\npasses_communities = false\n\
source = \"https://acme.example/bgp\"\n\n[[community]]\naction = \"no-announce\"\n\
target = \"peer\"\nstandard = \"64999:{asn}\"\nmeaning = \"do not announce to AS{asn}\"\n\
source = \"https://acme.example/bgp\"\nverified = true\n";

const NET: &str = r#"[network]
asn = 4200000001
allocations = ["2001:db8:a0::/44"]
lab = true

[[prefix]]
prefix = "2001:db8:a0::/48"
role = "anycast"

[site.ewr]
lat = 40.7
lon = -74.2
provider = "vultr"
router_id = "198.51.100.1"
connected = ["2001:db8:ffff::/64"]
intents = [ { action = "prepend", times = 2, region = "asia", via = "gtt" } ]

[[site.ewr.upstream]]
name = "up6"
neighbor = "2001:db8:ffff::1"
source = "2001:db8:ffff::10"
"#;

#[test]
fn lists_the_builtin_dictionaries_with_counts() {
    let out = tern(&["providers", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let v = json(&out);
    let all = v.as_array().unwrap();
    assert!(all.len() >= 8, "{v}");
    let vultr = all.iter().find(|p| p["id"] == "vultr").unwrap();
    assert_eq!(vultr["asn"], 20473);
    assert_eq!(vultr["origin"]["kind"], "builtin");
    assert_eq!(
        (vultr["communities"].as_u64(), vultr["verified"].as_u64()),
        (Some(8), Some(8))
    );
    let cogent = all.iter().find(|p| p["id"] == "cogent").unwrap();
    assert_eq!(
        cogent["regions"],
        serde_json::json!(["north-america", "europe"])
    );
    // Text: one line per dictionary, its source.
    let out = tern(&["providers"]);
    let t = String::from_utf8_lossy(&out.stdout);
    assert!(
        t.lines()
            .any(|l| l.starts_with("vultr ") && l.ends_with("built-in")),
        "{t}"
    );
}

#[test]
fn show_prints_every_community_with_meaning_source_and_flag() {
    let out = tern(&["providers", "show", "AS20473", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let v = json(&out);
    let e = v["entries"].as_array().unwrap();
    assert_eq!(e.len(), 8);
    let no = e
        .iter()
        .find(|x| x["communities"][0] == "64600:{asn}")
        .unwrap();
    assert_eq!(no["communities"][1], "20473:6000:{asn}");
    assert_eq!(no["verified"], true);
    assert!(
        no["source"]
            .as_str()
            .unwrap()
            .starts_with("https://docs.vultr.com/")
    );
    assert_eq!(v["session"]["remote_as"], 64515);
    let out = tern(&["providers", "show", "cogent"]);
    let t = String::from_utf8_lossy(&out.stdout);
    assert!(
        t.contains("174:975") && t.contains("local-pref 10 in North America [unverified]"),
        "{t}"
    );
    let out = tern(&["providers", "show", "nosuch"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("known: arelion"),
        "{out:?}"
    );
}

#[test]
fn a_providers_directory_adds_and_overrides_and_check_uses_it() {
    let t = TempDir::new("providers");
    let dir = t.0.join("providers");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("acme.toml"), ACME).unwrap();
    // Start from the built-in GTT file, as the docs say, and confirm its entries.
    let out = tern(&["providers", "show", "gtt", "--toml"]);
    let gtt = String::from_utf8(out.stdout).unwrap();
    assert!(gtt.contains("3257:2992"), "{gtt}");
    std::fs::write(
        dir.join("gtt.toml"),
        gtt.replace("verified = false", "verified = true"),
    )
    .unwrap();
    let d = dir.to_str().unwrap();
    let out = tern(&["--providers", d, "providers", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let v = json(&out);
    let g = v
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "gtt")
        .unwrap();
    assert_eq!(g["origin"]["kind"], "file");
    assert_eq!(g["origin"]["path"], dir.join("gtt.toml").to_str().unwrap());
    assert_eq!(g["overrides_builtin"], true);
    assert_eq!(g["verified"], 2);
    let a = v
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "acme")
        .unwrap();
    assert_eq!(
        (a["asn"].as_u64(), a["overrides_builtin"].as_bool()),
        (Some(64999), Some(false))
    );
    let out = tern(&["providers", "--providers", d]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("gtt.toml (overrides built-in)"),
        "{out:?}"
    );
    // tern check: the built-in GTT entry is unverified, the override is not.
    let toml = t.0.join("tern.toml");
    std::fs::write(&toml, NET).unwrap();
    let f = toml.to_str().unwrap();
    let unverified = |out: &std::process::Output| {
        json(out)["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| {
                d["code"] == "intent-unverified"
                    && d["message"].as_str().unwrap().starts_with("GTT's")
            })
    };
    assert!(unverified(&tern(&["check", f, "--json"])));
    assert!(!unverified(&tern(&[
        "check",
        f,
        "--json",
        "--providers",
        d
    ])));
    // The same through [network] providers.
    std::fs::write(
        &toml,
        NET.replace("lab = true\n", "lab = true\nproviders = \"providers\"\n"),
    )
    .unwrap();
    assert!(!unverified(&tern(&["check", f, "--json"])));
    let out = tern(&["providers", "--config", f, "--json"]);
    assert!(
        json(&out)
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == "acme")
    );
}

#[test]
fn a_broken_dictionary_file_is_reported_with_file_and_line() {
    let t = TempDir::new("providers-broken");
    std::fs::write(
        t.0.join("acme.toml"),
        ACME.replace("asn = 64999", "asn = \"many\""),
    )
    .unwrap();
    let out = tern(&["providers", "--providers", t.0.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    let want = format!("{}:3:", t.0.join("acme.toml").display());
    assert!(
        err.contains(&want) && err.contains("error[provider-dictionary]"),
        "{err}"
    );
    // The built-in dictionaries are still listed.
    assert!(String::from_utf8_lossy(&out.stdout).contains("vultr"));
    let out = tern(&["providers", "--providers", "/nonexistent/tern-providers"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error[provider-dir]"));
}

#[test]
fn effects_per_upstream_name_the_applying_as_and_the_community() {
    let t = TempDir::new("providers-effects");
    let toml = t.0.join("tern.toml");
    std::fs::write(&toml, NET).unwrap();
    let f = toml.to_str().unwrap();
    let out = tern(&["providers", "effects", f, "--json"]);
    assert!(out.status.success(), "{out:?}");
    let v = json(&out);
    let u = &v["sites"][0]["upstreams"][0];
    assert_eq!(
        (u["remote_as"].as_u64(), u["provider_asn"].as_u64()),
        (Some(64515), Some(20473))
    );
    let e = &u["effects"][0];
    assert_eq!(e["by"], 3257);
    assert_eq!(e["effect"]["action"], "prepend");
    assert_eq!(e["effect"]["region"], "asia");
    assert_eq!(e["community"]["value"], "3257:2592");
    assert_eq!(e["verified"], false);
    let out = tern(&["providers", "effects", f]);
    let t = String::from_utf8_lossy(&out.stdout);
    assert!(
        t.contains("AS3257   applies prepend 2x to all in asia"),
        "{t}"
    );
}
