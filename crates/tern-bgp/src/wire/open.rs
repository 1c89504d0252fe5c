//! OPEN messages and capabilities (RFC 4271 §4.2, RFC 5492, RFC 9072).

use std::net::Ipv4Addr;

use tern_types::Asn;

/// AFI for IPv4 (IANA "Address Family Numbers").
pub const AFI_IPV4: u16 = 1;
/// AFI for IPv6.
pub const AFI_IPV6: u16 = 2;
/// SAFI unicast (RFC 4760).
pub const SAFI_UNICAST: u8 = 1;
/// SAFI multicast (RFC 4760).
pub const SAFI_MULTICAST: u8 = 2;

/// Capability codes (IANA "Capability Codes").
#[allow(missing_docs)]
pub mod cap_code {
    pub const MULTIPROTOCOL: u8 = 1;
    pub const ROUTE_REFRESH: u8 = 2;
    pub const EXTENDED_MESSAGE: u8 = 6;
    pub const ROLE: u8 = 9;
    pub const GRACEFUL_RESTART: u8 = 64;
    pub const FOUR_OCTET_AS: u8 = 65;
    pub const ADD_PATH: u8 = 69;
    pub const ENHANCED_ROUTE_REFRESH: u8 = 70;
}

/// An OPEN message (RFC 4271 §4.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Open {
    /// BGP version; always 4 on the wire we accept.
    pub version: u8,
    /// The sender's AS. On decode, the 4-octet AS capability's value when present (RFC 6793),
    /// else the 2-octet field. On encode, the 2-octet field gets AS_TRANS when this is > 65535
    /// (and a [`Capability::FourOctetAs`] must then be present).
    pub my_as: Asn,
    /// Proposed hold time in seconds: 0 or at least 3 (RFC 4271 §4.2).
    pub hold_time: u16,
    /// BGP identifier (RFC 6286: any non-zero value).
    pub bgp_id: Ipv4Addr,
    /// Capabilities, in wire order (RFC 5492). Each one is sent in its own optional parameter
    /// on encode, the way BIRD and GoBGP do.
    pub capabilities: Vec<Capability>,
}

impl Open {
    /// The 4-octet AS capability's value, if the sender advertised it.
    pub fn four_octet_as(&self) -> Option<Asn> {
        self.capabilities.iter().find_map(|c| match c {
            Capability::FourOctetAs(a) => Some(*a),
            _ => None,
        })
    }

    /// The (AFI, SAFI) pairs of the multiprotocol capabilities (RFC 4760 §8).
    pub fn multiprotocol(&self) -> impl Iterator<Item = (u16, u8)> + '_ {
        self.capabilities.iter().filter_map(|c| match c {
            Capability::Multiprotocol { afi, safi } => Some((*afi, *safi)),
            _ => None,
        })
    }

    /// The BGP role, if advertised (RFC 9234).
    pub fn role(&self) -> Option<Role> {
        self.capabilities.iter().find_map(|c| match c {
            Capability::Role(r) => Some(*r),
            _ => None,
        })
    }

    /// Whether a capability of this kind was advertised (compares the variant only).
    pub fn has(&self, cap: &Capability) -> bool {
        self.capabilities
            .iter()
            .any(|c| std::mem::discriminant(c) == std::mem::discriminant(cap))
    }
}

/// One capability (RFC 5492 §4). Unknown ones are kept so they can be logged.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Capability {
    /// Multiprotocol extensions (code 1, RFC 4760 §8).
    Multiprotocol {
        /// Address family identifier ([`AFI_IPV4`], [`AFI_IPV6`], …).
        afi: u16,
        /// Subsequent AFI ([`SAFI_UNICAST`], …).
        safi: u8,
    },
    /// Route refresh (code 2, RFC 2918).
    RouteRefresh,
    /// Enhanced route refresh (code 70, RFC 7313).
    EnhancedRouteRefresh,
    /// Extended messages up to 65535 bytes (code 6, RFC 8654).
    ExtendedMessage,
    /// 4-octet AS number support, with the sender's real AS (code 65, RFC 6793).
    FourOctetAs(Asn),
    /// BGP role (code 9, RFC 9234).
    Role(Role),
    /// Graceful restart (code 64, RFC 4724), value kept raw.
    GracefulRestart(Vec<u8>),
    /// ADD-PATH (code 69, RFC 7911), value kept raw.
    AddPath(Vec<u8>),
    /// Anything else, or a known code whose value had an unexpected length.
    Unknown {
        /// Capability code.
        code: u8,
        /// Capability value.
        data: Vec<u8>,
    },
}

/// A BGP role (RFC 9234 §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// 0: the sender is a provider of the receiver.
    Provider,
    /// 1: the sender is a route server.
    RouteServer,
    /// 2: the sender is a route server client.
    RouteServerClient,
    /// 3: the sender is a customer of the receiver.
    Customer,
    /// 4: lateral peers.
    Peer,
    /// A value not assigned in RFC 9234.
    Unknown(u8),
}

impl Role {
    /// The wire value.
    pub fn code(self) -> u8 {
        match self {
            Role::Provider => 0,
            Role::RouteServer => 1,
            Role::RouteServerClient => 2,
            Role::Customer => 3,
            Role::Peer => 4,
            Role::Unknown(v) => v,
        }
    }

    /// The role for a wire value.
    pub fn from_code(v: u8) -> Self {
        match v {
            0 => Role::Provider,
            1 => Role::RouteServer,
            2 => Role::RouteServerClient,
            3 => Role::Customer,
            4 => Role::Peer,
            v => Role::Unknown(v),
        }
    }

    /// The role the other side must have for a session to be correct (RFC 9234 §4.2,
    /// table 2), or `None` for an unknown role.
    pub fn expected_peer_role(self) -> Option<Role> {
        match self {
            Role::Provider => Some(Role::Customer),
            Role::Customer => Some(Role::Provider),
            Role::RouteServer => Some(Role::RouteServerClient),
            Role::RouteServerClient => Some(Role::RouteServer),
            Role::Peer => Some(Role::Peer),
            Role::Unknown(_) => None,
        }
    }
}
