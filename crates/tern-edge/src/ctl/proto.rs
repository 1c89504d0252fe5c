//! The control protocol: one JSON object per line each way over a Unix stream socket.
//!
//! ```text
//! → {"cmd":"status"}
//! ← {"ok":true,"result":{...StatusReport...}}
//! → {"cmd":"drain","prefix":"2001:db8::/48"}
//! ← {"ok":false,"error":"2001:db8::/48 is not announced by site ams (...)"}
//! ```
//!
//! Commands: `status`, `routes`, `checks`, `drain` / `undrain` (optional `prefix`; without one
//! every prefix but the site's unicast ones, which keep the box reachable, unless `"all":
//! true`), `reload`.
//! Reports are plain serde structs, so `tern ctl --json` prints what the daemon sent and the text
//! form is rendered from the same data ([`super::render`]).

use serde::{Deserialize, Serialize};
use tern_types::Prefix;

/// A request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Request {
    /// Sessions and prefixes.
    Status,
    /// What is sent to whom.
    Routes,
    /// Latest check results.
    Checks,
    /// Drain one prefix, or every prefix but the site's unicast ones, or (`all`) every one.
    Drain {
        /// One prefix; `None`: every prefix but the unicast ones (with `all`: every one).
        #[serde(default)]
        prefix: Option<Prefix>,
        /// With no prefix: the unicast prefixes too.
        #[serde(default)]
        all: bool,
    },
    /// Undrain one prefix, or every service prefix, or (`all`) every one.
    Undrain {
        /// As for `drain`.
        #[serde(default)]
        prefix: Option<Prefix>,
        /// As for `drain`.
        #[serde(default)]
        all: bool,
    },
    /// Reload tern.toml.
    Reload,
}

/// A response: `ok` with a result, or an error in words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// Success?
    pub ok: bool,
    /// The report (`ok`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
    /// Why not (`!ok`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `status`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    /// Site name.
    pub site: String,
    /// Configuration file.
    pub config: String,
    /// Seconds since start.
    pub uptime_s: u64,
    /// BGP sessions.
    pub sessions: Vec<SessionReport>,
    /// Prefixes.
    pub prefixes: Vec<PrefixReport>,
    /// Drain file path.
    pub drain_file: String,
    /// Drains by `tern ctl` (`"all"` or prefixes).
    pub ctl_drained: Vec<String>,
    /// Drains by the drain file.
    pub file_drained: Vec<String>,
    /// Last reload outcome.
    pub last_reload: Option<String>,
}

/// One session in `status`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionReport {
    /// Upstream name.
    pub name: String,
    /// Neighbor address and port.
    pub neighbor: String,
    /// Neighbor AS.
    pub remote_as: u32,
    /// RFC 4271 state.
    pub state: String,
    /// Seconds Established (absent when not).
    pub uptime_s: Option<u64>,
    /// Times Established (since start, across reload resets).
    pub established_count: u64,
    /// Why it last went down.
    pub last_down: Option<String>,
    /// What to check when it does not come up (e.g. the TCP-MD5 password).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Routes we announce on it.
    pub announced: usize,
    /// UPDATEs sent by the current session task.
    pub updates_out: u64,
}

/// One prefix in `status`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrefixReport {
    /// The prefix.
    pub prefix: String,
    /// `up`, `degraded`, `down`, `drained`.
    pub state: String,
    /// Why, in words.
    pub why: String,
    /// Seconds in this state.
    pub since_s: u64,
    /// State changes since start.
    pub transitions: u64,
}

/// `routes`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoutesReport {
    /// One entry per upstream.
    pub upstreams: Vec<UpstreamRoutes>,
}

/// What one upstream is sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UpstreamRoutes {
    /// Upstream name.
    pub name: String,
    /// Session state.
    pub state: String,
    /// Announced routes.
    pub routes: Vec<RouteReport>,
    /// Prefixes of this session's family not announced, with why.
    pub withdrawn: Vec<(String, String)>,
    /// Where the communities come from.
    pub notes: Vec<String>,
}

/// One announced route.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RouteReport {
    /// Prefix.
    pub prefix: String,
    /// AS path as sent (our AS, prepended).
    pub as_path: String,
    /// Standard communities.
    pub communities: Vec<String>,
    /// Large communities.
    pub large_communities: Vec<String>,
}

/// `checks`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChecksReport {
    /// One entry per check.
    pub checks: Vec<CheckReport>,
}

/// One check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    /// Name.
    pub name: String,
    /// Service.
    pub service: String,
    /// What it probes.
    pub target: String,
    /// `up` / `down`.
    pub health: String,
    /// Why.
    pub reason: String,
    /// Latest run passed?
    pub last_ok: Option<bool>,
    /// Latest run's detail.
    pub last_detail: Option<String>,
    /// Latest run's latency, milliseconds.
    pub last_latency_ms: Option<f64>,
    /// Seconds since the latest run.
    pub last_age_s: Option<u64>,
    /// Runs passed.
    pub ok_total: u64,
    /// Runs failed.
    pub failed_total: u64,
}

/// `drain`, `undrain`, `reload`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActionReport {
    /// What was done, one line each.
    pub lines: Vec<String>,
}
