//! The announcer's sans-IO core (STYLE habits 1 and 2; issue 15 §2): the one owner of drain
//! and prefix state and of what every upstream is sent.
//!
//! Inputs are `handle_*` calls with a `now` passed in: service health from the health loop
//! ([`HealthReport`], one way: the health loop never hears back about drains), drains from
//! `tern ctl` and the drain file, a reload (already loaded; validated here before anything
//! changes), a peer task that finished stopping, and timeouts. Outputs come out of
//! [`Core::poll_output`]: start/stop/abort a peer, hand a peer its routes, give the health loop
//! new checks. [`Core::poll_timeout`] is the earliest deadline of a peer still stopping.
//!
//! The prefix machine ([`PrefixStates`], from tern-health) lives here, fed with service health
//! and drain flags, so a drain is one step (no round trip through the health loop). A session
//! reset by a reload is a stop output and, when the old task reported back (or its deadline
//! passed: abort), a start output; meanwhile every other input is handled as usual, so a
//! withdrawal never waits for a reset.
//!
//! Tested with replayable event logs, no tokio, no sockets (`tests/announcer_core.rs`).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use tern_bgp::rib::RouteAttrs;
use tern_health::{Health, PrefixPolicy, PrefixStates};
use tern_types::Prefix;

use super::view::{CheckView, PrefixView, Reaction};
use crate::config::diff::{UpstreamChange, diff};
use crate::config::{SiteConfig, UpstreamConfig};
use crate::peer::SHUTDOWN_FLUSH;
use crate::probe::scheduler::{CheckDef, HealthReport, SchedulerError, validate};

/// RFC 8203 shutdown communication of a session reset by a reload.
pub const RESET_MESSAGE: &str = "tern: configuration changed";
/// How long a stopping peer may take to withdraw and send its Cease before it is aborted.
pub const STOP_DEADLINE: Duration = Duration::from_secs(SHUTDOWN_FLUSH.as_secs() + 1);

/// Who drains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DrainSource {
    /// `tern ctl drain` / `undrain`.
    Ctl,
    /// The drain file.
    File,
}

/// Which prefixes a drain or undrain is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DrainScope {
    /// One prefix.
    Prefix(Prefix),
    /// Every prefix but the site's unicast ones (the operator must still reach the box).
    Service,
    /// Every prefix, the unicast ones too.
    All,
}

/// A drain that cannot be done.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DrainError {
    /// The prefix is not one of the site's.
    #[error("{prefix} is not announced by site {site} (prefixes: {known})")]
    UnknownPrefix {
        /// Asked for.
        prefix: Prefix,
        /// The site.
        site: String,
        /// Its prefixes, comma-separated.
        known: String,
    },
}

/// A reload that was refused; the running configuration stays.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReloadError {
    /// The file does not load or validate.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The checks or prefix policies cannot run.
    #[error("health checks: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Health(Vec<SchedulerError>),
    /// The loader task failed.
    #[error("reload task failed: {0}")]
    Task(String),
}

/// What the shell must do.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Output {
    /// Start a peer task for this upstream (nothing announced until a `Routes`).
    Start(Box<UpstreamConfig>),
    /// Make the routes of `upstream` exactly these.
    Routes {
        /// Upstream name.
        upstream: String,
        /// The routes.
        routes: Vec<(Prefix, RouteAttrs)>,
    },
    /// Withdraw everything, send Cease with `message`, end; report with
    /// [`Core::handle_peer_stopped`].
    Stop {
        /// Upstream name.
        upstream: String,
        /// RFC 8203 message.
        message: &'static str,
    },
    /// The peer did not stop within [`STOP_DEADLINE`]: cancel its task now.
    Abort {
        /// Upstream name.
        upstream: String,
    },
    /// Give the health loop these checks and policies (validated already).
    HealthReload {
        /// Checks.
        checks: Vec<CheckDef>,
        /// Prefix policies (for the services' names).
        prefixes: Vec<PrefixPolicy>,
    },
}

#[derive(Clone, Debug)]
enum Phase {
    Running,
    /// Stopping; start `restart` once stopped.
    Stopping {
        deadline: Instant,
        restart: Option<Box<UpstreamConfig>>,
        aborted: bool,
    },
}

/// One upstream as the core sees it.
#[derive(Clone, Debug)]
pub struct Upstream {
    /// Its configuration.
    pub cfg: UpstreamConfig,
    /// What it is sent now.
    pub wanted: Vec<(Prefix, RouteAttrs)>,
    /// Resets by reloads.
    pub resets: u64,
    /// Established count of replaced peer tasks.
    pub established_before: u64,
    phase: Phase,
}

impl Upstream {
    /// Is its peer task being stopped (removed, or reset and not restarted yet)?
    pub fn stopping(&self) -> bool {
        matches!(self.phase, Phase::Stopping { .. })
    }
}

/// The core. Build with [`Core::new`].
#[derive(Debug)]
pub struct Core {
    cfg: SiteConfig,
    states: PrefixStates,
    prefixes: BTreeMap<Prefix, PrefixView>,
    checks: BTreeMap<String, CheckView>,
    ctl_drained: BTreeSet<Option<Prefix>>,
    file_drained: BTreeSet<Option<Prefix>>,
    upstreams: Vec<Upstream>,
    /// Removed upstreams still stopping.
    leaving: Vec<Upstream>,
    outputs: VecDeque<Output>,
    reloads: (u64, u64, Option<String>),
    reaction: Reaction,
    pending_since: Option<Instant>,
}

impl Core {
    /// Every prefix with services withdrawn, every check Down; one [`Output::Start`] per
    /// upstream, then the routes of the prefixes without services.
    pub fn new(cfg: SiteConfig, now: Instant) -> Self {
        let states = PrefixStates::new(cfg.prefixes.clone(), now);
        let mut core = Core {
            prefixes: BTreeMap::new(),
            checks: cfg
                .checks
                .iter()
                .map(|c| (c.name.clone(), initial_check(c)))
                .collect(),
            states,
            ctl_drained: BTreeSet::new(),
            file_drained: BTreeSet::new(),
            upstreams: Vec::new(),
            leaving: Vec::new(),
            outputs: VecDeque::new(),
            reloads: (0, 0, None),
            reaction: Reaction::default(),
            pending_since: None,
            cfg,
        };
        core.sync_prefixes(now, false);
        for u in core.cfg.upstreams.clone() {
            core.outputs.push_back(Output::Start(Box::new(u.clone())));
            core.upstreams.push(Upstream {
                cfg: u,
                wanted: Vec::new(),
                resets: 0,
                established_before: 0,
                phase: Phase::Running,
            });
        }
        // A prefix without services is a static announcement: wanted from the start.
        core.announce(now);
        core
    }

    /// The running configuration.
    pub fn config(&self) -> &SiteConfig {
        &self.cfg
    }

    /// Latest health from the health loop: check results and service states.
    pub fn handle_health(&mut self, report: HealthReport, now: Instant) {
        for s in report.checks {
            if let Some(c) = self.checks.get_mut(&s.name) {
                c.health = s.health;
                c.reason = s.reason;
                c.ok_total = s.ok_total;
                c.failed_total = s.failed_total;
                c.transitions = s.transitions;
                if let (Some(r), Some(at)) = (s.last_result, s.last_at) {
                    c.last = Some((r, at));
                }
            }
        }
        for s in report.services {
            self.states
                .set_service(&s.service, s.health, &s.reason, report.at);
        }
        self.sync_prefixes(now, true);
        self.announce(now);
    }

    /// `tern ctl drain` (`drained`) or `undrain` of `scope`. Returns the prefixes matched.
    pub fn handle_drain(
        &mut self,
        scope: DrainScope,
        drained: bool,
        now: Instant,
    ) -> Result<Vec<Prefix>, DrainError> {
        let matched: Vec<Prefix> = match scope {
            DrainScope::Prefix(p) if self.prefixes.contains_key(&p) => vec![p],
            DrainScope::Prefix(p) => {
                return Err(DrainError::UnknownPrefix {
                    prefix: p,
                    site: self.cfg.site.to_string(),
                    known: self
                        .prefixes
                        .keys()
                        .map(|p| p.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
            DrainScope::Service => self
                .prefixes
                .keys()
                .filter(|p| !self.cfg.unicast.contains(p))
                .copied()
                .collect(),
            DrainScope::All => self.prefixes.keys().copied().collect(),
        };
        if drained {
            match scope {
                DrainScope::All => {
                    self.ctl_drained.clear();
                    self.ctl_drained.insert(None);
                }
                _ => self.ctl_drained.extend(matched.iter().map(|p| Some(*p))),
            }
        } else {
            match scope {
                DrainScope::All => self.ctl_drained.clear(),
                DrainScope::Service if !self.ctl_drained.contains(&None) => {
                    for p in &matched {
                        self.ctl_drained.remove(&Some(*p));
                    }
                }
                // Undraining part of an "all" drain: keep the rest drained, by name.
                _ => {
                    if self.ctl_drained.remove(&None) {
                        let all: Vec<Prefix> = self.prefixes.keys().copied().collect();
                        self.ctl_drained.extend(all.into_iter().map(Some));
                    }
                    for p in &matched {
                        self.ctl_drained.remove(&Some(*p));
                    }
                }
            }
        }
        self.apply_drains(now);
        Ok(matched)
    }

    /// The drain file now asks for `set` (`None`: every prefix; empty: nothing).
    pub fn handle_drain_file(&mut self, set: Vec<Option<Prefix>>, now: Instant) -> bool {
        let set: BTreeSet<Option<Prefix>> = set.into_iter().collect();
        if set == self.file_drained {
            return false;
        }
        self.file_drained = set;
        self.apply_drains(now);
        true
    }

    /// Apply `new`, loaded from the file, as a diff. Everything is validated first; refused, it
    /// changes nothing but the refusal counter.
    pub fn handle_reload(
        &mut self,
        new: Result<SiteConfig, ReloadError>,
        now: Instant,
    ) -> Result<Vec<String>, ReloadError> {
        let outcome = new.and_then(|new| {
            let errors = validate(&new.checks, &new.prefixes);
            if errors.is_empty() {
                Ok(self.apply_reload(new, now))
            } else {
                Err(ReloadError::Health(errors))
            }
        });
        match &outcome {
            Ok(lines) => {
                self.reloads.0 += 1;
                self.reloads.2 = Some(format!("applied: {}", lines.join("; ")));
            }
            Err(why) => {
                self.reloads.1 += 1;
                self.reloads.2 = Some(format!("refused: {why}"));
            }
        }
        outcome
    }

    fn apply_reload(&mut self, new: SiteConfig, now: Instant) -> Vec<String> {
        let d = diff(&self.cfg, &new);
        self.outputs.push_back(Output::HealthReload {
            checks: new.checks.clone(),
            prefixes: new.prefixes.clone(),
        });
        for (name, change) in &d.upstreams {
            let new_cfg = new.upstreams.iter().find(|u| &u.name == name).cloned();
            let idx = self.upstreams.iter().position(|u| &u.cfg.name == name);
            match (change, idx, new_cfg) {
                (UpstreamChange::Removed, Some(i), _) => {
                    let mut old = self.upstreams.remove(i);
                    self.stop(&mut old, None, now);
                    self.leaving.push(old);
                }
                (UpstreamChange::Reset(_), Some(i), Some(cfg)) => {
                    let mut u = self.upstreams.remove(i);
                    self.stop(&mut u, Some(Box::new(cfg)), now);
                    self.upstreams.insert(i, u);
                }
                (UpstreamChange::Added, None, Some(cfg)) => {
                    self.outputs.push_back(Output::Start(Box::new(cfg.clone())));
                    self.upstreams.push(Upstream {
                        cfg,
                        wanted: Vec::new(),
                        resets: 0,
                        established_before: 0,
                        phase: Phase::Running,
                    });
                }
                (_, Some(i), Some(cfg)) => match &mut self.upstreams[i].phase {
                    Phase::Stopping {
                        restart: Some(r), ..
                    } => **r = cfg,
                    _ => self.upstreams[i].cfg = cfg,
                },
                _ => {}
            }
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
        self.states.reconfigure(new.prefixes.clone(), now);
        self.cfg = new;
        // Drains of prefixes that are gone are forgotten.
        let known: BTreeSet<Prefix> = self.cfg.prefixes.iter().map(|p| p.prefix).collect();
        self.ctl_drained
            .retain(|p| p.is_none_or(|p| known.contains(&p)));
        self.apply_drains(now);
        d.summary()
    }

    /// Stop `u`'s peer task; start `restart` once it has stopped.
    fn stop(&mut self, u: &mut Upstream, restart: Option<Box<UpstreamConfig>>, now: Instant) {
        match &mut u.phase {
            Phase::Stopping { restart: r, .. } => *r = restart,
            Phase::Running => {
                self.outputs.push_back(Output::Stop {
                    upstream: u.cfg.name.clone(),
                    message: RESET_MESSAGE,
                });
                u.phase = Phase::Stopping {
                    deadline: now + STOP_DEADLINE,
                    restart,
                    aborted: false,
                };
            }
        }
    }

    /// The peer task of `upstream` has ended, having reached Established `established` times.
    pub fn handle_peer_stopped(&mut self, upstream: &str, established: u64, now: Instant) {
        self.leaving.retain(|u| u.cfg.name != upstream);
        let Some(u) = self.upstreams.iter_mut().find(|u| u.cfg.name == upstream) else {
            return;
        };
        let Phase::Stopping { restart, .. } = &mut u.phase else {
            return;
        };
        match restart.take() {
            Some(cfg) => {
                u.cfg = (*cfg).clone();
                u.resets += 1;
                u.established_before += established;
                u.wanted.clear();
                u.phase = Phase::Running;
                self.outputs.push_back(Output::Start(cfg));
                self.announce(now);
            }
            None => self.upstreams.retain(|u| u.cfg.name != upstream),
        }
    }

    /// Abort peers that did not stop in time.
    pub fn handle_timeout(&mut self, now: Instant) {
        for u in self.upstreams.iter_mut().chain(self.leaving.iter_mut()) {
            if let Phase::Stopping {
                deadline, aborted, ..
            } = &mut u.phase
            {
                if *deadline <= now && !*aborted {
                    *aborted = true;
                    self.outputs.push_back(Output::Abort {
                        upstream: u.cfg.name.clone(),
                    });
                }
            }
        }
    }

    /// The next thing to do.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When [`Core::handle_timeout`] is due next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.upstreams
            .iter()
            .chain(&self.leaving)
            .filter_map(|u| match u.phase {
                Phase::Stopping {
                    deadline,
                    aborted: false,
                    ..
                } => Some(deadline),
                _ => None,
            })
            .min()
    }

    /// Every prefix in configuration order.
    pub fn prefixes(&self) -> Vec<PrefixView> {
        self.cfg
            .prefixes
            .iter()
            .filter_map(|p| self.prefixes.get(&p.prefix).cloned())
            .collect()
    }

    /// State of one prefix.
    pub fn prefix(&self, prefix: &Prefix) -> Option<&PrefixView> {
        self.prefixes.get(prefix)
    }

    /// Every check.
    pub fn checks(&self) -> Vec<CheckView> {
        self.checks.values().cloned().collect()
    }

    /// Upstreams in configuration order (with those being reset).
    pub fn upstreams(&self) -> &[Upstream] {
        &self.upstreams
    }

    /// Drains by `tern ctl` and by the drain file.
    pub fn drains(&self) -> (Vec<Option<Prefix>>, Vec<Option<Prefix>>) {
        (
            self.ctl_drained.iter().copied().collect(),
            self.file_drained.iter().copied().collect(),
        )
    }

    /// Applied and refused reloads, and the outcome of the last one.
    pub fn reloads(&self) -> &(u64, u64, Option<String>) {
        &self.reloads
    }

    /// Reaction-time statistics.
    pub fn reaction(&self) -> Reaction {
        self.reaction
    }

    /// Withdraw everything (shutdown): every running upstream wants nothing.
    pub fn clear_routes(&mut self) {
        for u in &mut self.upstreams {
            u.wanted.clear();
        }
    }

    fn apply_drains(&mut self, now: Instant) {
        let drained_by = |set: &BTreeSet<Option<Prefix>>, p: &Prefix| {
            set.contains(&None) || set.contains(&Some(*p))
        };
        let all: Vec<Prefix> = self.cfg.prefixes.iter().map(|p| p.prefix).collect();
        for p in all {
            let d = drained_by(&self.ctl_drained, &p) || drained_by(&self.file_drained, &p);
            self.states.set_drained(Some(&p), d, now);
        }
        self.sync_prefixes(now, true);
        self.announce(now);
    }

    /// Take the prefix machine's transitions into the views.
    fn sync_prefixes(&mut self, now: Instant, count: bool) {
        while let Some(t) = self.states.poll_output() {
            if count {
                self.pending_since = Some(self.pending_since.map_or(t.at, |s| s.min(t.at)));
            }
            tracing::info!(prefix = %t.prefix, from = %t.from, to = %t.to, why = %t.why, "prefix state");
            if let Some(p) = self.prefixes.get_mut(&t.prefix) {
                p.transitions += 1;
                p.since = now;
            }
        }
        let mut views = BTreeMap::new();
        for (prefix, state, why) in self.states.iter() {
            let old = self.prefixes.remove(prefix);
            views.insert(
                *prefix,
                PrefixView {
                    prefix: *prefix,
                    state: state.clone(),
                    why: why.to_owned(),
                    since: old.as_ref().map_or(now, |o| o.since),
                    transitions: old.map_or(0, |o| o.transitions),
                },
            );
        }
        self.prefixes = views;
    }

    /// Hand every running upstream whose wanted routes changed its new table.
    fn announce(&mut self, now: Instant) {
        let announcements: Vec<(Prefix, Option<tern_health::Degrade>)> = self
            .prefixes
            .values()
            .map(|p| (p.prefix, p.state.announcement()))
            .collect();
        for u in &mut self.upstreams {
            if u.stopping() {
                continue;
            }
            let wanted = self
                .cfg
                .routes_for(&u.cfg, announcements.iter().map(|(p, a)| (p, a.clone())));
            if wanted == u.wanted {
                continue;
            }
            u.wanted = wanted.clone();
            self.outputs.push_back(Output::Routes {
                upstream: u.cfg.name.clone(),
                routes: wanted,
            });
        }
        if let Some(since) = self.pending_since.take() {
            let d = now.saturating_duration_since(since);
            let r = &mut self.reaction;
            r.count += 1;
            r.last = d;
            r.max = r.max.max(d);
            r.sum += d;
        }
    }
}

fn initial_check(c: &CheckDef) -> CheckView {
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
