//! The lab's DNS probe: CHAOS TXT queries over UDP, read with the shared wire codec.
//!
//! RFC 4892 (`id.server` and `hostname.bind` in class CHAOS). The bytes are written and read by
//! [`tern_dns`] (RFC 1035 §4.1); this module keeps only thin wrappers shaped for the lab's
//! responder ([`crate::whoami`]) and its probe ([`crate::measure`]), plus the socket code
//! ([`chaos`], [`watch`]).

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

pub use tern_dns::{CLASS_CH, TYPE_TXT, rcode};
use tern_dns::{Header, Message, Name, Question, RData, Record, WireError};

/// A DNS message that cannot be read, or an exchange that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DnsError {
    /// Not a DNS message.
    #[error("malformed DNS message: {0}")]
    Wire(#[from] WireError),
    /// Not what was asked for.
    #[error("unexpected DNS message: {0}")]
    Unexpected(String),
    /// No answer in time, or a socket error.
    #[error("DNS query failed: {0}")]
    Io(String),
}

/// A query as received: its header and its first question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The header (id, flags, counts).
    pub header: Header,
    /// The (first) question.
    pub question: Question,
}

/// A reply as read by the probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Message id.
    pub id: u16,
    /// RCODE (extended by EDNS, RFC 6891 §6.1.3).
    pub rcode: u16,
    /// TXT strings of the answers, each answer's strings joined.
    pub txt: Vec<String>,
}

/// A query for `name` of `qtype`/`qclass`, all flags clear (RD too: the server is
/// authoritative).
pub fn query(id: u16, name: &str, qtype: u16, qclass: u16) -> Result<Vec<u8>, DnsError> {
    let name =
        Name::from_text(name).ok_or_else(|| DnsError::Unexpected(format!("bad name {name:?}")))?;
    let q = Question {
        name,
        qtype,
        qclass,
    };
    Ok(Message::query(id, q).to_bytes())
}

/// Reads a query: a message with QR clear and at least one question. The decoder is strict:
/// bytes after the last record are an error.
pub fn parse_query(b: &[u8]) -> Result<Query, DnsError> {
    let m = Message::parse(b)?;
    if m.header.is_response() {
        return Err(DnsError::Unexpected("a response, not a query".into()));
    }
    let question = m
        .questions
        .first()
        .cloned()
        .ok_or_else(|| DnsError::Unexpected("no question".into()))?;
    Ok(Query {
        header: m.header,
        question,
    })
}

/// The answer to `q`: authoritative, the question echoed, one TXT record `txt` in class
/// CHAOS, or an empty answer with `rcode` when `txt` is `None`.
pub fn answer(q: &Query, txt: Option<&str>, rcode: u16) -> Vec<u8> {
    let mut r = Message::response(&q.header);
    r.questions = vec![q.question.clone()];
    r.header.flags |= Header::AA | (rcode & 0x0f);
    if let Some(t) = txt {
        let t = &t.as_bytes()[..t.len().min(255)];
        r.answers.push(Record {
            name: q.question.name.clone(),
            rtype: TYPE_TXT,
            class: CLASS_CH,
            ttl: 0,
            data: RData::Txt(vec![t.to_vec()]),
        });
    }
    r.to_bytes()
}

/// Reads a reply: id, RCODE and the TXT answers.
pub fn parse_reply(b: &[u8]) -> Result<Reply, DnsError> {
    let m = Message::parse(b)?;
    if !m.header.is_response() {
        return Err(DnsError::Unexpected("a query, not a response".into()));
    }
    let txt = m
        .answers
        .iter()
        .filter(|r| r.rtype == TYPE_TXT)
        .map(|r| r.data.to_string())
        .collect();
    Ok(Reply {
        id: m.header.id,
        rcode: m.rcode(),
        txt,
    })
}

/// A CHAOS TXT exchange as the probe saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    /// Round trip, ms.
    pub rt_ms: f64,
    /// The raw response (RIPE Atlas `abuf`).
    pub abuf: Vec<u8>,
    /// The decoded reply.
    pub reply: Reply,
}

/// Sends a CHAOS TXT query for `name` to `server` over UDP and waits up to `timeout`.
pub fn chaos(server: SocketAddr, name: &str, timeout: Duration) -> Result<Exchange, DnsError> {
    let io = |e: std::io::Error| DnsError::Io(e.to_string());
    let bind: SocketAddr = if server.is_ipv6() {
        "[::]:0".parse().map_err(|_| DnsError::Io("bind".into()))?
    } else {
        "0.0.0.0:0"
            .parse()
            .map_err(|_| DnsError::Io("bind".into()))?
    };
    let sock = UdpSocket::bind(bind).map_err(io)?;
    sock.connect(server).map_err(io)?;
    sock.set_read_timeout(Some(timeout)).map_err(io)?;
    let id = (std::process::id() as u16) ^ 0x5a5a;
    let q = query(id, name, TYPE_TXT, CLASS_CH)?;
    let t = Instant::now();
    sock.send(&q).map_err(io)?;
    let mut buf = [0u8; 1500];
    loop {
        let n = sock.recv(&mut buf).map_err(io)?;
        let abuf = buf[..n].to_vec();
        match parse_reply(&abuf) {
            Ok(reply) if reply.id == id => {
                return Ok(Exchange {
                    rt_ms: t.elapsed().as_secs_f64() * 1000.0,
                    abuf,
                    reply,
                });
            }
            _ if t.elapsed() < timeout => continue,
            Ok(_) => return Err(DnsError::Unexpected("reply with another id".into())),
            Err(e) => return Err(e),
        }
    }
}

/// Sends a CHAOS TXT query for `id.server` to `server` every `interval` for `duration`, without
/// waiting for answers (a lost query costs nothing), and calls `answer(sent, txt)` for every
/// answer with the Unix time its query was sent. Stops early when `answer` returns false.
pub fn watch(
    server: SocketAddr,
    interval: Duration,
    duration: Duration,
    answer: &mut dyn FnMut(f64, Vec<String>) -> bool,
) -> Result<(), DnsError> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    let io = |e: std::io::Error| DnsError::Io(e.to_string());
    let bind: SocketAddr = if server.is_ipv6() {
        "[::]:0".parse().map_err(|_| DnsError::Io("bind".into()))?
    } else {
        "0.0.0.0:0"
            .parse()
            .map_err(|_| DnsError::Io("bind".into()))?
    };
    let sock = UdpSocket::bind(bind).map_err(io)?;
    sock.connect(server).map_err(io)?;
    sock.set_read_timeout(Some(Duration::from_millis(50)))
        .map_err(io)?;
    let sender = sock.try_clone().map_err(io)?;
    let sent: Arc<Mutex<HashMap<u16, f64>>> = Arc::default();
    let sent2 = Arc::clone(&sent);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = Arc::clone(&stop);
    let t = Instant::now();
    let h = std::thread::spawn(move || {
        let mut id: u16 = 0;
        while t.elapsed() < duration && !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            id = id.wrapping_add(1);
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0);
            if let Ok(mut m) = sent2.lock() {
                m.insert(id, now);
            }
            // A send error (ICMP error queued on the socket) is retried at the next tick.
            if let Ok(q) = query(id, "id.server", TYPE_TXT, CLASS_CH) {
                let _ = sender.send(&q);
            }
            std::thread::sleep(interval);
        }
    });
    let mut buf = [0u8; 1500];
    while t.elapsed() < duration + Duration::from_millis(300) {
        let Ok(n) = sock.recv(&mut buf) else {
            if h.is_finished() && t.elapsed() > duration {
                break;
            }
            continue;
        };
        let Ok(r) = parse_reply(&buf[..n]) else {
            continue;
        };
        let at = sent.lock().ok().and_then(|mut m| m.remove(&r.id));
        if let Some(at) = at {
            if !answer(at, r.txt) {
                break;
            }
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = h.join();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_answer_round_trip() {
        let q = query(0x1234, "id.server", TYPE_TXT, CLASS_CH).unwrap();
        // Header: id, flags 0, QDCOUNT 1; then 2"id" 6"server" 0, TXT, CH.
        assert_eq!(
            q,
            [
                0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, b'i', b'd', 6, b's', b'e', b'r', b'v',
                b'e', b'r', 0, 0, 16, 0, 3
            ]
        );
        let pq = parse_query(&q).unwrap();
        assert!(pq.question.name.eq_text("id.server"));
        assert_eq!(
            (pq.question.qtype, pq.question.qclass),
            (TYPE_TXT, CLASS_CH)
        );
        let a = answer(&pq, Some("ams"), 0);
        let r = parse_reply(&a).unwrap();
        assert_eq!((r.id, r.rcode), (0x1234, 0));
        assert_eq!(r.txt, vec!["ams".to_string()]);
        let refused = parse_reply(&answer(&pq, None, rcode::REFUSED)).unwrap();
        assert_eq!((refused.rcode, refused.txt.len()), (rcode::REFUSED, 0));
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        assert!(parse_query(&[]).is_err());
        assert!(parse_query(&[0; 11]).is_err());
        // A compression pointer to itself.
        let mut q = vec![0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 16, 0, 3];
        assert_eq!(
            parse_query(&q),
            Err(DnsError::Wire(WireError::BadPointer(12)))
        );
        q.truncate(13);
        assert!(parse_query(&q).is_err());
        for n in 0..40 {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            let _ = parse_query(&bytes);
            let _ = parse_reply(&bytes);
        }
    }
}
