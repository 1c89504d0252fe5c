//! `tern lab`: the network of a tern.toml in network namespaces on this host (tern-lab).
//!
//! Glue only: argument parsing, printing, exit codes. `serve` and `dns-query` are internal
//! subcommands the lab runs inside its namespaces (the whoami endpoints or service at a site,
//! the DNS probe at a client); sites run `tern run` from this same executable.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Subcommand;
use tern_lab::demo::{self, Event};
use tern_lab::interrupt::{self, Interrupt};
use tern_lab::measure::{self, Measurement};
use tern_lab::orchestrate::{self, UpOptions};
use tern_lab::state::{self, LabState, SpeakerKind};
use tern_lab::{LabError, atlas, collector, dns, geodns, whoami};

use crate::exit::Exit;

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
    /// Ask the GeoDNS on the anycast address from every probe (`dig NAME AAAA`): which site
    /// each probe is sent to. With --fail SITE: fail it and time until no probe gets it.
    Dns {
        #[command(flatten)]
        which: Which,
        /// The name to ask (default: www.<zone of the lab's [dns]>).
        #[arg(long)]
        name: Option<String>,
        /// Fail this site, then ask every 100 ms until no probe is answered with it.
        #[arg(long)]
        fail: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
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
    /// Dump the route collector's RIB now (MRT TABLE_DUMP_V2), with its BGP4MP updates and the
    /// lab's AS map, for `tern observe --as-map`.
    Collect {
        #[command(flatten)]
        which: Which,
        /// Write the files here (default: the lab's state directory, `mrt/`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Seconds the collector's view must stay unchanged before the dump.
        #[arg(long, default_value_t = 1.0)]
        settle: f64,
        /// Most seconds to wait for that.
        #[arg(long, default_value_t = 20.0)]
        timeout: f64,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Up, measure, fail a site, heal, apply a prepend, measure, down.
    Demo {
        #[command(flatten)]
        which: Which,
        /// Write the measurements (RIPE Atlas JSON) under this directory.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Keep the lab running at the end.
        #[arg(long)]
        keep: bool,
        /// Accepted for old scripts; the demo installs nothing (scripts/setup does).
        #[arg(long, hide = true)]
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
        site: tern_types::SiteId,
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
                eprintln!("run `bash scripts/setup` (as root) to install what the lab needs");
                Ok(Exit::Unusable)
            }
            Some(LabError::Interrupted { signal, .. }) => {
                // What was made is removed; the exit status says which signal, as a shell's.
                eprintln!("{e}");
                std::process::exit(128 + signal);
            }
            _ => Err(e),
        },
        ok => ok,
    }
}

/// SIGINT and SIGTERM raise the returned flag instead of ending the process, so `up` and the
/// demo can remove what they made (the BIRDs and `tern run`s run in their own process groups
/// and would outlive us). A thread of its own waits for them with tokio's signal streams.
fn on_signals() -> Interrupt {
    let flag = Interrupt::new();
    let raise = flag.clone();
    let (ready, installed) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
        else {
            let _ = ready.send(());
            return;
        };
        rt.block_on(async move {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut int), Ok(mut term)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) else {
                let _ = ready.send(());
                return;
            };
            let _ = ready.send(());
            loop {
                let sig = tokio::select! {
                    _ = int.recv() => interrupt::SIGINT,
                    _ = term.recv() => interrupt::SIGTERM,
                };
                if raise.signal().is_none() {
                    eprintln!(
                        "{}: stopping and removing what was made (a few seconds)",
                        interrupt::name(sig)
                    );
                }
                raise.raise(sig);
            }
        });
    });
    let _ = installed.recv();
    flag
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
                interrupt: on_signals(),
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
                    // No lab at all: nothing to do, which is what the caller wanted.
                    None if state::labs(&which.state_dir).is_empty() => {
                        println!(
                            "nothing to remove (no lab under {})",
                            which.state_dir.display()
                        );
                        return Ok(Exit::Ok);
                    }
                    _ => return Err(e),
                },
            };
            if r.namespaces.is_empty() && r.processes == 0 && r.problems.is_empty() {
                println!("nothing to remove");
            } else {
                println!(
                    "removed {} namespaces, stopped {} processes",
                    r.namespaces.len(),
                    r.processes
                );
            }
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
            if !s.complete {
                match s.up_running {
                    Some(pid) => println!(
                        "state: incomplete: `tern lab up` (pid {pid}) is still building it"
                    ),
                    None => println!(
                        "state: incomplete: `tern lab up` did not finish (interrupted or killed); remove what it left with tern lab down --tag {}",
                        s.tag
                    ),
                }
            }
            if !s.failed.is_empty() {
                println!(
                    "failed sites: {}",
                    s.failed
                        .iter()
                        .map(|f| f.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
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
        Command::Dns {
            which,
            name,
            fail,
            json,
        } => lab_dns(which.find()?, name, fail, json),
        Command::Fail { site, which } => {
            let mut st = which.find()?;
            if !orchestrate::fail(&mut st, &site)? {
                println!("site {site} is failed already (tern lab heal {site} undoes it)");
                return Ok(Exit::Ok);
            }
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
            if !orchestrate::heal(&mut st, &site)? {
                println!("site {site} is not failed: nothing to heal");
                return Ok(Exit::Ok);
            }
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
            let applied = orchestrate::apply(&mut st, &config)?;
            print_applied(&applied);
            Ok(Exit::Ok)
        }
        Command::Collect {
            which,
            out,
            settle,
            timeout,
            json,
        } => {
            let st = which.find()?;
            let secs = |x: f64| Duration::from_secs_f64(x.clamp(0.0, 600.0));
            let c = collector::collect(&st, out.as_deref(), secs(settle), secs(timeout))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&c)?);
            } else {
                let up = c.sessions.iter().filter(|s| s.established).count();
                println!(
                    "collector: {} route(s) from {up} of {} session(s) (settled after {:.1} s)",
                    c.routes,
                    c.sessions.len(),
                    c.settled_s
                );
                println!("RIB dump (TABLE_DUMP_V2): {}", c.rib.display());
                if let Some(u) = &c.updates {
                    println!("updates (BGP4MP): {}", u.display());
                }
                println!("AS map: {}", c.as_map.display());
                let cfg = st.config.display();
                println!(
                    "tern observe {cfg} {} --as-map {}",
                    c.rib.display(),
                    c.as_map.display()
                );
            }
            Ok(Exit::Ok)
        }
        Command::Demo {
            which,
            out,
            keep,
            no_install: _,
            speaker,
        } => {
            let opts = demo::Options {
                root: which.state_dir,
                tag: which.tag,
                exe: exe()?,
                speaker,
                out,
                keep,
                interrupt: on_signals(),
            };
            demo::run(&opts, &mut print_event)?;
            Ok(Exit::Ok)
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
    if topo.links.iter().all(|l| l.a_addr4.is_none())
        && topo.sites.iter().all(|s| s.dropped.is_empty())
    {
        println!("  IPv6 only: tern.toml has no IPv4 session, so the lab has no IPv4 at all");
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
    let d =
        |o: &Option<tern_types::SiteId>| o.as_ref().map_or_else(|| "-".into(), |s| s.to_string());
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

/// The reload diff: what changed for each node and what its daemon did.
fn print_applied(applied: &[orchestrate::Applied]) {
    if applied.is_empty() {
        println!("nothing changed");
        return;
    }
    let nodes: Vec<&str> = applied.iter().map(|a| a.node.as_str()).collect();
    println!("reloaded: {}", nodes.join(", "));
    for a in applied {
        for c in &a.changes {
            println!("  {}: tern.toml: {c}", a.node);
        }
        for r in &a.report {
            println!("  {}: {r}", a.node);
        }
    }
}

/// Prints one step of `tern lab demo`.
fn print_event(e: Event<'_>) {
    match e {
        Event::Step(n, what) => println!("== {n}. {what}"),
        Event::Up(st, took) => print_up(st, took),
        Event::Measured(m) => print_measurement(m),
        Event::Failing { site, probes } => println!(
            "{} probes reach {site}: {}",
            probes.len(),
            probes.join(", ")
        ),
        Event::Failover { took, how, moved } => {
            println!(
                "failover: every probe has moved within {:.0} ms of `tern lab fail` ({how}; DNS watchers every 10 ms):",
                took.as_secs_f64() * 1000.0
            );
            for (p, from, to) in moved {
                println!("  {p}: {from} -> {to}");
            }
        }
        Event::Healed { took, why } => {
            println!(
                "catchment back to the start within {:.0} ms",
                took.as_secs_f64() * 1000.0
            );
            if let Some(why) = why {
                println!("  why it waits: {why}");
            }
        }
        Event::Applied(a) => print_applied(a),
        Event::Moved(moved) => {
            println!("probes that moved (tern atlas diff of the before and after measurements):");
            if moved.is_empty() {
                println!("  none");
            }
            for (p, from, to) in moved {
                println!("  {p}: {from} -> {to}");
            }
        }
        Event::Kept(tag) => println!("lab {tag} kept running (tern lab down --tag {tag})"),
        Event::Down(r) => println!(
            "removed {} namespaces, stopped {} processes",
            r.namespaces.len(),
            r.processes
        ),
        Event::Finished(took) => println!("demo finished in {:.1} s", took.as_secs_f64()),
        _ => {}
    }
}

/// `tern lab dns`.
fn lab_dns(
    mut st: LabState,
    name: Option<String>,
    fail: Option<String>,
    json: bool,
) -> anyhow::Result<Exit> {
    orchestrate::prerequisites(&["dig"])?;
    if st.speaker != SpeakerKind::TernRun {
        anyhow::bail!(
            "tern lab dns needs the sites to run tern run (tern lab up --speaker tern-run)"
        );
    }
    let name = match name {
        Some(n) => n,
        None => {
            let site = st.topo()?.sites.first().context("the lab has no site")?;
            let cfg = tern_lab::siterun::SiteFiles::new(&st.dir, site.id.as_str()).config;
            let text = std::fs::read_to_string(&cfg)
                .with_context(|| format!("cannot read {}", cfg.display()))?;
            format!("{}.{}", geodns::LAB_NAME, geodns::zone_of(&text))
        }
    };
    let before = geodns::answers(&st, &name)?;
    let mut report = serde_json::json!({ "name": name, "answers": before });
    if !json {
        println!(
            "{name} AAAA from every probe, asked at {}:",
            st.topo()?.target
        );
        print_answers(&before);
    }
    if let Some(site) = fail {
        let started = std::time::Instant::now();
        orchestrate::fail(&mut st, &site)?;
        let (took, after) = loop {
            let a = geodns::answers(&st, &name)?;
            // Moved: every probe is answered, and by another site.
            let moved = a
                .iter()
                .all(|x| x.site.as_deref().is_some_and(|s| s != site));
            if moved || started.elapsed() > Duration::from_secs(30) {
                break (moved.then(|| started.elapsed()), a);
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        report["failed"] = serde_json::json!(site);
        report["moved_ms"] = serde_json::json!(took.map(|d| d.as_millis() as u64));
        report["after"] = serde_json::json!(after);
        if !json {
            match took {
                Some(d) => println!(
                    "after tern lab fail {site}: no probe answered with {site} after {} ms",
                    d.as_millis()
                ),
                None => println!("after tern lab fail {site}: still answered after 30 s"),
            }
            print_answers(&after);
        }
        if took.is_none() {
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            }
            return Ok(Exit::Findings);
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(Exit::Ok)
}

fn print_answers(a: &[geodns::Answer]) {
    for x in a {
        let ans = x
            .answer
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(" ");
        println!(
            "  {:<14} {:<14} {:<24} {}{}",
            x.probe,
            x.region,
            ans,
            x.site.as_deref().unwrap_or("-"),
            x.error
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        );
    }
}
