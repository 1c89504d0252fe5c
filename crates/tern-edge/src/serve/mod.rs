//! The daemon's one server layer (issue 15 §3): every listener of `tern run` is served here, and
//! what it answers is a handler.
//!
//! - [`accept`]: the accept loop of every stream server ([`accept::serve_connections`] over a
//!   bound TCP or Unix listener): connection cap, per-client cap, lifetime bound, tracked tasks,
//!   a cancellation token;
//! - [`http`]: a small HTTP/1.1 server taking a [`http::Router`] of [`http::Handler`]s — the
//!   "which site" trace ([`crate::whoami::trace`]) and `/metrics` ([`crate::metrics`]);
//! - [`dns`]: a DNS server over UDP and TCP taking a [`dns::DnsHandler`] that sees the client,
//!   the transport and the UDP payload limit — the "which site" responder
//!   ([`crate::whoami::dns::Whoami`]) and the coming GeoDNS authoritative server.
//!
//! The control socket ([`crate::ctl`]) runs its line protocol on [`accept`] too. Every server
//! takes a bound listener and a cancellation token (STYLE habit 4), so tests bind port 0.

pub mod accept;
pub mod dns;
pub mod http;

pub use accept::Limits;
pub use dns::{DnsHandler, DnsLimits, DnsQuery, Transport};
pub use http::{Handler, Request, Response, Router};
