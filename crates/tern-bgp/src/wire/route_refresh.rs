//! ROUTE-REFRESH messages (RFC 2918 §3, RFC 7313 §3 for the subtype).

/// A ROUTE-REFRESH message: "send me your Adj-RIB-Out for this family again".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RouteRefresh {
    /// Address family.
    pub afi: u16,
    /// Subsequent address family.
    pub safi: u8,
    /// The RFC 7313 subtype (the octet that RFC 2918 called Reserved).
    pub subtype: RouteRefreshSubtype,
}

/// ROUTE-REFRESH message subtype (RFC 7313 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RouteRefreshSubtype {
    /// 0: a normal route refresh request.
    Normal,
    /// 1: Beginning of Route Refresh (BoRR).
    BeginningOfRefresh,
    /// 2: End of Route Refresh (EoRR).
    EndOfRefresh,
    /// Any other value: RFC 7313 §4 says to ignore the message.
    Unknown(u8),
}

impl RouteRefreshSubtype {
    /// The wire value.
    pub fn code(self) -> u8 {
        match self {
            RouteRefreshSubtype::Normal => 0,
            RouteRefreshSubtype::BeginningOfRefresh => 1,
            RouteRefreshSubtype::EndOfRefresh => 2,
            RouteRefreshSubtype::Unknown(v) => v,
        }
    }
    /// The subtype for a wire value.
    pub fn from_code(v: u8) -> Self {
        match v {
            0 => RouteRefreshSubtype::Normal,
            1 => RouteRefreshSubtype::BeginningOfRefresh,
            2 => RouteRefreshSubtype::EndOfRefresh,
            v => RouteRefreshSubtype::Unknown(v),
        }
    }
}

impl RouteRefresh {
    /// A normal refresh request for a family.
    pub fn request(afi: u16, safi: u8) -> Self {
        RouteRefresh {
            afi,
            safi,
            subtype: RouteRefreshSubtype::Normal,
        }
    }
}
