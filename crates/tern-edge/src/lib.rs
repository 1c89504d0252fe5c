//! tern-edge: the site daemon (`tern run`): tokio wiring, peer drivers, announcer, probes,
//! control API, metrics and the "which site" HTTP + DNS responders. See ARCHITECTURE.md for its
//! place in the workspace.
//!
//! Modules so far: [`peer`] (the tokio driver of a tern-bgp session: TCP-MD5, TTL, source
//! address), [`serve`] (the one server layer: accept loop with limits, HTTP/1.1 and DNS
//! UDP+TCP servers taking handlers), [`whoami`] (identity handlers over DNS and HTTP) and
//! [`probe`] (health check executors and the scheduler that feeds `tern-health`'s machines),
//! [`geodns`] (the GeoDNS authoritative server as a DNS handler, and its site health watcher).
//!
//! The daemon itself (`tern run`): [`config`] (one site of tern.toml → peers, checks, prefix
//! policies; reload diffs), [`announcer`] (the one writer of what is announced), [`ctl`] (the
//! Unix-socket control API behind `tern ctl`), [`metrics`] (Prometheus text) and [`daemon`]
//! (wiring, signals, drain file, structured shutdown).

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod announcer;
pub mod config;
pub mod ctl;
pub mod daemon;
pub mod geodns;
pub mod metrics;
pub mod peer;
pub mod probe;
pub mod serve;
pub mod whoami;
