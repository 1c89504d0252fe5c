//! Who connects to whom: sites to their provider routers, provider routers to every carrier's
//! router in their region, each carrier's routers in an iBGP full mesh, carriers peering in
//! every region, eyeballs buying from one carrier each, probes behind their eyeball; with
//! interface names and one-way delays. The link networks come from [`LinkNets`].

use super::addresses::LinkNets;
use super::nodes::Plan;
use super::{Link, LinkKind, Node};
use crate::geo;

/// Linux interface names are at most 15 bytes (IFNAMSIZ - 1).
const IFNAME_MAX: usize = 15;

/// Every link of the lab, in a fixed order (the link networks are numbered in it).
pub(super) fn plan(p: &Plan, nets: &mut LinkNets, base: f64) -> Vec<Link> {
    let mut b = Links {
        nodes: &p.nodes,
        links: Vec::new(),
        base,
    };
    // A site and its provider router have an IPv4 session only when tern.toml has one.
    for (s, pr, v4) in &p.site_provider {
        b.link(nets, *s, *pr, LinkKind::Transit, *v4);
    }
    for (_, pr, _) in &p.site_provider {
        let rp = p.region_pos(p.nodes[*pr].region);
        for pops in &p.carriers {
            b.link(nets, *pr, pops[rp], LinkKind::Transit, true);
        }
    }
    for pops in &p.carriers {
        for i in 0..pops.len() {
            for j in i + 1..pops.len() {
                b.link(nets, pops[i], pops[j], LinkKind::Internal, true);
            }
        }
    }
    for ri in 0..p.regions.len() {
        for c1 in 0..p.carriers.len() {
            for c2 in c1 + 1..p.carriers.len() {
                b.link(
                    nets,
                    p.carriers[c1][ri],
                    p.carriers[c2][ri],
                    LinkKind::Peer,
                    true,
                );
            }
        }
    }
    for e in &p.eyeballs {
        let carrier = &p.carriers[e.nth % p.carriers.len()];
        b.link(
            nets,
            e.node,
            carrier[p.region_pos(e.region)],
            LinkKind::Transit,
            true,
        );
        b.access(e.probe, e.node);
    }
    // The route collector: one IPv6 session from every carrier router (as RIS peers are).
    if let Some(c) = p.collector {
        for pops in &p.carriers {
            for r in pops {
                b.link(nets, *r, c, LinkKind::Monitor, false);
            }
        }
    }
    b.links
}

struct Links<'a> {
    nodes: &'a [Node],
    links: Vec<Link>,
    base: f64,
}

impl Links<'_> {
    /// A free interface name in node `at` for a link to `peer`.
    fn ifname(&self, at: usize, peer: usize) -> String {
        let used: Vec<&str> = self
            .links
            .iter()
            .filter_map(|l| {
                if l.a == at {
                    Some(l.a_if.as_str())
                } else if l.b == at {
                    Some(l.b_if.as_str())
                } else {
                    None
                }
            })
            .collect();
        let mut name: String = self.nodes[peer].name.chars().take(IFNAME_MAX).collect();
        let mut k = 0;
        while used.contains(&name.as_str()) || name == "lo" || name == "anycast" {
            k += 1;
            name = format!("l{}", self.links.len() * 10 + k);
        }
        name
    }

    fn delay(&self, a: usize, b: usize) -> f64 {
        let (pa, pb) = (&self.nodes[a].place, &self.nodes[b].place);
        geo::delay_ms((pa.lat, pa.lon), (pb.lat, pb.lon), self.base)
    }

    /// A BGP link; with an IPv4 network too when `v4` and the lab still has one.
    fn link(&mut self, nets: &mut LinkNets, a: usize, b: usize, kind: LinkKind, v4: bool) {
        let (a_if, b_if) = (self.ifname(a, b), self.ifname(b, a));
        let delay_ms = self.delay(a, b);
        let n = nets.next(self.links.len(), v4);
        self.links.push(Link {
            a,
            b,
            kind,
            a_if,
            b_if,
            a_addr: n.a,
            b_addr: n.b,
            plen: n.plen,
            a_addr4: n.a4,
            b_addr4: n.b4,
            plen4: n.plen4,
            delay_ms,
        });
    }

    /// A probe behind its eyeball router, on the first /64 of the eyeball's prefix.
    fn access(&mut self, probe: usize, eyeball: usize) {
        let (a_if, b_if) = (self.ifname(probe, eyeball), self.ifname(eyeball, probe));
        let n = LinkNets::access(&self.nodes[probe]);
        self.links.push(Link {
            a: probe,
            b: eyeball,
            kind: LinkKind::Access,
            a_if,
            b_if,
            a_addr: n.a,
            b_addr: n.b,
            plen: n.plen,
            a_addr4: n.a4,
            b_addr4: n.b4,
            plen4: n.plen4,
            delay_ms: self.base,
        });
    }
}
