//! Decoding UPDATE bodies (RFC 4271 §4.3) with the revised error handling of RFC 7606: each
//! problem is classified as session reset, treat-as-withdraw or attribute discard, parsing goes
//! on after the milder ones, and the most severe class decides the outcome.

use tern_types::{Afi, Asn, Community, LargeCommunity, Prefix};

use super::attrs::{attr_code as code, attr_flags as flag};
use super::error::{DecodeError, DecodeErrorKind as K, ErrorAction};
use super::nlri::decode_prefixes;
use super::notification::subcode::update as sub;
use super::reader::Reader;
use super::{
    AFI_IPV4, AFI_IPV6, AS_TRANS, Aggregator, AsPath, AsSegment, Codec, ErrorCode, MpNextHop,
    MpReach, MpUnreach, Notification, Origin, PathAttributes, RawAttribute, SAFI_MULTICAST,
    SAFI_UNICAST, SegmentKind, Update,
};

/// RFC 7606 §2 approaches, least severe first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Severity {
    AttributeDiscard,
    TreatAsWithdraw,
    SessionReset,
}

/// The worst problem seen so far.
#[derive(Default)]
struct Problems {
    worst: Option<(Severity, K, Option<Notification>)>,
}

impl Problems {
    fn note(&mut self, severity: Severity, kind: K) {
        self.note_with(severity, kind, None);
    }

    fn reset(&mut self, kind: K, subcode: u8, data: Vec<u8>) {
        let n = Notification::new(ErrorCode::Update, subcode, data);
        self.note_with(Severity::SessionReset, kind, Some(n));
    }

    fn note_with(&mut self, severity: Severity, kind: K, n: Option<Notification>) {
        if self.worst.as_ref().is_none_or(|(s, _, _)| severity > *s) {
            self.worst = Some((severity, kind, n));
        }
    }

    fn is_fatal(&self) -> bool {
        matches!(self.worst, Some((Severity::SessionReset, _, _)))
    }
}

fn reset_now(kind: K, subcode: u8, data: Vec<u8>) -> DecodeError {
    DecodeError::reset(kind, ErrorCode::Update, subcode, data)
}

/// Decodes an UPDATE body (everything after the header).
pub(crate) fn decode_update(body: &[u8], ctx: &Codec) -> Result<Update, DecodeError> {
    let mut r = Reader::new(body);
    let list = |why| {
        reset_now(
            K::MalformedAttributeList(why),
            sub::MALFORMED_ATTRIBUTE_LIST,
            vec![],
        )
    };
    // RFC 7606 §4 keeps session reset when the two length fields do not fit the message.
    let wlen = r.u16().ok_or_else(|| list("no withdrawn routes length"))?;
    let withdrawn_field = r
        .take(usize::from(wlen))
        .ok_or_else(|| list("withdrawn routes length too large"))?;
    let alen = r
        .u16()
        .ok_or_else(|| list("no total path attribute length"))?;
    let attr_field = r
        .take(usize::from(alen))
        .ok_or_else(|| list("total path attribute length too large"))?;
    let nlri_field = r.rest();
    let network = |why| {
        reset_now(
            K::InvalidNetworkField(why),
            sub::INVALID_NETWORK_FIELD,
            vec![],
        )
    };
    let withdrawn = decode_prefixes(withdrawn_field, Afi::Ipv4).map_err(network)?;
    let nlri = decode_prefixes(nlri_field, Afi::Ipv4).map_err(network)?;

    let mut problems = Problems::default();
    let mut attrs = PathAttributes::default();
    let mut as4 = As4::default();
    decode_attributes(attr_field, ctx, &mut attrs, &mut as4, &mut problems);
    // Kept in type-code order, the order they are sent in (codes are unique by now).
    attrs.unknown.sort_by_key(|a| a.code);
    if problems.is_fatal()
        && let Some((_, kind, Some(n))) = problems.worst.take()
    {
        return Err(DecodeError {
            kind,
            action: ErrorAction::SessionReset(n),
            consumed: 0,
        });
    }
    if !ctx.four_octet_as {
        as4.merge_into(&mut attrs, &mut problems);
    }

    // RFC 7606 §3 d: well-known mandatory attributes are only required when there are NLRI.
    let reach = !nlri.is_empty() || attrs.mp_reach.is_some();
    if reach {
        if attrs.origin.is_none() {
            problems.note(Severity::TreatAsWithdraw, K::MissingWellKnown(code::ORIGIN));
        }
        if attrs.as_path.is_none() {
            problems.note(
                Severity::TreatAsWithdraw,
                K::MissingWellKnown(code::AS_PATH),
            );
        }
    }
    if !nlri.is_empty() && attrs.next_hop.is_none() {
        problems.note(
            Severity::TreatAsWithdraw,
            K::MissingWellKnown(code::NEXT_HOP),
        );
    }

    let update = Update {
        withdrawn,
        attrs,
        nlri,
    };
    match problems.worst {
        None => Ok(update),
        Some((Severity::AttributeDiscard, kind, _)) => Err(DecodeError {
            kind,
            action: ErrorAction::AttributeDiscard(Box::new(update)),
            consumed: 0,
        }),
        Some((_, kind, _)) => {
            let withdrawn: Vec<Prefix> = update
                .withdrawals()
                .chain(update.announced())
                .copied()
                .collect();
            Err(DecodeError {
                kind,
                action: ErrorAction::TreatAsWithdraw { withdrawn },
                consumed: 0,
            })
        }
    }
}

/// AS4_PATH and AS4_AGGREGATOR from a 2-octet speaker, merged after all attributes are read.
#[derive(Default)]
struct As4 {
    path: Option<AsPath>,
    aggregator: Option<Aggregator>,
}

impl As4 {
    /// RFC 6793 §4.2.3.
    fn merge_into(self, attrs: &mut PathAttributes, problems: &mut Problems) {
        // If AGGREGATOR holds a real 2-octet AS, the AS4 attributes are stale: ignore both.
        if let Some(agg) = attrs.aggregator
            && agg.asn != AS_TRANS
        {
            return;
        }
        if let (Some(agg), Some(a4)) = (attrs.aggregator.as_mut(), self.aggregator) {
            *agg = a4;
        }
        let (Some(path), Some(as4)) = (attrs.as_path.as_mut(), self.path) else {
            return;
        };
        match merge_as4_path(path, &as4) {
            Some(merged) => *path = merged,
            None => problems.note(
                Severity::AttributeDiscard,
                K::MalformedAsPath {
                    attr: "AS4_PATH",
                    reason: "longer than AS_PATH, ignored",
                },
            ),
        }
    }
}

/// RFC 6793 §4.2.3: the leading ASNs of AS_PATH that AS4_PATH lacks, then AS4_PATH. `None`
/// when AS4_PATH is longer than AS_PATH (it must then be ignored). Confederation segments (which
/// AS4_PATH never carries) are kept only where RFC 5065 allows them, at the front; one in the
/// middle of the path has no place in the merged path and is dropped.
pub(crate) fn merge_as4_path(as_path: &AsPath, as4: &AsPath) -> Option<AsPath> {
    let n = as_path.route_len();
    let m = as4.route_len();
    let mut keep = n.checked_sub(m)?;
    let mut segments = Vec::new();
    let mut leading = true;
    for seg in &as_path.segments {
        if seg.kind.is_confed() {
            if leading {
                segments.push(seg.clone());
            }
            continue;
        }
        leading = false;
        if keep == 0 {
            break;
        }
        match seg.kind {
            SegmentKind::Sequence => {
                let take = keep.min(seg.asns.len());
                segments.push(AsSegment {
                    kind: seg.kind,
                    asns: seg.asns.iter().take(take).copied().collect(),
                });
                keep -= take;
            }
            _ => {
                segments.push(seg.clone());
                keep -= 1;
            }
        }
    }
    segments.extend(as4.segments.iter().cloned());
    Some(AsPath { segments })
}

/// Expected Optional and Transitive bits of the attributes we know (RFC 4271 §5, RFC 4760,
/// RFC 1997, RFC 4360, RFC 6793, RFC 8092, RFC 9234).
fn expected_flags(c: u8) -> Option<u8> {
    const WELL_KNOWN: u8 = flag::TRANSITIVE;
    const OPT_TRANS: u8 = flag::OPTIONAL | flag::TRANSITIVE;
    const OPT: u8 = flag::OPTIONAL;
    Some(match c {
        code::ORIGIN
        | code::AS_PATH
        | code::NEXT_HOP
        | code::LOCAL_PREF
        | code::ATOMIC_AGGREGATE => WELL_KNOWN,
        code::MED | code::MP_REACH_NLRI | code::MP_UNREACH_NLRI => OPT,
        code::AGGREGATOR
        | code::COMMUNITIES
        | code::EXTENDED_COMMUNITIES
        | code::AS4_PATH
        | code::AS4_AGGREGATOR
        | code::LARGE_COMMUNITIES
        | code::OTC => OPT_TRANS,
        _ => return None,
    })
}

fn decode_attributes(
    field: &[u8],
    ctx: &Codec,
    attrs: &mut PathAttributes,
    as4: &mut As4,
    problems: &mut Problems,
) {
    let mut r = Reader::new(field);
    let mut seen = [false; 256];
    while !r.is_empty() {
        let header = (r.u8(), r.u8());
        let (Some(flags), Some(c)) = header else {
            // RFC 7606 §4: too few octets left for an attribute header.
            problems.note(
                Severity::TreatAsWithdraw,
                K::MalformedAttributeList("truncated attribute header"),
            );
            return;
        };
        let len = if flags & flag::EXTENDED_LENGTH != 0 {
            r.u16()
        } else {
            r.u8().map(u16::from)
        };
        let Some(value) = len.and_then(|l| r.take(usize::from(l))) else {
            // RFC 7606 §4: the attribute overruns the attribute field.
            problems.note(
                Severity::TreatAsWithdraw,
                K::MalformedAttributeList("attribute overruns the list"),
            );
            return;
        };
        let first = !std::mem::replace(&mut seen[usize::from(c)], true);
        if !first {
            if c == code::MP_REACH_NLRI || c == code::MP_UNREACH_NLRI {
                // RFC 7606 §3 g.
                problems.reset(
                    K::DuplicateAttribute(c),
                    sub::MALFORMED_ATTRIBUTE_LIST,
                    vec![],
                );
                return;
            }
            problems.note(Severity::AttributeDiscard, K::DuplicateAttribute(c));
            continue;
        }
        if let Some(want) = expected_flags(c)
            && flags & (flag::OPTIONAL | flag::TRANSITIVE) != want
        {
            // RFC 7606 §3 c (RFC 6793 §6: AS4_* are discarded instead).
            let sev = if matches!(c, code::AS4_PATH | code::AS4_AGGREGATOR) {
                Severity::AttributeDiscard
            } else {
                Severity::TreatAsWithdraw
            };
            problems.note(sev, K::AttributeFlags { code: c, flags });
            if c != code::MP_REACH_NLRI && c != code::MP_UNREACH_NLRI {
                continue;
            }
        }
        decode_attribute(flags, c, value, ctx, attrs, as4, problems);
        if problems.is_fatal() {
            return;
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn decode_attribute(
    flags: u8,
    c: u8,
    value: &[u8],
    ctx: &Codec,
    attrs: &mut PathAttributes,
    as4: &mut As4,
    problems: &mut Problems,
) {
    let withdraw = |problems: &mut Problems| {
        problems.note(
            Severity::TreatAsWithdraw,
            K::AttributeLength {
                code: c,
                length: value.len(),
            },
        );
    };
    let discard = |problems: &mut Problems| {
        problems.note(
            Severity::AttributeDiscard,
            K::AttributeLength {
                code: c,
                length: value.len(),
            },
        );
    };
    let u32_value = || <[u8; 4]>::try_from(value).ok().map(u32::from_be_bytes);
    match c {
        code::ORIGIN => match value {
            [v] => match Origin::from_code(*v) {
                Some(o) => attrs.origin = Some(o),
                None => problems.note(Severity::TreatAsWithdraw, K::InvalidOrigin(*v)),
            },
            _ => withdraw(problems),
        },
        code::AS_PATH => match decode_as_path(value, if ctx.four_octet_as { 4 } else { 2 }) {
            Ok(p) => attrs.as_path = Some(p),
            Err(reason) => problems.note(
                Severity::TreatAsWithdraw,
                K::MalformedAsPath {
                    attr: "AS_PATH",
                    reason,
                },
            ),
        },
        code::NEXT_HOP => match <[u8; 4]>::try_from(value) {
            Ok(o) => attrs.next_hop = Some(o.into()),
            Err(_) => withdraw(problems),
        },
        code::MED => match u32_value() {
            Some(v) => attrs.med = Some(v),
            None => withdraw(problems),
        },
        code::LOCAL_PREF => match u32_value() {
            Some(v) => attrs.local_pref = Some(v),
            None => withdraw(problems),
        },
        // RFC 7606 §7.6.
        code::ATOMIC_AGGREGATE if value.is_empty() => attrs.atomic_aggregate = true,
        code::ATOMIC_AGGREGATE => discard(problems),
        // RFC 7606 §7.7.
        code::AGGREGATOR => match decode_aggregator(value, ctx.four_octet_as) {
            Some(a) => attrs.aggregator = Some(a),
            None => discard(problems),
        },
        // RFC 7606 §7.8.
        code::COMMUNITIES if !value.is_empty() && value.len() % 4 == 0 => {
            attrs.communities = be_u32s(value).map(Community).collect();
        }
        code::COMMUNITIES => withdraw(problems),
        // RFC 8092 §6.
        code::LARGE_COMMUNITIES if !value.is_empty() && value.len() % 12 == 0 => {
            let words: Vec<u32> = be_u32s(value).collect();
            attrs.large_communities = words
                .chunks_exact(3)
                .filter_map(|w| match *w {
                    [g, l1, l2] => Some(LargeCommunity::new(g, l1, l2)),
                    _ => None,
                })
                .collect();
        }
        code::LARGE_COMMUNITIES => withdraw(problems),
        // RFC 9234 §5.
        code::OTC => match u32_value() {
            Some(v) => attrs.otc = Some(Asn(v)),
            None => withdraw(problems),
        },
        code::MP_REACH_NLRI => decode_mp_reach(flags, value, attrs, problems),
        code::MP_UNREACH_NLRI => decode_mp_unreach(flags, value, attrs, problems),
        // RFC 6793 §4.2.3: from a 2-octet speaker, merged later; malformed ones are discarded
        // (§6). From a 4-octet speaker they must not be used, and are kept raw.
        code::AS4_PATH if !ctx.four_octet_as => match decode_as_path(value, 4) {
            Ok(p) if !p.segments.iter().any(|s| s.kind.is_confed()) => as4.path = Some(p),
            Ok(_) => problems.note(
                Severity::AttributeDiscard,
                K::MalformedAsPath {
                    attr: "AS4_PATH",
                    reason: "confederation segment",
                },
            ),
            Err(reason) => problems.note(
                Severity::AttributeDiscard,
                K::MalformedAsPath {
                    attr: "AS4_PATH",
                    reason,
                },
            ),
        },
        code::AS4_AGGREGATOR if !ctx.four_octet_as => match decode_aggregator(value, true) {
            Some(a) => as4.aggregator = Some(a),
            None => discard(problems),
        },
        // RFC 7606 §7.14.
        code::EXTENDED_COMMUNITIES if value.is_empty() || value.len() % 8 != 0 => {
            withdraw(problems)
        }
        _ if flags & flag::OPTIONAL == 0 && expected_flags(c).is_none() => {
            // RFC 4271 §6.3: data is the unrecognized attribute (type, length and value).
            let mut data = vec![flags, c];
            if flags & flag::EXTENDED_LENGTH != 0 {
                data.extend_from_slice(&(value.len() as u16).to_be_bytes());
            } else {
                data.push(value.len() as u8);
            }
            data.extend_from_slice(value);
            problems.reset(
                K::UnrecognizedWellKnown(c),
                sub::UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
                data,
            );
        }
        _ => attrs.unknown.push(RawAttribute {
            flags: flags & !flag::EXTENDED_LENGTH,
            code: c,
            value: value.to_vec(),
        }),
    }
}

/// The big-endian 32-bit words of `value` (a trailing partial word is dropped; callers check
/// the length first).
fn be_u32s(value: &[u8]) -> impl Iterator<Item = u32> + '_ {
    value
        .chunks_exact(4)
        .filter_map(|b| b.try_into().ok().map(u32::from_be_bytes))
}

/// AS_PATH or AS4_PATH segments with `size`-octet ASNs (RFC 4271 §4.3, RFC 6793 §3).
fn decode_as_path(value: &[u8], size: usize) -> Result<AsPath, &'static str> {
    let mut r = Reader::new(value);
    let mut segments = Vec::new();
    while !r.is_empty() {
        let kind = r
            .u8()
            .and_then(SegmentKind::from_code)
            .ok_or("unknown segment type")?;
        let count = r.u8().ok_or("truncated segment header")?;
        if count == 0 {
            // RFC 7606 §7.2.
            return Err("empty segment");
        }
        let bytes = r
            .take(usize::from(count) * size)
            .ok_or("segment overruns the attribute")?;
        let asns = bytes
            .chunks_exact(size)
            .map(|b| match *b {
                [a, b] => Asn(u32::from(u16::from_be_bytes([a, b]))),
                [a, b, c, d] => Asn(u32::from_be_bytes([a, b, c, d])),
                _ => Asn(0),
            })
            .collect();
        segments.push(AsSegment { kind, asns });
    }
    Ok(AsPath { segments })
}

fn decode_aggregator(value: &[u8], four_octet: bool) -> Option<Aggregator> {
    let mut r = Reader::new(value);
    let asn = if four_octet {
        r.u32()?
    } else {
        u32::from(r.u16()?)
    };
    let address = r.ipv4()?;
    r.is_empty().then_some(Aggregator {
        asn: Asn(asn),
        address,
    })
}

/// The prefix family of an (AFI, SAFI) we parse, `None` for the others (kept raw).
fn prefix_family(afi: u16, safi: u8) -> Option<Afi> {
    if safi != SAFI_UNICAST && safi != SAFI_MULTICAST {
        return None;
    }
    match afi {
        AFI_IPV4 => Some(Afi::Ipv4),
        AFI_IPV6 => Some(Afi::Ipv6),
        _ => None,
    }
}

fn mp_error(problems: &mut Problems, attr: &'static str, reason: &'static str) {
    // RFC 7606 §7.11 and RFC 4760 §7: the NLRI cannot be located reliably, so session reset
    // with UPDATE Message Error / Optional Attribute Error.
    problems.reset(
        K::MalformedMp { attr, reason },
        sub::OPTIONAL_ATTRIBUTE_ERROR,
        vec![],
    );
}

fn decode_mp_reach(flags: u8, value: &[u8], attrs: &mut PathAttributes, problems: &mut Problems) {
    const NAME: &str = "MP_REACH_NLRI";
    let mut r = Reader::new(value);
    let (Some(afi), Some(safi), Some(nh_len)) = (r.u16(), r.u8(), r.u8()) else {
        return mp_error(problems, NAME, "truncated header");
    };
    let Some(family) = prefix_family(afi, safi) else {
        return attrs.unknown.push(RawAttribute {
            flags: flags & !flag::EXTENDED_LENGTH,
            code: code::MP_REACH_NLRI,
            value: value.to_vec(),
        });
    };
    let Some(nh) = r.take(usize::from(nh_len)) else {
        return mp_error(problems, NAME, "next hop overruns the attribute");
    };
    let mut nr = Reader::new(nh);
    let next_hop = match (family, nh.len()) {
        // RFC 8950 allows IPv6 next hops for IPv4 routes.
        (Afi::Ipv4, 4) => nr.ipv4().map(MpNextHop::V4),
        (_, 16) => nr.ipv6().map(|global| MpNextHop::V6 {
            global,
            link_local: None,
        }),
        (_, 32) => match (nr.ipv6(), nr.ipv6()) {
            (Some(global), Some(ll)) => Some(MpNextHop::V6 {
                global,
                link_local: Some(ll),
            }),
            _ => None,
        },
        _ => None,
    };
    let Some(next_hop) = next_hop else {
        return mp_error(
            problems,
            NAME,
            "next hop length does not fit the address family",
        );
    };
    // RFC 4760 §3: one reserved octet (formerly SNPAs), ignored.
    if r.u8().is_none() {
        return mp_error(problems, NAME, "missing reserved octet");
    }
    match decode_prefixes(r.rest(), family) {
        Ok(nlri) => {
            attrs.mp_reach = Some(MpReach {
                afi,
                safi,
                next_hop,
                nlri,
            })
        }
        Err(reason) => mp_error(problems, NAME, reason),
    }
}

fn decode_mp_unreach(flags: u8, value: &[u8], attrs: &mut PathAttributes, problems: &mut Problems) {
    let mut r = Reader::new(value);
    let (Some(afi), Some(safi)) = (r.u16(), r.u8()) else {
        return mp_error(problems, "MP_UNREACH_NLRI", "truncated header");
    };
    let Some(family) = prefix_family(afi, safi) else {
        return attrs.unknown.push(RawAttribute {
            flags: flags & !flag::EXTENDED_LENGTH,
            code: code::MP_UNREACH_NLRI,
            value: value.to_vec(),
        });
    };
    match decode_prefixes(r.rest(), family) {
        Ok(withdrawn) => {
            attrs.mp_unreach = Some(MpUnreach {
                afi,
                safi,
                withdrawn,
            })
        }
        Err(reason) => mp_error(problems, "MP_UNREACH_NLRI", reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(kind: SegmentKind, asns: &[u32]) -> AsSegment {
        AsSegment {
            kind,
            asns: asns.iter().map(|&a| Asn(a)).collect(),
        }
    }

    #[test]
    fn as4_merge_keeps_leading_confeds_only() {
        use SegmentKind::*;
        let as_path = AsPath {
            segments: vec![
                seg(ConfedSequence, &[65001]),
                seg(Sequence, &[64999, 23456]),
                seg(ConfedSet, &[65002]),
                seg(Set, &[23456, 64998]),
            ],
        };
        let as4 = AsPath {
            segments: vec![
                seg(Sequence, &[4_200_000_001]),
                seg(Set, &[4_200_000_002, 64998]),
            ],
        };
        let merged = merge_as4_path(&as_path, &as4).unwrap();
        assert_eq!(
            merged.segments,
            vec![
                seg(ConfedSequence, &[65001]),
                seg(Sequence, &[64999]),
                seg(Sequence, &[4_200_000_001]),
                seg(Set, &[4_200_000_002, 64998]),
            ]
        );
        // AS4_PATH longer than AS_PATH: ignored.
        assert_eq!(merge_as4_path(&AsPath::from_sequence([Asn(1)]), &as4), None);
    }
}
