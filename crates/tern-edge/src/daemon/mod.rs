//! `tern run`: the site daemon's wiring (issue 5). Everything else in tern-edge is a part; this
//! module starts the parts, connects their channels and stops them in order.
//!
//! ```text
//!   SIGTERM/SIGINT/SIGHUP ─┐          ┌─▶ peer task per upstream ─▶ BGP (TCP-MD5, TTL)
//!   drain file (polled) ───┤─Control─▶│ announcer (one writer of what is announced)
//!   tern ctl (Unix socket)─┘          └─▶ watch<View> ─▶ tern ctl, /metrics
//!   health loop (probe::scheduler) ─HealthReport (checks, services; one way)─▶ announcer
//!   announcer ─HealthCommand::Reload (validated, unbounded)─▶ health loop
//!   whoami DNS (UDP+TCP) and HTTP /cdn-cgi/trace on the configured addresses
//! ```
//!
//! Fail closed: nothing is announced before the checks passed `rise` times; SIGTERM/SIGINT
//! withdraw every route, send Cease "tern shutting down" and wait at most
//! [`crate::peer::SHUTDOWN_FLUSH`] before the process exits 0. A crash (panic with
//! `panic = "abort"`, SIGKILL, OOM kill) cannot send anything, but the kernel closes the TCP
//! connections of a dead process (FIN, or RST for unread data), so the upstream drops the session
//! and our routes at once rather than after the hold time; only a frozen host that keeps its
//! sockets but stops sending waits for the hold timer (30 s proposed).
//!
//! Every task runs on one `TaskTracker` and stops on one `CancellationToken` (STYLE habit 5).

mod drain_file;
mod notify;
mod signals;

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use crate::announcer::{Announcer, Control, View};
use crate::config::{ConfigError, SiteConfig};
use crate::probe::scheduler::{Scheduler, SchedulerError};
use crate::serve::dns::DnsLimits;
use crate::serve::http::Router;
use crate::whoami::dns::Whoami;
use crate::whoami::trace::{TRACE_PATH, Trace};

pub use drain_file::{DRAIN_POLL, parse_drain_file};

/// How long the whole daemon may take to stop after the announcer is done.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// What `tern run` was asked to do.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// tern.toml.
    pub config: PathBuf,
    /// Site name.
    pub site: String,
    /// Control socket (overrides the configuration).
    pub ctl_socket: Option<PathBuf>,
    /// Install SIGTERM/SIGINT/SIGHUP handlers (off in in-process tests).
    pub signals: bool,
}

/// Why the daemon cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DaemonError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The health checks are unusable.
    #[error("health checks: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Health(Vec<SchedulerError>),
    /// The control socket cannot be set up (another daemon runs for it, …).
    #[error("control socket: {0}")]
    Ctl(#[from] crate::ctl::SocketError),
    /// A listener cannot be set up.
    #[error("{what} {addr}: {source}")]
    Bind {
        /// Which listener.
        what: &'static str,
        /// Where.
        addr: String,
        /// Why.
        source: io::Error,
    },
}

/// A running daemon.
#[derive(Debug)]
pub struct Daemon {
    /// Send control messages (what `tern ctl` and the signals send).
    pub control: mpsc::Sender<Control>,
    /// The announcer's view.
    pub view: watch::Receiver<View>,
    /// Where `tern ctl` connects.
    pub ctl_socket: PathBuf,
    /// Bound addresses: DNS (UDP and TCP share the port), HTTP, metrics.
    pub bound: Bound,
    announcer: tokio::task::JoinHandle<()>,
    tracker: TaskTracker,
    cancel: CancellationToken,
    /// Held until the socket is removed at the end of [`Daemon::wait`].
    ctl_lock: crate::ctl::SocketLock,
}

/// The addresses actually bound (port 0 in tests becomes a real port).
#[derive(Clone, Debug, Default)]
pub struct Bound {
    /// DNS responders.
    pub dns: Vec<SocketAddr>,
    /// HTTP responders.
    pub http: Vec<SocketAddr>,
    /// Metrics.
    pub metrics: Option<SocketAddr>,
}

impl Daemon {
    /// Load the configuration, bind every listener, start every task. Nothing is announced yet.
    pub async fn start(opts: RunOptions) -> Result<Daemon, DaemonError> {
        let cfg = {
            let (path, site) = (opts.config.clone(), opts.site.clone());
            tokio::task::spawn_blocking(move || SiteConfig::load(&path, &site))
                .await
                .map_err(|e| DaemonError::Bind {
                    what: "config loader",
                    addr: String::new(),
                    source: io::Error::other(e.to_string()),
                })??
        };
        let ctl_socket = opts
            .ctl_socket
            .clone()
            .unwrap_or_else(|| cfg.edge.ctl_socket.clone());
        let tracker = TaskTracker::new();
        let cancel = CancellationToken::new();

        // Listeners first: a daemon that cannot serve what it is configured to refuses to start
        // before it opens any BGP session.
        // The lock first: a second daemon for this socket stops here, touching nothing.
        let (ctl, ctl_lock) = crate::ctl::bind(&ctl_socket)?;
        let mut dns = Vec::new();
        for a in &cfg.edge.dns_listen {
            let bind = |what, source| DaemonError::Bind {
                what,
                addr: a.to_string(),
                source,
            };
            let udp = UdpSocket::bind(a).await.map_err(|e| bind("dns udp", e))?;
            let port = udp.local_addr().map_err(|e| bind("dns udp", e))?;
            let tcp = TcpListener::bind(port)
                .await
                .map_err(|e| bind("dns tcp", e))?;
            dns.push((udp, tcp));
        }
        let mut http = Vec::new();
        for a in &cfg.edge.http_listen {
            http.push(
                TcpListener::bind(a)
                    .await
                    .map_err(|source| DaemonError::Bind {
                        what: "http",
                        addr: a.to_string(),
                        source,
                    })?,
            );
        }
        let metrics = match cfg.edge.metrics_listen {
            Some(a) => Some(
                TcpListener::bind(a)
                    .await
                    .map_err(|source| DaemonError::Bind {
                        what: "metrics",
                        addr: a.to_string(),
                        source,
                    })?,
            ),
            None => None,
        };
        let bound = Bound {
            dns: dns
                .iter()
                .filter_map(|(u, _)| u.local_addr().ok())
                .collect(),
            http: http.iter().filter_map(|l| l.local_addr().ok()).collect(),
            metrics: metrics.as_ref().and_then(|l| l.local_addr().ok()),
        };

        // Health loop.
        let scheduler = Scheduler::new(cfg.checks.clone(), cfg.prefixes.clone(), Instant::now())
            .map_err(DaemonError::Health)?;
        let (reports_tx, reports_rx) = mpsc::channel(1024);
        let (health_tx, health_rx) = mpsc::unbounded_channel();
        let health_cancel = cancel.child_token();
        tracker.spawn(async move {
            scheduler.run(reports_tx, health_rx, health_cancel).await;
        });

        // Announcer and peers.
        let identity = Arc::new(cfg.identity.clone());
        let drain_path = cfg.edge.drain_file.clone();
        let unicast = cfg.unicast.clone();
        let (announcer, view) = Announcer::new(
            opts.config.clone(),
            cfg,
            health_tx,
            tracker.clone(),
            cancel.clone(),
        );
        let (control_tx, control_rx) = mpsc::channel(64);
        let announcer = tokio::spawn(announcer.run(control_rx, reports_rx));

        // Control socket, drain file, signals.
        tracker.spawn(crate::ctl::serve(
            ctl,
            view.clone(),
            control_tx.clone(),
            cancel.clone(),
        ));
        tracker.spawn(drain_file::watch(
            drain_path,
            control_tx.clone(),
            cancel.clone(),
        ));
        if opts.signals {
            let handlers = signals::Signals::install().map_err(|source| DaemonError::Bind {
                what: "signal handler",
                addr: String::new(),
                source,
            })?;
            tracker.spawn(handlers.run(control_tx.clone(), cancel.clone()));
        }

        // "Which site": DNS and HTTP. With [dns] in tern.toml the DNS listeners serve the
        // GeoDNS zone (issue 13), which answers CHAOS and NSID with the site's name too.
        let geodns =
            crate::geodns::for_daemon(&opts.config, identity.site.as_str(), &tracker, &cancel)
                .map_err(|e| DaemonError::Bind {
                    what: "geodns",
                    addr: opts.config.display().to_string(),
                    source: io::Error::other(e.to_string()),
                })?;
        let whoami: Arc<dyn crate::serve::DnsHandler> = match geodns {
            Some(g) => g,
            None => Arc::new(Whoami(identity.clone())),
        };
        for (udp, tcp) in dns {
            tracker.spawn(log_end(
                "dns udp",
                crate::serve::dns::serve_udp(
                    udp,
                    whoami.clone(),
                    DnsLimits::default(),
                    cancel.clone(),
                ),
            ));
            tracker.spawn(log_end(
                "dns tcp",
                crate::serve::dns::serve_tcp(
                    tcp,
                    whoami.clone(),
                    DnsLimits::default(),
                    cancel.clone(),
                ),
            ));
        }
        let trace = Trace::new(identity.clone()).with_drain(view.clone(), &unicast);
        let trace_router = Arc::new(Router::new().route(TRACE_PATH, trace.clone()));
        for l in http {
            tracker.spawn(log_end(
                "http",
                crate::serve::http::serve(l, trace_router.clone(), cancel.clone()),
            ));
        }
        if let Some(l) = metrics {
            let router = Router::new()
                .route("/metrics", crate::metrics::Metrics(view.clone()))
                .route(TRACE_PATH, trace);
            tracker.spawn(log_end(
                "metrics",
                crate::serve::http::serve(l, Arc::new(router), cancel.clone()),
            ));
        }
        info!(ctl = %ctl_socket.display(), ?bound, "site daemon started");
        Ok(Daemon {
            control: control_tx,
            view,
            ctl_socket,
            bound,
            announcer,
            tracker,
            cancel,
            ctl_lock,
        })
    }

    /// Wait until the daemon is told to stop (SIGTERM, SIGINT or [`Control::Shutdown`]); by then
    /// every session has withdrawn and sent its Cease. Then stop every other task (bounded).
    pub async fn wait(self) {
        if let Err(e) = self.announcer.await {
            warn!(error = %e, "announcer task failed");
        }
        notify::notify("STOPPING=1");
        self.cancel.cancel();
        self.tracker.close();
        if tokio::time::timeout(STOP_TIMEOUT, self.tracker.wait())
            .await
            .is_err()
        {
            warn!("some tasks did not stop within {STOP_TIMEOUT:?}");
        }
        // Still holding the lock: the socket is ours to remove.
        let _ = std::fs::remove_file(&self.ctl_socket);
        drop(self.ctl_lock);
        info!("site daemon stopped");
    }

    /// Ask the daemon to stop and wait for it.
    pub async fn shutdown(self) {
        let _ = self.control.send(Control::Shutdown).await;
        self.wait().await;
    }
}

async fn log_end(what: &'static str, f: impl std::future::Future<Output = io::Result<()>>) {
    if let Err(e) = f.await {
        warn!(error = %e, "{what} server stopped");
    }
}

/// Run the daemon until it is stopped: the whole of `tern run`.
pub async fn run(opts: RunOptions) -> Result<(), DaemonError> {
    let daemon = Daemon::start(opts).await?;
    notify::notify("READY=1");
    daemon.wait().await;
    Ok(())
}

/// The default control socket of `site` when no configuration is at hand.
pub fn default_ctl_socket(site: &str) -> PathBuf {
    Path::new(tern_model::edge::DEFAULT_RUN_DIR).join(format!("{site}.sock"))
}
