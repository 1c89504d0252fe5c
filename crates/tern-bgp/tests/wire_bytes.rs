//! Annotated bytes ↔ struct tests, both ways, for every message type and attribute.
#![allow(clippy::unwrap_used)]

mod wire_common;

use std::net::{Ipv4Addr, Ipv6Addr};

use tern_bgp::wire::*;
use tern_types::{Asn, Community, LargeCommunity};
use wire_common::*;

const MARKER: &str = "ffffffff ffffffff ffffffff ffffffff";

#[test]
fn keepalive() {
    let bytes = hex(&format!("{MARKER} 0013 04 # length 19, type 4"));
    both_ways(&bytes, &Message::Keepalive, &FOUR);
}

fn our_open() -> Open {
    Open {
        version: 4,
        my_as: Asn(4_200_000_001),
        hold_time: 90,
        bgp_id: Ipv4Addr::new(192, 0, 2, 1),
        capabilities: vec![
            Capability::Multiprotocol {
                afi: AFI_IPV4,
                safi: SAFI_UNICAST,
            },
            Capability::Multiprotocol {
                afi: AFI_IPV6,
                safi: SAFI_UNICAST,
            },
            Capability::RouteRefresh,
            Capability::EnhancedRouteRefresh,
            Capability::FourOctetAs(Asn(4_200_000_001)),
            Capability::Role(Role::Customer),
        ],
    }
}

#[test]
fn open_with_capabilities() {
    let bytes = hex(&format!(
        "{MARKER}
         0042 01          # length 66, OPEN
         04               # version 4
         5ba0             # my AS: AS_TRANS 23456, the real one is in the capability
         005a             # hold time 90
         c0000201         # BGP identifier 192.0.2.1
         25               # optional parameters length 37
         02 06 01 04 0001 00 01   # capability: multiprotocol IPv4 unicast
         02 06 01 04 0002 00 01   # capability: multiprotocol IPv6 unicast
         02 02 02 00              # capability: route refresh
         02 02 46 00              # capability: enhanced route refresh (70)
         02 06 41 04 fa56ea01     # capability: 4-octet AS 4200000001
         02 03 09 01 03           # capability: BGP role customer (RFC 9234)"
    ));
    both_ways(&bytes, &Message::Open(our_open()), &TWO);
}

#[test]
fn open_from_bird_style_single_parameter_and_unknown_caps() {
    // BIRD puts all capabilities in one optional parameter; unknown ones are kept.
    let bytes = hex(&format!(
        "{MARKER} 0029 01 04 fde8 00b4 c0000202
         0c                       # optional parameters length 12
         02 0a                    # one capabilities parameter of 10 octets
            41 04 0000fde8        # 4-octet AS 65000
            40 02 0078            # graceful restart, raw
            "
    ));
    let (msg, _) = decode(&bytes, &FOUR).unwrap().unwrap();
    let Message::Open(open) = msg else {
        panic!("not an OPEN")
    };
    assert_eq!(open.my_as, Asn(65000));
    assert_eq!(open.hold_time, 180);
    assert_eq!(
        open.capabilities,
        vec![
            Capability::FourOctetAs(Asn(65000)),
            Capability::GracefulRestart(vec![0x00, 0x78])
        ]
    );
    // An unknown capability code and a known one with a wrong length are kept raw.
    let bytes = hex(&format!(
        "{MARKER} 0026 01 04 fde8 00b4 c0000202 09
         02 07 49 01 61    # capability 73 (FQDN), 1 octet
               01 02 0001 # multiprotocol with 2 octets: malformed, kept raw"
    ));
    let Some((Message::Open(open), _)) = decode(&bytes, &FOUR).unwrap() else {
        panic!()
    };
    assert_eq!(
        open.capabilities,
        vec![
            Capability::Unknown {
                code: 73,
                data: vec![0x61]
            },
            Capability::Unknown {
                code: 1,
                data: vec![0, 1]
            }
        ]
    );
}

#[test]
fn open_rfc9072_extended_parameters() {
    let bytes = hex(&format!(
        "{MARKER} 0029 01 04 fde8 00b4 c0000202
         ff                  # non-extended length 255 ...
         ff 0009             # ... and type 255: extended length 9 follows (RFC 9072)
         02 0006 41 04 0000fde8  # capabilities parameter with a 2-octet length"
    ));
    let Some((Message::Open(open), _)) = decode(&bytes, &FOUR).unwrap() else {
        panic!()
    };
    assert_eq!(open.capabilities, vec![Capability::FourOctetAs(Asn(65000))]);
}

#[test]
fn open_errors() {
    let open = |version: &str, hold: &str, id: &str| {
        hex(&format!("{MARKER} 001d 01 {version} fde8 {hold} {id} 00"))
    };
    let err = decode(&open("03", "00b4", "c0000201"), &FOUR).unwrap_err();
    assert_eq!(
        err.notification(),
        Some(Notification {
            code: 2,
            subcode: 1,
            data: vec![0, 4]
        })
    );
    let err = decode(&open("04", "0002", "c0000201"), &FOUR).unwrap_err();
    assert_eq!(
        err.notification().map(|n| (n.code, n.subcode)),
        Some((2, 6))
    );
    let err = decode(&open("04", "00b4", "00000000"), &FOUR).unwrap_err();
    assert_eq!(
        err.notification().map(|n| (n.code, n.subcode)),
        Some((2, 3))
    );
    // Optional parameter type 1 (authentication, deprecated).
    let bytes = hex(&format!(
        "{MARKER} 0020 01 04 fde8 00b4 c0000201 03 01 01 00"
    ));
    let err = decode(&bytes, &FOUR).unwrap_err();
    assert_eq!(
        err.notification().map(|n| (n.code, n.subcode)),
        Some((2, 4))
    );
    // Parameter length disagrees with the message.
    let bytes = hex(&format!(
        "{MARKER} 0020 01 04 fde8 00b4 c0000201 05 02 01 00"
    ));
    assert!(decode(&bytes, &FOUR).unwrap_err().is_session_fatal());
    // A 4-octet AS above 65535 without the capability cannot be encoded.
    let mut o = our_open();
    o.capabilities
        .retain(|c| !matches!(c, Capability::FourOctetAs(_)));
    assert_eq!(
        encode(&Message::Open(o), &FOUR, &mut Vec::new()),
        Err(EncodeError::MissingFourOctetAs(Asn(4_200_000_001)))
    );
}

/// ORIGIN, 4-octet AS_PATH, NEXT_HOP, MED, COMMUNITIES, LARGE_COMMUNITY, OTC, IPv4 NLRI.
#[test]
fn update_ipv4_all_common_attributes() {
    let bytes = hex(&format!(
        "{MARKER}
         005b 02                  # length 91, UPDATE
         0000                     # withdrawn routes length 0
         0040                     # total path attribute length 64
         40 01 01 00              # ORIGIN (well-known transitive) IGP
         40 02 0e 02 03 0000fc00 0000fc00 0000fde8  # AS_PATH: SEQUENCE of 3: 64512 64512 65000
         40 03 04 c0000201        # NEXT_HOP 192.0.2.1
         80 04 04 0000000a        # MED (optional) 10
         c0 08 04 fc000064        # COMMUNITIES (optional transitive) 64512:100
         c0 20 0c fa56ea01 00000001 00000002  # LARGE_COMMUNITY 4200000001:1:2
         c0 23 04 0000fc01        # OTC 64513 (RFC 9234)
         18 c63364                # NLRI 198.51.100.0/24"
    ));
    let mut path = AsPath::from_sequence([Asn(65000)]);
    path.prepend(Asn(64512), 2);
    let update = Update {
        withdrawn: vec![],
        attrs: PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(path),
            next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
            med: Some(10),
            communities: vec![Community::new(64512, 100)],
            large_communities: vec![LargeCommunity::new(4_200_000_001, 1, 2)],
            otc: Some(Asn(64513)),
            ..Default::default()
        },
        nlri: vec![p("198.51.100.0/24")],
    };
    both_ways(&bytes, &Message::Update(update), &FOUR);
}

fn v6_update() -> Update {
    Update {
        withdrawn: vec![],
        attrs: PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence([Asn(64512)])),
            mp_reach: Some(MpReach {
                afi: AFI_IPV6,
                safi: SAFI_UNICAST,
                next_hop: MpNextHop::V6 {
                    global: "2001:db8::1".parse().unwrap(),
                    link_local: Some("fe80::1".parse().unwrap()),
                },
                nlri: vec![p("2001:db8::/32"), p("2001:db8:1::/48")],
            }),
            ..Default::default()
        },
        nlri: vec![],
    }
}

#[test]
fn update_ipv6_mp_reach() {
    let bytes = hex(&format!(
        "{MARKER}
         0058 02 0000 0041        # length 88, UPDATE, no withdrawn, attributes 65
         80 0e 31                 # MP_REACH_NLRI (optional), 49 octets, first (RFC 7606 §5.1)
            0002 01               #   AFI IPv6, SAFI unicast
            20                    #   next hop length 32: global + link-local
            20010db8000000000000000000000001  # 2001:db8::1
            fe800000000000000000000000000001  # fe80::1
            00                    #   reserved
            20 20010db8           #   2001:db8::/32
            30 20010db80001       #   2001:db8:1::/48
         40 01 01 00              # ORIGIN IGP
         40 02 06 02 01 0000fc00  # AS_PATH: SEQUENCE 64512"
    ));
    both_ways(&bytes, &Message::Update(v6_update()), &FOUR);
}

#[test]
fn update_withdrawals_and_mp_unreach() {
    let bytes = hex(&format!(
        "{MARKER}
         0028 02                  # length 40, UPDATE
         0004 18 c00002           # withdrawn routes: 192.0.2.0/24
         000d                     # attributes 13
         80 0f 0a 0002 01         # MP_UNREACH_NLRI: IPv6 unicast
            30 20010db80001       #   2001:db8:1::/48"
    ));
    let update = Update {
        withdrawn: vec![p("192.0.2.0/24")],
        attrs: PathAttributes {
            mp_unreach: Some(MpUnreach {
                afi: AFI_IPV6,
                safi: SAFI_UNICAST,
                withdrawn: vec![p("2001:db8:1::/48")],
            }),
            ..Default::default()
        },
        nlri: vec![],
    };
    both_ways(&bytes, &Message::Update(update.clone()), &FOUR);
    assert_eq!(update.withdrawals().count(), 2);
    assert_eq!(update.end_of_rib(), None);
    // End-of-RIB markers (RFC 4724 §2).
    assert_eq!(
        Update::default().end_of_rib(),
        Some((AFI_IPV4, SAFI_UNICAST))
    );
    let eor = hex(&format!("{MARKER} 001d 02 0000 0006 80 0f 03 0002 01"));
    let Some((Message::Update(u), _)) = decode(&eor, &FOUR).unwrap() else {
        panic!()
    };
    assert_eq!(u.end_of_rib(), Some((AFI_IPV6, SAFI_UNICAST)));
}

#[test]
fn update_two_octet_session_uses_as4_path() {
    let bytes = hex(&format!(
        "{MARKER}
         003c 02 0000 0021        # length 60, UPDATE, attributes 33
         40 01 01 00              # ORIGIN IGP
         40 02 06 02 02 fc00 5ba0 # AS_PATH (2-octet): 64512 AS_TRANS
         40 03 04 c0000201        # NEXT_HOP 192.0.2.1
         c0 11 0a 02 02 0000fc00 fa56ea01  # AS4_PATH: 64512 4200000001
         18 cb0071                # NLRI 203.0.113.0/24"
    ));
    let update = Update {
        withdrawn: vec![],
        attrs: PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence([Asn(64512), Asn(4_200_000_001)])),
            next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
            ..Default::default()
        },
        nlri: vec![p("203.0.113.0/24")],
    };
    both_ways(&bytes, &Message::Update(update), &TWO);
}

#[test]
fn as4_path_merge_rfc6793() {
    // AS_PATH 64999 64512 AS_TRANS, AS4_PATH 64512 4200000001 → 64999 64512 4200000001.
    let bytes = hex(&format!(
        "{MARKER} 003e 02 0000 0023
         40 01 01 02                   # ORIGIN INCOMPLETE
         40 02 08 02 03 fde7 fc00 5ba0 # AS_PATH 64999 64512 23456
         40 03 04 c0000201
         c0 11 0a 02 02 0000fc00 fa56ea01
         18 cb0071"
    ));
    let Some((Message::Update(u), _)) = decode(&bytes, &TWO).unwrap() else {
        panic!()
    };
    let path = u.attrs.as_path.unwrap();
    assert_eq!(
        path.asns().map(|a| a.0).collect::<Vec<_>>(),
        vec![64999, 64512, 4_200_000_001]
    );
    assert_eq!(path.origin(), Some(Asn(4_200_000_001)));
    assert_eq!(u.attrs.origin, Some(Origin::Incomplete));
    // AS4_PATH longer than AS_PATH: ignored, reported as attribute discard.
    let bytes = hex(&format!(
        "{MARKER} 003a 02 0000 001f
         40 01 01 00 40 02 04 02 01 5ba0 40 03 04 c0000201
         c0 11 0a 02 02 0000fc00 fa56ea01
         18 cb0071"
    ));
    let err = decode(&bytes, &TWO).unwrap_err();
    let ErrorAction::AttributeDiscard(u) = err.action else {
        panic!("{err:?}")
    };
    assert_eq!(u.attrs.as_path, Some(AsPath::from_sequence([Asn(23456)])));
    // On a 4-octet session AS4_PATH is not merged but kept raw.
    let bytes = hex(&format!(
        "{MARKER} 0038 02 0000 001d
         40 01 01 00 40 02 06 02 01 0000fc00 40 03 04 c0000201
         c0 11 06 02 01 fa56ea01
         18 cb0071"
    ));
    let Some((Message::Update(u), _)) = decode(&bytes, &FOUR).unwrap() else {
        panic!()
    };
    assert_eq!(u.attrs.as_path, Some(AsPath::from_sequence([Asn(64512)])));
    assert_eq!(u.attrs.unknown.len(), 1);
    assert_eq!(u.attrs.unknown[0].code, attr_code::AS4_PATH);
}

#[test]
fn update_local_pref_aggregator_atomic_unknown() {
    let bytes = hex(&format!(
        "{MARKER}
         0043 02 0000 0028         # length 67, attributes 40
         40 01 01 01               # ORIGIN EGP
         40 02 00                  # AS_PATH empty (iBGP)
         40 03 04 c0000201         # NEXT_HOP
         40 05 04 00000064         # LOCAL_PREF 100
         40 06 00                  # ATOMIC_AGGREGATE
         c0 07 08 0000fc00 c0000201  # AGGREGATOR 64512 192.0.2.1 (4-octet)
         e0 f0 02 abcd             # unknown optional transitive partial attribute 240
         18 c63364"
    ));
    let update = Update {
        withdrawn: vec![],
        attrs: PathAttributes {
            origin: Some(Origin::Egp),
            as_path: Some(AsPath::empty()),
            next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
            local_pref: Some(100),
            atomic_aggregate: true,
            aggregator: Some(Aggregator {
                asn: Asn(64512),
                address: Ipv4Addr::new(192, 0, 2, 1),
            }),
            unknown: vec![RawAttribute {
                flags: 0xe0,
                code: 240,
                value: vec![0xab, 0xcd],
            }],
            ..Default::default()
        },
        nlri: vec![p("198.51.100.0/24")],
    };
    both_ways(&bytes, &Message::Update(update.clone()), &FOUR);
    // On a 2-octet session a 4-octet aggregator becomes AS_TRANS + AS4_AGGREGATOR.
    let mut u = update;
    u.attrs.aggregator = Some(Aggregator {
        asn: Asn(4_200_000_001),
        address: Ipv4Addr::new(192, 0, 2, 1),
    });
    u.attrs.unknown.clear();
    let mut out = Vec::new();
    encode(&Message::Update(u.clone()), &TWO, &mut out).unwrap();
    assert!(
        hexdump(&out).contains("c0 07 06 5b a0 c0 00 02 01"),
        "{}",
        hexdump(&out)
    );
    assert!(
        hexdump(&out).contains("c0 12 08 fa 56 ea 01 c0 00 02 01"),
        "{}",
        hexdump(&out)
    );
    assert_eq!(
        decode(&out, &TWO).unwrap(),
        Some((Message::Update(u), out.len()))
    );
}

#[test]
fn unknown_attribute_extended_length_and_propagation() {
    let bytes = hex(&format!(
        "{MARKER} 0021 02 0000 000a
         40 01 01 00
         d0 f1 0002 abcd   # optional transitive, extended length for a 2-octet value"
    ));
    let Some((Message::Update(u), _)) = decode(&bytes, &FOUR).unwrap() else {
        panic!()
    };
    let raw = &u.attrs.unknown[0];
    assert_eq!(
        (raw.flags, raw.code, raw.value.as_slice()),
        (0xc0, 0xf1, &[0xab, 0xcd][..])
    );
    assert_eq!(raw.for_propagation().map(|r| r.flags), Some(0xe0));
    let non_transitive = RawAttribute {
        flags: 0x80,
        code: 0xf2,
        value: vec![],
    };
    assert_eq!(non_transitive.for_propagation(), None);
    // Re-encoded with the short length form.
    let mut out = Vec::new();
    encode(&Message::Update(u), &FOUR, &mut out).unwrap();
    assert!(
        hexdump(&out).ends_with("40 01 01 00 c0 f1 02 ab cd"),
        "{}",
        hexdump(&out)
    );
}

#[test]
fn notification_shutdown_communication() {
    let bytes = hex(&format!(
        "{MARKER} 0021 03
         06 02                      # Cease / Administrative Shutdown
         0b 6d61696e74656e616e6365  # length 11, \"maintenance\" (RFC 9003)"
    ));
    let n = Notification::administrative_shutdown("maintenance");
    assert_eq!(n.shutdown_communication(), Some("maintenance"));
    assert_eq!(n.error_code(), ErrorCode::Cease);
    assert_eq!(
        n.to_string(),
        "cease: administrative shutdown (6/2): \"maintenance\""
    );
    both_ways(&bytes, &Message::Notification(n), &FOUR);
    // Cut to 255 octets at a character boundary.
    let long = "é".repeat(200);
    let n = Notification::administrative_reset(&long);
    assert_eq!(n.data[0], 254);
    assert_eq!(n.shutdown_communication().map(str::len), Some(254));
    // Invalid UTF-8 or a length past the data is no communication.
    let bad = Notification {
        code: 6,
        subcode: 2,
        data: vec![3, 0xff, 0xfe, 0xfd],
    };
    assert_eq!(bad.shutdown_communication(), None);
    let bad = Notification {
        code: 6,
        subcode: 4,
        data: vec![9, b'a'],
    };
    assert_eq!(bad.shutdown_communication(), None);
    let plain = hex(&format!("{MARKER} 0015 03 04 00 # hold timer expired"));
    both_ways(
        &plain,
        &Message::Notification(Notification::hold_timer_expired()),
        &FOUR,
    );
}

#[test]
fn route_refresh() {
    let bytes = hex(&format!(
        "{MARKER} 0017 05
         0002      # AFI IPv6
         01        # subtype 1: Beginning of Route Refresh (RFC 7313)
         01        # SAFI unicast"
    ));
    let rr = RouteRefresh {
        afi: AFI_IPV6,
        safi: SAFI_UNICAST,
        subtype: RouteRefreshSubtype::BeginningOfRefresh,
    };
    both_ways(&bytes, &Message::RouteRefresh(rr), &FOUR);
    let plain = hex(&format!("{MARKER} 0017 05 0001 00 01"));
    both_ways(
        &plain,
        &Message::RouteRefresh(RouteRefresh::request(AFI_IPV4, SAFI_UNICAST)),
        &FOUR,
    );
    // RFC 7313 §5: a wrong length is 7/1 with the whole message as data.
    let bad = hex(&format!("{MARKER} 0018 05 0001 00 01 00"));
    let n = decode(&bad, &FOUR).unwrap_err().notification().unwrap();
    assert_eq!((n.code, n.subcode, n.data), (7, 1, bad));
}

#[test]
fn ipv6_next_hop_never_unspecified() {
    let mut u = v6_update();
    if let Some(m) = u.attrs.mp_reach.as_mut() {
        m.next_hop = MpNextHop::V6 {
            global: Ipv6Addr::UNSPECIFIED,
            link_local: None,
        };
    }
    let mut out = vec![1, 2, 3];
    assert_eq!(
        encode(&Message::Update(u), &FOUR, &mut out),
        Err(EncodeError::UnspecifiedNextHop)
    );
    assert_eq!(out, [1, 2, 3], "nothing appended on error");
}

#[test]
fn encode_refuses_wrong_families_and_missing_attributes() {
    let mut u = v6_update();
    u.nlri = vec![p("2001:db8::/48")];
    u.attrs.next_hop = Some(Ipv4Addr::new(192, 0, 2, 1));
    assert!(matches!(
        encode(&Message::Update(u), &FOUR, &mut Vec::new()),
        Err(EncodeError::WrongFamily { .. })
    ));
    let u = Update {
        nlri: vec![p("192.0.2.0/24")],
        ..Default::default()
    };
    assert_eq!(
        encode(&Message::Update(u), &FOUR, &mut Vec::new()),
        Err(EncodeError::MissingMandatory("ORIGIN"))
    );
}

#[test]
fn partial_input_needs_more() {
    let bytes = hex(&format!("{MARKER} 0017 05 0002 01 01 {MARKER} 0013"));
    assert_eq!(decode(&bytes[..10], &FOUR), Ok(None));
    assert_eq!(decode(&bytes[..22], &FOUR), Ok(None));
    let (m, used) = decode(&bytes, &FOUR).unwrap().unwrap();
    assert_eq!(used, 23);
    assert!(matches!(m, Message::RouteRefresh(_)));
    assert_eq!(decode(&bytes[used..], &FOUR), Ok(None));
}

/// Found by the fuzzer: unknown attributes out of code order must come back in the order
/// they are re-sent in, so that decode → encode → decode is stable.
#[test]
fn unknown_attributes_are_kept_in_code_order() {
    let bytes = hex(&format!(
        "{MARKER} 0023 02 0000 000c
         80 44 02 0001      # unknown optional attribute 68
         80 0e 04 0019 46 00 # MP_REACH_NLRI of another family (EVPN), kept raw"
    ));
    let Some((Message::Update(u), _)) = decode(&bytes, &FOUR).unwrap() else {
        panic!()
    };
    let codes: Vec<u8> = u.attrs.unknown.iter().map(|a| a.code).collect();
    assert_eq!(codes, [14, 68]);
    let mut out = Vec::new();
    encode(&Message::Update(u.clone()), &FOUR, &mut out).unwrap();
    assert_eq!(
        decode(&out, &FOUR).unwrap(),
        Some((Message::Update(u), out.len()))
    );
}

#[test]
fn negotiated_context_and_helpers() {
    let ours = our_open();
    let mut theirs = our_open();
    assert_eq!(Codec::negotiated(&ours, &theirs), FOUR);
    theirs
        .capabilities
        .retain(|c| !matches!(c, Capability::FourOctetAs(_)));
    theirs.my_as = Asn(64512);
    assert_eq!(Codec::negotiated(&ours, &theirs), TWO);
    assert_eq!(ours.four_octet_as(), Some(Asn(4_200_000_001)));
    assert_eq!(ours.role(), Some(Role::Customer));
    assert_eq!(Role::Customer.expected_peer_role(), Some(Role::Provider));
    assert!(ours.has(&Capability::EnhancedRouteRefresh));
    assert_eq!(ours.multiprotocol().count(), 2);

    let mut path = AsPath::from_sequence([Asn(64513)]);
    path.prepend(Asn(64512), 3);
    assert_eq!(path.route_len(), 4);
    assert_eq!(
        (path.first(), path.origin()),
        (Some(Asn(64512)), Some(Asn(64513)))
    );
    path.segments.push(AsSegment {
        kind: SegmentKind::Set,
        asns: vec![Asn(1), Asn(2)],
    });
    assert_eq!(path.route_len(), 5);
    assert_eq!(path.origin(), None);
    let mut empty = AsPath::empty();
    empty.prepend(Asn(64512), 0);
    assert!(empty.is_empty());
    empty.prepend(Asn(64512), 2);
    assert_eq!(empty.route_len(), 2);
}
