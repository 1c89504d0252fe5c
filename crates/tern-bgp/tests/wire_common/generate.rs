//! A small generator of random but valid messages for round-trip and differential tests
//! (hand-rolled instead of proptest: no extra dependency, deterministic seeds).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use tern_bgp::wire::*;
use tern_types::{Asn, Community, LargeCommunity, Prefix};

use super::Rng;

/// What the generated messages must avoid.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The message is for a 2-octet-AS session (keeps RFC 6793 merging lossless).
    pub two_octet: bool,
    /// Allow confederation segments.
    pub confed: bool,
    /// Unicast-only prefixes (no IPv4 multicast/class E, no IPv6 ff00::/8), as NetGauze wants.
    pub unicast_only: bool,
}

pub fn v4_prefix(r: &mut Rng, l: &Limits) -> Prefix {
    let len = r.below(33) as u8;
    let mut a = r.u32();
    if l.unicast_only {
        a = (a & 0x00ff_ffff) | ((1 + r.below(222) as u32) << 24);
    }
    Prefix::truncating(IpAddr::V4(Ipv4Addr::from(a)), len).unwrap()
}

pub fn v6_prefix(r: &mut Rng, _l: &Limits) -> Prefix {
    let len = r.below(129) as u8;
    let hi = (0x2000u128 + r.below(0x2000) as u128) << 112;
    let a = hi | (u128::from(r.next()) << 48) | u128::from(r.next() >> 16);
    Prefix::truncating(IpAddr::V6(Ipv6Addr::from(a)), len).unwrap()
}

fn asn(r: &mut Rng, four: bool) -> Asn {
    match r.below(3) {
        0 => Asn(64512 + r.below(1023) as u32),
        1 if four => Asn(4_200_000_000 + r.below(1000) as u32),
        _ => Asn(1 + r.below(65000) as u32),
    }
}

pub fn as_path(r: &mut Rng, l: &Limits) -> AsPath {
    let mut segments = Vec::new();
    let n = r.below(4);
    for i in 0..n {
        let kind = match r.below(10) {
            0 if l.confed && i == 0 => SegmentKind::ConfedSequence,
            1 if l.confed && i == 0 => SegmentKind::ConfedSet,
            2 | 3 => SegmentKind::Set,
            _ => SegmentKind::Sequence,
        };
        let four = !(l.two_octet && kind.is_confed());
        let max = if r.chance(5) { 255 } else { 8 };
        let count = 1 + r.below(max);
        segments.push(AsSegment {
            kind,
            asns: (0..count).map(|_| asn(r, four)).collect(),
        });
    }
    let mut p = AsPath { segments };
    if r.chance(30) {
        p.prepend(asn(r, true), 1 + r.below(3) as usize);
    }
    p
}

pub fn update(r: &mut Rng, l: &Limits) -> Update {
    let v4 = |r: &mut Rng, n: u64| (0..r.below(n)).map(|_| v4_prefix(r, l)).collect::<Vec<_>>();
    let withdrawn = v4(r, 6);
    let nlri = v4(r, 6);
    let mut a = PathAttributes::default();
    let mp_reach = r.chance(40);
    let need = !nlri.is_empty() || mp_reach;
    if need || r.chance(50) {
        a.origin = Some([Origin::Igp, Origin::Egp, Origin::Incomplete][r.below(3) as usize]);
        a.as_path = Some(as_path(r, l));
    }
    if !nlri.is_empty() || r.chance(20) {
        a.next_hop = Some(Ipv4Addr::from(r.u32()));
    }
    a.med = r.chance(30).then(|| r.u32());
    a.local_pref = r.chance(20).then(|| r.u32());
    a.atomic_aggregate = r.chance(10);
    if r.chance(15) {
        let path_has_four = a
            .as_path
            .as_ref()
            .is_some_and(|p| p.asns().any(|x| !x.is_two_octet()));
        // From a 2-octet speaker, a 2-octet AGGREGATOR other than AS_TRANS means "ignore
        // AS4_PATH" (RFC 6793 §4.2.3): only generate what survives the round trip.
        let asn = if l.two_octet && path_has_four {
            Asn(4_200_000_000 + r.below(9) as u32)
        } else {
            asn(r, true)
        };
        a.aggregator = Some(Aggregator {
            asn,
            address: Ipv4Addr::from(r.u32()),
        });
    }
    a.communities = (0..r.below(6)).map(|_| Community(r.u32())).collect();
    a.large_communities = (0..r.below(4))
        .map(|_| LargeCommunity::new(r.u32(), r.u32(), r.u32()))
        .collect();
    a.otc = r.chance(20).then(|| asn(r, true));
    if mp_reach {
        let global = Ipv6Addr::from((0x2001_0db8u128 << 96) | u128::from(r.next()) | 1);
        let link_local = r
            .chance(50)
            .then(|| Ipv6Addr::from((0xfe80u128 << 112) | u128::from(r.next())));
        a.mp_reach = Some(MpReach {
            afi: AFI_IPV6,
            safi: SAFI_UNICAST,
            next_hop: MpNextHop::V6 { global, link_local },
            nlri: (0..r.below(6)).map(|_| v6_prefix(r, l)).collect(),
        });
    }
    if r.chance(30) {
        a.mp_unreach = Some(MpUnreach {
            afi: AFI_IPV6,
            safi: SAFI_UNICAST,
            withdrawn: (0..r.below(6)).map(|_| v6_prefix(r, l)).collect(),
        });
    }
    let mut code = 239u8;
    for _ in 0..r.below(3) {
        code += 1 + r.below(4) as u8;
        let flags = attr_flags::OPTIONAL
            | if r.chance(50) {
                attr_flags::TRANSITIVE
            } else {
                0
            }
            | if r.chance(20) { attr_flags::PARTIAL } else { 0 };
        let len = if r.chance(10) {
            256 + r.below(200)
        } else {
            r.below(12)
        };
        a.unknown.push(RawAttribute {
            flags,
            code,
            value: (0..len).map(|_| r.next() as u8).collect(),
        });
    }
    Update {
        withdrawn,
        attrs: a,
        nlri,
    }
}

pub fn open(r: &mut Rng) -> Open {
    let my_as = asn(r, true);
    let mut capabilities = vec![
        Capability::Multiprotocol {
            afi: AFI_IPV4,
            safi: SAFI_UNICAST,
        },
        Capability::Multiprotocol {
            afi: AFI_IPV6,
            safi: SAFI_UNICAST,
        },
        Capability::RouteRefresh,
    ];
    if r.chance(50) {
        capabilities.push(Capability::EnhancedRouteRefresh);
    }
    if !my_as.is_two_octet() || r.chance(70) {
        capabilities.push(Capability::FourOctetAs(my_as));
    }
    if r.chance(50) {
        capabilities.push(Capability::Role(Role::from_code(r.below(5) as u8)));
    }
    if r.chance(30) {
        capabilities.push(Capability::ExtendedMessage);
    }
    Open {
        version: 4,
        my_as,
        hold_time: [0, 3, 90, 180, 65535][r.below(5) as usize],
        bgp_id: Ipv4Addr::from((r.u32() & 0x00ff_ffff) | 0x0a00_0001),
        capabilities,
    }
}
