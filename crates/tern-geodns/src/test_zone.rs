//! The zone the unit tests answer from: three sites (ams with IPv4 and IPv6, nyc IPv6 only,
//! sin both), static records, an empty non-terminal, a delegation and the three kinds of
//! bound names.

use std::path::Path;

use tern_model::dns::Dns;

/// tern.toml of the test network.
pub const TOML: &str = r#"
[network]
asn = 65001
allocations = ["2001:db8::/32", "192.0.2.0/24", "198.51.100.0/24"]
lab = true
[[prefix]]
prefix = "2001:db8::/48"
role = "anycast"
[[prefix]]
prefix = "192.0.2.0/24"
role = "anycast"
[[prefix]]
prefix = "2001:db8:1::/48"
role = "unicast"
site = "ams"
[[prefix]]
prefix = "2001:db8:2::/48"
role = "unicast"
site = "nyc"
[[prefix]]
prefix = "2001:db8:3::/48"
role = "unicast"
site = "sin"
[site.ams]
lat = 52.37
lon = 4.90
router_id = "192.0.2.1"
[site.nyc]
lat = 40.71
lon = -74.01
router_id = "192.0.2.2"
[site.sin]
lat = 1.35
lon = 103.82
router_id = "192.0.2.3"
[dns]
zone = "example.net"
ns = ["ns1.example.net", "ns2.example.net"]
serial = 2026120401
identity = "dns-test"
[dns.site.ams]
v4 = "198.51.100.10"
[dns.site.sin]
v4 = "198.51.100.30"
[[dns.record]]
name = "ns1"
type = "AAAA"
value = "2001:db8::53"
[[dns.record]]
name = "b.deep"
type = "TXT"
value = "hello"
[[dns.record]]
name = "sub"
type = "NS"
value = "ns.sub.example.net"
[[dns.record]]
name = "alias"
type = "CNAME"
value = "www.example.net"
[[dns.name]]
name = "www"
answer = "best"
[[dns.name]]
name = "@"
answer = "anycast"
[[dns.name]]
name = "sin"
answer = "site"
site = "sin"
"#;

/// The validated `[dns]` of [`TOML`].
pub fn dns() -> Dns {
    let m = tern_model::parse(Path::new("tern.toml"), TOML).expect("test tern.toml parses");
    assert!(!m.has_errors(), "{:#?}", m.diagnostics);
    m.network.dns.expect("has [dns]")
}
