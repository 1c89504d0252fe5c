//! A tern.toml ([`Network`]) → a [`Scenario`]: which sites announce the prefix, where each
//! session attaches, and the typed effects of its communities.
//!
//! Attachment: our AS becomes a customer of each session's provider, through the caller's
//! [`Attach`] (on an AS-level graph the provider's node in the site's region, see
//! [`attach_by_as`]; in the lab the provider router at the site). A session whose provider has
//! no AS, or whose AS is not in the graph, is left out and listed in [`Attachments::skipped`].
//!
//! Effects come from the compiled communities of each session, read back through the provider
//! dictionaries (every dictionary entry whose community value matches; `{asn}` slots give the
//! target AS), plus our own prepends and RFC 1997 NO_EXPORT. This is the adapter until the typed
//! policy model lands in tern-model; the meaning is the one the lab's BIRD routers implement.

use serde::Serialize;
use tern_model::edge::DrainAction;
use tern_model::provider::{Entry, Target, Value};
use tern_model::raw::{Action, Region};
use tern_model::{Network, Providers, Site, Upstream};
use tern_types::{Afi, Asn, Community, LargeCommunity, Prefix};

use crate::geo;
use crate::graph::Graph;
use crate::policy::{Applied, Effect, MAX_ORIGINS, Origin, Scenario};

/// What-if switches on top of the tern.toml.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The prefix to simulate (default: the first anycast prefix, IPv6 first).
    pub prefix: Option<Prefix>,
    /// Sites that are down (announce nothing).
    pub failed: Vec<String>,
    /// Sites that are drained (their `drain` action: withdraw, or prepend with communities).
    pub drained: Vec<String>,
}

/// Why a session is not attached.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Site.
    pub site: String,
    /// Session.
    pub upstream: String,
    /// Why.
    pub reason: String,
}

/// The scenario and what was left out.
#[derive(Clone, Debug, Serialize)]
pub struct Attachments {
    /// The prefix simulated.
    pub prefix: Prefix,
    /// Origins, effects.
    pub scenario: Scenario,
    /// Sessions not attached.
    pub skipped: Vec<Skipped>,
    /// Sites not announcing the prefix (failed, drained, or not in its role).
    pub silent: Vec<String>,
}

/// Why no scenario can be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// No prefix to simulate.
    #[error("the network announces no anycast prefix{0}")]
    NoPrefix(String),
    /// `--prefix` names a prefix not in the plan.
    #[error("{0} is not in the prefix plan")]
    UnknownPrefix(Prefix),
    /// `--fail`/`--drain` names no site.
    #[error("no site {0:?} (sites: {1})")]
    UnknownSite(String, String),
    /// Too many sessions for one scenario.
    #[error("{0} sessions announce the prefix; the simulator handles at most {MAX_ORIGINS}")]
    TooManyOrigins(usize),
}

/// Where a session attaches: a node, or why not.
pub type Attach<'a> = dyn Fn(&Site, &Upstream) -> Result<u32, String> + 'a;

/// The region of a site (its coordinates).
pub fn site_region(s: &Site) -> Region {
    geo::region_of(s.lat, s.lon)
}

/// The provider AS of a session: its dictionary's AS, else its neighbour AS when public.
pub fn provider_asn(u: &Upstream, providers: &Providers) -> Option<u32> {
    if let Some(p) = u.provider.as_deref().and_then(|id| providers.find(id)) {
        return Some(p.asn.0);
    }
    (!u.remote_as.is_private() && !u.remote_as.is_documentation()).then_some(u.remote_as.0)
}

/// Attachment on an AS-level graph: the provider AS's node in the site's region (any of its
/// nodes when it is not split).
pub fn attach_by_as<'a>(
    g: &'a Graph,
    providers: &'a Providers,
) -> impl Fn(&Site, &Upstream) -> Result<u32, String> + 'a {
    move |s, u| {
        let asn = provider_asn(u, providers).ok_or_else(|| {
            format!(
                "provider has no AS (neighbor AS{} is private and no provider dictionary is named)",
                u.remote_as.0
            )
        })?;
        g.of_as_in(asn, Some(site_region(s)))
            .ok_or_else(|| format!("AS{asn} is not in the graph"))
    }
}

/// Which ASes to split into regional nodes for `net` on an AS-level graph: every provider AS
/// with sites in two or more regions (into those regions), and every AS that applies a regional
/// effect (into the sites' regions and the effect's). Sorted by AS.
pub fn splits(net: &Network, providers: &Providers) -> Vec<(u32, Vec<Region>)> {
    use std::collections::BTreeMap;
    let site_regions: Vec<Region> = {
        let mut v: Vec<Region> = net.sites.iter().map(site_region).collect();
        v.sort_by_key(|r| geo::region_index(*r));
        v.dedup();
        v
    };
    let mut m: BTreeMap<u32, Vec<Region>> = BTreeMap::new();
    for s in &net.sites {
        for u in &s.upstreams {
            if let Some(a) = provider_asn(u, providers) {
                m.entry(a).or_default().push(site_region(s));
            }
            for ap in effects(
                providers,
                &u.export.communities,
                &u.export.large_communities,
            ) {
                let region = match ap.effect {
                    Effect::NoAnnounce { region, .. }
                    | Effect::Prepend { region, .. }
                    | Effect::LocalPref { region, .. } => region,
                    Effect::NoExport => None,
                };
                if let (Some(by), Some(r)) = (ap.by, region) {
                    let e = m.entry(by).or_default();
                    e.push(r);
                    e.extend(site_regions.iter().copied());
                }
            }
        }
    }
    m.into_iter()
        .filter_map(|(a, mut v)| {
            v.sort_by_key(|r| geo::region_index(*r));
            v.dedup();
            (v.len() > 1).then_some((a, v))
        })
        .collect()
}

/// Builds the scenario of `net` under `opts`.
pub fn scenario(
    net: &Network,
    providers: &Providers,
    attach: &Attach<'_>,
    opts: &Options,
) -> Result<Attachments, ModelError> {
    let names = || {
        net.sites
            .iter()
            .map(|s| s.id.as_str().to_owned())
            .collect::<Vec<_>>()
            .join(", ")
    };
    for s in opts.failed.iter().chain(&opts.drained) {
        if !net.sites.iter().any(|x| x.id.as_str() == s) {
            return Err(ModelError::UnknownSite(s.clone(), names()));
        }
    }
    let prefix = match opts.prefix {
        Some(p) => {
            if !net.prefixes.iter().any(|x| x.prefix == p) {
                return Err(ModelError::UnknownPrefix(p));
            }
            p
        }
        None => {
            let any = |afi: Afi| {
                net.prefixes
                    .iter()
                    .find(|p| p.role == tern_model::Role::Anycast && p.prefix.afi() == afi)
            };
            any(Afi::Ipv6)
                .or_else(|| any(Afi::Ipv4))
                .map(|p| p.prefix)
                .ok_or_else(|| ModelError::NoPrefix(String::new()))?
        }
    };
    let afi = prefix.afi();
    let mut sc = Scenario {
        sites: net.sites.iter().map(|s| s.id.as_str().to_owned()).collect(),
        origins: Vec::new(),
    };
    let mut skipped = Vec::new();
    let mut silent = Vec::new();
    for (si, site) in net.sites.iter().enumerate() {
        let id = site.id.as_str();
        let failed = opts.failed.iter().any(|f| f == id);
        let drained = opts.drained.iter().any(|f| f == id);
        if failed
            || !site.announces.contains(&prefix)
            || (drained && site.edge.drain == DrainAction::Withdraw)
        {
            silent.push(id.to_owned());
            continue;
        }
        for u in site.upstreams.iter().filter(|u| u.afi() == afi) {
            let node = match attach(site, u) {
                Ok(n) => n,
                Err(reason) => {
                    skipped.push(Skipped {
                        site: id.to_owned(),
                        upstream: u.name.clone(),
                        reason,
                    });
                    continue;
                }
            };
            let mut prepend = u.export.prepend;
            let mut communities = u.export.communities.clone();
            let mut large = u.export.large_communities.clone();
            if drained {
                prepend = prepend.saturating_add(site.edge.drain_prepend);
                communities.extend(site.edge.drain_communities.iter().copied());
                large.extend(site.edge.drain_large_communities.iter().copied());
            }
            sc.origins.push(Origin {
                site: si,
                upstream: u.name.clone(),
                node,
                prepend,
                effects: effects(providers, &communities, &large),
            });
        }
    }
    if sc.origins.len() > MAX_ORIGINS {
        return Err(ModelError::TooManyOrigins(sc.origins.len()));
    }
    Ok(Attachments {
        prefix,
        scenario: sc,
        skipped,
        silent,
    })
}

/// The typed effects of a session's communities.
pub fn effects(providers: &Providers, std: &[Community], large: &[LargeCommunity]) -> Vec<Applied> {
    let mut out = Vec::new();
    let values: Vec<Value> = std
        .iter()
        .map(|c| Value::Standard(*c))
        .chain(large.iter().map(|c| Value::Large(*c)))
        .collect();
    for v in &values {
        if *v == Value::Standard(Community::NO_EXPORT) {
            out.push(Applied {
                by: None,
                effect: Effect::NoExport,
                note: "65535:65281 NO_EXPORT (RFC 1997)".into(),
            });
            continue;
        }
        for p in providers.iter() {
            for e in &p.entries {
                let Some(target) = matches(e, v) else {
                    continue;
                };
                let to = target.map(|a| a.0);
                let effect = match e.action {
                    Action::NoAnnounce => Effect::NoAnnounce {
                        to,
                        region: e.region,
                    },
                    Action::Prepend => Effect::Prepend {
                        to,
                        region: e.region,
                        times: e.times.unwrap_or(1),
                    },
                    Action::NoExport => Effect::NoExport,
                    Action::LocalPref => match e.level {
                        Some(level) => Effect::LocalPref {
                            region: e.region,
                            level,
                        },
                        None => continue,
                    },
                };
                let a = Applied {
                    by: Some(p.asn.0),
                    effect,
                    note: format!(
                        "{v}: {} {}",
                        p.name,
                        e.meaning
                            .replace("{asn}", &to.map(|t| t.to_string()).unwrap_or_default())
                    ),
                };
                if !out.contains(&a) {
                    out.push(a);
                }
            }
        }
    }
    out
}

/// Does community `v` carry entry `e`? `Some(None)` for a target-all entry, `Some(Some(asn))`
/// for a per-neighbour one.
fn matches(e: &Entry, v: &Value) -> Option<Option<Asn>> {
    match e.target {
        Target::All => (e.value(None).as_ref() == Some(v)).then_some(None),
        Target::Peer => {
            if let Some(p) = e.peer {
                return (e.value(Some(p)).as_ref() == Some(v)).then_some(Some(p));
            }
            // Find the `{asn}` slot by filling two different ASNs.
            let (a, b) = (e.value(Some(Asn(1)))?, e.value(Some(Asn(2)))?);
            let asn = match (a, b, v) {
                (Value::Standard(a), Value::Standard(b), Value::Standard(c)) => {
                    if a.high() != b.high() && a.low() == c.low() {
                        c.high() as u32
                    } else if a.low() != b.low() && a.high() == c.high() {
                        c.low() as u32
                    } else {
                        return None;
                    }
                }
                (Value::Large(a), Value::Large(b), Value::Large(c)) => {
                    let (x, y, z) = (
                        (a.global, a.local1, a.local2),
                        (b.global, b.local1, b.local2),
                        (c.global, c.local1, c.local2),
                    );
                    if x.0 != y.0 {
                        c.global
                    } else if x.1 != y.1 {
                        c.local1
                    } else if x.2 != y.2 {
                        c.local2
                    } else {
                        let _ = z;
                        return None;
                    }
                }
                _ => return None,
            };
            let asn = Asn(asn);
            (e.value(Some(asn)).as_ref() == Some(v)).then_some(Some(asn))
        }
    }
}
