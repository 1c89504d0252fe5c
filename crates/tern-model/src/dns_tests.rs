//! `[dns]` validation: defaults, resolved addresses, and every mistake reported with its line.

use std::path::Path;

use super::*;

const BASE: &str = r#"
[network]
asn = 65001
allocations = ["2001:db8::/32", "192.0.2.0/24"]
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
lat = 52.3
lon = 4.9
router_id = "192.0.2.1"
[site.nyc]
lat = 40.7
lon = -74.0
router_id = "192.0.2.2"
"#;

fn load(extra: &str) -> crate::Model {
    crate::parse(Path::new("/etc/tern/tern.toml"), &format!("{BASE}{extra}")).unwrap()
}

fn codes(m: &crate::Model) -> Vec<(&'static str, usize)> {
    m.diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error || d.code.starts_with("dns"))
        .map(|d| (d.code, d.location.as_ref().map_or(0, |l| l.line)))
        .collect()
}

const GOOD: &str = r#"
[dns]
zone = "Example.NET."
ns = ["ns1.example.net"]
listen = ["[::1]:5353"]
map = "dns-map.json"
[dns.site.nyc]
v4 = "198.51.100.7"
[[dns.record]]
name = "ns1"
type = "AAAA"
value = "2001:db8::53"
[[dns.record]]
name = "@"
type = "TXT"
value = "v=spf1 -all"
ttl = 300
[[dns.name]]
name = "www"
answer = "best"
[[dns.name]]
name = "any"
answer = "anycast"
[[dns.name]]
name = "ams"
answer = "site"
site = "ams"
"#;

#[test]
fn resolves_zone_addresses_and_defaults() {
    let m = load(GOOD);
    assert!(!m.has_errors(), "{:?}", m.diagnostics);
    let d = m.network.dns.as_ref().unwrap();
    assert_eq!(d.zone, "example.net");
    assert_eq!(d.hostmaster, "hostmaster.example.net");
    assert_eq!(d.anycast, vec!["2001:db8::1".parse::<IpAddr>().unwrap()]);
    assert_eq!(d.map.as_deref(), Some(Path::new("/etc/tern/dns-map.json")));
    let ams = &d.sites[0];
    assert_eq!(ams.v6, Some("2001:db8:1::1".parse().unwrap()));
    assert_eq!(ams.v4, None);
    assert_eq!(d.sites[1].v4, Some("198.51.100.7".parse().unwrap()));
    assert_eq!(d.records[0].name, "ns1.example.net");
    assert_eq!(d.records[0].ttl, DEFAULT_STATIC_TTL);
    assert_eq!(
        (d.records[1].name.as_str(), d.records[1].ttl),
        ("example.net", 300)
    );
    assert_eq!(d.names[0].answer, Answer::Best);
    assert_eq!(d.names[0].ttl, DEFAULT_GEO_TTL);
    assert_eq!(d.names[1].ttl, DEFAULT_STATIC_TTL);
    assert_eq!(d.names[2].answer, Answer::Site("ams".parse().unwrap()));
    assert_eq!(d.health.fall, DEFAULT_HEALTH_FALL);
    assert!(load("").network.dns.is_none());
}

#[test]
fn every_mistake_with_its_line() {
    let m = load(
        r#"
[dns]
zone = "example.net"
ns = []
rrl = 0
[dns.health]
interval = "soon"
fall = 0
[dns.site.lon]
v6 = "2001:db8::1"
[[dns.record]]
name = "www.other.org."
type = "A"
value = "192.0.2.1"
[[dns.record]]
name = "mail"
type = "A"
value = "2001:db8::1"
[[dns.record]]
name = "@"
type = "CNAME"
value = "elsewhere.org"
[[dns.name]]
name = "x"
answer = "site"
site = "paris"
[[dns.name]]
name = "y"
answer = "best"
site = "ams"
[[dns.name]]
name = "z..bad"
answer = "best"
"#,
    );
    let got = codes(&m);
    let base = BASE.lines().count();
    let want = [
        ("dns-no-ns", 4),
        ("dns-bad-rrl", 5),
        ("bad-duration", 7),
        ("bad-check", 8),
        ("unknown-site", 9),
        ("dns-bad-name", 12),
        ("dns-bad-record", 18),
        ("dns-bad-record", 19),
        ("unknown-site", 26),
        ("dns-bad-name", 30),
        ("dns-bad-name", 32),
    ];
    for (code, line) in want {
        assert!(
            got.contains(&(code, base + line)),
            "{code} at line {} missing from {got:?}",
            base + line
        );
    }
}

#[test]
fn unknown_keys_are_refused() {
    for extra in [
        "[dns]\nzone = \"a.net\"\nns = [\"ns.a.net\"]\nbogus = 1\n",
        "[dns]\nzone = \"a.net\"\nns = [\"ns.a.net\"]\n[[dns.name]]\nname = \"w\"\nanswer = \"nearest\"\n",
        "[dns]\nzone = \"a.net\"\nns = [\"ns.a.net\"]\n[[dns.record]]\nname = \"w\"\ntype = \"MX\"\nvalue = \"x\"\n",
    ] {
        let r = crate::parse(Path::new("t.toml"), &format!("{BASE}{extra}"));
        assert!(matches!(r, Err(crate::LoadError::Syntax { .. })), "{extra}");
    }
}

#[test]
fn names() {
    assert_eq!(check_name("WWW.Example.net.").unwrap(), "www.example.net");
    assert!(check_name("a..b").is_err());
    assert!(check_name(&"a".repeat(64)).is_err());
    assert!(check_name("*.example.net").is_err(), "no wildcards");
    assert_eq!(owner("example.net", "@").unwrap(), "example.net");
    assert!(owner("example.net", "example.org.").is_err());
    assert!(owner("example.net", "badexample.net.").is_err());
}
