//! tern-edge: the site daemon (`tern run`): tokio wiring, peer drivers, announcer, probes,
//! control API, metrics and the "which site" HTTP + DNS responders. See ARCHITECTURE.md for its
//! place in the workspace.
//!
//! Modules so far: [`peer`] (the tokio driver of a tern-bgp session: TCP-MD5, TTL, source
//! address), [`whoami`] (identity responders over DNS and HTTP) and [`probe`] (health check
//! executors and the scheduler that feeds `tern-health`'s machines).

pub mod peer;
pub mod probe;
pub mod whoami;
