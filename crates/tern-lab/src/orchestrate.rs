//! Lab life cycle: `up` (transactional, interruptible), `down`, `status`, `fail`, `heal` and
//! `apply`. Each step records what it created in the lab state before moving on, so `down`
//! (or the rollback of a failed `up`) removes exactly what exists, and nothing else.

use std::net::Ipv6Addr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;
use tern_types::SiteId;

pub use crate::apply::{Applied, apply, apply_loaded, export_changes};
use crate::birdconf;
use crate::collector;
pub use crate::config::{Loaded, load, load_text};
use crate::daemon::{self, Protocol};
use crate::error::LabError;
use crate::interrupt::Interrupt;
use crate::netns;
pub use crate::prereq::{
    MEASURE_PROGRAMS, UP_PROGRAMS, find_program, missing_programs, package_of, prerequisites,
};
use crate::state::{self, LabState, Proc, ProcKind, SpeakerKind};
use crate::topology::{self, LinkKind, NodeKind, Topology};

/// How long `down` lets `tern run` withdraw and exit after SIGTERM before killing it.
pub const RUN_STOP: Duration = Duration::from_secs(8);
/// How long `up` waits for every BGP session and route by default.
pub const DEFAULT_CONVERGE: Duration = Duration::from_secs(60);

/// How to bring a lab up.
#[derive(Clone, Debug)]
pub struct UpOptions {
    /// tern.toml.
    pub config: PathBuf,
    /// State root (default [`state::DEFAULT_ROOT`]).
    pub root: PathBuf,
    /// Tag; a fresh one when `None`.
    pub tag: Option<String>,
    /// The `tern` executable (runs `tern run` and `tern lab serve` in site namespaces).
    pub exe: PathBuf,
    /// The BIRD program.
    pub bird: PathBuf,
    /// What runs at the sites.
    pub speaker: SpeakerKind,
    /// How long to wait for BGP to converge.
    pub converge: Duration,
    /// Raised by SIGINT/SIGTERM: `up` stops at the next step and removes what it made.
    pub interrupt: Interrupt,
}

/// Creates the lab. On any error everything created so far is removed before returning it.
pub fn up(opts: &UpOptions) -> Result<LabState, LabError> {
    let mut programs = UP_PROGRAMS.to_vec();
    let bird = opts.bird.to_string_lossy().into_owned();
    programs.push(&bird);
    prerequisites(&programs)?;
    let loaded = load(&opts.config)?;
    let topo = topology::design(&loaded.net, &loaded.lab, &loaded.providers)?;
    let tag = opts.tag.clone().unwrap_or_else(state::new_tag);
    if !state::valid_tag(&tag) {
        return Err(LabError::Design(format!(
            "tag {tag:?}: use 1-{} lowercase letters or digits",
            state::MAX_TAG
        )));
    }
    let config = std::fs::canonicalize(&opts.config).unwrap_or(opts.config.clone());
    let mut st = LabState::new(&opts.root, &tag, &config, opts.speaker);
    st.exe = Some(opts.exe.clone());
    st.up_pid = Some(std::process::id());
    if opts.speaker == SpeakerKind::TernRun {
        st.md5 = Some(state::new_key());
    }
    if st.dir.join("state.json").exists() {
        return Err(LabError::Design(format!(
            "a lab tagged {tag} exists already ({}); run tern lab down --tag {tag}",
            st.dir.display()
        )));
    }
    let prefix = state::ns_prefix(&tag);
    if netns::list()?.iter().any(|n| n.starts_with(&prefix)) {
        return Err(LabError::Design(format!(
            "namespaces named {prefix}* exist already; run tern lab down --tag {tag}"
        )));
    }
    st.topology = Some(topo);
    st.save()?;
    match build(&mut st, &loaded, opts) {
        Ok(()) => {
            st.complete = true;
            st.save()?;
            Ok(st)
        }
        Err(e) => {
            let _ = st.save();
            let r = down(&st);
            // After a signal, whatever failed (a terminal's Ctrl-C also reaches the commands
            // `up` runs in its own process group) failed because of it.
            Err(match opts.interrupt.signal() {
                Some(signal) => LabError::Interrupted {
                    signal,
                    namespaces: r.namespaces.len(),
                    processes: r.processes,
                },
                None => e,
            })
        }
    }
}

fn build(st: &mut LabState, loaded: &Loaded, opts: &UpOptions) -> Result<(), LabError> {
    let topo = st.topo()?.clone();
    let stop = &opts.interrupt;
    for n in &topo.nodes {
        stop.check()?;
        let ns = st.ns(&n.name);
        st.namespaces.push(ns.clone());
        st.save()?;
        netns::add(&ns)?;
    }
    let mut netem = true;
    for l in &topo.links {
        stop.check()?;
        let (a, b) = (&topo.nodes[l.a].name, &topo.nodes[l.b].name);
        let (na, nb) = (st.ns(a), st.ns(b));
        netns::veth(&na, &l.a_if, &nb, &l.b_if)?;
        netns::addr(&na, &l.a_if, l.a_addr, l.plen)?;
        netns::addr(&nb, &l.b_if, l.b_addr, l.plen)?;
        if let (Some(a4), Some(b4)) = (l.a_addr4, l.b_addr4) {
            netns::addr4(&na, &l.a_if, a4, l.plen4)?;
            netns::addr4(&nb, &l.b_if, b4, l.plen4)?;
        }
        if netem {
            netem =
                netns::netem(&na, &l.a_if, l.delay_ms)? && netns::netem(&nb, &l.b_if, l.delay_ms)?;
        }
    }
    st.netem = netem;
    // Sites: service addresses on loopback, default route to their first provider.
    // Probes: default route to their eyeball router. Both stay inside the lab.
    for (i, n) in topo.nodes.iter().enumerate() {
        let ns = st.ns(&n.name);
        match n.kind {
            NodeKind::Site => {
                for a in &n.addrs {
                    netns::addr(&ns, "lo", *a, 128)?;
                }
                for a in &n.addrs4 {
                    netns::addr4(&ns, "lo", *a, 32)?;
                }
                // Traffic the site starts itself (the GeoDNS checks of the other sites'
                // unicast addresses) leaves from its unicast ::1, which the lab routes back.
                let unicast = topo.sites.iter().find(|s| s.node == i).and_then(|s| {
                    n.addrs.iter().copied().find(|a| {
                        s.unicast
                            .iter()
                            .any(|p| p.contains_addr(&std::net::IpAddr::V6(*a)))
                    })
                });
                gateways(&ns, &topo, i, LinkKind::Transit, unicast)?;
            }
            NodeKind::Probe => gateways(&ns, &topo, i, LinkKind::Access, None)?,
            _ => {}
        }
    }
    st.save()?;
    for (i, n) in topo.nodes.iter().enumerate() {
        let conf = match n.kind {
            NodeKind::Provider | NodeKind::Transit | NodeKind::Eyeball => birdconf::router_with(
                &topo,
                i,
                &loaded.net,
                &loaded.providers,
                &daemon::log_path(st, &n.name),
                st.md5.as_deref(),
            ),
            NodeKind::Collector => {
                let dir = collector::mrt_dir(st);
                std::fs::create_dir_all(&dir).map_err(|e| LabError::Io {
                    path: dir.clone(),
                    source: e,
                })?;
                collector::config(&topo, i, &daemon::log_path(st, &n.name), &dir)
            }
            NodeKind::Site | NodeKind::Probe => continue,
        };
        let pid = daemon::start_bird(st, &n.name, &conf, &opts.bird)?;
        st.processes.push(Proc {
            node: n.name.clone(),
            kind: ProcKind::Bird,
            pid: Some(pid),
        });
        st.save()?;
    }
    let lab_net = birdconf::site_network(&loaded.net, &topo)?;
    let speaker = st.speaker;
    for s in &topo.sites {
        stop.check()?;
        speaker.start(st, s.id.as_str(), loaded, &lab_net, &opts.bird, &opts.exe)?;
    }
    wait_converged(st, opts.converge, stop)
}

/// Default routes of node `i` towards the other end of its first link of `kind`; `src` is the
/// preferred IPv6 source address of the route.
fn gateways(
    ns: &str,
    topo: &Topology,
    i: usize,
    kind: LinkKind,
    src: Option<std::net::Ipv6Addr>,
) -> Result<(), LabError> {
    let Some((l, ..)) = topo.links_of(i).into_iter().find(|(l, ..)| l.kind == kind) else {
        return Ok(());
    };
    let ours = l.a == i;
    netns::default_route(ns, if ours { l.b_addr } else { l.a_addr }, src)?;
    if let Some(gw) = if ours { l.b_addr4 } else { l.a_addr4 } {
        netns::default_route4(ns, gw)?;
    }
    Ok(())
}

/// Waits until every BGP session is Established (those of failed sites excepted), every site
/// that is not failed announces the anycast prefix to its provider router, and every eyeball
/// router has a route to the target. Stops with [`LabError::Interrupted`] when `stop` is raised.
pub fn wait_converged(st: &LabState, timeout: Duration, stop: &Interrupt) -> Result<(), LabError> {
    let topo = st.topo()?;
    let t = Instant::now();
    let mut targets = vec![topo.target.to_string()];
    targets.extend(topo.target4.map(|t| t.to_string()));
    loop {
        stop.check()?;
        let mut pending = Vec::new();
        for n in &topo.nodes {
            if n.kind == NodeKind::Probe || st.failed.iter().any(|f| f.as_str() == n.name) {
                continue;
            }
            // tern run's sessions are seen from the provider routers' side.
            if n.kind == NodeKind::Site && !st.speaker.has_bird() {
                continue;
            }
            match daemon::protocols(st, &n.name) {
                Ok(ps) => pending.extend(
                    ps.iter()
                        .filter(|p| p.proto == "BGP" && !p.info.starts_with("Established"))
                        .map(|p| format!("{}:{}", n.name, p.name)),
                ),
                Err(_) => pending.push(format!("{} (no answer from BIRD)", n.name)),
            }
        }
        if pending.is_empty() {
            // Every site that is not failed announces the anycast prefix to its provider router
            // (tern run announces only after its checks passed `rise` times, so an Established
            // session is not enough: a measurement before that would see a partial catchment).
            for l in &topo.links {
                let (site, prov) = (&topo.nodes[l.a], &topo.nodes[l.b]);
                if site.kind != NodeKind::Site
                    || prov.kind != NodeKind::Provider
                    || st.failed.iter().any(|f| f.as_str() == site.name)
                {
                    continue;
                }
                let mut want = vec![(topo.target.to_string(), l.a_addr.to_string())];
                if let (Some(t4), Some(a4)) = (topo.target4, l.a_addr4) {
                    want.push((t4.to_string(), a4.to_string()));
                }
                for (target, via) in want {
                    let r = daemon::birdc(st, &prov.name, &["show", "route", "for", &target])
                        .unwrap_or_default();
                    if !r.contains(&format!("via {via} ")) {
                        pending.push(format!(
                            "{}: no route to {target} from {}",
                            prov.name, site.name
                        ));
                    }
                }
            }
        }
        if pending.is_empty() {
            for i in topo.of_kind(NodeKind::Eyeball) {
                let name = &topo.nodes[i].name;
                for target in &targets {
                    let r = daemon::birdc(st, name, &["show", "route", "for", target])
                        .unwrap_or_default();
                    if !r.contains("via") {
                        pending.push(format!("{name}: no route to {target}"));
                    }
                }
            }
        }
        if pending.is_empty() {
            return Ok(());
        }
        if t.elapsed() > timeout {
            return Err(LabError::Timeout {
                what: format!("BGP to converge; still pending: {}", pending.join(", ")),
                seconds: timeout.as_secs(),
            });
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// What `down` removed.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DownReport {
    /// Processes stopped.
    pub processes: usize,
    /// Namespaces deleted.
    pub namespaces: Vec<String>,
    /// Problems met (down carries on past them).
    pub problems: Vec<String>,
}

/// Removes a lab: its processes, every namespace named `tern-<tag>-*` (recorded or not), and
/// its state directory. Safe to run on a half-built lab and to run twice.
pub fn down(st: &LabState) -> DownReport {
    let mut r = down_tag(&st.tag, &st.processes);
    if let Err(e) = std::fs::remove_dir_all(&st.dir) {
        if e.kind() != std::io::ErrorKind::NotFound {
            r.problems.push(format!("{}: {e}", st.dir.display()));
        }
    }
    r
}

/// The namespace and process part of [`down`], by tag (works without a state file).
pub fn down_tag(tag: &str, procs: &[Proc]) -> DownReport {
    let mut r = DownReport::default();
    let grace = Duration::from_secs(2);
    // `tern run` first, all at once: on SIGTERM each withdraws and sends a Cease while the
    // provider routers still listen.
    let runs: Vec<u32> = procs
        .iter()
        .filter(|p| p.kind == ProcKind::TernRun)
        .filter_map(|p| p.pid)
        .filter(|p| netns::alive(*p))
        .collect();
    for pid in &runs {
        let _ = netns::output("kill", &["-TERM", &pid.to_string()]);
    }
    let t = Instant::now();
    while runs.iter().any(|p| netns::alive(*p)) && t.elapsed() < RUN_STOP {
        std::thread::sleep(Duration::from_millis(20));
    }
    for pid in &runs {
        netns::stop(*pid, Duration::ZERO);
        r.processes += 1;
    }
    for p in procs.iter().filter(|p| p.kind != ProcKind::TernRun) {
        if let Some(pid) = p.pid.filter(|p| netns::alive(*p)) {
            netns::stop(pid, grace);
            r.processes += 1;
        }
    }
    let prefix = state::ns_prefix(tag);
    let all = match netns::list() {
        Ok(v) => v,
        Err(e) => {
            r.problems.push(e.to_string());
            Vec::new()
        }
    };
    for ns in all.into_iter().filter(|n| n.starts_with(&prefix)) {
        // Anything still running inside our namespace is ours.
        for pid in netns::pids(&ns).unwrap_or_default() {
            netns::stop(pid, grace);
            r.processes += 1;
        }
        match netns::delete(&ns) {
            Ok(()) => r.namespaces.push(ns),
            Err(e) => r.problems.push(e.to_string()),
        }
    }
    r
}

/// One node in `status`.
#[derive(Clone, Debug, Serialize)]
pub struct NodeStatus {
    /// Node name.
    pub name: String,
    /// Kind.
    pub kind: NodeKind,
    /// Namespace.
    pub namespace: String,
    /// Does the namespace exist?
    pub present: bool,
    /// Processes: (kind, pid, alive).
    pub processes: Vec<(ProcKind, u32, bool)>,
    /// BGP protocols of its BIRD (at a `tern run` site: its provider routers' sessions with it).
    pub bgp: Vec<Protocol>,
}

/// `tern lab status`.
#[derive(Clone, Debug, Serialize)]
pub struct Status {
    /// Tag.
    pub tag: String,
    /// State directory.
    pub dir: PathBuf,
    /// tern.toml.
    pub config: PathBuf,
    /// What runs at the sites.
    pub speaker: String,
    /// Link delays applied?
    pub netem: bool,
    /// `up` finished?
    pub complete: bool,
    /// The `up` of an incomplete lab is still running (its pid), rather than interrupted or
    /// killed.
    pub up_running: Option<u32>,
    /// Failed sites.
    pub failed: Vec<SiteId>,
    /// Target address.
    pub target: Option<Ipv6Addr>,
    /// Nodes.
    pub nodes: Vec<NodeStatus>,
}

/// Looks at a lab.
pub fn status(st: &LabState) -> Result<Status, LabError> {
    let present = netns::list()?;
    let mut nodes = Vec::new();
    if let Some(topo) = &st.topology {
        for n in &topo.nodes {
            let ns = st.ns(&n.name);
            let processes: Vec<(ProcKind, u32, bool)> = st
                .processes
                .iter()
                .filter(|p| p.node == n.name)
                .filter_map(|p| p.pid.map(|pid| (p.kind, pid, netns::alive(pid))))
                .collect();
            let bgp = if processes.iter().any(|p| p.0 == ProcKind::Bird && p.2) {
                daemon::protocols(st, &n.name)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|p| p.proto == "BGP")
                    .collect()
            } else if n.kind == NodeKind::Site && processes.iter().any(|p| p.2) {
                // tern run: its sessions as the provider routers see them.
                let own = [
                    format!("n_{}", birdconf::ident(&n.name)),
                    format!("n_{}_4", birdconf::ident(&n.name)),
                ];
                topo.nodes
                    .iter()
                    .filter(|p| p.kind == NodeKind::Provider && p.site == n.site)
                    .flat_map(|p| daemon::protocols(st, &p.name).unwrap_or_default())
                    .filter(|p| p.proto == "BGP" && own.contains(&p.name))
                    .collect()
            } else {
                Vec::new()
            };
            nodes.push(NodeStatus {
                name: n.name.clone(),
                kind: n.kind,
                present: present.contains(&ns),
                namespace: ns,
                processes,
                bgp,
            });
        }
    }
    Ok(Status {
        tag: st.tag.clone(),
        dir: st.dir.clone(),
        config: st.config.clone(),
        speaker: st.speaker.describe().to_owned(),
        netem: st.netem,
        complete: st.complete,
        up_running: st
            .up_pid
            .filter(|p| !st.complete && *p != std::process::id() && is_lab_up(*p)),
        failed: st.failed.clone(),
        target: st.topology.as_ref().map(|t| t.target),
        nodes,
    })
}

/// Is `pid` a live `tern lab up` (not a process that reused the pid of a killed one)?
fn is_lab_up(pid: u32) -> bool {
    netns::alive(pid)
        && std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
            let args: Vec<&[u8]> = c.split(|b| *b == 0).collect();
            args.windows(2).any(|w| w[0] == b"lab" && w[1] == b"up")
        })
}

/// Fails a site (see [`SpeakerKind::fail`]) and records it; `false` when it already was
/// failed (then nothing is done).
pub fn fail(st: &mut LabState, site: &str) -> Result<bool, LabError> {
    let id = known_site(st, site)?;
    if st.failed.contains(&id) {
        return Ok(false);
    }
    let speaker = st.speaker;
    speaker.fail(st, site)?;
    st.failed.push(id);
    st.save()?;
    Ok(true)
}

/// Heals a failed site; `false` when it was not failed (then nothing is done).
pub fn heal(st: &mut LabState, site: &str) -> Result<bool, LabError> {
    let id = known_site(st, site)?;
    if !st.failed.contains(&id) {
        return Ok(false);
    }
    let speaker = st.speaker;
    speaker.heal(st, site)?;
    st.failed.retain(|f| *f != id);
    st.save()?;
    Ok(true)
}

fn known_site(st: &LabState, site: &str) -> Result<SiteId, LabError> {
    let topo = st.topo()?;
    let Some(s) = topo.site(site) else {
        return Err(LabError::NotFound(format!(
            "no site {site:?} in the lab; sites are: {}",
            topo.sites
                .iter()
                .map(|s| s.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    Ok(s.id.clone())
}
