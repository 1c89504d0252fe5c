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
        if matches!(
            n.kind,
            NodeKind::Site | NodeKind::Probe | NodeKind::Collector
        ) {
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
                        .entry(site.id.to_string())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orchestrate::load;
    use crate::topology::design;
    use std::path::Path;

    fn lab(name: &str) -> (crate::orchestrate::Loaded, Topology) {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/lab")
            .join(name);
        let l = load(&p).unwrap();
        let t = design(&l.net, &l.lab, &l.providers).unwrap();
        (l, t)
    }

    #[test]
    fn lab_topology_converts() {
        let (_, t) = lab("tern.toml");
        let s = sim_graph(&t);
        let routers = t
            .nodes
            .iter()
            .filter(|n| {
                !matches!(
                    n.kind,
                    NodeKind::Site | NodeKind::Probe | NodeKind::Collector
                )
            })
            .count();
        assert_eq!(s.graph.len(), routers);
        assert_eq!(s.attachments.len(), t.sites.len());
        assert_eq!(s.clients.clients.len(), t.of_kind(NodeKind::Probe).count());
        // Carriers keep their real AS as `represents` and one node per region.
        assert_eq!(s.graph.of_as(174).len(), 3);
    }

    fn picks(name: &str) -> Vec<(String, Option<String>)> {
        picks_of(name, None)
    }

    /// Per probe's eyeball: the site a router would pick for `prefix` (default: the anycast one).
    fn picks_of(name: &str, prefix: Option<&str>) -> Vec<(String, Option<String>)> {
        let (mut l, t) = lab(name);
        if let Some(p) = prefix {
            // Regional anycast: the prefix announced by ams and nrt only.
            let p: tern_types::Prefix = p.parse().unwrap();
            let ams: tern_types::SiteId = "ams".parse().unwrap();
            let nrt: tern_types::SiteId = "nrt".parse().unwrap();
            let mut pp = l.net.prefixes[0].clone();
            pp.prefix = p;
            pp.role = tern_model::Role::Regional(vec![ams.clone(), nrt.clone()]);
            l.net.prefixes.push(pp);
            for s in &mut l.net.sites {
                if s.id == ams || s.id == nrt {
                    s.announces.push(p);
                }
            }
        }
        let s = sim_graph(&t);
        let attach = |site: &tern_model::Site, u: &tern_model::Upstream| {
            s.attach(site.id.as_str(), u.provider.as_deref())
        };
        let opts = tern_sim::Options {
            prefix: prefix.map(|p| p.parse().unwrap()),
            ..tern_sim::Options::default()
        };
        let att = tern_sim::model::scenario(&l.net, &l.providers, &attach, &opts).unwrap();
        let sc = &att.scenario;
        let pick = tern_sim::propagate(&s.graph, sc, tern_sim::Mode::Pick);
        s.clients
            .clients
            .iter()
            .map(|c| {
                let site = pick.routes[c.node as usize]
                    .map(|r| sc.sites[sc.origins[r.pick as usize].site].clone());
                (s.graph.node(c.node).name.clone(), site)
            })
            .collect()
    }

    #[test]
    fn design_catchment_is_predicted() {
        // The lab's design: every probe reaches the site of its own region.
        for (eye, site) in picks("tern.toml") {
            let want = match &eye[4..6] {
                "eu" => "ams",
                "na" => "ewr",
                _ => "nrt",
            };
            assert_eq!(site.as_deref(), Some(want), "{eye}");
        }
        // A 3x prepend at ewr: North America leaves ewr (for ams: the carriers' European
        // routers have the lower router ids), the rest stays.
        for (eye, site) in picks("tern-prepend.toml") {
            let want = match &eye[4..6] {
                "as" => "nrt",
                _ => "ams",
            };
            assert_eq!(site.as_deref(), Some(want), "{eye}");
        }
    }

    #[test]
    fn regional_anycast_is_predicted() {
        // Announced by ams and nrt only: North America goes to ams (its carriers' European
        // routers have the lower router ids), Europe and Asia stay home.
        for (eye, site) in picks_of("tern.toml", Some("2001:db8:c4::/48")) {
            let want = match &eye[4..6] {
                "as" => "nrt",
                _ => "ams",
            };
            assert_eq!(site.as_deref(), Some(want), "{eye}");
        }
    }
}
