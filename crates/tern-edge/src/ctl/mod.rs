//! `tern ctl`: the site daemon's control API over a Unix socket (issue 5 §5).
//!
//! [`serve`] answers [`proto::Request`]s, one JSON line each, from the announcer's
//! [`View`](crate::announcer::View) (read-only, through `watch`) and forwards drains and reloads
//! to the announcer as [`Control`] messages (it never changes state itself: STYLE habit 2).
//! [`request`] is the client side; [`render`] prints reports for people.
//!
//! Access control is the socket file's mode (0660, created by the daemon's user, in a directory
//! that is 0750 when we create it): whoever can open it can drain the site. One daemon per
//! socket: [`socket`] takes a lock first and never unlinks a live socket.

pub mod proto;
pub mod render;
pub mod socket;

pub use socket::{SocketError, SocketLock, bind};

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use tern_bgp::session::State;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

use crate::announcer::{Control, DrainScope, View};
use crate::serve::accept::{Limits, serve_connections};
use proto::{
    ActionReport, CheckReport, ChecksReport, ErrorKind, ErrorReport, PrefixReport, Request,
    Response, RouteReport, RoutesReport, SessionReport, StatusReport, UpstreamRoutes,
};

/// Longest request line accepted.
pub const MAX_REQUEST: usize = 4096;
/// How long the client waits for an answer (a reload may read files and wait for sessions).
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(15);
/// Concurrent control connections.
pub const MAX_CONNECTIONS: usize = 16;
/// A control connection is closed after this long (a reload answers within [`CLIENT_TIMEOUT`]).
pub const MAX_LIFETIME: Duration = Duration::from_secs(300);
/// The control socket's limits (no per-client cap: a Unix socket has no client address).
pub const LIMITS: Limits = Limits::new(MAX_CONNECTIONS, MAX_LIFETIME);

/// Control-socket problems.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CtlError {
    /// Cannot reach the daemon.
    #[error("cannot connect to {path}: {source} (is `tern run` running for this site?)")]
    Connect {
        /// Socket path.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The exchange broke.
    #[error("{path}: {source}")]
    Io {
        /// Socket path.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// Not a response.
    #[error("{path}: bad response: {why}")]
    Protocol {
        /// Socket path.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// No answer in time.
    #[error("{0}: no answer within {CLIENT_TIMEOUT:?}")]
    Timeout(PathBuf),
}

/// Serve the control API on `listener` until `shutdown` (on the server layer's accept loop,
/// [`LIMITS`]).
pub async fn serve(
    listener: UnixListener,
    view: watch::Receiver<View>,
    control: mpsc::Sender<Control>,
    shutdown: CancellationToken,
) {
    let _ = serve_connections(listener, LIMITS, "ctl", shutdown, move |stream, ()| {
        let (view, control) = (view.clone(), control.clone());
        async move {
            connection(stream, view, control).await;
            Ok(())
        }
    })
    .await;
}

async fn connection(
    stream: UnixStream,
    view: watch::Receiver<View>,
    control: mpsc::Sender<Control>,
) {
    let (rd, mut wr) = stream.into_split();
    let mut rd = BufReader::new(rd.take(1 << 20));
    let mut line = String::new();
    loop {
        line.clear();
        match rd.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let response = if line.len() > MAX_REQUEST {
            err(Failure::TooLong)
        } else {
            match serde_json::from_str::<Request>(line.trim()) {
                Ok(req) => handle(req, &view, &control).await,
                Err(e) => err(Failure::BadRequest(e.to_string())),
            }
        };
        let mut out = serde_json::to_vec(&response).unwrap_or_else(|e| {
            serde_json::to_vec(&err(Failure::Encode(e.to_string())))
                .unwrap_or_else(|_| br#"{"reply":"error","kind":"encode","message":""}"#.to_vec())
        });
        out.push(b'\n');
        if wr.write_all(&out).await.is_err() {
            return;
        }
    }
}

/// Why the daemon refused or could not do a request: a [`Response::Error`] on the wire.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Failure {
    /// The request line is too long.
    #[error("request longer than {MAX_REQUEST} bytes")]
    TooLong,
    /// Not a request.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The announcer is gone.
    #[error("the daemon is shutting down")]
    ShuttingDown,
    /// A drain the announcer refused.
    #[error(transparent)]
    Drain(#[from] crate::announcer::DrainError),
    /// A reload the announcer refused.
    #[error("reload refused, the running configuration stays: {0}")]
    Reload(#[from] crate::announcer::ReloadError),
    /// A report that does not serialise.
    #[error("cannot encode the report: {0}")]
    Encode(String),
}

impl Failure {
    /// Its kind on the wire.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::TooLong => ErrorKind::TooLong,
            Self::BadRequest(_) => ErrorKind::BadRequest,
            Self::ShuttingDown => ErrorKind::ShuttingDown,
            Self::Drain(_) => ErrorKind::Drain,
            Self::Reload(_) => ErrorKind::Reload,
            Self::Encode(_) => ErrorKind::Encode,
        }
    }
}

impl From<Failure> for ErrorReport {
    fn from(f: Failure) -> Self {
        Self {
            kind: f.kind(),
            message: f.to_string(),
        }
    }
}

fn err(why: Failure) -> Response {
    Response::Error(why.into())
}

/// Answer one request.
pub async fn handle(
    req: Request,
    view: &watch::Receiver<View>,
    control: &mpsc::Sender<Control>,
) -> Response {
    match req {
        Request::Status => Response::Status(status(&view.borrow())),
        Request::Routes => Response::Routes(routes(&view.borrow())),
        Request::Checks => Response::Checks(checks(&view.borrow())),
        Request::Drain { prefix, all } | Request::Undrain { prefix, all } => {
            let drained = matches!(req, Request::Drain { .. });
            let scope = match (prefix, all) {
                (Some(p), _) => DrainScope::Prefix(p),
                (None, false) => DrainScope::Service,
                (None, true) => DrainScope::All,
            };
            let (tx, rx) = oneshot::channel();
            let msg = Control::Drain {
                scope,
                drained,
                reply: Some(tx),
            };
            if control.send(msg).await.is_err() {
                return err(Failure::ShuttingDown);
            }
            match rx.await {
                Ok(Ok(matched)) => {
                    let v = view.borrow();
                    let kept: Vec<String> = v
                        .prefixes
                        .iter()
                        .filter(|p| !matched.contains(&p.prefix))
                        .map(|p| p.prefix.to_string())
                        .collect();
                    let mut lines = vec![format!(
                        "{} {} prefix(es){}",
                        if drained { "drained" } else { "undrained" },
                        matched.len(),
                        if matched.is_empty() {
                            String::new()
                        } else {
                            format!(
                                " ({})",
                                matched
                                    .iter()
                                    .map(|p| p.to_string())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        }
                    )];
                    if drained && scope == DrainScope::Service && !kept.is_empty() {
                        lines.push(format!(
                            "kept announced (unicast, to reach the box): {}; use --all to drain them too",
                            kept.join(", ")
                        ));
                    }
                    Response::Done(ActionReport { lines })
                }
                Ok(Err(why)) => err(why.into()),
                Err(_) => err(Failure::ShuttingDown),
            }
        }
        Request::Reload => {
            let (tx, rx) = oneshot::channel();
            if control
                .send(Control::Reload { reply: Some(tx) })
                .await
                .is_err()
            {
                return err(Failure::ShuttingDown);
            }
            match rx.await {
                Ok(Ok(lines)) => Response::Done(ActionReport { lines }),
                Ok(Err(why)) => err(why.into()),
                Err(_) => err(Failure::ShuttingDown),
            }
        }
    }
}

fn drains(v: &[Option<tern_types::Prefix>]) -> Vec<String> {
    v.iter()
        .map(|p| p.map_or_else(|| "all".to_owned(), |p| p.to_string()))
        .collect()
}

fn age(t: SystemTime) -> u64 {
    SystemTime::now()
        .duration_since(t)
        .unwrap_or_default()
        .as_secs()
}

/// The `status` report.
pub fn status(v: &View) -> StatusReport {
    StatusReport {
        site: v.site.to_string(),
        config: v.config.display().to_string(),
        uptime_s: v.started.elapsed().as_secs(),
        sessions: v
            .upstreams
            .iter()
            .map(|u| {
                let s = u.status.borrow();
                SessionReport {
                    name: u.name.clone(),
                    neighbor: u.remote.to_string(),
                    remote_as: u.remote_as.0,
                    state: s.state.to_string(),
                    uptime_s: s
                        .established_since
                        .map(|t| Instant::now().duration_since(t).as_secs()),
                    established_count: u.established_before + s.stats.established_count,
                    last_down: s.last_down.as_ref().map(|d| d.to_string()),
                    hint: s.hint.clone(),
                    announced: s.announced,
                    updates_out: s.stats.updates_out,
                }
            })
            .collect(),
        prefixes: v
            .prefixes
            .iter()
            .map(|p| PrefixReport {
                prefix: p.prefix.to_string(),
                state: p.state.to_string(),
                why: p.why.clone(),
                since_s: p.since.elapsed().as_secs(),
                transitions: p.transitions,
            })
            .collect(),
        drain_file: v.drain_file.display().to_string(),
        ctl_drained: drains(&v.ctl_drained),
        file_drained: drains(&v.file_drained),
        last_reload: v.reloads.2.clone(),
    }
}

/// The `routes` report.
pub fn routes(v: &View) -> RoutesReport {
    RoutesReport {
        upstreams: v
            .upstreams
            .iter()
            .map(|u| {
                let state = u.status.borrow().state;
                let routes = u
                    .routes
                    .iter()
                    .map(|(p, a)| RouteReport {
                        prefix: p.to_string(),
                        as_path: std::iter::repeat_n(
                            u.local_as.0.to_string(),
                            1 + usize::from(a.prepend),
                        )
                        .collect::<Vec<_>>()
                        .join(" "),
                        communities: a.communities.iter().map(|c| c.to_string()).collect(),
                        large_communities: a
                            .large_communities
                            .iter()
                            .map(|c| c.to_string())
                            .collect(),
                    })
                    .collect();
                let withdrawn = v
                    .prefixes
                    .iter()
                    .filter(|p| {
                        p.prefix.afi() == u.afi && !u.routes.iter().any(|(r, _)| *r == p.prefix)
                    })
                    .map(|p| (p.prefix.to_string(), p.why.clone()))
                    .collect();
                UpstreamRoutes {
                    name: u.name.clone(),
                    state: if state == State::Established {
                        "Established".into()
                    } else {
                        state.to_string()
                    },
                    routes,
                    withdrawn,
                    notes: u.notes.clone(),
                }
            })
            .collect(),
    }
}

/// The `checks` report.
pub fn checks(v: &View) -> ChecksReport {
    ChecksReport {
        checks: v
            .checks
            .iter()
            .map(|c| CheckReport {
                name: c.name.clone(),
                service: c.service.clone(),
                target: c.target.clone(),
                health: c.health.to_string(),
                reason: c.reason.clone(),
                last_ok: c.last.as_ref().map(|(r, _)| r.ok),
                last_detail: c.last.as_ref().map(|(r, _)| r.detail.clone()),
                last_latency_ms: c
                    .last
                    .as_ref()
                    .map(|(r, _)| r.latency.as_secs_f64() * 1000.0),
                last_age_s: c.last.as_ref().map(|(_, t)| age(*t)),
                ok_total: c.ok_total,
                failed_total: c.failed_total,
            })
            .collect(),
    }
}

/// Send one request to the daemon at `path` and wait for its response (a reply of the kind
/// the request asks for, or [`Response::Error`]).
pub async fn request(path: &Path, req: &Request) -> Result<Response, CtlError> {
    let io = |source| CtlError::Io {
        path: path.to_path_buf(),
        source,
    };
    let exchange = async {
        let stream = UnixStream::connect(path)
            .await
            .map_err(|source| CtlError::Connect {
                path: path.to_path_buf(),
                source,
            })?;
        let (rd, mut wr) = stream.into_split();
        let mut line = serde_json::to_vec(req).map_err(|e| CtlError::Protocol {
            path: path.to_path_buf(),
            why: e.to_string(),
        })?;
        line.push(b'\n');
        wr.write_all(&line).await.map_err(io)?;
        let mut rd = BufReader::new(rd);
        let mut answer = String::new();
        rd.read_line(&mut answer).await.map_err(io)?;
        let resp =
            serde_json::from_str::<Response>(answer.trim()).map_err(|e| CtlError::Protocol {
                path: path.to_path_buf(),
                why: format!("{e}: {answer:?}"),
            })?;
        if resp.answers(req) {
            Ok(resp)
        } else {
            Err(CtlError::Protocol {
                path: path.to_path_buf(),
                why: format!("a `{}` reply to {req:?}", resp.kind()),
            })
        }
    };
    tokio::time::timeout(CLIENT_TIMEOUT, exchange)
        .await
        .map_err(|_| CtlError::Timeout(path.to_path_buf()))?
}

use tokio::io::AsyncReadExt as _;
