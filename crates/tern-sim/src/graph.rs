//! The routing graph: dense node indices, compressed adjacency, typed relationships.
//!
//! A node is one BGP speaker standing for an AS: the whole AS on an AS-level graph (CAIDA), or
//! one router of it (the lab's `cogent-eu`, or a carrier split into regional nodes with
//! [`GraphBuilder::split_regional`]). Nodes of one AS are joined by iBGP ([`Rel::Internal`]).
//! The adjacency is one flat array per node range (CSR), so a propagation touches memory in
//! order; an ASN → node map serves look-ups. Both the CAIDA reader ([`crate::asrel`]) and the
//! lab (`tern_lab::simgraph`) produce this type, so one engine simulates both.

use std::collections::HashMap;

use serde::Serialize;
use tern_model::policy::Region;

use crate::asrel::{AsRelFile, LinkKind};

/// What a neighbour is to a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rel {
    /// The neighbour buys transit from us.
    Customer,
    /// Settlement-free peer.
    Peer,
    /// We buy transit from the neighbour.
    Provider,
    /// Another router of our AS (iBGP).
    Internal,
}

impl Rel {
    /// The relationship seen from the other end.
    pub fn reverse(self) -> Rel {
        match self {
            Rel::Customer => Rel::Provider,
            Rel::Provider => Rel::Customer,
            r => r,
        }
    }
}

/// One node.
#[derive(Clone, Debug, Serialize)]
pub struct Node {
    /// The AS number on the AS path (a lab router's private lab AS).
    pub asn: u32,
    /// The real AS it stands for: targets of intents ("do not announce to AS6939") and the
    /// provider dictionary it honours are looked up by this one.
    pub represents: u32,
    /// Region (`None`: unknown; regional effects then do not apply to it).
    pub region: Option<Region>,
    /// BGP router id, the last tie-break (lowest wins, as in BIRD and RFC 4271 §9.1.2.2 f).
    pub router_id: u32,
    /// Display name (lab node name, `AS3356`, `AS174@europe`).
    pub name: String,
}

/// The graph.
#[derive(Clone, Debug)]
pub struct Graph {
    nodes: Vec<Node>,
    start: Vec<u32>,
    nbr: Vec<u32>,
    rel: Vec<Rel>,
    /// Per node: adjacencies that take any route (customers, then iBGP), a prefix of its range.
    export_end: Vec<u32>,
    /// Per node: its AS has more nodes (loop checks needed).
    multi: Vec<bool>,
    /// Per node: router id (hot in tie-breaks).
    rid: Vec<u32>,
    by_asn: HashMap<u32, Vec<u32>>,
}

impl Graph {
    /// Adjacencies of `i` that hear non-customer routes too (customers and iBGP neighbours).
    pub(crate) fn export_end(&self, i: u32) -> usize {
        self.export_end[i as usize] as usize
    }

    /// Does node `i`'s AS have other nodes?
    pub(crate) fn multi(&self, i: u32) -> bool {
        self.multi[i as usize]
    }

    /// Router id of node `i`.
    pub(crate) fn router_id(&self, i: u32) -> u32 {
        self.rid[i as usize]
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// No nodes?
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Number of adjacencies (each link counts twice).
    pub fn adjacencies(&self) -> usize {
        self.nbr.len()
    }

    /// One node.
    pub fn node(&self, i: u32) -> &Node {
        &self.nodes[i as usize]
    }

    /// Every node.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Neighbours of `i` and what each is to `i` (customers, iBGP, peers, providers; each by
    /// index).
    pub fn neighbours(&self, i: u32) -> impl Iterator<Item = (u32, Rel)> + '_ {
        let (s, e) = (
            self.start[i as usize] as usize,
            self.start[i as usize + 1] as usize,
        );
        self.nbr[s..e]
            .iter()
            .copied()
            .zip(self.rel[s..e].iter().copied())
    }

    /// Raw adjacency slices of `i` (neighbours, relationships), for the engine's inner loop.
    pub(crate) fn adjacency(&self, i: u32) -> (&[u32], &[Rel]) {
        let (s, e) = (
            self.start[i as usize] as usize,
            self.start[i as usize + 1] as usize,
        );
        (&self.nbr[s..e], &self.rel[s..e])
    }

    /// Nodes standing for AS `asn` (by [`Node::represents`]), in index order.
    pub fn of_as(&self, asn: u32) -> &[u32] {
        self.by_asn.get(&asn).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The node of `asn` in `region`, else any node of it.
    pub fn of_as_in(&self, asn: u32, region: Option<Region>) -> Option<u32> {
        let v = self.of_as(asn);
        v.iter()
            .copied()
            .find(|i| region.is_some() && self.nodes[*i as usize].region == region)
            .or_else(|| v.first().copied())
    }

    /// An AS-level graph from a relationship file: one node per AS, router id = ASN.
    pub fn from_asrel(f: &AsRelFile) -> Graph {
        let mut b = GraphBuilder::default();
        for l in &f.links {
            let a = b.as_node(l.a);
            let c = b.as_node(l.b);
            match l.kind {
                LinkKind::ProviderCustomer => b.link(a, c, Rel::Customer),
                LinkKind::Peer => b.link(a, c, Rel::Peer),
            }
        }
        b.build()
    }
}

/// Builds a [`Graph`]: nodes, then links, then [`GraphBuilder::build`].
#[derive(Clone, Debug, Default)]
pub struct GraphBuilder {
    nodes: Vec<Node>,
    /// (a, b, what b is to a).
    links: Vec<(u32, u32, Rel)>,
    asn_node: HashMap<u32, u32>,
}

impl GraphBuilder {
    /// Adds a node, returns its index.
    pub fn node(&mut self, node: Node) -> u32 {
        self.nodes.push(node);
        (self.nodes.len() - 1) as u32
    }

    /// The one node of an AS-level graph for `asn`, created on first use.
    pub fn as_node(&mut self, asn: u32) -> u32 {
        if let Some(i) = self.asn_node.get(&asn) {
            return *i;
        }
        let i = self.node(Node {
            asn,
            represents: asn,
            region: None,
            router_id: asn,
            name: format!("AS{asn}"),
        });
        self.asn_node.insert(asn, i);
        i
    }

    /// A link: `b` is `rel` to `a`.
    pub fn link(&mut self, a: u32, b: u32, rel: Rel) {
        self.links.push((a, b, rel));
    }

    /// Nodes so far.
    pub fn nodes_mut(&mut self) -> &mut [Node] {
        &mut self.nodes
    }

    /// Splits node `i` into one node per region (the first keeps index `i`), joined by iBGP in
    /// a full mesh. A neighbour whose region is one of them is linked to that regional node
    /// only; a neighbour of another or unknown region to all of them. Returns the nodes, in
    /// the order of `regions`.
    pub fn split_regional(&mut self, i: u32, regions: &[Region]) -> Vec<u32> {
        if regions.is_empty() {
            return vec![i];
        }
        let base = self.nodes[i as usize].clone();
        let mut parts = vec![i];
        self.nodes[i as usize].region = Some(regions[0]);
        self.nodes[i as usize].name = format!("{}@{}", base.name, regions[0]);
        for (k, r) in regions.iter().enumerate().skip(1) {
            let n = self.node(Node {
                region: Some(*r),
                name: format!("{}@{r}", base.name),
                router_id: base.router_id.wrapping_add(k as u32 * 0x0100_0000),
                ..base.clone()
            });
            parts.push(n);
        }
        let old = std::mem::take(&mut self.links);
        for (a, b, rel) in old {
            let (me, other, rel_other) = if a == i {
                (a, b, rel)
            } else if b == i {
                (b, a, rel.reverse())
            } else {
                self.links.push((a, b, rel));
                continue;
            };
            let _ = me;
            let or = self.nodes[other as usize].region;
            let target: Vec<u32> = match regions.iter().position(|r| Some(*r) == or) {
                Some(k) => vec![parts[k]],
                None => parts.clone(),
            };
            for t in target {
                self.links.push((t, other, rel_other));
            }
        }
        for x in 0..parts.len() {
            for y in x + 1..parts.len() {
                self.links.push((parts[x], parts[y], Rel::Internal));
            }
        }
        parts
    }

    /// The graph; each node's adjacency holds customers, iBGP neighbours, peers, providers, each
    /// group by neighbour index.
    pub fn build(self) -> Graph {
        let n = self.nodes.len();
        let mut deg = vec![0u32; n + 1];
        let mut links = self.links;
        links.sort_unstable_by_key(|l| (l.0.min(l.1), l.0.max(l.1)));
        links.dedup_by_key(|l| (l.0.min(l.1), l.0.max(l.1)));
        for (a, b, _) in &links {
            deg[*a as usize] += 1;
            deg[*b as usize] += 1;
        }
        let mut start = vec![0u32; n + 1];
        for i in 0..n {
            start[i + 1] = start[i] + deg[i];
        }
        let mut fill = start.clone();
        let total = start[n] as usize;
        let mut nbr = vec![0u32; total];
        let mut rel = vec![Rel::Peer; total];
        for (a, b, r) in &links {
            let pa = fill[*a as usize] as usize;
            nbr[pa] = *b;
            rel[pa] = *r;
            fill[*a as usize] += 1;
            let pb = fill[*b as usize] as usize;
            nbr[pb] = *a;
            rel[pb] = r.reverse();
            fill[*b as usize] += 1;
        }
        let order = |r: Rel| match r {
            Rel::Customer => 0,
            Rel::Internal => 1,
            Rel::Peer => 2,
            Rel::Provider => 3,
        };
        let mut export_end = vec![0u32; n];
        for i in 0..n {
            let (s, e) = (start[i] as usize, start[i + 1] as usize);
            let mut pairs: Vec<(u32, Rel)> = nbr[s..e]
                .iter()
                .copied()
                .zip(rel[s..e].iter().copied())
                .collect();
            pairs.sort_unstable_by_key(|p| (order(p.1), p.0));
            export_end[i] = pairs.iter().filter(|p| order(p.1) <= 1).count() as u32;
            for (k, (x, r)) in pairs.into_iter().enumerate() {
                nbr[s + k] = x;
                rel[s + k] = r;
            }
        }
        let mut by_asn: HashMap<u32, Vec<u32>> = HashMap::new();
        let mut by_path_asn: HashMap<u32, usize> = HashMap::new();
        for (i, nd) in self.nodes.iter().enumerate() {
            by_asn.entry(nd.represents).or_default().push(i as u32);
            *by_path_asn.entry(nd.asn).or_default() += 1;
        }
        let multi = self
            .nodes
            .iter()
            .map(|nd| by_path_asn[&nd.asn] > 1)
            .collect();
        let rid = self.nodes.iter().map(|nd| nd.router_id).collect();
        Graph {
            nodes: self.nodes,
            start,
            nbr,
            rel,
            export_end,
            multi,
            rid,
            by_asn,
        }
    }
}

impl GraphBuilder {
    /// A builder holding an AS-level graph from a relationship file (for splitting before
    /// [`GraphBuilder::build`]).
    pub fn from_asrel(f: &AsRelFile) -> GraphBuilder {
        let mut b = GraphBuilder::default();
        for l in &f.links {
            let a = b.as_node(l.a);
            let c = b.as_node(l.b);
            match l.kind {
                LinkKind::ProviderCustomer => b.link(a, c, Rel::Customer),
                LinkKind::Peer => b.link(a, c, Rel::Peer),
            }
        }
        b
    }

    /// An AS-level graph with regions for ASes (from their probes) and some ASes split into
    /// regional nodes ([`GraphBuilder::split_regional`]); splits of ASes not in the file are
    /// ignored.
    pub fn asrel_split(
        f: &AsRelFile,
        regions: &HashMap<u32, Region>,
        splits: &[(u32, Vec<Region>)],
    ) -> Graph {
        let mut b = GraphBuilder::from_asrel(f);
        for nd in &mut b.nodes {
            nd.region = regions.get(&nd.asn).copied();
        }
        for (asn, rs) in splits {
            if let Some(i) = b.find_as(*asn) {
                b.split_regional(i, rs);
            }
        }
        b.build()
    }

    /// The node of an AS added by [`GraphBuilder::as_node`].
    pub fn find_as(&self, asn: u32) -> Option<u32> {
        self.asn_node.get(&asn).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asrel;

    #[test]
    fn csr_and_relationships() {
        let f = asrel::parse(b"1|2|-1\n2|3|0\n", "t").unwrap();
        let g = Graph::from_asrel(&f);
        assert_eq!(g.len(), 3);
        let two = g.of_as(2)[0];
        let n: Vec<(u32, Rel)> = g.neighbours(two).map(|(x, r)| (g.node(x).asn, r)).collect();
        assert_eq!(n, vec![(3, Rel::Peer), (1, Rel::Provider)]);
    }

    #[test]
    fn split_links_neighbours_by_region() {
        let f = asrel::parse(b"1|2|-1\n1|3|-1\n1|4|0\n", "t").unwrap();
        let mut b = GraphBuilder::from_asrel(&f);
        let two = b.find_as(2).unwrap();
        b.nodes_mut()[two as usize].region = Some(Region::Europe);
        let one = b.find_as(1).unwrap();
        let parts = b.split_regional(one, &[Region::Europe, Region::Asia]);
        let g = b.build();
        assert_eq!(g.of_as(1).len(), 2);
        let eu: Vec<u32> = g.neighbours(parts[0]).map(|(x, _)| g.node(x).asn).collect();
        let asia: Vec<u32> = g.neighbours(parts[1]).map(|(x, _)| g.node(x).asn).collect();
        // AS2 (Europe) only at the European node; 3 and 4 (unknown region) at both; iBGP.
        assert_eq!(eu, vec![2, 3, 1, 4]);
        assert_eq!(asia, vec![3, 1, 4]);
        assert!(
            g.neighbours(parts[1])
                .any(|(x, r)| x == parts[0] && r == Rel::Internal)
        );
    }
}
