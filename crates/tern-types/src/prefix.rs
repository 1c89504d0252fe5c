//! IP prefixes (IPv4 and IPv6) with the host bits zero, as announced in BGP.

use std::cmp::Ordering;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::community::serde_via_str;

/// Address family (RFC 4760 AFI, unicast SAFI implied).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Afi {
    /// IPv4, AFI 1.
    Ipv4,
    /// IPv6, AFI 2.
    Ipv6,
}

impl Afi {
    /// The IANA AFI number.
    pub const fn code(self) -> u16 {
        match self {
            Afi::Ipv4 => 1,
            Afi::Ipv6 => 2,
        }
    }
    /// Longest prefix normally accepted in the global table: /24 for IPv4, /48 for IPv6.
    pub const fn max_announceable_len(self) -> u8 {
        match self {
            Afi::Ipv4 => 24,
            Afi::Ipv6 => 48,
        }
    }
    /// Address width in bits.
    pub const fn bits(self) -> u8 {
        match self {
            Afi::Ipv4 => 32,
            Afi::Ipv6 => 128,
        }
    }
}

impl fmt::Display for Afi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Afi::Ipv4 => "ipv4",
            Afi::Ipv6 => "ipv6",
        })
    }
}

/// An IPv4 or IPv6 prefix whose host bits are zero (`2001:db8::/48`, `192.0.2.0/24`).
///
/// Parsing refuses `2001:db8::1/48`: an operator who wrote it meant something else.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Prefix(IpNet);

/// Text that is not a prefix with zero host bits.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParsePrefixError {
    /// Not `ADDRESS/LENGTH`.
    #[error("invalid prefix {0:?}: expected ADDRESS/LENGTH such as 2001:db8::/48")]
    Syntax(String),
    /// Host bits set.
    #[error("prefix {given} has host bits set: did you mean {network}?")]
    HostBits {
        /// What was written.
        given: String,
        /// The network it falls in.
        network: String,
    },
}

impl Prefix {
    /// Builds a prefix, refusing set host bits or a length beyond the address width.
    pub fn new(addr: IpAddr, len: u8) -> Result<Self, ParsePrefixError> {
        let net =
            IpNet::new(addr, len).map_err(|_| ParsePrefixError::Syntax(format!("{addr}/{len}")))?;
        if net.trunc() != net {
            return Err(ParsePrefixError::HostBits {
                given: net.to_string(),
                network: net.trunc().to_string(),
            });
        }
        Ok(Prefix(net))
    }

    /// Builds a prefix from address and length, clearing host bits.
    pub fn truncating(addr: IpAddr, len: u8) -> Option<Self> {
        IpNet::new(addr, len).ok().map(|n| Prefix(n.trunc()))
    }

    /// The network address.
    pub fn addr(&self) -> IpAddr {
        self.0.network()
    }
    /// The prefix length.
    pub fn len(&self) -> u8 {
        self.0.prefix_len()
    }
    /// Never true for a prefix; present for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        false
    }
    /// IPv4 or IPv6.
    pub fn afi(&self) -> Afi {
        match self.0 {
            IpNet::V4(_) => Afi::Ipv4,
            IpNet::V6(_) => Afi::Ipv6,
        }
    }
    /// The underlying `ipnet` value.
    pub fn as_ipnet(&self) -> IpNet {
        self.0
    }
    /// IPv4 view.
    pub fn as_v4(&self) -> Option<Ipv4Net> {
        match self.0 {
            IpNet::V4(n) => Some(n),
            IpNet::V6(_) => None,
        }
    }
    /// IPv6 view.
    pub fn as_v6(&self) -> Option<Ipv6Net> {
        match self.0 {
            IpNet::V6(n) => Some(n),
            IpNet::V4(_) => None,
        }
    }
    /// `other` lies within `self` (equal counts).
    pub fn contains(&self, other: &Prefix) -> bool {
        self.0.contains(&other.0)
    }
    /// The address lies within `self`.
    pub fn contains_addr(&self, addr: &IpAddr) -> bool {
        self.0.contains(addr)
    }
    /// The two share any address.
    pub fn overlaps(&self, other: &Prefix) -> bool {
        self.contains(other) || other.contains(self)
    }
    /// Splits into subnets of `len` bits, in address order. `None` when `len` is shorter than
    /// this prefix or longer than the family allows.
    pub fn subnets(&self, len: u8) -> Option<impl Iterator<Item = Prefix>> {
        self.0.subnets(len).ok().map(|it| it.map(Prefix))
    }
    /// Inside a documentation range: 2001:db8::/32, 3fff::/20 (RFC 3849, RFC 9637),
    /// 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 (RFC 5737).
    pub fn is_documentation(&self) -> bool {
        const DOC: [&str; 5] = [
            "2001:db8::/32",
            "3fff::/20",
            "192.0.2.0/24",
            "198.51.100.0/24",
            "203.0.113.0/24",
        ];
        DOC.iter().any(|d| {
            d.parse::<IpNet>()
                .map(|d| d.contains(&self.0))
                .unwrap_or(false)
        })
    }
}

impl Ord for Prefix {
    /// IPv4 before IPv6, then by address, then shorter first.
    fn cmp(&self, other: &Self) -> Ordering {
        (self.afi(), self.addr(), self.len()).cmp(&(other.afi(), other.addr(), other.len()))
    }
}
impl PartialOrd for Prefix {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Prefix {
    type Err = ParsePrefixError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if !t.contains('/') {
            return Err(ParsePrefixError::Syntax(s.to_owned()));
        }
        let net: IpNet = t
            .parse()
            .map_err(|_| ParsePrefixError::Syntax(s.to_owned()))?;
        Prefix::new(net.addr(), net.prefix_len())
    }
}

impl From<Ipv4Net> for Prefix {
    fn from(n: Ipv4Net) -> Self {
        Prefix(IpNet::V4(n.trunc()))
    }
}
impl From<Ipv6Net> for Prefix {
    fn from(n: Ipv6Net) -> Self {
        Prefix(IpNet::V6(n.trunc()))
    }
}

serde_via_str!(Prefix, "a prefix such as \"2001:db8::/48\"");

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Prefix {
        s.parse().unwrap()
    }

    #[test]
    fn parse_and_refuse_host_bits() {
        assert_eq!(p("2001:db8::/48").len(), 48);
        assert_eq!(p("192.0.2.0/24").afi(), Afi::Ipv4);
        let e = "2001:db8::1/48".parse::<Prefix>().unwrap_err();
        assert!(e.to_string().contains("2001:db8::/48"), "{e}");
        assert!("2001:db8::".parse::<Prefix>().is_err());
        assert!("2001:db8::/129".parse::<Prefix>().is_err());
    }

    #[test]
    fn relations() {
        let a = p("2001:db8::/44");
        let b = p("2001:db8:f::/48");
        assert!(a.contains(&b) && a.overlaps(&b) && b.overlaps(&a));
        assert!(!a.contains(&p("2001:db8:10::/48")));
        assert_eq!(a.subnets(48).unwrap().count(), 16);
        assert!(a.subnets(40).is_none());
    }

    #[test]
    fn documentation() {
        assert!(p("3fff:abc::/32").is_documentation() && !p("3fff:1234::/32").is_documentation());
        assert!(p("203.0.113.0/24").is_documentation());
        assert!(!p("2a0e:1000::/44").is_documentation());
    }

    #[test]
    fn ordering() {
        let mut v = vec![p("2001:db8::/48"), p("192.0.2.0/24"), p("2001:db8::/44")];
        v.sort();
        assert_eq!(
            v,
            vec![p("192.0.2.0/24"), p("2001:db8::/44"), p("2001:db8::/48")]
        );
    }
}
