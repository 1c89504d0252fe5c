//! Peer drivers: one tokio task per BGP peer feeding the sans-IO [`tern_bgp::session::Session`].

pub mod sockopt;
pub mod transport;
