//! tern-atlas: RIPE Atlas results → catchment, latency, diffs and reports.
//!
//! Place in the architecture (see ARCHITECTURE.md): a synchronous library under the `tern` binary;
//! it reads files and does no network I/O (the binary's `tern atlas measure` talks to the API
//! using the request/response model in [`api`]). Flow: [`read`] (result JSON, array or lines) and
//! [`probe`] (probe metadata) → [`record`] model → [`catchment`] (which site) and [`analysis`]
//! (latency per probe, site, country, continent) → [`diff`] (before vs after) → [`report`]
//! (terminal tables, HTML). [`dns`] decodes `abuf` wire data.
//!
//! RFCs: 1035 (DNS messages), 3596 (AAAA), 6891 (EDNS(0)), 5001 (NSID), 4892 (server
//! identity, CHAOS `id.server`), 4884 / 4950 (ICMP extensions, MPLS labels in traceroutes).

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod analysis;
pub mod api;
pub mod catchment;
pub mod diff;
pub mod dns;
mod error;
pub mod geo;
mod model;
pub mod probe;
mod raw;
pub mod read;
pub mod record;
pub mod report;
mod values;

pub use analysis::{Analyser, Analysis, analyse};
pub use catchment::{Catchment, Evidence, SiteHint, SiteHints};
pub use error::{AtlasError, RecordError};
pub use probe::{Probe, ProbeSet, parse_probes, read_probes};
pub use read::{RecordReader, Results, parse_results, read_results};
pub use record::{Body, Record};

/// Parses one result record (a JSON object); for fuzzing and for callers that split input
/// themselves. Errors are the reason the record would be skipped.
pub fn parse_record(json: &str) -> Result<Record, RecordError> {
    raw::parse_record(json.as_bytes(), 0)
}
