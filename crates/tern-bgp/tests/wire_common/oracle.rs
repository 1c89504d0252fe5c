//! NetGauze (`netgauze-bgp-pkt`) as an independent oracle: both decoders' results are brought to
//! one neutral form ([`Facts`]) and compared; our UPDATEs can be rebuilt as NetGauze values.

use std::io::Cursor;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netgauze_bgp_pkt::BgpMessage;
use netgauze_bgp_pkt::nlri::{Ipv4Unicast, Ipv4UnicastAddress, Ipv6Unicast, Ipv6UnicastAddress};
use netgauze_bgp_pkt::path_attribute as ng;
use netgauze_bgp_pkt::update::BgpUpdateMessage;
use netgauze_bgp_pkt::wire::deserializer::BgpParsingContext;
use netgauze_parse_utils::WritablePdu;
use netgauze_parse_utils::reader::SliceReader;
use netgauze_parse_utils::traits::ParseFromWithOneInput;
use tern_bgp::wire::*;

/// What both decoders must agree on, in a neutral form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    pub withdrawn: Vec<String>,
    pub nlri: Vec<String>,
    pub origin: Option<u8>,
    pub as_path: Option<Vec<(u8, Vec<u32>)>>,
    pub next_hop: Option<Ipv4Addr>,
    pub med: Option<u32>,
    pub local_pref: Option<u32>,
    pub atomic_aggregate: bool,
    pub aggregator: Option<(u32, Ipv4Addr)>,
    pub communities: Vec<u32>,
    pub large_communities: Vec<(u32, u32, u32)>,
    pub otc: Option<u32>,
    /// (AFI, next hop, link-local, prefixes)
    pub mp_reach: Option<(u16, IpAddr, Option<Ipv6Addr>, Vec<String>)>,
    pub mp_unreach: Option<(u16, Vec<String>)>,
}

pub fn ours(u: &Update) -> Facts {
    let a = &u.attrs;
    let s = |v: &[tern_types::Prefix]| v.iter().map(|p| p.to_string()).collect::<Vec<_>>();
    Facts {
        withdrawn: s(&u.withdrawn),
        nlri: s(&u.nlri),
        origin: a.origin.map(|o| o.code()),
        as_path: a.as_path.as_ref().map(|p| {
            p.segments
                .iter()
                .map(|g| (g.kind.code(), g.asns.iter().map(|x| x.0).collect()))
                .collect()
        }),
        next_hop: a.next_hop,
        med: a.med,
        local_pref: a.local_pref,
        atomic_aggregate: a.atomic_aggregate,
        aggregator: a.aggregator.map(|g| (g.asn.0, g.address)),
        communities: a.communities.iter().map(|c| c.0).collect(),
        large_communities: a
            .large_communities
            .iter()
            .map(|c| (c.global, c.local1, c.local2))
            .collect(),
        otc: a.otc.map(|x| x.0),
        mp_reach: a.mp_reach.as_ref().map(|m| {
            let (nh, ll) = match m.next_hop {
                MpNextHop::V4(a) => (IpAddr::V4(a), None),
                MpNextHop::V6 { global, link_local } => (IpAddr::V6(global), link_local),
            };
            (m.afi, nh, ll, s(&m.nlri))
        }),
        mp_unreach: a.mp_unreach.as_ref().map(|m| (m.afi, s(&m.withdrawn))),
    }
}

/// NetGauze's parse of one message on a 4-octet-AS session.
pub fn ng_parse(bytes: &[u8], asn4: bool) -> Result<BgpMessage, String> {
    let mut ctx = BgpParsingContext::asn2_default();
    ctx.set_asn4(asn4);
    BgpMessage::parse(&mut SliceReader::new(bytes), &mut ctx).map_err(|e| format!("{e:?}"))
}

pub fn ng_write(msg: &BgpMessage) -> Vec<u8> {
    let mut buf = Vec::new();
    msg.write(&mut Cursor::new(&mut buf)).unwrap();
    buf
}

/// The facts of a NetGauze UPDATE; `None` for families or attributes we model differently
/// (the caller counts those).
pub fn theirs(u: &BgpUpdateMessage) -> Facts {
    let v4 = |v: &[Ipv4UnicastAddress]| {
        v.iter()
            .map(|p| p.network().address().to_string())
            .collect::<Vec<_>>()
    };
    let v6 = |v: &[Ipv6UnicastAddress]| {
        v.iter()
            .map(|p| p.network().address().to_string())
            .collect::<Vec<_>>()
    };
    let mut f = Facts {
        withdrawn: v4(u.withdraw_routes()),
        nlri: v4(u.nlri()),
        ..Facts::default()
    };
    for attr in u.path_attributes() {
        match attr.value() {
            ng::PathAttributeValue::Origin(o) => f.origin = Some(*o as u8),
            ng::PathAttributeValue::AsPath(ng::AsPath::As4PathSegments(segs)) => {
                f.as_path = Some(
                    segs.iter()
                        .map(|s| (s.segment_type() as u8, s.as_numbers().to_vec()))
                        .collect(),
                )
            }
            ng::PathAttributeValue::AsPath(ng::AsPath::As2PathSegments(segs)) => {
                f.as_path = Some(
                    segs.iter()
                        .map(|s| {
                            (
                                s.segment_type() as u8,
                                s.as_numbers().iter().map(|&x| u32::from(x)).collect(),
                            )
                        })
                        .collect(),
                )
            }
            ng::PathAttributeValue::NextHop(n) => f.next_hop = Some(n.next_hop()),
            ng::PathAttributeValue::MultiExitDiscriminator(m) => f.med = Some(m.metric()),
            ng::PathAttributeValue::LocalPreference(m) => f.local_pref = Some(m.metric()),
            ng::PathAttributeValue::AtomicAggregate(_) => f.atomic_aggregate = true,
            ng::PathAttributeValue::Aggregator(ng::Aggregator::As4Aggregator(g)) => {
                f.aggregator = Some((*g.asn(), g.origin()))
            }
            ng::PathAttributeValue::Aggregator(ng::Aggregator::As2Aggregator(g)) => {
                f.aggregator = Some((u32::from(*g.asn()), g.origin()))
            }
            ng::PathAttributeValue::Communities(c) => {
                f.communities = c.communities().iter().map(|c| c.value()).collect()
            }
            ng::PathAttributeValue::LargeCommunities(c) => {
                f.large_communities = c
                    .communities()
                    .iter()
                    .map(|c| (c.global_admin(), c.local_data1(), c.local_data2()))
                    .collect()
            }
            ng::PathAttributeValue::OnlyToCustomer(o) => f.otc = Some(o.asn()),
            ng::PathAttributeValue::MpReach(ng::MpReach::Ipv6Unicast {
                next_hop_global,
                next_hop_local,
                nlri,
            }) => {
                f.mp_reach = Some((
                    AFI_IPV6,
                    IpAddr::V6(*next_hop_global),
                    *next_hop_local,
                    v6(nlri),
                ))
            }
            ng::PathAttributeValue::MpReach(ng::MpReach::Ipv4Unicast {
                next_hop,
                next_hop_local,
                nlri,
            }) => f.mp_reach = Some((AFI_IPV4, *next_hop, *next_hop_local, v4(nlri))),
            ng::PathAttributeValue::MpUnreach(ng::MpUnreach::Ipv6Unicast { nlri }) => {
                f.mp_unreach = Some((AFI_IPV6, v6(nlri)))
            }
            ng::PathAttributeValue::MpUnreach(ng::MpUnreach::Ipv4Unicast { nlri }) => {
                f.mp_unreach = Some((AFI_IPV4, v4(nlri)))
            }
            _ => {}
        }
    }
    f
}

/// NetGauze writes the length width the caller asks for: always the 2-octet form here, which
/// also exercises our handling of the Extended Length bit on every attribute.
fn pa(optional: bool, transitive: bool, value: ng::PathAttributeValue) -> ng::PathAttribute {
    ng::PathAttribute::from(optional, transitive, false, true, value).unwrap()
}

/// Our UPDATE (4-octet AS, IPv4/IPv6 unicast, no confederations) as a NetGauze value.
pub fn to_netgauze(u: &Update) -> BgpMessage {
    use ng::PathAttributeValue as V;
    let a4 = |p: &tern_types::Prefix| {
        Ipv4UnicastAddress::new_no_path_id(Ipv4Unicast::from_net(p.as_v4().unwrap()).unwrap())
    };
    let a6 = |p: &tern_types::Prefix| {
        Ipv6UnicastAddress::new(None, Ipv6Unicast::from_net(p.as_v6().unwrap()).unwrap())
    };
    let a = &u.attrs;
    let mut attrs = Vec::new();
    if let Some(m) = &a.mp_reach {
        let MpNextHop::V6 { global, link_local } = m.next_hop else {
            panic!("IPv6 only")
        };
        attrs.push(pa(
            true,
            false,
            V::MpReach(ng::MpReach::Ipv6Unicast {
                next_hop_global: global,
                next_hop_local: link_local,
                nlri: m.nlri.iter().map(a6).collect(),
            }),
        ));
    }
    if let Some(m) = &a.mp_unreach {
        attrs.push(pa(
            true,
            false,
            V::MpUnreach(ng::MpUnreach::Ipv6Unicast {
                nlri: m.withdrawn.iter().map(a6).collect(),
            }),
        ));
    }
    if let Some(o) = a.origin {
        let o = match o {
            Origin::Igp => ng::Origin::IGP,
            Origin::Egp => ng::Origin::EGP,
            Origin::Incomplete => ng::Origin::Incomplete,
        };
        attrs.push(pa(false, true, V::Origin(o)));
    }
    if let Some(p) = &a.as_path {
        let segs: Vec<ng::As4PathSegment> = p
            .segments
            .iter()
            .map(|s| {
                let t = if s.kind == SegmentKind::Set {
                    ng::AsPathSegmentType::AsSet
                } else {
                    ng::AsPathSegmentType::AsSequence
                };
                ng::As4PathSegment::new(t, s.asns.iter().map(|x| x.0).collect::<Vec<_>>())
            })
            .collect();
        attrs.push(pa(
            false,
            true,
            V::AsPath(ng::AsPath::As4PathSegments(segs.into())),
        ));
    }
    if let Some(nh) = a.next_hop {
        attrs.push(pa(false, true, V::NextHop(ng::NextHop::new(nh))));
    }
    if let Some(m) = a.med {
        attrs.push(pa(
            true,
            false,
            V::MultiExitDiscriminator(ng::MultiExitDiscriminator::new(m)),
        ));
    }
    if let Some(m) = a.local_pref {
        attrs.push(pa(
            false,
            true,
            V::LocalPreference(ng::LocalPreference::new(m)),
        ));
    }
    if a.atomic_aggregate {
        attrs.push(pa(false, true, V::AtomicAggregate(ng::AtomicAggregate)));
    }
    if let Some(g) = a.aggregator {
        attrs.push(pa(
            true,
            true,
            V::Aggregator(ng::Aggregator::As4Aggregator(ng::As4Aggregator::new(
                g.asn.0, g.address,
            ))),
        ));
    }
    if !a.communities.is_empty() {
        let c: Vec<_> = a
            .communities
            .iter()
            .map(|c| netgauze_bgp_pkt::community::Community::new(c.0))
            .collect();
        attrs.push(pa(true, true, V::Communities(ng::Communities::new(c))));
    }
    if !a.large_communities.is_empty() {
        let c: Vec<_> = a
            .large_communities
            .iter()
            .map(|c| netgauze_bgp_pkt::community::LargeCommunity::new(c.global, c.local1, c.local2))
            .collect();
        attrs.push(pa(
            true,
            true,
            V::LargeCommunities(ng::LargeCommunities::new(c)),
        ));
    }
    if let Some(o) = a.otc {
        attrs.push(pa(
            true,
            true,
            V::OnlyToCustomer(ng::OnlyToCustomer::new(o.0)),
        ));
    }
    for raw in &a.unknown {
        let f = raw.flags;
        attrs.push(
            ng::PathAttribute::from(
                f & attr_flags::OPTIONAL != 0,
                f & attr_flags::TRANSITIVE != 0,
                f & attr_flags::PARTIAL != 0,
                raw.value.len() > 255,
                V::UnknownAttribute(ng::UnknownAttribute::new(raw.code, raw.value.clone())),
            )
            .unwrap(),
        );
    }
    BgpMessage::Update(BgpUpdateMessage::new(
        u.withdrawn.iter().map(a4).collect::<Vec<_>>(),
        attrs,
        u.nlri.iter().map(a4).collect::<Vec<_>>(),
    ))
}
