//! One `[site.NAME]`: coordinates, code, provider, connected networks, what it announces, its
//! upstreams (through `session`) and the daemon settings (through `edge`).

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use tern_types::{Prefix, SiteId};
use toml::Spanned;

use super::ctx::{Ctx, provider_ref};
use crate::diag::Severity;
use crate::network::{PlannedPrefix, Site, Upstream};
use crate::raw::RawSite;

pub(crate) fn site(
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
            super::session::upstream(cx, id, rs, ru, provider.as_deref(), &connected, base)
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
        edge: super::edge::edge(cx, id, rs.edge.as_ref(), base),
        location: cx.loc(&span),
    }
}
