//! Round-trip properties over generated messages: decode(encode(m)) == m, on 4-octet and
//! 2-octet sessions; and UPDATE packing within the maximum message length.
#![allow(clippy::unwrap_used)]

mod wire_common;

use std::net::Ipv4Addr;

use tern_bgp::wire::*;
use tern_types::{Asn, Community, Prefix};
use wire_common::generate::{self, Limits};
use wire_common::*;

fn round_trip(msg: &Message, ctx: &Codec) {
    let mut out = Vec::new();
    encode(msg, ctx, &mut out).unwrap_or_else(|e| panic!("encode {msg:?}: {e}"));
    let got = decode(&out, ctx).unwrap_or_else(|e| panic!("decode of {msg:?}: {e} {e:?}"));
    assert_eq!(
        got,
        Some((msg.clone(), out.len())),
        "bytes {}",
        hexdump(&out)
    );
    // Every strict prefix of the message asks for more bytes, never errs or panics.
    for cut in [0, 1, 18, 19, out.len() - 1] {
        assert_eq!(decode(&out[..cut.min(out.len() - 1)], ctx), Ok(None));
    }
}

#[test]
fn generated_updates_round_trip_four_octet() {
    let mut r = Rng(0x5eed_0001);
    let l = Limits {
        two_octet: false,
        confed: true,
        unicast_only: false,
    };
    for _ in 0..3000 {
        round_trip(&Message::Update(generate::update(&mut r, &l)), &FOUR);
    }
}

#[test]
fn generated_updates_round_trip_two_octet() {
    let mut r = Rng(0x5eed_0002);
    let l = Limits {
        two_octet: true,
        confed: false,
        unicast_only: false,
    };
    for _ in 0..3000 {
        round_trip(&Message::Update(generate::update(&mut r, &l)), &TWO);
    }
}

#[test]
fn generated_other_messages_round_trip() {
    let mut r = Rng(0x5eed_0003);
    for _ in 0..500 {
        round_trip(&Message::Open(generate::open(&mut r)), &TWO);
        let n = Notification {
            code: r.below(8) as u8,
            subcode: r.below(12) as u8,
            data: (0..r.below(40)).map(|_| r.next() as u8).collect(),
        };
        round_trip(&Message::Notification(n), &FOUR);
        let rr = RouteRefresh {
            afi: r.next() as u16,
            safi: r.next() as u8,
            subtype: RouteRefreshSubtype::from_code(r.below(4) as u8),
        };
        round_trip(&Message::RouteRefresh(rr), &FOUR);
    }
    round_trip(&Message::Keepalive, &FOUR);
}

#[test]
fn long_as_path_segments_are_split_at_255() {
    let mut u = Update {
        nlri: vec![p("192.0.2.0/24")],
        ..Default::default()
    };
    u.attrs.origin = Some(Origin::Igp);
    u.attrs.next_hop = Some(Ipv4Addr::new(192, 0, 2, 1));
    u.attrs.as_path = Some(AsPath::from_sequence((0..300).map(|i| Asn(64512 + i))));
    let mut out = Vec::new();
    encode(&Message::Update(u.clone()), &FOUR, &mut out).unwrap();
    let Some((Message::Update(back), _)) = decode(&out, &FOUR).unwrap() else {
        panic!()
    };
    let path = back.attrs.as_path.unwrap();
    assert_eq!(path.segments.len(), 2);
    assert_eq!(path.segments[0].asns.len(), 255);
    assert_eq!(
        path.asns().collect::<Vec<_>>(),
        u.attrs.as_path.unwrap().asns().collect::<Vec<_>>()
    );
}

fn announce_attrs() -> PathAttributes {
    let mut path = AsPath::from_sequence([Asn(64512)]);
    path.prepend(Asn(64512), 3);
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(path),
        next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
        communities: (0..20).map(|i| Community::new(64512, i)).collect(),
        mp_reach: Some(MpReach {
            afi: AFI_IPV6,
            safi: SAFI_UNICAST,
            next_hop: MpNextHop::V6 {
                global: "2001:db8::1".parse().unwrap(),
                link_local: None,
            },
            nlri: vec![],
        }),
        ..Default::default()
    }
}

fn many_prefixes() -> Vec<Prefix> {
    let (a, b) = (p("10.0.0.0/8"), p("2001:db8::/32"));
    let v4 = a.subnets(24).unwrap().take(5000);
    let v6 = b.subnets(48).unwrap().take(3000);
    v4.chain(v6).collect()
}

/// Encodes every UPDATE, checks each fits, and returns the prefixes they carry, in order.
fn carried(updates: &[Update], ctx: &Codec, announce: bool) -> Vec<Prefix> {
    let mut all = Vec::new();
    for u in updates {
        let mut out = Vec::new();
        encode(&Message::Update(u.clone()), ctx, &mut out).unwrap();
        assert!(out.len() <= ctx.max_message_len(), "{} bytes", out.len());
        let Some((Message::Update(back), _)) = decode(&out, ctx).unwrap() else {
            panic!()
        };
        if announce {
            all.extend(back.announced().copied());
            assert_eq!(back.withdrawals().count(), 0);
        } else {
            all.extend(back.withdrawals().copied());
            assert_eq!(back.announced().count(), 0);
        }
    }
    all
}

#[test]
fn announce_packing_fits_and_keeps_everything() {
    let prefixes = many_prefixes();
    for ctx in [
        FOUR,
        TWO,
        Codec {
            four_octet_as: true,
            extended_messages: true,
        },
    ] {
        let updates = updates_for_announce(&announce_attrs(), &prefixes, &ctx).unwrap();
        assert_eq!(carried(&updates, &ctx, true), prefixes);
        // Reasonably full: a 4096-byte UPDATE holds ~1000 IPv4 /24s.
        if !ctx.extended_messages {
            assert!(updates.len() <= 5 + 17, "{} UPDATEs", updates.len());
        }
    }
}

#[test]
fn withdraw_packing_fits_and_keeps_everything() {
    let prefixes = many_prefixes();
    let updates = updates_for_withdraw(&prefixes, &FOUR).unwrap();
    assert_eq!(carried(&updates, &FOUR, false), prefixes);
    assert!(updates_for_withdraw(&[], &FOUR).unwrap().is_empty());
}

#[test]
fn packing_refuses_what_cannot_fit() {
    let mut attrs = announce_attrs();
    attrs.communities = (0..1100).map(|i| Community::new(64512, i)).collect();
    let err = updates_for_announce(&attrs, &[p("192.0.2.0/24")], &FOUR).unwrap_err();
    assert!(matches!(err, EncodeError::TooLong { .. }), "{err}");
    attrs.mp_reach = None;
    attrs.communities.clear();
    let err = updates_for_announce(&attrs, &[p("2001:db8::/48")], &FOUR).unwrap_err();
    assert!(matches!(err, EncodeError::MissingMandatory(_)), "{err}");
}
