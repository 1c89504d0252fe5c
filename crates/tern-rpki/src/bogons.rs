//! Bogon prefixes and ASNs: address space and AS numbers that must never be originated on the
//! public Internet. `tern check` flags them in a network model unless it is marked `lab = true`.
//!
//! The lists follow NLNOG's bgpfilterguide (`guides/bogon_prefixes.md`, `guides/bogon_asns.md`,
//! originally as2914.net), which derives from the IANA special-purpose registries (RFC 6890), with
//! these additions, each from its RFC:
//! - IPv4 192.0.0.0/24 (IETF protocol assignments, RFC 6890 §2.2.2) and the default route;
//! - IPv6 ::/8 (listed in bgpfilterguide's Junos example; IANA "reserved by IETF", RFC 4291),
//!   64:ff9b::/96 and 64:ff9b:1::/48 (NAT64, RFC 6052 / RFC 8215; inside ::/8 but with a more
//!   precise reason), 2001:20::/28 (ORCHIDv2, RFC 7343), and everything outside 2000::/3, the only
//!   block IANA allocates as global unicast (RFC 4291 §2.4, IANA IPv6 address space registry).
//!
//! A prefix is a bogon when it lies inside (or equals) a listed range; a prefix that merely contains
//! one (192.0.0.0/8 contains 192.0.2.0/24) is not.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use tern_types::{Asn, Prefix};

/// An IPv4 bogon range: network address, length, reason.
type V4Range = (Ipv4Addr, u8, &'static str);
/// An IPv6 bogon range: network address, length, reason.
type V6Range = (Ipv6Addr, u8, &'static str);

/// IPv4 bogons, most specific reason first where ranges nest.
const V4: &[V4Range] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8, "\"this\" network (RFC 1122)"),
    (Ipv4Addr::new(10, 0, 0, 0), 8, "private use (RFC 1918)"),
    (
        Ipv4Addr::new(100, 64, 0, 0),
        10,
        "shared address space for carrier-grade NAT (RFC 6598)",
    ),
    (Ipv4Addr::new(127, 0, 0, 0), 8, "loopback (RFC 1122)"),
    (Ipv4Addr::new(169, 254, 0, 0), 16, "link local (RFC 3927)"),
    (Ipv4Addr::new(172, 16, 0, 0), 12, "private use (RFC 1918)"),
    (
        Ipv4Addr::new(192, 0, 0, 0),
        24,
        "IETF protocol assignments (RFC 6890)",
    ),
    (
        Ipv4Addr::new(192, 0, 2, 0),
        24,
        "documentation TEST-NET-1 (RFC 5737)",
    ),
    (
        Ipv4Addr::new(192, 88, 99, 0),
        24,
        "deprecated 6to4 relay anycast (RFC 7526)",
    ),
    (Ipv4Addr::new(192, 168, 0, 0), 16, "private use (RFC 1918)"),
    (Ipv4Addr::new(198, 18, 0, 0), 15, "benchmarking (RFC 2544)"),
    (
        Ipv4Addr::new(198, 51, 100, 0),
        24,
        "documentation TEST-NET-2 (RFC 5737)",
    ),
    (
        Ipv4Addr::new(203, 0, 113, 0),
        24,
        "documentation TEST-NET-3 (RFC 5737)",
    ),
    (Ipv4Addr::new(224, 0, 0, 0), 4, "multicast (RFC 5771)"),
    (
        Ipv4Addr::new(240, 0, 0, 0),
        4,
        "reserved for future use (RFC 1112)",
    ),
];

/// IPv6 bogons, most specific reason first where ranges nest.
const V6: &[V6Range] = &[
    (
        Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0),
        96,
        "NAT64 well-known prefix (RFC 6052)",
    ),
    (
        Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0),
        48,
        "NAT64 local-use prefix (RFC 8215)",
    ),
    (
        Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0),
        8,
        "reserved by IETF, includes loopback and IPv4-mapped (RFC 4291)",
    ),
    (
        Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0),
        64,
        "discard-only (RFC 6666)",
    ),
    (
        Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 0),
        48,
        "benchmarking (RFC 5180)",
    ),
    (
        Ipv6Addr::new(0x2001, 0x10, 0, 0, 0, 0, 0, 0),
        28,
        "deprecated ORCHID (RFC 4843)",
    ),
    (
        Ipv6Addr::new(0x2001, 0x20, 0, 0, 0, 0, 0, 0),
        28,
        "ORCHIDv2 (RFC 7343)",
    ),
    (
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
        32,
        "documentation (RFC 3849)",
    ),
    (
        Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0),
        16,
        "6to4, deprecated and usually filtered (RFC 7526)",
    ),
    (
        Ipv6Addr::new(0x3ffe, 0, 0, 0, 0, 0, 0, 0),
        16,
        "former 6bone (RFC 3701)",
    ),
    (
        Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0),
        20,
        "documentation (RFC 9637)",
    ),
    (
        Ipv6Addr::new(0x5f00, 0, 0, 0, 0, 0, 0, 0),
        16,
        "SRv6 SIDs (RFC 9602)",
    ),
    (
        Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0),
        7,
        "unique local addresses (RFC 4193)",
    ),
    (
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0),
        10,
        "link local (RFC 4291)",
    ),
    (
        Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0),
        10,
        "deprecated site local (RFC 3879)",
    ),
    (
        Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0),
        8,
        "multicast (RFC 4291)",
    ),
];

/// The IPv6 global unicast block (RFC 4291 §2.4); everything outside is a bogon.
const V6_GLOBAL_UNICAST: (Ipv6Addr, u8) = (Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3);

/// Why `prefix` must not be announced on the Internet, or `None` when it may be.
///
/// ```
/// use tern_rpki::bogons::prefix_bogon;
/// let p = "2001:db8:1::/48".parse().unwrap();
/// assert_eq!(prefix_bogon(&p), Some("documentation (RFC 3849)"));
/// assert_eq!(prefix_bogon(&"2a0e:1000::/48".parse().unwrap()), None);
/// ```
pub fn prefix_bogon(prefix: &Prefix) -> Option<&'static str> {
    // `Prefix::is_empty` is always false (a /0 still holds addresses): compare the length.
    #[allow(clippy::len_zero)]
    if prefix.len() == 0 {
        return Some("default route");
    }
    match prefix.addr() {
        IpAddr::V4(a) => V4
            .iter()
            .find(|(net, len, _)| prefix.len() >= *len && same_v4(a, *net, *len))
            .map(|(_, _, why)| *why),
        IpAddr::V6(a) => V6
            .iter()
            .find(|(net, len, _)| prefix.len() >= *len && same_v6(a, *net, *len))
            .map(|(_, _, why)| *why)
            .or_else(|| {
                let (gua, len) = V6_GLOBAL_UNICAST;
                (prefix.len() < len || !same_v6(a, gua, len))
                    .then_some("outside 2000::/3, the IPv6 global unicast space (RFC 4291)")
            }),
    }
}

/// The first `len` bits of `a` and `net` agree.
fn same_v4(a: Ipv4Addr, net: Ipv4Addr, len: u8) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    u32::from(a) & mask == u32::from(net) & mask
}

/// The first `len` bits of `a` and `net` agree.
fn same_v6(a: Ipv6Addr, net: Ipv6Addr, len: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
    u128::from(a) & mask == u128::from(net) & mask
}

/// Why `asn` must not appear as an origin on the Internet, or `None` when it may.
///
/// The list of bgpfilterguide `bogon_asns.md`; reasons name the RFC that reserves each range.
pub fn asn_bogon(asn: Asn) -> Option<&'static str> {
    Some(match asn.0 {
        0 => "reserved AS 0 (RFC 7607)",
        23456 => "AS_TRANS (RFC 6793)",
        64496..=64511 | 65536..=65551 => "documentation (RFC 5398)",
        64512..=65534 | 4_200_000_000..=4_294_967_294 => "private use (RFC 6996)",
        65535 | 4_294_967_295 => "last AS number of its range, reserved (RFC 7300)",
        65552..=131071 => "reserved by IANA",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bogon(s: &str) -> Option<&'static str> {
        prefix_bogon(&s.parse().unwrap())
    }

    #[test]
    fn ipv6_documentation_and_specials() {
        assert_eq!(bogon("2001:db8::/32"), Some("documentation (RFC 3849)"));
        assert_eq!(bogon("2001:db8:ff::/48"), Some("documentation (RFC 3849)"));
        assert_eq!(bogon("3fff:123::/32"), Some("documentation (RFC 9637)"));
        // 3fff:1000:: is just past 3fff::/20 but still inside 2000::/3 and not listed.
        assert_eq!(bogon("3fff:1000::/32"), None);
        assert!(bogon("2002:c000:204::/48").unwrap().contains("6to4"));
        assert!(bogon("fd00:1::/48").unwrap().contains("RFC 4193"));
        assert!(bogon("64:ff9b::/96").unwrap().contains("RFC 6052"));
        assert!(bogon("::/8").unwrap().contains("RFC 4291"));
        assert!(bogon("100::/64").unwrap().contains("RFC 6666"));
        assert!(bogon("2001:2::/48").unwrap().contains("RFC 5180"));
        assert!(bogon("2001:20::/32").unwrap().contains("RFC 7343"));
        assert!(bogon("5f00:1::/32").unwrap().contains("RFC 9602"));
        assert!(bogon("4000::/16").unwrap().contains("2000::/3"));
        assert!(bogon("::/0").unwrap().contains("default"));
    }

    #[test]
    fn ipv6_real_allocations_pass() {
        for p in [
            "2a0e:1000::/44",
            "2001:67c::/32",
            "2620:fe::/48",
            "2001:4::/32",
        ] {
            assert_eq!(bogon(p), None, "{p}");
        }
        // A less-specific that merely contains bogon space is not itself a bogon.
        assert_eq!(bogon("2000::/3"), None);
    }

    #[test]
    fn ipv4_rfc6890_set() {
        for (p, rfc) in [
            ("0.0.0.0/8", "RFC 1122"),
            ("10.1.0.0/16", "RFC 1918"),
            ("100.64.0.0/10", "RFC 6598"),
            ("127.0.0.1/32", "RFC 1122"),
            ("169.254.0.0/16", "RFC 3927"),
            ("172.31.0.0/16", "RFC 1918"),
            ("192.0.0.0/24", "RFC 6890"),
            ("192.0.2.0/24", "RFC 5737"),
            ("192.88.99.0/24", "RFC 7526"),
            ("192.168.10.0/24", "RFC 1918"),
            ("198.19.0.0/16", "RFC 2544"),
            ("198.51.100.0/24", "RFC 5737"),
            ("203.0.113.128/25", "RFC 5737"),
            ("239.0.0.0/8", "RFC 5771"),
            ("255.255.255.255/32", "RFC 1112"),
            ("0.0.0.0/0", "default"),
        ] {
            let why = bogon(p).unwrap_or_else(|| panic!("{p} should be a bogon"));
            assert!(why.contains(rfc), "{p}: {why}");
        }
        for p in [
            "1.1.1.0/24",
            "172.32.0.0/16",
            "192.0.3.0/24",
            "198.20.0.0/16",
            "11.0.0.0/8",
        ] {
            assert_eq!(bogon(p), None, "{p}");
        }
        // 192.0.0.0/23 contains 192.0.0.0/24 but is not inside it.
        assert_eq!(bogon("192.0.0.0/23"), None);
    }

    #[test]
    fn asns() {
        assert!(asn_bogon(Asn(0)).unwrap().contains("7607"));
        assert!(asn_bogon(Asn(23456)).unwrap().contains("AS_TRANS"));
        assert!(asn_bogon(Asn(64500)).unwrap().contains("5398"));
        assert!(asn_bogon(Asn(65540)).unwrap().contains("5398"));
        assert!(asn_bogon(Asn(64512)).unwrap().contains("6996"));
        assert!(asn_bogon(Asn(4_200_000_000)).unwrap().contains("6996"));
        assert!(asn_bogon(Asn(65535)).unwrap().contains("7300"));
        assert!(asn_bogon(Asn(u32::MAX)).unwrap().contains("7300"));
        assert!(asn_bogon(Asn(100_000)).unwrap().contains("IANA"));
        for ok in [1, 174, 6939, 20473, 64495, 131072, 4_199_999_999] {
            assert_eq!(asn_bogon(Asn(ok)), None, "AS{ok}");
            assert!(!Asn(ok).is_bogon(), "tern-types disagrees on AS{ok}");
        }
    }
}
