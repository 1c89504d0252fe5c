//! A small MRT writer for tests: TABLE_DUMP_V2 IPv6 RIBs and BGP4MP_MESSAGE_AS4 IPv6 updates
//! with documentation prefixes and the paths a test needs.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::Ipv6Addr;

/// One collector peer: address and AS.
pub type GenPeer = (Ipv6Addr, u32);

fn header(out: &mut Vec<u8>, ts: u32, ty: u16, sub: u16, body: &[u8]) {
    out.extend_from_slice(&ts.to_be_bytes());
    out.extend_from_slice(&ty.to_be_bytes());
    out.extend_from_slice(&sub.to_be_bytes());
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
}

fn prefix_bytes(p: &str) -> Vec<u8> {
    let (a, l) = p.split_once('/').unwrap();
    let a: Ipv6Addr = a.parse().unwrap();
    let l: u8 = l.parse().unwrap();
    let mut v = vec![l];
    v.extend_from_slice(&a.octets()[..usize::from(l).div_ceil(8)]);
    v
}

fn attr(out: &mut Vec<u8>, flags: u8, code: u8, value: &[u8]) {
    out.extend_from_slice(&[flags | 0x10, code]);
    out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    out.extend_from_slice(value);
}

fn path_attrs(path: &[u32], mp: &[u8]) -> Vec<u8> {
    let mut a = Vec::new();
    attr(&mut a, 0x40, 1, &[0]);
    let mut p = vec![2, path.len() as u8];
    for asn in path {
        p.extend_from_slice(&asn.to_be_bytes());
    }
    attr(&mut a, 0x40, 2, &p);
    attr(&mut a, 0x80, 14, mp);
    a
}

const NEXT_HOP: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 0xfe);

/// The routes of one prefix: (peer index, AS path).
pub type GenRoutes<'a> = (&'a str, Vec<(usize, Vec<u32>)>);

/// A TABLE_DUMP_V2 dump: the peer table, then one RIB_IPV6_UNICAST record per prefix with
/// (peer index, AS path) entries.
pub fn rib(ts: u32, peers: &[GenPeer], routes: &[GenRoutes<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut b = vec![192, 0, 2, 254, 0, 0];
    b.extend_from_slice(&(peers.len() as u16).to_be_bytes());
    for (ip, asn) in peers {
        b.push(3);
        b.extend_from_slice(&[192, 0, 2, 1]);
        b.extend_from_slice(&ip.octets());
        b.extend_from_slice(&asn.to_be_bytes());
    }
    header(&mut out, ts, 13, 1, &b);
    for (seq, (prefix, entries)) in routes.iter().enumerate() {
        let mut b = (seq as u32).to_be_bytes().to_vec();
        b.extend(prefix_bytes(prefix));
        b.extend_from_slice(&(entries.len() as u16).to_be_bytes());
        for (peer, path) in entries {
            b.extend_from_slice(&(*peer as u16).to_be_bytes());
            b.extend_from_slice(&ts.to_be_bytes());
            let mut mp = vec![16];
            mp.extend_from_slice(&NEXT_HOP.octets());
            let a = path_attrs(path, &mp);
            b.extend_from_slice(&(a.len() as u16).to_be_bytes());
            b.extend(a);
        }
        header(&mut out, ts, 13, 4, &b);
    }
    out
}

/// One BGP4MP_MESSAGE_AS4 record: `path` Some announces `prefix`, None withdraws it.
pub fn update(ts: u32, peer: GenPeer, prefix: &str, path: Option<&[u32]>) -> Vec<u8> {
    let attrs = match path {
        Some(path) => {
            let mut mp = vec![0, 2, 1, 16];
            mp.extend_from_slice(&NEXT_HOP.octets());
            mp.push(0);
            mp.extend(prefix_bytes(prefix));
            path_attrs(path, &mp)
        }
        None => {
            let mut a = Vec::new();
            let mut v = vec![0, 2, 1];
            v.extend(prefix_bytes(prefix));
            attr(&mut a, 0x80, 15, &v);
            a
        }
    };
    let mut msg = vec![0xff; 16];
    msg.extend_from_slice(&((19 + 4 + attrs.len()) as u16).to_be_bytes());
    msg.push(2);
    msg.extend_from_slice(&[0, 0]);
    msg.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    msg.extend(attrs);
    let mut b = Vec::new();
    b.extend_from_slice(&peer.1.to_be_bytes());
    b.extend_from_slice(&65000u32.to_be_bytes());
    b.extend_from_slice(&[0, 0, 0, 2]);
    b.extend_from_slice(&peer.0.octets());
    b.extend_from_slice(&NEXT_HOP.octets());
    b.extend(msg);
    let mut out = Vec::new();
    header(&mut out, ts, 16, 4, &b);
    out
}

/// Our AS in examples/anycast.
pub const US: u32 = 4_200_000_001;

fn peer(i: u16, asn: u32) -> GenPeer {
    (Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, i), asn)
}

/// The RIB the observe tests and `tern observe`'s black-box test read (examples/anycast):
/// see `observe_anycast.rs` for what each route is there to show.
pub fn anycast_rib() -> Vec<u8> {
    let peers = [
        peer(1, 174),
        peer(2, 6939),
        peer(3, 64512),
        peer(4, 2914),
        peer(5, 64999),
    ];
    let (vultr, buyvm, gtt) = (20473, 53667, 3257);
    rib(
        1_700_000_000,
        &peers,
        &[
            (
                "2001:db8:a0::/48",
                vec![
                    (0, vec![174, vultr, US]),
                    (2, vec![64512, gtt, vultr, US]),
                    (4, vec![64999, 174, buyvm, buyvm, buyvm, US, US]),
                ],
            ),
            ("2001:db8:a0:100::/56", vec![(4, vec![64999])]),
            (
                "2001:db8:a1::/48",
                vec![
                    (0, vec![174, vultr, US]),
                    (1, vec![6939, 174, vultr, US]),
                    (2, vec![64512, gtt, gtt, gtt, vultr, US]),
                ],
            ),
            ("2001:db8:a2::/48", vec![(3, vec![2914, vultr, US])]),
            ("2001:db8:a3::/48", vec![(4, vec![64999, 64666])]),
            (
                "2001:db8:a5::/48",
                vec![(0, vec![174, buyvm, buyvm, buyvm, US, US])],
            ),
            ("2001:db8:b0::/48", vec![(0, vec![174, vultr, US])]),
        ],
    )
}

/// Updates for the timeline: Tokyo's /48 announced, withdrawn, announced again by AS174.
pub fn anycast_updates() -> Vec<u8> {
    let p = peer(1, 174);
    let path = [174, 20473, US];
    let mut out = update(1_700_000_100, p, "2001:db8:a4::/48", Some(&path));
    out.extend(update(1_700_000_200, p, "2001:db8:a4::/48", None));
    out.extend(update(1_700_000_300, p, "2001:db8:a4::/48", Some(&path)));
    out
}
