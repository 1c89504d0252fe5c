//! NOTIFICATION messages (RFC 4271 §4.5), error codes and subcodes (RFC 4271 §6, RFC 4486,
//! RFC 7313 §5, RFC 8538, RFC 9234), and the shutdown communication (RFC 8203, RFC 9003).

use std::fmt;

/// Longest shutdown communication in octets (RFC 9003 §2, up from 128 in RFC 8203).
pub const MAX_SHUTDOWN_COMMUNICATION: usize = 255;

/// A NOTIFICATION message: the sender closes the session right after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    /// Error code ([`ErrorCode`]).
    pub code: u8,
    /// Error subcode (see [`subcode`]).
    pub subcode: u8,
    /// Data, meaning depends on code and subcode.
    pub data: Vec<u8>,
}

/// NOTIFICATION error codes (RFC 4271 §4.5, RFC 7313 §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 1: Message Header Error.
    MessageHeader,
    /// 2: OPEN Message Error.
    Open,
    /// 3: UPDATE Message Error.
    Update,
    /// 4: Hold Timer Expired.
    HoldTimerExpired,
    /// 5: Finite State Machine Error.
    Fsm,
    /// 6: Cease.
    Cease,
    /// 7: ROUTE-REFRESH Message Error (RFC 7313 §5).
    RouteRefresh,
    /// Anything else.
    Unknown(u8),
}

impl ErrorCode {
    /// The wire value.
    pub fn code(self) -> u8 {
        match self {
            ErrorCode::MessageHeader => 1,
            ErrorCode::Open => 2,
            ErrorCode::Update => 3,
            ErrorCode::HoldTimerExpired => 4,
            ErrorCode::Fsm => 5,
            ErrorCode::Cease => 6,
            ErrorCode::RouteRefresh => 7,
            ErrorCode::Unknown(v) => v,
        }
    }
    /// The error code for a wire value.
    pub fn from_code(v: u8) -> Self {
        match v {
            1 => ErrorCode::MessageHeader,
            2 => ErrorCode::Open,
            3 => ErrorCode::Update,
            4 => ErrorCode::HoldTimerExpired,
            5 => ErrorCode::Fsm,
            6 => ErrorCode::Cease,
            7 => ErrorCode::RouteRefresh,
            v => ErrorCode::Unknown(v),
        }
    }
}

/// Error subcodes, one module per error code.
pub mod subcode {
    /// Message Header Error subcodes (RFC 4271 §4.5).
    pub mod header {
        /// 1: Connection Not Synchronized (bad marker).
        pub const CONNECTION_NOT_SYNCHRONIZED: u8 = 1;
        /// 2: Bad Message Length; data is the 2-octet length.
        pub const BAD_MESSAGE_LENGTH: u8 = 2;
        /// 3: Bad Message Type; data is the type octet.
        pub const BAD_MESSAGE_TYPE: u8 = 3;
    }
    /// OPEN Message Error subcodes (RFC 4271 §4.5, RFC 5492, RFC 9234).
    pub mod open {
        /// 0: unspecific (used for malformed capabilities).
        pub const UNSPECIFIC: u8 = 0;
        /// 1: Unsupported Version Number; data is our highest version (2 octets).
        pub const UNSUPPORTED_VERSION: u8 = 1;
        /// 2: Bad Peer AS.
        pub const BAD_PEER_AS: u8 = 2;
        /// 3: Bad BGP Identifier.
        pub const BAD_BGP_IDENTIFIER: u8 = 3;
        /// 4: Unsupported Optional Parameter.
        pub const UNSUPPORTED_OPTIONAL_PARAMETER: u8 = 4;
        /// 6: Unacceptable Hold Time.
        pub const UNACCEPTABLE_HOLD_TIME: u8 = 6;
        /// 7: Unsupported Capability (RFC 5492 §5).
        pub const UNSUPPORTED_CAPABILITY: u8 = 7;
        /// 11: Role Mismatch (RFC 9234 §4.2).
        pub const ROLE_MISMATCH: u8 = 11;
    }
    /// UPDATE Message Error subcodes (RFC 4271 §4.5).
    pub mod update {
        /// 1: Malformed Attribute List.
        pub const MALFORMED_ATTRIBUTE_LIST: u8 = 1;
        /// 2: Unrecognized Well-known Attribute.
        pub const UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE: u8 = 2;
        /// 3: Missing Well-known Attribute.
        pub const MISSING_WELL_KNOWN_ATTRIBUTE: u8 = 3;
        /// 4: Attribute Flags Error.
        pub const ATTRIBUTE_FLAGS_ERROR: u8 = 4;
        /// 5: Attribute Length Error.
        pub const ATTRIBUTE_LENGTH_ERROR: u8 = 5;
        /// 6: Invalid ORIGIN Attribute.
        pub const INVALID_ORIGIN: u8 = 6;
        /// 8: Invalid NEXT_HOP Attribute.
        pub const INVALID_NEXT_HOP: u8 = 8;
        /// 9: Optional Attribute Error.
        pub const OPTIONAL_ATTRIBUTE_ERROR: u8 = 9;
        /// 10: Invalid Network Field.
        pub const INVALID_NETWORK_FIELD: u8 = 10;
        /// 11: Malformed AS_PATH.
        pub const MALFORMED_AS_PATH: u8 = 11;
    }
    /// Finite State Machine Error subcodes (RFC 6608).
    pub mod fsm {
        /// 0: unspecified.
        pub const UNSPECIFIED: u8 = 0;
        /// 1: Receive Unexpected Message in OpenSent State.
        pub const UNEXPECTED_IN_OPEN_SENT: u8 = 1;
        /// 2: Receive Unexpected Message in OpenConfirm State.
        pub const UNEXPECTED_IN_OPEN_CONFIRM: u8 = 2;
        /// 3: Receive Unexpected Message in Established State.
        pub const UNEXPECTED_IN_ESTABLISHED: u8 = 3;
    }
    /// Cease subcodes (RFC 4486, RFC 8538, RFC 9384).
    pub mod cease {
        /// 1: Maximum Number of Prefixes Reached.
        pub const MAX_PREFIXES: u8 = 1;
        /// 2: Administrative Shutdown (may carry a shutdown communication).
        pub const ADMINISTRATIVE_SHUTDOWN: u8 = 2;
        /// 3: Peer De-configured.
        pub const PEER_DECONFIGURED: u8 = 3;
        /// 4: Administrative Reset (may carry a shutdown communication).
        pub const ADMINISTRATIVE_RESET: u8 = 4;
        /// 5: Connection Rejected.
        pub const CONNECTION_REJECTED: u8 = 5;
        /// 6: Other Configuration Change.
        pub const OTHER_CONFIGURATION_CHANGE: u8 = 6;
        /// 7: Connection Collision Resolution.
        pub const CONNECTION_COLLISION_RESOLUTION: u8 = 7;
        /// 8: Out of Resources.
        pub const OUT_OF_RESOURCES: u8 = 8;
        /// 9: Hard Reset (RFC 8538).
        pub const HARD_RESET: u8 = 9;
        /// 10: BFD Down (RFC 9384).
        pub const BFD_DOWN: u8 = 10;
    }
    /// ROUTE-REFRESH Message Error subcodes (RFC 7313 §5).
    pub mod route_refresh {
        /// 1: Invalid Message Length; data is the whole message.
        pub const INVALID_MESSAGE_LENGTH: u8 = 1;
    }
}

impl Notification {
    /// A NOTIFICATION with the given code, subcode and data.
    pub fn new(code: ErrorCode, subcode: u8, data: Vec<u8>) -> Self {
        Notification {
            code: code.code(),
            subcode,
            data,
        }
    }

    /// The error code, typed.
    pub fn error_code(&self) -> ErrorCode {
        ErrorCode::from_code(self.code)
    }

    /// Cease / Administrative Shutdown with a shutdown communication (RFC 9003 §2). The text is
    /// cut at a character boundary to fit 255 octets; an empty text sends no communication.
    pub fn administrative_shutdown(message: &str) -> Self {
        Notification::cease_with_communication(subcode::cease::ADMINISTRATIVE_SHUTDOWN, message)
    }

    /// Cease / Administrative Reset with a shutdown communication (RFC 9003 §2).
    pub fn administrative_reset(message: &str) -> Self {
        Notification::cease_with_communication(subcode::cease::ADMINISTRATIVE_RESET, message)
    }

    /// A plain Cease with the given subcode and no data.
    pub fn cease(subcode: u8) -> Self {
        Notification::new(ErrorCode::Cease, subcode, Vec::new())
    }

    /// Hold Timer Expired (RFC 4271 §6.5).
    pub fn hold_timer_expired() -> Self {
        Notification::new(ErrorCode::HoldTimerExpired, 0, Vec::new())
    }

    fn cease_with_communication(sub: u8, message: &str) -> Self {
        let mut end = message.len().min(MAX_SHUTDOWN_COMMUNICATION);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        let text = &message.as_bytes()[..end];
        let mut data = Vec::with_capacity(text.len() + 1);
        if !text.is_empty() {
            // `end` <= 255 so the length fits one octet.
            data.push(text.len() as u8);
            data.extend_from_slice(text);
        }
        Notification::new(ErrorCode::Cease, sub, data)
    }

    /// The shutdown communication of a Cease / Administrative Shutdown or Reset (RFC 9003 §2):
    /// `None` when there is none, or it is not length-prefixed valid UTF-8 (the RFC says to
    /// ignore trailing data and log the rest raw; see [`Notification::data`]).
    pub fn shutdown_communication(&self) -> Option<&str> {
        if self.code != ErrorCode::Cease.code()
            || !matches!(
                self.subcode,
                subcode::cease::ADMINISTRATIVE_SHUTDOWN | subcode::cease::ADMINISTRATIVE_RESET
            )
        {
            return None;
        }
        let (&len, rest) = self.data.split_first()?;
        let text = rest.get(..usize::from(len))?;
        if text.is_empty() {
            return None;
        }
        std::str::from_utf8(text).ok()
    }

    /// A short English name of code and subcode, for logs.
    pub fn describe(&self) -> &'static str {
        use subcode::*;
        match (self.error_code(), self.subcode) {
            (ErrorCode::MessageHeader, header::CONNECTION_NOT_SYNCHRONIZED) => {
                "message header error: connection not synchronized"
            }
            (ErrorCode::MessageHeader, header::BAD_MESSAGE_LENGTH) => {
                "message header error: bad message length"
            }
            (ErrorCode::MessageHeader, header::BAD_MESSAGE_TYPE) => {
                "message header error: bad message type"
            }
            (ErrorCode::MessageHeader, _) => "message header error",
            (ErrorCode::Open, open::UNSUPPORTED_VERSION) => "OPEN error: unsupported version",
            (ErrorCode::Open, open::BAD_PEER_AS) => "OPEN error: bad peer AS",
            (ErrorCode::Open, open::BAD_BGP_IDENTIFIER) => "OPEN error: bad BGP identifier",
            (ErrorCode::Open, open::UNSUPPORTED_OPTIONAL_PARAMETER) => {
                "OPEN error: unsupported optional parameter"
            }
            (ErrorCode::Open, open::UNACCEPTABLE_HOLD_TIME) => "OPEN error: unacceptable hold time",
            (ErrorCode::Open, open::UNSUPPORTED_CAPABILITY) => "OPEN error: unsupported capability",
            (ErrorCode::Open, open::ROLE_MISMATCH) => "OPEN error: role mismatch",
            (ErrorCode::Open, _) => "OPEN error",
            (ErrorCode::Update, update::MALFORMED_ATTRIBUTE_LIST) => {
                "UPDATE error: malformed attribute list"
            }
            (ErrorCode::Update, update::UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE) => {
                "UPDATE error: unrecognized well-known attribute"
            }
            (ErrorCode::Update, update::MISSING_WELL_KNOWN_ATTRIBUTE) => {
                "UPDATE error: missing well-known attribute"
            }
            (ErrorCode::Update, update::ATTRIBUTE_FLAGS_ERROR) => "UPDATE error: attribute flags",
            (ErrorCode::Update, update::ATTRIBUTE_LENGTH_ERROR) => "UPDATE error: attribute length",
            (ErrorCode::Update, update::INVALID_ORIGIN) => "UPDATE error: invalid ORIGIN",
            (ErrorCode::Update, update::INVALID_NEXT_HOP) => "UPDATE error: invalid NEXT_HOP",
            (ErrorCode::Update, update::OPTIONAL_ATTRIBUTE_ERROR) => {
                "UPDATE error: optional attribute error"
            }
            (ErrorCode::Update, update::INVALID_NETWORK_FIELD) => {
                "UPDATE error: invalid network field"
            }
            (ErrorCode::Update, update::MALFORMED_AS_PATH) => "UPDATE error: malformed AS_PATH",
            (ErrorCode::Update, _) => "UPDATE error",
            (ErrorCode::HoldTimerExpired, _) => "hold timer expired",
            (ErrorCode::Fsm, _) => "finite state machine error",
            (ErrorCode::Cease, cease::MAX_PREFIXES) => "cease: maximum number of prefixes reached",
            (ErrorCode::Cease, cease::ADMINISTRATIVE_SHUTDOWN) => "cease: administrative shutdown",
            (ErrorCode::Cease, cease::PEER_DECONFIGURED) => "cease: peer de-configured",
            (ErrorCode::Cease, cease::ADMINISTRATIVE_RESET) => "cease: administrative reset",
            (ErrorCode::Cease, cease::CONNECTION_REJECTED) => "cease: connection rejected",
            (ErrorCode::Cease, cease::OTHER_CONFIGURATION_CHANGE) => {
                "cease: other configuration change"
            }
            (ErrorCode::Cease, cease::CONNECTION_COLLISION_RESOLUTION) => {
                "cease: connection collision resolution"
            }
            (ErrorCode::Cease, cease::OUT_OF_RESOURCES) => "cease: out of resources",
            (ErrorCode::Cease, cease::HARD_RESET) => "cease: hard reset",
            (ErrorCode::Cease, cease::BFD_DOWN) => "cease: BFD down",
            (ErrorCode::Cease, _) => "cease",
            (ErrorCode::RouteRefresh, _) => "ROUTE-REFRESH error: invalid message length",
            (ErrorCode::Unknown(_), _) => "unknown error code",
        }
    }
}

impl fmt::Display for Notification {
    /// `UPDATE error: malformed AS_PATH (3/11)`, plus the shutdown communication if any.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}/{})", self.describe(), self.code, self.subcode)?;
        if let Some(msg) = self.shutdown_communication() {
            write!(f, ": {msg:?}")?;
        }
        Ok(())
    }
}
