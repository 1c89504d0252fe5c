//! Stage two of the config: raw structs ([`crate::raw`]) → [`Network`], collecting every
//! problem as a [`Diagnostic`] with file:line:col instead of stopping at the first one.
//!
//! This module checks what tern.toml alone can tell: the prefix plan (syntax, overlaps,
//! allocation, length, roles), sites and sessions (addresses, router ID, multihop host routes,
//! secrets written inline), and hands intents to [`crate::intent`] and services to
//! [`crate::service`]. Checks that need outside data (bogon tables, VRPs, IRR, environment) are
//! in [`crate::preflight`].

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};
use std::ops::Range;
use std::path::Path;
use std::str::FromStr;

use tern_types::{Afi, Community, LargeCommunity, Prefix, SiteId};
use toml::Spanned;

use crate::diag::{Diagnostic, Location, Severity, Source};
use crate::network::{HostRoute, Located, Network, PlannedPrefix, Role, Secret, Site, Upstream};
use crate::provider::Providers;
use crate::raw::{RawFile, RawRole, RawSite, RawUpstream};

/// Collects diagnostics while validating one file.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub(crate) src: &'a Source,
    pub(crate) providers: &'a Providers,
    pub(crate) own_asn: tern_types::Asn,
    pub(crate) diags: Vec<Diagnostic>,
}

impl Ctx<'_> {
    pub(crate) fn loc(&self, span: &Range<usize>) -> Location {
        self.src.span(span)
    }

    pub(crate) fn push(
        &mut self,
        severity: Severity,
        code: &'static str,
        span: &Range<usize>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        let d = Diagnostic::new(severity, code, Some(self.loc(span)), message).with_fix(fix);
        self.diags.push(d);
    }

    pub(crate) fn error(
        &mut self,
        code: &'static str,
        span: &Range<usize>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.push(Severity::Error, code, span, message, fix);
    }

    /// Parses text with its own syntax, reporting a `bad-<what>` error on failure.
    pub(crate) fn parse<T>(&mut self, what: &'static str, s: &Spanned<String>) -> Option<T>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        match s.get_ref().parse::<T>() {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(what, &s.span(), e.to_string(), "correct the value");
                None
            }
        }
    }

    pub(crate) fn communities(
        &mut self,
        std: &[Spanned<String>],
        large: &[Spanned<String>],
    ) -> (Vec<Community>, Vec<LargeCommunity>) {
        let mut c = Vec::new();
        for s in std {
            if let Some(v) = self.parse::<Community>("bad-community", s) {
                let well_known = [
                    Community::NO_EXPORT,
                    Community::NO_ADVERTISE,
                    Community::NO_EXPORT_SUBCONFED,
                    Community::GRACEFUL_SHUTDOWN,
                    Community::BLACKHOLE,
                ];
                if v.is_reserved() && !well_known.contains(&v) {
                    self.push(
                        Severity::Warning,
                        "community-reserved",
                        &s.span(),
                        format!("{v} is in a reserved range (0:x and 65535:x, RFC 1997) and is not a well-known community"),
                        "use the provider's documented community instead",
                    );
                }
                if c.contains(&v) {
                    self.push(
                        Severity::Warning,
                        "community-duplicate",
                        &s.span(),
                        format!("community {v} is listed twice"),
                        "remove the duplicate",
                    );
                }
                c.push(v);
            }
        }
        let mut l = Vec::new();
        for s in large {
            if let Some(v) = self.parse::<LargeCommunity>("bad-community", s) {
                l.push(v);
            }
        }
        (c, l)
    }
}

/// Validates a parsed file. Always returns a network (items with errors are left out or
/// defaulted); use it only when no diagnostic has [`Severity::Error`].
pub fn validate(raw: RawFile, src: &Source, providers: &Providers) -> (Network, Vec<Diagnostic>) {
    let net_span = raw.network.span();
    let rn = raw.network.into_inner();
    let asn = *rn.asn.get_ref();
    let mut cx = Ctx {
        src,
        providers,
        own_asn: asn,
        diags: Vec::new(),
    };
    let asn_location = cx.loc(&rn.asn.span());
    match tern_rpki::bogons::asn_bogon(asn) {
        Some(why) if rn.lab && (asn.is_documentation() || asn.is_private()) => cx.push(
            Severity::Info,
            "lab-private-asn",
            &rn.asn.span(),
            format!("{asn} is {why}, allowed because lab = true"),
            "use your public ASN before going live",
        ),
        Some(why) => cx.error(
            "asn-bogon",
            &rn.asn.span(),
            format!("{asn} is {why} and cannot originate routes on the Internet"),
            if asn.is_documentation() || asn.is_private() {
                "use your public ASN, or set lab = true in [network] for a lab"
            } else {
                "use your public ASN"
            },
        ),
        None => {}
    }

    let mut allocations = Vec::new();
    for a in &rn.allocations {
        if let Some(p) = cx.parse::<Prefix>("bad-prefix", a) {
            allocations.push(Located {
                value: p,
                location: cx.loc(&a.span()),
            });
        }
    }
    if allocations.is_empty() {
        cx.push(
            Severity::Warning,
            "no-allocation",
            &net_span,
            "no allocations are listed, so tern cannot check that prefixes are yours",
            "add allocations = [\"2001:db8::/44\", ...] to [network]",
        );
    }

    // Site names first: prefix roles refer to them.
    let mut site_ids: BTreeMap<String, SiteId> = BTreeMap::new();
    for name in raw.sites.keys() {
        match name.get_ref().parse::<SiteId>() {
            Ok(id) => {
                site_ids.insert(name.get_ref().clone(), id);
            }
            Err(e) => cx.error(
                "bad-site-name",
                &name.span(),
                e.to_string(),
                "rename the site, e.g. [site.ams]",
            ),
        }
    }

    let prefixes = plan(&mut cx, &raw.prefixes, &allocations, &site_ids, rn.lab);

    let base = src.path().parent().unwrap_or(Path::new("."));
    let mut sites = Vec::new();
    for (name, rs) in &raw.sites {
        let Some(id) = site_ids.get(name.get_ref()) else {
            continue;
        };
        sites.push(site(&mut cx, id, rs, &prefixes, base));
    }
    if sites.is_empty() {
        cx.push(
            Severity::Warning,
            "no-sites",
            &net_span,
            "no sites are defined, nothing will be announced",
            "add a [site.NAME] table",
        );
    }
    for p in &prefixes {
        if !sites.iter().any(|s| s.announces.contains(&p.prefix)) && !sites.is_empty() {
            cx.diags.push(
                Diagnostic::new(
                    Severity::Warning,
                    "prefix-unannounced",
                    Some(p.location.clone()),
                    format!("{} is in the plan but no site announces it", p.prefix),
                )
                .with_fix("assign it to a site, or remove it from the plan"),
            );
        }
    }

    let services = raw
        .services
        .iter()
        .filter_map(|s| crate::service::service(&mut cx, s, &prefixes))
        .collect();

    let network = Network {
        name: rn.name,
        asn,
        asn_location,
        lab: rn.lab,
        allocations,
        prefixes,
        sites,
        services,
    };
    let mut diags = cx.diags;
    dedup(&mut diags);
    (network, diags)
}

/// Removes repeated identical findings (a site intent compiled for each of its sessions).
pub(crate) fn dedup(diags: &mut Vec<Diagnostic>) {
    let mut seen = BTreeSet::new();
    diags.retain(|d| seen.insert((d.code, d.location.clone(), d.message.clone(), d.severity)));
}

fn plan(
    cx: &mut Ctx<'_>,
    raw: &[Spanned<crate::raw::RawPrefix>],
    allocations: &[Located<Prefix>],
    site_ids: &BTreeMap<String, SiteId>,
    lab: bool,
) -> Vec<PlannedPrefix> {
    let mut out: Vec<PlannedPrefix> = Vec::new();
    for rp in raw {
        let rp_span = rp.span();
        let rp = rp.get_ref();
        let Some(prefix) = cx.parse::<Prefix>("bad-prefix", &rp.prefix) else {
            continue;
        };
        let span = rp.prefix.span();
        let max = prefix.afi().max_announceable_len();
        if prefix.len() > max {
            cx.error(
                "prefix-too-long",
                &span,
                format!(
                    "{prefix} is longer than /{max}, the longest {} prefix networks accept",
                    prefix.afi()
                ),
                format!("announce a /{max} or shorter"),
            );
        }
        if !allocations.is_empty() && !allocations.iter().any(|a| a.value.contains(&prefix)) {
            let of_afi: Vec<String> = allocations
                .iter()
                .filter(|a| a.value.afi() == prefix.afi())
                .map(|a| a.value.to_string())
                .collect();
            cx.error(
                "prefix-outside-allocation",
                &span,
                if of_afi.is_empty() {
                    format!(
                        "{prefix} is not inside any allocation: no {} allocation is listed",
                        prefix.afi()
                    )
                } else {
                    format!(
                        "{prefix} is not inside the allocations {}",
                        of_afi.join(", ")
                    )
                },
                "use a prefix from your allocation, or add the allocation to [network] allocations",
            );
        }
        if prefix.is_documentation() {
            if lab {
                cx.push(
                    Severity::Info,
                    "lab-documentation-prefix",
                    &span,
                    format!("{prefix} is documentation space, allowed because lab = true"),
                    "use your own address space before going live",
                );
            } else {
                cx.error(
                    "prefix-documentation",
                    &span,
                    format!("{prefix} is documentation space (RFC 3849/9637/5737) and is filtered on the Internet"),
                    "use your own address space, or set lab = true in [network] for a lab",
                );
            }
        }
        if let Some(other) = out.iter().find(|o| o.prefix.overlaps(&prefix)) {
            let what = if other.prefix == prefix {
                "is listed twice"
            } else {
                "overlaps"
            };
            cx.error(
                "prefix-overlap",
                &span,
                format!(
                    "{prefix} {what} {} (line {})",
                    other.prefix, other.location.line
                ),
                "give each role its own, non-overlapping prefix",
            );
        }
        let site_ref = |cx: &mut Ctx<'_>, s: &Spanned<String>| -> Option<SiteId> {
            match site_ids.get(s.get_ref()) {
                Some(id) => Some(id.clone()),
                None => {
                    cx.error(
                        "unknown-site",
                        &s.span(),
                        format!("there is no site {:?}", s.get_ref()),
                        format!(
                            "use one of: {}",
                            site_ids.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    );
                    None
                }
            }
        };
        let role = match *rp.role.get_ref() {
            RawRole::Unicast => {
                if let Some(s) = &rp.sites {
                    cx.error(
                        "role-fields",
                        &s.span(),
                        "a unicast prefix belongs to one site: use site = \"NAME\", not sites",
                        "replace sites = [...] by site = \"NAME\"",
                    );
                }
                match &rp.site {
                    Some(s) => match site_ref(cx, s) {
                        Some(id) => Role::Unicast(id),
                        None => continue,
                    },
                    None => {
                        cx.error(
                            "role-fields",
                            &rp_span,
                            format!("unicast prefix {prefix} needs the site that announces it"),
                            "add site = \"NAME\"",
                        );
                        continue;
                    }
                }
            }
            RawRole::Anycast => {
                if let Some(s) = &rp.site {
                    cx.error(
                        "role-fields",
                        &s.span(),
                        "an anycast prefix is announced by several sites: use sites = [...] for regional anycast, or role = \"unicast\"",
                        "replace site = \"NAME\" by sites = [\"NAME\", ...]",
                    );
                }
                match &rp.sites {
                    None => Role::Anycast,
                    Some(list) => {
                        let ids: Vec<SiteId> = list
                            .get_ref()
                            .iter()
                            .filter_map(|s| site_ref(cx, s))
                            .collect();
                        if list.get_ref().is_empty() {
                            cx.error(
                                "role-fields",
                                &list.span(),
                                "sites = [] announces the prefix nowhere",
                                "list the sites, or remove sites to announce it everywhere",
                            );
                        }
                        Role::Regional(ids)
                    }
                }
            }
        };
        out.push(PlannedPrefix {
            prefix,
            role,
            description: rp.description.clone(),
            location: cx.loc(&span),
        });
    }
    out
}

fn site(
    cx: &mut Ctx<'_>,
    id: &SiteId,
    rs: &Spanned<RawSite>,
    prefixes: &[PlannedPrefix],
    base: &Path,
) -> Site {
    let span = rs.span();
    let rs = rs.get_ref();
    if !(-90.0..=90.0).contains(rs.lat.get_ref()) {
        cx.error(
            "bad-coordinates",
            &rs.lat.span(),
            format!("latitude {} is outside -90..90", rs.lat.get_ref()),
            "write decimal degrees, north positive",
        );
    }
    if !(-180.0..=180.0).contains(rs.lon.get_ref()) {
        cx.error(
            "bad-coordinates",
            &rs.lon.span(),
            format!("longitude {} is outside -180..180", rs.lon.get_ref()),
            "write decimal degrees, east positive",
        );
    }
    if let Some(code) = &rs.code {
        let c = code.get_ref();
        if !(2..=8).contains(&c.len()) || !c.bytes().all(|b| b.is_ascii_alphanumeric()) {
            cx.push(
                Severity::Warning,
                "site-code",
                &code.span(),
                format!("site code {c:?} is not an IATA-like code"),
                "use a short code such as \"AMS\"",
            );
        }
    }
    let provider = rs.provider.as_ref().and_then(|p| provider_ref(cx, p));
    let connected: Vec<Prefix> = rs
        .connected
        .iter()
        .filter_map(|c| cx.parse::<Prefix>("bad-prefix", c))
        .collect();
    let announces: Vec<Prefix> = {
        let mut v: Vec<Prefix> = prefixes
            .iter()
            .filter(|p| p.role.announced_by(id))
            .map(|p| p.prefix)
            .collect();
        v.sort();
        v
    };
    let mut upstreams: Vec<Upstream> = Vec::new();
    for ru in &rs.upstreams {
        if let Some(u) = upstream(cx, id, rs, ru, provider.as_deref(), &connected, base) {
            if upstreams.iter().any(|o| o.name == u.name) {
                cx.error(
                    "upstream-duplicate",
                    &ru.span(),
                    format!("site {id} has two upstreams named {}", u.name),
                    "give each upstream its own name = \"...\"",
                );
                continue;
            }
            if !announces.iter().any(|p| p.afi() == u.afi()) {
                cx.push(
                    Severity::Warning,
                    "upstream-nothing-to-announce",
                    &ru.span(),
                    format!(
                        "{} session {} of site {id} has no {} prefix to announce",
                        u.afi(),
                        u.name,
                        u.afi()
                    ),
                    format!(
                        "add an {} prefix for this site, or remove the session",
                        u.afi()
                    ),
                );
            }
            upstreams.push(u);
        }
    }
    if upstreams.is_empty() && rs.upstreams.is_empty() {
        cx.push(
            Severity::Warning,
            "no-upstreams",
            &span,
            format!("site {id} has no upstream sessions"),
            format!("add a [[site.{id}.upstream]] table"),
        );
    }
    let router_id = match &rs.router_id {
        Some(r) => cx
            .parse::<Ipv4Addr>("bad-address", r)
            .unwrap_or(Ipv4Addr::UNSPECIFIED),
        None => upstreams
            .iter()
            .find_map(|u| match u.source {
                Some(IpAddr::V4(a)) => Some(a),
                _ => None,
            })
            .unwrap_or_else(|| {
                cx.error(
                    "router-id-missing",
                    &span,
                    format!("site {id} has no IPv4 source address to use as BGP router ID"),
                    "add router_id = \"<an IPv4 address of the host>\"",
                );
                Ipv4Addr::UNSPECIFIED
            }),
    };
    Site {
        id: id.clone(),
        code: rs.code.as_ref().map(|c| c.get_ref().clone()),
        lat: *rs.lat.get_ref(),
        lon: *rs.lon.get_ref(),
        provider,
        router_id,
        connected,
        announces,
        upstreams,
        location: cx.loc(&span),
    }
}

/// Resolves a provider name to a dictionary id, or reports it.
pub(crate) fn provider_ref(cx: &mut Ctx<'_>, p: &Spanned<String>) -> Option<String> {
    match cx.providers.find(p.get_ref()) {
        Some(prov) => Some(prov.id.clone()),
        None => {
            let ids = cx.providers.ids();
            cx.error(
                "unknown-provider",
                &p.span(),
                format!("no provider dictionary {:?}", p.get_ref()),
                format!("use one of: {ids}; or leave provider out and use raw communities"),
            );
            None
        }
    }
}

/// BIRD 2 keywords an operator might pick as a session name; BIRD refuses them as protocol
/// names. Names starting with `tern_` are ours (statics, filters, kernel protocols).
const BIRD_KEYWORDS: &[&str] = &[
    "accept",
    "action",
    "address",
    "all",
    "as",
    "attribute",
    "babel",
    "bfd",
    "bgp",
    "channel",
    "debug",
    "default",
    "define",
    "description",
    "device",
    "direct",
    "disabled",
    "else",
    "export",
    "filter",
    "from",
    "function",
    "graceful",
    "if",
    "import",
    "in",
    "include",
    "interface",
    "ipv4",
    "ipv6",
    "kernel",
    "limit",
    "local",
    "mpls",
    "multihop",
    "neighbor",
    "net",
    "none",
    "ospf",
    "passive",
    "password",
    "pipe",
    "port",
    "preference",
    "print",
    "proto",
    "protocol",
    "reject",
    "return",
    "rip",
    "roa4",
    "roa6",
    "router",
    "rpki",
    "source",
    "static",
    "table",
    "template",
    "then",
    "to",
    "via",
    "vrf",
    "where",
];

fn is_bird_ident(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
        && s.len() <= 64
        && !BIRD_KEYWORDS.contains(&s.to_ascii_lowercase().as_str())
        && !s.starts_with("tern_")
}

fn upstream(
    cx: &mut Ctx<'_>,
    site: &SiteId,
    rs: &RawSite,
    ru: &Spanned<RawUpstream>,
    site_provider: Option<&str>,
    connected: &[Prefix],
    base: &Path,
) -> Option<Upstream> {
    let span = ru.span();
    let ru = ru.get_ref();
    let provider = match &ru.provider {
        Some(p) => provider_ref(cx, p),
        None => site_provider.map(str::to_owned),
    };
    let dict = provider
        .as_deref()
        .and_then(|p| cx.providers.find(p))
        .cloned();
    let neighbor = cx.parse::<IpAddr>("bad-address", &ru.neighbor)?;
    let afi = if neighbor.is_ipv4() {
        Afi::Ipv4
    } else {
        Afi::Ipv6
    };
    let name = match &ru.name {
        Some(n) => {
            if !is_bird_ident(n.get_ref()) {
                cx.error(
                    "bad-upstream-name",
                    &n.span(),
                    format!(
                        "upstream name {:?} is not usable as a BGP protocol name",
                        n.get_ref()
                    ),
                    "use letters, digits and '_', starting with a letter; not a BIRD keyword, not tern_…",
                );
            }
            n.get_ref().clone()
        }
        None => format!(
            "{}_v{}",
            provider.as_deref().unwrap_or("upstream"),
            if afi == Afi::Ipv4 { 4 } else { 6 }
        ),
    };
    let session = dict.as_ref().and_then(|d| d.session.clone());
    let remote_as = match (&ru.remote_as, &session) {
        (Some(a), _) => *a.get_ref(),
        (None, Some(s)) => s.remote_as,
        (None, None) => {
            cx.error(
                "remote-as-missing",
                &span,
                format!("upstream {name} of site {site} has no remote_as and its provider documents no session AS"),
                "add remote_as = <the neighbor's AS>",
            );
            return None;
        }
    };
    if remote_as == cx.own_asn {
        cx.error(
            "ibgp-session",
            ru.remote_as.as_ref().map(|a| a.span()).as_ref().unwrap_or(&span),
            format!("upstream {name} of site {site} is with our own {remote_as}: that is iBGP, and tern only models eBGP upstreams"),
            "set remote_as to the provider's AS",
        );
    }
    let multihop = match &ru.multihop {
        Some(m) => {
            if *m.get_ref() == 0 {
                cx.error(
                    "bad-multihop",
                    &m.span(),
                    "multihop = 0 is not a TTL",
                    "remove it for a directly connected neighbor, or use 2 or more",
                );
            }
            Some(*m.get_ref())
        }
        None => session.as_ref().and_then(|s| s.multihop),
    };
    let source = ru
        .source
        .as_ref()
        .and_then(|s| cx.parse::<IpAddr>("bad-address", s));
    if let (Some(s), Some(sp)) = (source, &ru.source) {
        if s.is_ipv4() != neighbor.is_ipv4() {
            cx.error(
                "address-family-mismatch",
                &sp.span(),
                format!("source {s} and neighbor {neighbor} are of different address families"),
                "use a source address of the neighbor's family",
            );
        }
    }
    if multihop.is_some() && source.is_none() {
        cx.push(
            Severity::Warning,
            "multihop-without-source",
            &span,
            format!(
                "multihop session {name} of site {site} has no source address; BIRD recommends one"
            ),
            "add source = \"<this host's address>\"",
        );
    }
    let gateway = ru
        .gateway
        .as_ref()
        .and_then(|g| cx.parse::<IpAddr>("bad-address", g));
    let interface = ru.interface.as_ref().map(|i| i.get_ref().clone());
    if let (Some(g), Some(gs)) = (gateway, &ru.gateway) {
        if g.is_ipv4() != neighbor.is_ipv4() {
            cx.error(
                "address-family-mismatch",
                &gs.span(),
                format!("gateway {g} and neighbor {neighbor} are of different address families"),
                "use a gateway of the neighbor's family",
            );
        }
        let link_local = matches!(g, IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80);
        if link_local && interface.is_none() {
            cx.error(
                "gateway-needs-interface",
                &gs.span(),
                format!("gateway {g} is link-local, so the route needs an interface"),
                "add interface = \"eth0\" (the host's uplink)",
            );
        }
    }
    let host_route = gateway.map(|gateway| HostRoute {
        gateway,
        interface: interface.clone(),
    });
    let on_link = connected.iter().any(|c| c.contains_addr(&neighbor));
    if multihop.is_some() && !on_link && host_route.is_none() {
        let len = if neighbor.is_ipv4() { 32 } else { 128 };
        let ip = if neighbor.is_ipv4() { "ip" } else { "ip -6" };
        cx.push(
            Severity::Warning,
            "host-route-missing",
            &ru.neighbor.span(),
            format!("multihop neighbor {neighbor} of {name} (site {site}) is not on a connected network: the host needs the route {neighbor}/{len} via its default gateway, never via BGP"),
            format!("add gateway = \"<default gateway>\" (and interface) so tern renders it, or run `{ip} route add {neighbor}/{len} via <gateway>` on the host"),
        );
    }
    if ru.password_env.is_some() && ru.password_file.is_some() {
        cx.error(
            "password-twice",
            &span,
            format!("upstream {name} has both password_env and password_file"),
            "keep one of them",
        );
    }
    if let Some(p) = &ru.password {
        cx.error(
            "password-literal",
            &p.span(),
            "a password written in tern.toml ends up in version control, backups and rendered diffs; tern.toml only says where the secret is",
            "replace password = \"...\" by password_env = \"VAR\" or password_file = \"path\"",
        );
    }
    let password = match (&ru.password_env, &ru.password_file) {
        (Some(e), _) => {
            let v = e.get_ref();
            if v.is_empty() || !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                cx.error(
                    "bad-password-env",
                    &e.span(),
                    format!("{v:?} is not an environment variable name"),
                    "use letters, digits and '_'",
                );
            }
            Some(Secret::Env(v.clone()))
        }
        (None, Some(f)) => Some(Secret::File(base.join(f.get_ref()))),
        (None, None) => None,
    };
    let export = crate::intent::compile(cx, rs, ru, &name, dict.as_ref());
    Some(Upstream {
        name,
        provider,
        neighbor,
        remote_as,
        multihop,
        source,
        host_route,
        password,
        export,
        location: cx.loc(&span),
    })
}
