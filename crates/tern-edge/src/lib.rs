//! tern-edge: see ARCHITECTURE.md for its place in the workspace.

pub mod peer;
//! tern-edge: the site daemon (`tern run`): tokio wiring, peer drivers, announcer, probes,
//! control API, metrics and the "which site" HTTP + DNS responders. See ARCHITECTURE.md for its
//! place in the workspace.
//!
//! Modules so far: [`whoami`] (identity responders over DNS and HTTP) and [`probe`] (health check
//! executors and the scheduler that feeds `tern-health`'s machines).

pub mod probe;
pub mod whoami;
