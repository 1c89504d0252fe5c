//! Decode and encode errors, classified per RFC 4271 §6 and RFC 7606 §2.
//!
//! A [`DecodeError`] carries what went wrong ([`DecodeErrorKind`]) and what the session must do
//! about it ([`ErrorAction`]): reset the session with a NOTIFICATION, treat the UPDATE's routes as
//! withdrawn and stay up, or use the UPDATE without the offending attributes.

use tern_types::{Asn, Prefix};

use super::{ErrorCode, Notification, Update};

/// A message that could not be used as received.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct DecodeError {
    /// What was wrong (the first error of the most severe class).
    pub kind: DecodeErrorKind,
    /// What the session must do.
    pub action: ErrorAction,
    /// Length of the offending message: skip this many bytes to go on when the action is not
    /// [`ErrorAction::SessionReset`] (for a session reset, the framing may be lost).
    pub consumed: usize,
}

impl DecodeError {
    /// The NOTIFICATION to send before closing, when the error is session-fatal.
    pub fn notification(&self) -> Option<Notification> {
        match &self.action {
            ErrorAction::SessionReset(n) => Some(n.clone()),
            _ => None,
        }
    }

    /// Whether the session must be reset.
    pub fn is_session_fatal(&self) -> bool {
        matches!(self.action, ErrorAction::SessionReset(_))
    }

    pub(crate) fn reset(
        kind: DecodeErrorKind,
        code: ErrorCode,
        subcode: u8,
        data: Vec<u8>,
    ) -> Self {
        DecodeError {
            kind,
            action: ErrorAction::SessionReset(Notification::new(code, subcode, data)),
            consumed: 0,
        }
    }
}

/// What the session does about a [`DecodeError`] (RFC 7606 §2, in decreasing severity).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorAction {
    /// Send this NOTIFICATION and close the session (RFC 4271 §6, RFC 7606 "session reset").
    SessionReset(Notification),
    /// RFC 7606 "treat-as-withdraw": every prefix the UPDATE announced or withdrew (NLRI,
    /// Withdrawn Routes, MP_REACH_NLRI, MP_UNREACH_NLRI) is to be handled as withdrawn; the
    /// session stays up.
    TreatAsWithdraw {
        /// All prefixes of the UPDATE, of every family.
        withdrawn: Vec<Prefix>,
    },
    /// RFC 7606 "attribute discard": the UPDATE is usable without the malformed attribute(s),
    /// which are already left out here.
    AttributeDiscard(Box<Update>),
}

/// What was wrong with a received message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The 16-octet marker is not all ones (RFC 4271 §6.1).
    #[error("message header: marker is not all ones (connection not synchronized)")]
    BadMarker,
    /// The header length is out of range for the message type (RFC 4271 §6.1).
    #[error("message header: bad length {length} for message type {message_type}")]
    BadLength {
        /// The length field.
        length: u16,
        /// The type field.
        message_type: u8,
    },
    /// Unknown message type (RFC 4271 §6.1).
    #[error("message header: unknown message type {0}")]
    BadType(u8),
    /// OPEN with a version other than 4 (RFC 4271 §6.2).
    #[error("OPEN: unsupported BGP version {0} (we speak 4)")]
    UnsupportedVersion(u8),
    /// OPEN with a BGP identifier of 0 (RFC 6286 §2.2).
    #[error("OPEN: BGP identifier 0.0.0.0 is invalid")]
    BadBgpId,
    /// OPEN with hold time 1 or 2 (RFC 4271 §6.2).
    #[error("OPEN: unacceptable hold time {0}s (must be 0 or at least 3)")]
    UnacceptableHoldTime(u16),
    /// OPEN with an optional parameter other than capabilities (RFC 4271 §6.2, RFC 5492).
    #[error("OPEN: unsupported optional parameter type {0}")]
    UnsupportedOptionalParameter(u8),
    /// OPEN whose optional parameters or capabilities do not add up.
    #[error("OPEN: malformed {0}")]
    MalformedOpen(&'static str),
    /// OPEN with an AS of 0 or a 4-octet AS capability of 0 (RFC 7607).
    #[error("OPEN: peer AS {0} is invalid")]
    BadPeerAs(Asn),
    /// UPDATE whose lengths do not add up (RFC 4271 §6.3, RFC 7606 §4).
    #[error("UPDATE: malformed attribute list: {0}")]
    MalformedAttributeList(&'static str),
    /// An attribute with flags that conflict with its type (RFC 4271 §6.3).
    #[error("UPDATE: attribute {code} has wrong flags {flags:#04x}")]
    AttributeFlags {
        /// Attribute type code.
        code: u8,
        /// Flags received.
        flags: u8,
    },
    /// An attribute whose length is wrong for its type (RFC 4271 §6.3, RFC 7606 §7).
    #[error("UPDATE: attribute {code} has invalid length {length}")]
    AttributeLength {
        /// Attribute type code.
        code: u8,
        /// Length received.
        length: usize,
    },
    /// ORIGIN with an undefined value (RFC 4271 §6.3).
    #[error("UPDATE: invalid ORIGIN value {0}")]
    InvalidOrigin(u8),
    /// AS_PATH or AS4_PATH that does not parse (RFC 4271 §6.3, RFC 7606 §7.2).
    #[error("UPDATE: malformed {attr}: {reason}")]
    MalformedAsPath {
        /// "AS_PATH" or "AS4_PATH".
        attr: &'static str,
        /// What was wrong.
        reason: &'static str,
    },
    /// A well-known mandatory attribute is missing (RFC 4271 §6.3, RFC 7606 §3 d).
    #[error("UPDATE: missing well-known attribute {0}")]
    MissingWellKnown(u8),
    /// A well-known attribute we do not know (RFC 4271 §6.3).
    #[error("UPDATE: unrecognized well-known attribute {0}")]
    UnrecognizedWellKnown(u8),
    /// An attribute other than MP_REACH/MP_UNREACH appears twice; the repeats are discarded
    /// (RFC 7606 §3 g).
    #[error("UPDATE: attribute {0} appears more than once")]
    DuplicateAttribute(u8),
    /// Malformed NLRI in the NLRI, Withdrawn Routes or MP fields (RFC 7606 §5.3).
    #[error("UPDATE: invalid network field: {0}")]
    InvalidNetworkField(&'static str),
    /// A malformed MP_REACH_NLRI or MP_UNREACH_NLRI (RFC 7606 §7.11).
    #[error("UPDATE: malformed {attr}: {reason}")]
    MalformedMp {
        /// "MP_REACH_NLRI" or "MP_UNREACH_NLRI".
        attr: &'static str,
        /// What was wrong.
        reason: &'static str,
    },
    /// Another malformed attribute (AGGREGATOR, COMMUNITIES, …).
    #[error("UPDATE: malformed attribute {code}: {reason}")]
    MalformedAttribute {
        /// Attribute type code.
        code: u8,
        /// What was wrong.
        reason: &'static str,
    },
    /// NOTIFICATION shorter than its fixed part (RFC 4271 §6.1).
    #[error("NOTIFICATION: too short")]
    ShortNotification,
    /// ROUTE-REFRESH whose length is not 23 (RFC 7313 §5).
    #[error("ROUTE-REFRESH: invalid length {0}")]
    RouteRefreshLength(u16),
}

/// A message that cannot be put on the wire as given.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// An IPv6 next hop of `::` (never valid, and peers drop such routes).
    #[error("IPv6 next hop must not be the unspecified address ::")]
    UnspecifiedNextHop,
    /// The encoded message would exceed the session's maximum length.
    #[error("message of {length} bytes exceeds the maximum of {max}; split the UPDATE")]
    TooLong {
        /// Encoded length.
        length: usize,
        /// Maximum for this session.
        max: usize,
    },
    /// A prefix of the wrong family for the field it is in (e.g. IPv6 in the IPv4 NLRI field).
    #[error("prefix {prefix} does not belong in a field of AFI {afi}")]
    WrongFamily {
        /// The prefix.
        prefix: Prefix,
        /// The field's AFI.
        afi: u16,
    },
    /// The MP next hop does not fit the AFI (an IPv4 next hop for IPv6 routes).
    #[error("MP_REACH_NLRI next hop is not usable for AFI {0}")]
    NextHopFamily(u16),
    /// An AS above 65535 in OPEN without the 4-octet AS capability (RFC 6793 §3).
    #[error("OPEN: {0} needs the 4-octet AS capability")]
    MissingFourOctetAs(Asn),
    /// A value longer than its length field allows.
    #[error("{what} is {length} bytes, more than the {max} its length field allows")]
    FieldTooLong {
        /// Which field.
        what: &'static str,
        /// Its length.
        length: usize,
        /// The maximum.
        max: usize,
    },
    /// The UPDATE lacks an attribute its NLRI need (ORIGIN, AS_PATH, NEXT_HOP).
    #[error("UPDATE with NLRI lacks the mandatory attribute {0}")]
    MissingMandatory(&'static str),
}
