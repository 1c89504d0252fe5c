//! Validation of small tern.toml snippets: intents through provider dictionaries, roles,
//! sessions and services. Each test asserts the exact finding and, where it matters, its line.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use tern_model::{Diagnostic, Model, OnFailure, Severity, parse};

const HEAD: &str = r#"[network]
asn = 4200000001
allocations = ["2001:db8:a0::/44", "192.0.2.0/24"]
lab = true

[[prefix]]
prefix = "2001:db8:a0::/48"
role = "anycast"

[[prefix]]
prefix = "192.0.2.0/24"
role = "anycast"
"#;

fn model(rest: &str) -> Model {
    parse(Path::new("t.toml"), &format!("{HEAD}{rest}")).unwrap()
}

/// Findings other than the lab infos.
fn findings(m: &Model) -> Vec<&Diagnostic> {
    m.diagnostics
        .iter()
        .filter(|d| !d.code.starts_with("lab-"))
        .collect()
}

fn codes(m: &Model) -> Vec<&'static str> {
    findings(m).iter().map(|d| d.code).collect()
}

/// A site at a provider with one v6 session and these intents (line 20 holds the intents).
fn site(provider: &str, intents: &str) -> Model {
    model(&format!(
        r#"
[site.ams]
lat = 52.4
lon = 4.9
provider = "{provider}"
router_id = "198.51.100.1"
connected = ["2001:db8:ffff::/64"]
intents = [ {intents} ]

[[site.ams.upstream]]
name = "up6"
neighbor = "2001:db8:ffff::1"
source = "2001:db8:ffff::10"
remote_as = 64515
"#
    ))
}

fn communities(m: &Model) -> (Vec<String>, Vec<String>, u8) {
    let u = &m.network.sites[0].upstreams[0];
    (
        u.export.communities.iter().map(|c| c.to_string()).collect(),
        u.export
            .large_communities
            .iter()
            .map(|c| c.to_string())
            .collect(),
        u.export.prepend,
    )
}

#[test]
fn vultr_intents_compile_to_standard_or_large() {
    let m = site(
        "vultr",
        r#"{ action = "no-announce", to = ["AS6939", 4200000005] }, { action = "prepend", times = 3, to = "AS174" }, { action = "no-export" }"#,
    );
    assert!(codes(&m).is_empty(), "{:?}", m.diagnostics);
    let (c, l, p) = communities(&m);
    assert_eq!(c, ["20473:6000", "64600:6939", "64603:174"]);
    // A 32-bit AS does not fit a standard community: Vultr's large form carries it.
    assert_eq!(l, ["20473:6000:4200000005"]);
    assert_eq!(p, 0);
}

#[test]
fn unsupported_intent_lists_what_the_provider_supports() {
    let m = site("vultr", r#"{ action = "local-pref", level = "low" }"#);
    let f = findings(&m);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].code, "intent-unsupported");
    assert_eq!(f[0].severity, Severity::Error);
    assert_eq!(f[0].location.as_ref().unwrap().line, 20);
    let fix = f[0].fix.as_deref().unwrap();
    assert!(fix.starts_with("Vultr (AS20473) supports: "), "{fix}");
    assert!(
        fix.contains("prepend 2x to AS<n>") && fix.contains("no-export"),
        "{fix}"
    );

    // A region NTT has no entry for.
    let m = site(
        "ntt",
        r#"{ action = "no-announce", to = "AS3356", region = "africa" }"#,
    );
    assert_eq!(codes(&m), ["intent-unsupported"]);
    let m = site(
        "ntt",
        r#"{ action = "no-announce", to = "AS3356", region = "europe" }"#,
    );
    assert!(codes(&m).is_empty());
    assert_eq!(communities(&m).0, ["65420:3356"]);
}

#[test]
fn unverified_and_pass_through() {
    // Cogent's community through BuyVM: both the meaning and the pass-through are unverified.
    let m = site(
        "buyvm",
        r#"{ action = "no-announce", region = "europe", via = "cogent" }"#,
    );
    let c = codes(&m);
    assert_eq!(
        c,
        ["intent-unverified", "intent-unverified"],
        "{:?}",
        m.diagnostics
    );
    assert_eq!(communities(&m).0, ["174:980"]);
    // Through NTT, which does not pass third-party communities on.
    let m = site(
        "ntt",
        r#"{ action = "prepend", times = 2, region = "asia", via = "gtt" }"#,
    );
    assert!(
        codes(&m).contains(&"intent-via-not-passed"),
        "{:?}",
        m.diagnostics
    );
    // Vultr documents that it passes them on: only GTT's own entry is unverified.
    let m = site(
        "vultr",
        r#"{ action = "prepend", times = 2, region = "asia", via = "AS3257" }"#,
    );
    assert_eq!(codes(&m), ["intent-unverified"]);
    assert_eq!(communities(&m).0, ["3257:2592"]);
}

#[test]
fn local_prepend_and_well_known_no_export() {
    let m = model(
        r#"
[site.ams]
lat = 52.4
lon = 4.9
router_id = "198.51.100.1"
intents = [ { action = "prepend", times = 2 }, { action = "prepend", times = 1, to = "all" }, { action = "no-export" } ]

[[site.ams.upstream]]
neighbor = "2001:db8:ffff::1"
remote_as = 64515
"#,
    );
    assert!(codes(&m).is_empty(), "{:?}", m.diagnostics);
    let (c, _, p) = communities(&m);
    assert_eq!(p, 2);
    assert_eq!(c, ["65535:65281"]);
    // Without a provider, an AS-specific intent cannot be compiled.
    let m = model(
        r#"
[site.ams]
lat = 52.4
lon = 4.9
router_id = "198.51.100.1"
intents = [ { action = "no-announce", to = "AS6939" } ]

[[site.ams.upstream]]
neighbor = "2001:db8:ffff::1"
remote_as = 64515
"#,
    );
    assert_eq!(codes(&m), ["intent-no-provider"]);
}

#[test]
fn malformed_intents() {
    for (intent, code) in [
        (r#"{ action = "prepend" }"#, "bad-intent"),
        (r#"{ action = "prepend", times = 11 }"#, "bad-intent"),
        (r#"{ action = "local-pref" }"#, "bad-intent"),
        (r#"{ action = "no-announce" }"#, "bad-intent"),
        (r#"{ action = "no-announce", to = "AS-FOO" }"#, "bad-intent"),
        (r#"{ action = "no-export", times = 2 }"#, "bad-intent"),
        (
            r#"{ action = "no-export", via = "nosuch" }"#,
            "unknown-provider",
        ),
    ] {
        let m = site("vultr", intent);
        assert!(codes(&m).contains(&code), "{intent}: {:?}", m.diagnostics);
        assert!(m.has_errors());
    }
}

#[test]
fn sessions() {
    let m = model(
        r#"
[site.ams]
lat = 52.4
lon = 4.9
provider = "vultr"
connected = ["2001:db8:ff::/64"]

[[site.ams.upstream]]
name = "static"
neighbor = "2001:19f0:ffff::1"
gateway = "fe80::1"

[[site.ams.upstream]]
name = "up4"
neighbor = "169.254.169.254"
source = "2001:db8:ff::10"
password_env = "A"
password_file = "b"

[[site.ams.upstream]]
name = "ibgp"
neighbor = "2001:db8:ff::1"
remote_as = 4200000001
"#,
    );
    let c = codes(&m);
    for want in [
        "bad-upstream-name",
        "gateway-needs-interface",
        "multihop-without-source",
        "address-family-mismatch",
        "password-twice",
        "ibgp-session",
        "router-id-missing",
    ] {
        assert!(c.contains(&want), "{want} missing: {c:?}");
    }
    // The neighbor on the connected /64 needs no host route; the Vultr v4 one does.
    let host: Vec<u32> = findings(&m)
        .iter()
        .filter(|d| d.code == "host-route-missing")
        .map(|d| d.location.as_ref().unwrap().line as u32)
        .collect();
    assert_eq!(host, [27], "{:?}", m.diagnostics);
}

#[test]
fn roles() {
    let m = model(
        r#"
[[prefix]]
prefix = "2001:db8:a1::/48"
role = "unicast"

[[prefix]]
prefix = "2001:db8:a2::/48"
role = "anycast"
site = "ams"

[[prefix]]
prefix = "2001:db8:a3::/48"
role = "anycast"
sites = []

[site.ams]
lat = 52.4
lon = 4.9
router_id = "198.51.100.1"
"#,
    );
    let c: Vec<&str> = codes(&m);
    assert_eq!(
        c.iter().filter(|c| **c == "role-fields").count(),
        3,
        "{:?}",
        m.diagnostics
    );
}

#[test]
fn services() {
    let m = model(
        r#"
[site.ams]
lat = 52.4
lon = 4.9
router_id = "198.51.100.1"

[[service]]
name = "dns"
prefixes = ["2001:db8:a0::/48", "2001:db8:a9::/48"]

[[service.check]]
kind = "dns"
target = "[2001:db8:a0::53]:53"
interval = "1s"
timeout = "2s"

[[service.check]]
kind = "exec"
target = "x"
interval = "5 seconds"

[[service.check]]
kind = "http"
target = "ftp://x"
rise = 0

[service.on_failure]
action = "withdraw"
prepend = 2

[[service]]
name = "web"
prefixes = ["192.0.2.0/24"]

[[service.check]]
kind = "tcp"
target = "192.0.2.80:80"

[service.on_failure]
action = "degrade"
communities = ["64600:174"]
"#,
    );
    let c = codes(&m);
    for want in [
        "service-prefix-unknown",
        "bad-check",
        "check-timeout",
        "bad-duration",
        "bad-on-failure",
    ] {
        assert!(c.contains(&want), "{want} missing: {c:?}");
    }
    let web = &m.network.services[1];
    assert_eq!(web.checks[0].rise, tern_model::DEFAULT_RISE);
    assert_eq!(web.checks[0].interval, tern_model::DEFAULT_CHECK_INTERVAL);
    assert!(matches!(
        &web.on_failure,
        OnFailure::Degrade { prepend: 0, communities, .. } if communities.len() == 1
    ));
}

#[test]
fn defaults_from_the_provider_and_when_they_do_not_apply() {
    let m = model(
        r#"
[site.ams]
lat = 52.4
lon = 4.9
provider = "vultr"
connected = ["198.51.100.0/24"]

[[site.ams.upstream]]
neighbor = "169.254.169.254"
source = "198.51.100.10"
gateway = "198.51.100.1"

[[site.ams.upstream]]
name = "metal"
neighbor = "169.254.1.1"
source = "198.51.100.10"
gateway = "198.51.100.1"
"#,
    );
    let u = &m.network.sites[0].upstreams;
    assert_eq!(u[0].name, "vultr_v4");
    assert_eq!((u[0].remote_as.0, u[0].multihop), (64515, Some(2)));
    // The router ID comes from the first IPv4 source address.
    assert_eq!(m.network.sites[0].router_id.to_string(), "198.51.100.10");
    let f = findings(&m);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].code, "remote-as-guessed");
    assert_eq!(f[0].location.as_ref().unwrap().line, 27);
}

#[test]
fn conflicting_intents() {
    let m = site(
        "vultr",
        r#"{ action = "no-announce", to = ["AS174", "AS6939"] }, { action = "prepend", times = 2, to = 174 }, { action = "prepend", times = 1, to = "AS3356" }, { action = "prepend", times = 1, to = "he" }"#,
    );
    assert_eq!(
        codes(&m),
        ["intent-conflict", "intent-conflict"],
        "{:?}",
        m.diagnostics
    );
    assert!(findings(&m)[0].message.contains("AS174"));
}
