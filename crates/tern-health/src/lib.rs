//! tern-health: what a site checks and how check results become route decisions.
//!
//! This crate sits below `tern-edge` in the workspace (see ARCHITECTURE.md). It is pure and
//! sans-IO (STYLE habit 1): no tokio, no sockets, no clock. The site daemon's probe executors
//! (`tern-edge::probe`) run a [`CheckSpec`] and hand the [`CheckResult`] to a [`CheckMachine`]
//! together with the time it finished; the machine answers with state transitions
//! ([`CheckMachine::poll_output`]) and its next deadline ([`CheckMachine::poll_timeout`]).
//! [`PrefixStates`] folds service states and the operator's drain flag into one
//! [`PrefixState`] per announced prefix, which the announcer turns into BGP UPDATEs.
//!
//! Pieces:
//! - [`spec`]: check kinds, timing, defaults and validation.
//! - [`machine`]: the rise/fall hysteresis machine with flap damping (hold-down and
//!   exponential back-off of re-announcement, after RFC 2439 §4 / RFC 7196).
//! - [`prefix`]: services → prefixes aggregation (withdraw vs degrade, drain).
//!
//! RFCs referred to: 2439 (BGP route flap damping), 7196 (making damping usable),
//! 1035 (DNS query types and rcodes used by DNS checks).

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod machine;
pub mod prefix;
pub mod spec;

pub use machine::{CheckMachine, CheckTransition, Health};
pub use prefix::{
    Degrade, OnDown, PrefixPolicy, PrefixState, PrefixStates, PrefixTransition, ServiceBinding,
};
pub use spec::{CheckKind, CheckResult, CheckSpec, CheckSpecError, Damping, DnsExpect};
