//! BGP communities: standard (RFC 1997) and large (RFC 8092).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A standard community `ASN:VALUE`, both 16 bits. Prints and parses as `64600:6939`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Community(pub u32);

impl Community {
    /// RFC 1997 well-known NO_EXPORT.
    pub const NO_EXPORT: Community = Community(0xFFFF_FF01);
    /// RFC 1997 well-known NO_ADVERTISE.
    pub const NO_ADVERTISE: Community = Community(0xFFFF_FF02);
    /// RFC 1997 well-known NO_EXPORT_SUBCONFED.
    pub const NO_EXPORT_SUBCONFED: Community = Community(0xFFFF_FF03);
    /// RFC 8326 GRACEFUL_SHUTDOWN.
    pub const GRACEFUL_SHUTDOWN: Community = Community(0xFFFF_0000);
    /// RFC 7999 BLACKHOLE.
    pub const BLACKHOLE: Community = Community(0xFFFF_029A);

    /// Builds `high:low`.
    pub const fn new(high: u16, low: u16) -> Self {
        Community(((high as u32) << 16) | low as u32)
    }
    /// The first (AS) half.
    pub const fn high(self) -> u16 {
        (self.0 >> 16) as u16
    }
    /// The second (value) half.
    pub const fn low(self) -> u16 {
        self.0 as u16
    }
    /// In the reserved ranges 0x0000xxxx and 0xFFFFxxxx (RFC 1997).
    pub const fn is_reserved(self) -> bool {
        self.high() == 0 || self.high() == 0xFFFF
    }
}

impl fmt::Display for Community {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.high(), self.low())
    }
}

/// Text that is not a community.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseCommunityError {
    /// Not `A:B` with two 16-bit numbers.
    #[error("invalid community {0:?}: expected ASN:VALUE with both parts 0-65535, e.g. 64600:6939")]
    Standard(String),
    /// Not `A:B:C` with three 32-bit numbers.
    #[error(
        "invalid large community {0:?}: expected GLOBAL:LOCAL1:LOCAL2 with each part 0-4294967295"
    )]
    Large(String),
}

impl FromStr for Community {
    type Err = ParseCommunityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseCommunityError::Standard(s.to_owned());
        match s.trim() {
            "no-export" | "NO_EXPORT" => return Ok(Community::NO_EXPORT),
            "no-advertise" | "NO_ADVERTISE" => return Ok(Community::NO_ADVERTISE),
            _ => {}
        }
        let (a, b) = s.trim().split_once(':').ok_or_else(err)?;
        let a: u16 = a.parse().map_err(|_| err())?;
        let b: u16 = b.parse().map_err(|_| err())?;
        Ok(Community::new(a, b))
    }
}

/// A large community `GLOBAL:LOCAL1:LOCAL2` (RFC 8092), each part 32 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LargeCommunity {
    /// The global administrator, normally the ASN that defines the meaning.
    pub global: u32,
    /// First local data part (often the function).
    pub local1: u32,
    /// Second local data part (often the parameter).
    pub local2: u32,
}

impl LargeCommunity {
    /// Builds `global:local1:local2`.
    pub const fn new(global: u32, local1: u32, local2: u32) -> Self {
        LargeCommunity {
            global,
            local1,
            local2,
        }
    }
}

impl fmt::Display for LargeCommunity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.global, self.local1, self.local2)
    }
}

impl FromStr for LargeCommunity {
    type Err = ParseCommunityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseCommunityError::Large(s.to_owned());
        let mut it = s.trim().split(':');
        let mut next = || -> Result<u32, ParseCommunityError> {
            it.next().ok_or_else(err)?.parse().map_err(|_| err())
        };
        let v = LargeCommunity::new(next()?, next()?, next()?);
        if it.next().is_some() {
            return Err(err());
        }
        Ok(v)
    }
}

macro_rules! serde_via_str {
    ($t:ty, $what:literal) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $t;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$t, E> {
                        v.parse().map_err(E::custom)
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}
pub(crate) use serde_via_str;

serde_via_str!(Community, "a community such as \"64600:6939\"");
serde_via_str!(LargeCommunity, "a large community such as \"64512:1:6939\"");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_round_trip() {
        let c: Community = "64600:6939".parse().unwrap();
        assert_eq!((c.high(), c.low()), (64600, 6939));
        assert_eq!(c.to_string(), "64600:6939");
        assert_eq!(
            "no-export".parse::<Community>().unwrap(),
            Community::NO_EXPORT
        );
        assert!("65536:1".parse::<Community>().is_err());
        assert!("1".parse::<Community>().is_err());
    }

    #[test]
    fn large_round_trip() {
        let c: LargeCommunity = "4200000000:1:2".parse().unwrap();
        assert_eq!(c, LargeCommunity::new(4_200_000_000, 1, 2));
        assert_eq!(c.to_string(), "4200000000:1:2");
        assert!("1:2".parse::<LargeCommunity>().is_err());
        assert!("1:2:3:4".parse::<LargeCommunity>().is_err());
    }
}
