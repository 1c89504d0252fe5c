//! Adj-RIB-Out (RFC 4271 §3.2, §9.2) of our own routes towards one peer.
//!
//! The announcer says what it wants announced (`announce`, `withdraw`, `replace_all`); this table
//! remembers it and turns the difference since the last flush into as few UPDATEs as fit: prefixes
//! that share every attribute go in one UPDATE, withdrawals are batched. Announcing a route that
//! is already there with the same attributes is a no-op, so a health check that re-asserts its
//! state every second never reaches the wire. The session flushes after every change while
//! Established and sends the whole table when it comes up, or when the peer asks (ROUTE-REFRESH).

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use tern_types::{Afi, Asn, Community, LargeCommunity, Prefix};

use crate::wire::{
    AFI_IPV4, AFI_IPV6, AsPath, HEADER_LEN, MpNextHop, MpReach, MpUnreach, Origin, PathAttributes,
    SAFI_UNICAST, Update,
};

/// The attributes of one of our routes, as the announcer sets them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RouteAttrs {
    /// Standard communities (RFC 1997), e.g. a provider's action communities.
    pub communities: Vec<Community>,
    /// Large communities (RFC 8092).
    pub large_communities: Vec<LargeCommunity>,
    /// How many extra times our AS is put in front of the path (0: just once).
    pub prepend: u8,
    /// MULTI_EXIT_DISC.
    pub med: Option<u32>,
    /// Only-to-Customer (RFC 9234 §5), when we announce to a customer, peer or RS client.
    pub otc: Option<Asn>,
    /// Next hop of the route's family; `None` takes the session's own address for that family.
    pub next_hop: Option<IpAddr>,
}

impl RouteAttrs {
    /// Sorted and de-duplicated communities, so that equal sets compare equal and group together.
    pub fn normalized(mut self) -> Self {
        self.communities.sort_unstable();
        self.communities.dedup();
        self.large_communities.sort_unstable();
        self.large_communities.dedup();
        self
    }
}

/// What the session knows when it turns routes into UPDATEs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportContext {
    /// Our AS, put first in the AS_PATH on eBGP sessions.
    pub local_as: Asn,
    /// iBGP session: empty AS_PATH and LOCAL_PREF 100.
    pub ibgp: bool,
    /// Default IPv4 next hop (normally the session's local IPv4 address).
    pub next_hop_v4: Option<Ipv4Addr>,
    /// Default global IPv6 next hop; never `::`.
    pub next_hop_v6: Option<Ipv6Addr>,
    /// Families negotiated with the peer; routes of other families are held back.
    pub families: Vec<Afi>,
    /// Largest message the session may send (4096 without RFC 8654).
    pub max_message_len: usize,
    /// Both sides speak 4-octet AS (otherwise AS4_PATH doubles the path's size).
    pub four_octet_as: bool,
}

/// Routes we could not put in an UPDATE.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unsendable {
    /// The peer did not negotiate this family.
    FamilyNotNegotiated(Prefix),
    /// No usable next hop for the family (an IPv6 route on a session with no global IPv6
    /// address and no configured IPv6 next hop: we never send `::`).
    NoNextHop(Prefix),
}

/// UPDATEs produced by a flush, and the routes held back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Export {
    /// The UPDATEs to send, in order.
    pub updates: Vec<Update>,
    /// Routes that could not be sent, with why.
    pub unsendable: Vec<Unsendable>,
}

/// Our routes towards one peer and the changes not yet sent.
#[derive(Clone, Debug, Default)]
pub struct AdjRibOut {
    routes: BTreeMap<Prefix, RouteAttrs>,
    pending: BTreeSet<Prefix>,
}

impl AdjRibOut {
    /// An empty table.
    pub fn new() -> Self {
        AdjRibOut::default()
    }

    /// Announce `prefix` with `attrs`. Returns whether anything changed.
    pub fn announce(&mut self, prefix: Prefix, attrs: RouteAttrs) -> bool {
        let attrs = attrs.normalized();
        if self.routes.get(&prefix) == Some(&attrs) {
            return false;
        }
        self.routes.insert(prefix, attrs);
        self.pending.insert(prefix);
        true
    }

    /// Withdraw `prefix`. Returns whether it was announced.
    pub fn withdraw(&mut self, prefix: Prefix) -> bool {
        if self.routes.remove(&prefix).is_none() {
            return false;
        }
        self.pending.insert(prefix);
        true
    }

    /// Make the table exactly `routes`: withdraw what is missing, announce what is new or
    /// changed. Returns the number of prefixes that changed.
    pub fn replace_all(&mut self, routes: impl IntoIterator<Item = (Prefix, RouteAttrs)>) -> usize {
        let wanted: BTreeMap<Prefix, RouteAttrs> = routes
            .into_iter()
            .map(|(p, a)| (p, a.normalized()))
            .collect();
        let gone: Vec<Prefix> = self
            .routes
            .keys()
            .filter(|p| !wanted.contains_key(p))
            .copied()
            .collect();
        let mut changed = 0;
        for p in gone {
            changed += usize::from(self.withdraw(p));
        }
        for (p, a) in wanted {
            changed += usize::from(self.announce(p, a));
        }
        changed
    }

    /// The routes announced, in prefix order.
    pub fn iter(&self) -> impl Iterator<Item = (&Prefix, &RouteAttrs)> + '_ {
        self.routes.iter()
    }

    /// Number of routes announced.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// No route announced.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Changes not yet flushed.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Forget the unsent changes (the session went down; it sends everything when it is back).
    pub fn discard_pending(&mut self) {
        self.pending.clear();
    }

    /// The UPDATEs for the changes since the last flush, and clear them.
    pub fn take_changes(&mut self, ctx: &ExportContext) -> Export {
        let pending = std::mem::take(&mut self.pending);
        let mut announce = Vec::new();
        let mut withdraw = Vec::new();
        for p in pending {
            match self.routes.get(&p) {
                Some(a) => announce.push((p, a)),
                None => withdraw.push(p),
            }
        }
        let mut out = Export::default();
        // Withdrawals first: a changed route is an announce, never a withdraw, so order only
        // matters across prefixes, where "gone before new" is the safer reading.
        build_withdrawals(ctx, &withdraw, &mut out);
        build_announcements(ctx, announce, &mut out);
        out
    }

    /// UPDATEs carrying every route (of `afi`, or all families): the initial dump after the
    /// session comes up and the answer to a ROUTE-REFRESH (RFC 2918 §4).
    pub fn full(&self, ctx: &ExportContext, afi: Option<Afi>) -> Export {
        let mut out = Export::default();
        let routes = self
            .routes
            .iter()
            .filter(|(p, _)| afi.is_none_or(|a| p.afi() == a))
            .map(|(p, a)| (*p, a));
        build_announcements(ctx, routes, &mut out);
        out
    }

    /// UPDATEs withdrawing every route, for a graceful shutdown before the Cease. The table
    /// itself is kept, so a restarted session announces it again.
    pub fn withdraw_everything(&self, ctx: &ExportContext) -> Export {
        let all: Vec<Prefix> = self.routes.keys().copied().collect();
        let mut out = Export::default();
        build_withdrawals(ctx, &all, &mut out);
        out
    }
}

/// Octets a prefix takes in an NLRI field (RFC 4271 §4.3: length octet + significant octets).
fn nlri_len(p: &Prefix) -> usize {
    1 + usize::from(p.len()).div_ceil(8)
}

/// Room left for NLRI once the header, the two length fields and `attrs_len` are spent.
fn nlri_budget(ctx: &ExportContext, attrs_len: usize) -> usize {
    ctx.max_message_len
        .saturating_sub(HEADER_LEN + 4 + attrs_len)
        .max(64)
}

/// Split `prefixes` into runs that each fit in `budget` octets of NLRI.
fn chunks(prefixes: &[Prefix], budget: usize) -> Vec<Vec<Prefix>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut used = 0;
    for p in prefixes {
        let n = nlri_len(p);
        if used + n > budget && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
            used = 0;
        }
        used += n;
        cur.push(*p);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn build_withdrawals(ctx: &ExportContext, prefixes: &[Prefix], out: &mut Export) {
    let (v4, v6): (Vec<Prefix>, Vec<Prefix>) = prefixes.iter().partition(|p| p.afi() == Afi::Ipv4);
    if ctx.families.contains(&Afi::Ipv4) {
        for chunk in chunks(&v4, nlri_budget(ctx, 0)) {
            out.updates.push(Update {
                withdrawn: chunk,
                ..Update::default()
            });
        }
    }
    if ctx.families.contains(&Afi::Ipv6) {
        // MP_UNREACH_NLRI header: flags, type, 2-octet length, AFI, SAFI.
        for chunk in chunks(&v6, nlri_budget(ctx, 4 + 3)) {
            out.updates.push(Update {
                attrs: PathAttributes {
                    mp_unreach: Some(MpUnreach {
                        afi: AFI_IPV6,
                        safi: SAFI_UNICAST,
                        withdrawn: chunk,
                    }),
                    ..PathAttributes::default()
                },
                ..Update::default()
            });
        }
    }
}

/// Size of the attributes of `pa` on the wire, an upper bound (every attribute counted with an
/// extended length).
fn attrs_len(pa: &PathAttributes, ctx: &ExportContext) -> usize {
    let path_asns = pa.as_path.as_ref().map_or(0, |p| p.asns().count());
    let segs = pa.as_path.as_ref().map_or(0, |p| p.segments.len());
    let mut n = 4 + 1; // ORIGIN
    n += 4 + segs * 2 + path_asns * 4; // AS_PATH
    if !ctx.four_octet_as {
        n += 4 + segs * 2 + path_asns * 4; // AS4_PATH
    }
    n += pa.next_hop.map_or(0, |_| 4 + 4);
    n += pa.med.map_or(0, |_| 4 + 4);
    n += pa.local_pref.map_or(0, |_| 4 + 4);
    n += pa.otc.map_or(0, |_| 4 + 4);
    if !pa.communities.is_empty() {
        n += 4 + 4 * pa.communities.len();
    }
    if !pa.large_communities.is_empty() {
        n += 4 + 12 * pa.large_communities.len();
    }
    if pa.mp_reach.is_some() {
        // flags, type, length(2), AFI(2), SAFI, NH len, NH (≤32), reserved.
        n += 4 + 3 + 1 + 32 + 1;
    }
    n
}

fn base_attrs(ctx: &ExportContext, a: &RouteAttrs) -> PathAttributes {
    let as_path = if ctx.ibgp {
        AsPath::empty()
    } else {
        let mut p = AsPath::from_sequence([ctx.local_as]);
        p.prepend(ctx.local_as, usize::from(a.prepend));
        p
    };
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(as_path),
        med: a.med,
        local_pref: ctx.ibgp.then_some(100),
        communities: a.communities.clone(),
        large_communities: a.large_communities.clone(),
        otc: a.otc,
        ..PathAttributes::default()
    }
}

fn build_announcements<'a>(
    ctx: &ExportContext,
    routes: impl IntoIterator<Item = (Prefix, &'a RouteAttrs)>,
    out: &mut Export,
) {
    // Group by (family, attributes): one UPDATE (or a few, if large) per group.
    let mut groups: BTreeMap<(Afi, &'a RouteAttrs), Vec<Prefix>> = BTreeMap::new();
    for (p, a) in routes {
        if !ctx.families.contains(&p.afi()) {
            out.unsendable.push(Unsendable::FamilyNotNegotiated(p));
            continue;
        }
        groups.entry((p.afi(), a)).or_default().push(p);
    }
    for ((afi, a), prefixes) in groups {
        let mut pa = base_attrs(ctx, a);
        match afi {
            Afi::Ipv4 => {
                let nh = match a.next_hop {
                    Some(IpAddr::V4(v4)) => Some(v4),
                    _ => ctx.next_hop_v4,
                };
                let Some(nh) = nh.filter(|n| !n.is_unspecified()) else {
                    out.unsendable
                        .extend(prefixes.into_iter().map(Unsendable::NoNextHop));
                    continue;
                };
                pa.next_hop = Some(nh);
                let budget = nlri_budget(ctx, attrs_len(&pa, ctx));
                for chunk in chunks(&prefixes, budget) {
                    out.updates.push(Update {
                        withdrawn: Vec::new(),
                        attrs: pa.clone(),
                        nlri: chunk,
                    });
                }
            }
            Afi::Ipv6 => {
                let nh = match a.next_hop {
                    Some(IpAddr::V6(v6)) => Some(v6),
                    _ => ctx.next_hop_v6,
                };
                // RFC 2545 §3: a global address; `::` makes peers drop the route or the session.
                let Some(global) = nh.filter(|n| !n.is_unspecified()) else {
                    out.unsendable
                        .extend(prefixes.into_iter().map(Unsendable::NoNextHop));
                    continue;
                };
                pa.mp_reach = Some(MpReach {
                    afi: AFI_IPV6,
                    safi: SAFI_UNICAST,
                    next_hop: MpNextHop::V6 {
                        global,
                        link_local: None,
                    },
                    nlri: Vec::new(),
                });
                let budget = nlri_budget(ctx, attrs_len(&pa, ctx));
                for chunk in chunks(&prefixes, budget) {
                    let mut attrs = pa.clone();
                    if let Some(m) = attrs.mp_reach.as_mut() {
                        m.nlri = chunk;
                    }
                    out.updates.push(Update {
                        withdrawn: Vec::new(),
                        attrs,
                        nlri: Vec::new(),
                    });
                }
            }
        }
    }
}

/// The (AFI, SAFI) pair of a family, for ROUTE-REFRESH and MP attributes.
pub fn afi_safi(afi: Afi) -> (u16, u8) {
    match afi {
        Afi::Ipv4 => (AFI_IPV4, SAFI_UNICAST),
        Afi::Ipv6 => (AFI_IPV6, SAFI_UNICAST),
    }
}

/// The family of an (AFI, SAFI) pair we speak (unicast only).
pub fn family(afi: u16, safi: u8) -> Option<Afi> {
    match (afi, safi) {
        (AFI_IPV4, SAFI_UNICAST) => Some(Afi::Ipv4),
        (AFI_IPV6, SAFI_UNICAST) => Some(Afi::Ipv6),
        _ => None,
    }
}
