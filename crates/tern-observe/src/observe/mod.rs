//! Propagation analysis: what route collectors saw of the model's prefixes.
//!
//! An [`Observer`] takes MRT [`Record`]s one by one ([`Observer::handle_record`]) and keeps, per
//! planned prefix, only what the report needs: the collector peers that carry it, each distinct
//! AS path (bounded by the number of peers, not by the file), origins, more-specifics of our
//! prefixes, and a timeline of announcements and withdrawals (capped at [`MAX_EVENTS`] per
//! prefix; the rest counted). [`Observer::finish`] adds the RPKI state of every (prefix,
//! origin) and the intent verdicts ([`verdict`]).

pub mod verdict;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use tern_bgp::wire::{AsPath, SegmentKind};
use tern_model::{Network, Providers};
use tern_rpki::VrpSet;
use tern_types::{Asn, Prefix};

use crate::mrt::{Counts, ElemKind, Peer, Record};

pub use verdict::{Status, Verdict};

/// Timeline events kept per prefix; later ones are counted in [`PrefixReport::events_dropped`].
pub const MAX_EVENTS: usize = 2000;

/// An AS path reduced to what verdicts read: the AS_SEQUENCE hops from the collector peer to
/// the origin, prepends kept; `None` hops where an AS_SET stood.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Path(pub Vec<Option<Asn>>);

impl Path {
    /// From a decoded AS_PATH.
    pub fn from_as_path(p: &AsPath) -> Path {
        let mut v = Vec::new();
        for seg in &p.segments {
            match seg.kind {
                SegmentKind::Sequence => v.extend(seg.asns.iter().map(|a| Some(*a))),
                SegmentKind::Set => v.push(None),
                SegmentKind::ConfedSequence | SegmentKind::ConfedSet => {}
            }
        }
        Path(v)
    }

    /// The origin AS (the last hop), `None` for an AS_SET origin or an empty path.
    pub fn origin(&self) -> Option<Asn> {
        self.0.last().copied().flatten()
    }

    /// The hops with consecutive repeats (prepends) collapsed: (AS, copies).
    pub fn hops(&self) -> Vec<(Option<Asn>, usize)> {
        let mut out: Vec<(Option<Asn>, usize)> = Vec::new();
        for a in &self.0 {
            match out.last_mut() {
                Some((b, n)) if b == a => *n += 1,
                _ => out.push((*a, 1)),
            }
        }
        out
    }

    /// The AS adjacent to `ours` (the first AS before our own copies at the end).
    pub fn upstream_of(&self, ours: Asn) -> Option<Asn> {
        let h = self.hops();
        match h.as_slice() {
            [.., (up, _), (last, _)] if *last == Some(ours) => *up,
            _ => None,
        }
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, a) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            match a {
                Some(a) => write!(f, "{}", a.0)?,
                None => f.write_str("{set}")?,
            }
        }
        Ok(())
    }
}

/// One announcement or withdrawal of a planned prefix (update files).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Seconds since the epoch.
    pub timestamp: u32,
    /// Announce or withdraw.
    pub kind: ElemKind,
    /// Collector peer.
    pub peer: Peer,
    /// The prefix (ours or a more-specific of it).
    pub prefix: Prefix,
    /// The AS path (announcements).
    pub path: Option<String>,
}

/// A route seen at a collector peer.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SeenRoute {
    /// The collector peer.
    pub peer: Peer,
    /// The path.
    pub path: Path,
    /// Still announced at the end of the input (false: withdrawn later).
    pub current: bool,
}

/// The RPKI state of one observed (prefix, origin).
#[derive(Clone, Debug, Serialize)]
pub struct RpkiState {
    /// The prefix.
    pub prefix: Prefix,
    /// The origin.
    pub origin: Asn,
    /// `valid`, `invalid (…)`, `not found`.
    pub state: String,
    /// Invalid: an alert.
    pub invalid: bool,
}

/// Something an operator must look at.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Alert {
    /// A planned prefix seen with an origin other than ours.
    UnexpectedOrigin {
        /// Our prefix.
        prefix: Prefix,
        /// The origin seen.
        origin: Asn,
        /// On how many routes.
        routes: usize,
        /// One example path.
        example: String,
    },
    /// A more-specific of a planned prefix (ours or not).
    MoreSpecific {
        /// Our prefix.
        covering: Prefix,
        /// The more-specific.
        prefix: Prefix,
        /// Origins seen for it.
        origins: Vec<Asn>,
        /// Routes.
        routes: usize,
    },
    /// An observed (prefix, origin) is RPKI invalid.
    RpkiInvalid {
        /// The prefix.
        prefix: Prefix,
        /// The origin.
        origin: Asn,
        /// Why.
        reason: String,
    },
    /// Our AS originates a prefix that is not in the plan.
    Unplanned {
        /// The prefix.
        prefix: Prefix,
        /// Routes.
        routes: usize,
    },
}

impl std::fmt::Display for Alert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Alert::UnexpectedOrigin {
                prefix,
                origin,
                routes,
                example,
            } => write!(
                f,
                "{prefix}: unexpected origin {origin} on {routes} route(s), e.g. {example}"
            ),
            Alert::MoreSpecific {
                covering,
                prefix,
                origins,
                routes,
            } => write!(
                f,
                "{prefix}: more-specific of {covering}, origin(s) {}, on {routes} route(s)",
                origins
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Alert::RpkiInvalid {
                prefix,
                origin,
                reason,
            } => write!(f, "{prefix} origin {origin}: RPKI {reason}"),
            Alert::Unplanned { prefix, routes } => write!(
                f,
                "{prefix}: originated by our AS on {routes} route(s) but not in the prefix plan"
            ),
        }
    }
}

/// What the collectors saw of one planned prefix.
#[derive(Clone, Debug, Serialize)]
pub struct PrefixReport {
    /// The prefix.
    pub prefix: Prefix,
    /// Its role in the plan (`anycast`, `unicast`, `regional`).
    pub role: String,
    /// Announced by some site in the model.
    pub announced: bool,
    /// Collector peers holding a route at the end of the input.
    pub peers: usize,
    /// Their ASes, sorted.
    pub peer_ases: Vec<Asn>,
    /// Origins seen, with route counts.
    pub origins: BTreeMap<Asn, usize>,
    /// The AS adjacent to ours on each path, with path counts.
    pub upstreams: BTreeMap<Asn, usize>,
    /// Every distinct (peer, path) seen.
    pub routes: Vec<SeenRoute>,
    /// Announcements seen (RIB entries count as announcements).
    pub announcements: usize,
    /// Withdrawals seen.
    pub withdrawals: usize,
    /// Timeline (update files), time order.
    pub events: Vec<Event>,
    /// Events beyond [`MAX_EVENTS`], not kept.
    pub events_dropped: usize,
    /// RPKI state of each (prefix, origin) seen, when VRPs were given.
    pub rpki: Vec<RpkiState>,
}

/// The whole observation.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Our AS.
    pub asn: Asn,
    /// What the MRT reader read, per file.
    pub inputs: Vec<(String, Counts)>,
    /// Per planned prefix, in plan order.
    pub prefixes: Vec<PrefixReport>,
    /// Alerts.
    pub alerts: Vec<Alert>,
    /// One verdict per intent effect.
    pub verdicts: Vec<Verdict>,
    /// Announced prefixes no collector peer holds at the end of the input (not an exit-1
    /// finding: a dump of one collector may simply not have them).
    pub not_visible: Vec<Prefix>,
}

impl Report {
    /// An intent failed or was bypassed, or an alert was raised: `tern observe` exits 1.
    pub fn has_findings(&self) -> bool {
        !self.alerts.is_empty()
            || self
                .verdicts
                .iter()
                .any(|v| matches!(v.status, Status::Fails | Status::Bypassed))
    }
}

#[derive(Debug, Default)]
struct PrefixState {
    /// (peer, path id) → current path (None once withdrawn).
    current: BTreeMap<(Peer, Option<u32>), Option<Path>>,
    /// Every distinct (peer, path) seen.
    seen: BTreeSet<(Peer, Path)>,
    announcements: usize,
    withdrawals: usize,
    events: Vec<Event>,
    events_dropped: usize,
}

/// Consumes MRT records and keeps what concerns the model.
#[derive(Debug)]
pub struct Observer<'a> {
    network: &'a Network,
    states: Vec<PrefixState>,
    /// More-specifics of planned prefixes: (index of ours, prefix) → (origins, routes).
    more_specific: BTreeMap<(usize, Prefix), (BTreeSet<Asn>, usize)>,
    /// Prefixes our AS originates outside the plan → routes.
    unplanned: BTreeMap<Prefix, usize>,
    inputs: Vec<(String, Counts)>,
    /// AS numbers rewritten on every path and peer before anything is judged (a lab's private
    /// ASes → the ASes they stand for).
    as_map: BTreeMap<Asn, Asn>,
}

impl<'a> Observer<'a> {
    /// Rewrites these ASes on every path and collector peer before judging: `tern lab
    /// collect`'s map from the lab's private ASes to the real ASes they stand for.
    pub fn with_as_map(mut self, map: BTreeMap<Asn, Asn>) -> Self {
        self.as_map = map;
        self
    }

    fn map_as(&self, a: Asn) -> Asn {
        self.as_map.get(&a).copied().unwrap_or(a)
    }

    /// An observer for this network's prefix plan.
    pub fn new(network: &'a Network) -> Self {
        Observer {
            network,
            states: network
                .prefixes
                .iter()
                .map(|_| PrefixState::default())
                .collect(),
            more_specific: BTreeMap::new(),
            unplanned: BTreeMap::new(),
            inputs: Vec::new(),
            as_map: BTreeMap::new(),
        }
    }

    /// Records that one input file was read to its end (or to an error) with these counts.
    pub fn handle_input_done(&mut self, name: String, counts: Counts) {
        self.inputs.push((name, counts));
    }

    /// One MRT record.
    pub fn handle_record(&mut self, rec: &Record) {
        for mut e in rec.elems() {
            e.peer.asn = self.map_as(e.peer.asn);
            let as_path = e.attrs.and_then(|a| a.as_path.as_ref());
            let exact = self
                .network
                .prefixes
                .iter()
                .position(|p| p.prefix == e.prefix);
            if let Some(i) = exact {
                let path = as_path.map(|p| {
                    let mut p = Path::from_as_path(p);
                    for a in p.0.iter_mut().flatten() {
                        *a = self.map_as(*a);
                    }
                    p
                });
                let st = &mut self.states[i];
                let key = (e.peer, e.path_id);
                match e.kind {
                    ElemKind::Announce => {
                        st.announcements += 1;
                        let p = path.clone().unwrap_or(Path(Vec::new()));
                        st.seen.insert((e.peer, p.clone()));
                        st.current.insert(key, Some(p));
                    }
                    ElemKind::Withdraw => {
                        st.withdrawals += 1;
                        st.current.insert(key, None);
                    }
                }
                if matches!(rec, Record::Update(_)) {
                    if st.events.len() < MAX_EVENTS {
                        st.events.push(Event {
                            timestamp: e.timestamp,
                            kind: e.kind,
                            peer: e.peer,
                            prefix: e.prefix,
                            path: path.as_ref().map(|p| p.to_string()),
                        });
                    } else {
                        st.events_dropped += 1;
                    }
                }
                continue;
            }
            if e.kind != ElemKind::Announce {
                continue;
            }
            let covering = self
                .network
                .prefixes
                .iter()
                .position(|p| p.prefix.contains(&e.prefix));
            let origin = as_path.and_then(AsPath::origin).map(|a| self.map_as(a));
            if let Some(i) = covering {
                let ent = self
                    .more_specific
                    .entry((i, e.prefix))
                    .or_insert_with(|| (BTreeSet::new(), 0));
                ent.0.extend(origin);
                ent.1 += 1;
            } else if origin == Some(self.network.asn) {
                *self.unplanned.entry(e.prefix).or_default() += 1;
            }
        }
    }

    /// The report: per-prefix facts, alerts, RPKI states (with `vrps`) and intent verdicts.
    pub fn finish(self, providers: &Providers, vrps: Option<&VrpSet>) -> Report {
        let net = self.network;
        let mut alerts = Vec::new();
        let mut prefixes = Vec::new();
        for (planned, st) in net.prefixes.iter().zip(self.states) {
            let mut routes: Vec<SeenRoute> = st
                .seen
                .iter()
                .map(|(peer, path)| SeenRoute {
                    peer: *peer,
                    path: path.clone(),
                    current: st
                        .current
                        .iter()
                        .any(|((p, _), cur)| p == peer && cur.as_ref() == Some(path)),
                })
                .collect();
            routes.sort();
            let holding: BTreeSet<Peer> = st
                .current
                .iter()
                .filter(|(_, p)| p.is_some())
                .map(|((peer, _), _)| *peer)
                .collect();
            let mut origins: BTreeMap<Asn, usize> = BTreeMap::new();
            let mut upstreams: BTreeMap<Asn, usize> = BTreeMap::new();
            for r in &routes {
                if let Some(o) = r.path.origin() {
                    *origins.entry(o).or_default() += 1;
                }
                if let Some(u) = r.path.upstream_of(net.asn) {
                    *upstreams.entry(u).or_default() += 1;
                }
            }
            for (&o, &n) in &origins {
                if o != net.asn {
                    let example = routes
                        .iter()
                        .find(|r| r.path.origin() == Some(o))
                        .map(|r| r.path.to_string())
                        .unwrap_or_default();
                    alerts.push(Alert::UnexpectedOrigin {
                        prefix: planned.prefix,
                        origin: o,
                        routes: n,
                        example,
                    });
                }
            }
            let mut rpki = Vec::new();
            if let Some(vrps) = vrps {
                for &o in origins.keys() {
                    let v = vrps.validate(&planned.prefix, o);
                    let invalid = matches!(v, tern_rpki::Validity::Invalid(_));
                    if invalid {
                        alerts.push(Alert::RpkiInvalid {
                            prefix: planned.prefix,
                            origin: o,
                            reason: v.to_string(),
                        });
                    }
                    rpki.push(RpkiState {
                        prefix: planned.prefix,
                        origin: o,
                        state: v.to_string(),
                        invalid,
                    });
                }
            }
            let mut peer_ases: Vec<Asn> = holding.iter().map(|p| p.asn).collect();
            peer_ases.sort();
            peer_ases.dedup();
            let mut events = st.events;
            events.sort_by_key(|e| e.timestamp);
            prefixes.push(PrefixReport {
                prefix: planned.prefix,
                role: match &planned.role {
                    tern_model::Role::Anycast => "anycast".into(),
                    tern_model::Role::Regional(_) => "regional".into(),
                    tern_model::Role::Unicast(_) => "unicast".into(),
                },
                announced: net
                    .sites
                    .iter()
                    .any(|s| s.announces.contains(&planned.prefix)),
                peers: holding.len(),
                peer_ases,
                origins,
                upstreams,
                routes,
                announcements: st.announcements,
                withdrawals: st.withdrawals,
                events,
                events_dropped: st.events_dropped,
                rpki,
            });
        }
        for ((i, prefix), (origins, routes)) in self.more_specific {
            if let Some(vrps) = vrps {
                for &o in &origins {
                    if let tern_rpki::Validity::Invalid(r) = vrps.validate(&prefix, o) {
                        alerts.push(Alert::RpkiInvalid {
                            prefix,
                            origin: o,
                            reason: format!("invalid ({r})"),
                        });
                    }
                }
            }
            alerts.push(Alert::MoreSpecific {
                covering: net.prefixes[i].prefix,
                prefix,
                origins: origins.into_iter().collect(),
                routes,
            });
        }
        for (prefix, routes) in self.unplanned {
            alerts.push(Alert::Unplanned { prefix, routes });
        }
        let verdicts = verdict::judge(net, providers, &prefixes);
        let not_visible = prefixes
            .iter()
            .filter(|p| p.announced && p.peers == 0)
            .map(|p| p.prefix)
            .collect();
        Report {
            not_visible,
            asn: net.asn,
            inputs: self.inputs,
            prefixes,
            alerts,
            verdicts,
        }
    }
}
