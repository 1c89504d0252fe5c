//! Encoding UPDATE bodies (RFC 4271 §4.3), and packing many prefixes into as few UPDATEs as
//! the session's maximum message length allows.
//!
//! Attribute order: MP_REACH_NLRI and MP_UNREACH_NLRI first (RFC 7606 §5.1), then the others
//! in ascending type code (RFC 4271 §5), unknown ones merged in by code.

use std::net::Ipv6Addr;

use tern_types::{Afi, Prefix};

use super::attrs::{attr_code as code, attr_flags as flag};
use super::error::EncodeError;
use super::nlri::{encode_prefix, prefix_wire_len};
use super::{
    AFI_IPV4, AFI_IPV6, AS_TRANS, Aggregator, AsPath, Codec, HEADER_LEN, MpNextHop, MpReach,
    MpUnreach, PathAttributes, SAFI_UNICAST, Update,
};

/// Appends an UPDATE body.
pub(crate) fn encode_update(u: &Update, ctx: &Codec, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let at = out.len();
    out.extend_from_slice(&[0, 0]);
    encode_prefixes(&u.withdrawn, AFI_IPV4, out)?;
    patch_u16(out, at, "withdrawn routes")?;
    let at = out.len();
    out.extend_from_slice(&[0, 0]);
    encode_attributes(&u.attrs, !u.nlri.is_empty(), ctx, out)?;
    patch_u16(out, at, "path attributes")?;
    encode_prefixes(&u.nlri, AFI_IPV4, out)
}

/// Writes the length of what follows the 2-octet field at `at`.
fn patch_u16(out: &mut [u8], at: usize, what: &'static str) -> Result<(), EncodeError> {
    let len = out.len() - at - 2;
    let v = u16::try_from(len).map_err(|_| EncodeError::FieldTooLong {
        what,
        length: len,
        max: 65535,
    })?;
    out[at..at + 2].copy_from_slice(&v.to_be_bytes());
    Ok(())
}

fn encode_prefixes(prefixes: &[Prefix], afi: u16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    for p in prefixes {
        if p.afi().code() != afi {
            return Err(EncodeError::WrongFamily { prefix: *p, afi });
        }
        encode_prefix(p, out);
    }
    Ok(())
}

/// Appends one attribute with the extended-length flag set when the value needs it.
fn attribute(flags: u8, c: u8, value: &[u8], out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let len = value.len();
    if let Ok(short) = u8::try_from(len) {
        out.extend_from_slice(&[flags & !flag::EXTENDED_LENGTH, c, short]);
    } else {
        let long = u16::try_from(len).map_err(|_| EncodeError::FieldTooLong {
            what: "path attribute",
            length: len,
            max: 65535,
        })?;
        out.extend_from_slice(&[flags | flag::EXTENDED_LENGTH, c]);
        out.extend_from_slice(&long.to_be_bytes());
    }
    out.extend_from_slice(value);
    Ok(())
}

const WELL_KNOWN: u8 = flag::TRANSITIVE;
const OPT_TRANS: u8 = flag::OPTIONAL | flag::TRANSITIVE;
const OPT: u8 = flag::OPTIONAL;

fn encode_attributes(
    a: &PathAttributes,
    has_nlri: bool,
    ctx: &Codec,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    if has_nlri {
        let missing = [
            (a.origin.is_none(), "ORIGIN"),
            (a.as_path.is_none(), "AS_PATH"),
            (a.next_hop.is_none(), "NEXT_HOP"),
        ];
        if let Some((_, name)) = missing.iter().find(|(m, _)| *m) {
            return Err(EncodeError::MissingMandatory(name));
        }
    }
    let mut v = Vec::new();
    if let Some(m) = &a.mp_reach {
        v.clear();
        mp_reach_value(m, &mut v)?;
        attribute(OPT, code::MP_REACH_NLRI, &v, out)?;
    }
    if let Some(m) = &a.mp_unreach {
        v.clear();
        v.extend_from_slice(&m.afi.to_be_bytes());
        v.push(m.safi);
        encode_prefixes(&m.withdrawn, m.afi, &mut v)?;
        attribute(OPT, code::MP_UNREACH_NLRI, &v, out)?;
    }
    // Unknown attributes in code order, merged with ours; on a 2-octet session AS4_* are ours.
    let mut unknown: Vec<_> = a
        .unknown
        .iter()
        .filter(|u| ctx.four_octet_as || !matches!(u.code, code::AS4_PATH | code::AS4_AGGREGATOR))
        .collect();
    unknown.sort_by_key(|u| u.code);
    let mut unknown = unknown.into_iter().peekable();
    let mut flush_below = |c: u8, out: &mut Vec<u8>| -> Result<(), EncodeError> {
        while let Some(u) = unknown.next_if(|u| u.code < c) {
            attribute(u.flags, u.code, &u.value, out)?;
        }
        Ok(())
    };
    let four = ctx.four_octet_as;
    let needs_as4_path = !four
        && a.as_path
            .as_ref()
            .is_some_and(|p| p.asns().any(|x| !x.is_two_octet()));
    let needs_as4_agg = !four && a.aggregator.is_some_and(|g| !g.asn.is_two_octet());

    if let Some(o) = a.origin {
        flush_below(code::ORIGIN, out)?;
        attribute(WELL_KNOWN, code::ORIGIN, &[o.code()], out)?;
    }
    if let Some(p) = &a.as_path {
        flush_below(code::AS_PATH, out)?;
        v.clear();
        as_path_value(p, four, false, &mut v)?;
        attribute(WELL_KNOWN, code::AS_PATH, &v, out)?;
    }
    if let Some(nh) = a.next_hop {
        flush_below(code::NEXT_HOP, out)?;
        attribute(WELL_KNOWN, code::NEXT_HOP, &nh.octets(), out)?;
    }
    if let Some(med) = a.med {
        flush_below(code::MED, out)?;
        attribute(OPT, code::MED, &med.to_be_bytes(), out)?;
    }
    if let Some(lp) = a.local_pref {
        flush_below(code::LOCAL_PREF, out)?;
        attribute(WELL_KNOWN, code::LOCAL_PREF, &lp.to_be_bytes(), out)?;
    }
    if a.atomic_aggregate {
        flush_below(code::ATOMIC_AGGREGATE, out)?;
        attribute(WELL_KNOWN, code::ATOMIC_AGGREGATE, &[], out)?;
    }
    if let Some(g) = a.aggregator {
        flush_below(code::AGGREGATOR, out)?;
        let asn = if four || g.asn.is_two_octet() {
            g.asn
        } else {
            AS_TRANS
        };
        attribute(
            OPT_TRANS,
            code::AGGREGATOR,
            &aggregator_value(Aggregator { asn, ..g }, four),
            out,
        )?;
    }
    if !a.communities.is_empty() {
        flush_below(code::COMMUNITIES, out)?;
        let value: Vec<u8> = a
            .communities
            .iter()
            .flat_map(|c| c.0.to_be_bytes())
            .collect();
        attribute(OPT_TRANS, code::COMMUNITIES, &value, out)?;
    }
    if needs_as4_path && let Some(p) = &a.as_path {
        flush_below(code::AS4_PATH, out)?;
        v.clear();
        as_path_value(p, true, true, &mut v)?;
        attribute(OPT_TRANS, code::AS4_PATH, &v, out)?;
    }
    if needs_as4_agg && let Some(g) = a.aggregator {
        flush_below(code::AS4_AGGREGATOR, out)?;
        attribute(
            OPT_TRANS,
            code::AS4_AGGREGATOR,
            &aggregator_value(g, true),
            out,
        )?;
    }
    if !a.large_communities.is_empty() {
        flush_below(code::LARGE_COMMUNITIES, out)?;
        let value: Vec<u8> = a
            .large_communities
            .iter()
            .flat_map(|c| [c.global, c.local1, c.local2])
            .flat_map(u32::to_be_bytes)
            .collect();
        attribute(OPT_TRANS, code::LARGE_COMMUNITIES, &value, out)?;
    }
    if let Some(otc) = a.otc {
        flush_below(code::OTC, out)?;
        attribute(OPT_TRANS, code::OTC, &otc.0.to_be_bytes(), out)?;
    }
    flush_below(u8::MAX, out)?;
    for u in unknown {
        attribute(u.flags, u.code, &u.value, out)?;
    }
    Ok(())
}

/// AS_PATH (or AS4_PATH with `as4`: 4-octet, confederation segments left out, RFC 6793 §3)
/// segments; sequences and sets of more than 255 ASNs are split (RFC 4271 §5.1.2 allows that
/// for sequences; a set that large does not occur in practice).
fn as_path_value(
    p: &AsPath,
    four_octet: bool,
    as4: bool,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    for seg in &p.segments {
        if as4 && seg.kind.is_confed() {
            continue;
        }
        for chunk in seg.asns.chunks(255) {
            // chunks(255) bounds the count.
            out.extend_from_slice(&[seg.kind.code(), chunk.len() as u8]);
            for asn in chunk {
                if four_octet {
                    out.extend_from_slice(&asn.0.to_be_bytes());
                } else {
                    let two = if asn.is_two_octet() {
                        asn.0 as u16
                    } else {
                        AS_TRANS.0 as u16
                    };
                    out.extend_from_slice(&two.to_be_bytes());
                }
            }
        }
    }
    Ok(())
}

fn aggregator_value(g: Aggregator, four_octet: bool) -> Vec<u8> {
    let mut v = Vec::with_capacity(8);
    if four_octet {
        v.extend_from_slice(&g.asn.0.to_be_bytes());
    } else {
        // Callers put AS_TRANS in for a 4-octet AS.
        v.extend_from_slice(&(g.asn.0 as u16).to_be_bytes());
    }
    v.extend_from_slice(&g.address.octets());
    v
}

fn mp_reach_value(m: &MpReach, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    out.extend_from_slice(&m.afi.to_be_bytes());
    out.push(m.safi);
    match m.next_hop {
        MpNextHop::V4(a) if m.afi == AFI_IPV4 => {
            out.push(4);
            out.extend_from_slice(&a.octets());
        }
        MpNextHop::V4(_) => return Err(EncodeError::NextHopFamily(m.afi)),
        MpNextHop::V6 { global, .. } if global == Ipv6Addr::UNSPECIFIED => {
            return Err(EncodeError::UnspecifiedNextHop);
        }
        MpNextHop::V6 { global, link_local } => {
            out.push(if link_local.is_some() { 32 } else { 16 });
            out.extend_from_slice(&global.octets());
            if let Some(ll) = link_local {
                out.extend_from_slice(&ll.octets());
            }
        }
    }
    out.push(0); // Reserved (RFC 4760 §3).
    encode_prefixes(&m.nlri, m.afi, out)
}

/// Bytes of one UPDATE carrying `attrs` and no prefixes.
fn base_len(attrs: &PathAttributes, has_nlri: bool, ctx: &Codec) -> Result<usize, EncodeError> {
    let mut v = Vec::new();
    encode_attributes(attrs, has_nlri, ctx, &mut v)?;
    // Header, two length fields; one more octet in case an MP attribute needs extended length.
    Ok(HEADER_LEN + 4 + v.len() + 1)
}

/// Splits `prefixes` into chunks whose encoded size fits `room` octets each.
fn chunks_within(prefixes: &[Prefix], room: usize) -> Vec<Vec<Prefix>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut used = 0;
    for p in prefixes {
        let n = prefix_wire_len(p);
        if used + n > room && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
            used = 0;
        }
        cur.push(*p);
        used += n;
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn room(base: usize, ctx: &Codec) -> Result<usize, EncodeError> {
    let max = ctx.max_message_len();
    // Room for at least one longest (IPv6 /128) prefix.
    match max.checked_sub(base) {
        Some(r) if r >= 17 => Ok(r),
        _ => Err(EncodeError::TooLong {
            length: base + 17,
            max,
        }),
    }
}

/// UPDATEs announcing `prefixes` (IPv4 and IPv6 mixed) with `attrs`, each within the session's
/// maximum message length, in the order of `prefixes` per family.
///
/// IPv4 prefixes go in the NLRI field with `attrs.next_hop`; IPv6 ones in MP_REACH_NLRI with
/// the next hop of `attrs.mp_reach` (whose own NLRI are ignored; missing → an error).
/// `attrs.mp_unreach` is ignored.
pub fn updates_for_announce(
    attrs: &PathAttributes,
    prefixes: &[Prefix],
    ctx: &Codec,
) -> Result<Vec<Update>, EncodeError> {
    let (v4, v6): (Vec<Prefix>, Vec<Prefix>) = prefixes.iter().partition(|p| p.afi() == Afi::Ipv4);
    let mut out = Vec::new();
    let plain = PathAttributes {
        mp_reach: None,
        mp_unreach: None,
        ..attrs.clone()
    };
    if !v4.is_empty() {
        let r = room(base_len(&plain, true, ctx)?, ctx)?;
        for nlri in chunks_within(&v4, r) {
            out.push(Update {
                withdrawn: vec![],
                attrs: plain.clone(),
                nlri,
            });
        }
    }
    if !v6.is_empty() {
        let template = attrs
            .mp_reach
            .as_ref()
            .ok_or(EncodeError::MissingMandatory("MP_REACH_NLRI next hop"))?;
        let mp = |nlri| MpReach {
            afi: AFI_IPV6,
            safi: template.safi,
            next_hop: template.next_hop,
            nlri,
        };
        let empty = PathAttributes {
            next_hop: None,
            mp_reach: Some(mp(vec![])),
            ..plain.clone()
        };
        let r = room(base_len(&empty, false, ctx)?, ctx)?;
        for nlri in chunks_within(&v6, r) {
            out.push(Update {
                withdrawn: vec![],
                attrs: PathAttributes {
                    mp_reach: Some(mp(nlri)),
                    ..empty.clone()
                },
                nlri: vec![],
            });
        }
    }
    Ok(out)
}

/// Withdraw-only UPDATEs for `prefixes` (IPv4 in Withdrawn Routes, IPv6 in MP_UNREACH_NLRI
/// for unicast), each within the session's maximum message length.
pub fn updates_for_withdraw(prefixes: &[Prefix], ctx: &Codec) -> Result<Vec<Update>, EncodeError> {
    let (v4, v6): (Vec<Prefix>, Vec<Prefix>) = prefixes.iter().partition(|p| p.afi() == Afi::Ipv4);
    let mut out = Vec::new();
    let r = room(HEADER_LEN + 4, ctx)?;
    for withdrawn in chunks_within(&v4, r) {
        out.push(Update {
            withdrawn,
            ..Update::default()
        });
    }
    let unreach = |withdrawn| PathAttributes {
        mp_unreach: Some(MpUnreach {
            afi: AFI_IPV6,
            safi: SAFI_UNICAST,
            withdrawn,
        }),
        ..PathAttributes::default()
    };
    let r = room(base_len(&unreach(vec![]), false, ctx)?, ctx)?;
    for withdrawn in chunks_within(&v6, r) {
        out.push(Update {
            attrs: unreach(withdrawn),
            ..Update::default()
        });
    }
    Ok(out)
}
