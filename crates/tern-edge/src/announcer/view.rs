//! What the announcer publishes on its `watch` channel (STYLE habit 2: read-only state goes out
//! on `watch`): the control API and `/metrics` render it, nobody writes it but the announcer.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use tern_bgp::rib::RouteAttrs;
use tern_health::{CheckResult, Health, PrefixState};
use tern_types::{Afi, Asn, Prefix, SiteId};
use tokio::sync::watch;

use crate::peer::PeerStatus;

/// The daemon as the announcer sees it.
#[derive(Clone, Debug)]
pub struct View {
    /// The site.
    pub site: SiteId,
    /// The configuration file.
    pub config: PathBuf,
    /// When the daemon started.
    pub started: Instant,
    /// BGP sessions.
    pub upstreams: Vec<UpstreamView>,
    /// Every announced (or withdrawn) prefix of the site.
    pub prefixes: Vec<PrefixView>,
    /// Every health check.
    pub checks: Vec<CheckView>,
    /// The drain file and whether it drains anything now.
    pub drain_file: PathBuf,
    /// Prefixes drained by `tern ctl drain` (`None` in the list: all).
    pub ctl_drained: Vec<Option<Prefix>>,
    /// What the drain file asks for (`None` in the list: all).
    pub file_drained: Vec<Option<Prefix>>,
    /// Successful and refused reloads, and the outcome of the last one.
    pub reloads: (u64, u64, Option<String>),
    /// Time from a prefix state change to the UPDATE handed to the peers.
    pub reaction: Reaction,
}

/// Reaction-time statistics of the announcer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reaction {
    /// Changes handled.
    pub count: u64,
    /// Last one.
    pub last: Duration,
    /// Largest.
    pub max: Duration,
    /// Sum (for the mean).
    pub sum: Duration,
}

/// One BGP session.
#[derive(Clone, Debug)]
pub struct UpstreamView {
    /// Name.
    pub name: String,
    /// Neighbor address and port.
    pub remote: SocketAddr,
    /// Neighbor AS.
    pub remote_as: Asn,
    /// Our AS on this session (the origin of the AS path).
    pub local_as: Asn,
    /// Family.
    pub afi: Afi,
    /// Live state of the peer task.
    pub status: watch::Receiver<PeerStatus>,
    /// What we want announced on it now (the peer's Adj-RIB-Out follows this).
    pub routes: Vec<(Prefix, RouteAttrs)>,
    /// Intent notes.
    pub notes: Vec<String>,
    /// Resets by reloads.
    pub resets: u64,
    /// Established count of the replaced peer tasks (so the flap counter survives resets).
    pub established_before: u64,
}

/// One prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrefixView {
    /// The prefix.
    pub prefix: Prefix,
    /// Its state.
    pub state: PrefixState,
    /// Why.
    pub why: String,
    /// Since when.
    pub since: Instant,
    /// State changes so far.
    pub transitions: u64,
}

/// One health check.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckView {
    /// Name (`service/kind`).
    pub name: String,
    /// Its service.
    pub service: String,
    /// What it probes, in words.
    pub target: String,
    /// Health after rise/fall.
    pub health: Health,
    /// Why.
    pub reason: String,
    /// Latest run.
    pub last: Option<(CheckResult, SystemTime)>,
    /// Runs that passed.
    pub ok_total: u64,
    /// Runs that failed.
    pub failed_total: u64,
    /// Health changes.
    pub transitions: u64,
}
