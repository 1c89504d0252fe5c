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
//! last tie-break (lowest router id) and so makes catchments reproducible.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};
use tern_model::lab::{
    DEFAULT_BASE_DELAY_MS, DEFAULT_EYEBALLS_PER_REGION, DEFAULT_TRANSITS, RawLab,
};
use tern_model::policy::Region;
use tern_model::{Network, Providers, Role};
use tern_types::{Afi, Asn, Prefix};

use crate::error::LabError;
use crate::geo::{self, Place};

/// First private AS given to transit carriers.
const TRANSIT_ASN_BASE: u32 = 65001;
/// First private AS given to providers without a private session AS.
const PROVIDER_ASN_BASE: u32 = 65051;
/// First private AS given to eyeball networks.
const EYEBALL_ASN_BASE: u32 = 65101;
/// Most nodes a lab may have (router ids are 198.51.100.1–254).
const MAX_NODES: usize = 254;
/// Linux interface names are at most 15 bytes (IFNAMSIZ - 1).
const IFNAME_MAX: usize = 15;

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
    pub site: Option<String>,
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
    pub id: String,
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
        self.sites.iter().find(|s| s.id == id)
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
    pub fn site_of_hop(&self, addr: Ipv6Addr) -> Option<&str> {
        if addr == self.target {
            return None;
        }
        let n = &self.nodes[self.owner(addr)?];
        match n.kind {
            NodeKind::Site | NodeKind::Provider => n.site.as_deref(),
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
            if n.kind == NodeKind::Provider && n.site.as_deref() == Some(site) {
                v.extend(self.links_of(i).into_iter().map(|(_, _, a, _)| a));
            }
        }
        v
    }
}

/// Designs the lab for `net` (which must have validated without errors).
pub fn design(net: &Network, lab: &RawLab, providers: &Providers) -> Result<Topology, LabError> {
    let mut b = Builder::default();
    let base = lab.base_delay_ms.unwrap_or(DEFAULT_BASE_DELAY_MS);
    if !(0.0..=1000.0).contains(&base) {
        return Err(LabError::Design(format!(
            "[lab] base_delay_ms = {base} is outside 0–1000"
        )));
    }
    if net.sites.is_empty() {
        return Err(LabError::Design("tern.toml has no site".into()));
    }

    // Sites.
    let mut sites = Vec::new();
    for s in &net.sites {
        let region = geo::region_of(s.lat, s.lon);
        let addrs: Vec<Ipv6Addr> = s.announces_of(Afi::Ipv6).filter_map(first_host).collect();
        let addrs4: Vec<Ipv4Addr> = s.announces_of(Afi::Ipv4).filter_map(first_host4).collect();
        let node = b.push(Node {
            name: s.id.to_string(),
            kind: NodeKind::Site,
            asn: Some(net.asn.0),
            represents: Some(net.asn.0),
            dictionary: None,
            region,
            place: Place {
                city: s.code.clone().unwrap_or_else(|| s.id.to_string()),
                country: String::new(),
                lat: s.lat,
                lon: s.lon,
            },
            router_id: Ipv4Addr::UNSPECIFIED,
            site: Some(s.id.to_string()),
            prefix: None,
            addrs,
            addrs4,
            prefix4: None,
        });
        let unicast = net
            .prefixes
            .iter()
            .filter(|p| p.prefix.afi() == Afi::Ipv6 && p.role == Role::Unicast(s.id.clone()))
            .map(|p| p.prefix)
            .collect();
        sites.push(LabSite {
            id: s.id.to_string(),
            code: s.code.clone(),
            node,
            upstreams: Vec::new(),
            dropped: Vec::new(),
            unicast,
        });
    }

    // Provider routers, one per (site, provider).
    let mut provider_asn: BTreeMap<String, u32> = BTreeMap::new();
    let mut site_provider: Vec<(usize, usize)> = Vec::new(); // (site node, provider node)
    for (si, s) in net.sites.iter().enumerate() {
        for u in &s.upstreams {
            sites[si].upstreams.push(u.name.clone());
            let key = u
                .provider
                .clone()
                .unwrap_or_else(|| format!("as{}", u.remote_as.0));
            let dict = providers.find(&key);
            let next = PROVIDER_ASN_BASE + provider_asn.len() as u32;
            let asn = *provider_asn
                .entry(key.clone())
                .or_insert(if u.remote_as.is_private() {
                    u.remote_as.0
                } else {
                    next
                });
            let name = format!("{key}-{}", s.id);
            if b.find(&name).is_some() {
                continue;
            }
            let site_node = sites[si].node;
            let site_place = b.nodes[site_node].place.clone();
            let region = b.nodes[site_node].region;
            let p = b.push(Node {
                name,
                kind: NodeKind::Provider,
                asn: Some(asn),
                represents: Some(dict.map(|d| d.asn.0).unwrap_or(u.remote_as.0)),
                dictionary: dict.map(|d| d.id.clone()),
                region,
                place: site_place,
                router_id: Ipv4Addr::UNSPECIFIED,
                site: Some(s.id.to_string()),
                prefix: None,
                addrs: Vec::new(),
                addrs4: Vec::new(),
                prefix4: None,
            });
            site_provider.push((site_node, p));
        }
        if !s.upstreams.iter().any(|u| u.afi() == Afi::Ipv6) {
            return Err(LabError::Design(format!(
                "site {} has no IPv6 upstream; the lab measures over IPv6",
                s.id
            )));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for (k, a) in &provider_asn {
        if !seen.insert(*a) {
            return Err(LabError::Design(format!(
                "two providers share the lab AS {a} (the second is {k}); give their sessions distinct remote_as"
            )));
        }
    }

    // Regions: where sites are, and where probes are.
    let site_regions: Vec<Region> = sites.iter().map(|s| b.nodes[s.node].region).collect();
    let mut probe_regions: Vec<Region> = if lab.probe_regions.is_empty() {
        site_regions.clone()
    } else {
        lab.probe_regions.clone()
    };
    probe_regions.sort_by_key(|r| geo::rank(*r));
    probe_regions.dedup();
    let mut regions: Vec<Region> = site_regions
        .into_iter()
        .chain(probe_regions.clone())
        .collect();
    regions.sort_by_key(|r| geo::rank(*r));
    regions.dedup();

    // Transit carriers: one router per region, iBGP full mesh, peering in every region.
    let keys: Vec<String> = if lab.transits.is_empty() {
        DEFAULT_TRANSITS.iter().map(|s| s.to_string()).collect()
    } else {
        lab.transits.clone()
    };
    let mut carriers: Vec<Vec<usize>> = Vec::new(); // carrier -> node per region (same order)
    for (ci, key) in keys.iter().enumerate() {
        let (name, represents, dictionary) = match providers.find(key) {
            Some(d) => (d.id.clone(), d.asn.0, Some(d.id.clone())),
            None => match key.parse::<Asn>() {
                Ok(a) => (format!("as{}", a.0), a.0, None),
                Err(_) => {
                    return Err(LabError::Design(format!(
                        "[lab] transits: {key:?} is neither a provider dictionary ({}) nor an AS number",
                        providers.ids()
                    )));
                }
            },
        };
        let mut pops = Vec::new();
        for r in &regions {
            pops.push(b.push(Node {
                name: format!("{name}-{}", geo::short(*r)),
                kind: NodeKind::Transit,
                asn: Some(TRANSIT_ASN_BASE + ci as u32),
                represents: Some(represents),
                dictionary: dictionary.clone(),
                region: *r,
                place: geo::hub(*r),
                router_id: Ipv4Addr::UNSPECIFIED,
                site: None,
                prefix: None,
                addrs: Vec::new(),
                addrs4: Vec::new(),
                prefix4: None,
            }));
        }
        carriers.push(pops);
    }
    if carriers.is_empty() {
        return Err(LabError::Design("[lab] transits is empty".into()));
    }

    // Eyeballs and probes.
    let per_region = lab
        .eyeballs_per_region
        .unwrap_or(DEFAULT_EYEBALLS_PER_REGION);
    if !(1..=3).contains(&per_region) {
        return Err(LabError::Design(format!(
            "[lab] eyeballs_per_region = {per_region}: use 1, 2 or 3"
        )));
    }
    let mut eyeballs: Vec<(usize, usize, Region, usize)> = Vec::new(); // (eyeball, probe, region, n)
    let mut n_eye = 0u32;
    for r in &probe_regions {
        for (j, city) in geo::probe_cities(*r)
            .into_iter()
            .take(per_region as usize)
            .enumerate()
        {
            n_eye += 1;
            let prefix = Prefix::new(
                IpAddr::V6(Ipv6Addr::new(0x3fff, 0x100, n_eye as u16, 0, 0, 0, 0, 0)),
                48,
            )
            .map_err(|e| LabError::Design(e.to_string()))?;
            let prefix4 = (n_eye <= 32)
                .then(|| {
                    Prefix::new(
                        IpAddr::V4(Ipv4Addr::new(203, 0, 113, ((n_eye - 1) * 8) as u8)),
                        29,
                    )
                    .ok()
                })
                .flatten();
            let e = b.push(Node {
                name: format!("eye-{}-{}", geo::short(*r), j + 1),
                kind: NodeKind::Eyeball,
                asn: Some(EYEBALL_ASN_BASE + n_eye - 1),
                represents: Some(EYEBALL_ASN_BASE + n_eye - 1),
                dictionary: None,
                region: *r,
                place: city.clone(),
                router_id: Ipv4Addr::UNSPECIFIED,
                site: None,
                prefix: Some(prefix),
                addrs: Vec::new(),
                addrs4: Vec::new(),
                prefix4,
            });
            let probe_addr = Ipv6Addr::new(0x3fff, 0x100, n_eye as u16, 1, 0, 0, 0, 2);
            let p = b.push(Node {
                name: format!("probe-{}-{}", geo::short(*r), j + 1),
                kind: NodeKind::Probe,
                asn: None,
                represents: None,
                dictionary: None,
                region: *r,
                place: city,
                router_id: Ipv4Addr::UNSPECIFIED,
                site: None,
                prefix: None,
                addrs: vec![probe_addr],
                addrs4: prefix4
                    .and_then(|p| p.as_v4())
                    .map(|n| vec![Ipv4Addr::from(u32::from(n.network()) + 2)])
                    .unwrap_or_default(),
                prefix4: None,
            });
            eyeballs.push((e, p, *r, j));
        }
    }
    if b.nodes.len() > MAX_NODES {
        return Err(LabError::Design(format!(
            "the lab would have {} namespaces; at most {MAX_NODES}",
            b.nodes.len()
        )));
    }

    // Links.
    for (s, p) in &site_provider {
        b.link(*s, *p, LinkKind::Transit, base);
    }
    let region_pos = |r: Region| regions.iter().position(|x| *x == r).unwrap_or(0);
    for (_, p) in &site_provider {
        let rp = region_pos(b.nodes[*p].region);
        for pops in &carriers {
            b.link(*p, pops[rp], LinkKind::Transit, base);
        }
    }
    for pops in &carriers {
        for i in 0..pops.len() {
            for j in i + 1..pops.len() {
                b.link(pops[i], pops[j], LinkKind::Internal, base);
            }
        }
    }
    for ri in 0..regions.len() {
        for c1 in 0..carriers.len() {
            for c2 in c1 + 1..carriers.len() {
                b.link(carriers[c1][ri], carriers[c2][ri], LinkKind::Peer, base);
            }
        }
    }
    for (e, p, r, j) in &eyeballs {
        let carrier = &carriers[j % carriers.len()];
        b.link(*e, carrier[region_pos(*r)], LinkKind::Transit, base);
        b.access(*p, *e, base);
    }

    for (i, n) in b.nodes.iter_mut().enumerate() {
        n.router_id = Ipv4Addr::new(198, 51, 100, (i + 1) as u8);
    }

    let target = match &lab.target {
        Some(t) => t
            .parse::<Ipv6Addr>()
            .map_err(|_| LabError::Design(format!("[lab] target {t:?} is not an IPv6 address")))?,
        None => net
            .prefixes
            .iter()
            .filter(|p| p.role == Role::Anycast && p.prefix.afi() == Afi::Ipv6)
            .find_map(|p| first_host(&p.prefix))
            .ok_or_else(|| {
                LabError::Design(
                    "tern.toml has no IPv6 anycast prefix announced by every site; set [lab] target"
                        .into(),
                )
            })?,
    };
    let target4 = net
        .prefixes
        .iter()
        .filter(|p| p.role == Role::Anycast && p.prefix.afi() == Afi::Ipv4)
        .find_map(|p| first_host4(&p.prefix));
    if !b.v4 {
        // Out of IPv4 link networks: the lab runs IPv6 only.
        for l in &mut b.links {
            l.a_addr4 = None;
            l.b_addr4 = None;
        }
    }
    if !b.v4 {
        for (ls, s) in sites.iter_mut().zip(&net.sites) {
            let (keep, drop): (Vec<_>, Vec<_>) =
                s.upstreams.iter().partition(|u| u.afi() == Afi::Ipv6);
            ls.upstreams = keep.into_iter().map(|u| u.name.clone()).collect();
            ls.dropped = drop.into_iter().map(|u| u.name.clone()).collect();
        }
    }
    for s in &sites {
        if !b.nodes[s.node].addrs.contains(&target) {
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
        target4: target4.filter(|_| b.v4),
        nodes: b.nodes,
        links: b.links,
        sites,
    })
}

/// `.1` of an IPv4 prefix.
fn first_host4(p: &Prefix) -> Option<Ipv4Addr> {
    let n = p.as_v4()?;
    if n.prefix_len() > 30 {
        return None;
    }
    Some(Ipv4Addr::from(u32::from(n.network()) | 1))
}

/// `::1` of an IPv6 prefix (the service address the lab puts on a site).
fn first_host(p: &Prefix) -> Option<Ipv6Addr> {
    let n = p.as_v6()?;
    if n.prefix_len() > 127 {
        return None;
    }
    Some(Ipv6Addr::from(u128::from(n.network()) | 1))
}

struct Builder {
    nodes: Vec<Node>,
    links: Vec<Link>,
    /// IPv4 /31 link networks handed out so far (198.51.100.0/24 holds 128).
    nets4: u32,
    /// Every link got an IPv4 network.
    v4: bool,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            nodes: Vec::new(),
            links: Vec::new(),
            nets4: 0,
            v4: true,
        }
    }
}

impl Builder {
    fn push(&mut self, n: Node) -> usize {
        self.nodes.push(n);
        self.nodes.len() - 1
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }

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

    fn delay(&self, a: usize, b: usize, base: f64) -> f64 {
        let (pa, pb) = (&self.nodes[a].place, &self.nodes[b].place);
        geo::delay_ms((pa.lat, pa.lon), (pb.lat, pb.lon), base)
    }

    fn link(&mut self, a: usize, b: usize, kind: LinkKind, base: f64) {
        let k = self.links.len() as u16 + 1;
        let (a_if, b_if) = (self.ifname(a, b), self.ifname(b, a));
        let delay_ms = self.delay(a, b, base);
        let (a4, b4) = if self.nets4 < 128 {
            let x = self.nets4 * 2;
            self.nets4 += 1;
            (
                Some(Ipv4Addr::new(198, 51, 100, x as u8)),
                Some(Ipv4Addr::new(198, 51, 100, x as u8 + 1)),
            )
        } else {
            self.v4 = false;
            (None, None)
        };
        self.links.push(Link {
            a,
            b,
            kind,
            a_if,
            b_if,
            a_addr: Ipv6Addr::new(0x3fff, 0, 0, k, 0, 0, 0, 1),
            b_addr: Ipv6Addr::new(0x3fff, 0, 0, k, 0, 0, 0, 2),
            plen: 64,
            a_addr4: a4,
            b_addr4: b4,
            plen4: 31,
            delay_ms,
        });
    }

    fn access(&mut self, probe: usize, eyeball: usize, base: f64) {
        let (a_if, b_if) = (self.ifname(probe, eyeball), self.ifname(eyeball, probe));
        let a_addr = self.nodes[probe].addrs[0];
        let seg = a_addr.segments();
        let b_addr = Ipv6Addr::new(seg[0], seg[1], seg[2], seg[3], 0, 0, 0, 1);
        let a_addr4 = self.nodes[probe].addrs4.first().copied();
        let b_addr4 = a_addr4.map(|a| Ipv4Addr::from(u32::from(a) - 1));
        self.links.push(Link {
            a: probe,
            b: eyeball,
            kind: LinkKind::Access,
            a_if,
            b_if,
            a_addr,
            b_addr,
            plen: 64,
            a_addr4,
            b_addr4,
            plen4: 29,
            delay_ms: base,
        });
    }
}
