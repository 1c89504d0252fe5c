//! From service health to prefix state: what the announcer should do with each prefix.
//!
//! Services map many-to-many onto prefixes (one anycast prefix may need DNS *and* HTTP; one
//! service may be reachable on the anycast and on the site's unicast prefix). For each prefix:
//!
//! 1. **Drained** if the operator drained it (drain file or `tern ctl drain`): withdrawn, or
//!    announced degraded, as its [`PrefixPolicy::on_drain`] says. Drain wins over everything.
//! 2. **Down** (withdrawn) if any bound service is down whose policy is [`OnDown::Withdraw`], or
//!    that has *never* been up: nothing is announced before its checks passed `rise` times, even
//!    where the policy would only degrade (fail closed, issue 5 §1).
//! 3. **Degraded** if some bound services that were up before are down with policy
//!    [`OnDown::Degrade`]: announced with the largest of their prepends and the union of their
//!    communities.
//! 4. **Up** otherwise (a prefix without services is Up: a static announcement).
//!
//! Like [`crate::CheckMachine`] this is sans-IO: inputs with `now`, transitions out through
//! [`PrefixStates::poll_output`], each with a "why" for `tern ctl status`.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::time::Instant;

use tern_types::{Community, LargeCommunity, Prefix};

use crate::machine::Health;

/// How a prefix is announced while degraded: extra AS-path prepends and communities.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Degrade {
    /// Extra copies of our ASN prepended to the AS path.
    pub prepend: u8,
    /// Extra RFC 1997 communities.
    pub communities: Vec<Community>,
    /// Extra RFC 8092 large communities.
    pub large_communities: Vec<LargeCommunity>,
}

impl Degrade {
    /// Fold `other` in: the larger prepend, the union of the communities.
    fn merge(&mut self, other: &Degrade) {
        self.prepend = self.prepend.max(other.prepend);
        for c in &other.communities {
            if !self.communities.contains(c) {
                self.communities.push(*c);
            }
        }
        for c in &other.large_communities {
            if !self.large_communities.contains(c) {
                self.large_communities.push(*c);
            }
        }
    }
}

/// What a service's failure (or a drain) does to a prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OnDown {
    /// Withdraw the prefix.
    Withdraw,
    /// Keep announcing it, less attractively.
    Degrade(Degrade),
}

/// A service that a prefix depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceBinding {
    /// Service name (as in tern.toml).
    pub service: String,
    /// What its failure does to the prefix.
    pub on_down: OnDown,
}

/// One announced prefix and what it depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrefixPolicy {
    /// The prefix.
    pub prefix: Prefix,
    /// Services it depends on.
    pub services: Vec<ServiceBinding>,
    /// What a drain does to it.
    pub on_drain: OnDown,
}

/// What the announcer does with a prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrefixState {
    /// Announce normally.
    Up,
    /// Announce with extra prepends and communities.
    Degraded(Degrade),
    /// Withdraw.
    Down,
    /// Drained by the operator: withdrawn (`None`) or announced degraded.
    Drained(Option<Degrade>),
}

impl PrefixState {
    /// The announcement to make, if any: `Some(extra attributes)` (empty for Up), `None` to withdraw.
    pub fn announcement(&self) -> Option<Degrade> {
        match self {
            PrefixState::Up => Some(Degrade::default()),
            PrefixState::Degraded(d) | PrefixState::Drained(Some(d)) => Some(d.clone()),
            PrefixState::Down | PrefixState::Drained(None) => None,
        }
    }
}

impl fmt::Display for PrefixState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrefixState::Up => f.write_str("up"),
            PrefixState::Degraded(d) => write!(f, "degraded (prepend {})", d.prepend),
            PrefixState::Down => f.write_str("down"),
            PrefixState::Drained(None) => f.write_str("drained (withdrawn)"),
            PrefixState::Drained(Some(d)) => write!(f, "drained (prepend {})", d.prepend),
        }
    }
}

/// A change of one prefix's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrefixTransition {
    /// When.
    pub at: Instant,
    /// Which prefix.
    pub prefix: Prefix,
    /// Old state.
    pub from: PrefixState,
    /// New state.
    pub to: PrefixState,
    /// Why, in words.
    pub why: String,
}

#[derive(Debug)]
struct ServiceStatus {
    health: Health,
    ever_up: bool,
    reason: String,
}

#[derive(Debug)]
struct Entry {
    policy: PrefixPolicy,
    drained: bool,
    state: PrefixState,
    why: String,
}

/// The state of every prefix of a site. One writer: the daemon's health loop.
#[derive(Debug)]
pub struct PrefixStates {
    entries: Vec<Entry>,
    services: BTreeMap<String, ServiceStatus>,
    outputs: VecDeque<PrefixTransition>,
}

impl PrefixStates {
    /// Every prefix starts Down (withdrawn) and every service Down, never up. Prefixes that are
    /// not Down right away (no services) produce a transition at `now`.
    pub fn new(policies: Vec<PrefixPolicy>, now: Instant) -> Self {
        let mut services = BTreeMap::new();
        for binding in policies.iter().flat_map(|p| &p.services) {
            services
                .entry(binding.service.clone())
                .or_insert_with(|| ServiceStatus {
                    health: Health::Down,
                    ever_up: false,
                    reason: "starting: no check result yet".into(),
                });
        }
        let entries = policies
            .into_iter()
            .map(|policy| Entry {
                policy,
                drained: false,
                state: PrefixState::Down,
                why: "starting: withdrawn until its services are up".into(),
            })
            .collect();
        let mut states = PrefixStates {
            entries,
            services,
            outputs: VecDeque::new(),
        };
        states.recompute(now);
        states
    }

    /// Replace the policies (a reload), keeping what is known: services still bound keep their
    /// health and history, prefixes still present keep their drain flag and state, so only real
    /// changes produce transitions (issue 5 §4: "reload is a diff"). New services start Down and
    /// never up; new prefixes start Down. Removed prefixes produce no transition here: the
    /// announcer withdraws what the new configuration no longer has.
    pub fn reconfigure(&mut self, policies: Vec<PrefixPolicy>, now: Instant) {
        let mut services = BTreeMap::new();
        for binding in policies.iter().flat_map(|p| &p.services) {
            let status = self
                .services
                .remove(&binding.service)
                .unwrap_or(ServiceStatus {
                    health: Health::Down,
                    ever_up: false,
                    reason: "new service: no check result yet".into(),
                });
            services.entry(binding.service.clone()).or_insert(status);
        }
        self.services = services;
        let mut old: Vec<Entry> = std::mem::take(&mut self.entries);
        self.entries = policies
            .into_iter()
            .map(
                |policy| match old.iter().position(|e| e.policy.prefix == policy.prefix) {
                    Some(i) => {
                        let e = old.swap_remove(i);
                        Entry { policy, ..e }
                    }
                    None => Entry {
                        policy,
                        drained: false,
                        state: PrefixState::Down,
                        why: "new prefix: withdrawn until its services are up".into(),
                    },
                },
            )
            .collect();
        self.recompute(now);
    }

    /// A service changed health. Returns false for a service no prefix depends on.
    pub fn set_service(
        &mut self,
        service: &str,
        health: Health,
        reason: &str,
        now: Instant,
    ) -> bool {
        let Some(status) = self.services.get_mut(service) else {
            return false;
        };
        status.health = health;
        status.ever_up |= health == Health::Up;
        status.reason = reason.to_owned();
        self.recompute(now);
        true
    }

    /// Drain (`true`) or undrain one prefix, or all when `prefix` is `None`. Returns how many
    /// prefixes matched.
    pub fn set_drained(&mut self, prefix: Option<&Prefix>, drained: bool, now: Instant) -> usize {
        let mut matched = 0;
        for e in &mut self.entries {
            if prefix.is_none_or(|p| *p == e.policy.prefix) {
                e.drained = drained;
                matched += 1;
            }
        }
        self.recompute(now);
        matched
    }

    /// Current state of `prefix`, with its why.
    pub fn state(&self, prefix: &Prefix) -> Option<(&PrefixState, &str)> {
        self.entries
            .iter()
            .find(|e| e.policy.prefix == *prefix)
            .map(|e| (&e.state, e.why.as_str()))
    }

    /// Every prefix with its state and why, in configuration order.
    pub fn iter(&self) -> impl Iterator<Item = (&Prefix, &PrefixState, &str)> {
        self.entries
            .iter()
            .map(|e| (&e.policy.prefix, &e.state, e.why.as_str()))
    }

    /// Next transition, if any.
    pub fn poll_output(&mut self) -> Option<PrefixTransition> {
        self.outputs.pop_front()
    }

    fn recompute(&mut self, now: Instant) {
        for e in &mut self.entries {
            let (state, why) = evaluate(e, &self.services);
            if state != e.state {
                self.outputs.push_back(PrefixTransition {
                    at: now,
                    prefix: e.policy.prefix,
                    from: e.state.clone(),
                    to: state.clone(),
                    why: why.clone(),
                });
                e.state = state;
            }
            e.why = why;
        }
    }
}

fn evaluate(e: &Entry, services: &BTreeMap<String, ServiceStatus>) -> (PrefixState, String) {
    if e.drained {
        return match &e.policy.on_drain {
            OnDown::Withdraw => (PrefixState::Drained(None), "drained by the operator".into()),
            OnDown::Degrade(d) => (
                PrefixState::Drained(Some(d.clone())),
                format!(
                    "drained by the operator: announced with prepend {}",
                    d.prepend
                ),
            ),
        };
    }
    let mut withdraw = Vec::new();
    let mut degraded = Vec::new();
    let mut degrade = Degrade::default();
    for b in &e.policy.services {
        let Some(s) = services.get(&b.service) else {
            continue;
        };
        if s.health == Health::Up {
            continue;
        }
        let line = format!("service {} down ({})", b.service, s.reason);
        match &b.on_down {
            OnDown::Degrade(d) if s.ever_up => {
                degrade.merge(d);
                degraded.push(line);
            }
            OnDown::Degrade(_) => withdraw.push(format!("{line}; never up yet")),
            OnDown::Withdraw => withdraw.push(line),
        }
    }
    if !withdraw.is_empty() {
        (
            PrefixState::Down,
            format!("withdrawn: {}", withdraw.join("; ")),
        )
    } else if !degraded.is_empty() {
        let why = format!(
            "degraded (prepend {}): {}",
            degrade.prepend,
            degraded.join("; ")
        );
        (PrefixState::Degraded(degrade), why)
    } else if e.policy.services.is_empty() {
        (PrefixState::Up, "no health checks: announced".into())
    } else {
        let names: Vec<&str> = e
            .policy
            .services
            .iter()
            .map(|b| b.service.as_str())
            .collect();
        (
            PrefixState::Up,
            format!("all services up: {}", names.join(", ")),
        )
    }
}
