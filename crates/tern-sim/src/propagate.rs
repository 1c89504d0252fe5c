//! One propagation: every node's best route to our prefix under Gao-Rexford.
//!
//! Route selection, in order: higher local preference (customer 200 > peer 100 > provider 50,
//! changed by local-pref effects), shorter AS path (prepends count), eBGP over iBGP; what is
//! still equal is a tie. Export is valley-free: routes learned from customers go to everyone,
//! routes from peers and providers to customers only; iBGP-learned routes are not passed to
//! other iBGP neighbours (full mesh); a node never accepts a path holding its own AS.
//!
//! Two modes ([`Mode`]): `Sets` keeps every equally good route, so a node's result is the set
//! of origins (and sites) it may reach — what the AS-level model can honestly say; `Pick`
//! resolves ties like a router does (lowest neighbour router id, then lowest node index) and
//! exports only the chosen route, which is exact for the lab's BIRD routers.
//!
//! The algorithm is a worklist path-vector computation ordered by route preference (a
//! Dijkstra-like priority queue on (local-pref, path length)): with plain Gao-Rexford every
//! node settles on its first assignment, so one propagation is O(E log V); local-pref effects
//! that break that order are handled by re-evaluation (a node whose chosen route came from a
//! neighbour whose route got worse recomputes from all its neighbours). A pop budget bounds the
//! work; exceeding it is reported, never a hang.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use serde::Serialize;

use crate::graph::{Graph, Rel};
use tern_model::policy::ExportAction;
use tern_types::Asn;

use crate::policy::{
    Effect, LP_CUSTOMER, LP_PEER, LP_PROVIDER, Region, Relationship, Scenario, level_pref,
};

/// No neighbour (an origin route, or no route).
pub const NONE: u32 = u32::MAX;
/// Pops per node before a propagation is declared non-convergent.
const POP_BUDGET: usize = 64;
/// Longest AS-path walk for loop checks and path display.
const MAX_WALK: usize = 256;

/// How ties are treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Keep every equally good route.
    Sets,
    /// One route per node, ties broken by lowest neighbour router id.
    Pick,
}

/// Where a route came from, as the AS learned it (decides export).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// From a customer (or from us).
    Customer,
    /// From a peer.
    Peer,
    /// From a provider.
    Provider,
}

/// A node's best route.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Route {
    /// Local preference.
    pub lp: u16,
    /// AS path length, prepends included.
    pub len: u16,
    /// Learned over iBGP.
    pub ibgp: bool,
    /// How the AS learned it.
    pub class: Class,
    /// Origins (bit = index into [`Scenario::origins`]) of all equally good routes (one bit in
    /// `Pick` mode).
    pub origins: u64,
    /// Neighbour of the displayed route ([`NONE`]: heard from us directly).
    pub hop: u32,
    /// Origin of the displayed route.
    pub pick: u8,
}

impl Route {
    fn rank(&self, other: &Route) -> Ordering {
        self.lp
            .cmp(&other.lp)
            .then(other.len.cmp(&self.len))
            .then(other.ibgp.cmp(&self.ibgp))
    }
}

/// The result of one propagation.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Per node (by index), its route if it has one.
    pub routes: Vec<Option<Route>>,
    /// Heap pops done.
    pub pops: usize,
    /// Stopped by the pop budget (the result is then not a stable state).
    pub unstable: bool,
}

impl Outcome {
    /// The AS path of the displayed route of node `i`, nearest first, ending at the provider
    /// node that heard us (node indices); empty when no route.
    pub fn path(&self, i: u32) -> Vec<u32> {
        let mut p = Vec::new();
        let mut at = i;
        while at != NONE && p.len() < MAX_WALK {
            let Some(r) = self.routes[at as usize] else {
                break;
            };
            p.push(at);
            at = r.hop;
        }
        p
    }
}

/// Per-scenario lookup: effects applied at each node, per origin.
struct Policy {
    /// Per node: does any effect apply there?
    at: Vec<bool>,
    /// NO_EXPORT by every AS, per origin.
    everywhere: u64,
}

impl Policy {
    fn new(g: &Graph, s: &Scenario) -> Policy {
        let mut at = vec![false; g.len()];
        let mut everywhere = 0u64;
        for (o, or) in s.origins.iter().enumerate() {
            for a in &or.effects {
                match a.by {
                    Some(asn) => {
                        for n in g.of_as(asn) {
                            at[*n as usize] = true;
                        }
                    }
                    None => everywhere |= 1 << o,
                }
            }
        }
        Policy { at, everywhere }
    }
}

/// Propagates one scenario over the graph.
pub fn propagate(g: &Graph, s: &Scenario, mode: Mode) -> Outcome {
    let pol = Policy::new(g, s);
    let n = g.len();
    let mut routes: Vec<Option<Route>> = vec![None; n];
    let mut heap: BinaryHeap<(u16, std::cmp::Reverse<u16>, u32)> = BinaryHeap::new();
    let mut popped = vec![false; n];
    // Key of the pending heap entry of each node ((0, 0): none), so a tie that only grows a
    // node's origin set does not queue it twice.
    let mut queued = vec![(0u16, 0u16); n];
    // Origins.
    let mut at_node: Vec<(u32, usize)> = s
        .origins
        .iter()
        .enumerate()
        .filter(|(o, or)| *o < 64 && (or.node as usize) < n)
        .map(|(o, or)| (or.node, o))
        .collect();
    at_node.sort_unstable();
    for &(v, _) in &at_node {
        let r = best_at(g, s, &pol, &routes, &at_node, v, mode);
        if r != routes[v as usize] {
            routes[v as usize] = r;
            if let Some(r) = r {
                heap.push((r.lp, std::cmp::Reverse(r.len), v));
            }
        }
    }
    let budget = POP_BUDGET.saturating_mul(n.max(1));
    let mut pops = 0usize;
    let mut unstable = false;
    while let Some((lp, std::cmp::Reverse(len), x)) = heap.pop() {
        let Some(rx) = routes[x as usize] else {
            continue;
        };
        if rx.lp != lp || rx.len != len {
            continue;
        }
        queued[x as usize] = (0, 0);
        pops += 1;
        if pops > budget {
            unstable = true;
            break;
        }
        let (nbrs, rels) = g.adjacency(x);
        // Non-customer routes go to customers and iBGP only (a prefix of the adjacency); a
        // node popped before scans everything, so neighbours that chose it re-evaluate.
        let end = if rx.class == Class::Customer || popped[x as usize] {
            nbrs.len()
        } else {
            g.export_end(x)
        };
        popped[x as usize] = true;
        for (k, &y) in nbrs[..end].iter().enumerate() {
            let rel = rels[k];
            let Some(offer) = offer(g, s, &pol, &routes, x, &rx, y, rel) else {
                if routes[y as usize].is_some_and(|ry| ry.hop == x) {
                    recompute(g, s, &pol, &mut routes, &at_node, y, mode, &mut heap);
                }
                continue;
            };
            let next = match routes[y as usize] {
                None => Some(offer),
                Some(ry) => match offer.rank(&ry) {
                    Ordering::Greater => Some(offer),
                    Ordering::Equal => merge(g, mode, ry, offer),
                    Ordering::Less if ry.hop == x => {
                        recompute(g, s, &pol, &mut routes, &at_node, y, mode, &mut heap);
                        None
                    }
                    Ordering::Less => None,
                },
            };
            if let Some(r) = next {
                if Some(r) != routes[y as usize] {
                    routes[y as usize] = Some(r);
                    if queued[y as usize] != (r.lp, r.len) {
                        queued[y as usize] = (r.lp, r.len);
                        heap.push((r.lp, std::cmp::Reverse(r.len), y));
                    }
                }
            }
        }
    }
    Outcome {
        routes,
        pops,
        unstable,
    }
}

/// Equal rank: union of origins (Sets) or the tie-break (Pick); the displayed route is the
/// one from the lower neighbour router id either way. `None` when nothing changes.
fn merge(g: &Graph, mode: Mode, cur: Route, new: Route) -> Option<Route> {
    let key = |r: &Route| {
        if r.hop == NONE {
            (0u32, 0u32, r.pick as u32)
        } else {
            (1, g.router_id(r.hop), r.hop)
        }
    };
    // An offer from the neighbour the current route came from replaces it (an update is an
    // implicit withdraw, RFC 4271 §3.1).
    let new_wins = key(&new) < key(&cur) || (new.hop == cur.hop && new.hop != NONE);
    let out = match mode {
        Mode::Pick => {
            if new_wins {
                new
            } else {
                cur
            }
        }
        Mode::Sets => {
            let base = if new_wins { new } else { cur };
            Route {
                origins: cur.origins | new.origins,
                ..base
            }
        }
    };
    (out != cur).then_some(out)
}

#[allow(clippy::too_many_arguments)]
fn recompute(
    g: &Graph,
    s: &Scenario,
    pol: &Policy,
    routes: &mut [Option<Route>],
    at_node: &[(u32, usize)],
    y: u32,
    mode: Mode,
    heap: &mut BinaryHeap<(u16, std::cmp::Reverse<u16>, u32)>,
) {
    // A node that lost its route tells the neighbours that chose it, transitively (bounded).
    let mut stack = vec![y];
    let mut steps = 0usize;
    while let Some(v) = stack.pop() {
        steps += 1;
        if steps > 4 * g.len() + 16 {
            break;
        }
        let r = best_at(g, s, pol, routes, at_node, v, mode);
        if r == routes[v as usize] {
            continue;
        }
        routes[v as usize] = r;
        match r {
            // Popped later: its neighbours re-evaluate then.
            Some(r) => heap.push((r.lp, std::cmp::Reverse(r.len), v)),
            None => {
                for (z, _) in g.neighbours(v) {
                    if routes[z as usize].is_some_and(|rz| rz.hop == v) {
                        stack.push(z);
                    }
                }
            }
        }
    }
}

/// The best route of `y` from scratch: its origins and every neighbour's offer.
#[allow(clippy::too_many_arguments)]
fn best_at(
    g: &Graph,
    s: &Scenario,
    pol: &Policy,
    routes: &[Option<Route>],
    at_node: &[(u32, usize)],
    y: u32,
    mode: Mode,
) -> Option<Route> {
    let mut best: Option<Route> = None;
    let take = |r: Route, best: &mut Option<Route>| {
        *best = match *best {
            None => Some(r),
            Some(b) => match r.rank(&b) {
                Ordering::Greater => Some(r),
                Ordering::Equal => merge(g, mode, b, r).or(Some(b)),
                Ordering::Less => Some(b),
            },
        };
    };
    let from = at_node.partition_point(|(v, _)| *v < y);
    for &(v, o) in &at_node[from..] {
        if v != y {
            break;
        }
        let or = &s.origins[o];
        let mut lp = LP_CUSTOMER;
        if pol.at[y as usize] {
            lp = import_lp(g, s, y, o, lp);
        }
        take(
            Route {
                lp,
                len: 1 + or.prepend as u16,
                ibgp: false,
                class: Class::Customer,
                origins: 1 << o,
                hop: NONE,
                pick: o as u8,
            },
            &mut best,
        );
    }
    for (x, rel) in g.neighbours(y) {
        let Some(rx) = routes[x as usize] else {
            continue;
        };
        if let Some(r) = offer(g, s, pol, routes, x, &rx, y, rel.reverse()) {
            take(r, &mut best);
        }
    }
    best
}

/// Local preference at node `y` for origin `o`'s route after local-pref effects.
fn import_lp(g: &Graph, s: &Scenario, y: u32, o: usize, default: u16) -> u16 {
    let ny = g.node(y);
    let mut lp = default;
    for a in &s.origins[o].effects {
        if a.by != Some(ny.represents) {
            continue;
        }
        if let Effect::LocalPref { region, level } = a.effect {
            if region.is_none_or(|r| Some(r) == ny.region) {
                lp = level_pref(level);
            }
        }
    }
    lp
}

/// What `x` (holding `rx`) sends to `y`, as `y` ranks it; `rel` is what `y` is to `x`.
#[allow(clippy::too_many_arguments)]
fn offer(
    g: &Graph,
    s: &Scenario,
    pol: &Policy,
    routes: &[Option<Route>],
    x: u32,
    rx: &Route,
    y: u32,
    rel: Rel,
) -> Option<Route> {
    // Valley-free export and iBGP rules.
    match rel {
        Rel::Internal if rx.ibgp => return None,
        Rel::Peer | Rel::Provider if rx.class != Class::Customer => return None,
        _ => {}
    }
    if rx.hop == y {
        return None;
    }
    let ebgp = rel != Rel::Internal;
    if ebgp && g.multi(y) && on_path(g, routes, x, g.node(y).asn) {
        return None;
    }
    let (lp0, class) = match rel {
        // y is x's customer: y hears it from its provider.
        Rel::Customer => (LP_PROVIDER, Class::Provider),
        Rel::Peer => (LP_PEER, Class::Peer),
        Rel::Provider => (LP_CUSTOMER, Class::Customer),
        Rel::Internal => (rx.lp, rx.class),
    };
    let base_len = if ebgp { rx.len + 1 } else { rx.len };
    let slow =
        pol.at[x as usize] || pol.at[y as usize] || (ebgp && rx.origins & pol.everywhere != 0);
    if !slow {
        return Some(Route {
            lp: lp0,
            len: base_len,
            ibgp: !ebgp,
            class,
            origins: rx.origins,
            hop: x,
            pick: rx.pick,
        });
    }
    // Per origin: export effects at x towards y, import local-pref at y.
    let nx = g.node(x);
    let ny = g.node(y);
    let mut best: Option<(u16, u16, u64)> = None;
    let mut m = rx.origins;
    while m != 0 {
        let o = m.trailing_zeros() as usize;
        m &= m - 1;
        let mut len = base_len;
        let mut blocked = ebgp && pol.everywhere & (1 << o) != 0;
        if ebgp && pol.at[x as usize] {
            for a in &s.origins[o].effects {
                if a.by != Some(nx.represents) {
                    continue;
                }
                // Regional effects need the neighbour's region; region-less ones apply anyway.
                let Some(region) = a
                    .effect
                    .region()
                    .map_or(Some(ny.region.unwrap_or(Region::Europe)), |r| {
                        (Some(r) == ny.region).then_some(r)
                    })
                else {
                    continue;
                };
                match a
                    .effect
                    .on_export(Asn(ny.represents), relationship(rel), region)
                {
                    ExportAction::Reject => blocked = true,
                    ExportAction::Prepend(t) => len += u16::from(t),
                    _ => {}
                }
            }
        }
        if blocked {
            continue;
        }
        let lp = if ebgp && pol.at[y as usize] {
            import_lp(g, s, y, o, lp0)
        } else {
            lp0
        };
        best = match best {
            None => Some((lp, len, 1 << o)),
            Some((bl, bn, bm)) => match (lp.cmp(&bl), bn.cmp(&len)) {
                (Ordering::Greater, _) | (Ordering::Equal, Ordering::Greater) => {
                    Some((lp, len, 1 << o))
                }
                (Ordering::Equal, Ordering::Equal) => Some((bl, bn, bm | 1 << o)),
                _ => Some((bl, bn, bm)),
            },
        };
    }
    let (lp, len, origins) = best?;
    let pick = if origins & (1 << rx.pick) != 0 {
        rx.pick
    } else {
        origins.trailing_zeros() as u8
    };
    Some(Route {
        lp,
        len,
        ibgp: !ebgp,
        class,
        origins,
        hop: x,
        pick,
    })
}

/// What an eBGP neighbour is to us, in the policy model's words.
fn relationship(r: Rel) -> Relationship {
    match r {
        Rel::Customer => Relationship::Customer,
        Rel::Provider => Relationship::Provider,
        Rel::Peer | Rel::Internal => Relationship::Peer,
    }
}

/// Is AS `asn` on the displayed path from `x` back to us?
fn on_path(g: &Graph, routes: &[Option<Route>], x: u32, asn: u32) -> bool {
    let mut at = x;
    for _ in 0..MAX_WALK {
        if at == NONE {
            return false;
        }
        if g.node(at).asn == asn {
            return true;
        }
        match routes[at as usize] {
            Some(r) => at = r.hop,
            None => return false,
        }
    }
    false
}
