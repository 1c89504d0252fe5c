//! tern-lab: the whole anycast network of a tern.toml on one Linux host, in network namespaces.
//!
//! Place in the architecture (see ARCHITECTURE.md): used by the `tern lab` subcommand only; it
//! runs processes (`ip`, `tc`, `bird`, `birdc`, `tern run`, `ping`, `traceroute`, `curl`) and creates
//! namespaces, and depends on tern-model (the network), tern-bird (site configs) and tern-types.
//!
//! Modules, by responsibility:
//! - [`geo`]: regions, cities, link delays from coordinates;
//! - [`topology`]: the pure design (routers, links, documentation addresses, probes);
//! - [`birdconf`]: BIRD 2 configs of the provider, carrier and eyeball routers (Gao-Rexford and
//!   the provider dictionaries' action communities) and of the sites (tern-bird's rendering);
//! - [`collector`]: the route collector (BIRD with MRT dumps, sessions from the carriers);
//! - [`config`]: a tern.toml loaded and validated for the lab;
//! - [`prereq`]: root and the programs the lab runs, with their Debian packages;
//! - [`netns`]: namespaces, veth links, addresses, routes, netem, processes inside namespaces;
//! - [`state`]: what a running lab consists of, on disk, so that any process can stop it;
//! - [`daemon`]: BIRD, whoami and other processes inside namespaces, `birdc`;
//! - [`speaker`]: what runs at a site (`tern run` by default, or the BIRD stand-in);
//! - [`siterun`]: the per-site tern.toml `tern run` runs in the lab;
//! - [`whoami`]: the lab's small "which site" endpoints (HTTP `/cdn-cgi/trace`, DNS CHAOS);
//! - [`dns`]: the minimal DNS wire codec they and the DNS probe share (RFC 1035, RFC 4892);
//! - [`measure`]: probes from every client namespace (ping, traceroute, DNS, HTTP);
//! - [`watch`]: failover timing with DNS watchers started before the change;
//! - [`atlas`]: RIPE Atlas result JSON and probe metadata of a measurement;
//! - [`interrupt`]: the SIGINT/SIGTERM flag `up` and the demo stop at (cleaning up);
//! - [`orchestrate`]: `up` (transactional), `down`, `status`, `fail`, `heal`, `apply`;
//! - [`apply`]: a changed tern.toml applied by reload, with its diff;
//! - [`demo`]: the `tern lab demo` scenario, as events the binary prints.
//!
//! Module dependencies run one way (no cycles): `state` (with [`state::SpeakerKind`]) and
//! `config` at the bottom, then `daemon`, `siterun`, `speaker`, then `orchestrate` and `apply`, then `demo`.
//!
//! Safety of the host: no namespace gets a route out of the lab. Every veth pair is created
//! with both ends inside lab namespaces (`ip -n A link add … peer … netns B`), nothing is ever
//! added to the root namespace, so there is no path to the host's uplink; default routes exist
//! only inside the lab (probes and sites towards their lab router).

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod apply;
pub mod atlas;
pub mod birdconf;
pub mod collector;
pub mod config;
pub mod daemon;
pub mod demo;
pub mod dns;
mod error;
pub mod geo;
pub mod geodns;
pub mod interrupt;
pub mod measure;
pub mod netns;
pub mod orchestrate;
pub mod prereq;
pub mod simgraph;
pub mod siterun;
pub mod speaker;
pub mod state;
pub mod topology;
pub mod watch;
pub mod whoami;

pub use error::LabError;
