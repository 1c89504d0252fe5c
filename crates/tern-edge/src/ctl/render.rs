//! Text form of the control reports, for people (`tern ctl status` without `--json`).

use std::fmt::Write as _;

use super::proto::{ActionReport, ChecksReport, RoutesReport, StatusReport};

fn dur(s: u64) -> String {
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m{}s", s / 60, s % 60),
        _ => format!("{}h{}m", s / 3600, (s % 3600) / 60),
    }
}

/// `tern ctl status`.
pub fn status(r: &StatusReport) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "site {} (up {}, config {})",
        r.site,
        dur(r.uptime_s),
        r.config
    );
    let _ = writeln!(o, "\nsessions:");
    for s in &r.sessions {
        let up = s
            .uptime_s
            .map(|u| format!("up {}", dur(u)))
            .unwrap_or_else(|| {
                s.last_down.clone().map_or_else(
                    || "not established yet".to_owned(),
                    |d| format!("last down: {d}"),
                )
            });
        let _ = writeln!(
            o,
            "  {:<12} {:<28} AS{:<10} {:<12} {} routes, {} established, {}",
            s.name, s.neighbor, s.remote_as, s.state, s.announced, s.established_count, up
        );
        if let Some(h) = &s.hint {
            let _ = writeln!(o, "  {:<12} hint: {h}", "");
        }
    }
    let _ = writeln!(o, "\nprefixes:");
    for p in &r.prefixes {
        let _ = writeln!(
            o,
            "  {:<22} {:<22} for {:<8} {}",
            p.prefix,
            p.state,
            dur(p.since_s),
            p.why
        );
    }
    let mut drained = r
        .ctl_drained
        .iter()
        .map(|d| format!("{d} (ctl)"))
        .collect::<Vec<_>>();
    drained.extend(
        r.file_drained
            .iter()
            .map(|d| format!("{d} (file {})", r.drain_file)),
    );
    let _ = writeln!(
        o,
        "\ndrained: {}",
        if drained.is_empty() {
            "nothing".to_owned()
        } else {
            drained.join(", ")
        }
    );
    if let Some(l) = &r.last_reload {
        let _ = writeln!(o, "last reload: {l}");
    }
    o
}

/// `tern ctl routes`.
pub fn routes(r: &RoutesReport) -> String {
    let mut o = String::new();
    for u in &r.upstreams {
        let _ = writeln!(o, "{} ({}):", u.name, u.state);
        for rt in &u.routes {
            let mut comm = rt.communities.clone();
            comm.extend(rt.large_communities.iter().cloned());
            let _ = writeln!(
                o,
                "  announce {:<22} as-path {:<20} communities {}",
                rt.prefix,
                rt.as_path,
                if comm.is_empty() {
                    "-".to_owned()
                } else {
                    comm.join(" ")
                }
            );
        }
        for (p, why) in &u.withdrawn {
            let _ = writeln!(o, "  withdraw {p:<22} {why}");
        }
        for n in &u.notes {
            let _ = writeln!(o, "  # {n}");
        }
    }
    o
}

/// `tern ctl checks`.
pub fn checks(r: &ChecksReport) -> String {
    let mut o = String::new();
    for c in &r.checks {
        let last = match (c.last_ok, &c.last_detail, c.last_latency_ms, c.last_age_s) {
            (Some(ok), Some(d), Some(ms), Some(age)) => format!(
                "last {} {ms:.1} ms {} ago: {d}",
                if ok { "ok" } else { "FAILED" },
                dur(age)
            ),
            _ => "not run yet".to_owned(),
        };
        let _ = writeln!(
            o,
            "{:<20} {:<5} {} ({} ok, {} failed)\n    {}\n    {}",
            c.name, c.health, c.target, c.ok_total, c.failed_total, c.reason, last
        );
    }
    o
}

/// `tern ctl drain|undrain|reload`.
pub fn action(r: &ActionReport) -> String {
    r.lines.iter().map(|l| format!("{l}\n")).collect()
}
