//! `tern simulate`: the predicted catchment of a tern.toml on an AS graph (a CAIDA
//! AS-relationship file, or a lab's topology), per probe and per AS; `--compare` shows which
//! probes move, in the transition form of `tern atlas diff`.
//!
//! Glue only: the simulation is tern-sim, the lab conversion tern-lab's simgraph, the tables,
//! diff and HTML map tern-atlas's report module.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use tern_atlas::analysis::{Analysis, GroupStats, ProbeRow, SitePoint, group_stats};
use tern_atlas::{Catchment, ProbeSet, read_probes, report};
use tern_lab::simgraph::{SimLab, sim_graph};
use tern_model::{Model, Network, Severity};
use tern_sim::clients::{self, Clients, Share};
use tern_sim::{Graph, Options, Report, asrel, model};

use crate::exit::Exit;

/// Arguments of `tern simulate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The network.
    config: PathBuf,
    /// The AS graph: a CAIDA as-rel file (serial-1 or -2; plain, .bz2, .gz), or a lab's
    /// state.json / topology JSON.
    #[arg(long, value_name = "FILE")]
    graph: PathBuf,
    /// RIPE Atlas probe metadata (API answer or archive; repeatable). A lab graph brings its
    /// own probes.
    #[arg(long = "probes", value_name = "FILE")]
    probes: Vec<PathBuf>,
    /// A second tern.toml: which probes and ASes move from this one to that one.
    #[arg(long, value_name = "FILE")]
    compare: Option<PathBuf>,
    /// The prefix to simulate (default: the first anycast prefix, IPv6 first).
    #[arg(long)]
    prefix: Option<tern_types::Prefix>,
    /// A site that is down (repeatable).
    #[arg(long = "fail", value_name = "SITE")]
    fail: Vec<String>,
    /// A drained site, as its `drain` setting says (repeatable).
    #[arg(long = "drain", value_name = "SITE")]
    drain: Vec<String>,
    /// Do not split providers and regional carriers into regional nodes (AS-level graphs).
    #[arg(long)]
    no_split: bool,
    /// Label probes by the site a router would pick (lowest neighbour router id) instead of
    /// the tie set.
    #[arg(long)]
    pick: bool,
    /// The site or tie set of every AS in the graph.
    #[arg(long)]
    all_ases: bool,
    /// Print JSON (every per-probe and per-AS fact) instead of tables.
    #[arg(long)]
    json: bool,
    /// Also write a self-contained HTML report (the atlas map, probes coloured by site).
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Rows per table.
    #[arg(long, default_value_t = 20)]
    limit: usize,
}

/// The graph and how sessions attach to it.
enum Loaded {
    AsRel(Graph),
    Lab(SimLab),
}

fn load_model(path: &Path) -> anyhow::Result<Model> {
    let m = tern_model::load(path)?;
    if m.has_errors() {
        let errs: Vec<String> = m
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| {
                let at = d
                    .location
                    .as_ref()
                    .map(|l| l.to_string())
                    .unwrap_or_default();
                format!("  {at}: {}", d.message)
            })
            .collect();
        bail!(
            "{} has {} error(s); run `tern check`:\n{}",
            path.display(),
            errs.len(),
            errs.join("\n")
        );
    }
    Ok(m)
}

fn load_graph(a: &Args, nets: &[&Network], m: &Model, probes: &ProbeSet) -> anyhow::Result<Loaded> {
    let bytes =
        std::fs::read(&a.graph).with_context(|| format!("cannot read {}", a.graph.display()))?;
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        let v: serde_json::Value = serde_json::from_slice(&bytes)
            .with_context(|| format!("{}: not JSON", a.graph.display()))?;
        let t = v.get("topology").cloned().unwrap_or(v);
        let topo: tern_lab::topology::Topology = serde_json::from_value(t).with_context(|| {
            format!(
                "{}: neither a lab state.json nor a lab topology",
                a.graph.display()
            )
        })?;
        return Ok(Loaded::Lab(sim_graph(&topo)));
    }
    let f = asrel::parse(&bytes, &a.graph.display().to_string())?;
    if !f.cycles.is_empty() {
        eprintln!(
            "note: {} provider→customer cycle(s) broken (turned into peerings), e.g. {}",
            f.cycles.len(),
            f.cycles
                .iter()
                .take(3)
                .map(|c| format!("AS{}→AS{} on {:?}", c.broken.0, c.broken.1, c.ases))
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    let splits = if a.no_split {
        Vec::new()
    } else {
        let mut v = Vec::new();
        for n in nets {
            v.extend(model::splits(n, &m.providers));
        }
        v.sort_by_key(|s| s.0);
        v.dedup_by_key(|s| s.0);
        v
    };
    let regions = clients::as_regions(probes);
    Ok(Loaded::AsRel(tern_sim::GraphBuilder::asrel_split(
        &f, &regions, &splits,
    )))
}

fn simulate_one(
    net: &Network,
    m: &Model,
    g: &Loaded,
    opts: &Options,
    probes: &ProbeSet,
    all: bool,
) -> anyhow::Result<Report> {
    let (graph, attach): (&Graph, Box<model::Attach<'_>>) = match g {
        Loaded::AsRel(gr) => (gr, Box::new(model::attach_by_as(gr, &m.providers))),
        Loaded::Lab(l) => (
            &l.graph,
            Box::new(|s: &tern_model::Site, u: &tern_model::Upstream| {
                l.attach(s.id.as_str(), u.provider.as_deref())
            }),
        ),
    };
    let att = model::scenario(net, &m.providers, &*attach, opts)?;
    let cl: Clients = match g {
        Loaded::Lab(l) if probes.probes.is_empty() => l.clients.clone(),
        _ => clients::place(graph, probes, att.prefix.afi()),
    };
    Ok(tern_sim::report(graph, net.asn.0, att, &cl, all))
}

/// Runs `tern simulate`.
pub fn run(a: Args) -> anyhow::Result<Exit> {
    let m = load_model(&a.config)?;
    let other = a.compare.as_deref().map(load_model).transpose()?;
    let mut probes = ProbeSet::default();
    for p in &a.probes {
        probes.merge(read_probes(p)?);
    }
    let mut nets = vec![&m.network];
    nets.extend(other.as_ref().map(|o| &o.network));
    let g = load_graph(&a, &nets, &m, &probes)?;
    let opts = Options {
        prefix: a.prefix,
        failed: a.fail.clone(),
        drained: a.drain.clone(),
    };
    let before = simulate_one(&m.network, &m, &g, &opts, &probes, a.all_ases)?;
    if before.origins.is_empty() {
        print_skips(&before);
        bail!("no session of the network attaches to the graph: nothing to simulate");
    }
    let label = |r: &tern_sim::clients::Reach| -> String {
        if a.pick {
            r.pick.clone().unwrap_or_else(|| "none".into())
        } else {
            r.label()
        }
    };
    let Some(o) = &other else {
        if a.json {
            println!("{}", serde_json::to_string_pretty(&before)?);
        } else {
            print!("{}", text(&before, a.limit, a.all_ases));
        }
        if let Some(h) = &a.html {
            let an = analysis(&before, &m.network, &label);
            write(h, &report::html::analysis(&an))?;
        }
        return Ok(Exit::Ok);
    };
    let after = simulate_one(&o.network, &m, &g, &opts, &probes, true)?;
    let (ab, aa) = (
        analysis(&before, &m.network, &label),
        analysis(&after, &o.network, &label),
    );
    let diff = tern_atlas::diff::diff(&ab, &aa);
    let moved_ases = moved(&before, &after, &label, a.all_ases);
    if a.json {
        let v = serde_json::json!({
            "before": before, "after": after, "diff": diff, "ases_moved": moved_ases,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print!("{}", report::text::diff(&diff, a.limit));
        println!(
            "\nASes whose predicted site changes: {} of {}",
            moved_ases.len(),
            before.nodes
        );
    }
    if let Some(h) = &a.html {
        write(h, &report::html::diff(&ab, &aa, &diff))?;
    }
    Ok(Exit::Ok)
}

fn write(path: &Path, html: &str) -> anyhow::Result<()> {
    std::fs::write(path, html).with_context(|| format!("cannot write {}", path.display()))
}

/// Nodes whose label differs: (node, before, after).
fn moved(
    b: &Report,
    a: &Report,
    label: &dyn Fn(&tern_sim::clients::Reach) -> String,
    all: bool,
) -> Vec<(String, String, String)> {
    let (Some(bn), Some(an)) = (&b.all_nodes, &a.all_nodes) else {
        return Vec::new();
    };
    let _ = all;
    bn.iter()
        .zip(an)
        .filter_map(|(x, y)| {
            let (lx, ly) = (label(&x.reach), label(&y.reach));
            (lx != ly).then(|| (x.node.clone(), lx, ly))
        })
        .collect()
}

fn print_skips(r: &Report) {
    for s in &r.skipped {
        eprintln!("left out: {} {}: {}", s.site, s.upstream, s.reason);
    }
}

fn share_line(s: &Share) -> String {
    let mut parts: Vec<String> = s
        .sites
        .iter()
        .map(|(k, v)| {
            format!(
                "{k} {v} ({:.0}%)",
                100.0 * *v as f64 / s.probes.max(1) as f64
            )
        })
        .collect();
    if s.tied > 0 {
        parts.push(format!("tied {}", s.tied));
    }
    if s.unreachable > 0 {
        parts.push(format!("no route {}", s.unreachable));
    }
    format!("{:<8} {:>6}  {}", s.key, s.probes, parts.join(", "))
}

fn text(r: &Report, limit: usize, all: bool) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "prefix {} from AS{}, graph of {} nodes",
        r.prefix, r.asn, r.nodes
    );
    for or in &r.origins {
        let _ = writeln!(
            o,
            "  {} {} → {} (AS{}){}",
            or.site,
            or.upstream,
            or.node,
            or.asn,
            if or.prepend > 0 {
                format!(", prepend {}", or.prepend)
            } else {
                String::new()
            }
        );
        for e in &or.effects {
            let _ = writeln!(o, "      {}", e.note);
        }
    }
    for s in &r.skipped {
        let _ = writeln!(o, "  left out: {} {}: {}", s.site, s.upstream, s.reason);
    }
    if !r.silent.is_empty() {
        let _ = writeln!(o, "  not announcing: {}", r.silent.join(", "));
    }
    if r.unstable {
        let _ = writeln!(
            o,
            "  WARNING: propagation hit its work budget; results are not stable"
        );
    }
    let ns = &r.node_shares;
    let _ = writeln!(o, "\nASes (nodes): {}", share_line(ns));
    let _ = writeln!(
        o,
        "probes: {} placed, {} without an AS of the family, {} in ASes not in the graph",
        r.probes.len(),
        r.probes_no_asn,
        r.probes_not_in_graph
    );
    if !r.probes.is_empty() {
        let _ = writeln!(o, "\n{}", share_line(&r.overall));
        let _ = writeln!(o, "\nby continent:");
        for s in &r.by_continent {
            let _ = writeln!(o, "  {}", share_line(s));
        }
        let _ = writeln!(o, "\nby country (top {limit}):");
        for s in r.by_country.iter().take(limit) {
            let _ = writeln!(o, "  {}", share_line(s));
        }
        let _ = writeln!(o, "\nprobes (first {limit}):");
        for p in r.probes.iter().take(limit) {
            let _ = writeln!(
                o,
                "  {:>7} AS{:<7} {:<4} {:<16} pick {:<6} path {}",
                p.client.prb_id,
                p.client.asn,
                p.client.country.as_deref().unwrap_or("-"),
                p.reach.label(),
                p.reach.pick.as_deref().unwrap_or("-"),
                p.reach
                    .path
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
    }
    if let (true, Some(all)) = (all, &r.all_nodes) {
        let _ = writeln!(o, "\nevery AS:");
        for n in all {
            let _ = writeln!(o, "  {:<20} {}", n.node, n.reach.label());
        }
    }
    o
}

/// The report as a tern-atlas analysis (no RTTs), so diffs, tables and the map are shared.
fn analysis(
    r: &Report,
    net: &Network,
    label: &dyn Fn(&tern_sim::clients::Reach) -> String,
) -> Analysis {
    let probes: Vec<ProbeRow> = r
        .probes
        .iter()
        .map(|p| ProbeRow {
            prb_id: p.client.prb_id,
            country: p.client.country.clone(),
            continent: p.client.continent,
            lat: p.client.lat,
            lon: p.client.lon,
            asn: Some(p.client.asn),
            catchment: Catchment {
                site: Some(label(&p.reach)),
                evidence: None,
                detail: Some(format!("predicted, AS path {:?}", p.reach.path)),
                seen: p.reach.sites.clone(),
            },
            min_rtt: None,
            nearest_site: None,
            nearest_km: None,
            site_km: None,
            results: 1,
            traceroute: None,
        })
        .collect();
    let group = |key: &dyn Fn(&ProbeRow) -> String| -> Vec<GroupStats> {
        let mut m: BTreeMap<String, usize> = BTreeMap::new();
        for p in &probes {
            *m.entry(key(p)).or_default() += 1;
        }
        let mut v: Vec<GroupStats> = m
            .into_iter()
            .map(|(k, n)| group_stats(&k, std::iter::repeat_n(None, n)))
            .collect();
        v.sort_by(|a, b| b.probes.cmp(&a.probes).then(a.key.cmp(&b.key)));
        v
    };
    let by_site = group(&|p| p.site_label().to_owned());
    let by_country = group(&|p| p.country.clone().unwrap_or_else(|| "unknown".into()));
    let by_continent = group(&|p| p.continent.unwrap_or("unknown").to_owned());
    let _: HashMap<(), ()> = HashMap::new();
    Analysis {
        inputs: Vec::new(),
        keys: tern_atlas::analysis::Keys::Sites,
        overall: group_stats("all", probes.iter().map(|_| None)),
        by_site,
        by_country,
        by_continent,
        by_evidence: BTreeMap::new(),
        nearest: None,
        sites: net
            .sites
            .iter()
            .map(|s| SitePoint {
                id: s.id.clone(),
                lat: s.lat,
                lon: s.lon,
            })
            .collect(),
        probes,
    }
}
