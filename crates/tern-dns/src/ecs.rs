//! The EDNS Client Subnet option (RFC 7871 §6): which network a recursive resolver asks for.
//!
//! Wire form (option code 8): FAMILY (2 octets, 1 = IPv4, 2 = IPv6, IANA address families),
//! SOURCE PREFIX-LENGTH (1), SCOPE PREFIX-LENGTH (1), ADDRESS (exactly ⌈source/8⌉ octets, the
//! bits past the source length zero). A query carries scope 0; the authoritative answer echoes
//! family, source and address and sets the scope: the prefix length the answer is valid for
//! (RFC 7871 §7.2.1), which resolvers use as their cache key.
//!
//! [`ClientSubnet::parse`] refuses what RFC 7871 §7.1.1 says a server SHOULD answer with
//! FORMERR: an unknown family, a source length above the family's, too few or too many address
//! octets, and address bits set past the source length.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// EDNS option code of Client Subnet (RFC 7871 §6, IANA).
pub const OPT_ECS: u16 = 8;

/// Why an ECS option is malformed (the server answers FORMERR).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EcsError {
    /// Shorter than the 4 fixed octets.
    #[error("ECS option shorter than 4 octets")]
    Short,
    /// FAMILY other than 1 (IPv4) or 2 (IPv6).
    #[error("ECS family {0} is not IPv4 (1) or IPv6 (2)")]
    Family(u16),
    /// SOURCE PREFIX-LENGTH above 32 or 128.
    #[error("ECS source prefix /{0} is longer than the address")]
    SourceTooLong(u8),
    /// ADDRESS is not ⌈source/8⌉ octets.
    #[error("ECS address has {got} octets, /{prefix} needs {want}")]
    AddressLength {
        /// Octets present.
        got: usize,
        /// Octets the source length needs.
        want: usize,
        /// The source length.
        prefix: u8,
    },
    /// Bits set past SOURCE PREFIX-LENGTH.
    #[error("ECS address has bits set past /{0}")]
    HostBits(u8),
}

/// One Client Subnet option.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientSubnet {
    /// The network address (bits past `source_prefix` zero).
    pub addr: IpAddr,
    /// SOURCE PREFIX-LENGTH: how many leading bits of `addr` the resolver disclosed.
    pub source_prefix: u8,
    /// SCOPE PREFIX-LENGTH: 0 in queries; in answers, the prefix the answer covers.
    pub scope_prefix: u8,
}

impl ClientSubnet {
    /// Decodes the option data (without the code and length).
    pub fn parse(data: &[u8]) -> Result<ClientSubnet, EcsError> {
        let [f0, f1, source, scope, addr @ ..] = data else {
            return Err(EcsError::Short);
        };
        let family = u16::from_be_bytes([*f0, *f1]);
        let max = match family {
            1 => 32,
            2 => 128,
            other => return Err(EcsError::Family(other)),
        };
        if *source > max {
            return Err(EcsError::SourceTooLong(*source));
        }
        let want = usize::from(source.div_ceil(8));
        if addr.len() != want {
            return Err(EcsError::AddressLength {
                got: addr.len(),
                want,
                prefix: *source,
            });
        }
        if let Some(last) = addr.last() {
            let used = source % 8;
            if used != 0 && last & (0xff >> used) != 0 {
                return Err(EcsError::HostBits(*source));
            }
        }
        let addr = if family == 1 {
            let mut o = [0u8; 4];
            o[..want].copy_from_slice(addr);
            IpAddr::V4(Ipv4Addr::from(o))
        } else {
            let mut o = [0u8; 16];
            o[..want].copy_from_slice(addr);
            IpAddr::V6(Ipv6Addr::from(o))
        };
        Ok(ClientSubnet {
            addr,
            source_prefix: *source,
            scope_prefix: *scope,
        })
    }

    /// The option for `addr`/`source_prefix` as a resolver would send it: host bits cleared,
    /// scope 0. The length is capped at the family's.
    pub fn query(addr: IpAddr, source_prefix: u8) -> ClientSubnet {
        let source_prefix = source_prefix.min(max_len(addr));
        ClientSubnet {
            addr: truncate(addr, source_prefix),
            source_prefix,
            scope_prefix: 0,
        }
    }

    /// The option data on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        let family: u16 = if self.addr.is_ipv4() { 1 } else { 2 };
        let source = self.source_prefix.min(max_len(self.addr));
        let n = usize::from(source.div_ceil(8));
        let mut out = Vec::with_capacity(4 + n);
        out.extend_from_slice(&family.to_be_bytes());
        out.push(source);
        out.push(self.scope_prefix);
        // One allocation: this runs for every answer to an ECS query.
        match truncate(self.addr, source) {
            IpAddr::V4(a) => out.extend_from_slice(a.octets().get(..n).unwrap_or(&[])),
            IpAddr::V6(a) => out.extend_from_slice(a.octets().get(..n).unwrap_or(&[])),
        }
        out
    }
}

/// 32 for IPv4, 128 for IPv6.
pub fn max_len(addr: IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// `addr` with the bits past `len` cleared.
pub fn truncate(addr: IpAddr, len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let len = u32::from(len.min(32));
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask))
        }
        IpAddr::V6(a) => {
            let len = u32::from(len.min(128));
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotated_bytes_both_ways() {
        // dig +subnet=198.51.100.0/24: family 1, source 24, scope 0, three octets.
        let b = [0, 1, 24, 0, 198, 51, 100];
        let c = ClientSubnet::parse(&b).unwrap();
        assert_eq!(c.addr, "198.51.100.0".parse::<IpAddr>().unwrap());
        assert_eq!((c.source_prefix, c.scope_prefix), (24, 0));
        assert_eq!(c.to_bytes(), b);
        // IPv6 /56: seven octets.
        let b = [0, 2, 56, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0];
        let c = ClientSubnet::parse(&b).unwrap();
        assert_eq!(c.addr, "2001:db8:1::".parse::<IpAddr>().unwrap());
        let answer = ClientSubnet {
            scope_prefix: 48,
            ..c
        };
        assert_eq!(
            answer.to_bytes(),
            [0, 2, 56, 48, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0]
        );
        // Source 0: no address octets.
        let c = ClientSubnet::parse(&[0, 1, 0, 0]).unwrap();
        assert_eq!(c.source_prefix, 0);
        assert_eq!(c.to_bytes(), [0, 1, 0, 0]);
    }

    #[test]
    fn malformed_options() {
        assert_eq!(ClientSubnet::parse(&[0, 1, 24]), Err(EcsError::Short));
        assert_eq!(ClientSubnet::parse(&[0, 3, 0, 0]), Err(EcsError::Family(3)));
        assert_eq!(
            ClientSubnet::parse(&[0, 1, 33, 0, 1, 2, 3, 4, 5]),
            Err(EcsError::SourceTooLong(33))
        );
        assert!(matches!(
            ClientSubnet::parse(&[0, 1, 24, 0, 1, 2, 3, 4]),
            Err(EcsError::AddressLength {
                got: 4,
                want: 3,
                ..
            })
        ));
        // /23 with the 24th bit set.
        assert_eq!(
            ClientSubnet::parse(&[0, 1, 23, 0, 198, 51, 101]),
            Err(EcsError::HostBits(23))
        );
    }

    #[test]
    fn query_clears_host_bits() {
        let c = ClientSubnet::query("2001:db8:1:2:3::9".parse().unwrap(), 56);
        assert_eq!(c.addr, "2001:db8:1::".parse::<IpAddr>().unwrap());
        assert_eq!(ClientSubnet::parse(&c.to_bytes()).unwrap(), c);
        let c = ClientSubnet::query("192.0.2.77".parse().unwrap(), 40);
        assert_eq!(
            (c.source_prefix, c.addr.to_string().as_str()),
            (32, "192.0.2.77")
        );
    }
}
