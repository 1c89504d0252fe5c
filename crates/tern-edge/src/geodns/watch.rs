//! The health watcher of the GeoDNS sites: one task per site fetches its which-site endpoint
//! (`/cdn-cgi/trace` by default) on its unicast address every `interval`, feeds the result to a
//! [`tern_health::CheckMachine`] (the same rise/fall machine with flap damping as `tern run`'s
//! checks) and writes the site's bit in the shared up-mask on every transition.
//!
//! With the trace endpoint the body must name the site (`site=NAME` line): an address that
//! answers but is another site (a misrouted unicast prefix) counts as down. Sites start down
//! (fail closed: until `rise` successes the answer is the next site, or the anycast address).
//! A site that stops answering is out of the answers after at most `fall` failed checks, i.e.
//! within `interval × fall + timeout` of its last good check.
//!
//! Drain: a trace with a `drain=on` line (the site's anycast service is drained by `tern ctl
//! drain` or its drain file) or `service=down` (the site withdrew every anycast prefix: its own
//! service checks failed) takes the site out of the answers at the next check, without
//! waiting for `fall`: the site answered, so the check machine counts a success, but its bit
//! stays clear until a trace says `drain=off` and `service=up` (then it is back at once if the
//! machine is up).

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use tern_health::{CheckKind, CheckMachine, CheckSpec, Damping, Health};
use tern_model::dns::{DEFAULT_HEALTH_PATH, DnsHealth, DnsSite};
use tern_types::SiteId;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use tern_health::CheckResult;

use crate::probe::{http, run_check};

/// A site's health changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteEvent {
    /// The site.
    pub site: SiteId,
    /// Its bit in the up-mask.
    pub index: usize,
    /// New health.
    pub health: Health,
    /// Why.
    pub reason: String,
    /// When.
    pub at: Instant,
}

/// The check of one site.
pub fn spec(site: &DnsSite, h: &DnsHealth) -> Option<CheckSpec> {
    let host = match site.check_addr()? {
        IpAddr::V6(a) => a.to_string(),
        IpAddr::V4(a) => a.to_string(),
    };
    let expect_body = (h.path == DEFAULT_HEALTH_PATH).then(|| format!("\nsite={}\n", site.id));
    Some(CheckSpec {
        kind: CheckKind::Http {
            host,
            port: h.port,
            path: h.path.clone(),
            expect_status: 200,
            expect_body,
            tls: false,
        },
        interval: h.interval,
        timeout: h.timeout,
        rise: h.rise,
        fall: h.fall,
        damping: Damping::default(),
    })
}

/// Starts one watcher per site on `tracker`; site `i` writes bit `i` of `up` (cleared first).
/// Sites without an address or beyond 64 are never up. Stops on `shutdown`.
pub fn spawn(
    sites: &[DnsSite],
    health: &DnsHealth,
    up: Arc<AtomicU64>,
    events: Option<mpsc::UnboundedSender<SiteEvent>>,
    tracker: &TaskTracker,
    shutdown: CancellationToken,
) {
    up.store(0, Ordering::Release);
    for (index, site) in sites.iter().enumerate().take(64) {
        let Some(spec) = spec(site, health) else {
            continue;
        };
        let (up, events, shutdown) = (up.clone(), events.clone(), shutdown.clone());
        let id = site.id.clone();
        tracker.spawn(async move { run(id, index, spec, up, events, shutdown).await });
    }
}

async fn run(
    site: SiteId,
    index: usize,
    spec: CheckSpec,
    up: Arc<AtomicU64>,
    events: Option<mpsc::UnboundedSender<SiteEvent>>,
    shutdown: CancellationToken,
) {
    let mut m = CheckMachine::new(&spec, Instant::now());
    let bit = 1u64 << index;
    let mut drained = false;
    loop {
        let at = tokio::time::Instant::from_std(m.poll_timeout());
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep_until(at) => {}
        }
        let now = Instant::now();
        if m.check_due(now) {
            m.check_started(now, std::time::Duration::ZERO);
            let (result, drain) = tokio::select! {
                () = shutdown.cancelled() => return,
                r = check(&spec) => r,
            };
            m.handle_result(result, Instant::now());
            if let Some(d) = drain.filter(|d| *d != drained) {
                drained = d;
                let (health, reason) = if d {
                    (
                        Health::Down,
                        "drained (trace says drain=on or service=down)".to_owned(),
                    )
                } else {
                    (
                        m.health(),
                        "undrained (trace says drain=off, service=up)".to_owned(),
                    )
                };
                set(&up, bit, health, drained);
                tracing::info!(%site, %health, %reason, "geodns site health");
                if let Some(tx) = &events {
                    let _ = tx.send(SiteEvent {
                        site: site.clone(),
                        index,
                        health,
                        reason,
                        at: Instant::now(),
                    });
                }
            }
        } else {
            m.handle_timeout(now);
        }
        while let Some(t) = m.poll_output() {
            set(&up, bit, t.health, drained);
            let (health, reason) = if drained {
                (Health::Down, format!("{} (but drained)", t.reason))
            } else {
                (t.health, t.reason)
            };
            tracing::info!(%site, %health, %reason, "geodns site health");
            if let Some(tx) = &events {
                let _ = tx.send(SiteEvent {
                    site: site.clone(),
                    index,
                    health,
                    reason,
                    at: t.at,
                });
            }
        }
    }
}

/// Writes the site's bit: up only when healthy and not drained.
fn set(up: &AtomicU64, bit: u64, health: Health, drained: bool) {
    if health == Health::Up && !drained {
        up.fetch_or(bit, Ordering::AcqRel);
    } else {
        up.fetch_and(!bit, Ordering::AcqRel);
    }
}

/// Runs the check; for an HTTP check also reads the `drain=` and `service=` lines of the body
/// (`Some(true)` for `drain=on` or `service=down`, `Some(false)` when the body has either line
/// and neither says so, `None` when it has neither or the check is of another kind).
async fn check(spec: &CheckSpec) -> (CheckResult, Option<bool>) {
    let CheckKind::Http {
        host,
        port,
        path,
        expect_status,
        expect_body,
        tls: false,
        ..
    } = &spec.kind
    else {
        return (run_check(spec).await, None);
    };
    let start = Instant::now();
    match tokio::time::timeout(spec.timeout, http::fetch(host, *port, path)).await {
        Err(_) => (
            CheckResult::failed(
                spec.timeout,
                format!("timeout after {} ms", spec.timeout.as_millis()),
            ),
            None,
        ),
        Ok(Err(e)) => (CheckResult::failed(start.elapsed(), e.to_string()), None),
        Ok(Ok(buf)) => {
            let latency = start.elapsed();
            let result = match http::evaluate(&buf, *expect_status, expect_body.as_deref()) {
                Ok(detail) => CheckResult::ok(latency, detail),
                Err(e) => CheckResult::failed(latency, e.to_string()),
            };
            let drain = if result.ok {
                http::body(&buf).and_then(|b| drain_line(&b))
            } else {
                None
            };
            (result, drain)
        }
    }
}

/// Whether a trace body says the site takes no traffic: `drain=on` or `service=down`.
pub fn drain_line(body: &[u8]) -> Option<bool> {
    let text = std::str::from_utf8(body).ok()?;
    let drain = text.lines().find_map(|l| l.strip_prefix("drain="));
    let service = text.lines().find_map(|l| l.strip_prefix("service="));
    if drain.is_none() && service.is_none() {
        return None;
    }
    Some(drain.is_some_and(|v| v.trim() == "on") || service.is_some_and(|v| v.trim() == "down"))
}

#[cfg(test)]
mod tests {
    use super::drain_line;

    #[test]
    fn drain_lines() {
        assert_eq!(drain_line(b"site=a\ndrain=on\n"), Some(true));
        assert_eq!(drain_line(b"site=a\ndrain=off\n"), Some(false));
        assert_eq!(drain_line(b"site=a\n"), None);
        assert_eq!(drain_line(b"drain=off\nservice=down\n"), Some(true));
        assert_eq!(drain_line(b"drain=off\nservice=up\n"), Some(false));
        assert_eq!(drain_line(b"\xff\xfe"), None);
    }
}
