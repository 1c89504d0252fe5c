//! `tern dns serve`: the standalone GeoDNS server. Reads `[dns]` of tern.toml, binds UDP and TCP
//! on every listen address, starts the site watchers, answers until SIGTERM/SIGINT (or the
//! token), and reloads on SIGHUP.
//!
//! Reload re-reads tern.toml, the latency map and the geolocation file and swaps the whole
//! responder; when any of them fails (syntax, validation errors, a broken map or MMDB) the old
//! responder stays and the error is logged. Watchers keep their state unless the sites or the
//! health settings changed (then they restart, fail-closed). Listen addresses are bound once.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use tern_model::dns::Dns;
use tokio::net::{TcpListener, UdpSocket};
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn};

use super::{GeoDns, watch};
use crate::serve::dns::{DnsLimits, serve_tcp, serve_udp};

/// Why the server cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// tern.toml cannot be read or has errors.
    #[error("{0}")]
    Config(String),
    /// The map or geolocation file cannot be used.
    #[error(transparent)]
    Data(#[from] tern_geodns::Error),
    /// A listen address cannot be bound.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: io::Error,
    },
    /// Nowhere to listen.
    #[error("no listen address: set [dns] listen or pass --listen")]
    NoListen,
    /// Signal handlers.
    #[error("signals: {0}")]
    Signals(io::Error),
}

/// What to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// tern.toml.
    pub config: PathBuf,
    /// Listen addresses (default: `[dns] listen`).
    pub listen: Vec<SocketAddr>,
    /// NSID / id.server answer when `[dns] identity` is absent.
    pub identity: String,
    /// Handle SIGTERM/SIGINT/SIGHUP.
    pub signals: bool,
}

/// Reads and validates `[dns]` of a tern.toml.
pub fn load_dns(path: &Path) -> Result<Dns, ServeError> {
    let model = tern_model::load(path).map_err(|e| ServeError::Config(e.to_string()))?;
    if model.has_errors() {
        let errors: Vec<String> = model
            .diagnostics
            .iter()
            .filter(|d| d.severity == tern_model::Severity::Error)
            .map(ToString::to_string)
            .collect();
        return Err(ServeError::Config(errors.join("\n")));
    }
    model
        .network
        .dns
        .ok_or_else(|| ServeError::Config(format!("{} has no [dns] section", path.display())))
}

/// Serves until `shutdown` is cancelled (or a termination signal with `signals`).
pub async fn run(opts: ServeOptions, shutdown: CancellationToken) -> Result<(), ServeError> {
    let mut dns = load_dns(&opts.config)?;
    let handler = Arc::new(GeoDns::new(
        tern_geodns::build(&dns, &opts.identity)?,
        Arc::new(AtomicU64::new(0)),
        dns.rrl,
    ));
    let listen = if opts.listen.is_empty() {
        dns.listen.clone()
    } else {
        opts.listen.clone()
    };
    if listen.is_empty() {
        return Err(ServeError::NoListen);
    }
    let tracker = TaskTracker::new();
    let limits = DnsLimits::default();
    for addr in &listen {
        let bind = |source| ServeError::Bind {
            addr: *addr,
            source,
        };
        let udp = UdpSocket::bind(addr).await.map_err(bind)?;
        let tcp = TcpListener::bind(addr).await.map_err(bind)?;
        info!(%addr, zone = %dns.zone, "geodns listening (udp, tcp)");
        tracker.spawn(serve_udp(udp, handler.clone(), limits, shutdown.clone()));
        tracker.spawn(serve_tcp(tcp, handler.clone(), limits, shutdown.clone()));
    }
    let mut watchers = shutdown.child_token();
    watch::spawn(
        &dns.sites,
        &dns.health,
        handler.up_mask(),
        None,
        &tracker,
        watchers.clone(),
    );
    let (mut term, mut int, mut hup) = if opts.signals {
        let s = |k| signal(k).map_err(ServeError::Signals);
        (
            Some(s(SignalKind::terminate())?),
            Some(s(SignalKind::interrupt())?),
            Some(s(SignalKind::hangup())?),
        )
    } else {
        (None, None, None)
    };
    async fn recv(s: &mut Option<tokio::signal::unix::Signal>) {
        match s {
            Some(s) => {
                s.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    }
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = recv(&mut term) => { info!("SIGTERM: stopping"); break }
            () = recv(&mut int) => { info!("SIGINT: stopping"); break }
            () = recv(&mut hup) => {
                info!("SIGHUP: reloading");
                match reload(&opts) {
                    Ok((new, responder)) => {
                        if new.sites != dns.sites || new.health != dns.health {
                            info!("sites or health settings changed: restarting the watchers");
                            watchers.cancel();
                            handler.up_mask().store(0, std::sync::atomic::Ordering::Release);
                            handler.replace(responder);
                            watchers = shutdown.child_token();
                            watch::spawn(&new.sites, &new.health, handler.up_mask(), None, &tracker, watchers.clone());
                        } else {
                            handler.replace(responder);
                        }
                        if new.listen != dns.listen && opts.listen.is_empty() {
                            warn!("[dns] listen changed: restart tern dns serve to bind the new addresses");
                        }
                        dns = new;
                    }
                    Err(e) => error!(error = %e, "reload failed, still answering with the old zone and data"),
                }
            }
        }
    }
    shutdown.cancel();
    tracker.close();
    tracker.wait().await;
    Ok(())
}

fn reload(opts: &ServeOptions) -> Result<(Dns, tern_geodns::Responder), ServeError> {
    let dns = load_dns(&opts.config)?;
    let r = tern_geodns::build(&dns, &opts.identity)?;
    Ok((dns, r))
}
