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
use tern_model::policy::CommunityValue;
use tern_model::{Network, Providers, Site, Upstream};
use tern_types::{Afi, Community, LargeCommunity, Prefix};

use crate::geo;
use crate::graph::Graph;
use crate::policy::{Applied, Effect, MAX_ORIGINS, Origin, Region, Scenario};

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
            for ap in &u.export.effects {
                if let Some(r) = ap.effect.region() {
                    let by = ap.by.0;
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
            let (mut communities, mut large) = (Vec::new(), Vec::new());
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
                effects: effects(providers, u, &communities, &large),
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

/// The typed effects of a session: what validation resolved (tern-model's policy model), plus
/// RFC 1997 NO_EXPORT (every AS honours it) and, for a drained site, its drain communities
/// looked up in the dictionaries.
pub fn effects(
    providers: &Providers,
    u: &Upstream,
    extra: &[Community],
    extra_large: &[LargeCommunity],
) -> Vec<Applied> {
    let mut out: Vec<Applied> = u
        .export
        .effects
        .iter()
        .map(|a| Applied {
            by: Some(a.by.0),
            effect: a.effect,
            note: format!(
                "{}: {} {}",
                a.community,
                a.provider.as_deref().unwrap_or("AS"),
                a.meaning
            ),
        })
        .collect();
    let values: Vec<CommunityValue> = u
        .export
        .communities
        .iter()
        .chain(extra)
        .map(|c| CommunityValue::Standard(*c))
        .chain(extra_large.iter().map(|c| CommunityValue::Large(*c)))
        .collect();
    for (k, v) in values.iter().enumerate() {
        if *v == CommunityValue::Standard(Community::NO_EXPORT) {
            push(
                &mut out,
                Applied {
                    by: None,
                    effect: Effect::NoExport,
                    note: "65535:65281: NO_EXPORT (RFC 1997)".into(),
                },
            );
            continue;
        }
        // Drain communities are not in the validated effects; look them up.
        if k < u.export.communities.len() {
            continue;
        }
        for p in providers.iter() {
            if let Some((e, asn)) = p.lookup(*v) {
                if let Some(effect) = e.effect(asn) {
                    push(
                        &mut out,
                        Applied {
                            by: Some(p.asn.0),
                            effect,
                            note: format!("{v}: {} {}", p.name, e.meaning_for(asn)),
                        },
                    );
                }
            }
        }
    }
    out
}

fn push(v: &mut Vec<Applied>, a: Applied) {
    if !v.iter().any(|x| x.by == a.by && x.effect == a.effect) {
        v.push(a);
    }
}
