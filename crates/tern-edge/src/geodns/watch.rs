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

use crate::probe::run_check;

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
    loop {
        let at = tokio::time::Instant::from_std(m.poll_timeout());
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep_until(at) => {}
        }
        let now = Instant::now();
        if m.check_due(now) {
            m.check_started(now, std::time::Duration::ZERO);
            let result = tokio::select! {
                () = shutdown.cancelled() => return,
                r = run_check(&spec) => r,
            };
            m.handle_result(result, Instant::now());
        } else {
            m.handle_timeout(now);
        }
        while let Some(t) = m.poll_output() {
            match t.health {
                Health::Up => up.fetch_or(bit, Ordering::AcqRel),
                Health::Down => up.fetch_and(!bit, Ordering::AcqRel),
            };
            tracing::info!(%site, health = %t.health, reason = %t.reason, "geodns site health");
            if let Some(tx) = &events {
                let _ = tx.send(SiteEvent {
                    site: site.clone(),
                    index,
                    health: t.health,
                    reason: t.reason,
                    at: t.at,
                });
            }
        }
    }
}
