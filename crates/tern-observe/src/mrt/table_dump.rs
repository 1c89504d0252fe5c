//! TABLE_DUMP (RFC 6396 §4.2) and TABLE_DUMP_V2 (§4.3, RFC 8050 ADD-PATH subtypes) records.
//!
//! A RIB entry's attributes have no UPDATE around them, and in TABLE_DUMP_V2 its
//! MP_REACH_NLRI is abbreviated to the next hop (§4.3.4). [`rib_attrs`] takes MP_REACH_NLRI
//! out (its next hop and the record's prefix become [`MpReach`]), frames the rest as an UPDATE
//! without NLRI and hands it to tern-bgp's decoder, so attribute semantics (AS4_PATH merging,
//! RFC 7606 classification) are the daemon's.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use tern_bgp::wire::{
    AFI_IPV6, Codec, ErrorAction, Message, MpNextHop, MpReach, PathAttributes, SAFI_MULTICAST,
    SAFI_UNICAST, attr_code, attr_flags, decode,
};
use tern_types::{Afi, Asn, Prefix};

use super::cursor::{Cursor, Malformed};
use super::{Peer, Rib, RibEntry};

/// TABLE_DUMP_V2 subtypes (RFC 6396 §4.3, RFC 8050 §4).
pub(super) mod subtype {
    pub const PEER_INDEX_TABLE: u16 = 1;
    pub const RIB_IPV4_UNICAST: u16 = 2;
    pub const RIB_IPV4_MULTICAST: u16 = 3;
    pub const RIB_IPV6_UNICAST: u16 = 4;
    pub const RIB_IPV6_MULTICAST: u16 = 5;
    pub const RIB_IPV4_UNICAST_ADDPATH: u16 = 8;
    pub const RIB_IPV4_MULTICAST_ADDPATH: u16 = 9;
    pub const RIB_IPV6_UNICAST_ADDPATH: u16 = 10;
    pub const RIB_IPV6_MULTICAST_ADDPATH: u16 = 11;
}

/// How attribute decoding of one entry went.
pub(super) enum AttrOutcome {
    /// Decoded whole.
    Clean(PathAttributes),
    /// RFC 7606 attribute discard: usable without the malformed attributes.
    Discarded(PathAttributes),
}

/// Reusable buffers of one reader.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    message: Vec<u8>,
}

/// Family and ADD-PATH of a TABLE_DUMP_V2 RIB subtype; `None` for the others.
pub(super) fn rib_subtype(sub: u16) -> Option<(Afi, u8, bool)> {
    use subtype::*;
    Some(match sub {
        RIB_IPV4_UNICAST => (Afi::Ipv4, SAFI_UNICAST, false),
        RIB_IPV4_MULTICAST => (Afi::Ipv4, SAFI_MULTICAST, false),
        RIB_IPV6_UNICAST => (Afi::Ipv6, SAFI_UNICAST, false),
        RIB_IPV6_MULTICAST => (Afi::Ipv6, SAFI_MULTICAST, false),
        RIB_IPV4_UNICAST_ADDPATH => (Afi::Ipv4, SAFI_UNICAST, true),
        RIB_IPV4_MULTICAST_ADDPATH => (Afi::Ipv4, SAFI_MULTICAST, true),
        RIB_IPV6_UNICAST_ADDPATH => (Afi::Ipv6, SAFI_UNICAST, true),
        RIB_IPV6_MULTICAST_ADDPATH => (Afi::Ipv6, SAFI_MULTICAST, true),
        _ => return None,
    })
}

/// PEER_INDEX_TABLE (§4.3.1): the peers RIB entries refer to by index.
pub(super) fn peer_index_table(body: &[u8]) -> Result<Vec<Peer>, Malformed> {
    let mut c = Cursor::new(body);
    c.u32("PEER_INDEX_TABLE: collector BGP ID")?;
    let name_len = c.u16("PEER_INDEX_TABLE: view name length")?;
    c.take(usize::from(name_len), "PEER_INDEX_TABLE: view name")?;
    let count = c.u16("PEER_INDEX_TABLE: peer count")?;
    let mut peers = Vec::with_capacity(usize::from(count).min(body.len() / 9 + 1));
    for _ in 0..count {
        let ty = c.u8("PEER_INDEX_TABLE: peer type")?;
        c.u32("PEER_INDEX_TABLE: peer BGP ID")?;
        let ip = c.ip(ty & 1 != 0, "PEER_INDEX_TABLE: peer address")?;
        let asn = c.asn(ty & 2 != 0, "PEER_INDEX_TABLE: peer AS")?;
        peers.push(Peer { ip, asn: Asn(asn) });
    }
    Ok(peers)
}

/// One entry of a RIB record that could not be used, and why.
pub(super) type EntryProblem = String;

/// A TABLE_DUMP_V2 RIB record (§4.3.2). Entries with malformed attributes are left out and
/// reported in the second value; a broken record framing is an `Err`.
pub(super) fn rib_record(
    body: &[u8],
    timestamp: u32,
    (afi, safi, add_path): (Afi, u8, bool),
    peers: &[Peer],
    scratch: &mut Scratch,
) -> Result<(Rib, Vec<EntryProblem>, u64), Malformed> {
    let mut c = Cursor::new(body);
    c.u32("RIB: sequence number")?;
    let prefix = prefix(&mut c, afi)?;
    let count = c.u16("RIB: entry count")?;
    let mut entries = Vec::with_capacity(usize::from(count).min(body.len() / 8 + 1));
    let mut problems = Vec::new();
    let mut discards = 0;
    for _ in 0..count {
        let index = c.u16("RIB entry: peer index")?;
        let originated = c.u32("RIB entry: originated time")?;
        let path_id = if add_path {
            Some(c.u32("RIB entry: path identifier")?)
        } else {
            None
        };
        let len = c.u16("RIB entry: attribute length")?;
        let raw = c.take(
            usize::from(len),
            "RIB entry: attributes run past the record",
        )?;
        let Some(&peer) = peers.get(usize::from(index)) else {
            problems.push(format!(
                "peer index {index} not in the PEER_INDEX_TABLE ({} peers)",
                peers.len()
            ));
            continue;
        };
        match rib_attrs(raw, true, afi, safi, prefix, scratch) {
            Ok(AttrOutcome::Clean(attrs)) => entries.push(RibEntry {
                peer,
                originated,
                path_id,
                attrs,
            }),
            Ok(AttrOutcome::Discarded(attrs)) => {
                discards += 1;
                entries.push(RibEntry {
                    peer,
                    originated,
                    path_id,
                    attrs,
                });
            }
            Err(why) => problems.push(format!("{prefix} from {}: {why}", peer.ip)),
        }
    }
    Ok((
        Rib {
            timestamp,
            prefix,
            entries,
        },
        problems,
        discards,
    ))
}

/// A TABLE_DUMP record (§4.2): one route; `v6` from the subtype (1 IPv4, 2 IPv6).
pub(super) fn table_dump_v1(
    body: &[u8],
    timestamp: u32,
    v6: bool,
    scratch: &mut Scratch,
) -> Result<(Rib, bool), String> {
    let mut c = Cursor::new(body);
    c.u16("TABLE_DUMP: view number")?;
    c.u16("TABLE_DUMP: sequence number")?;
    let addr = c.ip(v6, "TABLE_DUMP: prefix")?;
    let len = c.u8("TABLE_DUMP: prefix length")?;
    let prefix = Prefix::truncating(addr, len).ok_or("TABLE_DUMP: prefix length too long")?;
    c.u8("TABLE_DUMP: status")?;
    let originated = c.u32("TABLE_DUMP: originated time")?;
    let ip = c.ip(v6, "TABLE_DUMP: peer address")?;
    let asn = c.u16("TABLE_DUMP: peer AS")?;
    let alen = c.u16("TABLE_DUMP: attribute length")?;
    let raw = c.take(
        usize::from(alen),
        "TABLE_DUMP: attributes run past the record",
    )?;
    let afi = if v6 { Afi::Ipv6 } else { Afi::Ipv4 };
    let (attrs, discarded) = match rib_attrs(raw, false, afi, SAFI_UNICAST, prefix, scratch)? {
        AttrOutcome::Clean(a) => (a, false),
        AttrOutcome::Discarded(a) => (a, true),
    };
    let entry = RibEntry {
        peer: Peer {
            ip,
            asn: Asn(u32::from(asn)),
        },
        originated,
        path_id: None,
        attrs,
    };
    Ok((
        Rib {
            timestamp,
            prefix,
            entries: vec![entry],
        },
        discarded,
    ))
}

fn prefix(c: &mut Cursor<'_>, afi: Afi) -> Result<Prefix, Malformed> {
    let len = c.u8("RIB: prefix length")?;
    if len > afi.bits() {
        return Err("RIB: prefix length longer than the address");
    }
    let bytes = c.take(usize::from(len).div_ceil(8), "RIB: prefix")?;
    let addr = match afi {
        Afi::Ipv4 => {
            let mut o = [0u8; 4];
            o.iter_mut().zip(bytes).for_each(|(d, s)| *d = *s);
            IpAddr::V4(Ipv4Addr::from(o))
        }
        Afi::Ipv6 => {
            let mut o = [0u8; 16];
            o.iter_mut().zip(bytes).for_each(|(d, s)| *d = *s);
            IpAddr::V6(Ipv6Addr::from(o))
        }
    };
    Prefix::truncating(addr, len).ok_or("RIB: prefix length longer than the address")
}

/// The next hop of an MP_REACH_NLRI, abbreviated (§4.3.4: length and address only) or full.
fn mp_next_hop(value: &[u8]) -> Option<MpNextHop> {
    let nh = match value.first() {
        Some(&n) if usize::from(n) + 1 == value.len() => &value[1..],
        // Full form: AFI (2), SAFI (1), next-hop length (1), next hop, …
        _ if value.len() >= 4 => {
            let n = usize::from(value[3]);
            value.get(4..4 + n)?
        }
        _ => return None,
    };
    match nh.len() {
        4 => Some(MpNextHop::V4(Ipv4Addr::from(<[u8; 4]>::try_from(nh).ok()?))),
        16 | 32 => {
            let global = Ipv6Addr::from(<[u8; 16]>::try_from(&nh[..16]).ok()?);
            let link_local = nh
                .get(16..32)
                .and_then(|b| <[u8; 16]>::try_from(b).ok())
                .map(Ipv6Addr::from);
            Some(MpNextHop::V6 { global, link_local })
        }
        _ => None,
    }
}

/// Decodes a RIB entry's attribute list through tern-bgp's UPDATE decoder.
pub(super) fn rib_attrs(
    raw: &[u8],
    four_octet_as: bool,
    afi: Afi,
    safi: u8,
    prefix: Prefix,
    scratch: &mut Scratch,
) -> Result<AttrOutcome, String> {
    let m = &mut scratch.message;
    m.clear();
    m.extend_from_slice(&[0xff; 16]);
    m.extend_from_slice(&[0, 0, 2, 0, 0, 0, 0]); // length, UPDATE, no withdrawn, attr length
    let mut mp = None;
    let mut c = Cursor::new(raw);
    while !c.is_empty() {
        let flags = c.u8("attribute flags")?;
        let code = c.u8("attribute type")?;
        let len = if flags & attr_flags::EXTENDED_LENGTH != 0 {
            usize::from(c.u16("attribute length")?)
        } else {
            usize::from(c.u8("attribute length")?)
        };
        let value = c.take(len, "attribute runs past the entry")?;
        if code == attr_code::MP_REACH_NLRI {
            let next_hop = mp_next_hop(value).ok_or("MP_REACH_NLRI: no usable next hop")?;
            mp = Some(MpReach {
                afi: if afi == Afi::Ipv6 {
                    AFI_IPV6
                } else {
                    tern_bgp::wire::AFI_IPV4
                },
                safi,
                next_hop,
                nlri: vec![prefix],
            });
            continue;
        }
        // BIRD 2's RIB dumps write LOCAL_PREF with flags 0x00 (its internal attribute, not as
        // on the wire); a well-known attribute is transitive, so the bit is set back rather
        // than the entry refused (`bgpdump -m` reads such entries too).
        let well_known = [
            attr_code::ORIGIN,
            attr_code::AS_PATH,
            attr_code::NEXT_HOP,
            attr_code::LOCAL_PREF,
            attr_code::ATOMIC_AGGREGATE,
        ];
        let flags = if well_known.contains(&code)
            && flags & (attr_flags::OPTIONAL | attr_flags::TRANSITIVE) == 0
        {
            flags | attr_flags::TRANSITIVE
        } else {
            flags
        };
        m.push(flags);
        m.push(code);
        if flags & attr_flags::EXTENDED_LENGTH != 0 {
            m.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            m.push(len as u8);
        }
        m.extend_from_slice(value);
    }
    let total = m.len();
    let (Ok(attr_len), Ok(msg_len)) = (u16::try_from(total - 23), u16::try_from(total)) else {
        return Err("attributes too long".into());
    };
    m[16..18].copy_from_slice(&msg_len.to_be_bytes());
    m[21..23].copy_from_slice(&attr_len.to_be_bytes());
    let ctx = Codec {
        four_octet_as,
        extended_messages: true,
    };
    let (mut attrs, discarded) = match decode(m, &ctx) {
        Ok(Some((Message::Update(u), _))) => (u.attrs, false),
        Ok(_) => return Err("attributes did not frame as an UPDATE".into()),
        Err(e) => match e.action {
            ErrorAction::AttributeDiscard(u) => (u.attrs, true),
            _ => return Err(e.to_string()),
        },
    };
    attrs.mp_reach = mp;
    Ok(if discarded {
        AttrOutcome::Discarded(attrs)
    } else {
        AttrOutcome::Clean(attrs)
    })
}
