//! Stage two of the config: raw structs ([`crate::raw`]) → [`Network`], collecting every
//! problem as a [`Diagnostic`] with file:line:col instead of stopping at the first one.
//!
//! This module is the driver: it checks `[network]` and hands each part to a private step
//! module, which all write to one collector (`ctx::Ctx`):
//!
//! | step | checks |
//! |---|---|
//! | `prefixes` | the prefix plan: syntax, overlaps, allocation, length, roles |
//! | `site` | sites: coordinates, code, provider, what each announces |
//! | `session` | upstreams: addresses, router ID, multihop host routes, secrets written inline |
//! | `intent` | intents and raw communities → communities and [`crate::policy`] effects |
//! | `edge` | `[site.NAME.edge]`, `port`, `hold_time` |
//! | `service` | services and their health checks |
//!
//! Layering (no module cycles): [`crate::raw`] (what is written) and the resolved types
//! ([`crate::network`], [`crate::edge`], [`crate::policy`], [`crate::provider`]) never import
//! this module; the steps import `ctx` and the types, never the driver; the driver imports the
//! steps. Checks that need outside data (bogon tables, VRPs, IRR, environment) are in
//! [`crate::preflight`].

pub(crate) mod ctx;
mod edge;
mod intent;
mod prefixes;
mod service;
mod session;
mod site;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use tern_types::{Prefix, SiteId};

use crate::diag::{Diagnostic, Severity, Source};
use crate::network::{Located, Network};
use crate::provider::Providers;
use crate::raw::RawFile;
use ctx::Ctx;
pub use service::parse_duration;

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

    let prefixes = prefixes::plan(&mut cx, &raw.prefixes, &allocations, &site_ids, rn.lab);

    let base = src.path().parent().unwrap_or(Path::new("."));
    let mut sites = Vec::new();
    for (name, rs) in &raw.sites {
        let Some(id) = site_ids.get(name.get_ref()) else {
            continue;
        };
        sites.push(site::site(&mut cx, id, rs, &prefixes, base));
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
        .filter_map(|s| service::service(&mut cx, s, &prefixes))
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
