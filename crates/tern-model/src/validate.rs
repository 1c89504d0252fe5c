//! Stage two of the config: raw structs ([`crate::raw`]) → [`Network`], collecting every
//! problem as a [`Diagnostic`] with file:line:col instead of stopping at the first one.
//!
//! This module checks what tern.toml alone can tell: the prefix plan (syntax, overlaps,
//! allocation, length, roles) and sites. Sessions (addresses, router ID, multihop host routes,
//! secrets written inline) are checked in the private `session` module, intents compiled in
//! `intent`, services in `service`. Checks that need outside data (bogon tables, VRPs, IRR,
//! environment) are in [`crate::preflight`].

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};
use std::ops::Range;
use std::path::Path;
use std::str::FromStr;

use tern_types::{Community, LargeCommunity, Prefix, SiteId};
use toml::Spanned;

use crate::diag::{Diagnostic, Location, Severity, Source};
use crate::network::{Located, Network, PlannedPrefix, Role, Site, Upstream};
use crate::provider::Providers;
use crate::raw::{RawFile, RawRole, RawSite};

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

    let dns = crate::dns::dns(&mut cx, raw.dns.as_ref(), &prefixes, &sites, base);
    let network = Network {
        name: rn.name,
        asn,
        asn_location,
        lab: rn.lab,
        allocations,
        prefixes,
        sites,
        services,
        dns,
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
        if let Some(u) =
            crate::session::upstream(cx, id, rs, ru, provider.as_deref(), &connected, base)
        {
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
        edge: crate::edge::edge(cx, id, rs.edge.as_ref(), base),
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
