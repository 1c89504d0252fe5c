//! What runs at a lab site: the one switch between `tern run` (the default) and the BIRD
//! stand-in the lab was built with before the site daemon existed.
//!
//! [`SpeakerKind::TernRun`]: `tern run <sites/NAME/tern.toml> --site NAME` in the site's
//! namespace, with the per-site config of [`crate::siterun`] (sessions to the lab's provider
//! routers with a lab TCP-MD5 key, the "which site" DNS and HTTP responders on the service
//! addresses, one health-checked service), next to a small HTTP service (`tern lab serve` on
//! [`crate::siterun::SERVICE_ADDR`]) that the health check asks. `fail` stops that service: the
//! check fails `fall` times and `tern run` withdraws; `heal` starts it again: `rise` successes
//! (and, after a flap, the daemon's damping hold-down) and it announces again. `apply` writes
//! the new per-site config and runs `tern ctl reload` (communities and prepends change by
//! UPDATE, the sessions stay up).
//!
//! [`SpeakerKind::Bird`]: BIRD 2 with the config tern-bird renders for the site
//! ([`crate::birdconf::site_network`]), plus the lab's own "which site" endpoints
//! ([`crate::whoami`]). `fail` disables its BGP protocols with `birdc disable` (a Cease, no
//! health check in the loop), `heal` enables them, `apply` re-renders and runs `birdc
//! configure`.

use std::ffi::OsString;
use std::path::Path;
use std::time::{Duration, Instant};

use tern_model::Network;

use crate::birdconf;
use crate::config::Loaded;
use crate::daemon;
use crate::error::LabError;
use crate::netns;
use crate::siterun::{self, SiteFiles};
pub use crate::state::SpeakerKind;
use crate::state::{LabState, Proc, ProcKind};

/// How long `tern run` may take to open its control socket.
pub const START_TIMEOUT: Duration = Duration::from_secs(15);

impl SpeakerKind {
    /// Starts everything a site runs, recording each process in `st` as it starts.
    pub fn start(
        self,
        st: &mut LabState,
        site: &str,
        loaded: &Loaded,
        lab_net: &Network,
        bird: &Path,
        exe: &Path,
    ) -> Result<(), LabError> {
        let topo = st.topo()?.clone();
        let ls = topo
            .site(site)
            .ok_or_else(|| LabError::NotFound(format!("no site {site}")))?;
        match self {
            SpeakerKind::Bird => {
                let node = &topo.nodes[ls.node];
                let conf = birdconf::site(lab_net, site, &daemon::log_path(st, site))?;
                let addrs: Vec<std::net::IpAddr> = node
                    .addrs
                    .iter()
                    .map(|a| (*a).into())
                    .chain(node.addrs4.iter().map(|a| (*a).into()))
                    .collect();
                let pid = daemon::start_whoami(st, site, exe, site, ls.code.as_deref(), &addrs)?;
                record(st, site, ProcKind::Whoami, pid)?;
                let pid = daemon::start_bird(st, site, &conf, bird)?;
                record(st, site, ProcKind::Bird, pid)
            }
            SpeakerKind::TernRun => {
                let files = SiteFiles::new(&st.dir, site);
                write_site_files(st, site, loaded, lab_net, &files)?;
                start_service(st, site, exe, &files)?;
                let args: Vec<OsString> = vec![
                    "run".into(),
                    files.config.clone().into(),
                    "--site".into(),
                    site.into(),
                ];
                let pid = daemon::spawn(st, site, exe, &args, &files.log)?;
                record(st, site, ProcKind::TernRun, pid)?;
                let t = Instant::now();
                while !files.ctl_socket.exists() {
                    if !netns::alive(pid) {
                        let log = std::fs::read_to_string(&files.log).unwrap_or_default();
                        return Err(LabError::Command {
                            command: format!("tern run --site {site} in {}", st.ns(site)),
                            detail: format!("exited: {}", log.trim()),
                        });
                    }
                    if t.elapsed() > START_TIMEOUT {
                        return Err(LabError::Timeout {
                            what: format!(
                                "tern run at {site} to open {}",
                                files.ctl_socket.display()
                            ),
                            seconds: START_TIMEOUT.as_secs(),
                        });
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Ok(())
            }
        }
    }

    /// Makes the site stop attracting traffic: tern run: stop its service (the health check
    /// withdraws); BIRD: `birdc disable` of its BGP sessions.
    pub fn fail(self, st: &mut LabState, site: &str) -> Result<(), LabError> {
        match self {
            SpeakerKind::Bird => toggle(st, site, "disable"),
            SpeakerKind::TernRun => {
                let pids: Vec<u32> = service_pids(st, site);
                for pid in pids {
                    netns::stop(pid, Duration::from_secs(2));
                }
                st.processes
                    .retain(|p| !(p.node == site && p.kind == ProcKind::Service));
                st.save()
            }
        }
    }

    /// Undoes [`SpeakerKind::fail`].
    pub fn heal(self, st: &mut LabState, site: &str) -> Result<(), LabError> {
        match self {
            SpeakerKind::Bird => toggle(st, site, "enable"),
            SpeakerKind::TernRun => {
                if service_pids(st, site).is_empty() {
                    st.processes
                        .retain(|p| !(p.node == site && p.kind == ProcKind::Service));
                    let exe = exe(st)?;
                    start_service(st, site, &exe, &SiteFiles::new(&st.dir, site))?;
                }
                Ok(())
            }
        }
    }

    /// Applies the site's part of a new config; `Ok(None)` when it did not change, else what
    /// the reload did, one line per change (`tern ctl reload`'s report; `birdc configure`).
    pub fn apply(
        self,
        st: &LabState,
        site: &str,
        loaded: &Loaded,
        lab_net: &Network,
    ) -> Result<Option<Vec<String>>, LabError> {
        match self {
            SpeakerKind::Bird => {
                let conf = birdconf::site(lab_net, site, &daemon::log_path(st, site))?;
                let path = daemon::conf_path(st, site);
                if std::fs::read_to_string(&path).ok().as_deref() == Some(conf.as_str()) {
                    return Ok(None);
                }
                std::fs::write(&path, &conf).map_err(|e| LabError::io(&path, e))?;
                daemon::birdc(st, site, &["configure"])?;
                // A failed site stays failed: configure re-reads protocols as enabled.
                if st.failed.iter().any(|f| f.as_str() == site) {
                    toggle(st, site, "disable")?;
                }
                Ok(Some(vec![
                    "BIRD stand-in reconfigured (birdc configure)".to_owned(),
                ]))
            }
            SpeakerKind::TernRun => {
                let files = SiteFiles::new(&st.dir, site);
                let own = |f: &Path| {
                    std::fs::read_to_string(f)
                        .ok()
                        .and_then(|t| siterun::own_part(&t, site))
                };
                let old = own(&files.config);
                write_site_files(st, site, loaded, lab_net, &files)?;
                if old.is_some() && old == own(&files.config) {
                    return Ok(None);
                }
                let exe = exe(st)?;
                let out = std::process::Command::new(&exe)
                    .arg("ctl")
                    .arg("--socket")
                    .arg(&files.ctl_socket)
                    .arg("reload")
                    .output()
                    .map_err(|e| LabError::Command {
                        command: format!("{} ctl reload", exe.display()),
                        detail: e.to_string(),
                    })?;
                if !out.status.success() {
                    return Err(LabError::Command {
                        command: format!("tern ctl reload at {site}"),
                        detail: format!(
                            "{}: {}{}",
                            out.status,
                            String::from_utf8_lossy(&out.stdout).trim(),
                            String::from_utf8_lossy(&out.stderr).trim()
                        ),
                    });
                }
                Ok(Some(
                    String::from_utf8_lossy(&out.stdout)
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(str::to_owned)
                        .collect(),
                ))
            }
        }
    }
}

fn record(st: &mut LabState, node: &str, kind: ProcKind, pid: u32) -> Result<(), LabError> {
    st.processes.push(Proc {
        node: node.to_owned(),
        kind,
        pid: Some(pid),
    });
    st.save()
}

fn exe(st: &LabState) -> Result<std::path::PathBuf, LabError> {
    match &st.exe {
        Some(e) => Ok(e.clone()),
        None => std::env::current_exe().map_err(|e| LabError::io(Path::new("tern"), e)),
    }
}

fn service_pids(st: &LabState, site: &str) -> Vec<u32> {
    st.processes
        .iter()
        .filter(|p| p.node == site && p.kind == ProcKind::Service)
        .filter_map(|p| p.pid)
        .filter(|pid| netns::alive(*pid))
        .collect()
}

/// Writes the per-site tern.toml (and the MD5 key file, mode 0600).
fn write_site_files(
    st: &LabState,
    site: &str,
    loaded: &Loaded,
    lab_net: &Network,
    files: &SiteFiles,
) -> Result<(), LabError> {
    use std::os::unix::fs::PermissionsExt;
    let dir = files.config.parent().unwrap_or(&st.dir);
    std::fs::create_dir_all(dir).map_err(|e| LabError::io(dir, e))?;
    if let Some(key) = &st.md5 {
        std::fs::write(&files.md5_file, format!("{key}\n"))
            .map_err(|e| LabError::io(&files.md5_file, e))?;
        std::fs::set_permissions(&files.md5_file, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| LabError::io(&files.md5_file, e))?;
    }
    let text = siterun::site_toml(
        &loaded.text,
        &loaded.net,
        lab_net,
        st.topo()?,
        site,
        files,
        st.md5.is_some(),
    )?;
    std::fs::write(&files.geo_csv, crate::geodns::geo_csv(st.topo()?))
        .map_err(|e| LabError::io(&files.geo_csv, e))?;
    std::fs::write(&files.config, text).map_err(|e| LabError::io(&files.config, e))
}

/// Starts the site's small service (`tern lab serve` on the service address).
fn start_service(
    st: &mut LabState,
    site: &str,
    exe: &Path,
    files: &SiteFiles,
) -> Result<(), LabError> {
    let args: Vec<OsString> = vec![
        "lab".into(),
        "serve".into(),
        "--site".into(),
        site.into(),
        "--addr".into(),
        siterun::SERVICE_ADDR.into(),
        "--http-port".into(),
        siterun::SERVICE_PORT.to_string().into(),
        "--dns-port".into(),
        siterun::SERVICE_DNS_PORT.to_string().into(),
    ];
    let pid = daemon::spawn(st, site, exe, &args, &files.service_log)?;
    record(st, site, ProcKind::Service, pid)
}

fn toggle(st: &LabState, site: &str, verb: &str) -> Result<(), LabError> {
    let ls = st
        .topo()?
        .site(site)
        .ok_or_else(|| LabError::NotFound(format!("no site {site}")))?;
    for u in &ls.upstreams {
        daemon::birdc(st, site, &[verb, u])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speaker_names() {
        assert_eq!(
            "tern-run".parse::<SpeakerKind>().unwrap(),
            SpeakerKind::TernRun
        );
        assert_eq!("bird".parse::<SpeakerKind>().unwrap(), SpeakerKind::Bird);
        assert!("gobgp".parse::<SpeakerKind>().is_err());
        // The state file spells them the same way.
        assert_eq!(
            serde_json::to_string(&SpeakerKind::TernRun).unwrap(),
            "\"tern-run\""
        );
    }
}
