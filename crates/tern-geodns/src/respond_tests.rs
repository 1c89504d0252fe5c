//! The responder against the test zone: every rcode path, ECS, NSID, sizes, health, and the
//! geolocation fallbacks with an MMDB built by the test.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use tern_dns::{
    CLASS_CH, CLASS_IN, ClientSubnet, Edns, Header, Message, Name, OPT_ECS, OPT_NSID, RData,
    TYPE_A, TYPE_AAAA, TYPE_ANY, TYPE_NS, TYPE_SOA, TYPE_TXT, rcode,
};

use super::*;
use crate::geo::GeoDb;
use crate::map::{LatencyMap, MapIndex};
use crate::mmdb_fixture::{Entry, write};
use crate::test_zone::dns;

const RESOLVER: &str = "192.0.2.200";

const MAP: &str = r#"{"version": 1, "prefixes": [
  {"prefix": "198.51.100.0/24", "clients": 1, "sites": [{"site": "ams", "rtt_ms": 5, "samples": 1},
                                                      {"site": "sin", "rtt_ms": 150, "samples": 1}]},
  {"prefix": "2001:db8:c0::/48", "clients": 1, "sites": [{"site": "nyc", "rtt_ms": 3, "samples": 1}]}]}"#;

fn responder(geo: Option<GeoDb>) -> Responder {
    let d = dns();
    let ids: Vec<_> = d.sites.iter().map(|s| s.id.clone()).collect();
    let map = MapIndex::new(LatencyMap::parse(MAP, &ids).unwrap());
    Responder::new(
        Zone::new(&d),
        Selector::new(d.sites.clone(), Some(map), geo),
        "dns-test",
    )
}

fn q(name: &str, qtype: u16, edns: Option<Edns>) -> Vec<u8> {
    tern_dns::query(
        0x4242,
        &Name::from_text(name).unwrap(),
        qtype,
        CLASS_IN,
        edns,
    )
}

fn ecs(addr: &str, len: u8) -> Option<Edns> {
    let c = ClientSubnet::query(addr.parse().unwrap(), len);
    Some(Edns {
        udp_size: 1232,
        options: vec![(OPT_ECS, c.to_bytes())],
        ..Edns::default()
    })
}

fn ask_with(r: &Responder, query: &[u8], up: Up, t: Transport) -> Message {
    let reply = r.respond(query, RESOLVER.parse().unwrap(), t, up).unwrap();
    let bytes = reply.to_bytes();
    assert!(t == Transport::Tcp || bytes.len() <= reply.limit);
    Message::parse(&bytes).unwrap()
}

fn ask(r: &Responder, query: &[u8]) -> Message {
    ask_with(r, query, Up::ALL, Transport::Udp)
}

fn addrs(m: &Message) -> Vec<IpAddr> {
    m.answers
        .iter()
        .filter_map(|a| match a.data {
            RData::A(x) => Some(IpAddr::V4(x)),
            RData::Aaaa(x) => Some(IpAddr::V6(x)),
            _ => None,
        })
        .collect()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn scope(m: &Message) -> Option<u8> {
    let e = m.edns.as_ref()?;
    Some(
        ClientSubnet::parse(e.option(OPT_ECS)?)
            .unwrap()
            .scope_prefix,
    )
}

#[test]
fn best_follows_ecs_and_the_map_with_scope() {
    let r = responder(None);
    let m = ask(
        &r,
        &q("www.example.net", TYPE_AAAA, ecs("198.51.100.77", 24)),
    );
    assert_eq!(m.rcode(), rcode::NOERROR);
    assert!(m.header.flags & Header::AA != 0);
    assert_eq!(m.header.flags & Header::RA, 0, "never RA");
    assert_eq!(
        addrs(&m),
        vec![ip("2001:db8:1::1")],
        "ams for 198.51.100/24"
    );
    assert_eq!(m.answers[0].ttl, tern_model::dns::DEFAULT_GEO_TTL);
    assert_eq!(scope(&m), Some(24));
    // The echoed option keeps family, source and address.
    let echoed = ClientSubnet::parse(m.edns.as_ref().unwrap().option(OPT_ECS).unwrap()).unwrap();
    assert_eq!(
        (echoed.addr, echoed.source_prefix),
        (ip("198.51.100.0"), 24)
    );
    // IPv6 client network → nyc.
    let m = ask(
        &r,
        &q("www.example.net", TYPE_AAAA, ecs("2001:db8:c0:5::1", 56)),
    );
    assert_eq!(addrs(&m), vec![ip("2001:db8:2::1")]);
    assert_eq!(scope(&m), Some(48));
    // A for ams: its IPv4 override.
    let m = ask(&r, &q("www.example.net", TYPE_A, ecs("198.51.100.77", 24)));
    assert_eq!(addrs(&m), vec![ip("198.51.100.10")]);
}

#[test]
fn no_ecs_means_the_resolver_address_and_no_echo() {
    let r = responder(None);
    // The resolver 192.0.2.200 is in no map entry and there is no geo file: anycast.
    let m = ask(&r, &q("www.example.net", TYPE_AAAA, Some(Edns::default())));
    assert_eq!(addrs(&m), vec![ip("2001:db8::1")]);
    assert!(
        m.edns.as_ref().unwrap().option(OPT_ECS).is_none(),
        "no ECS echoed unasked"
    );
    let m = ask(&r, &q("www.example.net", TYPE_A, None));
    assert_eq!(addrs(&m), vec![ip("192.0.2.1")]);
    assert!(m.edns.is_none());
    // Source prefix 0 (the resolver opts out): resolver address, echoed with scope 0.
    let m = ask(
        &r,
        &q("www.example.net", TYPE_AAAA, ecs("198.51.100.77", 0)),
    );
    assert_eq!(addrs(&m), vec![ip("2001:db8::1")]);
    assert_eq!(scope(&m), Some(0));
    // Static and anycast answers do not depend on the client: scope 0.
    let m = ask(
        &r,
        &q("ns1.example.net", TYPE_AAAA, ecs("198.51.100.77", 24)),
    );
    assert_eq!((addrs(&m), scope(&m)), (vec![ip("2001:db8::53")], Some(0)));
    let m = ask(&r, &q("example.net", TYPE_AAAA, ecs("198.51.100.77", 24)));
    assert_eq!((addrs(&m), scope(&m)), (vec![ip("2001:db8::1")], Some(0)));
}

#[test]
fn down_and_drained_sites_leave_the_answers() {
    let r = responder(None);
    let s = r.selector();
    let ams = s.index(&"ams".parse().unwrap()).unwrap();
    let sin = s.index(&"sin".parse().unwrap()).unwrap();
    let query = q("www.example.net", TYPE_AAAA, ecs("198.51.100.77", 24));
    let m = ask_with(&r, &query, Up::ALL.with(ams, false), Transport::Udp);
    assert_eq!(addrs(&m), vec![ip("2001:db8:3::1")], "next by RTT: sin");
    let m = ask_with(
        &r,
        &query,
        Up::ALL.with(ams, false).with(sin, false),
        Transport::Udp,
    );
    assert_eq!(
        addrs(&m),
        vec![ip("2001:db8::1")],
        "nothing ranked is up: anycast"
    );
    // A fixed-site name falls back to anycast while its site is down.
    let m = ask_with(
        &r,
        &q("sin.example.net", TYPE_AAAA, None),
        Up::ALL.with(sin, false),
        Transport::Udp,
    );
    assert_eq!(addrs(&m), vec![ip("2001:db8::1")]);
    let m = ask(&r, &q("sin.example.net", TYPE_AAAA, None));
    assert_eq!(addrs(&m), vec![ip("2001:db8:3::1")]);
}

#[test]
fn negative_answers_carry_the_soa() {
    let r = responder(None);
    let m = ask(&r, &q("nope.example.net", TYPE_A, None));
    assert_eq!(m.rcode(), rcode::NXDOMAIN);
    assert!(m.answers.is_empty());
    assert_eq!(m.authority.len(), 1);
    assert_eq!(m.authority[0].rtype, TYPE_SOA);
    assert_eq!(m.authority[0].ttl, 60, "min(SOA TTL, MINIMUM)");
    assert!(m.header.flags & Header::AA != 0);
    // NODATA: the name exists, the type does not.
    let m = ask(&r, &q("www.example.net", TYPE_TXT, None));
    assert_eq!(
        (m.rcode(), m.answers.len(), m.authority[0].rtype),
        (rcode::NOERROR, 0, TYPE_SOA)
    );
    // Empty non-terminal: NODATA, not NXDOMAIN (RFC 8020).
    let m = ask(&r, &q("deep.example.net", TYPE_A, None));
    assert_eq!(
        (m.rcode(), m.authority[0].rtype),
        (rcode::NOERROR, TYPE_SOA)
    );
    // Outside the zone: REFUSED without AA.
    let m = ask(&r, &q("example.org", TYPE_A, None));
    assert_eq!(m.rcode(), rcode::REFUSED);
    assert_eq!(m.header.flags & Header::AA, 0);
    // AXFR refused.
    let m = ask(&r, &q("example.net", 252, None));
    assert_eq!(m.rcode(), rcode::REFUSED);
}

#[test]
fn apex_cname_referral_and_any() {
    let r = responder(None);
    let m = ask(&r, &q("example.net", TYPE_NS, None));
    assert_eq!(m.answers.len(), 2);
    assert_eq!(m.additional.len(), 1, "glue for ns1 (AAAA)");
    let m = ask(&r, &q("example.net", TYPE_SOA, None));
    assert_eq!(m.answers[0].rtype, TYPE_SOA);
    // CNAME followed into the zone.
    let m = ask(
        &r,
        &q("alias.example.net", TYPE_AAAA, ecs("198.51.100.1", 24)),
    );
    assert_eq!(m.answers.len(), 2);
    assert_eq!(addrs(&m), vec![ip("2001:db8:1::1")]);
    // Below the cut: a referral, not authoritative.
    let m = ask(&r, &q("x.sub.example.net", TYPE_A, None));
    assert_eq!(
        (m.rcode(), m.answers.len(), m.authority.len()),
        (rcode::NOERROR, 0, 1)
    );
    assert_eq!(m.header.flags & Header::AA, 0);
    // ANY at a bound name: both families.
    let m = ask(&r, &q("www.example.net", TYPE_ANY, ecs("198.51.100.1", 24)));
    assert_eq!(addrs(&m), vec![ip("2001:db8:1::1"), ip("198.51.100.10")]);
}

#[test]
fn chaos_nsid_and_protocol_errors() {
    let r = responder(None);
    let ch = tern_dns::query(
        1,
        &Name::from_text("id.server").unwrap(),
        TYPE_TXT,
        CLASS_CH,
        None,
    );
    let m = ask(&r, &ch);
    assert_eq!(m.answers[0].data, RData::Txt(vec![b"dns-test".to_vec()]));
    let ch = tern_dns::query(
        1,
        &Name::from_text("version.bind").unwrap(),
        TYPE_TXT,
        CLASS_CH,
        None,
    );
    assert_eq!(
        ask(&r, &ch).answers[0].data,
        RData::Txt(vec![b"tern".to_vec()])
    );
    let ch = tern_dns::query(
        1,
        &Name::from_text("other.bind").unwrap(),
        TYPE_TXT,
        CLASS_CH,
        None,
    );
    assert_eq!(ask(&r, &ch).rcode(), rcode::REFUSED);
    // NSID on an ordinary query, only when asked.
    let nsid = Some(Edns {
        udp_size: 1232,
        options: vec![(OPT_NSID, vec![])],
        ..Edns::default()
    });
    let m = ask(&r, &q("www.example.net", TYPE_A, nsid));
    assert_eq!(m.nsid(), Some(&b"dns-test"[..]));
    assert_eq!(
        ask(&r, &q("www.example.net", TYPE_A, Some(Edns::default()))).nsid(),
        None
    );
    // BADVERS.
    let v1 = Some(Edns {
        version: 1,
        ..Edns::default()
    });
    assert_eq!(
        ask(&r, &q("www.example.net", TYPE_A, v1)).rcode(),
        rcode::BADVERS
    );
    // NOTIMP for UPDATE.
    let mut u = q("www.example.net", TYPE_A, None);
    u[2] |= 0x28;
    assert_eq!(ask(&r, &u).rcode(), rcode::NOTIMP);
    // Dropped: too short, or a response.
    let peer = ip(RESOLVER);
    assert!(r.respond(&[0; 11], peer, Transport::Udp, Up::ALL).is_none());
    let mut resp = q("www.example.net", TYPE_A, None);
    resp[2] |= 0x80;
    assert!(r.respond(&resp, peer, Transport::Udp, Up::ALL).is_none());
    // FORMERR: truncated question, two questions, malformed ECS.
    let mut t = q("www.example.net", TYPE_A, None);
    t.truncate(t.len() - 1);
    assert_eq!(ask(&r, &t).rcode(), rcode::FORMERR);
    let mut two = Message::parse(&q("a.example.net", TYPE_A, None)).unwrap();
    two.questions.push(two.questions[0].clone());
    assert_eq!(ask(&r, &two.to_bytes()).rcode(), rcode::FORMERR);
    let bad_ecs = Some(Edns {
        options: vec![(OPT_ECS, vec![0, 1, 24, 0, 198, 51, 100, 7])],
        ..Edns::default()
    });
    let m = ask(&r, &q("www.example.net", TYPE_A, bad_ecs));
    assert_eq!(m.rcode(), rcode::FORMERR);
}

#[test]
fn buffer_size_and_tc() {
    // A zone with many TXT records at one name: over 512 but under 1232, then over 1232.
    let mut d = dns();
    for i in 0..30 {
        d.records.push(tern_model::dns::StaticRecord {
            name: "big.example.net".into(),
            rtype: tern_model::dns::RecordType::Txt,
            value: format!("record number {i:02} with some padding text"),
            ttl: 60,
        });
    }
    let r = Responder::new(
        Zone::new(&d),
        Selector::new(d.sites.clone(), None, None),
        "x",
    );
    let no_edns = ask(&r, &q("big.example.net", TYPE_TXT, None));
    assert!(no_edns.header.tc() && no_edns.answers.is_empty());
    let big = Some(Edns {
        udp_size: 4096,
        ..Edns::default()
    });
    let m = ask(&r, &q("big.example.net", TYPE_TXT, big.clone()));
    assert!(m.header.tc(), "1.6 kB does not fit the 1232 we allow");
    let m = ask_with(
        &r,
        &q("big.example.net", TYPE_TXT, big),
        Up::ALL,
        Transport::Tcp,
    );
    assert!(!m.header.tc());
    assert_eq!(m.answers.len(), 30);
    // A small payload size is raised to 512: the normal answers fit.
    let small = Some(Edns {
        udp_size: 100,
        ..Edns::default()
    });
    let m = ask(&r, &q("ns1.example.net", TYPE_AAAA, small));
    assert!(!m.header.tc() && m.answers.len() == 1);
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tern-geodns-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn mmdb() -> Vec<u8> {
    write(&[
        // A network in Singapore, AS 64510; one in New York without AS; an IPv6 one in Europe.
        Entry {
            addr: IpAddr::V4(Ipv4Addr::new(203, 0, 113, 0)),
            len: 24,
            location: Some((1.29, 103.85)),
            asn: Some(64510),
        },
        Entry {
            addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 128)),
            len: 25,
            location: Some((40.7, -74.0)),
            asn: None,
        },
        Entry {
            addr: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0xe0, 0, 0, 0, 0, 0)),
            len: 44,
            location: Some((48.85, 2.35)),
            asn: None,
        },
    ])
}

#[test]
fn mmdb_gives_the_nearest_site_and_its_network_as_scope() {
    let path = temp_file("geo.mmdb", &mmdb());
    let geo = GeoDb::load(&path).unwrap();
    let hit = geo.lookup(ip("203.0.113.9")).unwrap();
    assert_eq!((hit.asn, hit.prefix_len), (Some(64510), 24));
    let r = responder(Some(geo));
    let m = ask(&r, &q("www.example.net", TYPE_AAAA, ecs("203.0.113.9", 24)));
    assert_eq!(addrs(&m), vec![ip("2001:db8:3::1")], "Singapore → sin");
    assert_eq!(scope(&m), Some(24));
    // The resolver's own address (192.0.2.200, in the /25 in New York) without ECS → nyc.
    let m = ask(&r, &q("www.example.net", TYPE_AAAA, None));
    assert_eq!(addrs(&m), vec![ip("2001:db8:2::1")]);
    // Paris (IPv6 /44) → ams; the scope is the database network, capped at the source /56.
    let m = ask(
        &r,
        &q("www.example.net", TYPE_AAAA, ecs("2001:db8:e5::1", 56)),
    );
    assert_eq!(addrs(&m), vec![ip("2001:db8:1::1")]);
    assert_eq!(scope(&m), Some(44));
    // Not in the database nor the map: anycast, scope = source.
    let m = ask(
        &r,
        &q("www.example.net", TYPE_AAAA, ecs("2001:db8:f0::", 48)),
    );
    assert_eq!((addrs(&m), scope(&m)), (vec![ip("2001:db8::1")], Some(48)));
}

#[test]
fn broken_files_are_refused_and_the_old_data_kept() {
    let good = mmdb();
    for (name, bytes) in [
        ("trunc.mmdb", good[..good.len() / 2].to_vec()),
        ("empty.mmdb", Vec::new()),
        ("noise.mmdb", vec![0xab; 300]),
        ("bad.csv", b"1.2.3.4,nope,0,0\n".to_vec()),
    ] {
        let p = temp_file(name, &bytes);
        assert!(GeoDb::load(&p).is_err(), "{name} accepted");
    }
    // A corrupted data section byte: verify() notices.
    let mut corrupt = good.clone();
    let tree = 6 * 60; // well inside the tree
    corrupt[tree] ^= 0xff;
    corrupt[tree + 1] ^= 0xff;
    let p = temp_file("corrupt.mmdb", &corrupt);
    assert!(GeoDb::load(&p).is_err(), "corrupt tree accepted");

    // A reload (another build) fails on a broken map; the caller keeps the old responder.
    let mut d = dns();
    let map_path = temp_file("map.json", MAP.as_bytes());
    d.map = Some(map_path.clone());
    let r = crate::build(&d, "id").unwrap();
    std::fs::write(&map_path, b"{\"version\": 1, \"prefixes\": [").unwrap();
    let res = crate::build(&d, "id");
    assert!(matches!(res, Err(crate::Error::Map { .. })), "{res:?}");
    let m = ask(
        &r,
        &q("www.example.net", TYPE_AAAA, ecs("198.51.100.77", 24)),
    );
    assert_eq!(
        addrs(&m),
        vec![ip("2001:db8:1::1")],
        "old map still answers"
    );
    // A good new map replaces it.
    std::fs::write(
        &map_path,
        MAP.replace("\"ams\", \"rtt_ms\": 5", "\"ams\", \"rtt_ms\": 500"),
    )
    .unwrap();
    let r = crate::build(&d, "id").unwrap();
    let m = ask(
        &r,
        &q("www.example.net", TYPE_AAAA, ecs("198.51.100.77", 24)),
    );
    assert_eq!(addrs(&m), vec![ip("2001:db8:3::1")], "sin is now faster");
}

#[test]
fn random_bytes_never_panic() {
    // A bounded, deterministic stand-in for the fuzz target: mutations of real queries.
    let r = responder(None);
    let seeds = [
        q("www.example.net", TYPE_AAAA, ecs("198.51.100.77", 24)),
        q("example.net", TYPE_NS, None),
        tern_dns::query(
            1,
            &Name::from_text("id.server").unwrap(),
            TYPE_TXT,
            CLASS_CH,
            None,
        ),
    ];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..20_000 {
        let mut b = seeds[i % seeds.len()].clone();
        for _ in 0..(next() % 4 + 1) {
            let pos = (next() as usize) % b.len();
            b[pos] = next() as u8;
        }
        if next() % 5 == 0 {
            let cut = (next() as usize) % b.len();
            b.truncate(cut);
        }
        for t in [Transport::Udp, Transport::Tcp] {
            if let Some(reply) = r.respond(&b, ip(RESOLVER), t, Up(next())) {
                let bytes = reply.to_bytes();
                let m = Message::parse(&bytes).expect("our replies parse");
                assert!(m.header.is_response());
                if t == Transport::Udp {
                    assert!(bytes.len() <= reply.limit);
                }
            }
        }
    }
}

/// A loop for profilers (`valgrind --tool=callgrind` on the release test binary with
/// `--ignored query_path_loop`): the bench's two workloads, static A/AAAA and geo A with ECS,
/// answered and encoded. Asserts the answers so a broken fast path cannot hide here.
#[test]
#[ignore = "profiling driver, not a test"]
fn query_path_loop() {
    let r = responder(None);
    let n: usize = std::env::var("TERN_LOOP")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let queries = [
        q("ns1.example.net", TYPE_AAAA, None),
        q("www.example.net", TYPE_A, ecs("198.51.100.7", 24)),
    ];
    let which = std::env::var("TERN_LOOP_KIND").unwrap_or_default();
    let peer: IpAddr = RESOLVER.parse().unwrap();
    let mut bytes = 0usize;
    for i in 0..n {
        let query = match which.as_str() {
            "static" => &queries[0],
            "geo" => &queries[1],
            _ => &queries[i % 2],
        };
        let reply = r.respond(query, peer, Transport::Udp, Up::ALL).unwrap();
        bytes += reply.to_bytes().len();
    }
    assert!(bytes > n * 40);
}
