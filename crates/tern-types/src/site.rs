//! Site identifiers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::community::serde_via_str;

/// A site's name: 1–32 characters of lowercase ASCII letters, digits and `-`, starting with a
/// letter (`ams`, `vultr-fra`). It becomes a BIRD identifier, a file name and a DNS label.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SiteId(String);

impl SiteId {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SiteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Text that is not a valid site name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid site name {0:?}: use 1-32 lowercase letters, digits or '-', starting with a letter"
)]
pub struct ParseSiteIdError(pub String);

impl FromStr for SiteId {
    type Err = ParseSiteIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = (1..=32).contains(&s.len())
            && s.as_bytes()[0].is_ascii_lowercase()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(SiteId(s.to_owned()))
        } else {
            Err(ParseSiteIdError(s.to_owned()))
        }
    }
}

serde_via_str!(SiteId, "a site name such as \"ams\"");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!("ams".parse::<SiteId>().is_ok());
        assert!("vultr-fra1".parse::<SiteId>().is_ok());
        assert!("Ams".parse::<SiteId>().is_err());
        assert!("1ams".parse::<SiteId>().is_err());
        assert!("".parse::<SiteId>().is_err());
        assert!("a b".parse::<SiteId>().is_err());
    }
}
