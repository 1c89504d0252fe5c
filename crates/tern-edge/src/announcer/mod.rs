//! The announcer: the one writer of what the site announces (STYLE habit 2).
//!
//! ```text
//!  health loop ──HealthEvent──▶┐  (transitions; results and counters on watch<HealthStatus>)
//!  tern ctl ─────Control──────▶│ announcer ──Command::ReplaceAll──▶ one peer task per upstream
//!  signals, drain file ─Control┘     │
//!                                    └──watch<View>──▶ tern ctl, /metrics
//! ```
//!
//! It keeps each prefix's state (from the health loop's [`PrefixTransition`]s), the operator's
//! drains (control socket and drain file; passed on to the health loop, which owns the
//! [`tern_health::PrefixStates`]), and for every upstream the routes it wants announced: the
//! prefixes of the session's family that are Up, Degraded or drained-with-prepend, each with the
//! upstream's intent communities plus the degrade extras. After every batch of inputs it hands
//! each peer whose wanted set changed one [`Command::ReplaceAll`]; the peer's Adj-RIB-Out turns
//! the difference into as few UPDATEs as fit, sent at once (no MRAI on our side).
//!
//! Start: every prefix is withdrawn until its checks pass `rise` times. Reload: see
//! [`crate::config::diff`]. Shutdown: every peer withdraws and sends a Cease with the RFC 8203
//! message [`SHUTDOWN_MESSAGE`], bounded by [`crate::peer::SHUTDOWN_FLUSH`].

pub mod view;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use tern_bgp::rib::RouteAttrs;
use tern_health::{Health, PrefixState, PrefixTransition};
use tern_types::Prefix;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use crate::config::diff::{UpstreamChange, diff};
use crate::config::{SiteConfig, UpstreamConfig};
use crate::peer::{Command, PeerHandle, SHUTDOWN_FLUSH, spawn_peer};
use crate::probe::scheduler::{HealthCommand, HealthEvent, HealthStatus};
pub use view::{CheckView, PrefixView, Reaction, UpstreamView, View};

/// RFC 8203 shutdown communication sent on SIGTERM.
pub const SHUTDOWN_MESSAGE: &str = "tern shutting down";
/// RFC 8203 shutdown communication of a session reset by a reload.
pub const RESET_MESSAGE: &str = "tern: configuration changed";

/// Who drains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DrainSource {
    /// `tern ctl drain` / `undrain`.
    Ctl,
    /// The drain file.
    File,
}

/// Messages to the announcer from the control API, the signal handler and the drain file.
#[derive(Debug)]
#[non_exhaustive]
pub enum Control {
    /// Drain (or undrain) one prefix or all (`None`). Replies with the prefixes affected.
    Drain {
        /// `None`: every prefix.
        prefix: Option<Prefix>,
        /// Drain or undrain.
        drained: bool,
        /// Replies with the number of prefixes matched, or why not.
        reply: Option<oneshot::Sender<Result<usize, String>>>,
    },
    /// The drain file now asks for this (`None` entries: all; empty: nothing).
    DrainFile(Vec<Option<Prefix>>),
    /// Reload the configuration file. Replies with the applied changes, or why it was refused.
    Reload {
        /// Where to send the outcome.
        reply: Option<oneshot::Sender<Result<Vec<String>, String>>>,
    },
    /// Withdraw everything, Cease, end.
    Shutdown,
}

struct Peer {
    cfg: UpstreamConfig,
    handle: PeerHandle,
    cancel: CancellationToken,
    wanted: Vec<(Prefix, RouteAttrs)>,
    resets: u64,
    established_before: u64,
}

/// The announcer task's state. Build with [`Announcer::new`], run with [`Announcer::run`].
pub struct Announcer {
    path: PathBuf,
    cfg: SiteConfig,
    peers: Vec<Peer>,
    prefixes: BTreeMap<Prefix, PrefixView>,
    checks: BTreeMap<String, CheckView>,
    ctl_drained: BTreeSet<Option<Prefix>>,
    file_drained: BTreeSet<Option<Prefix>>,
    /// What the health loop was last told is drained.
    drained_sent: BTreeSet<Prefix>,
    health: mpsc::Sender<HealthCommand>,
    view: watch::Sender<View>,
    tracker: TaskTracker,
    cancel: CancellationToken,
    started: Instant,
    reloads: (u64, u64, Option<String>),
    reaction: Reaction,
    /// Oldest state change not yet handed to the peers.
    pending_since: Option<Instant>,
}

impl std::fmt::Debug for Announcer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Announcer")
            .field("site", &self.cfg.site)
            .field("peers", &self.peers.len())
            .finish()
    }
}

impl Announcer {
    /// Start one peer per upstream of `cfg` (on `tracker`, stopped by `cancel`) with nothing
    /// announced, and set up the state. `health` reaches the health loop.
    pub fn new(
        path: PathBuf,
        cfg: SiteConfig,
        health: mpsc::Sender<HealthCommand>,
        tracker: TaskTracker,
        cancel: CancellationToken,
    ) -> (Self, watch::Receiver<View>) {
        let now = SystemTime::now();
        let prefixes = cfg
            .prefixes
            .iter()
            .map(|p| {
                (
                    p.prefix,
                    initial_prefix(
                        p.prefix,
                        now,
                        "starting: withdrawn until its services are up",
                    ),
                )
            })
            .collect();
        let checks = cfg
            .checks
            .iter()
            .map(|c| (c.name.clone(), initial_check(c)))
            .collect();
        let placeholder = View {
            site: cfg.site.clone(),
            config: path.clone(),
            started: Instant::now(),
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
        let mut a = Announcer {
            path,
            peers: Vec::new(),
            prefixes,
            checks,
            ctl_drained: BTreeSet::new(),
            file_drained: BTreeSet::new(),
            drained_sent: BTreeSet::new(),
            health,
            view,
            tracker,
            cancel,
            started: Instant::now(),
            reloads: (0, 0, None),
            reaction: Reaction::default(),
            pending_since: None,
            cfg,
        };
        for u in a.cfg.upstreams.clone() {
            let p = a.start_peer(u);
            a.peers.push(p);
        }
        a.publish();
        (a, rx)
    }

    fn start_peer(&self, cfg: UpstreamConfig) -> Peer {
        let cancel = self.cancel.child_token();
        let handle = spawn_peer(cfg.peer.clone(), &self.tracker, cancel.clone());
        Peer {
            cfg,
            handle,
            cancel,
            wanted: Vec::new(),
            resets: 0,
            established_before: 0,
        }
    }

    /// Run until [`Control::Shutdown`] (or both input channels close): then every peer
    /// withdraws, sends Cease and ends, within a bound.
    pub async fn run(
        mut self,
        mut control: mpsc::Receiver<Control>,
        mut events: mpsc::Receiver<HealthEvent>,
        mut health: watch::Receiver<HealthStatus>,
    ) {
        let mut events_open = true;
        let mut health_open = true;
        loop {
            tokio::select! {
                biased;
                changed = health.changed(), if health_open => match changed {
                    Ok(()) => {
                        let status = health.borrow_and_update().clone();
                        self.on_health_status(&status);
                    }
                    Err(_) => health_open = false,
                },
                ev = events.recv(), if events_open => match ev {
                    Some(ev) => {
                        self.on_health(ev);
                        // Take everything already queued: one batch, one UPDATE per peer.
                        while let Ok(ev) = events.try_recv() {
                            self.on_health(ev);
                        }
                    }
                    None => events_open = false,
                },
                msg = control.recv() => match msg {
                    Some(Control::Shutdown) | None => break,
                    Some(msg) => self.on_control(msg).await,
                },
            }
            self.announce().await;
            self.publish();
        }
        self.shutdown().await;
    }

    fn on_health(&mut self, ev: HealthEvent) {
        match ev {
            HealthEvent::Prefix(t) => self.on_prefix(t),
            HealthEvent::CheckTransition { check, transition } => {
                if let Some(c) = self.checks.get_mut(&check) {
                    c.health = transition.health;
                    c.reason = transition.reason;
                    c.transitions += 1;
                }
                info!(check = %check, health = %transition_health(&self.checks, &check), "check");
            }
        }
    }

    /// Latest results and counters of every check, from the health loop's `watch` (the
    /// health loop owns them; we only mirror them for `tern ctl checks` and metrics).
    fn on_health_status(&mut self, status: &HealthStatus) {
        for s in &status.checks {
            if let Some(c) = self.checks.get_mut(&s.name) {
                c.ok_total = s.ok_total;
                c.failed_total = s.failed_total;
                if let (Some(r), Some(at)) = (&s.last_result, s.last_at) {
                    c.last = Some((r.clone(), at));
                }
            }
        }
    }

    fn on_prefix(&mut self, t: PrefixTransition) {
        info!(prefix = %t.prefix, from = %t.from, to = %t.to, why = %t.why, "prefix state");
        if let Some(p) = self.prefixes.get_mut(&t.prefix) {
            p.state = t.to;
            p.why = t.why;
            p.since = SystemTime::now();
            p.transitions += 1;
            self.pending_since = Some(self.pending_since.map_or(t.at, |s| s.min(t.at)));
        }
    }

    async fn on_control(&mut self, msg: Control) {
        match msg {
            Control::Drain {
                prefix,
                drained,
                reply,
            } => {
                let outcome = self.ctl_drain(prefix, drained);
                if outcome.is_ok() {
                    self.push_drains().await;
                }
                if let Some(r) = reply {
                    let _ = r.send(outcome);
                }
            }
            Control::DrainFile(set) => {
                let set: BTreeSet<Option<Prefix>> = set.into_iter().collect();
                if set != self.file_drained {
                    info!(drain_file = %self.cfg.edge.drain_file.display(), ?set, "drain file changed");
                    self.file_drained = set;
                    self.push_drains().await;
                }
            }
            Control::Reload { reply } => {
                let outcome = self.reload().await;
                match &outcome {
                    Ok(lines) => {
                        self.reloads.0 += 1;
                        self.reloads.2 = Some(format!("applied: {}", lines.join("; ")));
                        info!(changes = %lines.join("; "), "reload applied");
                    }
                    Err(why) => {
                        self.reloads.1 += 1;
                        self.reloads.2 = Some(format!("refused: {why}"));
                        warn!(%why, "reload refused, the running configuration stays");
                    }
                }
                if let Some(r) = reply {
                    let _ = r.send(outcome);
                }
            }
            Control::Shutdown => {}
        }
    }

    fn ctl_drain(&mut self, prefix: Option<Prefix>, drained: bool) -> Result<usize, String> {
        let matched = match prefix {
            None => self.prefixes.len(),
            Some(p) if self.prefixes.contains_key(&p) => 1,
            Some(p) => {
                let known: Vec<String> = self.prefixes.keys().map(|p| p.to_string()).collect();
                return Err(format!(
                    "{p} is not announced by site {} (prefixes: {})",
                    self.cfg.site,
                    known.join(", ")
                ));
            }
        };
        if drained {
            self.ctl_drained.insert(prefix);
        } else if prefix.is_none() {
            self.ctl_drained.clear();
        } else {
            self.ctl_drained.remove(&prefix);
        }
        Ok(matched)
    }

    /// Tell the health loop about every prefix whose effective drain flag changed.
    async fn push_drains(&mut self) {
        let drained_by = |set: &BTreeSet<Option<Prefix>>, p: &Prefix| {
            set.contains(&None) || set.contains(&Some(*p))
        };
        let want: BTreeSet<Prefix> = self
            .prefixes
            .keys()
            .filter(|p| drained_by(&self.ctl_drained, p) || drained_by(&self.file_drained, p))
            .copied()
            .collect();
        let changes: Vec<(Prefix, bool)> = want
            .difference(&self.drained_sent)
            .map(|p| (*p, true))
            .chain(self.drained_sent.difference(&want).map(|p| (*p, false)))
            .collect();
        for (prefix, drained) in changes {
            let cmd = HealthCommand::Drain {
                prefix: Some(prefix),
                drained,
            };
            if self.health.send(cmd).await.is_err() {
                warn!("health loop is gone: drain not applied");
            }
        }
        self.drained_sent = want;
    }

    /// Load, validate and apply the configuration file again, as a diff.
    async fn reload(&mut self) -> Result<Vec<String>, String> {
        let path = self.path.clone();
        let site = self.cfg.site.to_string();
        let new = tokio::task::spawn_blocking(move || SiteConfig::load(&path, &site))
            .await
            .map_err(|e| format!("reload task failed: {e}"))?
            .map_err(|e| e.to_string())?;
        let d = diff(&self.cfg, &new);
        // The health loop validates checks and policies; refused there means refused here.
        let (tx, rx) = oneshot::channel();
        let cmd = HealthCommand::Reload {
            checks: new.checks.clone(),
            prefixes: new.prefixes.clone(),
            reply: tx,
        };
        self.health
            .send(cmd)
            .await
            .map_err(|_| "the health loop is not running".to_owned())?;
        rx.await
            .map_err(|_| "the health loop did not answer".to_owned())?
            .map_err(|errs| {
                errs.iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            })?;
        // Accepted: apply the session changes.
        for (name, change) in &d.upstreams {
            let new_cfg = new.upstreams.iter().find(|u| &u.name == name).cloned();
            let idx = self.peers.iter().position(|p| &p.cfg.name == name);
            match (change, idx, new_cfg) {
                (UpstreamChange::Removed, Some(i), _) => {
                    let old = self.peers.remove(i);
                    stop_peer(&old, RESET_MESSAGE).await;
                }
                (UpstreamChange::Reset(_), Some(i), Some(cfg)) => {
                    let old = self.peers.remove(i);
                    stop_peer(&old, RESET_MESSAGE).await;
                    let mut p = self.start_peer(cfg);
                    p.resets = old.resets + 1;
                    p.established_before =
                        old.established_before + old.handle.status.borrow().stats.established_count;
                    self.peers.insert(i, p);
                }
                (UpstreamChange::Added, None, Some(cfg)) => {
                    let p = self.start_peer(cfg);
                    self.peers.push(p);
                }
                (_, Some(i), Some(cfg)) => self.peers[i].cfg = cfg,
                _ => {}
            }
        }
        let now = SystemTime::now();
        self.prefixes
            .retain(|p, _| new.prefixes.iter().any(|n| n.prefix == *p));
        for p in &new.prefixes {
            self.prefixes.entry(p.prefix).or_insert_with(|| {
                initial_prefix(
                    p.prefix,
                    now,
                    "new prefix: withdrawn until its services are up",
                )
            });
        }
        let mut checks = BTreeMap::new();
        for c in &new.checks {
            let kept = self
                .checks
                .remove(&c.name)
                .filter(|old| old.target == c.spec.kind.to_string());
            checks.insert(c.name.clone(), kept.unwrap_or_else(|| initial_check(c)));
        }
        self.checks = checks;
        // Drains of prefixes that are gone are forgotten by the health loop.
        self.drained_sent.retain(|p| self.prefixes.contains_key(p));
        self.cfg = new;
        self.push_drains().await;
        Ok(d.summary())
    }

    /// Hand every peer whose wanted routes changed its new table.
    async fn announce(&mut self) {
        let announcements: Vec<(Prefix, Option<tern_health::Degrade>)> = self
            .prefixes
            .values()
            .map(|p| (p.prefix, p.state.announcement()))
            .collect();
        for peer in &mut self.peers {
            let wanted = self
                .cfg
                .routes_for(&peer.cfg, announcements.iter().map(|(p, a)| (p, a.clone())));
            if wanted == peer.wanted {
                continue;
            }
            peer.wanted = wanted.clone();
            if peer
                .handle
                .commands
                .send(Command::ReplaceAll(wanted))
                .await
                .is_err()
            {
                warn!(upstream = %peer.cfg.name, "peer task is gone");
            }
        }
        if let Some(since) = self.pending_since.take() {
            let d = since.elapsed();
            let r = &mut self.reaction;
            r.count += 1;
            r.last = d;
            r.max = r.max.max(d);
            r.sum += d;
        }
    }

    fn publish(&self) {
        let upstreams = self
            .peers
            .iter()
            .map(|p| UpstreamView {
                name: p.cfg.name.clone(),
                remote: p.cfg.peer.remote,
                remote_as: p.cfg.peer.session.peer_as,
                local_as: p.cfg.peer.session.local_as,
                afi: p.cfg.afi,
                status: p.handle.status.clone(),
                routes: p.wanted.clone(),
                notes: p.cfg.notes.clone(),
                resets: p.resets,
                established_before: p.established_before,
            })
            .collect();
        let order = |p: &Prefix| {
            self.cfg
                .prefixes
                .iter()
                .position(|x| x.prefix == *p)
                .unwrap_or(usize::MAX)
        };
        let mut prefixes: Vec<PrefixView> = self.prefixes.values().cloned().collect();
        prefixes.sort_by_key(|p| order(&p.prefix));
        self.view.send_replace(View {
            site: self.cfg.site.clone(),
            config: self.path.clone(),
            started: self.started,
            upstreams,
            prefixes,
            checks: self.checks.values().cloned().collect(),
            drain_file: self.cfg.edge.drain_file.clone(),
            ctl_drained: self.ctl_drained.iter().copied().collect(),
            file_drained: self.file_drained.iter().copied().collect(),
            reloads: self.reloads.clone(),
            reaction: self.reaction,
        });
    }

    /// Every peer withdraws and sends Cease; wait for them (bounded).
    async fn shutdown(mut self) {
        info!("shutting down: withdrawing every route and closing every session");
        for p in &self.peers {
            let _ = p
                .handle
                .commands
                .send(Command::Shutdown(SHUTDOWN_MESSAGE.to_owned()))
                .await;
        }
        let deadline = SHUTDOWN_FLUSH + Duration::from_secs(1);
        for p in &mut self.peers {
            let mut rx = p.handle.status.clone();
            let done = tokio::time::timeout(deadline, rx.wait_for(|s| s.finished)).await;
            if done.is_err() {
                warn!(upstream = %p.cfg.name, "peer did not finish within {deadline:?}");
                p.cancel.cancel();
            }
        }
        for p in &mut self.peers {
            p.wanted.clear();
        }
        self.publish();
    }
}

/// Stop one peer: withdraw, Cease with `message`, wait (bounded) for it to finish.
async fn stop_peer(p: &Peer, message: &str) {
    let _ = p
        .handle
        .commands
        .send(Command::Shutdown(message.to_owned()))
        .await;
    let mut rx = p.handle.status.clone();
    if tokio::time::timeout(
        SHUTDOWN_FLUSH + Duration::from_secs(1),
        rx.wait_for(|s| s.finished),
    )
    .await
    .is_err()
    {
        p.cancel.cancel();
    }
}

fn initial_prefix(prefix: Prefix, now: SystemTime, why: &str) -> PrefixView {
    PrefixView {
        prefix,
        state: PrefixState::Down,
        why: why.to_owned(),
        since: now,
        transitions: 0,
    }
}

fn initial_check(c: &crate::probe::scheduler::CheckDef) -> CheckView {
    CheckView {
        name: c.name.clone(),
        service: c.service.clone(),
        target: c.spec.kind.to_string(),
        health: Health::Down,
        reason: format!("waiting for {} successes", c.spec.rise),
        last: None,
        ok_total: 0,
        failed_total: 0,
        transitions: 0,
    }
}

fn transition_health(checks: &BTreeMap<String, CheckView>, name: &str) -> String {
    checks
        .get(name)
        .map(|c| format!("{} ({})", c.health, c.reason))
        .unwrap_or_default()
}
