//! Which namespaces the lab has: the sites, one provider router per (site, provider), the
//! carriers' routers (one per region), the eyeball networks and their probes, with their lab
//! ASes, the real ASes they stand for, regions and places. Addresses come from
//! [`super::addresses`]; router ids are set once every node exists.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use tern_model::lab::{DEFAULT_EYEBALLS_PER_REGION, DEFAULT_TRANSITS, RawLab};
use tern_model::policy::Region;
use tern_model::{Network, Providers, Role};
use tern_types::{Afi, Asn};

use super::addresses;
use super::{LabSite, Node, NodeKind};
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

/// One eyeball network and its probe.
#[derive(Clone, Copy, Debug)]
pub(super) struct Eyeball {
    /// The eyeball router.
    pub node: usize,
    /// Its probe.
    pub probe: usize,
    /// Region.
    pub region: Region,
    /// Its number in the region (0-based): eyeball `n` buys from carrier `n mod carriers`.
    pub nth: usize,
}

/// The nodes and the facts the links are made from.
#[derive(Debug, Default)]
pub(super) struct Plan {
    /// Every namespace, in router-id order.
    pub nodes: Vec<Node>,
    /// The sites.
    pub sites: Vec<LabSite>,
    /// (site node, provider node, an IPv4 session between them).
    pub site_provider: Vec<(usize, usize, bool)>,
    /// Per carrier, its router in each of `regions` (same order).
    pub carriers: Vec<Vec<usize>>,
    /// Eyeballs and probes.
    pub eyeballs: Vec<Eyeball>,
    /// Lab regions, in [`geo::rank`] order.
    pub regions: Vec<Region>,
    /// The route collector.
    pub collector: Option<usize>,
}

impl Plan {
    fn push(&mut self, n: Node) -> usize {
        self.nodes.push(n);
        self.nodes.len() - 1
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }

    /// The position of a region in `regions`.
    pub fn region_pos(&self, r: Region) -> usize {
        self.regions.iter().position(|x| *x == r).unwrap_or(0)
    }
}

/// A node with nothing but its name, kind, region and place.
fn node(name: String, kind: NodeKind, region: Region, place: Place) -> Node {
    Node {
        name,
        kind,
        asn: None,
        represents: None,
        dictionary: None,
        region,
        place,
        router_id: Ipv4Addr::UNSPECIFIED,
        site: None,
        prefix: None,
        addrs: Vec::new(),
        addrs4: Vec::new(),
        prefix4: None,
    }
}

/// Plans every node; `v4`: the lab runs IPv4 as well.
pub(super) fn plan(
    net: &Network,
    lab: &RawLab,
    providers: &Providers,
    v4: bool,
) -> Result<Plan, LabError> {
    let mut p = Plan::default();
    sites(&mut p, net);
    provider_routers(&mut p, net, providers)?;
    p.regions = regions(&p, lab);
    carriers(&mut p, lab, providers)?;
    eyeballs(&mut p, lab, v4)?;
    let region = p.regions.first().copied().unwrap_or(Region::Europe);
    let mut c = node(
        super::COLLECTOR_NODE.to_owned(),
        NodeKind::Collector,
        region,
        geo::hub(region),
    );
    c.asn = Some(super::COLLECTOR_ASN);
    p.collector = Some(p.push(c));
    if p.nodes.len() > MAX_NODES {
        return Err(LabError::Design(format!(
            "the lab would have {} namespaces; at most {MAX_NODES}",
            p.nodes.len()
        )));
    }
    Ok(p)
}

fn sites(p: &mut Plan, net: &Network) {
    for s in &net.sites {
        let place = Place {
            city: s.code.clone().unwrap_or_else(|| s.id.to_string()),
            country: String::new(),
            lat: s.lat,
            lon: s.lon,
        };
        let mut n = node(
            s.id.to_string(),
            NodeKind::Site,
            geo::region_of(s.lat, s.lon),
            place,
        );
        n.asn = Some(net.asn.0);
        n.represents = Some(net.asn.0);
        n.site = Some(s.id.clone());
        (n.addrs, n.addrs4) = addresses::service(s);
        let at = p.push(n);
        let unicast = net
            .prefixes
            .iter()
            .filter(|x| x.prefix.afi() == Afi::Ipv6 && x.role == Role::Unicast(s.id.clone()))
            .map(|x| x.prefix)
            .collect();
        p.sites.push(LabSite {
            id: s.id.clone(),
            code: s.code.clone(),
            node: at,
            upstreams: Vec::new(),
            dropped: Vec::new(),
            unicast,
        });
    }
}

/// One provider router per (site, provider), in the provider's lab AS: its private session AS
/// when it has one (Vultr's 64515), else one allocated here.
fn provider_routers(p: &mut Plan, net: &Network, providers: &Providers) -> Result<(), LabError> {
    let mut provider_asn: BTreeMap<String, u32> = BTreeMap::new();
    for (si, s) in net.sites.iter().enumerate() {
        for u in &s.upstreams {
            p.sites[si].upstreams.push(u.name.clone());
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
            let v4 = u.afi() == Afi::Ipv4;
            if let Some(at) = p.find(&name) {
                for sp in p.site_provider.iter_mut().filter(|sp| sp.1 == at) {
                    sp.2 |= v4;
                }
                continue;
            }
            let site_node = p.sites[si].node;
            let (region, place) = (p.nodes[site_node].region, p.nodes[site_node].place.clone());
            let mut n = node(name, NodeKind::Provider, region, place);
            n.asn = Some(asn);
            n.represents = Some(dict.map(|d| d.asn.0).unwrap_or(u.remote_as.0));
            n.dictionary = dict.map(|d| d.id.clone());
            n.site = Some(s.id.clone());
            let at = p.push(n);
            p.site_provider.push((site_node, at, v4));
        }
        if !s.upstreams.iter().any(|u| u.afi() == Afi::Ipv6) {
            return Err(LabError::Design(format!(
                "site {} has no IPv6 upstream; the lab measures over IPv6",
                s.id
            )));
        }
    }
    let mut seen = BTreeSet::new();
    for (k, a) in &provider_asn {
        if !seen.insert(*a) {
            return Err(LabError::Design(format!(
                "two providers share the lab AS {a} (the second is {k}); give their sessions distinct remote_as"
            )));
        }
    }
    Ok(())
}

/// Where the sites are and where probes are (`[lab] probe_regions`, default the sites').
fn probe_regions(p: &Plan, lab: &RawLab) -> Vec<Region> {
    let mut v: Vec<Region> = if lab.probe_regions.is_empty() {
        p.sites.iter().map(|s| p.nodes[s.node].region).collect()
    } else {
        lab.probe_regions.clone()
    };
    v.sort_by_key(|r| geo::rank(*r));
    v.dedup();
    v
}

fn regions(p: &Plan, lab: &RawLab) -> Vec<Region> {
    let mut v: Vec<Region> = p
        .sites
        .iter()
        .map(|s| p.nodes[s.node].region)
        .chain(probe_regions(p, lab))
        .collect();
    v.sort_by_key(|r| geo::rank(*r));
    v.dedup();
    v
}

/// Transit carriers (`[lab] transits`, default Cogent and GTT): one router per region.
fn carriers(p: &mut Plan, lab: &RawLab, providers: &Providers) -> Result<(), LabError> {
    let keys: Vec<String> = if lab.transits.is_empty() {
        DEFAULT_TRANSITS.iter().map(|s| s.to_string()).collect()
    } else {
        lab.transits.clone()
    };
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
        for r in p.regions.clone() {
            let mut n = node(
                format!("{name}-{}", geo::short(r)),
                NodeKind::Transit,
                r,
                geo::hub(r),
            );
            n.asn = Some(TRANSIT_ASN_BASE + ci as u32);
            n.represents = Some(represents);
            n.dictionary = dictionary.clone();
            pops.push(p.push(n));
        }
        p.carriers.push(pops);
    }
    if p.carriers.is_empty() {
        return Err(LabError::Design("[lab] transits is empty".into()));
    }
    Ok(())
}

/// In every probe region, `[lab] eyeballs_per_region` eyeball networks with one probe each.
fn eyeballs(p: &mut Plan, lab: &RawLab, v4: bool) -> Result<(), LabError> {
    let per_region = lab
        .eyeballs_per_region
        .unwrap_or(DEFAULT_EYEBALLS_PER_REGION);
    if !(1..=3).contains(&per_region) {
        return Err(LabError::Design(format!(
            "[lab] eyeballs_per_region = {per_region}: use 1, 2 or 3"
        )));
    }
    let mut n_eye = 0u32;
    for r in probe_regions(p, lab) {
        for (j, city) in geo::probe_cities(r)
            .into_iter()
            .take(per_region as usize)
            .enumerate()
        {
            n_eye += 1;
            let a = addresses::eyeball(n_eye, v4)?;
            let mut e = node(
                format!("eye-{}-{}", geo::short(r), j + 1),
                NodeKind::Eyeball,
                r,
                city.clone(),
            );
            e.asn = Some(EYEBALL_ASN_BASE + n_eye - 1);
            e.represents = e.asn;
            e.prefix = Some(a.prefix);
            e.prefix4 = a.prefix4;
            let e = p.push(e);
            let mut probe = node(
                format!("probe-{}-{}", geo::short(r), j + 1),
                NodeKind::Probe,
                r,
                city,
            );
            probe.addrs = vec![a.probe];
            probe.addrs4 = a.probe4.into_iter().collect();
            let probe = p.push(probe);
            p.eyeballs.push(Eyeball {
                node: e,
                probe,
                region: r,
                nth: j,
            });
        }
    }
    Ok(())
}
