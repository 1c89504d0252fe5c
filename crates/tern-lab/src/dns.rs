//! The smallest DNS wire codec the lab needs: a CHAOS TXT query, its answer, and reading both.
//!
//! RFC 1035 §4.1 (message format, name compression §4.1.4), RFC 4892 (`id.server` and
//! `hostname.bind` in class CHAOS). Pure and panic-free on any input; shared by the lab's
//! responder ([`crate::whoami`]) and its DNS probe ([`crate::measure`]). The site daemon
//! (tern-edge) has its own full responder; this one only stands in until it runs in the lab.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// Class CHAOS (RFC 1035 §3.2.4).
pub const CLASS_CH: u16 = 3;
/// Type TXT (RFC 1035 §3.2.2).
pub const TYPE_TXT: u16 = 16;
/// RCODE FORMERR.
pub const RCODE_FORMERR: u8 = 1;
/// RCODE REFUSED.
pub const RCODE_REFUSED: u8 = 5;

/// A DNS message that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DnsError {
    /// Shorter than its header or its counts claim.
    #[error("truncated DNS message")]
    Truncated,
    /// A name with a bad label or a compression loop.
    #[error("malformed name in DNS message")]
    BadName,
    /// Not what was asked for.
    #[error("unexpected DNS message: {0}")]
    Unexpected(String),
    /// No answer in time, or a socket error.
    #[error("DNS query failed: {0}")]
    Io(String),
}

/// A question (RFC 1035 §4.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// Lower-case name without the trailing dot.
    pub name: String,
    /// QTYPE.
    pub qtype: u16,
    /// QCLASS.
    pub qclass: u16,
}

/// A query as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Message id.
    pub id: u16,
    /// Flags word.
    pub flags: u16,
    /// The (first) question.
    pub question: Question,
    /// Bytes of header plus question (echoed in the answer).
    pub end: usize,
}

/// A reply as read by the probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Message id.
    pub id: u16,
    /// RCODE.
    pub rcode: u8,
    /// TXT strings of the answers, each answer's strings joined.
    pub txt: Vec<String>,
}

fn u16_at(b: &[u8], i: usize) -> Result<u16, DnsError> {
    match b.get(i..i + 2) {
        Some(s) => Ok(u16::from_be_bytes([s[0], s[1]])),
        None => Err(DnsError::Truncated),
    }
}

/// Reads a (possibly compressed) name at `i`; returns it and the offset after it in place.
fn name_at(b: &[u8], mut i: usize) -> Result<(String, usize), DnsError> {
    let mut labels: Vec<String> = Vec::new();
    let mut end = None;
    let mut jumps = 0;
    loop {
        let len = *b.get(i).ok_or(DnsError::Truncated)? as usize;
        match len {
            0 => {
                let after = end.unwrap_or(i + 1);
                return Ok((labels.join("."), after));
            }
            l if l & 0xc0 == 0xc0 => {
                let ptr = (u16_at(b, i)? & 0x3fff) as usize;
                end.get_or_insert(i + 2);
                jumps += 1;
                if jumps > 16 || ptr >= b.len() {
                    return Err(DnsError::BadName);
                }
                i = ptr;
            }
            l if l <= 63 => {
                let s = b.get(i + 1..i + 1 + l).ok_or(DnsError::Truncated)?;
                labels.push(String::from_utf8_lossy(s).to_ascii_lowercase());
                if labels.iter().map(|l| l.len() + 1).sum::<usize>() > 255 {
                    return Err(DnsError::BadName);
                }
                i += 1 + l;
            }
            _ => return Err(DnsError::BadName),
        }
    }
}

fn push_name(out: &mut Vec<u8>, name: &str) {
    for l in name.split('.').filter(|l| !l.is_empty()) {
        let l = &l.as_bytes()[..l.len().min(63)];
        out.push(l.len() as u8);
        out.extend_from_slice(l);
    }
    out.push(0);
}

/// A query for `name` of `qtype`/`qclass` (RD clear: the server is authoritative).
pub fn query(id: u16, name: &str, qtype: u16, qclass: u16) -> Vec<u8> {
    let mut o = Vec::with_capacity(32);
    o.extend_from_slice(&id.to_be_bytes());
    o.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    push_name(&mut o, name);
    o.extend_from_slice(&qtype.to_be_bytes());
    o.extend_from_slice(&qclass.to_be_bytes());
    o
}

/// Reads a query: a message with QR clear and at least one question.
pub fn parse_query(b: &[u8]) -> Result<Query, DnsError> {
    let id = u16_at(b, 0)?;
    let flags = u16_at(b, 2)?;
    if flags & 0x8000 != 0 {
        return Err(DnsError::Unexpected("a response, not a query".into()));
    }
    if u16_at(b, 4)? == 0 {
        return Err(DnsError::Unexpected("no question".into()));
    }
    let (name, i) = name_at(b, 12)?;
    let qtype = u16_at(b, i)?;
    let qclass = u16_at(b, i + 2)?;
    Ok(Query {
        id,
        flags,
        question: Question {
            name,
            qtype,
            qclass,
        },
        end: i + 4,
    })
}

/// The answer to `q` (whose bytes are `raw`): one TXT record `txt` in class CHAOS, or an empty
/// answer with `rcode` when `txt` is `None`.
pub fn answer(raw: &[u8], q: &Query, txt: Option<&str>, rcode: u8) -> Vec<u8> {
    let mut o = Vec::with_capacity(q.end + 64);
    o.extend_from_slice(&q.id.to_be_bytes());
    // QR, opcode copied, AA, RD copied; RCODE.
    let flags = 0x8000 | (q.flags & 0x7900) | 0x0400 | u16::from(rcode & 0x0f);
    o.extend_from_slice(&flags.to_be_bytes());
    o.extend_from_slice(&[0, 1]);
    o.extend_from_slice(&[0, u8::from(txt.is_some()), 0, 0, 0, 0]);
    o.extend_from_slice(raw.get(12..q.end).unwrap_or(&[]));
    if let Some(t) = txt {
        let t = &t.as_bytes()[..t.len().min(255)];
        o.extend_from_slice(&[0xc0, 12]);
        o.extend_from_slice(&TYPE_TXT.to_be_bytes());
        o.extend_from_slice(&CLASS_CH.to_be_bytes());
        o.extend_from_slice(&0u32.to_be_bytes());
        o.extend_from_slice(&(t.len() as u16 + 1).to_be_bytes());
        o.push(t.len() as u8);
        o.extend_from_slice(t);
    }
    o
}

/// Reads a reply: id, RCODE and the TXT answers.
pub fn parse_reply(b: &[u8]) -> Result<Reply, DnsError> {
    let id = u16_at(b, 0)?;
    let flags = u16_at(b, 2)?;
    if flags & 0x8000 == 0 {
        return Err(DnsError::Unexpected("a query, not a response".into()));
    }
    let qd = u16_at(b, 4)?;
    let an = u16_at(b, 6)?;
    let mut i = 12;
    for _ in 0..qd {
        i = name_at(b, i)?.1 + 4;
    }
    let mut txt = Vec::new();
    for _ in 0..an {
        i = name_at(b, i)?.1;
        let rtype = u16_at(b, i)?;
        let rdlen = u16_at(b, i + 8)? as usize;
        let rdata = b.get(i + 10..i + 10 + rdlen).ok_or(DnsError::Truncated)?;
        if rtype == TYPE_TXT {
            let mut s = String::new();
            let mut j = 0;
            while j < rdata.len() {
                let l = rdata[j] as usize;
                let part = rdata.get(j + 1..j + 1 + l).ok_or(DnsError::Truncated)?;
                s.push_str(&String::from_utf8_lossy(part));
                j += 1 + l;
            }
            txt.push(s);
        }
        i += 10 + rdlen;
    }
    Ok(Reply {
        id,
        rcode: (flags & 0x0f) as u8,
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
    let q = query(id, name, TYPE_TXT, CLASS_CH);
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
            let _ = sender.send(&query(id, "id.server", TYPE_TXT, CLASS_CH));
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
        let q = query(0x1234, "id.server", TYPE_TXT, CLASS_CH);
        // Header: id, flags 0, QDCOUNT 1; then 2"id" 6"server" 0, TXT, CH.
        assert_eq!(
            q,
            [
                0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, b'i', b'd', 6, b's', b'e', b'r', b'v',
                b'e', b'r', 0, 0, 16, 0, 3
            ]
        );
        let pq = parse_query(&q).unwrap();
        assert_eq!(pq.question.name, "id.server");
        assert_eq!(
            (pq.question.qtype, pq.question.qclass),
            (TYPE_TXT, CLASS_CH)
        );
        let a = answer(&q, &pq, Some("ams"), 0);
        let r = parse_reply(&a).unwrap();
        assert_eq!((r.id, r.rcode), (0x1234, 0));
        assert_eq!(r.txt, vec!["ams".to_string()]);
        let refused = parse_reply(&answer(&q, &pq, None, RCODE_REFUSED)).unwrap();
        assert_eq!((refused.rcode, refused.txt.len()), (RCODE_REFUSED, 0));
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        assert!(parse_query(&[]).is_err());
        assert!(parse_query(&[0; 11]).is_err());
        // A compression pointer to itself.
        let mut q = vec![0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 16, 0, 3];
        assert_eq!(parse_query(&q), Err(DnsError::BadName));
        q.truncate(13);
        assert!(parse_query(&q).is_err());
        for n in 0..40 {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            let _ = parse_query(&bytes);
            let _ = parse_reply(&bytes);
        }
    }
}
