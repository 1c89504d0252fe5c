//! Autonomous System numbers (RFC 4271, 4-octet per RFC 6793) and their reserved ranges.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A 4-octet AS number. Prints as `AS64512`; parses `64512`, `AS64512` or `as64512`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Asn(pub u32);

/// `AS_TRANS` (RFC 6793 §9): stands in for a 4-octet ASN in 2-octet fields.
pub const AS_TRANS: Asn = Asn(23456);

impl Asn {
    /// The number itself.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// Private use: 64512–65534 (RFC 6996) and 4200000000–4294967294 (RFC 6996).
    pub const fn is_private(self) -> bool {
        matches!(self.0, 64512..=65534 | 4_200_000_000..=4_294_967_294)
    }

    /// Documentation: 64496–64511 and 65536–65551 (RFC 5398).
    pub const fn is_documentation(self) -> bool {
        matches!(self.0, 64496..=64511 | 65536..=65551)
    }

    /// Never valid as an origin on the public Internet: 0 (RFC 7607), AS_TRANS (RFC 6793),
    /// documentation, private use, 65535 and 4294967295 (RFC 7300), and the IANA-reserved
    /// 65552–131071.
    pub const fn is_bogon(self) -> bool {
        self.0 == 0
            || self.0 == AS_TRANS.0
            || self.is_documentation()
            || self.is_private()
            || self.0 == 65535
            || self.0 == u32::MAX
            || matches!(self.0, 65552..=131071)
    }

    /// Fits in the 2-octet AS field of an OPEN or a standard community.
    pub const fn is_two_octet(self) -> bool {
        self.0 <= 0xffff
    }
}

impl fmt::Display for Asn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AS{}", self.0)
    }
}

/// Text that is not an AS number.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid AS number {0:?}: expected a number 0-4294967295, optionally prefixed by AS")]
pub struct ParseAsnError(pub String);

impl FromStr for Asn {
    type Err = ParseAsnError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let digits = t
            .strip_prefix("AS")
            .or_else(|| t.strip_prefix("as"))
            .or_else(|| t.strip_prefix("As"))
            .unwrap_or(t);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseAsnError(s.to_owned()));
        }
        digits
            .parse::<u32>()
            .map(Asn)
            .map_err(|_| ParseAsnError(s.to_owned()))
    }
}

impl From<u32> for Asn {
    fn from(v: u32) -> Self {
        Asn(v)
    }
}

impl Serialize for Asn {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.0)
    }
}

impl<'de> Deserialize<'de> for Asn {
    /// Accepts a number (`64512`) or a string (`"AS64512"`, `"64512"`).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Asn;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an AS number such as 64512 or \"AS64512\"")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Asn, E> {
                u32::try_from(v)
                    .map(Asn)
                    .map_err(|_| E::custom(format!("AS number {v} is larger than 4294967295")))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Asn, E> {
                u32::try_from(v)
                    .map(Asn)
                    .map_err(|_| E::custom(format!("AS number {v} is out of range 0-4294967295")))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Asn, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms() {
        assert_eq!("AS20473".parse::<Asn>().unwrap(), Asn(20473));
        assert_eq!("4200000001".parse::<Asn>().unwrap(), Asn(4_200_000_001));
        assert!("AS".parse::<Asn>().is_err());
        assert!("AS-1".parse::<Asn>().is_err());
        assert!("4294967296".parse::<Asn>().is_err());
        assert_eq!(Asn(64512).to_string(), "AS64512");
    }

    #[test]
    fn ranges() {
        assert!(Asn(64512).is_private() && Asn(64512).is_bogon());
        assert!(Asn(64500).is_documentation());
        assert!(!Asn(20473).is_bogon());
        assert!(Asn(23456).is_bogon());
        assert!(Asn(100000).is_bogon());
        assert!(!Asn(4_200_000_000).is_two_octet());
    }

    #[test]
    fn serde_number_or_string() {
        let a: Vec<Asn> = serde_json::from_str(r#"[64512, "AS13335", "174"]"#).unwrap();
        assert_eq!(a, vec![Asn(64512), Asn(13335), Asn(174)]);
        assert!(serde_json::from_str::<Asn>("-1").is_err());
    }
}
