//! The control protocol: one JSON object per line each way over a Unix stream socket.
//!
//! ```text
//! → {"cmd":"status"}
//! ← {"reply":"status","site":"ams",...StatusReport...}
//! → {"cmd":"drain","prefix":"2001:db8::/48"}
//! ← {"reply":"error","kind":"drain","message":"2001:db8::/48 is not announced by site ams (...)"}
//! ```
//!
//! A [`Response`] is one variant per reply kind, tagged by `reply` (`status`, `routes`, `checks`,
//! `done` for drain / undrain / reload, `error`), with the report's fields beside the tag.
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

/// A response: the report a request asked for, or why not. Tagged by `reply`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Response {
    /// Answer to `status`.
    Status(StatusReport),
    /// Answer to `routes`.
    Routes(RoutesReport),
    /// Answer to `checks`.
    Checks(ChecksReport),
    /// Answer to `drain`, `undrain`, `reload`: what was done.
    Done(ActionReport),
    /// The request was refused or could not be done.
    Error(ErrorReport),
}

impl Response {
    /// Did the daemon do what was asked?
    pub fn is_ok(&self) -> bool {
        !matches!(self, Self::Error(_))
    }

    /// The refusal, if it is one.
    pub fn error(&self) -> Option<&ErrorReport> {
        match self {
            Self::Error(e) => Some(e),
            _ => None,
        }
    }

    /// The reply kind as it is on the wire (`status`, …, `error`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Status(_) => "status",
            Self::Routes(_) => "routes",
            Self::Checks(_) => "checks",
            Self::Done(_) => "done",
            Self::Error(_) => "error",
        }
    }

    /// Whether this is the kind of reply `req` expects (an error fits every request).
    pub fn answers(&self, req: &Request) -> bool {
        matches!(
            (self, req),
            (Self::Error(_), _)
                | (Self::Status(_), Request::Status)
                | (Self::Routes(_), Request::Routes)
                | (Self::Checks(_), Request::Checks)
                | (
                    Self::Done(_),
                    Request::Drain { .. } | Request::Undrain { .. } | Request::Reload
                )
        )
    }
}

/// `error`: why the daemon refused or could not do a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReport {
    /// What kind of refusal.
    pub kind: ErrorKind,
    /// Why, in words.
    pub message: String,
}

/// The kinds of [`ErrorReport`] (one per [`super::Failure`] variant).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request line was too long.
    TooLong,
    /// Not a request.
    BadRequest,
    /// The daemon is shutting down.
    ShuttingDown,
    /// A drain or undrain the announcer refused (e.g. a prefix the site does not announce).
    Drain,
    /// A reload refused; the running configuration stays.
    Reload,
    /// The report could not be encoded.
    Encode,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_tagged_with_their_kind_and_round_trip() {
        let done = Response::Done(ActionReport {
            lines: vec!["drained 1 prefix(es)".into()],
        });
        let v = serde_json::to_value(&done).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"reply": "done", "lines": ["drained 1 prefix(es)"]})
        );
        let e = Response::Error(ErrorReport {
            kind: ErrorKind::BadRequest,
            message: "bad request: x".into(),
        });
        let line = serde_json::to_string(&e).unwrap();
        assert_eq!(
            line,
            r#"{"reply":"error","kind":"bad-request","message":"bad request: x"}"#
        );
        assert_eq!(serde_json::from_str::<Response>(&line).unwrap(), e);
        let checks = Response::Checks(ChecksReport {
            checks: vec![CheckReport {
                name: "web/http".into(),
                service: "web".into(),
                target: "http://[2001:db8::1]/".into(),
                health: "up".into(),
                reason: "ok".into(),
                last_ok: Some(true),
                last_detail: None,
                last_latency_ms: Some(1.5),
                last_age_s: Some(3),
                ok_total: 7,
                failed_total: 0,
            }],
        });
        let line = serde_json::to_string(&checks).unwrap();
        assert_eq!(serde_json::from_str::<Response>(&line).unwrap(), checks);
        assert!(serde_json::from_str::<Response>(r#"{"reply":"nope"}"#).is_err());
        assert!(serde_json::from_str::<Response>(r#"{"ok":true}"#).is_err());
    }

    #[test]
    fn a_reply_answers_only_its_request() {
        let st = Response::Done(ActionReport { lines: vec![] });
        assert!(st.answers(&Request::Reload));
        assert!(!st.answers(&Request::Status));
        let e = Response::Error(ErrorReport {
            kind: ErrorKind::ShuttingDown,
            message: String::new(),
        });
        assert!(e.answers(&Request::Status) && !e.is_ok());
    }
}
