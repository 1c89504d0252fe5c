//! What runs at a lab site: the one place where the BIRD stand-in will be swapped for
//! `tern run` (issue 5) once the site daemon exists.
//!
//! [`SpeakerKind::Bird`] (today): the site runs BIRD 2 with the config tern-bird renders for
//! it, adapted to the lab ([`crate::birdconf::site_network`]), plus the lab's own "which site"
//! endpoints ([`crate::whoami`]). Failing a site disables its BGP protocols with `birdc
//! disable` (BIRD withdraws by closing the sessions with a Cease); healing enables them again;
//! applying a config re-renders it and runs `birdc configure` when it changed.
//!
//! [`SpeakerKind::TernRun`] (later): `tern run tern.toml --site NAME` in the namespace; fail
//! stops its service so that the health checks withdraw, heal starts it, apply is a SIGHUP.

use std::path::Path;

use serde::{Deserialize, Serialize};
use tern_model::Network;

use crate::birdconf;
use crate::daemon;
use crate::error::LabError;
use crate::state::{LabState, Proc, ProcKind};

/// The site speaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SpeakerKind {
    /// BIRD 2 with tern-bird's config, plus the lab's whoami endpoints.
    Bird,
    /// The site daemon `tern run` (not built yet).
    TernRun,
}

impl SpeakerKind {
    /// For status output.
    pub fn describe(self) -> &'static str {
        match self {
            SpeakerKind::Bird => "BIRD 2 stand-in (tern-bird config) + lab whoami endpoints",
            SpeakerKind::TernRun => "tern run",
        }
    }

    fn not_yet(self) -> LabError {
        LabError::Design(format!(
            "the {} site speaker is not available yet; use the BIRD stand-in",
            self.describe()
        ))
    }

    /// Starts everything a site runs; returns the processes started.
    pub fn start(
        self,
        state: &LabState,
        site: &str,
        lab_net: &Network,
        bird: &Path,
        exe: &Path,
    ) -> Result<Vec<Proc>, LabError> {
        match self {
            SpeakerKind::Bird => {
                let topo = state.topo()?;
                let ls = topo
                    .site(site)
                    .ok_or_else(|| LabError::NotFound(format!("no site {site}")))?;
                let node = &topo.nodes[ls.node];
                let conf = birdconf::site(lab_net, site, &daemon::log_path(state, site))?;
                let mut procs = Vec::new();
                let addrs: Vec<std::net::IpAddr> = node
                    .addrs
                    .iter()
                    .map(|a| (*a).into())
                    .chain(node.addrs4.iter().map(|a| (*a).into()))
                    .collect();
                let pid = daemon::start_whoami(state, site, exe, site, ls.code.as_deref(), &addrs)?;
                procs.push(Proc {
                    node: site.to_owned(),
                    kind: ProcKind::Whoami,
                    pid: Some(pid),
                });
                let pid = daemon::start_bird(state, site, &conf, bird)?;
                procs.push(Proc {
                    node: site.to_owned(),
                    kind: ProcKind::Bird,
                    pid: Some(pid),
                });
                Ok(procs)
            }
            SpeakerKind::TernRun => Err(self.not_yet()),
        }
    }

    /// Makes the site stop attracting traffic (BIRD: `birdc disable` of its BGP sessions).
    pub fn fail(self, state: &LabState, site: &str) -> Result<(), LabError> {
        self.toggle(state, site, "disable")
    }

    /// Undoes [`SpeakerKind::fail`].
    pub fn heal(self, state: &LabState, site: &str) -> Result<(), LabError> {
        self.toggle(state, site, "enable")
    }

    fn toggle(self, state: &LabState, site: &str, verb: &str) -> Result<(), LabError> {
        match self {
            SpeakerKind::Bird => {
                let ls = state
                    .topo()?
                    .site(site)
                    .ok_or_else(|| LabError::NotFound(format!("no site {site}")))?;
                for u in &ls.upstreams {
                    daemon::birdc(state, site, &[verb, u])?;
                }
                Ok(())
            }
            SpeakerKind::TernRun => Err(self.not_yet()),
        }
    }

    /// Applies the site's part of a new config; `Ok(true)` when it changed and was reloaded.
    pub fn apply(self, state: &LabState, site: &str, lab_net: &Network) -> Result<bool, LabError> {
        match self {
            SpeakerKind::Bird => {
                let conf = birdconf::site(lab_net, site, &daemon::log_path(state, site))?;
                let path = daemon::conf_path(state, site);
                if std::fs::read_to_string(&path).ok().as_deref() == Some(conf.as_str()) {
                    return Ok(false);
                }
                std::fs::write(&path, &conf).map_err(|e| LabError::io(&path, e))?;
                daemon::birdc(state, site, &["configure"])?;
                // A failed site stays failed: configure re-reads protocols as enabled.
                if state.failed.iter().any(|f| f == site) {
                    self.fail(state, site)?;
                }
                Ok(true)
            }
            SpeakerKind::TernRun => Err(self.not_yet()),
        }
    }
}
