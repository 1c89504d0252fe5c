//! tern-bgp: our own BGP speaker, as a sans-IO library (see ARCHITECTURE.md).
//!
//! - [`wire`]: the BGP message codec (RFC 4271 §4, RFC 4760, RFC 6793, RFC 7606, …): typed
//!   messages, framing, encode/decode with a per-session [`wire::Codec`] context, and errors that
//!   say which NOTIFICATION to send or whether to treat an UPDATE as withdraw.
//! - [`rib`]: the Adj-RIB-Out of our own routes per peer (only changes go out, grouped and
//!   batched) and the optional Adj-RIB-In with a max-prefix limit.
//! - [`session`]: the RFC 4271 §8 FSM of one peer, sans-IO (quinn-proto style): inputs and
//!   timeouts in, bytes / connects / closes / up-down events out.
//!
//! Nothing in this crate touches a socket or a clock; `tern-edge` drives it with tokio.

pub mod rib;
pub mod session;
pub mod wire;
