//! `tern lab`: the network of a tern.toml in network namespaces on this host (tern-lab).
//!
//! Glue only: argument parsing, printing, exit codes. `serve` and `dns-query` are internal
//! subcommands the lab runs inside its namespaces (the whoami endpoints or service at a site,
//! the DNS probe at a client); sites run `tern run` from this same executable.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use clap::Subcommand;
use tern_lab::measure::{self, Measurement};
use tern_lab::orchestrate::{self, UpOptions};
use tern_lab::speaker::SpeakerKind;
use tern_lab::state::{self, LabState};
use tern_lab::{LabError, atlas, dns, watch, whoami};

use crate::exit::Exit;

/// The lab example compiled into the binary (`tern lab demo` without `--config`).
const DEMO: &str = include_str!("../../../../examples/lab/tern.toml");
/// The same network with a traffic-engineering change (`tern lab demo` applies it).
const DEMO_TE: &str = include_str!("../../../../examples/lab/tern-prepend.toml");

/// How often the failover watchers query.
const WATCH_EVERY: Duration = Duration::from_millis(10);

/// Whether Atlas files carry the modelled link delays.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ModelDelay {
    /// When the lab has no netem.
    Auto,
    /// Always.
    Yes,
    /// Never: measured RTTs only.
    No,
}

impl ModelDelay {
    fn rtt(self, st: &LabState) -> atlas::Rtt {
        match (self, st.netem) {
            (ModelDelay::Yes, _) | (ModelDelay::Auto, false) => atlas::Rtt::PlusModel,
            _ => atlas::Rtt::Measured,
        }
    }
}

/// Arguments of `tern lab`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

/// Where the lab state is and which lab.
#[derive(Debug, Clone, clap::Args)]
struct Which {
    /// The lab's tag (default: the only running lab).
    #[arg(long)]
    tag: Option<String>,
    /// Directory of lab state.
    #[arg(long, default_value = state::DEFAULT_ROOT)]
    state_dir: PathBuf,
}

impl Which {
    fn find(&self) -> anyhow::Result<LabState> {
        Ok(state::find(&self.state_dir, self.tag.as_deref())?)
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the lab: namespaces, links, BIRD routers, sites, probes.
    Up {
        /// tern.toml.
        config: PathBuf,
        #[command(flatten)]
        which: Which,
        /// BIRD program.
        #[arg(long, default_value = "bird")]
        bird: PathBuf,
        /// Seconds to wait for BGP to converge.
        #[arg(long, default_value_t = 60)]
        timeout: u64,
        /// What runs at the sites: `tern-run` (the site daemon) or `bird` (the BIRD stand-in).
        #[arg(long, default_value = "tern-run")]
        speaker: SpeakerKind,
    },
    /// Remove the lab: processes, namespaces, state.
    Down {
        #[command(flatten)]
        which: Which,
    },
    /// Show namespaces, processes and BGP sessions.
    Status {
        #[command(flatten)]
        which: Which,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Ping, traceroute, DNS CHAOS and HTTP trace from every probe to the anycast address.
    Measure {
        #[command(flatten)]
        which: Which,
        /// JSON output.
        #[arg(long)]
        json: bool,
        /// Also write RIPE Atlas result JSON and probe metadata here.
        #[arg(long)]
        out: Option<PathBuf>,
        /// In --out files, add the modelled link delays to the RTTs (for kernels without
        /// netem; default: when the lab has no netem).
        #[arg(long, value_enum, default_value_t = ModelDelay::Auto)]
        model_delay: ModelDelay,
    },
    /// Make a site stop attracting traffic.
    Fail {
        /// Site name.
        site: String,
        #[command(flatten)]
        which: Which,
    },
    /// Undo `fail`.
    Heal {
        /// Site name.
        site: String,
        #[command(flatten)]
        which: Which,
    },
    /// Apply a changed tern.toml to the running lab by reload.
    Apply {
        /// tern.toml.
        config: PathBuf,
        #[command(flatten)]
        which: Which,
    },
    /// Up, measure, fail a site, heal, apply a prepend, measure, down.
    Demo {
        /// Directory of lab state.
        #[arg(long, default_value = state::DEFAULT_ROOT)]
        state_dir: PathBuf,
        /// Write the measurements (RIPE Atlas JSON) under this directory.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Keep the lab running at the end.
        #[arg(long)]
        keep: bool,
        /// Do not install missing Debian packages (bird2, iproute2, …) with apt-get.
        #[arg(long)]
        no_install: bool,
        /// What runs at the sites: `tern-run` (the site daemon) or `bird` (the BIRD stand-in).
        #[arg(long, default_value = "tern-run")]
        speaker: SpeakerKind,
    },
    /// (internal) The whoami endpoints of a site (BIRD stand-in), or the site's small service
    /// that tern run's health check watches; run inside its namespace.
    #[command(hide = true)]
    Serve {
        #[arg(long)]
        site: String,
        #[arg(long)]
        code: Option<String>,
        #[arg(long, required = true)]
        addr: Vec<std::net::IpAddr>,
        #[arg(long, default_value_t = 80)]
        http_port: u16,
        #[arg(long, default_value_t = 53)]
        dns_port: u16,
    },
    /// (internal) A CHAOS TXT query every few ms, one JSON line per answer, until killed.
    #[command(hide = true)]
    DnsWatch {
        #[arg(long)]
        server: std::net::IpAddr,
        #[arg(long, default_value_t = 53)]
        port: u16,
        #[arg(long, default_value_t = 10)]
        interval_ms: u64,
        /// Stop after this long even if nobody kills us.
        #[arg(long, default_value_t = 300_000)]
        for_ms: u64,
    },
    /// (internal) One DNS CHAOS TXT query, printed as JSON.
    #[command(hide = true)]
    DnsQuery {
        #[arg(long)]
        server: std::net::IpAddr,
        #[arg(long, default_value_t = 53)]
        port: u16,
        #[arg(long, default_value = "id.server")]
        name: String,
        #[arg(long, default_value_t = 1000)]
        timeout_ms: u64,
    },
}

/// Runs `tern lab`.
pub fn run(args: Args) -> anyhow::Result<Exit> {
    match run_inner(args) {
        Err(e) => match e.downcast_ref::<LabError>() {
            Some(LabError::Prerequisites(missing)) => {
                eprintln!("tern lab cannot run here; missing:");
                for m in missing {
                    eprintln!("  - {m}");
                }
                Ok(Exit::Unusable)
            }
            _ => Err(e),
        },
        ok => ok,
    }
}

fn exe() -> anyhow::Result<PathBuf> {
    std::env::current_exe().context("cannot find the tern executable")
}

fn run_inner(args: Args) -> anyhow::Result<Exit> {
    match args.command {
        Command::Up {
            config,
            which,
            bird,
            timeout,
            speaker,
        } => {
            let t = std::time::Instant::now();
            let st = orchestrate::up(&UpOptions {
                config,
                root: which.state_dir,
                tag: which.tag,
                exe: exe()?,
                bird,
                speaker,
                converge: Duration::from_secs(timeout),
            })?;
            print_up(&st, t.elapsed());
            Ok(Exit::Ok)
        }
        Command::Down { which } => {
            let r = match which.find() {
                Ok(st) => orchestrate::down(&st),
                Err(e) => match &which.tag {
                    // No state, but a tag: remove whatever namespaces carry it.
                    Some(tag) if state::valid_tag(tag) => orchestrate::down_tag(tag, &[]),
                    _ => return Err(e),
                },
            };
            println!(
                "removed {} namespaces, stopped {} processes",
                r.namespaces.len(),
                r.processes
            );
            for p in &r.problems {
                eprintln!("problem: {p}");
            }
            Ok(if r.problems.is_empty() {
                Exit::Ok
            } else {
                Exit::Findings
            })
        }
        Command::Status { which, json } => {
            let st = which.find()?;
            let s = orchestrate::status(&st)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
                return Ok(Exit::Ok);
            }
            println!(
                "lab {} ({}), config {}\nsites run: {}\nlink delays: {}\ntarget: {}",
                s.tag,
                s.dir.display(),
                s.config.display(),
                s.speaker,
                if s.netem {
                    "applied with tc netem"
                } else {
                    "not applied (no netem in this kernel)"
                },
                s.target.map(|t| t.to_string()).unwrap_or_default()
            );
            if !s.failed.is_empty() {
                println!("failed sites: {}", s.failed.join(", "));
            }
            println!(
                "{:<14} {:<9} {:<26} {:<16} bgp",
                "node", "kind", "namespace", "processes"
            );
            for n in &s.nodes {
                let procs: Vec<String> = n
                    .processes
                    .iter()
                    .map(|(k, pid, alive)| {
                        format!("{k:?}:{pid}{}", if *alive { "" } else { "(dead)" }).to_lowercase()
                    })
                    .collect();
                let bgp: Vec<String> = n
                    .bgp
                    .iter()
                    .map(|p| {
                        format!(
                            "{}={}",
                            p.name,
                            p.info.split_whitespace().next().unwrap_or(&p.state)
                        )
                    })
                    .collect();
                println!(
                    "{:<14} {:<9} {:<26} {:<16} {}",
                    n.name,
                    format!("{:?}", n.kind).to_lowercase(),
                    if n.present {
                        n.namespace.clone()
                    } else {
                        format!("{} (gone)", n.namespace)
                    },
                    procs.join(" "),
                    bgp.join(" ")
                );
            }
            Ok(Exit::Ok)
        }
        Command::Measure {
            which,
            json,
            out,
            model_delay,
        } => {
            let st = which.find()?;
            orchestrate::prerequisites(orchestrate::MEASURE_PROGRAMS)?;
            let m = measure::measure(&st, &options()?)?;
            if let Some(dir) = &out {
                atlas::write(dir, &m, st.topo()?, model_delay.rtt(&st))?;
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&m)?);
            } else {
                print_measurement(&m);
                if let Some(dir) = &out {
                    println!("RIPE Atlas results and probe metadata in {}", dir.display());
                }
            }
            Ok(Exit::Ok)
        }
        Command::Fail { site, which } => {
            let mut st = which.find()?;
            orchestrate::fail(&mut st, &site)?;
            match st.speaker {
                SpeakerKind::TernRun => println!(
                    "site {site} failed: its service is stopped; tern run withdraws after 2 failed checks (1 s apart)"
                ),
                SpeakerKind::Bird => {
                    println!("site {site} failed: its BGP sessions are disabled (BIRD stand-in)")
                }
            }
            Ok(Exit::Ok)
        }
        Command::Heal { site, which } => {
            let mut st = which.find()?;
            orchestrate::heal(&mut st, &site)?;
            match st.speaker {
                SpeakerKind::TernRun => println!(
                    "site {site} healed: its service runs again; tern run announces after 2 good checks (and the damping hold-down after a flap, 10 s for the first)"
                ),
                SpeakerKind::Bird => {
                    println!("site {site} healed: its BGP sessions are enabled again")
                }
            }
            Ok(Exit::Ok)
        }
        Command::Apply { config, which } => {
            let mut st = which.find()?;
            let changed = orchestrate::apply(&mut st, &config)?;
            if changed.is_empty() {
                println!("nothing changed");
            } else {
                println!("reloaded: {}", changed.join(", "));
            }
            Ok(Exit::Ok)
        }
        Command::Demo {
            state_dir,
            out,
            keep,
            no_install,
            speaker,
        } => {
            if !no_install {
                install_missing()?;
            }
            demo(&state_dir, out.as_deref(), keep, speaker)
        }
        Command::Serve {
            site,
            code,
            addr,
            http_port,
            dns_port,
        } => {
            whoami::serve(&whoami::Identity { site, code }, &addr, http_port, dns_port)?;
            Ok(Exit::Ok)
        }
        Command::DnsWatch {
            server,
            port,
            interval_ms,
            for_ms,
        } => {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            dns::watch(
                SocketAddr::new(server, port),
                Duration::from_millis(interval_ms),
                Duration::from_millis(for_ms),
                &mut |sent, txt| {
                    let line = serde_json::json!({ "sent": sent, "txt": txt });
                    writeln!(out, "{line}").and_then(|_| out.flush()).is_ok()
                },
            )?;
            Ok(Exit::Ok)
        }
        Command::DnsQuery {
            server,
            port,
            name,
            timeout_ms,
        } => {
            let sent = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0);
            let r = dns::chaos(
                SocketAddr::new(server, port),
                &name,
                Duration::from_millis(timeout_ms),
            );
            let v = match r {
                Ok(x) => serde_json::json!({
                    "rt": x.rt_ms, "abuf": atlas::hex(&x.abuf), "txt": x.reply.txt,
                    "rcode": x.reply.rcode, "sent": sent,
                }),
                Err(e) => serde_json::json!({ "error": e.to_string(), "txt": [], "sent": sent }),
            };
            println!("{v}");
            Ok(Exit::Ok)
        }
    }
}

/// On Debian, as root: `apt-get install` the packages of missing programs (the demo is the
/// README's first command on a fresh machine).
fn install_missing() -> anyhow::Result<()> {
    let mut programs = orchestrate::UP_PROGRAMS.to_vec();
    programs.extend_from_slice(orchestrate::MEASURE_PROGRAMS);
    programs.push("bird");
    let missing = orchestrate::missing_programs(&programs);
    if missing.is_empty() || orchestrate::find_program("apt-get").is_none() {
        return Ok(());
    }
    let mut pkgs: Vec<&str> = missing.iter().map(|p| orchestrate::package_of(p)).collect();
    pkgs.sort();
    pkgs.dedup();
    println!("== 0. installing {} with apt-get", pkgs.join(" "));
    let install = |update: bool| -> anyhow::Result<bool> {
        if update {
            std::process::Command::new("apt-get")
                .args(["update", "-q"])
                .status()?;
        }
        Ok(std::process::Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(&pkgs)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()?
            .success())
    };
    if !install(false)? && !install(true)? {
        anyhow::bail!("apt-get could not install {}", pkgs.join(" "));
    }
    Ok(())
}

fn options() -> anyhow::Result<measure::Options> {
    Ok(measure::Options {
        exe: exe()?,
        pings: 3,
        traceroute: true,
        http: true,
    })
}

fn print_up(st: &LabState, took: Duration) {
    let Ok(topo) = st.topo() else { return };
    let count = |k| topo.of_kind(k).count();
    use tern_lab::topology::NodeKind as K;
    println!(
        "lab {} is up in {:.1} s: {} sites, {} provider routers, {} carrier routers, {} eyeballs, {} probes, {} links",
        st.tag,
        took.as_secs_f64(),
        count(K::Site),
        count(K::Provider),
        count(K::Transit),
        count(K::Eyeball),
        count(K::Probe),
        topo.links.len()
    );
    match st.speaker {
        SpeakerKind::TernRun => println!(
            "sites run `tern run` (config in {}/sites/NAME/tern.toml, TCP-MD5 with the provider routers) and a small service its http check watches",
            st.dir.display()
        ),
        SpeakerKind::Bird => println!(
            "sites run the BIRD stand-in for `tern run` (config from tern-bird) and the lab's whoami endpoints"
        ),
    }
    for s in &topo.sites {
        if !s.dropped.is_empty() {
            println!(
                "  site {}: IPv4 sessions {} left out (more than 128 links: the lab runs IPv6 only)",
                s.id,
                s.dropped.join(", ")
            );
        }
    }
    if !st.netem {
        println!(
            "  note: this kernel has no tc netem, so link delays are not applied; RTTs are the lab's own"
        );
    }
    println!(
        "target {}; state in {}; namespaces {}*",
        topo.target,
        st.dir.display(),
        state::ns_prefix(&st.tag)
    );
}

fn print_measurement(m: &Measurement) {
    // An IPv6-only lab has no IPv4 target: no IPv4 columns.
    let v4 = m.target4.is_some();
    println!(
        "from every probe to {}{}:",
        m.target,
        m.target4.map(|t| format!(" and {t}")).unwrap_or_default()
    );
    let mut head = format!(
        "{:<12} {:<10} {:<7} {:<7} {:<7} {:<7} {:>8} {:>8} {:>4}",
        "probe", "city", "site", "dns", "http", "trace", "rtt ms", "model", "hops"
    );
    if v4 {
        head.push_str(&format!(" {:<7} {:>8}", "v4 site", "v4 rtt"));
    }
    println!("{head}");
    let d = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
    for r in &m.results {
        let mut line = format!(
            "{:<12} {:<10} {:<7} {:<7} {:<7} {:<7} {:>8} {:>8} {:>4}",
            r.probe,
            r.city,
            d(&r.site),
            d(&r.dns_site),
            d(&r.http_site),
            d(&r.trace_site),
            r.ping
                .min()
                .map(|x| format!("{x:.3}"))
                .unwrap_or_else(|| "-".into()),
            r.model_rtt
                .map(|x| format!("{x:.1}"))
                .unwrap_or_else(|| "-".into()),
            r.hops.len(),
        );
        if v4 {
            line.push_str(&format!(
                " {:<7} {:>8}",
                r.site4().unwrap_or("-"),
                r.ping4
                    .as_ref()
                    .and_then(|p| p.min())
                    .map(|x| format!("{x:.3}"))
                    .unwrap_or_else(|| "-".into()),
            ));
        }
        println!("{line}");
    }
    println!("per region:");
    for s in measure::summary(m) {
        let sites: Vec<String> = s.sites.iter().map(|(k, v)| format!("{k}:{v}")).collect();
        let ms = |x: Option<f64>, p: usize| {
            x.map(|x| format!("{x:.p$} ms"))
                .unwrap_or_else(|| "-".into())
        };
        println!(
            "  {:<14} {} probes  sites {}  median rtt {} (modelled {})",
            s.region.to_string(),
            s.probes,
            sites.join(" "),
            ms(s.median_rtt, 3),
            ms(s.median_model_rtt, 1)
        );
    }
}

fn sites_of(m: &Measurement) -> BTreeMap<String, Option<String>> {
    m.results
        .iter()
        .map(|r| (r.probe.clone(), r.site.clone()))
        .collect()
}

fn demo(root: &Path, out: Option<&Path>, keep: bool, speaker: SpeakerKind) -> anyhow::Result<Exit> {
    let t0 = std::time::Instant::now();
    let dir = std::env::temp_dir().join(format!("tern-lab-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let base = dir.join("tern.toml");
    let te = dir.join("tern-prepend.toml");
    std::fs::write(&base, DEMO)?;
    std::fs::write(&te, DEMO_TE)?;
    println!("== 1. up: examples/lab/tern.toml");
    let st = orchestrate::up(&UpOptions {
        config: base.clone(),
        root: root.to_path_buf(),
        tag: None,
        exe: exe()?,
        bird: PathBuf::from("bird"),
        speaker,
        converge: orchestrate::DEFAULT_CONVERGE,
    })?;
    // Removes the lab even if a step panics (e.g. stdout closed under a pager).
    let mut guard = DownOnDrop(Some(st.clone()));
    print_up(&st, t0.elapsed());
    let result = demo_steps(st.clone(), &te, out);
    if keep {
        guard.0 = None;
        println!(
            "lab {} kept running (tern lab down --tag {})",
            st.tag, st.tag
        );
    } else {
        guard.0 = None;
        println!("== 6. down");
        let r = orchestrate::down(&st);
        println!(
            "removed {} namespaces, stopped {} processes",
            r.namespaces.len(),
            r.processes
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    result?;
    println!("demo finished in {:.1} s", t0.elapsed().as_secs_f64());
    Ok(Exit::Ok)
}

/// Runs `down` on drop unless disarmed.
struct DownOnDrop(Option<LabState>);

impl Drop for DownOnDrop {
    fn drop(&mut self) {
        if let Some(st) = self.0.take() {
            eprintln!("demo interrupted: removing lab {}", st.tag);
            let r = orchestrate::down(&st);
            eprintln!(
                "removed {} namespaces, stopped {} processes",
                r.namespaces.len(),
                r.processes
            );
        }
    }
}

fn demo_steps(mut st: LabState, te: &Path, out: Option<&Path>) -> anyhow::Result<()> {
    orchestrate::prerequisites(orchestrate::MEASURE_PROGRAMS)?;
    let opts = options()?;
    let save = |name: &str, m: &Measurement, st: &LabState| -> anyhow::Result<()> {
        if let Some(o) = out {
            atlas::write(&o.join(name), m, st.topo()?, ModelDelay::Auto.rtt(st))?;
        }
        Ok(())
    };
    println!("== 2. measure");
    let before = measure::measure(&st, &opts)?;
    print_measurement(&before);
    save("1-before", &before, &st)?;
    let base = sites_of(&before);
    let victim = pick_victim(&base).context("no probe reached any site")?;
    let moving: Vec<String> = base
        .iter()
        .filter(|(_, s)| s.as_deref() == Some(victim.as_str()))
        .map(|(p, _)| p.clone())
        .collect();
    println!(
        "== 3. fail site {victim} ({} probes reach it: {})",
        moving.len(),
        moving.join(", ")
    );
    let w = watch::start(&st, &opts.exe, WATCH_EVERY)?;
    std::thread::sleep(Duration::from_millis(300));
    let start = measure::unix_now();
    orchestrate::fail(&mut st, &victim)?;
    let (took, after) = w.until(start, Duration::from_secs(60), &|p, s| {
        !moving.iter().any(|m| m == p) || s.is_some_and(|s| s != victim)
    })?;
    drop(w);
    let how = match st.speaker {
        SpeakerKind::TernRun => {
            "service stopped -> tern run's http check fails twice (1 s apart) -> withdrawal; target 5 s"
        }
        SpeakerKind::Bird => "BGP withdrawal, no health checks: BIRD stand-in",
    };
    println!(
        "failover: every probe has moved within {:.0} ms of `tern lab fail` ({how}; DNS watchers every 10 ms):",
        took.as_secs_f64() * 1000.0
    );
    for p in &moving {
        println!(
            "  {p}: {victim} -> {}",
            after.get(p).cloned().flatten().unwrap_or_default()
        );
    }
    let failed = measure::measure(&st, &opts)?;
    save("2-failed", &failed, &st)?;
    println!("== 4. heal site {victim}");
    let w = watch::start(&st, &opts.exe, WATCH_EVERY)?;
    std::thread::sleep(Duration::from_millis(300));
    let start = measure::unix_now();
    orchestrate::heal(&mut st, &victim)?;
    let (took, _) = w.until(start, Duration::from_secs(60), &|p, s| {
        base.get(p).is_some_and(|b| b.as_deref() == s)
    })?;
    drop(w);
    println!(
        "catchment back to the start within {:.0} ms{}",
        took.as_secs_f64() * 1000.0,
        if st.speaker == SpeakerKind::TernRun {
            " (rise 2 after the damping hold-down: 10 s after the first flap)"
        } else {
            ""
        }
    );
    println!("== 5. apply a traffic-engineering change: examples/lab/tern-prepend.toml");
    let changed = orchestrate::apply(&mut st, te)?;
    println!("reloaded: {}", changed.join(", "));
    // Wait until the catchment is stable on what a full measurement then shows.
    std::thread::sleep(Duration::from_millis(500));
    let te_m = measure::measure(&st, &opts)?;
    save("3-prepend", &te_m, &st)?;
    print_measurement(&te_m);
    println!("probes that moved:");
    let now = sites_of(&te_m);
    let mut any = false;
    for (p, s) in &base {
        let n = now.get(p).cloned().flatten();
        if &n != s {
            any = true;
            println!(
                "  {p}: {} -> {}",
                s.clone().unwrap_or_default(),
                n.unwrap_or_default()
            );
        }
    }
    if !any {
        println!("  none");
    }
    Ok(())
}

/// The site most probes reach.
fn pick_victim(c: &BTreeMap<String, Option<String>>) -> Option<String> {
    let mut n: BTreeMap<&str, usize> = BTreeMap::new();
    for s in c.values().flatten() {
        *n.entry(s).or_default() += 1;
    }
    n.into_iter()
        .max_by_key(|(s, k)| (*k, std::cmp::Reverse(*s)))
        .map(|(s, _)| s.to_owned())
}
