//! Error classification (RFC 4271 §6, RFC 7606): which NOTIFICATION, or treat-as-withdraw, or
//! attribute discard, for annotated malformed messages.
#![allow(clippy::unwrap_used)]

mod wire_common;

use tern_bgp::wire::*;
use tern_types::Prefix;
use wire_common::*;

const MARKER: &str = "ffffffff ffffffff ffffffff ffffffff";

/// The NOTIFICATION (code, subcode, data) a message draws.
fn notification(bytes: &[u8]) -> (u8, u8, Vec<u8>) {
    let e = decode(bytes, &FOUR).unwrap_err();
    let n = e
        .notification()
        .unwrap_or_else(|| panic!("not session-fatal: {e} {e:?}"));
    (n.code, n.subcode, n.data)
}

/// The prefixes of a treat-as-withdraw outcome.
fn withdrawn(bytes: &[u8]) -> Vec<Prefix> {
    let e = decode(bytes, &FOUR).unwrap_err();
    assert_eq!(e.consumed, bytes.len(), "the caller can skip the message");
    match e.action {
        ErrorAction::TreatAsWithdraw { withdrawn } => withdrawn,
        other => panic!("expected treat-as-withdraw for {}, got {other:?}", e.kind),
    }
}

/// An UPDATE with `attrs` (hex) and NLRI 198.51.100.0/24.
fn update_with(attrs: &str) -> Vec<u8> {
    let a = hex(attrs);
    let nlri = hex("18 c63364");
    let mut m = hex(MARKER);
    m.extend_from_slice(&((19 + 4 + a.len() + nlri.len()) as u16).to_be_bytes());
    m.push(2);
    m.extend_from_slice(&[0, 0]);
    m.extend_from_slice(&(a.len() as u16).to_be_bytes());
    m.extend(a);
    m.extend(nlri);
    m
}

const ORIGIN: &str = "40 01 01 00";
const AS_PATH: &str = "40 02 06 02 01 0000fc00";
const NEXT_HOP: &str = "40 03 04 c0000201";

#[test]
fn header_errors() {
    // 1/1: marker not all ones, detected as soon as the first 16 octets are in.
    let mut bad = hex(&format!("{MARKER} 0013 04"));
    bad[3] = 0;
    assert_eq!(notification(&bad), (1, 1, vec![]));
    assert!(decode(&bad[..5], &FOUR).unwrap_err().is_session_fatal());
    // 1/2: length below the minimum, above 4096, or a KEEPALIVE that is not 19 octets.
    assert_eq!(
        notification(&hex(&format!("{MARKER} 0012 04"))),
        (1, 2, vec![0, 0x12])
    );
    assert_eq!(
        notification(&hex(&format!("{MARKER} 1001 02"))),
        (1, 2, vec![0x10, 0x01])
    );
    assert_eq!(
        notification(&hex(&format!("{MARKER} 0014 04 00"))),
        (1, 2, vec![0, 0x14])
    );
    assert_eq!(
        notification(&hex(&format!("{MARKER} 0016 02 000000"))),
        (1, 2, vec![0, 0x16])
    );
    // With extended messages (RFC 8654) a 4097-octet UPDATE is fine to wait for.
    let ext = Codec {
        four_octet_as: true,
        extended_messages: true,
    };
    assert_eq!(decode(&hex(&format!("{MARKER} 1001 02")), &ext), Ok(None));
    // ... but not an OPEN.
    assert!(decode(&hex(&format!("{MARKER} 1001 01")), &ext).is_err());
    // 1/3: unknown type, data is the type.
    assert_eq!(
        notification(&hex(&format!("{MARKER} 0013 09"))),
        (1, 3, vec![9])
    );
}

#[test]
fn update_length_fields_are_session_fatal() {
    // Withdrawn routes length runs past the message: 3/1.
    let m = hex(&format!("{MARKER} 0017 02 0005 0000"));
    assert_eq!(notification(&m).0, 3);
    assert_eq!(notification(&m).1, 1);
    // Total path attribute length too large: 3/1.
    let m = hex(&format!("{MARKER} 001a 02 0000 0009 40 01 01"));
    assert_eq!(notification(&m).1, 1);
    // NLRI with a /33: 3/10 invalid network field (RFC 7606 §5.3: session reset).
    let m = hex(&format!("{MARKER} 001c 02 0000 0000 21 c0000201 00"));
    assert_eq!(notification(&m).1, 10);
}

#[test]
fn treat_as_withdraw_cases() {
    let nlri = vec![p("198.51.100.0/24")];
    // Malformed COMMUNITIES (RFC 7606 §7.8): length not a multiple of 4, or zero.
    assert_eq!(
        withdrawn(&update_with(&format!(
            "{ORIGIN} {AS_PATH} {NEXT_HOP} c0 08 03 000001"
        ))),
        nlri
    );
    assert_eq!(
        withdrawn(&update_with(&format!(
            "{ORIGIN} {AS_PATH} {NEXT_HOP} c0 08 00"
        ))),
        nlri
    );
    // Undefined ORIGIN value, wrong ORIGIN length (§7.1).
    assert_eq!(
        withdrawn(&update_with(&format!("40 01 01 07 {AS_PATH} {NEXT_HOP}"))),
        nlri
    );
    assert_eq!(
        withdrawn(&update_with(&format!("40 01 02 0000 {AS_PATH} {NEXT_HOP}"))),
        nlri
    );
    // Malformed AS_PATH: unknown segment type, empty segment, overrun (§7.2).
    for bad in [
        "40 02 06 07 01 0000fc00",
        "40 02 02 02 00",
        "40 02 06 02 02 0000fc00",
    ] {
        assert_eq!(
            withdrawn(&update_with(&format!("{ORIGIN} {bad} {NEXT_HOP}"))),
            nlri,
            "{bad}"
        );
    }
    // NEXT_HOP, MED, LOCAL_PREF, OTC of the wrong length (§7.3-7.5, RFC 9234 §5).
    for bad in [
        "40 03 03 c00002",
        "80 04 02 0001",
        "40 05 05 0000000001",
        "c0 23 02 fc00",
    ] {
        let attrs = format!("{ORIGIN} {AS_PATH} 40 03 04 c0000201 {bad}");
        let attrs = attrs.replacen("40 03 04 c0000201 40 03", "40 03", 1);
        assert_eq!(withdrawn(&update_with(&attrs)), nlri, "{bad}");
    }
    // LARGE_COMMUNITY not a multiple of 12 (RFC 8092 §6).
    assert_eq!(
        withdrawn(&update_with(&format!(
            "{ORIGIN} {AS_PATH} {NEXT_HOP} c0 20 08 0000000100000002"
        ))),
        nlri
    );
    // Flags in conflict with the type (§3 c): ORIGIN marked optional.
    assert_eq!(
        withdrawn(&update_with(&format!("c0 01 01 00 {AS_PATH} {NEXT_HOP}"))),
        nlri
    );
    // Missing well-known attributes (§3 d).
    assert_eq!(
        withdrawn(&update_with(&format!("{AS_PATH} {NEXT_HOP}"))),
        nlri
    );
    assert_eq!(
        withdrawn(&update_with(&format!("{ORIGIN} {NEXT_HOP}"))),
        nlri
    );
    assert_eq!(
        withdrawn(&update_with(&format!("{ORIGIN} {AS_PATH}"))),
        nlri
    );
    // An attribute overrunning the attribute field, and a truncated attribute header (§4).
    assert_eq!(
        withdrawn(&update_with(&format!(
            "{ORIGIN} {AS_PATH} {NEXT_HOP} c0 08 08 0001"
        ))),
        nlri
    );
    assert_eq!(
        withdrawn(&update_with(&format!("{ORIGIN} {AS_PATH} {NEXT_HOP} c0"))),
        nlri
    );
    let e = decode(
        &update_with(&format!("40 01 01 07 {AS_PATH} {NEXT_HOP}")),
        &FOUR,
    )
    .unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::InvalidOrigin(7));
    assert!(e.notification().is_none());
}

#[test]
fn treat_as_withdraw_includes_mp_prefixes() {
    let attrs = format!(
        "80 0e 1c 0002 01 10 20010db8000000000000000000000001 00 30 20010db80001
         {ORIGIN} {AS_PATH} {NEXT_HOP} c0 08 01 00"
    );
    let got = withdrawn(&update_with(&attrs));
    assert_eq!(got, vec![p("198.51.100.0/24"), p("2001:db8:1::/48")]);
}

#[test]
fn attribute_discard_cases() {
    let check = |attrs: &str| {
        let e = decode(&update_with(attrs), &FOUR).unwrap_err();
        match e.action {
            ErrorAction::AttributeDiscard(u) => *u,
            other => panic!("expected attribute discard for {attrs}: {other:?}"),
        }
    };
    // ATOMIC_AGGREGATE with a value (RFC 7606 §7.6).
    let u = check(&format!("{ORIGIN} {AS_PATH} {NEXT_HOP} 40 06 01 00"));
    assert!(!u.attrs.atomic_aggregate);
    assert_eq!(u.nlri, vec![p("198.51.100.0/24")]);
    // AGGREGATOR of the wrong length (§7.7).
    let u = check(&format!(
        "{ORIGIN} {AS_PATH} {NEXT_HOP} c0 07 06 fc00 c0000201"
    ));
    assert_eq!(u.attrs.aggregator, None);
    // A repeated attribute: the first is kept (§3 g).
    let u = check(&format!(
        "{ORIGIN} {AS_PATH} {NEXT_HOP} 80 04 04 00000001 80 04 04 00000002"
    ));
    assert_eq!(u.attrs.med, Some(1));
}

#[test]
fn session_fatal_update_cases() {
    let fatal = |attrs: &str| notification(&update_with(attrs));
    // A repeated MP_REACH_NLRI: 3/1 (RFC 7606 §3 g).
    let mp = "80 0e 15 0002 01 10 20010db8000000000000000000000001 00";
    assert_eq!(
        fatal(&format!("{mp} {mp} {ORIGIN} {AS_PATH} {NEXT_HOP}")).1,
        1
    );
    // MP_REACH_NLRI next hop length 5 for IPv6: 3/9 (RFC 7606 §7.11).
    assert_eq!(
        fatal(&format!(
            "80 0e 0a 0002 01 05 2001db8000 00 {ORIGIN} {AS_PATH} {NEXT_HOP}"
        ))
        .1,
        9
    );
    // Bad NLRI inside MP_UNREACH_NLRI: 3/9.
    assert_eq!(
        fatal(&format!(
            "80 0f 04 0002 01 81 {ORIGIN} {AS_PATH} {NEXT_HOP}"
        ))
        .1,
        9
    );
    // Unrecognized well-known attribute: 3/2 with the attribute as data.
    assert_eq!(
        fatal(&format!("{ORIGIN} {AS_PATH} {NEXT_HOP} 40 63 01 aa")),
        (3, 2, vec![0x40, 0x63, 0x01, 0xaa])
    );
}

#[test]
fn other_families_are_kept_raw() {
    // MP_REACH_NLRI for L2VPN EVPN (AFI 25, SAFI 70): not parsed, kept as a raw attribute.
    let attrs = format!("80 0e 09 0019 46 04 c0000201 00 {ORIGIN} {AS_PATH}");
    let mut m = update_with(&attrs);
    // No IPv4 NLRI: drop the last four octets and fix the length.
    m.truncate(m.len() - 4);
    let len = (m.len() as u16).to_be_bytes();
    m[16..18].copy_from_slice(&len);
    let Some((Message::Update(u), _)) = decode(&m, &FOUR).unwrap() else {
        panic!()
    };
    assert_eq!(u.attrs.mp_reach, None);
    assert_eq!(u.attrs.unknown.len(), 1);
    assert_eq!(u.attrs.unknown[0].code, attr_code::MP_REACH_NLRI);
}
