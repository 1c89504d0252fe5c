//! One BGP session of a site (`[[site.NAME.upstream]]`): addresses, AS, multihop and the host
//! route it needs, where its MD5 key comes from, and (through [`crate::intent`]) what it exports.

use std::net::IpAddr;
use std::path::Path;

use tern_types::{Afi, Prefix, SiteId};
use toml::Spanned;

use super::ctx::{Ctx, provider_ref};
use crate::diag::Severity;
use crate::network::{HostRoute, Secret, Upstream};
use crate::raw::{RawSite, RawUpstream};

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

pub(crate) fn upstream(
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
        (None, Some(s)) => {
            let documented = [s.neighbor_v4, s.neighbor_v6];
            if !documented.contains(&Some(neighbor)) {
                let prov = dict
                    .as_ref()
                    .map(|d| d.name.as_str())
                    .unwrap_or("the provider");
                let known: Vec<String> =
                    documented.iter().flatten().map(|a| a.to_string()).collect();
                cx.push(
                    Severity::Warning,
                    "remote-as-guessed",
                    &ru.neighbor.span(),
                    format!(
                        "remote_as defaults to {} from {prov}'s documented sessions ({}), but neighbor {neighbor} is not one of them",
                        s.remote_as,
                        known.join(", ")
                    ),
                    "set remote_as explicitly (e.g. Vultr bare metal: 169.254.1.1, AS20473)",
                );
            }
            s.remote_as
        }
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
    let export = super::intent::compile(cx, rs, ru, &name, remote_as, dict.as_ref());
    let (port, hold_time) = super::edge::session_knobs(cx, ru);
    let (connect_retry, error_wait) = super::edge::retry_knobs(cx, ru);
    Some(Upstream {
        name,
        provider_asn: dict.as_ref().map(|d| d.asn),
        provider,
        neighbor,
        remote_as,
        multihop,
        source,
        host_route,
        password,
        export,
        port,
        hold_time,
        connect_retry,
        error_wait,
        location: cx.loc(&span),
    })
}
