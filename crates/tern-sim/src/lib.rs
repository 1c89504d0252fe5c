//! tern-sim: the catchment of a tern.toml on an AS graph, before touching the Internet.
//!
//! Place in the architecture (ARCHITECTURE.md): below the `tern` binary (`tern simulate`), above
//! tern-model (the network and provider dictionaries) and tern-atlas (probe metadata, the
//! transition form of diffs). Synchronous and CPU-bound; [`propagate_many`] spreads
//! configurations over cores with rayon. No network I/O; [`asrel::read`] reads one file.
//!
//! Pipeline: [`asrel`] (CAIDA files) → [`graph::Graph`] (dense, CSR; the lab's topology is
//! converted to the same type by `tern_lab::simgraph`) → [`model::scenario`] (tern.toml →
//! origins and typed [`policy::Effect`]s) → [`propagate::propagate`] (Gao-Rexford, ties as
//! sets) → [`clients`] (probes → nodes → predicted site, tie set, AS path) → [`Report`].

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod asrel;
pub mod clients;
pub mod geo;
pub mod graph;
pub mod model;
pub mod policy;
pub mod propagate;

use rayon::prelude::*;
use serde::Serialize;
use tern_model::{Network, Providers};

pub use graph::{Graph, GraphBuilder, Node, Rel};
pub use model::{Attachments, ModelError, Options};
pub use policy::{Applied, Effect, Origin, Scenario};
pub use propagate::{Mode, Outcome, Route, propagate};

use clients::{Clients, Reach, Share};

/// Propagates many scenarios in parallel (rayon) and hands each outcome to `f` (which keeps
/// what it needs: a full outcome is ~1.5 MB on the CAIDA graph); results in input order.
pub fn propagate_many<T, F>(g: &Graph, scenarios: &[Scenario], mode: Mode, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(&Scenario, &Outcome) -> T + Sync + Send,
{
    scenarios
        .par_iter()
        .map(|s| f(s, &propagate(g, s, mode)))
        .collect()
}

/// Nodes per site that reach only that site, and tied nodes: the usual summary of one
/// configuration in a search.
pub fn site_counts(sc: &Scenario, o: &Outcome) -> (Vec<usize>, usize) {
    let mut c = vec![0usize; sc.sites.len()];
    let mut tied = 0;
    for r in o.routes.iter().flatten() {
        let s = sc.sites_of(r.origins);
        if s.count_ones() == 1 {
            c[s.trailing_zeros() as usize] += 1;
        } else {
            tied += 1;
        }
    }
    (c, tied)
}

/// One origin as reported.
#[derive(Clone, Debug, Serialize)]
pub struct OriginReport {
    /// Site.
    pub site: String,
    /// Session.
    pub upstream: String,
    /// The provider node.
    pub node: String,
    /// Its AS.
    pub asn: u32,
    /// Our prepends on the session.
    pub prepend: u8,
    /// Effects of its communities.
    pub effects: Vec<Applied>,
}

/// One probe's prediction.
#[derive(Clone, Debug, Serialize)]
pub struct ProbeReach {
    /// The probe and its node.
    #[serde(flatten)]
    pub client: clients::Client,
    /// Node name.
    pub node_name: String,
    /// What it reaches.
    #[serde(flatten)]
    pub reach: Reach,
}

/// One node's prediction (`--all-ases`).
#[derive(Clone, Debug, Serialize)]
pub struct NodeReach {
    /// Node name.
    pub node: String,
    /// AS.
    pub asn: u32,
    /// What it reaches.
    #[serde(flatten)]
    pub reach: Reach,
}

/// The result of simulating one configuration.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The prefix.
    pub prefix: tern_types::Prefix,
    /// Our AS.
    pub asn: u32,
    /// Sites.
    pub sites: Vec<String>,
    /// Attached sessions.
    pub origins: Vec<OriginReport>,
    /// Sessions left out.
    pub skipped: Vec<model::Skipped>,
    /// Sites not announcing the prefix.
    pub silent: Vec<String>,
    /// Nodes in the graph.
    pub nodes: usize,
    /// The propagation hit its work budget (result not a stable state).
    pub unstable: bool,
    /// Nodes per predicted site (all nodes of the graph).
    pub node_shares: Share,
    /// Per probe.
    pub probes: Vec<ProbeReach>,
    /// Probes without an AS of the family.
    pub probes_no_asn: usize,
    /// Probes whose AS is not in the graph.
    pub probes_not_in_graph: usize,
    /// Those ASes.
    pub missing_asns: Vec<u32>,
    /// All probes.
    pub overall: Share,
    /// Per country.
    pub by_country: Vec<Share>,
    /// Per continent.
    pub by_continent: Vec<Share>,
    /// Every node (with `all_nodes`).
    pub all_nodes: Option<Vec<NodeReach>>,
}

/// Simulates `net` on `g`: scenario, both propagations, probes, shares.
pub fn simulate(
    g: &Graph,
    net: &Network,
    providers: &Providers,
    attach: &model::Attach<'_>,
    opts: &Options,
    clients: &Clients,
    all_nodes: bool,
) -> Result<Report, ModelError> {
    let att = model::scenario(net, providers, attach, opts)?;
    Ok(report(g, net.asn.0, att, clients, all_nodes))
}

/// The report of an already built scenario.
pub fn report(g: &Graph, asn: u32, att: Attachments, clients: &Clients, all_nodes: bool) -> Report {
    let sc = &att.scenario;
    let sets = propagate(g, sc, Mode::Sets);
    let pick = propagate(g, sc, Mode::Pick);
    let reach = |i: u32| clients::reach(g, sc, &sets, &pick, asn, i);
    let all: Vec<Reach> = (0..g.len() as u32).map(reach).collect();
    let probes: Vec<ProbeReach> = clients
        .clients
        .iter()
        .map(|c| ProbeReach {
            client: c.clone(),
            node_name: g.node(c.node).name.clone(),
            reach: all[c.node as usize].clone(),
        })
        .collect();
    let overall = clients::shares(probes.iter().map(|p| ("all".to_owned(), &p.reach)))
        .pop()
        .unwrap_or_else(|| Share {
            key: "all".into(),
            ..Share::default()
        });
    let node_shares = clients::shares(all.iter().map(|r| ("nodes".to_owned(), r)))
        .pop()
        .unwrap_or_default();
    Report {
        prefix: att.prefix,
        asn,
        sites: sc.sites.clone(),
        origins: sc
            .origins
            .iter()
            .map(|o| OriginReport {
                site: sc.sites[o.site].clone(),
                upstream: o.upstream.clone(),
                node: g.node(o.node).name.clone(),
                asn: g.node(o.node).asn,
                prepend: o.prepend,
                effects: o.effects.clone(),
            })
            .collect(),
        skipped: att.skipped.clone(),
        silent: att.silent.clone(),
        nodes: g.len(),
        unstable: sets.unstable || pick.unstable,
        node_shares,
        by_country: clients::shares(probes.iter().map(|p| {
            (
                p.client.country.clone().unwrap_or_else(|| "unknown".into()),
                &p.reach,
            )
        })),
        by_continent: clients::shares(
            probes
                .iter()
                .map(|p| (p.client.continent.unwrap_or("unknown").to_owned(), &p.reach)),
        ),
        overall,
        probes_no_asn: clients.no_asn,
        probes_not_in_graph: clients.not_in_graph,
        missing_asns: clients.missing_asns.clone(),
        all_nodes: all_nodes.then(|| {
            all.iter()
                .enumerate()
                .map(|(i, r)| NodeReach {
                    node: g.node(i as u32).name.clone(),
                    asn: g.node(i as u32).asn,
                    reach: r.clone(),
                })
                .collect()
        }),
        probes,
    }
}
