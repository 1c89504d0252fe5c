//! The health loop: runs every check of a site at its interval and owns all health state.
//!
//! One task (STYLE habit 2: one writer) holds a [`CheckMachine`] per check and the site's
//! [`PrefixStates`]. It starts each due check as a tracked task (a `JoinSet`, aborted on
//! shutdown: no fire-and-forget spawns, habit 5), feeds finished results to the machines with
//! the time they finished, turns check transitions into service states (a service is Up when all
//! its checks are Up) and service states into prefix transitions. Transitions go out on a queue
//! (the announcer must see every one); the whole state ([`HealthStatus`]) on a `watch` (the
//! control socket and metrics want the latest). Drains and reloads come in as
//! [`HealthCommand`]s; a reload is applied as a diff ([`Scheduler::reload`]).
//!
//! The event queue is bounded and the loop waits when it is full, so a consumer must keep up
//! (the announcer does: it only turns transitions into UPDATEs).
//!
//! Jitter: each run's next start is `interval + U[0, interval × JITTER_FRACTION)` later, so that
//! checks with the same interval drift apart instead of firing in lock-step.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tern_health::{
    CheckMachine, CheckResult, CheckSpec, CheckSpecError, CheckTransition, Health, PrefixPolicy,
    PrefixState, PrefixStates, PrefixTransition,
};
use tern_types::Prefix;
use tokio::sync::{mpsc, oneshot, watch};
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

/// Something the health loop reports.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum HealthEvent {
    /// A check changed state.
    CheckTransition {
        /// Check name.
        check: String,
        /// The change.
        transition: CheckTransition,
    },
    /// A prefix changed state: the announcer acts on these.
    Prefix(PrefixTransition),
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
}

/// Everything the health loop knows, published on a `watch` after each change: readers
/// (control socket, metrics) never slow the loop down, and see the latest state, not a backlog.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HealthStatus {
    /// Every check, in configuration order.
    pub checks: Vec<CheckStatus>,
    /// Every prefix with its state and why, in configuration order.
    pub prefixes: Vec<(Prefix, PrefixState, String)>,
}

/// Operator input to the health loop.
#[derive(Debug)]
#[non_exhaustive]
pub enum HealthCommand {
    /// Drain (`drained = true`) or undrain one prefix, or all of them.
    Drain {
        /// `None` = every prefix.
        prefix: Option<Prefix>,
        /// Drain or undrain.
        drained: bool,
    },
    /// Replace the checks and prefix policies (see [`Scheduler::reload`]); the outcome goes
    /// back on `reply`. A refused configuration leaves the running one untouched.
    Reload {
        /// New checks.
        checks: Vec<CheckDef>,
        /// New prefix policies.
        prefixes: Vec<PrefixPolicy>,
        /// Where to send the outcome.
        reply: oneshot::Sender<Result<(), Vec<SchedulerError>>>,
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
}

/// The health loop's state. Build with [`Scheduler::new`], run with [`Scheduler::run`].
pub struct Scheduler {
    slots: Vec<Slot>,
    prefixes: PrefixStates,
    next_id: u64,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field(
                "checks",
                &self.slots.iter().map(|s| &s.def.name).collect::<Vec<_>>(),
            )
            .field("prefixes", &self.prefixes)
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
            })
            .collect();
        Ok(Scheduler {
            next_id: slots.len() as u64,
            slots,
            prefixes: PrefixStates::new(prefixes, now),
        })
    }

    /// Apply a new configuration at `now`, as a diff (issue 5 §4): a check with the same name
    /// and the same kind keeps its machine (health, counters, flap history; new timing via
    /// [`CheckMachine::reconfigure`]); a new or changed check starts Down; prefixes keep their
    /// state and drain flag ([`PrefixStates::reconfigure`]). So a reload that changes nothing
    /// relevant produces no prefix transition. Refused as a whole if invalid.
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
                    }
                }
            };
            self.slots.push(slot);
        }
        self.prefixes.reconfigure(prefixes, now);
        // Services whose set of checks changed need their health recomputed.
        let mut services: Vec<String> = self.slots.iter().map(|s| s.def.service.clone()).collect();
        services.sort();
        services.dedup();
        self.update_services(services, now);
        Ok(())
    }

    /// Current state of every prefix, with its why.
    pub fn prefix_states(&self) -> Vec<(Prefix, PrefixState, String)> {
        self.prefixes
            .iter()
            .map(|(p, s, w)| (*p, s.clone(), w.to_owned()))
            .collect()
    }

    /// Everything known now.
    pub fn status(&self) -> HealthStatus {
        HealthStatus {
            checks: self
                .slots
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
                })
                .collect(),
            prefixes: self.prefix_states(),
        }
    }

    /// Run until `shutdown`: checks at their intervals; transitions out on `events` (the
    /// announcer's input: every one matters, so it is a queue), the whole state on `status`
    /// after each change (readers want the latest, so it is a `watch`); drains and reloads in
    /// on `commands`. Running checks are aborted at shutdown.
    pub async fn run(
        mut self,
        events: mpsc::Sender<HealthEvent>,
        status: watch::Sender<HealthStatus>,
        mut commands: mpsc::Receiver<HealthCommand>,
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
            self.flush(now, &events).await;
            if std::mem::take(&mut dirty) {
                status.send_replace(self.status());
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
                    Some(HealthCommand::Drain { prefix, drained }) => {
                        self.prefixes.set_drained(prefix.as_ref(), drained, Instant::now());
                        dirty = true;
                    }
                    Some(HealthCommand::Reload { checks, prefixes, reply }) => {
                        let outcome = self.reload(checks, prefixes, Instant::now());
                        let _ = reply.send(outcome);
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

    /// Move check transitions into service and prefix state, and send all events.
    async fn flush(&mut self, now: Instant, events: &mpsc::Sender<HealthEvent>) {
        let mut changed_services = Vec::new();
        for slot in &mut self.slots {
            while let Some(t) = slot.machine.poll_output() {
                changed_services.push(slot.def.service.clone());
                let _ = events
                    .send(HealthEvent::CheckTransition {
                        check: slot.def.name.clone(),
                        transition: t,
                    })
                    .await;
            }
        }
        changed_services.sort();
        changed_services.dedup();
        self.update_services(changed_services, now);
        while let Some(t) = self.prefixes.poll_output() {
            let _ = events.send(HealthEvent::Prefix(t)).await;
        }
    }

    /// Recompute the health of `services` from their checks (Up when all are Up).
    fn update_services(&mut self, services: Vec<String>, now: Instant) {
        for service in services {
            let checks = self.slots.iter().filter(|s| s.def.service == service);
            let down: Vec<String> = checks
                .filter(|s| s.machine.health() == Health::Down)
                .map(|s| format!("check {}: {}", s.def.name, s.machine.reason()))
                .collect();
            let (health, reason) = if down.is_empty() {
                (Health::Up, "all checks up".to_owned())
            } else {
                (Health::Down, down.join("; "))
            };
            self.prefixes.set_service(&service, health, &reason, now);
        }
    }
}

/// Every problem with a configuration, not just the first (STYLE habit 7).
fn validate(checks: &[CheckDef], prefixes: &[PrefixPolicy]) -> Vec<SchedulerError> {
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
