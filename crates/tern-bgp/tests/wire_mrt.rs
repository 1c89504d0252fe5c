//! Real data: every BGP message of a RIPE RIS MRT update dump (5 minutes, 2016-08-11,
//! 17,384 BGP4MP MESSAGE_AS4 records) through our decoder, re-encoded, and compared with NetGauze
//! (a full-data test, skipped without ../shared/data); its first 600 records (testdata/mrt)
//! mutated at random.
#![allow(clippy::unwrap_used)]

mod wire_common;

use std::collections::BTreeMap;

use netgauze_bgp_pkt::BgpMessage;
use tern_bgp::wire::*;
use wire_common::oracle::{self, ng_parse};
use wire_common::*;

#[test]
fn ris_updates_decode_reencode_and_match_netgauze() {
    let Some(dump) = full_data("mrt/updates.20160811.1600.gz") else {
        return;
    };
    let (records, skipped) = read_mrt_messages(&dump);
    assert_eq!(records.len(), 17_384, "BGP4MP MESSAGE_AS4 records");
    assert_eq!(skipped, 22, "STATE_CHANGE_AS4 records");

    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    let mut non_fatal: BTreeMap<String, usize> = BTreeMap::new();
    let (mut identical, mut reordered, mut prefixes) = (0, 0, 0);
    let (mut agree, mut ng_refused) = (0, BTreeMap::<String, usize>::new());
    for (i, rec) in records.iter().enumerate() {
        assert!(rec.as4);
        let ctx = FOUR;
        let update = match decode(&rec.message, &ctx) {
            Ok(Some((msg, used))) => {
                assert_eq!(used, rec.message.len(), "record {i}: consumed");
                *by_type.entry(type_name(&msg)).or_default() += 1;
                // Re-encode: identical bytes when the sender used our canonical layout, and
                // in every case the same message again.
                let mut out = Vec::new();
                encode(&msg, &ctx, &mut out)
                    .unwrap_or_else(|e| panic!("record {i}: re-encode: {e}"));
                if out == rec.message {
                    identical += 1;
                } else {
                    reordered += 1;
                    // The only differences allowed: attribute order and length-field width.
                    assert_eq!(
                        hexdump(&canonical_layout(&rec.message)),
                        hexdump(&out),
                        "record {i}: re-encoding differs beyond layout"
                    );
                    assert_eq!(
                        decode(&out, &ctx).unwrap(),
                        Some((msg.clone(), out.len())),
                        "record {i}"
                    );
                }
                match msg {
                    Message::Update(u) => u,
                    _ => continue,
                }
            }
            Ok(None) => panic!("record {i}: incomplete message {}", hexdump(&rec.message)),
            Err(e) => {
                assert!(
                    !e.is_session_fatal(),
                    "record {i}: session-fatal {e} in {}",
                    hexdump(&rec.message)
                );
                *non_fatal.entry(e.kind.to_string()).or_default() += 1;
                continue;
            }
        };
        prefixes += update.announced().count() + update.withdrawals().count();
        match ng_parse(&rec.message, true) {
            Ok(BgpMessage::Update(theirs)) => {
                let (mut t, mut o) = (oracle::theirs(&theirs), oracle::ours(&update));
                // Families NetGauze models and we keep raw (none expected in this dump).
                if update
                    .attrs
                    .unknown
                    .iter()
                    .any(|a| a.code == attr_code::MP_REACH_NLRI)
                {
                    t.mp_reach = None;
                    o.mp_reach = None;
                }
                assert_eq!(
                    t,
                    o,
                    "record {i}: NetGauze disagrees on {}",
                    hexdump(&rec.message)
                );
                agree += 1;
            }
            Ok(other) => panic!("record {i}: NetGauze saw {other:?}"),
            Err(e) => {
                let key: String = e.chars().take(60).collect();
                *ng_refused.entry(key).or_default() += 1;
            }
        }
    }
    eprintln!("message types: {by_type:?}");
    eprintln!("prefixes announced or withdrawn: {prefixes}");
    eprintln!(
        "re-encoded byte-identical: {identical}, same message in another layout: {reordered}"
    );
    eprintln!("RFC 7606 non-fatal outcomes: {non_fatal:?}");
    eprintln!("NetGauze agrees on {agree} UPDATEs; refused: {ng_refused:?}");
    let decoded: usize = by_type.values().sum();
    assert_eq!(decoded + non_fatal.values().sum::<usize>(), records.len());
    assert!(by_type.get("UPDATE").copied().unwrap_or(0) > 17_000);
    // Most real UPDATEs follow the canonical attribute order, so re-encoding reproduces them.
    // Every re-encoding is the original or the original in our attribute layout.
    assert_eq!(identical + reordered, decoded);
    assert!(
        agree * 100 > decoded * 99,
        "NetGauze agreed on only {agree} of {decoded}"
    );
}

fn type_name(m: &Message) -> &'static str {
    match m {
        Message::Open(_) => "OPEN",
        Message::Update(_) => "UPDATE",
        Message::Notification(_) => "NOTIFICATION",
        Message::Keepalive => "KEEPALIVE",
        Message::RouteRefresh(_) => "ROUTE-REFRESH",
    }
}

/// An UPDATE with its attributes in our layout: MP_REACH_NLRI and MP_UNREACH_NLRI first
/// (RFC 7606 §5.1), the rest by type code (RFC 4271 §5), one-octet lengths where they fit, and
/// no Partial bit on the attributes we model (we originate routes and never pass received ones
/// on, so that bit is not kept; it is kept on unknown attributes).
/// Other messages are returned as they are.
fn canonical_layout(msg: &[u8]) -> Vec<u8> {
    if msg[18] != 2 {
        return msg.to_vec();
    }
    let wlen = usize::from(u16::from_be_bytes([msg[19], msg[20]]));
    let a_at = 21 + wlen;
    let alen = usize::from(u16::from_be_bytes([msg[a_at], msg[a_at + 1]]));
    let attrs = &msg[a_at + 2..a_at + 2 + alen];
    let mut list = Vec::new();
    let mut at = 0;
    while at < attrs.len() {
        let (flags, code) = (attrs[at], attrs[at + 1]);
        let (len, hdr) = if flags & 0x10 != 0 {
            (
                usize::from(u16::from_be_bytes([attrs[at + 2], attrs[at + 3]])),
                4,
            )
        } else {
            (usize::from(attrs[at + 2]), 3)
        };
        list.push((flags, code, &attrs[at + hdr..at + hdr + len]));
        at += hdr + len;
    }
    list.sort_by_key(|&(_, code, _)| match code {
        14 => 0,
        15 => 1,
        c => u16::from(c) + 2,
    });
    let mut out_attrs = Vec::new();
    for (flags, code, value) in list {
        let known = matches!(code, 1..=8 | 14 | 15 | 17 | 18 | 32 | 35);
        let flags = if known { flags & !0x20 } else { flags };
        if value.len() < 256 {
            out_attrs.extend_from_slice(&[flags & !0x10, code, value.len() as u8]);
        } else {
            out_attrs.extend_from_slice(&[flags | 0x10, code]);
            out_attrs.extend_from_slice(&(value.len() as u16).to_be_bytes());
        }
        out_attrs.extend_from_slice(value);
    }
    let mut out = msg[..a_at].to_vec();
    out.extend_from_slice(&(out_attrs.len() as u16).to_be_bytes());
    out.extend(out_attrs);
    out.extend_from_slice(&msg[a_at + 2 + alen..]);
    let len = (out.len() as u16).to_be_bytes();
    out[16..18].copy_from_slice(&len);
    out
}

/// The fuzz target's property, run in CI without cargo-fuzz: real messages with random bytes
/// flipped, inserted or cut never panic the decoder, and whatever still decodes round-trips.
#[test]
fn mutated_real_messages_never_panic_and_round_trip() {
    let (records, _) = read_mrt_messages(&fixture("mrt/updates.20160811.1600-first600.gz"));
    assert_eq!(records.len(), 599);
    let mut r = Rng(0x0bad_cafe);
    let (mut decoded, mut errors) = (0, 0);
    for _ in 0..40_000 {
        let mut m = records[r.below(records.len() as u64) as usize]
            .message
            .clone();
        for _ in 0..1 + r.below(4) {
            let at = r.below(m.len() as u64) as usize;
            match r.below(4) {
                0 => m[at] ^= 1 << r.below(8),
                1 => m[at] = r.next() as u8,
                2 => m.insert(at, r.next() as u8),
                _ => m.truncate(at.max(19)),
            }
        }
        // Keep the header length consistent half of the time so the body gets exercised.
        if r.chance(50) {
            let len = (m.len() as u16).to_be_bytes();
            m[16..18].copy_from_slice(&len);
        }
        let ctx = if r.chance(50) { FOUR } else { TWO };
        match decode(&m, &ctx) {
            Ok(Some((msg, _))) => {
                decoded += 1;
                let mut out = Vec::new();
                if encode(&msg, &ctx, &mut out).is_ok() {
                    assert_eq!(
                        decode(&out, &ctx).unwrap(),
                        Some((msg, out.len())),
                        "{}",
                        hexdump(&m)
                    );
                }
            }
            Ok(None) => {}
            Err(e) => {
                errors += 1;
                if let ErrorAction::AttributeDiscard(u) = e.action {
                    let mut out = Vec::new();
                    if encode(&Message::Update((*u).clone()), &ctx, &mut out).is_ok() {
                        assert_eq!(
                            decode(&out, &ctx).unwrap(),
                            Some((Message::Update(*u), out.len()))
                        );
                    }
                }
            }
        }
    }
    eprintln!("mutated: {decoded} decoded and round-tripped, {errors} rejected");
    assert!(decoded > 1000 && errors > 1000, "{decoded} {errors}");
}
