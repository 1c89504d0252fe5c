//! TCP transport for BGP sessions: outgoing connects and listeners with the options an upstream
//! session needs (RFC 4271 §8 leaves the transport to the implementation).
//!
//! - TCP-MD5 (RFC 2385) keyed by the peer address on both the listening and the connecting socket;
//! - eBGP multihop: the outgoing TTL / hop limit;
//! - GTSM (RFC 5082): send with TTL 255 and refuse segments below `256 - hops`;
//! - a chosen source address (bind before connect), needed on VPSes whose BGP neighbor expects
//!   the instance's primary address.
//!
//! socket2 builds the socket because every option must be set *before* `connect`/`listen`, which
//! tokio's `TcpSocket` only partly allows (no TTL before connect, no MD5); libc is used for the two
//! options socket2 lacks (see [`super::sockopt`]). The finished socket is handed to tokio.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

use super::sockopt;

/// How the TCP connection to one peer is built.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransportConfig {
    /// Source address to bind before connecting (`None`: the kernel chooses).
    pub local_addr: Option<IpAddr>,
    /// Source port to bind before connecting (`None` or 0: ephemeral).
    pub local_port: Option<u16>,
    /// TCP-MD5 key shared with the peer (RFC 2385), at most 80 bytes.
    pub md5_key: Option<Vec<u8>>,
    /// eBGP multihop: the TTL / hop limit of our packets (`None`: the system default).
    pub ttl: Option<u8>,
    /// GTSM (RFC 5082): the peer is at most this many hops away; we send with TTL 255 and
    /// drop segments that arrive with a TTL below `256 - hops`. Overrides `ttl`.
    pub gtsm_hops: Option<u8>,
}

/// Transport setup failed; says which step and for which peer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// A socket option or bind failed.
    #[error("peer {peer}: {step}: {source}")]
    Setup {
        /// The peer address.
        peer: SocketAddr,
        /// What was being done (`"set TCP_MD5SIG"`, `"bind 192.0.2.1"` …).
        step: String,
        /// The OS error.
        source: io::Error,
    },
    /// The connect itself failed or timed out.
    #[error("peer {peer}: connect: {source}")]
    Connect {
        /// The peer address.
        peer: SocketAddr,
        /// The OS error (timed out, refused, unreachable …).
        source: io::Error,
    },
}

fn domain_of(addr: &SocketAddr) -> Domain {
    if addr.is_ipv4() {
        Domain::IPV4
    } else {
        Domain::IPV6
    }
}

fn apply_ttl(sock: &Socket, ipv6: bool, cfg: &TransportConfig) -> io::Result<()> {
    let ttl = match (cfg.gtsm_hops, cfg.ttl) {
        (Some(_), _) => Some(255),
        (None, t) => t,
    };
    if let Some(t) = ttl {
        if ipv6 {
            sock.set_unicast_hops_v6(u32::from(t))?;
        } else {
            sock.set_ttl(u32::from(t))?;
        }
    }
    if let Some(hops) = cfg.gtsm_hops {
        let min = 256u16.saturating_sub(u16::from(hops.max(1))) as u8;
        sockopt::set_min_ttl(sock, ipv6, min)?;
    }
    Ok(())
}

/// Connect to `peer` with the options in `cfg`, giving up after `timeout`.
pub async fn connect(
    peer: SocketAddr,
    cfg: &TransportConfig,
    timeout: Duration,
) -> Result<TcpStream, TransportError> {
    let setup = |step: &str| {
        let step = step.to_owned();
        move |source| TransportError::Setup { peer, step, source }
    };
    let sock = Socket::new(domain_of(&peer), Type::STREAM, Some(Protocol::TCP))
        .map_err(setup("create socket"))?;
    let v6 = peer.is_ipv6();
    if let Some(key) = &cfg.md5_key {
        sockopt::set_tcp_md5(&sock, peer.ip(), key).map_err(setup("set TCP_MD5SIG"))?;
    }
    apply_ttl(&sock, v6, cfg).map_err(setup("set TTL / GTSM"))?;
    if cfg.local_addr.is_some() || cfg.local_port.is_some_and(|p| p != 0) {
        let ip = cfg.local_addr.unwrap_or(if v6 {
            IpAddr::from([0u16; 8])
        } else {
            IpAddr::from([0u8; 4])
        });
        let local = SocketAddr::new(ip, cfg.local_port.unwrap_or(0));
        sock.set_reuse_address(true)
            .map_err(setup("set SO_REUSEADDR"))?;
        sock.bind(&SockAddr::from(local))
            .map_err(setup(&format!("bind {local}")))?;
    }
    sock.set_nodelay(true).map_err(setup("set TCP_NODELAY"))?;
    sock.set_nonblocking(true)
        .map_err(setup("set non-blocking"))?;
    let std_stream: std::net::TcpStream = sock.into();
    let tsock = TcpSocket::from_std_stream(std_stream);
    match tokio::time::timeout(timeout, tsock.connect(peer)).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(source)) => Err(TransportError::Connect { peer, source }),
        Err(_) => Err(TransportError::Connect {
            peer,
            source: io::Error::new(io::ErrorKind::TimedOut, "connect timed out"),
        }),
    }
}

/// A listening socket with per-peer TCP-MD5 keys. Bind one per address family: the kernel
/// matches MD5 keys on the exact peer address, and an IPv6 dual-stack socket would see IPv4
/// peers as mapped addresses, so IPv6 listeners are `IPV6_V6ONLY`.
pub fn listen(
    addr: SocketAddr,
    md5: &[(IpAddr, Vec<u8>)],
    gtsm_hops: Option<u8>,
) -> Result<TcpListener, TransportError> {
    let setup = |step: &str| {
        let step = step.to_owned();
        move |source| TransportError::Setup {
            peer: addr,
            step,
            source,
        }
    };
    let sock = Socket::new(domain_of(&addr), Type::STREAM, Some(Protocol::TCP))
        .map_err(setup("create listener"))?;
    if addr.is_ipv6() {
        sock.set_only_v6(true).map_err(setup("set IPV6_V6ONLY"))?;
    }
    sock.set_reuse_address(true)
        .map_err(setup("set SO_REUSEADDR"))?;
    for (peer, key) in md5 {
        sockopt::set_tcp_md5(&sock, *peer, key)
            .map_err(setup(&format!("set TCP_MD5SIG for {peer}")))?;
    }
    if gtsm_hops.is_some() {
        let cfg = TransportConfig {
            gtsm_hops,
            ..TransportConfig::default()
        };
        apply_ttl(&sock, addr.is_ipv6(), &cfg).map_err(setup("set GTSM"))?;
    }
    sock.bind(&SockAddr::from(addr))
        .map_err(setup(&format!("bind {addr}")))?;
    sock.listen(64).map_err(setup("listen"))?;
    sock.set_nonblocking(true)
        .map_err(setup("set non-blocking"))?;
    let std_listener: std::net::TcpListener = sock.into();
    TcpListener::from_std(std_listener).map_err(setup("register with tokio"))
}

/// Configure an accepted connection (no delay, per-peer TTL) once we know which peer it is.
pub fn tune_accepted(stream: &TcpStream, cfg: &TransportConfig) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let sock = socket2::SockRef::from(stream);
    let v6 = stream.peer_addr()?.is_ipv6();
    apply_ttl(&sock, v6, cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn md5_both_ends_connects_mismatch_does_not() {
        let key = b"tern-test".to_vec();
        let l = listen(
            "127.0.0.1:0".parse().expect("addr"),
            &[("127.0.0.1".parse().expect("ip"), key.clone())],
            None,
        )
        .expect("listen");
        let port = l.local_addr().expect("addr").port();
        let peer: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
        let good = TransportConfig {
            md5_key: Some(key),
            local_addr: Some("127.0.0.1".parse().expect("ip")),
            ttl: Some(2),
            ..Default::default()
        };
        let (c, a) = tokio::join!(connect(peer, &good, Duration::from_secs(5)), l.accept());
        let c = c.expect("connect with the right key");
        a.expect("accept");
        assert_eq!(c.local_addr().expect("addr").ip().to_string(), "127.0.0.1");
        // eBGP multihop: the TTL we asked for is the socket's.
        assert_eq!(socket2::SockRef::from(&c).ttl().expect("ttl"), 2);
        // Unsigned SYNs are dropped by the kernel: the connect times out instead of succeeding.
        let none = TransportConfig::default();
        let r = connect(peer, &none, Duration::from_millis(700)).await;
        assert!(
            matches!(r, Err(TransportError::Connect { .. })),
            "unsigned connect must fail"
        );
    }

    #[tokio::test]
    async fn ipv6_with_gtsm() {
        let l = listen("[::1]:0".parse().expect("addr"), &[], Some(1)).expect("listen");
        let peer = l.local_addr().expect("addr");
        let cfg = TransportConfig {
            gtsm_hops: Some(1),
            ..Default::default()
        };
        let (c, a) = tokio::join!(connect(peer, &cfg, Duration::from_secs(5)), l.accept());
        let c = c.expect("connect");
        let (a, _) = a.expect("accept");
        // GTSM: we send with hop limit 255 on both ends.
        assert_eq!(
            socket2::SockRef::from(&c).unicast_hops_v6().expect("hops"),
            255
        );
        tune_accepted(&a, &cfg).expect("tune");
        assert_eq!(
            socket2::SockRef::from(&a).unicast_hops_v6().expect("hops"),
            255
        );
    }
}
