//! The lab's topology as a tern-sim graph, so `tern simulate` can predict the lab's catchment
//! and be checked against what `tern lab measure` sees.
//!
//! Every router of the lab (provider routers, carrier routers per region, eyeballs) is one
//! node: its lab AS on the path, the real AS it stands for as `represents` (intent targets and
//! dictionaries are matched by it, as the lab's BIRD configs do), its region and its router id
//! (BIRD's last tie-break). Transit, peer and iBGP links keep their kind. Sites are not nodes:
//! each site's provider routers are its attachments. Each probe is a client of its eyeball
//! router, with the probe id `tern lab measure` gives it.

use std::collections::BTreeMap;

use tern_sim::clients::{Client, Clients};
use tern_sim::graph::{Graph, GraphBuilder, Node as SimNode, Rel};

use crate::measure::FIRST_PROBE_ID;
use crate::topology::{LinkKind, NodeKind, Topology};

/// The lab as a simulator sees it.
#[derive(Clone, Debug)]
pub struct SimLab {
    /// The routing graph.
    pub graph: Graph,
    /// Per site id: its provider routers (graph nodes) with the dictionary each honours.
    pub attachments: BTreeMap<String, Vec<(u32, Option<String>)>>,
    /// The lab's probes on the graph.
    pub clients: Clients,
}

/// Converts a lab topology.
pub fn sim_graph(topo: &Topology) -> SimLab {
    let mut b = GraphBuilder::default();
    let mut index: Vec<Option<u32>> = vec![None; topo.nodes.len()];
    for (i, n) in topo.nodes.iter().enumerate() {
        if matches!(n.kind, NodeKind::Site | NodeKind::Probe) {
            continue;
        }
        let asn = n.asn.unwrap_or(0);
        index[i] = Some(b.node(SimNode {
            asn,
            represents: n.represents.unwrap_or(asn),
            region: Some(n.region),
            router_id: u32::from(n.router_id),
            name: n.name.clone(),
        }));
    }
    let mut attachments: BTreeMap<String, Vec<(u32, Option<String>)>> = BTreeMap::new();
    let mut access: BTreeMap<usize, u32> = BTreeMap::new();
    for l in &topo.links {
        let (a, b_) = (&topo.nodes[l.a], &topo.nodes[l.b]);
        match (l.kind, index[l.a], index[l.b]) {
            (LinkKind::Transit, Some(x), Some(y)) => b.link(y, x, Rel::Customer),
            (LinkKind::Peer, Some(x), Some(y)) => b.link(x, y, Rel::Peer),
            (LinkKind::Internal, Some(x), Some(y)) => b.link(x, y, Rel::Internal),
            (LinkKind::Transit, None, Some(y)) if a.kind == NodeKind::Site => {
                if let Some(site) = topo.sites.iter().find(|s| s.node == l.a) {
                    attachments
                        .entry(site.id.clone())
                        .or_default()
                        .push((y, b_.dictionary.clone()));
                }
            }
            (LinkKind::Access, None, Some(y)) => {
                access.insert(l.a, y);
            }
            _ => {}
        }
    }
    let graph = b.build();
    let mut clients = Clients::default();
    for (k, i) in topo.of_kind(NodeKind::Probe).enumerate() {
        let n = &topo.nodes[i];
        let Some(&node) = access.get(&i) else {
            clients.not_in_graph += 1;
            continue;
        };
        clients.clients.push(Client {
            prb_id: FIRST_PROBE_ID + k as u32,
            country: Some(n.place.country.clone()),
            continent: tern_sim::geo::continent_of(&n.place.country),
            lat: Some(n.place.lat),
            lon: Some(n.place.lon),
            asn: graph.node(node).asn,
            node,
        });
    }
    SimLab {
        graph,
        attachments,
        clients,
    }
}

impl SimLab {
    /// The provider router a session of `site` attaches to: the one honouring the session's
    /// provider dictionary, else the site's only provider router.
    pub fn attach(&self, site: &str, provider: Option<&str>) -> Result<u32, String> {
        let v = self
            .attachments
            .get(site)
            .ok_or_else(|| format!("site {site} has no provider router in the lab"))?;
        if let Some(p) = provider {
            if let Some((n, _)) = v.iter().find(|(_, d)| d.as_deref() == Some(p)) {
                return Ok(*n);
            }
        }
        match v.as_slice() {
            [(n, _)] => Ok(*n),
            _ => Err(format!(
                "site {site}: no lab provider router for provider {}",
                provider.unwrap_or("(none)")
            )),
        }
    }
}
