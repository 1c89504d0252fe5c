//! Vocabulary types shared by every tern crate: [`Asn`], [`Prefix`], [`Community`],
//! [`LargeCommunity`], [`SiteId`], and one great-circle distance ([`geo`]).
//!
//! This crate sits at the bottom of the workspace (see ARCHITECTURE.md): it is pure, has no I/O,
//! and every type parses from and prints to the text an operator writes (`AS64512`, `2001:db8::/48`,
//! `64600:6939`, `64512:1:2`), with serde going through that same text form.
//!
//! RFCs: 4271 (AS numbers), 6793 (4-octet ASN), 1997 (communities), 8092 (large communities),
//! 5398 / 6996 / 7300 (documentation and private ASNs), 3849 / 9637 / 5737 (documentation prefixes).

mod asn;
mod community;
pub mod geo;
mod prefix;
mod site;

pub use asn::{Asn, ParseAsnError};
pub use community::{Community, LargeCommunity, ParseCommunityError};
pub use prefix::{Afi, ParsePrefixError, Prefix};
pub use site::{ParseSiteIdError, SiteId};
