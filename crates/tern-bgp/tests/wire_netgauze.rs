//! Differential tests against NetGauze (`netgauze-bgp-pkt`), an independent implementation:
//! encode with ours and decode with theirs, and the other way round, then compare.
#![allow(clippy::unwrap_used)]

mod wire_common;

use netgauze_bgp_pkt::BgpMessage;
use netgauze_bgp_pkt::capabilities::BgpCapability;
use netgauze_bgp_pkt::notification::{BgpNotificationMessage, CeaseError};
use tern_bgp::wire::*;
use wire_common::generate::{self, Limits};
use wire_common::oracle::{self, ng_parse, ng_write};
use wire_common::*;

const LIMITS: Limits = Limits {
    two_octet: false,
    confed: false,
    unicast_only: true,
};

#[test]
fn our_updates_decode_the_same_in_netgauze() {
    let mut r = Rng(0xd1ff_0001);
    for i in 0..2000 {
        let u = generate::update(&mut r, &LIMITS);
        let mut bytes = Vec::new();
        encode(&Message::Update(u.clone()), &FOUR, &mut bytes).unwrap();
        let theirs = ng_parse(&bytes, true)
            .unwrap_or_else(|e| panic!("#{i}: NetGauze refused {}: {e}", hexdump(&bytes)));
        let BgpMessage::Update(theirs) = theirs else {
            panic!("not an UPDATE")
        };
        assert_eq!(oracle::theirs(&theirs), oracle::ours(&u), "#{i}");
    }
}

#[test]
fn netgauze_updates_decode_the_same_in_ours() {
    let mut r = Rng(0xd1ff_0002);
    for i in 0..2000 {
        let u = generate::update(&mut r, &LIMITS);
        let bytes = ng_write(&oracle::to_netgauze(&u));
        let got =
            decode(&bytes, &FOUR).unwrap_or_else(|e| panic!("#{i}: {e} in {}", hexdump(&bytes)));
        assert_eq!(got, Some((Message::Update(u), bytes.len())), "#{i}");
    }
}

#[test]
fn open_both_ways() {
    let mut r = Rng(0xd1ff_0003);
    for _ in 0..300 {
        let open = generate::open(&mut r);
        let mut bytes = Vec::new();
        encode(&Message::Open(open.clone()), &FOUR, &mut bytes).unwrap();
        let BgpMessage::Open(theirs) = ng_parse(&bytes, true).unwrap() else {
            panic!()
        };
        assert_eq!(theirs.my_asn4(), open.my_as.0);
        assert_eq!(theirs.hold_time(), open.hold_time);
        assert_eq!(theirs.bgp_id(), open.bgp_id);
        let caps = theirs.capabilities();
        assert_eq!(caps.len(), open.capabilities.len());
        for (t, o) in caps.iter().zip(&open.capabilities) {
            let same = match (t, o) {
                (
                    BgpCapability::MultiProtocolExtensions(m),
                    Capability::Multiprotocol { afi, safi },
                ) => {
                    let at = m.address_type();
                    (
                        at.address_family() as u16,
                        at.subsequent_address_family() as u8,
                    ) == (*afi, *safi)
                }
                (BgpCapability::RouteRefresh, Capability::RouteRefresh)
                | (BgpCapability::EnhancedRouteRefresh, Capability::EnhancedRouteRefresh)
                | (BgpCapability::ExtendedMessage, Capability::ExtendedMessage) => true,
                (BgpCapability::FourOctetAs(a), Capability::FourOctetAs(b)) => a.asn4() == b.0,
                (BgpCapability::BgpRole(a), Capability::Role(b)) => a.role() as u8 == b.code(),
                _ => false,
            };
            assert!(same, "{t:?} vs {o:?}");
        }
        // And NetGauze's encoding of what it parsed decodes to ours.
        let back = ng_write(&BgpMessage::Open(theirs));
        assert_eq!(
            decode(&back, &FOUR).unwrap(),
            Some((Message::Open(open), back.len()))
        );
    }
}

#[test]
fn notification_keepalive_route_refresh() {
    let n = Notification::administrative_shutdown("tern: site ams going down for maintenance");
    let mut bytes = Vec::new();
    encode(&Message::Notification(n.clone()), &FOUR, &mut bytes).unwrap();
    let BgpMessage::Notification(BgpNotificationMessage::CeaseError(
        CeaseError::AdministrativeShutdown { value },
    )) = ng_parse(&bytes, true).unwrap()
    else {
        panic!("not an administrative shutdown")
    };
    assert_eq!(&*value, n.data.as_slice());
    let mut bytes = Vec::new();
    encode(&Message::Keepalive, &FOUR, &mut bytes).unwrap();
    assert_eq!(ng_parse(&bytes, true).unwrap(), BgpMessage::KeepAlive);
    assert_eq!(ng_write(&BgpMessage::KeepAlive), bytes);
    for subtype in [
        RouteRefreshSubtype::Normal,
        RouteRefreshSubtype::BeginningOfRefresh,
        RouteRefreshSubtype::EndOfRefresh,
    ] {
        let rr = RouteRefresh {
            afi: AFI_IPV6,
            safi: SAFI_UNICAST,
            subtype,
        };
        let mut bytes = Vec::new();
        encode(&Message::RouteRefresh(rr), &FOUR, &mut bytes).unwrap();
        let BgpMessage::RouteRefresh(theirs) = ng_parse(&bytes, true).unwrap() else {
            panic!()
        };
        assert_eq!(theirs.operation_type() as u8, subtype.code());
        assert_eq!(theirs.address_type().address_family() as u16, AFI_IPV6);
        assert_eq!(ng_write(&BgpMessage::RouteRefresh(theirs)), bytes);
    }
}
