//! The BGP listener: accepts connections and hands each to the peer task of its source address
//! (RFC 4271 §8: the FSM of that peer decides whether to use it). Connections from unknown
//! addresses are closed at once. MD5 keys are set on the listening socket per peer address
//! before anybody connects (see [`super::transport::listen`]).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, warn};

use super::PeerHandle;
use super::transport::{self, TransportError};

/// A listening socket and the peers it serves.
#[derive(Debug)]
pub struct Listener {
    inner: TcpListener,
    peers: HashMap<IpAddr, mpsc::Sender<TcpStream>>,
}

impl Listener {
    /// Bind `addr` with MD5 keys per peer address and optional GTSM (see
    /// [`transport::listen`]). Bind port 0 in tests.
    pub fn bind(
        addr: SocketAddr,
        md5: &[(IpAddr, Vec<u8>)],
        gtsm_hops: Option<u8>,
    ) -> Result<Self, TransportError> {
        Ok(Listener::from_tcp(transport::listen(addr, md5, gtsm_hops)?))
    }

    /// Use an already bound listener.
    pub fn from_tcp(inner: TcpListener) -> Self {
        Listener {
            inner,
            peers: HashMap::new(),
        }
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// Route connections from `ip` to this peer.
    pub fn add_peer(&mut self, ip: IpAddr, peer: &PeerHandle) {
        self.peers.insert(ip, peer.accept_sender());
    }

    /// Accept until `cancel` fires.
    pub fn spawn(self, tracker: &TaskTracker, cancel: CancellationToken) {
        tracker.spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = cancel.cancelled() => return,
                    a = self.inner.accept() => a,
                };
                match accepted {
                    Ok((stream, from)) => {
                        let ip = match from.ip() {
                            IpAddr::V6(v6) => {
                                v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4)
                            }
                            v4 => v4,
                        };
                        match self.peers.get(&ip) {
                            Some(tx) => {
                                if tx.send(stream).await.is_err() {
                                    debug!(%from, "peer task gone, connection dropped");
                                }
                            }
                            None => debug!(%from, "connection from an unconfigured address closed"),
                        }
                    }
                    Err(e) => {
                        warn!("accept: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                }
            }
        });
    }
}
