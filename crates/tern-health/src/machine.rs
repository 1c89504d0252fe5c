//! The rise/fall hysteresis machine of one check, with flap damping.
//!
//! Sans-IO (STYLE habit 1): the caller passes `now` with every input and asks for outputs and the
//! next deadline. The machine never reads the clock.
//!
//! ## States
//! A check starts **Down** ("waiting for `rise` successes"): nothing is announced before the
//! service has proven itself (fail closed, issue 5 §1). `fall` consecutive failures take an Up
//! check Down *at once*; `rise` consecutive successes take a Down check Up, subject to damping.
//!
//! ## Flap damping (why and how)
//! Every Up→Down→Up cycle becomes a withdraw and a re-announce at our upstreams, and upstreams
//! may dampen flapping routes (RFC 2439 §4.2: a penalty of about 1000 per flap that decays with a
//! half-life of about 15 min; the route is suppressed above a threshold, Cisco's default 2000,
//! RFC 7196 §3 recommends 6000, and stays suppressed for up to an hour even when the service is
//! fine again). That is worse than anything we would do ourselves, so we rate-limit
//! re-announcements locally with an exponential back-off (the shape of RFC 8405's SPF back-off):
//!
//! - Going **Down is never delayed**: a broken service must stop attracting traffic now.
//! - Each Up→Down transition counts one *flap*. The count resets to zero when the check had been
//!   Up for [`Damping::reset_after`] (default 15 min, one RFC 2439 half-life) before failing.
//! - After the n-th flap the check may go Up again only after a **hold-down**
//!   `d = min(hold_down · 2^(n−1), max_hold_down)` (defaults 10 s doubling to 600 s), counted from
//!   the Down transition, *and* after `rise` consecutive successes. A failure during the hold-down
//!   resets the success count. The start-up Up is not held down.
//!
//! A check flapping as fast as it can is thus re-announced after 10, 20, 40, 80, 160, 320 s, then
//! every 600 s: at most 7 re-announcements in the first 15 min and 6 per hour after. At one flap
//! per 600 s an RFC 2439 upstream penalty settles at 1000 / (1 − 2^(−600/900)) ≈ 2700, below
//! RFC 7196's 6000 (an upstream that still uses the old 2000 threshold will suppress such a
//! service; raise `max_hold_down` to 900 s or more for those).

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use crate::spec::{CheckResult, CheckSpec, Damping};

/// Health of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Health {
    /// Healthy: its prefixes may be announced.
    Up,
    /// Unhealthy, or not yet proven healthy.
    Down,
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Health::Up => "up",
            Health::Down => "down",
        })
    }
}

/// A state change of one check, with the reason in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckTransition {
    /// When it happened (the `now` of the input that caused it).
    pub at: Instant,
    /// The new state.
    pub health: Health,
    /// Why, for `tern ctl status` and logs.
    pub reason: String,
}

/// Hysteresis and damping state of one check. See the module documentation for the algorithm.
#[derive(Debug)]
pub struct CheckMachine {
    interval: Duration,
    rise: u32,
    fall: u32,
    damping: Damping,
    health: Health,
    reason: String,
    successes: u32,
    failures: u32,
    /// Flaps since the last quiet period.
    flaps: u32,
    /// When the check last went Up.
    up_since: Option<Instant>,
    /// No Up before this instant (set on each Down transition).
    hold_until: Option<Instant>,
    /// When the next run should start.
    next_check: Instant,
    last_result: Option<CheckResult>,
    outputs: VecDeque<CheckTransition>,
}

impl CheckMachine {
    /// A machine for `spec`, created at `now`, Down, with its first check due at once.
    pub fn new(spec: &CheckSpec, now: Instant) -> Self {
        CheckMachine {
            interval: spec.interval,
            rise: spec.rise.max(1),
            fall: spec.fall.max(1),
            damping: spec.damping,
            health: Health::Down,
            reason: format!("starting: waiting for {} successes", spec.rise.max(1)),
            successes: 0,
            failures: 0,
            flaps: 0,
            up_since: None,
            hold_until: None,
            next_check: now,
            last_result: None,
            outputs: VecDeque::new(),
        }
    }

    /// Take new timing, thresholds and damping from `spec` (a reload that changed only those),
    /// keeping the health state, the counters and the flap history: a reload must not withdraw
    /// a healthy prefix (issue 5 §4). A changed check *kind* is a different check: build a new
    /// machine for it instead. The next run is due no later than one new interval from `now`.
    pub fn reconfigure(&mut self, spec: &CheckSpec, now: Instant) {
        self.interval = spec.interval;
        self.rise = spec.rise.max(1);
        self.fall = spec.fall.max(1);
        self.damping = spec.damping;
        self.next_check = self.next_check.min(now + self.interval);
        if self.health == Health::Up && self.failures >= self.fall {
            // A lower fall can be reached by the failures already seen.
            self.handle_fall(now, "fall lowered by reload");
        } else if self.health == Health::Down && self.successes >= self.rise {
            self.try_up(now);
        }
    }

    /// Current state.
    pub fn health(&self) -> Health {
        self.health
    }

    /// Why the machine is in its current state.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The latest result fed in.
    pub fn last_result(&self) -> Option<&CheckResult> {
        self.last_result.as_ref()
    }

    /// Flaps counted since the last quiet period (0 for a check that never flapped).
    pub fn flaps(&self) -> u32 {
        self.flaps
    }

    /// True when a run should start at `now`.
    pub fn check_due(&self, now: Instant) -> bool {
        now >= self.next_check
    }

    /// A run starts at `now`. The next one is due `interval + jitter` later; the caller picks
    /// the jitter (the scheduler spreads checks so they do not run in lock-step).
    pub fn check_started(&mut self, now: Instant, jitter: Duration) {
        self.next_check = now + self.interval + jitter;
    }

    /// Feed the result of a run that finished at `now`.
    pub fn handle_result(&mut self, result: CheckResult, now: Instant) {
        if result.ok {
            self.successes = self.successes.saturating_add(1);
            self.failures = 0;
        } else {
            self.failures = self.failures.saturating_add(1);
            self.successes = 0;
        }
        let detail = result.detail.clone();
        self.last_result = Some(result);
        match self.health {
            Health::Up if self.failures >= self.fall => self.handle_fall(now, &detail),
            Health::Down if self.successes >= self.rise => self.try_up(now),
            Health::Down if self.failures > 0 => {
                // Keep the reason fresh while down, without emitting a transition.
                self.reason = format!("down, {} consecutive failures: {detail}", self.failures);
            }
            _ => {}
        }
    }

    /// Go Down after `fall` failures: count a flap and start the hold-down.
    fn handle_fall(&mut self, now: Instant, detail: &str) {
        let quiet = self
            .up_since
            .is_some_and(|u| now.saturating_duration_since(u) >= self.damping.reset_after);
        if quiet {
            self.flaps = 0;
        }
        self.flaps = self.flaps.saturating_add(1);
        let hold = self.hold_down_for(self.flaps);
        self.hold_until = Some(now + hold);
        self.set(
            Health::Down,
            format!(
                "{} consecutive failures (fall {}): {detail}; re-announce held down {}s \
                 (flap {} since the last quiet {}s)",
                self.failures,
                self.fall,
                hold.as_secs(),
                self.flaps,
                self.damping.reset_after.as_secs()
            ),
            now,
        );
    }

    /// Process deadlines at `now`: the end of a hold-down with enough successes goes Up.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.health == Health::Down && self.successes >= self.rise {
            self.try_up(now);
        }
    }

    /// Next transition, if any.
    pub fn poll_output(&mut self) -> Option<CheckTransition> {
        self.outputs.pop_front()
    }

    /// The next instant at which the caller must act: a run is due, or a hold-down ends with
    /// enough successes in hand (then call [`CheckMachine::handle_timeout`]).
    pub fn poll_timeout(&self) -> Instant {
        match self.hold_until {
            Some(h) if self.health == Health::Down && self.successes >= self.rise => {
                h.min(self.next_check)
            }
            _ => self.next_check,
        }
    }

    /// Hold-down after the n-th flap: `hold_down · 2^(n−1)`, capped.
    fn hold_down_for(&self, flaps: u32) -> Duration {
        let exponent = flaps.saturating_sub(1).min(30);
        let hold = self.damping.hold_down.saturating_mul(1u32 << exponent);
        hold.min(self.damping.max_hold_down)
    }

    fn try_up(&mut self, now: Instant) {
        match self.hold_until {
            Some(h) if now < h => {
                self.reason = format!(
                    "{} consecutive successes; re-announce held down for {:.1}s more (flap damping)",
                    self.successes,
                    (h - now).as_secs_f64()
                );
            }
            _ => {
                let held = if self.hold_until.is_some() {
                    " after hold-down"
                } else {
                    ""
                };
                self.hold_until = None;
                self.up_since = Some(now);
                self.set(
                    Health::Up,
                    format!(
                        "{} consecutive successes (rise {}){held}",
                        self.successes, self.rise
                    ),
                    now,
                );
            }
        }
    }

    fn set(&mut self, health: Health, reason: String, now: Instant) {
        self.health = health;
        self.reason = reason.clone();
        self.outputs.push_back(CheckTransition {
            at: now,
            health,
            reason,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::CheckKind;

    #[test]
    fn backoff_doubles_and_caps() {
        let spec = CheckSpec::new(CheckKind::Exec {
            argv: vec!["true".into()],
        });
        let m = CheckMachine::new(&spec, Instant::now());
        assert_eq!(m.hold_down_for(1), Duration::from_secs(10));
        assert_eq!(m.hold_down_for(2), Duration::from_secs(20));
        assert_eq!(m.hold_down_for(4), Duration::from_secs(80));
        assert_eq!(m.hold_down_for(40), Duration::from_secs(600));
    }
}
