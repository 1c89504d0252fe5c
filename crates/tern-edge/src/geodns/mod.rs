//! The GeoDNS authoritative server's I/O part (issue 13): the sans-IO core
//! (crate `tern-geodns`) as a [`DnsHandler`] on the shared server layer ([`crate::serve::dns`]),
//! and the health watcher of the sites ([`watch`]).
//!
//! State and its writers (STYLE habit 2):
//! - the [`Responder`] (zone, map, geolocation file) is replaced whole on reload by its owner
//!   (`tern dns serve`); a reload that fails to load keeps the old one;
//! - which sites are up is one bit per site in an [`AtomicU64`]; each site's watcher task is
//!   the only writer of its bit, queries read all bits with one load, so a site that went down
//!   leaves the answers with the next query.
//!
//! Response rate limiting ([`tern_geodns::rrl`]) applies to UDP only: over TCP the source
//! address is proven by the handshake.

pub mod server;
pub mod watch;

use std::path::Path;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use tern_geodns::rrl::{DEFAULT_SLIP, Rrl, Verdict};
use tern_geodns::{Responder, Up};

use crate::serve::{DnsHandler, DnsQuery, Transport};

/// Counters of the GeoDNS handler.
#[derive(Debug, Default)]
pub struct Counters {
    /// Messages received.
    pub queries: AtomicU64,
    /// Messages dropped (malformed beyond an answer, or responses).
    pub dropped: AtomicU64,
    /// Responses dropped by rate limiting.
    pub rrl_dropped: AtomicU64,
    /// Responses sent truncated by rate limiting.
    pub rrl_slipped: AtomicU64,
    /// Answers with TC set.
    pub truncated: AtomicU64,
}

/// The GeoDNS [`DnsHandler`].
#[derive(Debug)]
pub struct GeoDns {
    responder: RwLock<Arc<Responder>>,
    up: Arc<AtomicU64>,
    rrl: Option<Mutex<Rrl>>,
    /// Counters.
    pub counters: Counters,
}

impl GeoDns {
    /// A handler answering with `responder`, reading site health from `up` (bit i = site i of
    /// the responder's selector), rate limiting UDP to `rrl` responses per second per client
    /// network when given.
    pub fn new(responder: Responder, up: Arc<AtomicU64>, rrl: Option<u32>) -> GeoDns {
        GeoDns {
            responder: RwLock::new(Arc::new(responder)),
            up,
            rrl: rrl.map(|r| Mutex::new(Rrl::new(r, DEFAULT_SLIP))),
            counters: Counters::default(),
        }
    }

    /// The responder answering now.
    pub fn current(&self) -> Arc<Responder> {
        match self.responder.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Answer with `responder` from now on.
    pub fn replace(&self, responder: Responder) {
        let new = Arc::new(responder);
        match self.responder.write() {
            Ok(mut g) => *g = new,
            Err(p) => *p.into_inner() = new,
        }
    }

    /// The shared up-mask (bit i = site i), for the watchers.
    pub fn up_mask(&self) -> Arc<AtomicU64> {
        self.up.clone()
    }

    /// Which sites are up now.
    pub fn up(&self) -> Up {
        Up(self.up.load(Ordering::Acquire))
    }
}

impl DnsHandler for GeoDns {
    fn answer(&self, q: &DnsQuery<'_>) -> Option<Vec<u8>> {
        self.counters.queries.fetch_add(1, Ordering::Relaxed);
        let transport = match q.transport {
            Transport::Udp => tern_geodns::Transport::Udp,
            Transport::Tcp => tern_geodns::Transport::Tcp,
        };
        let client = q.client.ip().to_canonical();
        let r = self.current();
        let Some(reply) = r.respond(q.message, client, transport, self.up()) else {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        if let (Some(rrl), Transport::Udp) = (&self.rrl, q.transport) {
            let verdict = match rrl.lock() {
                Ok(mut l) => l.check(client, Instant::now()),
                Err(p) => p.into_inner().check(client, Instant::now()),
            };
            match verdict {
                Verdict::Send => {}
                Verdict::Slip => {
                    self.counters.rrl_slipped.fetch_add(1, Ordering::Relaxed);
                    return Some(reply.to_slip());
                }
                Verdict::Drop => {
                    self.counters.rrl_dropped.fetch_add(1, Ordering::Relaxed);
                    return None;
                }
            }
        }
        let bytes = reply.to_bytes();
        if bytes.get(2).is_some_and(|f| f & 0x02 != 0) {
            self.counters.truncated.fetch_add(1, Ordering::Relaxed);
        }
        Some(bytes)
    }
}

/// The GeoDNS of a site daemon (`tern run`): when tern.toml has `[dns]`, the daemon's DNS
/// listeners (`[site.NAME.edge] dns_listen`, normally the anycast address) answer the zone
/// with this handler instead of the "which site" responder (CHAOS and NSID answers stay, with
/// the site's name), and the site watchers run on `tracker` until `cancel`. `None` without
/// `[dns]`. The zone and data are read at start; a daemon reload does not re-read them yet.
pub fn for_daemon(
    config: &Path,
    site: &str,
    tracker: &tokio_util::task::TaskTracker,
    cancel: &tokio_util::sync::CancellationToken,
) -> Result<Option<Arc<GeoDns>>, server::ServeError> {
    let model = tern_model::load(config).map_err(|e| server::ServeError::Config(e.to_string()))?;
    let Some(mut dns) = model.network.dns else {
        return Ok(None);
    };
    // In the daemon the answering instance is the site: NSID and id.server name it.
    dns.identity = Some(site.to_owned());
    let handler = Arc::new(GeoDns::new(
        tern_geodns::build(&dns, site)?,
        Arc::new(AtomicU64::new(0)),
        dns.rrl,
    ));
    watch::spawn(
        &dns.sites,
        &dns.health,
        handler.up_mask(),
        None,
        tracker,
        cancel.clone(),
    );
    Ok(Some(handler))
}
