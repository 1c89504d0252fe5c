//! The BGP-4 wire format: typed messages and their encoding and decoding.
//!
//! This is the bottom layer of `tern-bgp`: the session FSM and the Adj-RIB-Out sit on top of it and
//! exchange [`Message`] values; a driver in `tern-edge` moves the bytes. It is sans-IO: [`decode`]
//! takes a byte buffer and says how much it consumed (or that it needs more), [`encode`] appends to
//! a `Vec<u8>`. A [`Codec`] carries what the session negotiated (4-octet AS, extended messages).
//!
//! RFCs implemented here:
//! - RFC 4271 BGP-4 (§4 message formats, §6 error handling), RFC 5492 capabilities,
//! - RFC 4760 multiprotocol (MP_REACH_NLRI / MP_UNREACH_NLRI), RFC 2545 IPv6 next hops,
//! - RFC 6793 4-octet AS numbers (AS4_PATH / AS4_AGGREGATOR merging, §4.2.3),
//! - RFC 7606 revised UPDATE error handling (treat-as-withdraw, attribute discard),
//! - RFC 1997 communities, RFC 8092 large communities, RFC 9234 roles and OTC,
//! - RFC 2918 / RFC 7313 route refresh and enhanced route refresh,
//! - RFC 8203 / RFC 9003 shutdown communication, RFC 4486 Cease subcodes,
//! - RFC 8654 extended messages, RFC 9072 extended optional parameters length (decode only).
//!
//! Error handling in brief (see [`DecodeError`] and [`ErrorAction`]): framing, OPEN and length
//! errors reset the session with the RFC 4271 §6 NOTIFICATION; a malformed MP_REACH/MP_UNREACH or
//! NLRI field too (RFC 7606 §5.3, §7.11); malformed ORIGIN, AS_PATH, NEXT_HOP, MED, LOCAL_PREF,
//! COMMUNITIES, LARGE_COMMUNITY, OTC, flag conflicts, missing mandatory attributes and a broken
//! attribute list are treat-as-withdraw (for a broken list: the prefixes parsed before the break
//! plus the NLRI field, located by the Total Path Attribute Length, RFC 7606 §4); a bad
//! ATOMIC_AGGREGATE, AGGREGATOR, AS4_* or a repeated attribute is attribute discard.
//!
//! Left to the session, because they need to know the peer: LOCAL_PREF from an eBGP peer
//! (discard), the first AS of the path, the peer AS and role in OPEN, capability negotiation.
//!
//! Not implemented: ADD-PATH NLRI (RFC 7911: the capability is kept raw, path identifiers are not
//! parsed, so a session must not negotiate ADD-PATH receive), families other than IPv4/IPv6
//! unicast and multicast (their MP_REACH/MP_UNREACH are kept as raw attributes), RFC 9072
//! extended optional parameters on encode, and the Partial bit of the attributes we model (we
//! originate routes and never pass received ones on; it is kept on unknown attributes).

mod attrs;
mod codec;
mod error;
mod nlri;
mod notification;
mod open;
mod reader;
mod route_refresh;
mod update;
mod update_decode;
mod update_encode;

pub use attrs::{
    Aggregator, AsPath, AsSegment, MpNextHop, MpReach, MpUnreach, Origin, PathAttributes,
    RawAttribute, SegmentKind, attr_code, attr_flags,
};
pub use codec::{decode, encode};
pub use error::{DecodeError, DecodeErrorKind, EncodeError, ErrorAction};
pub use notification::{ErrorCode, Notification, subcode};
pub use open::{
    AFI_IPV4, AFI_IPV6, Capability, Open, Role, SAFI_MULTICAST, SAFI_UNICAST, cap_code,
};
pub use route_refresh::{RouteRefresh, RouteRefreshSubtype};
pub use update::Update;
pub use update_encode::{updates_for_announce, updates_for_withdraw};

/// `AS_TRANS` (RFC 6793 §9): stands in for a 4-octet ASN in 2-octet fields.
pub const AS_TRANS: tern_types::Asn = tern_types::Asn(23456);

/// Length of the fixed header: 16-octet marker, 2-octet length, 1-octet type (RFC 4271 §4.1).
pub const HEADER_LEN: usize = 19;
/// Largest message without extended messages (RFC 4271 §4.1).
pub const MAX_MESSAGE_LEN: usize = 4096;
/// Largest message when both sides advertised extended messages (RFC 8654).
pub const MAX_EXTENDED_MESSAGE_LEN: usize = 65535;
/// The BGP version we speak (RFC 4271 §4.2).
pub const BGP_VERSION: u8 = 4;

/// Message type codes (RFC 4271 §4.1, RFC 2918 §3).
pub mod message_type {
    /// OPEN.
    pub const OPEN: u8 = 1;
    /// UPDATE.
    pub const UPDATE: u8 = 2;
    /// NOTIFICATION.
    pub const NOTIFICATION: u8 = 3;
    /// KEEPALIVE.
    pub const KEEPALIVE: u8 = 4;
    /// ROUTE-REFRESH (RFC 2918).
    pub const ROUTE_REFRESH: u8 = 5;
}

/// One BGP message (RFC 4271 §4).
// UPDATE is unboxed on purpose: messages are short-lived and matched on everywhere; a box per
// UPDATE would cost more than the copy of a few hundred bytes.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// OPEN (§4.2).
    Open(Open),
    /// UPDATE (§4.3).
    Update(Update),
    /// NOTIFICATION (§4.5).
    Notification(Notification),
    /// KEEPALIVE (§4.4): the header alone.
    Keepalive,
    /// ROUTE-REFRESH (RFC 2918, RFC 7313).
    RouteRefresh(RouteRefresh),
}

impl Message {
    /// The message type code in the header.
    pub fn type_code(&self) -> u8 {
        match self {
            Message::Open(_) => message_type::OPEN,
            Message::Update(_) => message_type::UPDATE,
            Message::Notification(_) => message_type::NOTIFICATION,
            Message::Keepalive => message_type::KEEPALIVE,
            Message::RouteRefresh(_) => message_type::ROUTE_REFRESH,
        }
    }
}

/// What the session negotiated that changes the encoding: the codec context.
///
/// Before the OPENs are exchanged use [`Codec::default`] (2-octet AS, 4096-byte messages); OPEN,
/// KEEPALIVE, NOTIFICATION and ROUTE-REFRESH do not depend on it. After both OPENs, build it with
/// [`Codec::negotiated`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Codec {
    /// Both sides advertised the 4-octet AS capability (RFC 6793): AS_PATH and AGGREGATOR carry
    /// 4-octet ASNs. When false, 4-octet ASNs go out as AS_TRANS with AS4_PATH/AS4_AGGREGATOR,
    /// and incoming AS4_PATH is merged into the AS_PATH (RFC 6793 §4.2.3).
    pub four_octet_as: bool,
    /// Both sides advertised extended messages (RFC 8654): messages up to 65535 bytes.
    pub extended_messages: bool,
}

impl Codec {
    /// The context for a session where we sent `local` and received `remote`.
    pub fn negotiated(local: &Open, remote: &Open) -> Self {
        let both = |f: fn(&Capability) -> bool| {
            local.capabilities.iter().any(f) && remote.capabilities.iter().any(f)
        };
        Codec {
            four_octet_as: both(|c| matches!(c, Capability::FourOctetAs(_))),
            extended_messages: both(|c| matches!(c, Capability::ExtendedMessage)),
        }
    }

    /// The largest message this session may send or receive.
    pub fn max_message_len(&self) -> usize {
        if self.extended_messages {
            MAX_EXTENDED_MESSAGE_LEN
        } else {
            MAX_MESSAGE_LEN
        }
    }
}
