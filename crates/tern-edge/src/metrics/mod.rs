//! Prometheus `/metrics` (text exposition format 0.0.4), written by hand from the announcer's
//! [`View`]: a handful of gauges and counters do not need a metrics crate. Every name is listed
//! in docs/metrics.md, in one table; keep the two in step ([`NAMES`] is checked by a test).

use std::fmt::Write as _;

use tern_bgp::session::State;
use tern_health::{Health, PrefixState};

use crate::announcer::View;
use crate::serve::http::{Request, Response};

/// Every metric name this module writes, in output order.
pub const NAMES: &[&str] = &[
    "tern_up",
    "tern_start_time_seconds",
    "tern_bgp_session_state",
    "tern_bgp_session_established",
    "tern_bgp_session_established_total",
    "tern_bgp_session_resets_total",
    "tern_bgp_updates_sent_total",
    "tern_bgp_routes_announced",
    "tern_prefix_state",
    "tern_prefix_transitions_total",
    "tern_check_up",
    "tern_check_last_ok",
    "tern_check_latency_seconds",
    "tern_check_runs_total",
    "tern_announcer_reaction_seconds",
    "tern_announcer_reaction_max_seconds",
    "tern_reloads_total",
];

/// RFC 4271 §8.2.2 states as numbers: Idle 1, Connect 2, Active 3, OpenSent 4, OpenConfirm 5,
/// Established 6 (the numbering of the BGP4-MIB, RFC 4273 `bgpPeerState`).
pub fn state_number(s: State) -> u8 {
    match s {
        State::Idle => 1,
        State::Connect => 2,
        State::Active => 3,
        State::OpenSent => 4,
        State::OpenConfirm => 5,
        State::Established => 6,
    }
}

fn prefix_state_name(s: &PrefixState) -> &'static str {
    match s {
        PrefixState::Up => "up",
        PrefixState::Degraded(_) => "degraded",
        PrefixState::Down => "down",
        PrefixState::Drained(_) => "drained",
    }
}

/// Label value escaping (backslash, quote, newline).
fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn head(o: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// The exposition text for `view`.
pub fn render(v: &View) -> String {
    let mut o = String::new();
    let site = esc(v.site.as_str());
    head(&mut o, "tern_up", "gauge", "1 while the site daemon runs.");
    let _ = writeln!(o, "tern_up{{site=\"{site}\"}} 1");
    head(
        &mut o,
        "tern_start_time_seconds",
        "gauge",
        "Start time of the daemon, Unix seconds.",
    );
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .saturating_sub(v.started.elapsed());
    let _ = writeln!(o, "tern_start_time_seconds {:.3}", start.as_secs_f64());

    let sessions: Vec<_> = v
        .upstreams
        .iter()
        .map(|u| (esc(&u.name), u.status.borrow().clone(), u))
        .collect();
    head(
        &mut o,
        "tern_bgp_session_state",
        "gauge",
        "RFC 4271 state: 1 Idle, 2 Connect, 3 Active, 4 OpenSent, 5 OpenConfirm, 6 Established.",
    );
    for (n, s, _) in &sessions {
        let _ = writeln!(
            o,
            "tern_bgp_session_state{{upstream=\"{n}\"}} {}",
            state_number(s.state)
        );
    }
    head(
        &mut o,
        "tern_bgp_session_established",
        "gauge",
        "1 while the session is Established.",
    );
    for (n, s, _) in &sessions {
        let _ = writeln!(
            o,
            "tern_bgp_session_established{{upstream=\"{n}\"}} {}",
            u8::from(s.state == State::Established)
        );
    }
    head(
        &mut o,
        "tern_bgp_session_established_total",
        "counter",
        "Times the session reached Established; each one after the first is a flap.",
    );
    for (n, s, u) in &sessions {
        let _ = writeln!(
            o,
            "tern_bgp_session_established_total{{upstream=\"{n}\"}} {}",
            u.established_before + s.stats.established_count
        );
    }
    head(
        &mut o,
        "tern_bgp_session_resets_total",
        "counter",
        "Sessions reset by a reload that changed transport or OPEN parameters.",
    );
    for (n, _, u) in &sessions {
        let _ = writeln!(
            o,
            "tern_bgp_session_resets_total{{upstream=\"{n}\"}} {}",
            u.resets
        );
    }
    head(
        &mut o,
        "tern_bgp_updates_sent_total",
        "counter",
        "UPDATE messages sent by the current session task.",
    );
    for (n, s, _) in &sessions {
        let _ = writeln!(
            o,
            "tern_bgp_updates_sent_total{{upstream=\"{n}\"}} {}",
            s.stats.updates_out
        );
    }
    head(
        &mut o,
        "tern_bgp_routes_announced",
        "gauge",
        "Routes in the session's Adj-RIB-Out.",
    );
    for (n, s, _) in &sessions {
        let _ = writeln!(
            o,
            "tern_bgp_routes_announced{{upstream=\"{n}\"}} {}",
            s.announced
        );
    }

    head(
        &mut o,
        "tern_prefix_state",
        "gauge",
        "1 for the prefix's current state (up, degraded, down, drained), 0 for the others.",
    );
    for p in &v.prefixes {
        let cur = prefix_state_name(&p.state);
        for st in ["up", "degraded", "down", "drained"] {
            let _ = writeln!(
                o,
                "tern_prefix_state{{prefix=\"{}\",state=\"{st}\"}} {}",
                p.prefix,
                u8::from(st == cur)
            );
        }
    }
    head(
        &mut o,
        "tern_prefix_transitions_total",
        "counter",
        "State changes of the prefix.",
    );
    for p in &v.prefixes {
        let _ = writeln!(
            o,
            "tern_prefix_transitions_total{{prefix=\"{}\"}} {}",
            p.prefix, p.transitions
        );
    }

    let checks: Vec<_> = v
        .checks
        .iter()
        .map(|c| (esc(&c.name), esc(&c.service), c))
        .collect();
    head(
        &mut o,
        "tern_check_up",
        "gauge",
        "1 while the check is up after rise/fall.",
    );
    for (n, s, c) in &checks {
        let _ = writeln!(
            o,
            "tern_check_up{{check=\"{n}\",service=\"{s}\"}} {}",
            u8::from(c.health == Health::Up)
        );
    }
    head(
        &mut o,
        "tern_check_last_ok",
        "gauge",
        "1 if the latest run passed.",
    );
    for (n, s, c) in &checks {
        if let Some((r, _)) = &c.last {
            let _ = writeln!(
                o,
                "tern_check_last_ok{{check=\"{n}\",service=\"{s}\"}} {}",
                u8::from(r.ok)
            );
        }
    }
    head(
        &mut o,
        "tern_check_latency_seconds",
        "gauge",
        "Duration of the latest run.",
    );
    for (n, s, c) in &checks {
        if let Some((r, _)) = &c.last {
            let _ = writeln!(
                o,
                "tern_check_latency_seconds{{check=\"{n}\",service=\"{s}\"}} {:.6}",
                r.latency.as_secs_f64()
            );
        }
    }
    head(
        &mut o,
        "tern_check_runs_total",
        "counter",
        "Runs of the check by result.",
    );
    for (n, s, c) in &checks {
        let _ = writeln!(
            o,
            "tern_check_runs_total{{check=\"{n}\",service=\"{s}\",result=\"ok\"}} {}",
            c.ok_total
        );
        let _ = writeln!(
            o,
            "tern_check_runs_total{{check=\"{n}\",service=\"{s}\",result=\"failed\"}} {}",
            c.failed_total
        );
    }

    head(
        &mut o,
        "tern_announcer_reaction_seconds",
        "gauge",
        "Latest time from a prefix state change to the routes handed to the peers.",
    );
    let _ = writeln!(
        o,
        "tern_announcer_reaction_seconds {:.6}",
        v.reaction.last.as_secs_f64()
    );
    head(
        &mut o,
        "tern_announcer_reaction_max_seconds",
        "gauge",
        "Largest such time since start.",
    );
    let _ = writeln!(
        o,
        "tern_announcer_reaction_max_seconds {:.6}",
        v.reaction.max.as_secs_f64()
    );
    head(
        &mut o,
        "tern_reloads_total",
        "counter",
        "Reloads by outcome.",
    );
    let _ = writeln!(
        o,
        "tern_reloads_total{{result=\"applied\"}} {}",
        v.reloads.0
    );
    let _ = writeln!(
        o,
        "tern_reloads_total{{result=\"refused\"}} {}",
        v.reloads.1
    );
    o
}

/// The `/metrics` route handler over the announcer's view.
#[derive(Debug, Clone)]
pub struct Metrics(pub tokio::sync::watch::Receiver<View>);

impl crate::serve::http::Handler for Metrics {
    fn handle(&self, _req: &Request) -> Response {
        let body = render(&self.0.borrow());
        let mut r = Response::text(200, body);
        r.content_type = "text/plain; version=0.0.4; charset=utf-8".to_owned();
        r
    }
}
