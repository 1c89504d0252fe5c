//! The "which site am I hitting" DNS responder, over UDP and TCP.
//!
//! Answers, with the site's identity from [`SiteIdentity`]:
//! - CHAOS TXT `id.server` and `hostname.bind` (RFC 4892 §2.3, the names BIND, NSD, Knot and
//!   the root servers answer) → the site id;
//! - CHAOS TXT `version.bind` / `version.server` → [`SiteIdentity::version`];
//! - EDNS NSID (RFC 5001 §2.3): when a query carries an NSID option, the OPT record of the reply
//!   (whatever the rcode) carries the site id; never sent unasked;
//! - everything else: REFUSED (we are not an authoritative server for anything else). Other
//!   opcodes: NOTIMP. EDNS version above 0: BADVERS (RFC 6891 §6.1.3).
//!
//! Malformed input: fewer than 12 bytes, or a packet with QR set (a response: replying could
//! start a loop between two servers), is dropped; anything else that does not decode gets
//! FORMERR with the query's id. Nothing here panics on any input (fuzz target `dns_query`).
//!
//! [`respond`] is the sans-IO core; [`serve_udp`] and [`serve_tcp`] take bound sockets and a
//! cancellation token (STYLE habit 4) so tests bind port 0.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio_util::sync::CancellationToken;

use tern_dns::{
    CLASS_CH, Edns, Header, Message, OPT_NSID, Question, RData, Record, TYPE_ANY, TYPE_TXT, rcode,
};

use super::SiteIdentity;

/// UDP payload size we advertise and the most we send over UDP to an EDNS client: 1232 octets,
/// the DNS Flag Day 2020 value that avoids IP fragmentation on IPv6 (RFC 9715 §3.2).
pub const EDNS_UDP_SIZE: u16 = 1232;
/// Largest reply over UDP to a client without EDNS (RFC 1035 §4.2.1).
pub const CLASSIC_UDP_SIZE: usize = 512;
/// A TCP connection that sends nothing for this long is closed (RFC 7766 §6.2.3 recommends
/// seconds, not minutes).
pub const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// At most this many TCP connections at once; further ones are closed at accept.
pub const MAX_TCP_CONNECTIONS: usize = 128;

/// Which transport a query came over: it bounds the reply size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// UDP: replies above the client's limit are truncated (TC set).
    Udp,
    /// TCP: no size limit below 65535.
    Tcp,
}

/// The reply to `query`, or `None` to drop it. Pure; never panics.
pub fn respond(query: &[u8], identity: &SiteIdentity, transport: Transport) -> Option<Vec<u8>> {
    let header = Header::parse(query)?;
    if header.is_response() {
        return None;
    }
    // QR, the query's id, opcode and RD (RFC 1035 §4.1.1).
    let mut reply = Message::response(&header);
    let query = match Message::parse(query) {
        Ok(m) => m,
        Err(_) => {
            reply.header.flags |= rcode::FORMERR;
            return Some(reply.to_bytes());
        }
    };
    reply.questions = query.questions.clone();
    let limit = match (&query.edns, transport) {
        (_, Transport::Tcp) => usize::from(u16::MAX),
        (Some(e), Transport::Udp) => usize::from(e.udp_size.clamp(512, EDNS_UDP_SIZE)),
        (None, Transport::Udp) => CLASSIC_UDP_SIZE,
    };
    let code = answer(&query, identity, &mut reply);
    if let Some(q_edns) = &query.edns {
        let mut edns = Edns {
            udp_size: EDNS_UDP_SIZE,
            ..Edns::default()
        };
        if q_edns.has_option(OPT_NSID) {
            edns.options
                .push((OPT_NSID, identity.site.as_str().as_bytes().to_vec()));
        }
        edns.ext_rcode = (code >> 4) as u8;
        reply.edns = Some(edns);
    }
    reply.header.flags |= code & 0xf;
    let mut bytes = reply.to_bytes();
    if bytes.len() > limit {
        // RFC 2181 §9: set TC and drop what does not fit; the client retries over TCP.
        reply.answers.clear();
        reply.header.flags |= 0x0200;
        bytes = reply.to_bytes();
        if bytes.len() > limit {
            reply.questions.clear();
            bytes = reply.to_bytes();
        }
    }
    Some(bytes)
}

/// Fill `reply`'s answers and return the rcode.
fn answer(query: &Message, identity: &SiteIdentity, reply: &mut Message) -> u16 {
    if query.header.opcode() != 0 {
        return rcode::NOTIMP;
    }
    if query.edns.as_ref().is_some_and(|e| e.version > 0) {
        reply.questions.clear();
        return rcode::BADVERS;
    }
    let [q] = query.questions.as_slice() else {
        return rcode::FORMERR;
    };
    let Some(text) = chaos_text(q, identity) else {
        return rcode::REFUSED;
    };
    reply.header.flags |= 0x0400; // AA: we own the CHAOS pseudo-zone.
    if q.qtype == TYPE_TXT || q.qtype == TYPE_ANY {
        reply.answers.push(Record {
            name: q.name.clone(),
            rtype: TYPE_TXT,
            class: CLASS_CH,
            ttl: 0,
            data: RData::Txt(vec![text.into_bytes()]),
        });
    }
    rcode::NOERROR
}

/// The CHAOS TXT string for a question we answer, `None` for one we refuse.
fn chaos_text(q: &Question, identity: &SiteIdentity) -> Option<String> {
    if q.qclass != CLASS_CH {
        return None;
    }
    let is = |n: &str| q.name.eq_text(n);
    if is("id.server") || is("hostname.bind") {
        Some(identity.site.to_string())
    } else if is("version.server") || is("version.bind") {
        Some(identity.version.clone())
    } else {
        None
    }
}

/// Serve DNS over UDP on `socket` until `shutdown` is cancelled.
pub async fn serve_udp(
    socket: UdpSocket,
    identity: Arc<SiteIdentity>,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let mut buf = vec![0u8; 65535];
    loop {
        let (len, peer) = tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            r = socket.recv_from(&mut buf) => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::debug!(error = %e, "dns udp receive failed");
                    continue;
                }
            },
        };
        let Some(query) = buf.get(..len) else {
            continue;
        };
        if let Some(reply) = respond(query, &identity, Transport::Udp) {
            if let Err(e) = socket.send_to(&reply, peer).await {
                tracing::debug!(%peer, error = %e, "dns udp send failed");
            }
        }
    }
}

/// Serve DNS over TCP (RFC 7766: two-octet length prefix, several queries per connection) on
/// `listener` until `shutdown` is cancelled; open connections are closed then.
pub async fn serve_tcp(
    listener: TcpListener,
    identity: Arc<SiteIdentity>,
    shutdown: CancellationToken,
) -> io::Result<()> {
    super::accept::serve_connections(
        listener,
        MAX_TCP_CONNECTIONS,
        "dns tcp",
        shutdown,
        move |stream, _peer| {
            let identity = identity.clone();
            async move { tcp_connection(stream, &identity).await }
        },
    )
    .await
}

async fn tcp_connection(mut stream: TcpStream, identity: &SiteIdentity) -> io::Result<()> {
    let mut buf = vec![0u8; 65535];
    loop {
        let mut len = [0u8; 2];
        match tokio::time::timeout(TCP_IDLE_TIMEOUT, stream.read_exact(&mut len)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Ok(Err(e)) => return Err(e),
            Err(_) => return Ok(()),
        }
        let len = usize::from(u16::from_be_bytes(len));
        let Some(msg) = buf.get_mut(..len) else {
            return Ok(());
        };
        match tokio::time::timeout(TCP_IDLE_TIMEOUT, stream.read_exact(msg)).await {
            Ok(r) => r?,
            Err(_) => return Ok(()),
        };
        let Some(reply) = respond(msg, identity, Transport::Tcp) else {
            return Ok(());
        };
        let mut out = Vec::with_capacity(reply.len() + 2);
        out.extend_from_slice(&(reply.len() as u16).to_be_bytes());
        out.extend_from_slice(&reply);
        stream.write_all(&out).await?;
    }
}

/// A query, encoded: the codec's [`tern_dns::query`], kept here for the tests that build
/// queries next to [`respond`].
pub use tern_dns::query;

#[cfg(test)]
mod tests {
    use super::*;
    use tern_dns::{CLASS_IN, Name, TYPE_A};

    fn ident() -> SiteIdentity {
        SiteIdentity::new("ams".parse().unwrap())
    }

    fn ask(name: &str, qtype: u16, class: u16, edns: Option<Edns>) -> Message {
        let q = query(9, &Name::from_text(name).unwrap(), qtype, class, edns);
        Message::parse(&respond(&q, &ident(), Transport::Udp).unwrap()).unwrap()
    }

    fn nsid_edns() -> Option<Edns> {
        Some(Edns {
            udp_size: 4096,
            options: vec![(OPT_NSID, vec![])],
            ..Edns::default()
        })
    }

    #[test]
    fn chaos_names() {
        for name in ["id.server", "HOSTNAME.BIND."] {
            let r = ask(name, TYPE_TXT, CLASS_CH, None);
            assert_eq!(r.rcode(), rcode::NOERROR);
            assert_eq!(r.header.id, 9);
            assert!(r.header.is_response() && r.header.rd());
            assert_eq!(r.answers[0].data, RData::Txt(vec![b"ams".to_vec()]));
            assert!(r.edns.is_none(), "no OPT to a client without EDNS");
        }
        let r = ask("version.bind", TYPE_TXT, CLASS_CH, None);
        assert_eq!(r.answers[0].data, RData::Txt(vec![b"tern".to_vec()]));
        // Known name, other type: NODATA.
        let r = ask("id.server", TYPE_A, CLASS_CH, None);
        assert_eq!((r.rcode(), r.answers.len()), (rcode::NOERROR, 0));
    }

    #[test]
    fn refused_with_nsid() {
        let r = ask("example.com", TYPE_A, CLASS_IN, nsid_edns());
        assert_eq!(r.rcode(), rcode::REFUSED);
        let e = r.edns.unwrap();
        assert_eq!(e.options, vec![(OPT_NSID, b"ams".to_vec())]);
        let r = ask("id.server", TYPE_TXT, CLASS_IN, None);
        assert_eq!(r.rcode(), rcode::REFUSED);
        // EDNS without NSID: OPT but no NSID.
        let r = ask("id.server", TYPE_TXT, CLASS_CH, Some(Edns::default()));
        assert!(r.edns.unwrap().options.is_empty());
    }

    #[test]
    fn badvers_and_opcodes() {
        let r = ask(
            "id.server",
            TYPE_TXT,
            CLASS_CH,
            Some(Edns {
                version: 1,
                ..Edns::default()
            }),
        );
        assert_eq!(r.rcode(), rcode::BADVERS);
        let mut q = query(1, &Name::from_text("id.server").unwrap(), 16, 3, None);
        q[2] |= 0x28; // opcode 5 (UPDATE)
        let r = Message::parse(&respond(&q, &ident(), Transport::Udp).unwrap()).unwrap();
        assert_eq!((r.rcode(), r.header.opcode()), (rcode::NOTIMP, 5));
    }

    #[test]
    fn malformed() {
        assert_eq!(respond(&[1, 2, 3], &ident(), Transport::Udp), None);
        let mut q = query(77, &Name::from_text("id.server").unwrap(), 16, 3, None);
        q[2] |= 0x80; // a response: dropped
        assert_eq!(respond(&q, &ident(), Transport::Udp), None);
        q[2] &= 0x7f;
        q.truncate(q.len() - 2);
        let r = Message::parse(&respond(&q, &ident(), Transport::Udp).unwrap()).unwrap();
        assert_eq!((r.header.id, r.rcode()), (77, rcode::FORMERR));
        // Zero questions.
        let mut m = Message::default();
        m.header.id = 5;
        let r = respond(&m.to_bytes(), &ident(), Transport::Udp).unwrap();
        assert_eq!(Message::parse(&r).unwrap().rcode(), rcode::FORMERR);
    }
}
