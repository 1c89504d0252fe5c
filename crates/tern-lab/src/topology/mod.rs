//! The lab's design: which routers, links, addresses and probes emulate a tern.toml.
//!
//! Pure: a [`Network`] and its `[lab]` section in, a [`Topology`] out; nothing is created here
//! (that is [`crate::netns`] and [`crate::orchestrate`]). The design, in Gao-Rexford terms:
//!
//! - every **site** is a customer of one **provider router** per provider it has sessions with,
//!   standing at the site (`vultr-ams`), in the provider's lab AS (its documented private session
//!   AS when it has one, e.g. Vultr's 64515, otherwise a private AS allocated here);
//! - a handful of global **transit carriers** (`[lab] transits`, default Cogent and GTT) have one
//!   router per lab region (`cogent-eu`), the routers of one carrier joined by iBGP (full mesh);
//!   carriers peer with each other in every region; provider routers are customers of every
//!   carrier router in their region;
//! - in every probe region, **eyeball networks** (`eye-eu-1`) are customers of one carrier each
//!   (eyeball `n` of carrier `n mod carriers`), and each has one **client probe** (`probe-eu-1`).
//!
//! Routers of carriers and providers stand for real ASes (`represents`), so the action
//! communities of tern's provider dictionaries (which name real ASes) are honoured in the lab.
//!
//! Addresses are documentation prefixes only: link networks are `3fff:0:0:<link>::/64`
//! (`::1` on the customer/first side, `::2` on the other) and a /31 of `198.51.100.0/24`
//! (128 of them; a bigger lab runs IPv6 only and lists the IPv4 sessions it left out), eyeball
//! `n` announces `3fff:100:<n>::/48` and `203.0.113.<8(n-1)>/29`, its probe is
//! `3fff:100:<n>:1::2` and `.2` of the /29. Router ids are `198.51.100.<i+1>` in node order
//! (sites by name, their providers, carriers region by region, eyeballs), which fixes BIRD's
//! last tie-break (lowest router id) and so makes catchments reproducible. A network without an
//! IPv4 session gets no IPv4 at all; a site gets an IPv4 session only where tern.toml has one.
//!
//! Last come the **route collector** (`collector`, [`crate::collector`]) and its IPv6-only
//! monitoring links from every carrier router, so adding it moved no other address or router id.
//!
//! [`design`] runs three steps, one file each, by what they decide: `nodes` (which routers and
//! probes, their ASes, regions and places), `links` (who connects to whom, with which
//! relationship, interface names and delays) and `addresses` (every documentation address:
//! link networks, eyeball prefixes, probe and service addresses, router ids, the target).

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};
use tern_model::lab::{DEFAULT_BASE_DELAY_MS, RawLab};
use tern_model::policy::Region;
use tern_model::{Network, Providers};
use tern_types::{Afi, Prefix, SiteId};

use crate::error::LabError;
use crate::geo::Place;

mod addresses;
mod links;
mod nodes;

/// The route collector's node (and namespace suffix); see [`crate::collector`].
pub const COLLECTOR_NODE: &str = "collector";
/// The route collector's lab AS (private; RIS collectors are AS12654).
pub const COLLECTOR_ASN: u32 = 65500;

/// What a node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeKind {
    /// One of our sites (BIRD stand-in for `tern run`, plus the "which site" endpoints).
    Site,
    /// A provider's router at a site.
    Provider,
    /// A transit carrier's router in one region.
    Transit,
    /// An eyeball (access) network.
    Eyeball,
    /// A client probe host (no routing daemon).
    Probe,
    /// The route collector (as RIPE RIS has): BGP sessions from the carriers, MRT dumps, no
    /// announcements (see [`crate::collector`]).
    Collector,
}

/// One network namespace of the lab.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Node {
    /// Name inside the lab (`ams`, `vultr-ams`, `cogent-eu`, `eye-eu-1`, `probe-eu-1`).
    pub name: String,
    /// What it is.
    pub kind: NodeKind,
    /// Its AS in the lab (none for probes).
    pub asn: Option<u32>,
    /// The real AS it stands for (provider dictionaries are looked up by it).
    pub represents: Option<u32>,
    /// Provider dictionary id whose action communities this router honours.
    pub dictionary: Option<String>,
    /// Region.
    pub region: Region,
    /// Where it stands.
    pub place: Place,
    /// BGP router id.
    pub router_id: Ipv4Addr,
    /// The site it belongs to (sites and provider routers).
    pub site: Option<SiteId>,
    /// Eyeballs: the prefix they originate.
    pub prefix: Option<Prefix>,
    /// Sites: service addresses (anycast and unicast `::1`s); probes: their address.
    pub addrs: Vec<Ipv6Addr>,
    /// The same for IPv4 (first host of each IPv4 prefix; a probe's IPv4 address).
    #[serde(default)]
    pub addrs4: Vec<Ipv4Addr>,
    /// Eyeballs: the IPv4 prefix they originate.
    #[serde(default)]
    pub prefix4: Option<Prefix>,
}

/// How the two ends of a link relate (RFC 4271 has no word for it; Gao-Rexford does).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkKind {
    /// `a` is a customer of `b` (eBGP).
    Transit,
    /// Settlement-free peers (eBGP).
    Peer,
    /// Two routers of the same AS (iBGP).
    Internal,
    /// A probe (`a`) and its eyeball router (`b`): no BGP, a default route.
    Access,
    /// A carrier router (`a`) and the route collector (`b`): eBGP, `a` exports every best
    /// route, imports nothing.
    Monitor,
}

/// One veth pair.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Link {
    /// First end (customer, or probe).
    pub a: usize,
    /// Second end.
    pub b: usize,
    /// Relationship.
    pub kind: LinkKind,
    /// Interface name in `a`.
    pub a_if: String,
    /// Interface name in `b`.
    pub b_if: String,
    /// Address of `a`.
    pub a_addr: Ipv6Addr,
    /// Address of `b`.
    pub b_addr: Ipv6Addr,
    /// Prefix length of the link network.
    pub plen: u8,
    /// IPv4 address of `a` (none when the lab has run out of IPv4 link networks).
    #[serde(default)]
    pub a_addr4: Option<Ipv4Addr>,
    /// IPv4 address of `b`.
    #[serde(default)]
    pub b_addr4: Option<Ipv4Addr>,
    /// Prefix length of the IPv4 link network.
    #[serde(default)]
    pub plen4: u8,
    /// One-way delay, ms (applied with netem at both ends, when the kernel has it).
    pub delay_ms: f64,
}

/// A site as the lab runs it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LabSite {
    /// Site id.
    pub id: SiteId,
    /// IATA-like code.
    pub code: Option<String>,
    /// Its node.
    pub node: usize,
    /// Names of its BGP protocols (IPv6 upstreams), as in the rendered BIRD config.
    pub upstreams: Vec<String>,
    /// IPv4 upstreams left out of the lab.
    pub dropped: Vec<String>,
    /// Unicast prefixes only this site announces.
    pub unicast: Vec<Prefix>,
}

/// The whole lab.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Topology {
    /// Network name from tern.toml.
    pub network: Option<String>,
    /// Our AS.
    pub asn: u32,
    /// The anycast address probes measure.
    pub target: Ipv6Addr,
    /// The IPv4 anycast address probes also ping and query (first host of the first IPv4
    /// anycast prefix), if the network has one.
    #[serde(default)]
    pub target4: Option<Ipv4Addr>,
    /// Namespaces.
    pub nodes: Vec<Node>,
    /// veth pairs.
    pub links: Vec<Link>,
    /// Sites.
    pub sites: Vec<LabSite>,
}

impl Topology {
    /// The node of this name.
    pub fn node(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }

    /// The site of this id.
    pub fn site(&self, id: &str) -> Option<&LabSite> {
        self.sites.iter().find(|s| s.id.as_str() == id)
    }

    /// Indices of nodes of one kind.
    pub fn of_kind(&self, kind: NodeKind) -> impl Iterator<Item = usize> + '_ {
        (0..self.nodes.len()).filter(move |i| self.nodes[*i].kind == kind)
    }

    /// The links at node `i`, with the local end first: (link, local if, local addr, peer).
    pub fn links_of(&self, i: usize) -> Vec<(&Link, &str, Ipv6Addr, usize)> {
        self.links
            .iter()
            .filter_map(|l| {
                if l.a == i {
                    Some((l, l.a_if.as_str(), l.a_addr, l.b))
                } else if l.b == i {
                    Some((l, l.b_if.as_str(), l.b_addr, l.a))
                } else {
                    None
                }
            })
            .collect()
    }

    /// The node that owns an IPv4 address (a link end or a service address).
    pub fn owner4(&self, addr: Ipv4Addr) -> Option<usize> {
        self.links
            .iter()
            .find_map(|l| {
                if l.a_addr4 == Some(addr) {
                    Some(l.a)
                } else if l.b_addr4 == Some(addr) {
                    Some(l.b)
                } else {
                    None
                }
            })
            .or_else(|| self.nodes.iter().position(|n| n.addrs4.contains(&addr)))
    }

    /// The node that owns an address (a link end, a site service address or a probe).
    pub fn owner(&self, addr: Ipv6Addr) -> Option<usize> {
        self.links
            .iter()
            .find_map(|l| {
                if l.a_addr == addr {
                    Some(l.a)
                } else if l.b_addr == addr {
                    Some(l.b)
                } else {
                    None
                }
            })
            .or_else(|| self.nodes.iter().position(|n| n.addrs.contains(&addr)))
    }

    /// The site a traceroute hop belongs to: a site's own address (not the shared anycast
    /// target) or any address of a provider router standing at one site.
    pub fn site_of_hop(&self, addr: Ipv6Addr) -> Option<&SiteId> {
        if addr == self.target {
            return None;
        }
        let n = &self.nodes[self.owner(addr)?];
        match n.kind {
            NodeKind::Site | NodeKind::Provider => n.site.as_ref(),
            _ => None,
        }
    }

    /// One-way delay along a path of nodes, ms; `None` if two consecutive nodes are not linked.
    pub fn path_delay(&self, path: &[usize]) -> Option<f64> {
        let mut d = 0.0;
        for w in path.windows(2) {
            let l = self
                .links
                .iter()
                .find(|l| (l.a == w[0] && l.b == w[1]) || (l.a == w[1] && l.b == w[0]))?;
            d += l.delay_ms;
        }
        Some(d)
    }

    /// Every address of the provider routers of a site (the hop before the site in a
    /// traceroute), for RIPE Atlas site hints.
    pub fn router_addrs(&self, site: &str) -> Vec<Ipv6Addr> {
        let mut v = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            if n.kind == NodeKind::Provider && n.site.as_ref().map(SiteId::as_str) == Some(site) {
                v.extend(self.links_of(i).into_iter().map(|(_, _, a, _)| a));
            }
        }
        v
    }
}

/// Designs the lab for `net` (which must have validated without errors).
pub fn design(net: &Network, lab: &RawLab, providers: &Providers) -> Result<Topology, LabError> {
    let base = lab.base_delay_ms.unwrap_or(DEFAULT_BASE_DELAY_MS);
    if !(0.0..=1000.0).contains(&base) {
        return Err(LabError::Design(format!(
            "[lab] base_delay_ms = {base} is outside 0–1000"
        )));
    }
    if net.sites.is_empty() {
        return Err(LabError::Design("tern.toml has no site".into()));
    }
    // IPv4 in the lab only when the network has an IPv4 session somewhere: an IPv6-only
    // network (an ASN and a /44) gets no IPv4 address, session or probe at all.
    let v4 = net
        .sites
        .iter()
        .any(|s| s.upstreams.iter().any(|u| u.afi() == Afi::Ipv4));
    let mut plan = nodes::plan(net, lab, providers, v4)?;
    let mut nets = addresses::LinkNets::new(v4);
    let mut links = links::plan(&plan, &mut nets, base);
    addresses::router_ids(&mut plan.nodes);
    let target = addresses::target(net, lab)?;
    let target4 = addresses::target4(net).filter(|_| nets.v4());
    let mut sites = plan.sites;
    if !nets.v4() {
        // Out of IPv4 link networks (or none wanted): the lab runs IPv6 only.
        for l in &mut links {
            l.a_addr4 = None;
            l.b_addr4 = None;
        }
        for (ls, s) in sites.iter_mut().zip(&net.sites) {
            let (keep, drop): (Vec<_>, Vec<_>) =
                s.upstreams.iter().partition(|u| u.afi() == Afi::Ipv6);
            ls.upstreams = keep.into_iter().map(|u| u.name.clone()).collect();
            ls.dropped = drop.into_iter().map(|u| u.name.clone()).collect();
        }
    }
    for s in &sites {
        if !plan.nodes[s.node].addrs.contains(&target) {
            return Err(LabError::Design(format!(
                "site {} announces no prefix holding the target {target}",
                s.id
            )));
        }
    }
    Ok(Topology {
        network: net.name.clone(),
        asn: net.asn.0,
        target,
        target4,
        nodes: plan.nodes,
        links,
        sites,
    })
}
