//! RPKI-to-Router protocol client: RFC 8210 (version 1), falling back to RFC 6810 (version 0).
//!
//! - [`pdu`]: the PDU codec, bytes ↔ [`pdu::Pdu`];
//! - [`RtrClient`]: the sans-IO router-side session (Reset/Serial Query, Cache Response, prefix
//!   announcements and withdrawals, End of Data, Cache Reset, Error Report, version
//!   negotiation), turning a PDU stream into a [`VrpSet`](crate::VrpSet) with session ID and serial;
//! - [`fetch`]: a thin blocking driver over `std::net::TcpStream` that opens one connection,
//!   takes a full snapshot and closes — what `tern check --rtr` style callers need. The daemon
//!   will drive [`RtrClient`] from its own runtime instead.
//!
//! Written here rather than taken from the `rpki` crate: that crate's RTR client is Tokio-based
//! and pulls in the whole repository/crypto stack, while tern needs a few hundred lines of codec
//! and state machine that its tests can drive byte by byte.

mod fetch;
pub mod pdu;
mod session;
#[cfg(test)]
mod tests;

pub use fetch::{RtrError, Snapshot, fetch, fetch_snapshot};
pub use session::{Event, MAX_VERSION, RtrClient, SessionError};
