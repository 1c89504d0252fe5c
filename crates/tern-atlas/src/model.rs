//! Site hints from tern.toml: the network model is the hints, no second file.
//!
//! tern-model resolves the network (sites, their unicast prefixes and connected networks, the
//! upstream routers' addresses); this module maps that onto [`SiteHints`], which the catchment
//! classifier matches hops and names against. The small sites.json / sites.toml hint format
//! stays for targets that are not described by a tern.toml (third-party anycast).

use std::path::Path;

use tern_model::{Network, Role, Severity};

use crate::catchment::{SiteHint, SiteHints};
use crate::error::AtlasError;

impl SiteHints {
    /// Hints for every site of a resolved network: id, code (as IATA), coordinates, the unicast
    /// prefixes it announces and its connected networks (hops there belong to the site), and
    /// its upstream routers (neighbor addresses and host-route gateways: the hop before us).
    pub fn from_network(net: &Network) -> SiteHints {
        let sites = net
            .sites
            .iter()
            .map(|s| {
                let mut prefixes: Vec<_> = net
                    .prefixes
                    .iter()
                    .filter(|p| matches!(&p.role, Role::Unicast(id) if *id == s.id))
                    .map(|p| p.prefix)
                    .collect();
                prefixes.extend(s.connected.iter().copied());
                prefixes.sort();
                prefixes.dedup();
                let mut router_addrs: Vec<_> = s
                    .upstreams
                    .iter()
                    .flat_map(|u| {
                        std::iter::once(u.neighbor).chain(u.host_route.as_ref().map(|h| h.gateway))
                    })
                    .collect();
                router_addrs.sort();
                router_addrs.dedup();
                SiteHint {
                    id: s.id.clone(),
                    iata: s.code.clone(),
                    lat: Some(s.lat),
                    lon: Some(s.lon),
                    prefixes,
                    router_addrs,
                    names: Vec::new(),
                }
            })
            .collect();
        SiteHints {
            sites,
            notes: Vec::new(),
        }
    }

    /// Reads hints from a tern.toml (a `.toml` file with a `[network]` table), resolved by
    /// tern-model; validation errors that leave the sites usable become [`SiteHints::notes`].
    pub(crate) fn from_tern_toml(path: &Path) -> Result<SiteHints, AtlasError> {
        let model = tern_model::load(path).map_err(|e| AtlasError::Hints {
            origin: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let mut hints = SiteHints::from_network(&model.network);
        let errors = model
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        if errors > 0 {
            hints.notes.push(format!(
                "{}: {errors} validation error(s) (see `tern check`); using the {} site(s) that resolved",
                path.display(),
                hints.sites.len()
            ));
        }
        if hints.sites.is_empty() {
            return Err(AtlasError::Hints {
                origin: path.display().to_string(),
                reason: "the network has no sites".into(),
            });
        }
        Ok(hints)
    }
}

/// Whether TOML text is a tern.toml (has a top-level `[network]` table), not a hints file.
pub(crate) fn is_tern_toml(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .any(|l| l.starts_with("[network]") || l.starts_with("[network."))
}
