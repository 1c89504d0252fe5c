//! BGP4MP and BGP4MP_ET records (RFC 6396 §4.4), with the AS4 and ADD-PATH subtypes (RFC 8050).
//!
//! The BGP message inside goes to tern-bgp's decoder. tern-bgp does not parse ADD-PATH NLRI
//! (RFC 7911), so for the ADD-PATH subtypes the path identifiers are taken out of the
//! Withdrawn Routes, NLRI, MP_REACH_NLRI and MP_UNREACH_NLRI fields first (kept, in order, in
//! [`UpdateRecord::path_ids`]), and the message without them is decoded.

use tern_bgp::wire::{Codec, ErrorAction, Message, Update, attr_code, attr_flags, decode};
use tern_types::Asn;

use super::cursor::{Cursor, Malformed};
use super::{Bgp4mpMessage, Peer, RawRecord, StateChange, UpdateRecord, record_type};

/// What one BGP4MP record holds (short-lived, matched at once: not boxed).
#[allow(clippy::large_enum_variant)]
pub(super) enum Bgp4mp {
    /// An UPDATE; the flag says how tern-bgp's decoder handled it.
    Update(UpdateRecord, Outcome),
    /// A state change.
    State(StateChange),
    /// OPEN, KEEPALIVE, NOTIFICATION, ROUTE-REFRESH.
    OtherMessage,
    /// A subtype we do not read (ENTRY, SNAPSHOT, unknown).
    Skipped,
}

/// How the UPDATE decoded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Clean,
    AttributeDiscard,
    TreatAsWithdraw,
}

/// Subtypes (RFC 6396 §4.4, RFC 8050 §3): (state change, AS4, ADD-PATH).
fn subtype(sub: u16) -> Option<(bool, bool, bool)> {
    Some(match sub {
        0 => (true, false, false),  // STATE_CHANGE
        1 => (false, false, false), // MESSAGE
        4 => (false, true, false),  // MESSAGE_AS4
        5 => (true, true, false),   // STATE_CHANGE_AS4
        6 => (false, false, false), // MESSAGE_LOCAL
        7 => (false, true, false),  // MESSAGE_AS4_LOCAL
        8 => (false, false, true),  // MESSAGE_ADDPATH
        9 => (false, true, true),   // MESSAGE_AS4_ADDPATH
        10 => (false, false, true), // MESSAGE_LOCAL_ADDPATH
        11 => (false, true, true),  // MESSAGE_AS4_LOCAL_ADDPATH
        _ => return None,
    })
}

/// The BGP message of a BGP4MP or BGP4MP_ET MESSAGE* record; `Ok(None)` for other records
/// (state changes, other types); `Err` when the record is malformed.
pub fn bgp4mp_message<'a>(raw: &RawRecord<'a>) -> Result<Option<Bgp4mpMessage<'a>>, String> {
    let body = match raw.record_type {
        record_type::BGP4MP => raw.body,
        record_type::BGP4MP_ET => raw.body.get(4..).ok_or("BGP4MP_ET: no microseconds")?,
        _ => return Ok(None),
    };
    match header(body, raw.subtype)? {
        Some((peer, false, as4, add_path, message)) => Ok(Some(Bgp4mpMessage {
            peer,
            as4,
            add_path,
            message,
        })),
        _ => Ok(None),
    }
}

/// Peer, state change?, AS4?, ADD-PATH?, and the rest of the body; `None` for subtypes we do
/// not read.
type Header<'a> = (Peer, bool, bool, bool, &'a [u8]);

fn header(body: &[u8], sub: u16) -> Result<Option<Header<'_>>, String> {
    let Some((state, as4, add_path)) = subtype(sub) else {
        return Ok(None);
    };
    let mut c = Cursor::new(body);
    let peer_as = c.asn(as4, "BGP4MP: peer AS")?;
    c.asn(as4, "BGP4MP: local AS")?;
    c.u16("BGP4MP: interface index")?;
    let afi = c.u16("BGP4MP: address family")?;
    let v6 = match afi {
        1 => false,
        2 => true,
        _ => {
            return Err(format!(
                "BGP4MP: address family {afi} is neither IPv4 nor IPv6"
            ));
        }
    };
    let ip = c.ip(v6, "BGP4MP: peer address")?;
    c.ip(v6, "BGP4MP: local address")?;
    let peer = Peer {
        ip,
        asn: Asn(peer_as),
    };
    Ok(Some((peer, state, as4, add_path, c.rest())))
}

/// One BGP4MP record body (after the microseconds of BGP4MP_ET).
pub(super) fn record(
    body: &[u8],
    sub: u16,
    timestamp: u32,
    microseconds: u32,
    scratch: &mut Vec<u8>,
) -> Result<Bgp4mp, String> {
    let Some((peer, state, as4, add_path, rest)) = header(body, sub)? else {
        return Ok(Bgp4mp::Skipped);
    };
    let mut c = Cursor::new(rest);
    if state {
        let old_state = c.u16("BGP4MP: old state")?;
        let new_state = c.u16("BGP4MP: new state")?;
        return Ok(Bgp4mp::State(StateChange {
            timestamp,
            peer,
            old_state,
            new_state,
        }));
    }
    let msg = c.rest();
    let (msg, path_ids) = if add_path && msg.get(18) == Some(&2) {
        let ids = strip_path_ids(msg, scratch)?;
        (&scratch[..], ids)
    } else {
        (msg, Vec::new())
    };
    let ctx = Codec {
        four_octet_as: as4,
        extended_messages: true,
    };
    let (update, outcome) = match decode(msg, &ctx) {
        Ok(Some((Message::Update(u), used))) if used == msg.len() => (u, Outcome::Clean),
        Ok(Some((Message::Update(_), used))) => {
            return Err(format!(
                "BGP4MP: {} bytes after the UPDATE",
                msg.len() - used
            ));
        }
        Ok(Some(_)) => return Ok(Bgp4mp::OtherMessage),
        Ok(None) => return Err("BGP4MP: truncated BGP message".into()),
        Err(e) => match e.action {
            ErrorAction::AttributeDiscard(u) => (*u, Outcome::AttributeDiscard),
            ErrorAction::TreatAsWithdraw { withdrawn } => (
                Update {
                    withdrawn,
                    ..Update::default()
                },
                Outcome::TreatAsWithdraw,
            ),
            ErrorAction::SessionReset(_) => return Err(format!("BGP4MP: {e}")),
        },
    };
    Ok(Bgp4mp::Update(
        UpdateRecord {
            timestamp,
            microseconds,
            peer,
            update,
            path_ids,
        },
        outcome,
    ))
}

/// Copies an ADD-PATH UPDATE into `out` without path identifiers; returns them in the order
/// of [`Update::withdrawals`] then [`Update::announced`].
fn strip_path_ids(msg: &[u8], out: &mut Vec<u8>) -> Result<Vec<u32>, Malformed> {
    let mut c = Cursor::new(msg);
    let header = c.take(19, "UPDATE header")?;
    let wlen = c.u16("UPDATE: withdrawn length")?;
    let withdrawn = c.take(usize::from(wlen), "UPDATE: withdrawn routes")?;
    let alen = c.u16("UPDATE: attribute length")?;
    let attrs = c.take(usize::from(alen), "UPDATE: attributes")?;
    let nlri = c.rest();

    let (mut w_ids, mut unreach_ids, mut n_ids, mut reach_ids) = (vec![], vec![], vec![], vec![]);
    out.clear();
    out.extend_from_slice(header);
    let at = out.len();
    out.extend_from_slice(&[0, 0]);
    strip_field(withdrawn, out, &mut w_ids)?;
    let w = u16::try_from(out.len() - at - 2).map_err(|_| "UPDATE too long")?;
    out[at..at + 2].copy_from_slice(&w.to_be_bytes());

    let at = out.len();
    out.extend_from_slice(&[0, 0]);
    let mut a = Cursor::new(attrs);
    let mut value_buf = Vec::new();
    while !a.is_empty() {
        let flags = a.u8("attribute flags")?;
        let code = a.u8("attribute type")?;
        let len = if flags & attr_flags::EXTENDED_LENGTH != 0 {
            usize::from(a.u16("attribute length")?)
        } else {
            usize::from(a.u8("attribute length")?)
        };
        let value = a.take(len, "attribute runs past the list")?;
        let value: &[u8] = match code {
            attr_code::MP_REACH_NLRI => {
                let mut v = Cursor::new(value);
                let head = v.take(3, "MP_REACH_NLRI: AFI/SAFI")?;
                let nh_len = v.u8("MP_REACH_NLRI: next-hop length")?;
                let nh = v.take(usize::from(nh_len), "MP_REACH_NLRI: next hop")?;
                let reserved = v.u8("MP_REACH_NLRI: reserved")?;
                value_buf.clear();
                value_buf.extend_from_slice(head);
                value_buf.push(nh_len);
                value_buf.extend_from_slice(nh);
                value_buf.push(reserved);
                strip_field(v.rest(), &mut value_buf, &mut reach_ids)?;
                &value_buf
            }
            attr_code::MP_UNREACH_NLRI => {
                let mut v = Cursor::new(value);
                let head = v.take(3, "MP_UNREACH_NLRI: AFI/SAFI")?;
                value_buf.clear();
                value_buf.extend_from_slice(head);
                strip_field(v.rest(), &mut value_buf, &mut unreach_ids)?;
                &value_buf
            }
            _ => value,
        };
        let len = u16::try_from(value.len()).map_err(|_| "attribute too long")?;
        out.push(flags | attr_flags::EXTENDED_LENGTH);
        out.push(code);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(value);
    }
    let a_len = u16::try_from(out.len() - at - 2).map_err(|_| "UPDATE too long")?;
    out[at..at + 2].copy_from_slice(&a_len.to_be_bytes());
    strip_field(nlri, out, &mut n_ids)?;
    let total = u16::try_from(out.len()).map_err(|_| "UPDATE too long")?;
    out[16..18].copy_from_slice(&total.to_be_bytes());

    w_ids.extend(unreach_ids);
    w_ids.extend(n_ids);
    w_ids.extend(reach_ids);
    Ok(w_ids)
}

/// (path id, prefix length, prefix octets)* → (prefix length, prefix octets)*.
fn strip_field(field: &[u8], out: &mut Vec<u8>, ids: &mut Vec<u32>) -> Result<(), Malformed> {
    let mut c = Cursor::new(field);
    while !c.is_empty() {
        ids.push(c.u32("ADD-PATH: path identifier")?);
        let len = c.u8("ADD-PATH: prefix length")?;
        let bytes = c.take(usize::from(len).div_ceil(8), "ADD-PATH: prefix")?;
        out.push(len);
        out.extend_from_slice(bytes);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let d: String = s
            .lines()
            .map(|l| l.split('#').next().unwrap_or(""))
            .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
            .collect();
        (0..d.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&d[i..i + 2], 16).unwrap())
            .collect()
    }

    /// BGP4MP_MESSAGE_AS4_ADDPATH (RFC 8050 §3): path ids before every prefix.
    #[test]
    fn add_path_update_decodes_with_its_path_ids() {
        let body = hex("0000fde9 0000fde8       # peer AS 65001, local AS 65000
             0000 0001               # interface 0, AFI IPv4
             c0000201 c0000202       # peer 192.0.2.1, local 192.0.2.2
             ffffffffffffffffffffffffffffffff 0039 02
             0006 00000007 080a      # withdrawn: path id 7, 10.0.0.0/8
             0014
             40010100                # ORIGIN IGP
             4002060201 0000fde9     # AS_PATH 65001
             400304 c0000201         # NEXT_HOP
             00000009 18c63364       # NLRI: path id 9, 198.51.100.0/24");
        let mut scratch = Vec::new();
        let Bgp4mp::Update(u, Outcome::Clean) = record(&body, 9, 1, 0, &mut scratch).unwrap()
        else {
            panic!("not a clean update")
        };
        assert_eq!(u.peer.asn, Asn(65001));
        assert_eq!(u.update.withdrawn, vec!["10.0.0.0/8".parse().unwrap()]);
        assert_eq!(u.update.nlri, vec!["198.51.100.0/24".parse().unwrap()]);
        assert_eq!(u.path_ids, vec![7, 9]);
        let path: Vec<u32> = u
            .update
            .attrs
            .as_path
            .unwrap()
            .asns()
            .map(|a| a.0)
            .collect();
        assert_eq!(path, vec![65001]);
        // The same bytes read as plain MESSAGE_AS4 (no ADD-PATH) are malformed, not a panic.
        assert!(record(&body, 4, 1, 0, &mut scratch).is_err());
        // Cut anywhere: an error, never a panic.
        for cut in 0..body.len() {
            let _ = record(&body[..cut], 9, 1, 0, &mut scratch);
        }
    }
}
