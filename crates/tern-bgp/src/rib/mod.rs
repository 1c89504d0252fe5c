//! Route tables of one peer: the Adj-RIB-Out of our own routes and the optional Adj-RIB-In.
//!
//! Sits between the announcer (which decides what each upstream should see) and the session
//! (which puts UPDATEs on the wire): [`AdjRibOut`] turns desired state into the smallest set of
//! UPDATEs (RFC 4271 §9.2), [`AdjRibIn`] keeps what the peer sent when asked to (off by default).

mod adj_in;
mod out;
#[cfg(test)]
mod tests;

pub use adj_in::{AdjRibIn, MaxPrefixExceeded, ReceiveCounters};
pub use out::{AdjRibOut, Export, ExportContext, RouteAttrs, Unsendable, afi_safi, family};
