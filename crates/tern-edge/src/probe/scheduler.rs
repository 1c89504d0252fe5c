//! The health loop: runs every check of a site at its interval and owns all health state.
//!
//! One task (STYLE habit 2: one writer) holds a [`CheckMachine`] per check. It starts each due
//! check as a tracked task (a `JoinSet`, aborted on shutdown: no fire-and-forget spawns, habit
//! 5), feeds finished results to the machines with the time they finished, and turns check
//! states into service states (a service is Up when all its checks are Up). After each change it
//! sends one [`HealthReport`] — every check's state and latest result, and the services whose
//! state changed — to the announcer, which owns prefix and drain state
//! ([`crate::announcer::core`]). One way: the announcer only ever sends reloads, already
//! validated, on an unbounded queue (operator-paced), so the two never wait on each other.
//!
//! The report queue is bounded and the loop waits when it is full, so the announcer must keep
//! up (it does: it only turns reports into UPDATEs).
//!
//! Jitter: each run's next start is `interval + U[0, interval × JITTER_FRACTION)` later, so that
//! checks with the same interval drift apart instead of firing in lock-step.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tern_health::{CheckMachine, CheckResult, CheckSpec, CheckSpecError, Health, PrefixPolicy};
use tern_types::Prefix;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{random_duration, run_check};

/// Jitter added to each interval, as a fraction of it.
pub const JITTER_FRACTION: f64 = 0.1;

/// One configured check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckDef {
    /// Unique name (for status and metrics), e.g. `web/http`.
    pub name: String,
    /// The service it checks.
    pub service: String,
    /// What and how.
    pub spec: CheckSpec,
}

/// The state of one service after a change: Up when all its checks are Up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceHealth {
    /// Service name.
    pub service: String,
    /// Up or Down.
    pub health: Health,
    /// Why (the failing checks and their reasons).
    pub reason: String,
}

/// What the health loop tells the announcer after each change, the one message it sends.
#[derive(Clone, Debug, PartialEq)]
pub struct HealthReport {
    /// When the change was seen.
    pub at: Instant,
    /// Every check, in configuration order, as it is now.
    pub checks: Vec<CheckStatus>,
    /// The services whose state changed (all of them in the first report and after a reload).
    pub services: Vec<ServiceHealth>,
}

/// The latest state of one check, for `tern ctl checks` and metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckStatus {
    /// Check name.
    pub name: String,
    /// Its service.
    pub service: String,
    /// Current state.
    pub health: Health,
    /// Why.
    pub reason: String,
    /// The latest run's result, if any ran yet.
    pub last_result: Option<CheckResult>,
    /// When the latest run finished.
    pub last_at: Option<std::time::SystemTime>,
    /// Runs that passed since the check was configured (a reload that keeps it keeps these).
    pub ok_total: u64,
    /// Runs that failed since the check was configured.
    pub failed_total: u64,
    /// Health changes since the check was configured.
    pub transitions: u64,
}

/// Input to the health loop from the announcer.
#[derive(Debug)]
#[non_exhaustive]
pub enum HealthCommand {
    /// Replace the checks (see [`Scheduler::reload`]), validated by the announcer already with
    /// [`validate`]; the prefix policies name the services.
    Reload {
        /// New checks.
        checks: Vec<CheckDef>,
        /// New prefix policies.
        prefixes: Vec<PrefixPolicy>,
    },
}

/// A configuration the health loop cannot run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchedulerError {
    /// A check spec is invalid.
    #[error("check {check}: {error}")]
    Spec {
        /// Check name.
        check: String,
        /// The problem.
        error: CheckSpecError,
    },
    /// Two checks with one name.
    #[error("check name {0} is used twice")]
    DuplicateCheck(String),
    /// A prefix depends on a service that has no check: it would never come up.
    #[error("prefix {prefix} depends on service {service}, which has no health check")]
    ServiceWithoutCheck {
        /// The prefix.
        prefix: Prefix,
        /// The service.
        service: String,
    },
}

struct Slot {
    /// Unique for the life of the scheduler: a result of a replaced check is recognised by it.
    id: u64,
    def: CheckDef,
    machine: CheckMachine,
    running: bool,
    /// When the latest result arrived.
    last_at: Option<std::time::SystemTime>,
    /// Results that passed, and that failed.
    ok_total: u64,
    failed_total: u64,
    transitions: u64,
}

/// The health loop's state. Build with [`Scheduler::new`], run with [`Scheduler::run`].
pub struct Scheduler {
    slots: Vec<Slot>,
    /// Last state sent per service.
    services: BTreeMap<String, (Health, String)>,
    /// Services whose state is to be sent (all of them at start and after a reload).
    changed: Vec<ServiceHealth>,
    next_id: u64,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field(
                "checks",
                &self.slots.iter().map(|s| &s.def.name).collect::<Vec<_>>(),
            )
            .field("services", &self.services)
            .finish()
    }
}

impl Scheduler {
    /// Validate `checks` and `prefixes` (every problem, not just the first) and set up the
    /// machines at `now`: every check and prefix starts Down.
    pub fn new(
        checks: Vec<CheckDef>,
        prefixes: Vec<PrefixPolicy>,
        now: Instant,
    ) -> Result<Self, Vec<SchedulerError>> {
        let errors = validate(&checks, &prefixes);
        if !errors.is_empty() {
            return Err(errors);
        }
        let slots: Vec<Slot> = checks
            .into_iter()
            .zip(0..)
            .map(|(def, id)| Slot {
                id,
                machine: CheckMachine::new(&def.spec, now),
                def,
                running: false,
                last_at: None,
                ok_total: 0,
                failed_total: 0,
                transitions: 0,
            })
            .collect();
        let mut s = Scheduler {
            next_id: slots.len() as u64,
            slots,
            services: BTreeMap::new(),
            changed: Vec::new(),
        };
        s.update_services(true);
        Ok(s)
    }

    /// Apply a new configuration at `now`, as a diff (issue 5 §4): a check with the same name
    /// and the same kind keeps its machine (health, counters, flap history; new timing via
    /// [`CheckMachine::reconfigure`]); a new or changed check starts Down. Every service's state
    /// goes out in the next report (the announcer's prefix machine ignores repeats, so a reload
    /// that changes nothing relevant produces no prefix transition). Refused as a whole if
    /// invalid.
    pub fn reload(
        &mut self,
        checks: Vec<CheckDef>,
        prefixes: Vec<PrefixPolicy>,
        now: Instant,
    ) -> Result<(), Vec<SchedulerError>> {
        let errors = validate(&checks, &prefixes);
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut old = std::mem::take(&mut self.slots);
        for def in checks {
            let kept = old
                .iter()
                .position(|s| s.def.name == def.name && s.def.spec.kind == def.spec.kind);
            let slot = match kept {
                Some(i) => {
                    let mut slot = old.swap_remove(i);
                    slot.machine.reconfigure(&def.spec, now);
                    slot.def = def;
                    slot
                }
                None => {
                    self.next_id += 1;
                    Slot {
                        id: self.next_id,
                        machine: CheckMachine::new(&def.spec, now),
                        def,
                        running: false,
                        last_at: None,
                        ok_total: 0,
                        failed_total: 0,
                        transitions: 0,
                    }
                }
            };
            self.slots.push(slot);
        }
        self.update_services(true);
        Ok(())
    }

    /// Every check as it is now, in configuration order.
    pub fn check_status(&self) -> Vec<CheckStatus> {
        self.slots
            .iter()
            .map(|s| CheckStatus {
                name: s.def.name.clone(),
                service: s.def.service.clone(),
                health: s.machine.health(),
                reason: s.machine.reason().to_owned(),
                last_result: s.machine.last_result().cloned(),
                last_at: s.last_at,
                ok_total: s.ok_total,
                failed_total: s.failed_total,
                transitions: s.transitions,
            })
            .collect()
    }

    /// The report of what changed since the last one (taken: the next starts empty).
    pub fn report(&mut self, at: Instant) -> HealthReport {
        HealthReport {
            at,
            checks: self.check_status(),
            services: std::mem::take(&mut self.changed),
        }
    }

    /// Run until `shutdown`: checks at their intervals; after each change one [`HealthReport`]
    /// on `reports`; reloads in on `commands`. Running checks are aborted at shutdown.
    pub async fn run(
        mut self,
        reports: mpsc::Sender<HealthReport>,
        mut commands: mpsc::UnboundedReceiver<HealthCommand>,
        shutdown: CancellationToken,
    ) -> Self {
        let mut running: JoinSet<(u64, CheckResult)> = JoinSet::new();
        let mut commands_open = true;
        let mut dirty = true;
        loop {
            let now = Instant::now();
            for slot in &mut self.slots {
                slot.machine.handle_timeout(now);
                if !slot.running && slot.machine.check_due(now) {
                    let jitter = random_duration(slot.def.spec.interval.mul_f64(JITTER_FRACTION));
                    slot.machine.check_started(now, jitter);
                    slot.running = true;
                    let spec = slot.def.spec.clone();
                    let id = slot.id;
                    running.spawn(async move { (id, run_check(&spec).await) });
                }
            }
            dirty |= self.flush();
            if std::mem::take(&mut dirty) && reports.send(self.report(now)).await.is_err() {
                break;
            }
            let deadline = self
                .slots
                .iter()
                .map(|s| s.machine.poll_timeout())
                .min()
                .unwrap_or(now + Duration::from_secs(3600));
            tokio::select! {
                () = shutdown.cancelled() => break,
                Some(joined) = running.join_next() => {
                    let Ok((id, result)) = joined else { continue };
                    let now = Instant::now();
                    // None: the check was removed or replaced by a reload meanwhile.
                    if let Some(slot) = self.slots.iter_mut().find(|s| s.id == id) {
                        slot.running = false;
                        slot.last_at = Some(std::time::SystemTime::now());
                        if result.ok {
                            slot.ok_total += 1;
                        } else {
                            slot.failed_total += 1;
                        }
                        slot.machine.handle_result(result, now);
                        dirty = true;
                    }
                }
                cmd = commands.recv(), if commands_open => match cmd {
                    Some(HealthCommand::Reload { checks, prefixes }) => {
                        if let Err(e) = self.reload(checks, prefixes, Instant::now()) {
                            tracing::error!(?e, "health loop refused a validated reload");
                        }
                        dirty = true;
                    }
                    None => commands_open = false,
                },
                () = tokio::time::sleep_until(deadline.into()) => {}
            }
        }
        running.shutdown().await;
        self
    }

    /// Take check transitions (logged, counted) and recompute the services they belong to.
    /// Returns whether anything changed.
    fn flush(&mut self) -> bool {
        let mut any = false;
        for slot in &mut self.slots {
            while let Some(t) = slot.machine.poll_output() {
                any = true;
                slot.transitions += 1;
                tracing::info!(check = %slot.def.name, health = %t.health, reason = %t.reason, "check");
            }
        }
        if any {
            self.update_services(false);
        }
        any
    }

    /// Recompute every service from its checks (Up when all are Up); queue those that changed
    /// (all of them with `all`).
    fn update_services(&mut self, all: bool) {
        let mut names: Vec<String> = self.slots.iter().map(|s| s.def.service.clone()).collect();
        names.sort();
        names.dedup();
        let mut fresh = BTreeMap::new();
        for service in names {
            let checks = self.slots.iter().filter(|s| s.def.service == service);
            let down: Vec<String> = checks
                .filter(|s| s.machine.health() == Health::Down)
                .map(|s| format!("check {}: {}", s.def.name, s.machine.reason()))
                .collect();
            let state = if down.is_empty() {
                (Health::Up, "all checks up".to_owned())
            } else {
                (Health::Down, down.join("; "))
            };
            if all || self.services.get(&service) != Some(&state) {
                self.changed.retain(|c| c.service != service);
                self.changed.push(ServiceHealth {
                    service: service.clone(),
                    health: state.0,
                    reason: state.1.clone(),
                });
            }
            fresh.insert(service, state);
        }
        self.services = fresh;
    }
}

/// Every problem with a configuration, not just the first (STYLE habit 7).
pub fn validate(checks: &[CheckDef], prefixes: &[PrefixPolicy]) -> Vec<SchedulerError> {
    let mut errors = Vec::new();
    let mut seen = BTreeMap::new();
    for c in checks {
        if seen.insert(c.name.clone(), ()).is_some() {
            errors.push(SchedulerError::DuplicateCheck(c.name.clone()));
        }
        errors.extend(
            c.spec
                .validate()
                .into_iter()
                .map(|error| SchedulerError::Spec {
                    check: c.name.clone(),
                    error,
                }),
        );
    }
    for p in prefixes {
        for b in &p.services {
            if !checks.iter().any(|c| c.service == b.service) {
                errors.push(SchedulerError::ServiceWithoutCheck {
                    prefix: p.prefix,
                    service: b.service.clone(),
                });
            }
        }
    }
    errors
}
