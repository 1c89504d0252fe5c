//! `tern observe tern.toml MRT…`: what route collectors saw of the model's prefixes (visibility,
//! origins, upstreams, RPKI, timeline) and whether each intent took effect, judged by paths.
//! Exit 1 on a failed or bypassed intent or an alert, so it can run from cron.

use std::path::PathBuf;

use anyhow::Context as _;
use tern_observe::mrt;
use tern_observe::observe::{Observer, Report, Status};
use tern_rpki::VrpSet;

use crate::exit::Exit;

/// Arguments of `tern observe`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The network description.
    pub file: PathBuf,
    /// MRT files (RIB dumps or updates; plain, .gz or .bz2), read in order.
    #[arg(required = true, value_name = "MRT")]
    pub mrt: Vec<PathBuf>,
    /// Validated ROA payloads as JSON (rpki-client, Routinator json/jsonext): RPKI state of
    /// every observed (prefix, origin).
    #[arg(long, value_name = "FILE", conflicts_with = "rtr")]
    pub vrps: Option<PathBuf>,
    /// Fetch the VRPs from an RTR cache (RFC 8210), HOST:PORT.
    #[arg(long, value_name = "ADDR")]
    pub rtr: Option<std::net::SocketAddr>,
    /// Rewrite AS numbers on paths and peers first, from a file of `FROM TO` lines (`#`
    /// comments): `tern lab collect` writes one mapping the lab's private ASes to the ASes
    /// they stand for.
    #[arg(long, value_name = "FILE")]
    pub as_map: Option<PathBuf>,
    /// Print every fact as JSON.
    #[arg(long)]
    pub json: bool,
    /// Timeline lines printed per prefix (all of them are in --json).
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub timeline: usize,
}

/// Loads VRPs from a JSON file or an RTR cache (shared with `tern publish`).
pub fn load_vrps(
    file: Option<&std::path::Path>,
    rtr: Option<std::net::SocketAddr>,
) -> anyhow::Result<Option<VrpSet>> {
    Ok(match (file, rtr) {
        (Some(p), _) => Some(VrpSet::from_json_file(p)?),
        (None, Some(addr)) => Some(
            tern_rpki::rtr::fetch(addr, std::time::Duration::from_secs(30))
                .with_context(|| format!("RTR cache {addr}"))?,
        ),
        (None, None) => None,
    })
}

/// Reads an AS map: `FROM TO` per line, `#` starts a comment.
fn load_as_map(
    path: &std::path::Path,
) -> anyhow::Result<std::collections::BTreeMap<tern_types::Asn, tern_types::Asn>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut m = std::collections::BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let w: Vec<&str> = line.split_whitespace().collect();
        let parse = |s: &str| s.trim_start_matches("AS").parse::<u32>().ok();
        match (
            w.as_slice(),
            w.first().and_then(|s| parse(s)),
            w.get(1).and_then(|s| parse(s)),
        ) {
            ([_, _], Some(a), Some(b)) => {
                m.insert(tern_types::Asn(a), tern_types::Asn(b));
            }
            _ => anyhow::bail!(
                "{}:{}: expected `FROM_AS TO_AS`, got {line:?}",
                path.display(),
                n + 1
            ),
        }
    }
    Ok(m)
}

/// Runs `tern observe`.
pub fn run(args: Args) -> anyhow::Result<Exit> {
    let m = tern_model::load(&args.file)?;
    if m.has_errors() {
        eprintln!(
            "{} has errors (run `tern check {}`); observing what it describes anyway",
            args.file.display(),
            args.file.display()
        );
    }
    let vrps = load_vrps(args.vrps.as_deref(), args.rtr)?;
    let mut obs = Observer::new(&m.network);
    if let Some(p) = &args.as_map {
        obs = obs.with_as_map(load_as_map(p)?);
    }
    let mut unusable = false;
    for path in &args.mrt {
        let mut r = mrt::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        loop {
            match r.next_record() {
                Ok(Some(rec)) => obs.handle_record(&rec),
                Ok(None) => break,
                Err(e) => {
                    eprintln!("{}: {e}", path.display());
                    unusable = true;
                    break;
                }
            }
        }
        let c = r.counts().clone();
        if let Some((at, why)) = &c.first_malformed {
            eprintln!(
                "{}: {} malformed record(s) skipped; first at byte {at}: {why}",
                path.display(),
                c.malformed
            );
        }
        obs.handle_input_done(path.display().to_string(), c);
    }
    let report = obs.finish(&m.providers, vrps.as_ref());
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&report, args.timeline);
    }
    Ok(if unusable {
        Exit::Unusable
    } else if report.has_findings() {
        Exit::Findings
    } else {
        Exit::Ok
    })
}

fn print_text(r: &Report, timeline: usize) {
    for (name, c) in &r.inputs {
        println!("read {name}: {c}");
    }
    for p in &r.prefixes {
        println!();
        println!(
            "{} ({}{}): {} collector peer(s) in {} AS(es), {} route(s) seen, {} announcement(s), {} withdrawal(s)",
            p.prefix,
            p.role,
            if p.announced { "" } else { ", not announced" },
            p.peers,
            p.peer_ases.len(),
            p.routes.len(),
            p.announcements,
            p.withdrawals
        );
        let list = |m: &std::collections::BTreeMap<tern_types::Asn, usize>| {
            m.iter()
                .map(|(a, n)| format!("{a} ({n})"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !p.origins.is_empty() {
            println!("  origins: {}", list(&p.origins));
        }
        if !p.upstreams.is_empty() {
            println!("  upstreams (AS next to ours): {}", list(&p.upstreams));
        }
        for s in &p.rpki {
            println!("  RPKI {} origin {}: {}", s.prefix, s.origin, s.state);
        }
        for e in p.events.iter().take(timeline) {
            println!(
                "  {} {:?} from {} ({}){}",
                utc(e.timestamp),
                e.kind,
                e.peer.ip,
                e.peer.asn,
                e.path
                    .as_ref()
                    .map(|p| format!(": {p}"))
                    .unwrap_or_default()
            );
        }
        let more = p.events.len().saturating_sub(timeline) + p.events_dropped;
        if more > 0 {
            println!("  … {more} more event(s) (--json, --timeline N)");
        }
    }
    if !r.not_visible.is_empty() {
        println!();
        println!(
            "announced but seen by no collector peer: {}",
            r.not_visible
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if !r.alerts.is_empty() {
        println!();
        println!("alerts:");
        for a in &r.alerts {
            println!("  {a}");
        }
    }
    if !r.verdicts.is_empty() {
        println!();
        println!("intents:");
    }
    let mut quiet: std::collections::BTreeMap<String, usize> = Default::default();
    for v in &r.verdicts {
        if v.status == Status::NoEvidence {
            *quiet
                .entry(format!("{}/{}", v.site, v.upstream))
                .or_default() += 1;
            continue;
        }
        println!(
            "  {}/{} {} via AS{}: {}",
            v.site, v.upstream, v.effect, v.upstream_as.0, v.summary
        );
        for e in &v.evidence {
            for x in &e.examples {
                println!("      {}: {x}", e.prefix);
            }
            if !e.without_effect.is_empty() && v.status == Status::Ambiguous {
                println!(
                    "      {}: also announced through AS{} without it by {}",
                    e.prefix,
                    v.upstream_as.0,
                    e.without_effect.join(", ")
                );
            }
        }
    }
    if !quiet.is_empty() {
        println!(
            "  no path can show (prefix not seen through that upstream): {}",
            quiet
                .iter()
                .map(|(k, n)| format!("{k} ({n})"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let failed = r
        .verdicts
        .iter()
        .filter(|v| matches!(v.status, Status::Fails | Status::Bypassed))
        .count();
    println!();
    println!(
        "{} intent(s) judged: {} hold, {failed} do not; {} alert(s)",
        r.verdicts.len(),
        r.verdicts
            .iter()
            .filter(|v| v.status == Status::Holds)
            .count(),
        r.alerts.len()
    );
}

/// Seconds since the epoch as `YYYY-MM-DD HH:MM:SS` UTC (Howard Hinnant's civil-from-days).
fn utc(ts: u32) -> String {
    let (days, secs) = (i64::from(ts) / 86_400, i64::from(ts) % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_dates() {
        assert_eq!(super::utc(0), "1970-01-01 00:00:00");
        assert_eq!(super::utc(1_470_931_200), "2016-08-11 16:00:00");
        assert_eq!(super::utc(951_782_400), "2000-02-29 00:00:00");
    }
}
