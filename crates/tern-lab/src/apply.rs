//! `tern lab apply`: a changed tern.toml applied to the running lab by reload, and the reload
//! diff it prints (per site what changed in tern.toml per upstream, and what its daemon did
//! per session). The lab's shape must stay the same: that needs `down` and `up`.

use std::path::Path;

use serde::Serialize;
use tern_model::Network;

use crate::birdconf;
use crate::config::{Loaded, load};
use crate::daemon;
use crate::error::LabError;
use crate::state::LabState;
use crate::topology::{self, NodeKind, Topology};

/// One node `apply` reloaded: the reload diff.
#[derive(Clone, Debug, Serialize)]
pub struct Applied {
    /// The site or router.
    pub node: String,
    /// What changed for it in tern.toml (per upstream: prepends, communities).
    pub changes: Vec<String>,
    /// What its daemon did, one line per change (`tern ctl reload` at a `tern run` site, e.g.
    /// "upstream vultr6: export attributes changed (UPDATEs, session kept)").
    pub report: Vec<String>,
}

/// Applies a changed tern.toml to the running lab by reload; returns the nodes reloaded. The
/// lab's shape (sites, providers, `[lab]`) must stay the same: that needs `down` and `up`.
pub fn apply(st: &mut LabState, config: &Path) -> Result<Vec<Applied>, LabError> {
    let loaded = load(config)?;
    apply_loaded(st, config, &loaded)
}

/// [`apply`] with an already loaded config.
pub fn apply_loaded(
    st: &mut LabState,
    config: &Path,
    loaded: &Loaded,
) -> Result<Vec<Applied>, LabError> {
    let topo = st.topo()?.clone();
    let old = load(&st.config).ok();
    let new = topology::design(&loaded.net, &loaded.lab, &loaded.providers)?;
    let shape = |t: &Topology| {
        (
            t.nodes
                .iter()
                .map(|n| (n.name.clone(), n.kind, n.asn))
                .collect::<Vec<_>>(),
            t.links
                .iter()
                .map(|l| (l.a, l.b, l.kind))
                .collect::<Vec<_>>(),
            t.target,
        )
    };
    if shape(&topo) != shape(&new) {
        return Err(LabError::Design(
            "the new config changes the lab's shape (sites, upstreams, [lab]); run tern lab down and up"
                .into(),
        ));
    }
    let mut changed = Vec::new();
    for (i, n) in topo.nodes.iter().enumerate() {
        if !matches!(
            n.kind,
            NodeKind::Provider | NodeKind::Transit | NodeKind::Eyeball
        ) {
            continue;
        }
        let conf = birdconf::router_with(
            &topo,
            i,
            &loaded.net,
            &loaded.providers,
            &daemon::log_path(st, &n.name),
            st.md5.as_deref(),
        );
        let path = daemon::conf_path(st, &n.name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(conf.as_str()) {
            std::fs::write(&path, &conf).map_err(|e| LabError::io(&path, e))?;
            daemon::birdc(st, &n.name, &["configure"])?;
            changed.push(Applied {
                node: n.name.clone(),
                changes: vec!["its BIRD config".to_owned()],
                report: vec!["reconfigured (birdc configure)".to_owned()],
            });
        }
    }
    let lab_net = birdconf::site_network(&loaded.net, &topo)?;
    for s in &topo.sites {
        if let Some(report) = st.speaker.apply(st, s.id.as_str(), loaded, &lab_net)? {
            let changes = old
                .as_ref()
                .map(|o| export_changes(&o.net, &loaded.net, s.id.as_str()))
                .unwrap_or_default();
            changed.push(Applied {
                node: s.id.to_string(),
                changes,
                report,
            });
        }
    }
    st.config = std::fs::canonicalize(config).unwrap_or(config.to_path_buf());
    st.save()?;
    Ok(changed)
}

/// What changed in the export attributes of a site's upstreams, one line per upstream.
pub fn export_changes(old: &Network, new: &Network, site: &str) -> Vec<String> {
    let find = |n: &'_ Network| n.sites.iter().find(|s| s.id.as_str() == site).cloned();
    let (Some(o), Some(n)) = (find(old), find(new)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for nu in &n.upstreams {
        let Some(ou) = o.upstreams.iter().find(|u| u.name == nu.name) else {
            out.push(format!("upstream {}: added", nu.name));
            continue;
        };
        let (oe, ne) = (&ou.export, &nu.export);
        let mut what = Vec::new();
        if oe.prepend != ne.prepend {
            what.push(format!("prepend {}x -> {}x", oe.prepend, ne.prepend));
        }
        let added: Vec<String> = ne
            .communities
            .iter()
            .filter(|c| !oe.communities.contains(c))
            .map(|c| format!("+{c}"))
            .chain(
                ne.large_communities
                    .iter()
                    .filter(|c| !oe.large_communities.contains(c))
                    .map(|c| format!("+{c}")),
            )
            .collect();
        let removed: Vec<String> = oe
            .communities
            .iter()
            .filter(|c| !ne.communities.contains(c))
            .map(|c| format!("-{c}"))
            .chain(
                oe.large_communities
                    .iter()
                    .filter(|c| !ne.large_communities.contains(c))
                    .map(|c| format!("-{c}")),
            )
            .collect();
        if !added.is_empty() || !removed.is_empty() {
            what.push(format!(
                "communities {}",
                added
                    .into_iter()
                    .chain(removed)
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
        }
        if !what.is_empty() {
            out.push(format!("upstream {}: {}", nu.name, what.join(", ")));
        }
    }
    for ou in &o.upstreams {
        if !n.upstreams.iter().any(|u| u.name == ou.name) {
            out.push(format!("upstream {}: removed", ou.name));
        }
    }
    out
}
