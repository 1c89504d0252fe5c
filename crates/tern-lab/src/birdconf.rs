//! BIRD 2 configurations of the lab's routers, and the site configs adapted to the lab.
//!
//! Pure text generation. Two kinds of output:
//!
//! - [`site_network`] rewrites a [`Network`] so that each site's IPv6 upstreams point at its lab
//!   provider router (directly connected, no MD5, the provider's lab AS); the site's config is
//!   then rendered by tern-bird exactly as `tern render` does (the BIRD stand-in for `tern run`).
//! - [`router`] writes the config of a provider, carrier or eyeball router: Gao-Rexford import
//!   and export rules (relationship marked with an RFC 8092 large community on import, `(AS, 1,
//!   1)` customer, `(AS, 1, 2)` peer, `(AS, 1, 3)` provider; what may be exported where and the
//!   local preferences are [`tern_model::policy`]'s [`may_export`] and
//!   [`Relationship::local_pref`]), and the action communities of the provider dictionary the
//!   router honours (RFC 1997 standard and RFC 8092 large communities), each turned into a BIRD
//!   test from its typed [`tern_model::policy::Effect`]: no-announce and prepend towards a neighbour AS, the peers or
//!   a region, no-export, and local-pref. A carrier's session to the route collector is
//!   `collector_session`'s (every best route out, nothing in).

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::Path;

use tern_model::policy::{CommunityValue, ExportAction, Level, Relationship, may_export};
use tern_model::{Network, Providers};
use tern_types::{Afi, Asn};

use crate::error::LabError;
use crate::topology::{COLLECTOR_ASN, COLLECTOR_NODE, LinkKind, Node, NodeKind, Topology};

/// Local preference of routes learned from customers (Gao-Rexford: customer > peer > provider).
pub const LP_CUSTOMER: u32 = Relationship::Customer.local_pref();
/// Local preference of routes learned from peers.
pub const LP_PEER: u32 = Relationship::Peer.local_pref();
/// Local preference of routes learned from providers.
pub const LP_PROVIDER: u32 = Relationship::Provider.local_pref();

/// What a provider's `local-pref` level means in the lab: the policy model's value.
pub fn level_pref(l: Level) -> u32 {
    l.local_pref()
}

/// The network with every site's sessions pointing into the lab: IPv6 upstreams only, each
/// to the lab router of its provider over the direct link, with the provider's lab AS; router
/// ids from the lab. Communities and prepends (the compiled intents) are untouched.
pub fn site_network(net: &Network, topo: &Topology) -> Result<Network, LabError> {
    let mut out = net.clone();
    for site in &mut out.sites {
        let ls = topo
            .site(site.id.as_str())
            .ok_or_else(|| LabError::NotFound(format!("site {} is not in the lab", site.id)))?;
        site.router_id = topo.nodes[ls.node].router_id;
        site.upstreams.retain(|u| ls.upstreams.contains(&u.name));
        for u in &mut site.upstreams {
            let key = u
                .provider
                .clone()
                .unwrap_or_else(|| format!("as{}", u.remote_as.0));
            let pname = format!("{key}-{}", site.id);
            let p = topo.node(&pname).ok_or_else(|| {
                LabError::NotFound(format!("provider router {pname} is not in the lab"))
            })?;
            let (link, _, _, _) = topo
                .links_of(ls.node)
                .into_iter()
                .find(|(_, _, _, peer)| *peer == p)
                .ok_or_else(|| {
                    LabError::NotFound(format!("no link from {} to {pname}", site.id))
                })?;
            let ours = link.a == ls.node;
            let (local, neighbor): (IpAddr, IpAddr) = match u.afi() {
                Afi::Ipv6 => {
                    let (a, b) = (link.a_addr.into(), link.b_addr.into());
                    if ours { (a, b) } else { (b, a) }
                }
                Afi::Ipv4 => match (link.a_addr4, link.b_addr4) {
                    (Some(a), Some(b)) => {
                        if ours {
                            (a.into(), b.into())
                        } else {
                            (b.into(), a.into())
                        }
                    }
                    _ => {
                        return Err(LabError::NotFound(format!(
                            "the link from {} to {pname} has no IPv4 addresses",
                            site.id
                        )));
                    }
                },
            };
            u.neighbor = neighbor;
            u.source = Some(local);
            u.remote_as = Asn(topo.nodes[p].asn.unwrap_or(0));
            u.multihop = None;
            u.host_route = None;
            u.password = None;
        }
    }
    Ok(out)
}

/// The BIRD config of a site in the lab: tern-bird's rendering of [`site_network`], with a log
/// file in front.
pub fn site(lab_net: &Network, site: &str, log: &Path) -> Result<String, LabError> {
    let id = site
        .parse()
        .map_err(|e: tern_types::ParseSiteIdError| LabError::NotFound(e.to_string()))?;
    let body =
        tern_bird::render_with(lab_net, &id, &|_| None).map_err(|source| LabError::Render {
            site: id.clone(),
            source,
        })?;
    Ok(format!(
        "# tern lab: site {site}, the BIRD stand-in for `tern run`.\nlog \"{}\" all;\n\n{body}",
        log.display()
    ))
}

/// The BIRD config of a provider, carrier or eyeball router.
pub fn router(
    topo: &Topology,
    i: usize,
    net: &Network,
    providers: &Providers,
    log: &Path,
) -> String {
    router_with(topo, i, net, providers, log, None)
}

/// [`router`], with a TCP-MD5 key (RFC 2385) on the sessions with sites (as Vultr has).
pub fn router_with(
    topo: &Topology,
    i: usize,
    net: &Network,
    providers: &Providers,
    log: &Path,
    site_md5: Option<&str>,
) -> String {
    let n = &topo.nodes[i];
    let asn = n.asn.unwrap_or(0);
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# tern lab: {} router {} (AS{asn}{}), {}.\n",
        kind_word(n.kind),
        n.name,
        n.represents
            .filter(|r| *r != asn)
            .map(|r| format!(", standing for AS{r}"))
            .unwrap_or_default(),
        n.place.city
    );
    let _ = writeln!(o, "log \"{}\" all;", log.display());
    let _ = writeln!(o, "router id {};\n", n.router_id);
    let _ = writeln!(o, "protocol device {{\n  scan time 10;\n}}\n");
    for v in [6, 4] {
        let _ = writeln!(
            o,
            "protocol kernel kernel{v} {{\n  ipv{v} {{\n    import none;\n    export where source = RTS_BGP;\n  }};\n}}\n"
        );
    }
    for (v, p) in [(6, n.prefix), (4, n.prefix4)] {
        if let Some(p) = p {
            let _ = writeln!(
                o,
                "protocol static own{v} {{\n  ipv{v};\n  route {p} unreachable;\n}}\n"
            );
        }
    }
    let dict = n.dictionary.as_deref().and_then(|d| providers.find(d));
    let mut sessions = Vec::new();
    for (link, _, local, peer_i) in topo.links_of(i) {
        let peer_addr = if link.a == i {
            link.b_addr
        } else {
            link.a_addr
        };
        sessions.push((
            link,
            Afi::Ipv6,
            IpAddr::from(local),
            IpAddr::from(peer_addr),
            peer_i,
        ));
        if let (Some(a), Some(b)) = (link.a_addr4, link.b_addr4) {
            let (l4, p4) = if link.a == i { (a, b) } else { (b, a) };
            sessions.push((link, Afi::Ipv4, l4.into(), p4.into(), peer_i));
        }
    }
    for (link, afi, local, peer_addr, peer_i) in sessions {
        if link.kind == LinkKind::Access {
            continue;
        }
        let peer = &topo.nodes[peer_i];
        if link.kind == LinkKind::Monitor {
            let proto = format!("n_{}", ident(&peer.name));
            collector_session(&mut o, &proto, local, peer_addr, asn);
            continue;
        }
        let v = if afi == Afi::Ipv6 { 6 } else { 4 };
        // What the peer is to us.
        let rel = match link.kind {
            LinkKind::Transit if link.b == i => Rel::Customer,
            LinkKind::Transit => Rel::Provider,
            LinkKind::Peer => Rel::Peer,
            LinkKind::Internal => Rel::Internal,
            LinkKind::Access | LinkKind::Monitor => continue,
        };
        let proto = match afi {
            Afi::Ipv6 => format!("n_{}", ident(&peer.name)),
            Afi::Ipv4 => format!("n_{}_4", ident(&peer.name)),
        };
        // Import.
        let _ = writeln!(o, "filter {proto}_in {{");
        if rel == Rel::Customer {
            let allowed = customer_prefixes(topo, peer_i, net, afi);
            if allowed.is_empty() && peer.kind == NodeKind::Site {
                let _ = writeln!(o, "  reject; # the site announces no such prefix");
            } else if !allowed.is_empty() {
                let _ = writeln!(o, "  if net !~ [ {} ] then reject;", allowed.join(", "));
            }
        }
        if let Some((tag, lp)) = rel.tag() {
            let _ = writeln!(o, "  bgp_large_community.add(({asn}, 1, {tag}));");
            let _ = writeln!(o, "  bgp_local_pref = {lp};");
        }
        if let Some(d) = dict {
            for r in d.rules(None) {
                if let Some(lp) = r.effect.local_pref_in(n.region) {
                    let _ = writeln!(
                        o,
                        "  if {} then bgp_local_pref = {lp}; # {}",
                        matches(&r.community),
                        r.entry.meaning
                    );
                }
            }
        }
        let _ = writeln!(o, "  accept;\n}}\n");
        // Export.
        let _ = writeln!(o, "filter {proto}_out {{");
        if rel == Rel::Internal {
            let _ = writeln!(o, "  if source != RTS_BGP then reject;\n  accept;\n}}\n");
        } else {
            let _ = writeln!(o, "  if source = RTS_STATIC then accept;");
            let _ = writeln!(o, "  if source != RTS_BGP then reject;");
            if let Some(to) = rel.relationship() {
                gao_rexford(&mut o, to, asn);
            }
            if let (Some(d), Some(to)) = (dict, rel.relationship()) {
                actions(&mut o, d, peer, to, asn);
            }
            let _ = writeln!(o, "  bgp_large_community.delete([({asn}, 1, *)]);");
            let _ = writeln!(o, "  accept;\n}}\n");
        }
        let peer_as = peer.asn.unwrap_or(0);
        let _ = writeln!(o, "protocol bgp {proto} {{");
        let _ = writeln!(o, "  description \"{} ({})\";", peer.name, rel.word());
        let _ = writeln!(o, "  local {local} as {asn};");
        let _ = writeln!(o, "  neighbor {peer_addr} as {peer_as};");
        let _ = writeln!(o, "  direct;");
        if let (Some(key), NodeKind::Site) = (site_md5, peer.kind) {
            let _ = writeln!(o, "  password \"{key}\";");
        }
        let _ = writeln!(
            o,
            "  connect delay time 1;\n  connect retry time 2;\n  error wait time 1, 4;"
        );
        let _ = writeln!(o, "  ipv{v} {{");
        if rel == Rel::Internal {
            let _ = writeln!(o, "    next hop self;\n    gateway direct;");
        }
        let _ = writeln!(
            o,
            "    import filter {proto}_in;\n    export filter {proto}_out;\n  }};\n}}\n"
        );
    }
    o
}

/// A carrier router's session to the collector: every best route out (the relationship tags
/// removed), nothing in.
fn collector_session(
    o: &mut String,
    proto: &str,
    local: std::net::IpAddr,
    peer_addr: std::net::IpAddr,
    asn: u32,
) {
    let _ = writeln!(o, "filter {proto}_out {{");
    let _ = writeln!(o, "  if source != RTS_BGP then reject;");
    let _ = writeln!(o, "  bgp_large_community.delete([({asn}, 1, *)]);");
    let _ = writeln!(o, "  accept;\n}}\n");
    let _ = writeln!(o, "protocol bgp {proto} {{");
    let _ = writeln!(o, "  description \"{COLLECTOR_NODE} (route collector)\";");
    let _ = writeln!(o, "  local {local} as {asn};");
    let _ = writeln!(o, "  neighbor {peer_addr} as {COLLECTOR_ASN};");
    let _ = writeln!(o, "  direct;");
    let _ = writeln!(
        o,
        "  connect delay time 1;\n  connect retry time 2;\n  error wait time 1, 4;"
    );
    let _ = writeln!(
        o,
        "  ipv6 {{\n    import none;\n    export filter {proto}_out;\n  }};\n}}\n"
    );
}

/// The valley-free export rule towards a neighbour that is `to` to us: routes learned over
/// the relationships [`may_export`] refuses are rejected (by the large community set on import).
fn gao_rexford(o: &mut String, to: Relationship, asn: u32) {
    let allowed: Vec<Relationship> = Relationship::ALL
        .into_iter()
        .filter(|from| may_export(*from, to))
        .collect();
    if allowed.len() == Relationship::ALL.len() {
        return;
    }
    let tags: Vec<String> = allowed
        .iter()
        .map(|r| format!("({asn}, 1, {})", Rel::from(*r).tag().map_or(0, |t| t.0)))
        .collect();
    let words: Vec<&str> = allowed.iter().map(|r| r.as_str()).collect();
    let _ = writeln!(
        o,
        "  # Gao-Rexford: only {} routes go to peers and providers.",
        words.join(" and ")
    );
    if tags.len() == 1 {
        let _ = writeln!(o, "  if {} !~ bgp_large_community then reject;", tags[0]);
    } else {
        let _ = writeln!(
            o,
            "  if !(bgp_large_community ~ [{}]) then reject;",
            tags.join(", ")
        );
    }
}

/// Export actions of a dictionary towards one eBGP neighbour (`to` to us), from each entry's
/// typed effect.
fn actions(o: &mut String, d: &tern_model::Provider, peer: &Node, to: Relationship, asn: u32) {
    let target = peer.represents.or(peer.asn).map(Asn);
    // A neighbour without an AS gets no per-AS entry (`rules` leaves them out); Asn(0) then
    // matches nothing else.
    let to_as = target.unwrap_or(Asn(0));
    for r in d.rules(target) {
        let test = matches(&r.community);
        match r.effect.on_export(to_as, to, peer.region) {
            ExportAction::Unchanged => {}
            ExportAction::Reject => {
                let _ = writeln!(o, "  if {test} then reject; # {}", r.entry.meaning);
            }
            ExportAction::Prepend(times) => {
                let p = "bgp_path.prepend(".to_owned() + &asn.to_string() + "); ";
                let _ = writeln!(
                    o,
                    "  if {test} then {{ {}}} # {}",
                    p.repeat(times as usize),
                    r.entry.meaning
                );
            }
        }
    }
}

/// A BIRD test for one community value.
fn matches(v: &CommunityValue) -> String {
    match v {
        CommunityValue::Standard(c) => format!("({}, {}) ~ bgp_community", c.high(), c.low()),
        CommunityValue::Large(c) => format!(
            "({}, {}, {}) ~ bgp_large_community",
            c.global, c.local1, c.local2
        ),
    }
}

/// The prefixes a customer may announce: a site's IPv6 prefixes, an eyeball's own /48; empty
/// (anything) for routers that pass their own customers' routes on.
fn customer_prefixes(topo: &Topology, i: usize, net: &Network, afi: Afi) -> Vec<String> {
    let n = &topo.nodes[i];
    match n.kind {
        NodeKind::Site => net
            .sites
            .iter()
            .find(|s| Some(&s.id) == n.site.as_ref())
            .map(|s| s.announces_of(afi).map(|p| p.to_string()).collect())
            .unwrap_or_default(),
        NodeKind::Eyeball => match afi {
            Afi::Ipv6 => n.prefix.iter().map(|p| p.to_string()).collect(),
            Afi::Ipv4 => n.prefix4.iter().map(|p| p.to_string()).collect(),
        },
        _ => Vec::new(),
    }
}

/// A BIRD identifier from a node name.
pub fn ident(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn kind_word(k: NodeKind) -> &'static str {
    match k {
        NodeKind::Site => "site",
        NodeKind::Provider => "provider",
        NodeKind::Transit => "transit carrier",
        NodeKind::Eyeball => "eyeball",
        NodeKind::Probe => "probe",
        NodeKind::Collector => "route collector",
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rel {
    Customer,
    Peer,
    Provider,
    Internal,
}

impl From<Relationship> for Rel {
    fn from(r: Relationship) -> Rel {
        match r {
            Relationship::Customer => Rel::Customer,
            Relationship::Peer => Rel::Peer,
            Relationship::Provider => Rel::Provider,
        }
    }
}

impl Rel {
    /// The Gao-Rexford relationship; none for iBGP.
    fn relationship(self) -> Option<Relationship> {
        match self {
            Rel::Customer => Some(Relationship::Customer),
            Rel::Peer => Some(Relationship::Peer),
            Rel::Provider => Some(Relationship::Provider),
            Rel::Internal => None,
        }
    }

    /// (large-community tag, local-pref) set on import; none for iBGP (kept as learned).
    fn tag(self) -> Option<(u32, u32)> {
        let lp = self.relationship()?.local_pref();
        match self {
            Rel::Customer => Some((1, lp)),
            Rel::Peer => Some((2, lp)),
            Rel::Provider => Some((3, lp)),
            Rel::Internal => None,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Rel::Customer => "customer",
            Rel::Peer => "peer",
            Rel::Provider => "provider",
            Rel::Internal => "iBGP",
        }
    }
}
