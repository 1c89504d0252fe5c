//! Validated ROA payloads and route origin validation (RFC 6811).
//!
//! A [`VrpSet`] is what an RPKI validator (rpki-client, Routinator, via JSON or RTR) says may
//! originate what. `tern check` asks it for the RFC 6811 state of each (announced prefix, our ASN).
//!
//! The set keeps its VRPs in one vector sorted by prefix. The VRPs that *cover* a route are those
//! whose prefix is the route's prefix truncated to some shorter-or-equal length, so a lookup is at
//! most one binary search per VRP prefix length present in the file (≤ 33 for IPv4, ≤ 129 for
//! IPv6): O(L · log n), never a scan of the ~500k VRPs a real validator exports.

use std::fmt;
use std::net::IpAddr;
use std::time::SystemTime;

use tern_types::{Afi, Asn, Prefix};

/// One validated ROA payload (RFC 6811 §1): `asn` may originate `prefix` and its more-specifics up
/// to `max_len` bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Vrp {
    /// The ROA prefix.
    pub prefix: Prefix,
    /// Longest prefix length authorised (RFC 6482 maxLength).
    pub max_len: u8,
    /// The authorised origin AS. AS 0 authorises nobody (RFC 6483 §4).
    pub asn: Asn,
}

/// A VRP whose maxLength does not fit its prefix (RFC 6482 §3.3).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VrpError {
    /// maxLength below the prefix length.
    #[error("maxLength {max_len} is shorter than the prefix length of {prefix}")]
    MaxLenTooShort {
        /// The ROA prefix.
        prefix: Prefix,
        /// The maxLength given.
        max_len: u16,
    },
    /// maxLength beyond the address width.
    #[error("maxLength {max_len} is longer than an {afi} address ({bits} bits) for {prefix}")]
    MaxLenTooLong {
        /// The ROA prefix.
        prefix: Prefix,
        /// The maxLength given.
        max_len: u16,
        /// The family.
        afi: Afi,
        /// Its address width.
        bits: u8,
    },
}

impl Vrp {
    /// Builds a VRP, refusing a maxLength outside `prefix.len() ..= address width`.
    pub fn new(prefix: Prefix, max_len: u16, asn: Asn) -> Result<Vrp, VrpError> {
        let bits = prefix.afi().bits();
        if max_len < u16::from(prefix.len()) {
            return Err(VrpError::MaxLenTooShort { prefix, max_len });
        }
        match u8::try_from(max_len) {
            Ok(m) if m <= bits => Ok(Vrp {
                prefix,
                max_len: m,
                asn,
            }),
            _ => Err(VrpError::MaxLenTooLong {
                prefix,
                max_len,
                afi: prefix.afi(),
                bits,
            }),
        }
    }

    /// The VRP covers `route` (RFC 6811 §2): its prefix contains the route's.
    pub fn covers(&self, route: &Prefix) -> bool {
        self.prefix.contains(route)
    }

    /// The VRP matches the route (RFC 6811 §2): it covers it, the route is no longer than
    /// maxLength, and the origins agree. AS 0 never matches.
    pub fn matches(&self, route: &Prefix, origin: Asn) -> bool {
        self.covers(route) && route.len() <= self.max_len && self.asn == origin && origin.0 != 0
    }
}

impl fmt::Display for Vrp {
    /// `2001:db8::/32 maxLength 48 AS64512`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} maxLength {} {}", self.prefix, self.max_len, self.asn)
    }
}

/// Why a route is Invalid (RFC 6811 §2: covered by at least one VRP, matched by none).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InvalidReason {
    /// No covering VRP authorises the route's origin AS.
    WrongOrigin,
    /// A covering VRP authorises the origin, but only up to a shorter maxLength.
    TooLong,
}

/// The route origin validation state of RFC 6811 §2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Validity {
    /// At least one VRP matches.
    Valid,
    /// VRPs cover the route but none matches.
    Invalid(InvalidReason),
    /// No VRP covers the route.
    NotFound,
}

impl fmt::Display for InvalidReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InvalidReason::WrongOrigin => "no covering VRP authorises the origin AS",
            InvalidReason::TooLong => {
                "the prefix is longer than the maxLength of the VRP for its origin"
            }
        })
    }
}

impl fmt::Display for Validity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Validity::Valid => f.write_str("valid"),
            Validity::Invalid(r) => write!(f, "invalid ({r})"),
            Validity::NotFound => f.write_str("not found"),
        }
    }
}

/// A set of VRPs indexed for RFC 6811 lookups. Build it from validator JSON
/// ([`VrpSet::from_json_file`]), an RTR session ([`crate::rtr`]) or VRPs ([`VrpSet::from_vrps`]).
///
/// Two sets are equal when they hold the same VRPs, whatever their metadata.
#[derive(Clone, Debug, Default)]
pub struct VrpSet {
    /// Sorted by (family, prefix length, address, max_len, asn), without duplicates: each
    /// (family, length) is one contiguous bucket.
    vrps: Vec<Vrp>,
    /// `vrps[i]`'s network address as an integer, for cheap comparisons in binary searches.
    keys: Vec<u128>,
    /// Per family [IPv4, IPv6]: (prefix length, start, end) of each bucket, ascending length.
    buckets: [Vec<(u8, usize, usize)>; 2],
    /// When the validator produced the data, if the file says.
    generated: Option<SystemTime>,
}

impl VrpSet {
    /// An indexed set of `vrps` (duplicates dropped).
    pub fn from_vrps(vrps: impl IntoIterator<Item = Vrp>) -> VrpSet {
        let mut vrps: Vec<Vrp> = vrps.into_iter().collect();
        vrps.sort_unstable_by_key(|v| {
            (
                v.prefix.afi(),
                v.prefix.len(),
                addr_bits(&v.prefix),
                v.max_len,
                v.asn,
            )
        });
        vrps.dedup();
        let keys: Vec<u128> = vrps.iter().map(|v| addr_bits(&v.prefix)).collect();
        let mut buckets: [Vec<(u8, usize, usize)>; 2] = [Vec::new(), Vec::new()];
        let mut start = 0;
        while start < vrps.len() {
            let (afi, len) = (vrps[start].prefix.afi(), vrps[start].prefix.len());
            let end = start
                + vrps[start..]
                    .iter()
                    .take_while(|v| v.prefix.afi() == afi && v.prefix.len() == len)
                    .count();
            buckets[afi_index(afi)].push((len, start, end));
            start = end;
        }
        VrpSet {
            vrps,
            keys,
            buckets,
            generated: None,
        }
    }

    pub(crate) fn with_generated(mut self, generated: Option<SystemTime>) -> VrpSet {
        self.generated = generated;
        self
    }

    /// Number of distinct VRPs.
    pub fn len(&self) -> usize {
        self.vrps.len()
    }

    /// No VRPs at all.
    pub fn is_empty(&self) -> bool {
        self.vrps.is_empty()
    }

    /// All VRPs, by family, then prefix length, then address.
    pub fn iter(&self) -> impl Iterator<Item = &Vrp> {
        self.vrps.iter()
    }

    /// When the validator generated the data (rpki-client `metadata.buildtime`, Routinator and
    /// OctoRPKI `metadata.generated`), if the file says; a stale file gives stale answers.
    pub fn generated(&self) -> Option<SystemTime> {
        self.generated
    }

    /// The VRPs covering `route` (RFC 6811 §2), shortest VRP prefix first.
    pub fn covering(&self, route: &Prefix) -> Vec<&Vrp> {
        let width = route.afi().bits();
        let bits = addr_bits(route);
        let mut out = Vec::new();
        for &(len, start, end) in &self.buckets[afi_index(route.afi())] {
            if len > route.len() {
                break;
            }
            let q = bits & mask(len, width);
            let keys = &self.keys[start..end];
            let from = keys.partition_point(|k| *k < q);
            let n = keys[from..].iter().take_while(|k| **k == q).count();
            out.extend(&self.vrps[start + from..start + from + n]);
        }
        out
    }

    /// The RFC 6811 §2 validation state of `route` originated by `origin`.
    pub fn validate(&self, route: &Prefix, origin: Asn) -> Validity {
        let covering = self.covering(route);
        if covering.is_empty() {
            return Validity::NotFound;
        }
        if covering.iter().any(|v| v.matches(route, origin)) {
            return Validity::Valid;
        }
        if origin.0 != 0 && covering.iter().any(|v| v.asn == origin) {
            Validity::Invalid(InvalidReason::TooLong)
        } else {
            Validity::Invalid(InvalidReason::WrongOrigin)
        }
    }
}

impl PartialEq for VrpSet {
    fn eq(&self, other: &Self) -> bool {
        self.vrps == other.vrps
    }
}
impl Eq for VrpSet {}

impl FromIterator<Vrp> for VrpSet {
    fn from_iter<I: IntoIterator<Item = Vrp>>(iter: I) -> Self {
        VrpSet::from_vrps(iter)
    }
}

/// The network address as an integer (IPv4 in the low 32 bits).
fn addr_bits(p: &Prefix) -> u128 {
    match p.addr() {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

/// The netmask of a `len`-bit prefix in a `width`-bit family, as an integer like [`addr_bits`].
fn mask(len: u8, width: u8) -> u128 {
    let ones = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
    ones >> (128 - u32::from(width))
}

fn afi_index(afi: Afi) -> usize {
    match afi {
        Afi::Ipv4 => 0,
        Afi::Ipv6 => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Prefix {
        s.parse().unwrap()
    }
    fn vrp(prefix: &str, max_len: u16, asn: u32) -> Vrp {
        Vrp::new(p(prefix), max_len, Asn(asn)).unwrap()
    }
    fn set() -> VrpSet {
        VrpSet::from_vrps([
            vrp("2001:db8::/32", 32, 64512),
            vrp("2001:db8:100::/40", 48, 64513),
            vrp("2001:db8:200::/48", 48, 64514),
            vrp("2001:db8:200::/48", 48, 64514), // duplicate, dropped
            vrp("192.0.2.0/24", 24, 64512),
            vrp("198.51.100.0/24", 24, 0), // AS0: "do not route"
        ])
    }

    #[test]
    fn rfc6811_valid_exact_and_within_max_length() {
        let s = set();
        assert_eq!(s.len(), 5);
        assert_eq!(s.validate(&p("2001:db8::/32"), Asn(64512)), Validity::Valid);
        // /44 inside 2001:db8:100::/40-48 for AS64513: matched.
        assert_eq!(
            s.validate(&p("2001:db8:100::/44"), Asn(64513)),
            Validity::Valid
        );
        assert_eq!(
            s.validate(&p("2001:db8:1ff::/48"), Asn(64513)),
            Validity::Valid
        );
        assert_eq!(s.validate(&p("192.0.2.0/24"), Asn(64512)), Validity::Valid);
    }

    #[test]
    fn rfc6811_invalid_origin_and_length() {
        let s = set();
        // Covered by the /32 (AS64512) and the /40 (AS64513); AS64999 is authorised by neither.
        assert_eq!(
            s.validate(&p("2001:db8:100::/48"), Asn(64999)),
            Validity::Invalid(InvalidReason::WrongOrigin)
        );
        // AS64512 owns the /32 but with maxLength 32: a /48 is too long.
        assert_eq!(
            s.validate(&p("2001:db8:ff00::/48"), Asn(64512)),
            Validity::Invalid(InvalidReason::TooLong)
        );
        assert_eq!(
            s.validate(&p("192.0.2.128/25"), Asn(64512)),
            Validity::Invalid(InvalidReason::TooLong)
        );
        // AS0 VRP covers but never matches, even for origin AS0.
        assert_eq!(
            s.validate(&p("198.51.100.0/24"), Asn(0)),
            Validity::Invalid(InvalidReason::WrongOrigin)
        );
    }

    #[test]
    fn rfc6811_covered_by_shorter_vrp_only() {
        let s = set();
        // 2001:db8:300::/48 is covered only by the /32 (AS64512, max 32).
        let cov = s.covering(&p("2001:db8:300::/48"));
        assert_eq!(cov, vec![&vrp("2001:db8::/32", 32, 64512)]);
        // 2001:db8:200::/48 is covered by the /32 and its own exact VRP, shortest first.
        let cov = s.covering(&p("2001:db8:200::/48"));
        assert_eq!(
            cov,
            vec![
                &vrp("2001:db8::/32", 32, 64512),
                &vrp("2001:db8:200::/48", 48, 64514)
            ]
        );
        assert_eq!(
            s.validate(&p("2001:db8:200::/48"), Asn(64514)),
            Validity::Valid
        );
    }

    #[test]
    fn rfc6811_not_found() {
        let s = set();
        assert_eq!(s.validate(&p("3fff::/48"), Asn(64512)), Validity::NotFound);
        // A less-specific of a VRP is not covered by it.
        assert_eq!(
            s.validate(&p("2001:db8::/31"), Asn(64512)),
            Validity::NotFound
        );
        assert_eq!(
            s.validate(&p("203.0.113.0/24"), Asn(64512)),
            Validity::NotFound
        );
        // IPv4 VRPs never cover IPv6 routes, even with equal leading bits (::/0-ish).
        assert_eq!(s.validate(&p("::/0"), Asn(64512)), Validity::NotFound);
    }

    /// The index agrees with a linear scan over random nested VRPs and queries.
    #[test]
    fn index_matches_linear_scan() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut pick = |v6: bool| -> Prefix {
            let r = rnd();
            if v6 {
                let len = (r % 65) as u8;
                // Few distinct high bits so that prefixes nest often.
                let a = (0x2001_0db8u128 << 96) | (u128::from(r & 0xf0f0) << 64);
                Prefix::truncating(std::net::Ipv6Addr::from(a).into(), len).unwrap()
            } else {
                let len = (r % 33) as u8;
                let a = 0xc000_0200u32 | ((r >> 8) as u32 & 0x0f0f_00ff);
                Prefix::truncating(std::net::Ipv4Addr::from(a).into(), len).unwrap()
            }
        };
        let mut vrps = Vec::new();
        for i in 0..2000 {
            let p = pick(i % 2 == 0);
            let max = p.len() + (i % 3) as u8;
            if let Ok(v) = Vrp::new(
                p,
                u16::from(max.min(p.afi().bits())),
                Asn(64512 + (i % 5) as u32),
            ) {
                vrps.push(v);
            }
        }
        let set = VrpSet::from_vrps(vrps.clone());
        let (mut covered, mut multi) = (0, 0);
        for i in 0..2000 {
            let q = pick(i % 2 == 1);
            let mut want: Vec<&Vrp> = set.iter().filter(|v| v.covers(&q)).collect();
            want.sort_by_key(|v| v.prefix.len());
            let mut got = set.covering(&q);
            got.sort_by_key(|v| v.prefix.len());
            assert_eq!(got.len(), want.len(), "{q}");
            covered += usize::from(!want.is_empty());
            multi += usize::from(want.len() > 1);
            assert!(want.iter().all(|w| got.contains(w)), "{q}");
            let asn = Asn(64512 + (i % 6) as u32);
            let linear = if want.is_empty() {
                Validity::NotFound
            } else if want.iter().any(|v| v.matches(&q, asn)) {
                Validity::Valid
            } else {
                Validity::Invalid(if want.iter().any(|v| v.asn == asn) {
                    InvalidReason::TooLong
                } else {
                    InvalidReason::WrongOrigin
                })
            };
            assert_eq!(set.validate(&q, asn), linear, "{q} {asn}");
        }
        // The data must exercise nesting, or the comparison proves little.
        assert!(
            covered > 200 && multi > 100,
            "covered {covered}, multi {multi}"
        );
    }

    #[test]
    fn max_len_bounds() {
        assert!(matches!(
            Vrp::new(p("2001:db8::/32"), 31, Asn(1)),
            Err(VrpError::MaxLenTooShort { .. })
        ));
        assert!(matches!(
            Vrp::new(p("192.0.2.0/24"), 33, Asn(1)),
            Err(VrpError::MaxLenTooLong { .. })
        ));
        assert!(Vrp::new(p("2001:db8::/32"), 128, Asn(1)).is_ok());
        assert!(Vrp::new(p("2001:db8::/32"), 300, Asn(1)).is_err());
    }

    #[test]
    fn display() {
        assert_eq!(
            vrp("2001:db8::/32", 48, 64512).to_string(),
            "2001:db8::/32 maxLength 48 AS64512"
        );
        assert_eq!(Validity::NotFound.to_string(), "not found");
        assert!(
            Validity::Invalid(InvalidReason::TooLong)
                .to_string()
                .starts_with("invalid (")
        );
    }
}
