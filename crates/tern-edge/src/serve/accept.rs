//! The one accept loop of every stream server in the daemon (HTTP, DNS over TCP, the control
//! socket): a connection cap checked at accept, a per-client cap so one address cannot take all
//! the slots, a lifetime bound per connection, one tracked task per connection, and structured
//! shutdown (STYLE habits 4 and 5): on cancellation the loop stops accepting and drops the open
//! connections before it returns.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How long the loop waits after a failed `accept` (out of file descriptors, …) before the next.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Limits of one stream server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most connections open at once; further ones are closed at accept.
    pub max_connections: usize,
    /// Most connections open at once from one client address (IP, any port); further ones from
    /// it are closed at accept. Not applied where the transport has no client address (Unix).
    pub max_per_client: usize,
    /// A connection is closed after this long whatever it does (a client that trickles bytes
    /// or keeps a DNS connection busy forever gives its slot back).
    pub max_lifetime: Duration,
}

impl Limits {
    /// `max_connections` at once, a quarter of them (at least one) per client, `max_lifetime`.
    pub const fn new(max_connections: usize, max_lifetime: Duration) -> Self {
        let per = max_connections / 4;
        Limits {
            max_connections,
            max_per_client: if per == 0 { 1 } else { per },
            max_lifetime,
        }
    }
}

/// A bound stream listener the loop can accept on: TCP and Unix sockets.
pub trait Listener: Send + 'static {
    /// The accepted stream.
    type Stream: Send + 'static;
    /// Who connected.
    type Peer: Clone + std::fmt::Debug + Send + 'static;
    /// Accept one connection.
    fn accept_one(&self) -> impl Future<Output = io::Result<(Self::Stream, Self::Peer)>> + Send;
    /// The address the per-client cap counts, if the transport has one.
    fn client_ip(peer: &Self::Peer) -> Option<IpAddr>;
}

impl Listener for TcpListener {
    type Stream = TcpStream;
    type Peer = SocketAddr;
    fn accept_one(&self) -> impl Future<Output = io::Result<(TcpStream, SocketAddr)>> + Send {
        self.accept()
    }
    fn client_ip(peer: &SocketAddr) -> Option<IpAddr> {
        Some(peer.ip().to_canonical())
    }
}

impl Listener for UnixListener {
    type Stream = UnixStream;
    type Peer = ();
    async fn accept_one(&self) -> io::Result<(UnixStream, ())> {
        self.accept().await.map(|(s, _)| (s, ()))
    }
    fn client_ip((): &()) -> Option<IpAddr> {
        None
    }
}

/// Accept on `listener` until `shutdown` is cancelled, running `connection` for each stream
/// within `limits`. `server` names the server in logs (`dns tcp`, `http`, `ctl`). Returns once
/// every connection task has ended.
pub async fn serve_connections<L, F, Fut>(
    listener: L,
    limits: Limits,
    server: &'static str,
    shutdown: CancellationToken,
    connection: F,
) -> io::Result<()>
where
    L: Listener,
    F: Fn(L::Stream, L::Peer) -> Fut,
    Fut: Future<Output = io::Result<()>> + Send + 'static,
{
    let mut conns: JoinSet<Option<IpAddr>> = JoinSet::new();
    let mut per_client: HashMap<IpAddr, usize> = HashMap::new();
    loop {
        let (stream, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            r = listener.accept_one() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "{server} accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        // Reap finished connections before counting, so a slot freed a moment ago is free.
        while let Some(done) = conns.try_join_next() {
            if let Ok(Some(ip)) = done {
                release(&mut per_client, ip);
            }
        }
        if conns.len() >= limits.max_connections {
            tracing::debug!(?peer, "{server} connection limit reached, closing");
            continue;
        }
        let ip = L::client_ip(&peer);
        if let Some(ip) = ip {
            let n = per_client.entry(ip).or_default();
            if *n >= limits.max_per_client {
                tracing::debug!(?peer, "{server} per-client limit reached, closing");
                continue;
            }
            *n += 1;
        }
        let shutdown = shutdown.clone();
        let conn = connection(stream, peer.clone());
        let lifetime = limits.max_lifetime;
        conns.spawn(async move {
            tokio::select! {
                () = shutdown.cancelled() => {}
                r = tokio::time::timeout(lifetime, conn) => match r {
                    Err(_) => tracing::debug!(?peer, "{server} connection lifetime reached"),
                    Ok(Err(e)) => tracing::debug!(?peer, error = %e, "{server} connection ended"),
                    Ok(Ok(())) => {}
                },
            }
            ip
        });
    }
    conns.shutdown().await;
    Ok(())
}

fn release(per_client: &mut HashMap<IpAddr, usize>, ip: IpAddr) {
    if let Some(n) = per_client.get_mut(&ip) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            per_client.remove(&ip);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_client_is_a_quarter_at_least_one() {
        let l = Limits::new(128, Duration::from_secs(1));
        assert_eq!(l.max_per_client, 32);
        assert_eq!(Limits::new(2, Duration::ZERO).max_per_client, 1);
    }

    #[test]
    fn release_forgets_idle_clients() {
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let mut m = HashMap::from([(ip, 2)]);
        release(&mut m, ip);
        assert_eq!(m.get(&ip), Some(&1));
        release(&mut m, ip);
        assert!(m.is_empty());
        release(&mut m, ip);
        assert!(m.is_empty());
    }
}
