//! `tern dns`: the GeoDNS authoritative server for `[dns]` of tern.toml (issue 13).
//!
//! - `serve`: the standalone server (tern-edge `geodns::server`);
//! - `map`: RIPE Atlas / `tern lab measure` results → the latency map the server reads
//!   (tern-atlas reads and classifies, tern-geodns aggregates);
//! - `answer`: what the server would answer a client, and why, offline.
//!
//! Glue only.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use anyhow::Context as _;
use tern_atlas::catchment::classify;
use tern_atlas::{Body, ProbeSet, Record, SiteHints, read_probes, read_results};
use tern_geodns::map::{DEFAULT_V4_LEN, DEFAULT_V6_LEN, LatencyMap, Observation};
use tern_geodns::{Transport, Up};
use tern_types::{Prefix, SiteId};

use crate::exit::Exit;

/// Arguments of `tern dns`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Serve the zone of [dns] (UDP and TCP), watching every site's health; SIGHUP reloads.
    Serve(ServeArgs),
    /// Build the latency map from measurement results (RIPE Atlas JSON, also `tern lab measure`).
    Map(MapArgs),
    /// Show what the server would answer a client, and why (offline, all sites up unless --down).
    Answer(AnswerArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// tern.toml.
    config: PathBuf,
    /// Listen here instead of [dns] listen (repeatable), e.g. "[::1]:5353".
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Vec<SocketAddr>,
    /// NSID and CHAOS id.server answer when [dns] identity is not set (default: host name).
    #[arg(long)]
    identity: Option<String>,
    /// Log filter (RUST_LOG syntax).
    #[arg(long, default_value = "info")]
    log: String,
}

#[derive(Debug, clap::Args)]
struct MapArgs {
    /// tern.toml (the sites, their unicast prefixes and [dns] addresses).
    config: PathBuf,
    /// Result files: measurements of each site's unicast address (or of the anycast address:
    /// then the catchment site's RTT only).
    #[arg(required = true, value_name = "RESULTS")]
    results: Vec<PathBuf>,
    /// Probe metadata (AS, location); repeatable.
    #[arg(long = "probes", value_name = "FILE")]
    probes: Vec<PathBuf>,
    /// Write the map here (default: [dns] map of tern.toml).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Group IPv4 clients into networks of this length.
    #[arg(long, default_value_t = DEFAULT_V4_LEN)]
    v4_len: u8,
    /// Group IPv6 clients into networks of this length.
    #[arg(long, default_value_t = DEFAULT_V6_LEN)]
    v6_len: u8,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct AnswerArgs {
    /// tern.toml.
    config: PathBuf,
    /// The name asked for.
    name: String,
    /// A, AAAA, TXT, NS, SOA, ANY …
    #[arg(default_value = "AAAA")]
    qtype: String,
    /// The client: an address (as a resolver's) or a network "ADDR/LEN" (as ECS).
    #[arg(long, default_value = "192.0.2.1")]
    client: String,
    /// Treat this site as down (repeatable).
    #[arg(long, value_name = "SITE")]
    down: Vec<String>,
    /// JSON output.
    #[arg(long)]
    json: bool,
}

/// Runs `tern dns`.
pub fn run(args: Args) -> anyhow::Result<Exit> {
    match args.command {
        Command::Serve(a) => serve(a),
        Command::Map(a) => map(a),
        Command::Answer(a) => answer(a),
    }
}

fn serve(a: ServeArgs) -> anyhow::Result<Exit> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&a.log))
        .context("bad --log filter")?;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    let identity = a.identity.unwrap_or_else(hostname);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    let opts = tern_edge::geodns::server::ServeOptions {
        config: a.config,
        listen: a.listen,
        identity,
        signals: true,
    };
    let shutdown = tokio_util::sync::CancellationToken::new();
    match rt.block_on(tern_edge::geodns::server::run(opts, shutdown)) {
        Ok(()) => Ok(Exit::Ok),
        Err(e) => {
            eprintln!("error: {e}");
            Ok(Exit::Unusable)
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "tern".into())
}

fn load(config: &std::path::Path) -> anyhow::Result<(tern_model::Network, tern_model::dns::Dns)> {
    let model = tern_model::load(config)?;
    if model.has_errors() {
        for d in model
            .diagnostics
            .iter()
            .filter(|d| d.severity == tern_model::Severity::Error)
        {
            eprintln!("{d}");
        }
        anyhow::bail!("{} has errors: run tern check", config.display());
    }
    let dns = model
        .network
        .dns
        .clone()
        .with_context(|| format!("{} has no [dns] section", config.display()))?;
    Ok((model.network, dns))
}

/// Site hints for tern-atlas from the model (ids, codes, coordinates, unicast prefixes,
/// connected networks, upstream routers): tern-atlas's own mapping.
fn hints(net: &tern_model::Network) -> SiteHints {
    SiteHints::from_network(net)
}

/// The lowest RTT of a record to its target, ms.
fn min_rtt(r: &Record) -> Option<f64> {
    match &r.body {
        Body::Ping(p) => p.min,
        Body::Traceroute(t) => r.dst_addr.and_then(|d| t.min_rtt_from(d)),
        Body::Dns(d) => d
            .responses
            .iter()
            .filter(|x| x.message.is_some() || !x.answer_txt.is_empty())
            .filter_map(|x| x.rt)
            .reduce(f64::min),
        _ => None,
    }
    .filter(|v| v.is_finite() && *v >= 0.0)
}

/// Which site a record measured: the owner of its target address (a unicast address), else
/// the catchment the record shows (a measurement of the anycast address).
fn site_of(r: &Record, dns: &tern_model::dns::Dns, hints: &SiteHints) -> Option<SiteId> {
    if let Some(dst) = r.dst_addr {
        let by_addr = dns
            .sites
            .iter()
            .find(|s| s.v6.map(IpAddr::V6) == Some(dst) || s.v4.map(IpAddr::V4) == Some(dst));
        if let Some(s) = by_addr {
            return Some(s.id.clone());
        }
        let in_prefix = hints
            .sites
            .iter()
            .find(|h| h.prefixes.iter().any(|p: &Prefix| p.contains_addr(&dst)));
        if let Some(h) = in_prefix {
            return Some(h.id.clone());
        }
    }
    classify(&[r], Some(hints)).site?.parse().ok()
}

fn map(a: MapArgs) -> anyhow::Result<Exit> {
    let (net, dns) = load(&a.config)?;
    let hints = hints(&net);
    let mut probes = ProbeSet::default();
    for p in &a.probes {
        probes.merge(read_probes(p)?);
    }
    let mut obs = Vec::new();
    let mut skipped: BTreeMap<&str, usize> = BTreeMap::new();
    let mut records = 0usize;
    let mut sources = Vec::new();
    for f in &a.results {
        let res = read_results(f)?;
        sources.push(f.display().to_string());
        if res.skipped.count > 0 {
            *skipped.entry("unreadable record").or_default() += res.skipped.count;
        }
        for r in &res.records {
            records += 1;
            let Some(client) = r.from else {
                *skipped.entry("no probe address (from)").or_default() += 1;
                continue;
            };
            let Some(rtt_ms) = min_rtt(r) else {
                *skipped.entry("no RTT").or_default() += 1;
                continue;
            };
            let Some(site) = site_of(r, &dns, &hints) else {
                *skipped.entry("target is no known site").or_default() += 1;
                continue;
            };
            let meta = probes.get(r.prb_id);
            obs.push(Observation {
                client,
                asn: meta.and_then(|m| if client.is_ipv4() { m.asn_v4 } else { m.asn_v6 }),
                location: meta.and_then(|m| m.location()),
                site,
                rtt_ms,
            });
        }
    }
    let m = LatencyMap::build(&obs, a.v4_len, a.v6_len, sources);
    let out = a
        .out
        .clone()
        .or(dns.map.clone())
        .context("no --out and no [dns] map in tern.toml")?;
    let text = serde_json::to_string_pretty(&m)? + "\n";
    // Write next to the target and rename, so a running server never reads half a file.
    let tmp = out.with_extension("json.tmp");
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &out).with_context(|| format!("cannot write {}", out.display()))?;
    let mut best: BTreeMap<String, usize> = BTreeMap::new();
    for p in &m.prefixes {
        if let Some(s) = p.sites.first() {
            *best.entry(s.site.to_string()).or_default() += 1;
        }
    }
    if a.json {
        let v = serde_json::json!({
            "out": out.display().to_string(),
            "records": records,
            "used": obs.len(),
            "skipped": skipped,
            "prefixes": m.prefixes.len(),
            "asns": m.asns.len(),
            "best_site_networks": best,
            "map": m,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!(
            "{}: {} networks, {} ASes from {} of {} records",
            out.display(),
            m.prefixes.len(),
            m.asns.len(),
            obs.len(),
            records
        );
        for (why, n) in &skipped {
            println!("  skipped {n}: {why}");
        }
        println!("{:<12} {:>8}", "site", "best for");
        for (s, n) in &best {
            println!("{s:<12} {n:>8} networks");
        }
        println!("SIGHUP a running `tern dns serve` to load it.");
    }
    Ok(if obs.is_empty() {
        Exit::Findings
    } else {
        Exit::Ok
    })
}

fn qtype(s: &str) -> Option<u16> {
    Some(match s.to_ascii_uppercase().as_str() {
        "A" => tern_dns::TYPE_A,
        "AAAA" => tern_dns::TYPE_AAAA,
        "NS" => tern_dns::TYPE_NS,
        "SOA" => tern_dns::TYPE_SOA,
        "TXT" => tern_dns::TYPE_TXT,
        "CNAME" => tern_dns::TYPE_CNAME,
        "ANY" => tern_dns::TYPE_ANY,
        other => other.strip_prefix("TYPE")?.parse().ok()?,
    })
}

fn answer(a: AnswerArgs) -> anyhow::Result<Exit> {
    let (_, dns) = load(&a.config)?;
    let r = tern_geodns::build(&dns, "tern")?;
    let name = tern_dns::Name::from_text(&a.name).context("not a domain name")?;
    let t = qtype(&a.qtype).with_context(|| format!("unknown type {}", a.qtype))?;
    let (addr, ecs) = match a.client.split_once('/') {
        Some((ad, len)) => {
            let ad: IpAddr = ad.parse().context("bad --client address")?;
            let len: u8 = len.parse().context("bad --client length")?;
            (ad, Some(tern_dns::ClientSubnet::query(ad, len)))
        }
        None => (a.client.parse().context("bad --client address")?, None),
    };
    let mut up = Up::ALL;
    for d in &a.down {
        let id: SiteId = d.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
        let i = r
            .selector()
            .index(&id)
            .with_context(|| format!("no site {d}"))?;
        up = up.with(i, false);
    }
    let edns = tern_dns::Edns {
        udp_size: 1232,
        options: ecs
            .map(|c| vec![(tern_dns::OPT_ECS, c.to_bytes())])
            .unwrap_or_default(),
        ..Default::default()
    };
    let q = tern_dns::query(1, &name, t, tern_dns::CLASS_IN, Some(edns));
    let peer = if ecs.is_some() {
        "192.0.2.1".parse()?
    } else {
        addr
    };
    let reply = r
        .respond(&q, peer, Transport::Udp, up)
        .context("the query was dropped")?;
    let m = tern_dns::Message::parse(&reply.to_bytes())?;
    let site = reply
        .choice
        .as_ref()
        .and_then(|c| c.site)
        .and_then(|i| r.selector().sites().get(i))
        .map(|s| s.id.to_string());
    let ecs_scope = m
        .edns
        .as_ref()
        .and_then(|e| e.option(tern_dns::OPT_ECS))
        .and_then(|d| tern_dns::ClientSubnet::parse(d).ok())
        .map(|c| c.scope_prefix);
    if a.json {
        let v = serde_json::json!({
            "rcode": tern_dns::rcode::name(m.rcode()),
            "answers": m.answers.iter().map(|r| serde_json::json!({
                "name": r.name.to_dotted(), "type": r.rtype, "ttl": r.ttl, "data": r.data.to_string(),
            })).collect::<Vec<_>>(),
            "authority": m.authority.iter().map(|r| r.data.to_string()).collect::<Vec<_>>(),
            "site": site,
            "choice": reply.choice,
            "ecs_scope": ecs_scope,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!("{}", tern_dns::rcode::name(m.rcode()));
        for rr in &m.answers {
            println!("{}\t{}\t{}", rr.name, rr.ttl, rr.data);
        }
        for rr in &m.authority {
            println!("authority: {}\t{}", rr.name, rr.data);
        }
        if let Some(c) = &reply.choice {
            println!(
                "site: {} ({}), ECS scope /{}",
                site.as_deref().unwrap_or("anycast"),
                c.reason,
                ecs_scope.unwrap_or(c.scope)
            );
        }
    }
    Ok(Exit::Ok)
}
