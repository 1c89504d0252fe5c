//! Clients: RIPE Atlas probes (or lab probes) mapped to graph nodes, and what each is predicted
//! to reach.
//!
//! A probe maps to its AS of the simulated prefix's family (`asn_v6` for an IPv6 prefix,
//! `asn_v4` for IPv4: a probe without one cannot reach that address) and, for an AS split into
//! regional nodes, to the node of its own region. Probes without that AS, or whose AS is not in
//! the graph, are counted, never guessed.

use std::collections::BTreeMap;

use serde::Serialize;
use tern_atlas::ProbeSet;
use tern_types::Afi;

use crate::geo;
use crate::graph::Graph;
use crate::policy::Scenario;
use crate::propagate::Outcome;

/// A probe placed on the graph.
#[derive(Clone, Debug, Serialize)]
pub struct Client {
    /// Probe id.
    pub prb_id: u32,
    /// Country code.
    pub country: Option<String>,
    /// Continent code.
    pub continent: Option<&'static str>,
    /// Latitude.
    pub lat: Option<f64>,
    /// Longitude.
    pub lon: Option<f64>,
    /// Its AS.
    pub asn: u32,
    /// Its node.
    pub node: u32,
}

/// Probes on the graph, and the ones left out.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Clients {
    /// Placed probes, by probe id.
    pub clients: Vec<Client>,
    /// Probes without an AS of the family.
    pub no_asn: usize,
    /// Probes whose AS is not in the graph.
    pub not_in_graph: usize,
    /// Those ASes (sorted, deduplicated).
    pub missing_asns: Vec<u32>,
}

/// Places RIPE Atlas probes for a prefix of family `afi`.
pub fn place(g: &Graph, probes: &ProbeSet, afi: Afi) -> Clients {
    let mut out = Clients::default();
    let mut ids: Vec<&u32> = probes.probes.keys().collect();
    ids.sort_unstable();
    for id in ids {
        let p = &probes.probes[id];
        let asn = match afi {
            Afi::Ipv6 => p.asn_v6,
            Afi::Ipv4 => p.asn_v4,
        };
        let Some(asn) = asn else {
            out.no_asn += 1;
            continue;
        };
        let region = geo::probe_region(p.lat, p.lon, p.country.as_deref());
        let Some(node) = g.of_as_in(asn, region) else {
            out.not_in_graph += 1;
            out.missing_asns.push(asn);
            continue;
        };
        out.clients.push(Client {
            prb_id: p.id,
            country: p.country.clone(),
            continent: p.country.as_deref().and_then(tern_atlas::geo::continent_of),
            lat: p.lat,
            lon: p.lon,
            asn,
            node,
        });
    }
    out.missing_asns.sort_unstable();
    out.missing_asns.dedup();
    out
}

/// What a node is predicted to reach.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reach {
    /// Every site an equally good route leads to (empty: no route).
    pub sites: Vec<String>,
    /// More than one site.
    pub tied: bool,
    /// The site of the route a router would choose (lowest neighbour router id).
    pub pick: Option<String>,
    /// AS path of the chosen route, the node's own AS first, our AS last (prepends shown).
    pub path: Vec<u32>,
}

impl Reach {
    /// The label used in shares and transitions: the site, `a|b` for a tie, `none`.
    pub fn label(&self) -> String {
        if self.sites.is_empty() {
            "none".into()
        } else {
            self.sites.join("|")
        }
    }
}

/// The reach of node `i`, from a `Sets` and a `Pick` outcome of the same scenario.
pub fn reach(
    g: &Graph,
    sc: &Scenario,
    sets: &Outcome,
    pick: &Outcome,
    our_asn: u32,
    i: u32,
) -> Reach {
    let sites = sets.routes[i as usize]
        .map(|r| sc.names(sc.sites_of(r.origins)))
        .unwrap_or_default();
    let chosen = pick.routes[i as usize];
    let mut path: Vec<u32> = Vec::new();
    for n in pick.path(i) {
        let asn = g.node(n).asn;
        if path.last() != Some(&asn) {
            path.push(asn);
        }
    }
    if let Some(o) = chosen.and_then(|r| sc.origins.get(r.pick as usize)) {
        for _ in 0..=o.prepend {
            path.push(our_asn);
        }
    }
    Reach {
        tied: sites.len() > 1,
        sites,
        pick: chosen
            .and_then(|r| sc.origins.get(r.pick as usize))
            .map(|o| sc.sites[o.site].clone()),
        path,
    }
}

/// Probes of one group by predicted site.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Share {
    /// Group key (site, country or continent code; `all`).
    pub key: String,
    /// Probes in the group.
    pub probes: usize,
    /// Untied probes per site.
    pub sites: BTreeMap<String, usize>,
    /// Probes whose AS is tied between sites.
    pub tied: usize,
    /// Probes with no route.
    pub unreachable: usize,
}

/// Shares of (key, reach) pairs, grouped by key, most probes first.
pub fn shares<'a>(rows: impl Iterator<Item = (String, &'a Reach)>) -> Vec<Share> {
    let mut m: BTreeMap<String, Share> = BTreeMap::new();
    for (k, r) in rows {
        let s = m.entry(k.clone()).or_insert_with(|| Share {
            key: k,
            ..Share::default()
        });
        s.probes += 1;
        if r.sites.is_empty() {
            s.unreachable += 1;
        } else if r.tied {
            s.tied += 1;
        } else {
            *s.sites.entry(r.sites[0].clone()).or_default() += 1;
        }
    }
    let mut v: Vec<Share> = m.into_values().collect();
    v.sort_by(|a, b| b.probes.cmp(&a.probes).then(a.key.cmp(&b.key)));
    v
}

/// The region of each AS with probes: where most of its probes are (ties: the first region in
/// the order of [`Region`]'s declaration).
pub fn as_regions(probes: &ProbeSet) -> std::collections::HashMap<u32, tern_model::policy::Region> {
    let mut votes: std::collections::HashMap<u32, [usize; 7]> = std::collections::HashMap::new();
    for p in probes.probes.values() {
        let Some(r) = geo::probe_region(p.lat, p.lon, p.country.as_deref()) else {
            continue;
        };
        let mut asns = vec![];
        asns.extend(p.asn_v4);
        if p.asn_v6 != p.asn_v4 {
            asns.extend(p.asn_v6);
        }
        for a in asns {
            votes.entry(a).or_default()[geo::region_index(r)] += 1;
        }
    }
    votes
        .into_iter()
        .filter_map(|(a, v)| {
            let (k, n) = v
                .iter()
                .enumerate()
                .max_by(|x, y| x.1.cmp(y.1).then(y.0.cmp(&x.0)))?;
            (*n > 0).then(|| (a, geo::REGIONS[k]))
        })
        .collect()
}
