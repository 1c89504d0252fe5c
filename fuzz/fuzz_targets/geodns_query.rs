//! Fuzz the GeoDNS query path (tern-geodns): any bytes as a query from any client, with any
//! set of healthy sites, over UDP and TCP.
//!
//! Properties: `Responder::respond` never panics; a reply is a parseable response with the
//! query's id, never has RA set, and over UDP fits the limit the reply carries (512 without
//! EDNS, at most 1232 with); the rate-limit "slip" form parses too. The first bytes pick the
//! client address and the up-mask, the rest is the query.
#![no_main]

use std::net::{IpAddr, Ipv6Addr};
use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tern_dns::{Header, Message};
use tern_geodns::{Responder, Transport, Up};

const TOML: &str = r#"
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
[[dns.record]]
name = "ns1"
type = "AAAA"
value = "2001:db8::53"
[[dns.record]]
name = "sub"
type = "NS"
value = "ns1.example.net"
[[dns.record]]
name = "alias"
type = "CNAME"
value = "www.example.net"
[[dns.name]]
name = "www"
answer = "best"
"#;

fn responder() -> &'static Responder {
    static R: OnceLock<Responder> = OnceLock::new();
    R.get_or_init(|| {
        let m = tern_model::parse(Path::new("fuzz.toml"), TOML).expect("fuzz zone parses");
        let dns = m.network.dns.expect("has [dns]");
        tern_geodns::build(&dns, "fuzz").expect("no files to load")
    })
}

fuzz_target!(|data: &[u8]| {
    let (Some(&a), Some(&b)) = (data.first(), data.get(1)) else {
        return;
    };
    let query = &data[2..];
    let peer = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, u16::from(a), 0, 0, 0, 0, 1));
    let up = Up(u64::from(b));
    for t in [Transport::Udp, Transport::Tcp] {
        let Some(reply) = responder().respond(query, peer, t, up) else {
            continue;
        };
        let bytes = reply.to_bytes();
        let id = Header::parse(query).expect("a reply implies a header").id;
        let m = Message::parse(&bytes).expect("replies parse");
        assert!(m.header.is_response() && m.header.id == id);
        assert_eq!(m.header.flags & Header::RA, 0);
        if t == Transport::Udp {
            assert!(bytes.len() <= reply.limit, "{} > {}", bytes.len(), reply.limit);
            assert!(reply.limit <= 1232);
        }
        Message::parse(&reply.to_slip()).expect("slip replies parse");
    }
});
