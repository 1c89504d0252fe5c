//! tern-rpki: the routing-security facts `tern check` needs about our announcements.
//!
//! - [`bogons`]: prefixes and AS numbers that must never be originated on the Internet;
//! - [`VrpSet`]: validated ROA payloads from validator JSON (rpki-client, Routinator) or RTR,
//!   and route origin validation of (prefix, origin) per RFC 6811;
//! - [`max_length_advice`]: RFC 9319 warnings about ROAs looser than what is announced;
//! - [`IrrDb`]: route/route6 objects from RPSL (whois output or IRRd dumps, RFC 2622 / 4012);
//! - [`rtr`]: a sans-IO RPKI-to-Router client core (RFC 8210, falling back to RFC 6810) and a
//!   small blocking fetch driver.
//!
//! The crate sits below the `tern` binary and next to `tern-model` (see ARCHITECTURE.md): it reads
//! files it is pointed at and, only in `rtr::fetch`, opens one TCP connection; no async runtime.
//!
//! RFCs: 6811 (origin validation), 6482 / 6483 (ROA maxLength, AS 0), 9319 (maxLength),
//! 6810 / 8210 (RTR v0 / v1), 2622 / 4012 (RPSL route, route6), 6890 and the RFCs named in
//! [`bogons`].

pub mod bogons;
mod error;
mod irr;
mod maxlen;
pub mod rtr;
mod vrp;
mod vrp_json;

pub use error::LoadError;
pub use irr::{IrrDb, RouteObject};
pub use maxlen::{MaxLenAdvice, max_length_advice, max_length_advice_for_plan};
pub use vrp::{InvalidReason, Validity, Vrp, VrpError, VrpSet};
