//! A DNS server over UDP and TCP (RFC 1035 §4.2, RFC 7766) taking a [`DnsHandler`].
//!
//! The server moves bytes; the handler decides. For each message the handler gets a
//! [`DnsQuery`]: the message as received, the client's address, our address, and the
//! [`Transport`] with, for UDP, the largest payload this server sends
//! ([`DnsLimits::udp_payload`]), so that it can answer with TC over UDP and fully over TCP
//! ([`DnsQuery::reply_limit`] does RFC 1035 §4.2.1 / RFC 6891 §6.2.5 arithmetic). It returns the
//! reply or `None` to drop the message (a response, a header too short to answer: FORMERR for
//! the rest is the handler's call, [`formerr`] builds it).
//!
//! Limits, so that no client can hurt the others:
//! - UDP is one thread answering in order; the handler is synchronous and must be quick (no I/O).
//! - TCP connections go through [`super::accept`]: a connection cap, a per-client cap, a
//!   lifetime bound; each connection is its own task, so a stalled client (half a length
//!   prefix, never reading its replies) only stalls itself: reads give up after
//!   [`DnsLimits::tcp_idle`], writes after [`DnsLimits::tcp_write`].
//! - A TCP connection answers at most [`DnsLimits::tcp_queries`] messages, then closes.
//!
//! The UDP `local` address is the socket's bound address (no `IP_PKTINFO` yet): bind the
//! address itself, not a wildcard, where it matters which one the client reached.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio_util::sync::CancellationToken;

use super::accept::{Limits, serve_connections};

/// UDP payload size we advertise and the most we send over UDP to an EDNS client: 1232 octets,
/// the DNS Flag Day 2020 value that avoids IP fragmentation on IPv6 (RFC 9715 §3.2).
pub const EDNS_UDP_SIZE: u16 = 1232;
/// Largest reply over UDP to a client without EDNS (RFC 1035 §4.2.1).
pub const CLASSIC_UDP_SIZE: usize = 512;
/// A TCP connection that sends nothing for this long is closed (RFC 7766 §6.2.3 recommends
/// seconds, not minutes).
pub const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// A reply that cannot be written within this long closes the connection.
pub const TCP_WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// At most this many TCP connections at once; further ones are closed at accept.
pub const MAX_TCP_CONNECTIONS: usize = 128;
/// A TCP connection is closed after this long.
pub const TCP_MAX_LIFETIME: Duration = Duration::from_secs(120);
/// Most messages answered on one TCP connection.
pub const TCP_MAX_QUERIES: usize = 10_000;

/// Which transport a message came over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// UDP: replies above the client's limit are truncated (TC set).
    Udp,
    /// TCP: no size limit below 65535.
    Tcp,
}

/// One message to answer and where it came from.
#[derive(Clone, Copy, Debug)]
pub struct DnsQuery<'a> {
    /// The message as received (not parsed: the handler decides what is malformed).
    pub message: &'a [u8],
    /// The client.
    pub client: SocketAddr,
    /// Our address (for UDP the socket's bound address).
    pub local: SocketAddr,
    /// UDP or TCP.
    pub transport: Transport,
    /// Over UDP, the largest payload this server sends ([`DnsLimits::udp_payload`]).
    pub udp_payload: u16,
}

impl DnsQuery<'_> {
    /// The most bytes a reply may have: 65535 over TCP; over UDP the client's EDNS UDP size
    /// (`client_udp_size`, `None` without EDNS → 512) clamped to 512..=[`Self::udp_payload`].
    pub fn reply_limit(&self, client_udp_size: Option<u16>) -> usize {
        match (self.transport, client_udp_size) {
            (Transport::Tcp, _) => usize::from(u16::MAX),
            (Transport::Udp, Some(n)) => usize::from(n.clamp(512, self.udp_payload.max(512))),
            (Transport::Udp, None) => CLASSIC_UDP_SIZE,
        }
    }
}

/// Something that answers DNS messages: the "which site" responder, later the GeoDNS
/// authoritative server. Synchronous: it must not block (no I/O); read shared state and answer.
pub trait DnsHandler: Send + Sync + 'static {
    /// The reply to `query`, or `None` to send nothing.
    fn answer(&self, query: &DnsQuery<'_>) -> Option<Vec<u8>>;
}

impl<F> DnsHandler for F
where
    F: Fn(&DnsQuery<'_>) -> Option<Vec<u8>> + Send + Sync + 'static,
{
    fn answer(&self, query: &DnsQuery<'_>) -> Option<Vec<u8>> {
        self(query)
    }
}

/// A FORMERR reply to `message` (its id, opcode, RD; no question), or `None` when it is too
/// short to have a header or is itself a response (never answer those: loops).
pub fn formerr(message: &[u8]) -> Option<Vec<u8>> {
    let header = tern_dns::Header::parse(message)?;
    if header.is_response() {
        return None;
    }
    let mut reply = tern_dns::Message::response(&header);
    reply.header.flags |= tern_dns::rcode::FORMERR;
    Some(reply.to_bytes())
}

/// Limits of the DNS server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DnsLimits {
    /// Largest UDP reply payload (and what a handler should advertise in its OPT record).
    pub udp_payload: u16,
    /// TCP connections: cap, per-client cap, lifetime.
    pub tcp: Limits,
    /// Idle time before a TCP connection is closed.
    pub tcp_idle: Duration,
    /// Time to write one reply over TCP.
    pub tcp_write: Duration,
    /// Messages answered per TCP connection.
    pub tcp_queries: usize,
}

impl Default for DnsLimits {
    fn default() -> Self {
        DnsLimits {
            udp_payload: EDNS_UDP_SIZE,
            tcp: Limits::new(MAX_TCP_CONNECTIONS, TCP_MAX_LIFETIME),
            tcp_idle: TCP_IDLE_TIMEOUT,
            tcp_write: TCP_WRITE_TIMEOUT,
            tcp_queries: TCP_MAX_QUERIES,
        }
    }
}

/// How often the UDP thread looks at the shutdown token while no query arrives.
const UDP_SHUTDOWN_POLL: Duration = Duration::from_millis(100);

/// Serve DNS over UDP on `socket` until `shutdown` is cancelled (or this future is dropped).
///
/// The loop runs on a thread of its own with a blocking socket: each query then costs one
/// `recvfrom` and one `sendto`, where the async loop paid a failed `recvfrom`, an
/// `epoll_wait` and a task wake-up besides (measured in docs/benchmarks.md). The thread looks
/// at the token every [`UDP_SHUTDOWN_POLL`], so it ends at most that long after the cancel, and
/// this function returns when it has.
pub async fn serve_udp<H: DnsHandler + ?Sized>(
    socket: UdpSocket,
    handler: Arc<H>,
    limits: DnsLimits,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let socket = socket.into_std()?;
    socket.set_nonblocking(false)?;
    socket.set_read_timeout(Some(UDP_SHUTDOWN_POLL))?;
    // Dropping this future (an aborted task) stops the thread too.
    let stop = shutdown.child_token();
    let _guard = stop.clone().drop_guard();
    tokio::task::spawn_blocking(move || udp_loop(&socket, &*handler, limits, &stop))
        .await
        .map_err(io::Error::other)?
}

fn udp_loop<H: DnsHandler + ?Sized>(
    socket: &std::net::UdpSocket,
    handler: &H,
    limits: DnsLimits,
    stop: &CancellationToken,
) -> io::Result<()> {
    let local = socket.local_addr()?;
    let mut buf = vec![0u8; 65535];
    while !stop.is_cancelled() {
        let (len, client) = match socket.recv_from(&mut buf) {
            Ok(x) => x,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(e) => {
                tracing::debug!(error = %e, "dns udp receive failed");
                continue;
            }
        };
        let Some(message) = buf.get(..len) else {
            continue;
        };
        let query = DnsQuery {
            message,
            client,
            local,
            transport: Transport::Udp,
            udp_payload: limits.udp_payload,
        };
        if let Some(reply) = handler.answer(&query) {
            if let Err(e) = socket.send_to(&reply, client) {
                tracing::debug!(%client, error = %e, "dns udp send failed");
            }
        }
    }
    Ok(())
}

/// Serve DNS over TCP (RFC 7766: two-octet length prefix, several messages per connection) on
/// `listener` until `shutdown` is cancelled; open connections are closed then.
pub async fn serve_tcp<H: DnsHandler + ?Sized>(
    listener: TcpListener,
    handler: Arc<H>,
    limits: DnsLimits,
    shutdown: CancellationToken,
) -> io::Result<()> {
    serve_connections(
        listener,
        limits.tcp,
        "dns tcp",
        shutdown,
        move |stream, client| {
            let handler = handler.clone();
            async move { tcp_connection(stream, client, &*handler, limits).await }
        },
    )
    .await
}

async fn tcp_connection<H: DnsHandler + ?Sized>(
    mut stream: TcpStream,
    client: SocketAddr,
    handler: &H,
    limits: DnsLimits,
) -> io::Result<()> {
    let local = stream.local_addr()?;
    let mut buf = vec![0u8; 65535];
    for _ in 0..limits.tcp_queries {
        let mut len = [0u8; 2];
        match tokio::time::timeout(limits.tcp_idle, stream.read_exact(&mut len)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Ok(Err(e)) => return Err(e),
            Err(_) => return Ok(()),
        }
        let len = usize::from(u16::from_be_bytes(len));
        let Some(message) = buf.get_mut(..len) else {
            return Ok(());
        };
        match tokio::time::timeout(limits.tcp_idle, stream.read_exact(message)).await {
            Ok(r) => r?,
            Err(_) => return Ok(()),
        };
        let query = DnsQuery {
            message,
            client,
            local,
            transport: Transport::Tcp,
            udp_payload: limits.udp_payload,
        };
        let Some(reply) = handler.answer(&query) else {
            return Ok(());
        };
        let Ok(n) = u16::try_from(reply.len()) else {
            tracing::warn!(%client, len = reply.len(), "dns reply over 65535 bytes not sent");
            return Ok(());
        };
        let mut out = Vec::with_capacity(reply.len() + 2);
        out.extend_from_slice(&n.to_be_bytes());
        out.extend_from_slice(&reply);
        tokio::time::timeout(limits.tcp_write, stream.write_all(&out))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "write timeout"))??;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(transport: Transport) -> DnsQuery<'static> {
        DnsQuery {
            message: &[],
            client: "192.0.2.1:53".parse().unwrap(),
            local: "192.0.2.2:53".parse().unwrap(),
            transport,
            udp_payload: 1232,
        }
    }

    #[test]
    fn reply_limits() {
        assert_eq!(q(Transport::Tcp).reply_limit(None), 65535);
        assert_eq!(q(Transport::Udp).reply_limit(None), 512);
        assert_eq!(q(Transport::Udp).reply_limit(Some(4096)), 1232);
        assert_eq!(q(Transport::Udp).reply_limit(Some(100)), 512);
        assert_eq!(q(Transport::Udp).reply_limit(Some(1000)), 1000);
    }

    #[test]
    fn formerr_keeps_the_id_and_drops_responses() {
        let query = tern_dns::query(
            42,
            &tern_dns::Name::from_text("a.example").unwrap(),
            1,
            1,
            None,
        );
        let r = tern_dns::Message::parse(&formerr(&query).unwrap()).unwrap();
        assert_eq!((r.header.id, r.rcode()), (42, tern_dns::rcode::FORMERR));
        let mut resp = query.clone();
        resp[2] |= 0x80;
        assert_eq!(formerr(&resp), None);
        assert_eq!(formerr(&[1, 2]), None);
    }
}
