//! The announcer: the one writer of what the site announces (STYLE habit 2).
//!
//! ```text
//!  health loop ──HealthReport──▶┐  (check states and results, changed services: one way)
//!  tern ctl ─────Control───────▶│ announcer ──Command::ReplaceAll──▶ one peer task per upstream
//!  signals, drain file ─Control─┘  (core: sans-IO)
//!                                    ├──HealthCommand::Reload (validated)──▶ health loop
//!                                    └──watch<View>──▶ tern ctl, /metrics
//! ```
//!
//! What to announce is decided by [`core::Core`], a sans-IO state machine (`handle_*` inputs
//! with a `now`, [`core::Output`]s out): it owns the prefix machine, the drains (control socket
//! and drain file) and, per upstream, the routes it wants announced — the prefixes of the
//! session's family that are Up, Degraded or drained-with-prepend, each with the upstream's
//! intent communities plus the degrade extras. This module is its tokio shell: it feeds the
//! core from the channels and carries out its outputs. Each peer whose wanted set changed gets
//! one [`Command::ReplaceAll`]; the peer's Adj-RIB-Out turns the difference into as few UPDATEs
//! as fit, sent at once (no MRAI on our side).
//!
//! Start: every prefix is withdrawn until its checks pass `rise` times. Reload: the file is read
//! on a blocking task while the loop goes on; the core validates it before anything changes
//! (see [`crate::config::diff`]); a reset session is stopped by its own tracked task, so other
//! sessions' UPDATEs (a withdrawal) never wait for it. Shutdown: every peer withdraws and sends
//! a Cease with the RFC 8203 message [`SHUTDOWN_MESSAGE`], bounded by
//! [`crate::peer::SHUTDOWN_FLUSH`].

pub mod core;
pub mod view;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tern_types::Prefix;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use crate::config::SiteConfig;
use crate::peer::{Command, PeerHandle, SHUTDOWN_FLUSH, spawn_peer};
use crate::probe::scheduler::{HealthCommand, HealthReport};
pub use core::{
    Core, DrainError, DrainScope, DrainSource, Output, RESET_MESSAGE, ReloadError, STOP_DEADLINE,
};
pub use view::{CheckView, PrefixView, Reaction, UpstreamView, View};

/// RFC 8203 shutdown communication sent on SIGTERM.
pub const SHUTDOWN_MESSAGE: &str = "tern shutting down";

/// Messages to the announcer from the control API, the signal handler and the drain file.
#[derive(Debug)]
#[non_exhaustive]
pub enum Control {
    /// Drain (or undrain) `scope`. Replies with the prefixes matched.
    Drain {
        /// Which prefixes.
        scope: DrainScope,
        /// Drain or undrain.
        drained: bool,
        /// Replies with the prefixes matched, or why not.
        reply: Option<oneshot::Sender<Result<Vec<Prefix>, DrainError>>>,
    },
    /// The drain file now asks for this (`None` entries: all; empty: nothing).
    DrainFile(Vec<Option<Prefix>>),
    /// Reload the configuration file. Replies with the applied changes, or why it was refused.
    Reload {
        /// Where to send the outcome.
        reply: Option<oneshot::Sender<Result<Vec<String>, ReloadError>>>,
    },
    /// Withdraw everything, Cease, end.
    Shutdown,
}

type ReloadReply = Option<oneshot::Sender<Result<Vec<String>, ReloadError>>>;
/// A configuration loaded for a reload, and where its outcome goes.
type Loaded = (Result<SiteConfig, ReloadError>, ReloadReply);
/// A peer task that ended: upstream name, times it reached Established.
type Stopped = (String, u64);

struct PeerTask {
    handle: PeerHandle,
    cancel: CancellationToken,
}

/// The announcer task: the core and the peer tasks. Build with [`Announcer::new`], run with
/// [`Announcer::run`].
pub struct Announcer {
    path: PathBuf,
    core: Core,
    peers: BTreeMap<String, PeerTask>,
    health: mpsc::UnboundedSender<HealthCommand>,
    view: watch::Sender<View>,
    tracker: TaskTracker,
    cancel: CancellationToken,
    started: Instant,
    stopped: (
        mpsc::UnboundedSender<Stopped>,
        mpsc::UnboundedReceiver<Stopped>,
    ),
    loaded: (
        mpsc::UnboundedSender<Loaded>,
        mpsc::UnboundedReceiver<Loaded>,
    ),
}

impl std::fmt::Debug for Announcer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Announcer")
            .field("site", &self.core.config().site)
            .field("peers", &self.peers.len())
            .finish()
    }
}

impl Announcer {
    /// Set up the core for `cfg`; [`Announcer::run`] starts one peer per upstream (on
    /// `tracker`, stopped by `cancel`). `health` reaches the health loop (reloads only).
    pub fn new(
        path: PathBuf,
        cfg: SiteConfig,
        health: mpsc::UnboundedSender<HealthCommand>,
        tracker: TaskTracker,
        cancel: CancellationToken,
    ) -> (Self, watch::Receiver<View>) {
        let started = Instant::now();
        let placeholder = View {
            site: cfg.site.clone(),
            config: path.clone(),
            started,
            upstreams: Vec::new(),
            prefixes: Vec::new(),
            checks: Vec::new(),
            drain_file: cfg.edge.drain_file.clone(),
            ctl_drained: Vec::new(),
            file_drained: Vec::new(),
            reloads: (0, 0, None),
            reaction: Reaction::default(),
        };
        let (view, rx) = watch::channel(placeholder);
        let a = Announcer {
            path,
            core: Core::new(cfg, started),
            peers: BTreeMap::new(),
            health,
            view,
            tracker,
            cancel,
            started,
            stopped: mpsc::unbounded_channel(),
            loaded: mpsc::unbounded_channel(),
        };
        // The core's first outputs (start every peer, static routes) are carried out by `run`.
        a.publish();
        (a, rx)
    }

    fn start(&mut self, cfg: crate::config::UpstreamConfig) {
        let cancel = self.cancel.child_token();
        let handle = spawn_peer(cfg.peer.clone(), &self.tracker, cancel.clone());
        self.peers.insert(cfg.name, PeerTask { handle, cancel });
    }

    /// Run until [`Control::Shutdown`] (or the control channel closes): then every peer
    /// withdraws, sends Cease and ends, within a bound.
    pub async fn run(
        mut self,
        mut control: mpsc::Receiver<Control>,
        mut health: mpsc::Receiver<HealthReport>,
    ) {
        let mut health_open = true;
        loop {
            self.drive().await;
            self.publish();
            let timeout = self.core.poll_timeout();
            tokio::select! {
                biased;
                report = health.recv(), if health_open => match report {
                    Some(r) => {
                        self.core.handle_health(r, Instant::now());
                        // Take everything already queued: one batch, one UPDATE per peer.
                        while let Ok(r) = health.try_recv() {
                            self.core.handle_health(r, Instant::now());
                        }
                    }
                    None => health_open = false,
                },
                msg = control.recv() => match msg {
                    Some(Control::Shutdown) | None => break,
                    Some(msg) => self.on_control(msg),
                },
                Some((name, established)) = self.stopped.1.recv() => {
                    self.peers.remove(&name);
                    self.core.handle_peer_stopped(&name, established, Instant::now());
                }
                Some((loaded, reply)) = self.loaded.1.recv() => {
                    let outcome = self.core.handle_reload(loaded, Instant::now());
                    match &outcome {
                        Ok(lines) => info!(changes = %lines.join("; "), "reload applied"),
                        Err(why) => warn!(%why, "reload refused, the running configuration stays"),
                    }
                    if let Some(r) = reply {
                        let _ = r.send(outcome);
                    }
                }
                () = sleep_until(timeout), if timeout.is_some() => {
                    self.core.handle_timeout(Instant::now());
                }
            }
        }
        self.shutdown().await;
    }

    fn on_control(&mut self, msg: Control) {
        match msg {
            Control::Drain {
                scope,
                drained,
                reply,
            } => {
                let outcome = self.core.handle_drain(scope, drained, Instant::now());
                if let Some(r) = reply {
                    let _ = r.send(outcome);
                }
            }
            Control::DrainFile(set) => {
                let path = self.core.config().edge.drain_file.clone();
                if self.core.handle_drain_file(set.clone(), Instant::now()) {
                    info!(drain_file = %path.display(), ?set, "drain file changed");
                }
            }
            Control::Reload { reply } => {
                let (path, site) = (self.path.clone(), self.core.config().site.to_string());
                let done = self.loaded.0.clone();
                self.tracker.spawn(async move {
                    let loaded =
                        tokio::task::spawn_blocking(move || SiteConfig::load(&path, &site))
                            .await
                            .map_err(|e| ReloadError::Task(e.to_string()))
                            .and_then(|r| r.map_err(ReloadError::from));
                    let _ = done.send((loaded, reply));
                });
            }
            Control::Shutdown => {}
        }
    }

    /// Carry out every output of the core.
    async fn drive(&mut self) {
        while let Some(out) = self.core.poll_output() {
            match out {
                Output::Start(cfg) => self.start(*cfg),
                Output::Routes { upstream, routes } => {
                    let Some(p) = self.peers.get(&upstream) else {
                        continue;
                    };
                    if p.handle
                        .commands
                        .send(Command::ReplaceAll(routes))
                        .await
                        .is_err()
                    {
                        warn!(%upstream, "peer task is gone");
                    }
                }
                Output::Stop { upstream, message } => {
                    let Some(p) = self.peers.get(&upstream) else {
                        continue;
                    };
                    let (commands, mut status) =
                        (p.handle.commands.clone(), p.handle.status.clone());
                    let done = self.stopped.0.clone();
                    // Its own task: the loop goes on handling health (withdrawals) meanwhile.
                    self.tracker.spawn(async move {
                        let _ = commands.send(Command::Shutdown(message.to_owned())).await;
                        let _ = status.wait_for(|s| s.finished).await;
                        let established = status.borrow().stats.established_count;
                        let _ = done.send((upstream, established));
                    });
                }
                Output::Abort { upstream } => {
                    if let Some(p) = self.peers.get(&upstream) {
                        warn!(%upstream, "peer did not stop within {STOP_DEADLINE:?}: aborted");
                        p.cancel.cancel();
                    }
                }
                Output::HealthReload { checks, prefixes } => {
                    if self
                        .health
                        .send(HealthCommand::Reload { checks, prefixes })
                        .is_err()
                    {
                        warn!("health loop is gone: reload of the checks not applied");
                    }
                }
            }
        }
    }

    fn publish(&self) {
        let upstreams = self
            .core
            .upstreams()
            .iter()
            .filter_map(|u| {
                let p = self.peers.get(&u.cfg.name)?;
                Some(UpstreamView {
                    name: u.cfg.name.clone(),
                    remote: u.cfg.peer.remote,
                    remote_as: u.cfg.peer.session.peer_as,
                    local_as: u.cfg.peer.session.local_as,
                    afi: u.cfg.afi,
                    status: p.handle.status.clone(),
                    routes: u.wanted.clone(),
                    notes: u.cfg.notes.clone(),
                    resets: u.resets,
                    established_before: u.established_before,
                })
            })
            .collect();
        let (ctl_drained, file_drained) = self.core.drains();
        let cfg = self.core.config();
        self.view.send_replace(View {
            site: cfg.site.clone(),
            config: self.path.clone(),
            started: self.started,
            upstreams,
            prefixes: self.core.prefixes(),
            checks: self.core.checks(),
            drain_file: cfg.edge.drain_file.clone(),
            ctl_drained,
            file_drained,
            reloads: self.core.reloads().clone(),
            reaction: self.core.reaction(),
        });
    }

    /// Every peer withdraws and sends Cease; wait for them (bounded).
    async fn shutdown(mut self) {
        info!("shutting down: withdrawing every route and closing every session");
        for p in self.peers.values() {
            let _ = p
                .handle
                .commands
                .send(Command::Shutdown(SHUTDOWN_MESSAGE.to_owned()))
                .await;
        }
        let deadline = SHUTDOWN_FLUSH + Duration::from_secs(1);
        for (name, p) in &self.peers {
            let mut rx = p.handle.status.clone();
            let done = tokio::time::timeout(deadline, rx.wait_for(|s| s.finished)).await;
            if done.is_err() {
                warn!(upstream = %name, "peer did not finish within {deadline:?}");
                p.cancel.cancel();
            }
        }
        self.core.clear_routes();
        self.publish();
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}
