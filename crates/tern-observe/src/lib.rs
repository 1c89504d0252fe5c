//! `tern observe` and `tern publish`: what route collectors saw of the model's prefixes, and
//! the registry objects (route/route6, ROAs) the model implies.
//!
//! - [`mrt`]: a streaming MRT reader (RFC 6396, RFC 8050) over tern-bgp's UPDATE decoder.
//! - [`observe`]: per planned prefix, what collectors saw; alerts; intent verdicts by paths.
//! - [`publish`]: route/route6 objects and ROAs from the model; the diff against today's VRPs
//!   and IRR objects.
//!
//! Synchronous and free of network I/O; the binary (`crates/tern/src/cmd/observe.rs`,
//! `publish.rs`) does the printing and the HTTP.

pub mod mrt;
pub mod observe;
pub mod publish;
