//! The DNS check: one query over UDP, retried over TCP when the answer is truncated
//! (RFC 1035 §4.2.1, RFC 7766 §5), judged by rcode or answer content.
//!
//! Uses the workspace DNS codec, `tern_dns`. A reply whose id or question does not match the
//! query is ignored (RFC 5452 §9.1), so a stray or spoofed packet cannot pass the check; the
//! caller's timeout bounds the wait.

use std::net::SocketAddr;

use tern_health::DnsExpect;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use tern_dns::{CLASS_IN, Edns, Message, Name, query, rcode};

use super::ProbeError;

/// A DNS answer the check does not accept.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DnsFailure {
    /// The configured name is not a DNS name.
    #[error("{0:?} is not a DNS name")]
    BadName(String),
    /// A TCP reply that does not decode.
    #[error("malformed reply over tcp: {0}")]
    Malformed(String),
    /// A TCP reply to another query.
    #[error("reply over tcp does not match the query")]
    Mismatch,
    /// Another rcode.
    #[error("{got}, want {want}")]
    Rcode {
        /// Received.
        got: String,
        /// Wanted.
        want: String,
    },
    /// No answer has the text.
    #[error("no answer contains {text:?} (got {got:?})")]
    NoAnswerContains {
        /// Looked for.
        text: String,
        /// The answers.
        got: Vec<String>,
    },
    /// An expectation this daemon does not know.
    #[error("unsupported expectation")]
    Unsupported,
}

/// UDP payload size we advertise.
pub const CHECK_UDP_SIZE: u16 = 1232;

/// Ask `server` for `name`/`qtype` (class IN) and judge the reply.
pub async fn check(
    server: SocketAddr,
    name: &str,
    qtype: u16,
    expect: Option<&DnsExpect>,
) -> Result<String, ProbeError> {
    let qname = Name::from_text(name).ok_or_else(|| DnsFailure::BadName(name.to_owned()))?;
    let id = super::random_u64() as u16;
    let edns = Edns {
        udp_size: CHECK_UDP_SIZE,
        ..Edns::default()
    };
    let packet = query(id, &qname, qtype, CLASS_IN, Some(edns));
    let mut reply = udp_exchange(server, &packet, id, &qname, qtype).await?;
    let mut via = "udp";
    if reply.header.tc() {
        reply = tcp_exchange(server, &packet, id, &qname, qtype).await?;
        via = "tcp";
    }
    Ok(judge(&reply, expect).map(|d| format!("{d} ({via})"))?)
}

fn matches(m: &Message, id: u16, qname: &Name, qtype: u16) -> bool {
    m.header.is_response()
        && m.header.id == id
        && m.questions.len() == 1
        && m.questions[0].qtype == qtype
        && m.questions[0].qclass == CLASS_IN
        && m.questions[0].name.eq_ignore_case(qname)
}

async fn udp_exchange(
    server: SocketAddr,
    packet: &[u8],
    id: u16,
    qname: &Name,
    qtype: u16,
) -> Result<Message, ProbeError> {
    let bind: SocketAddr = if server.is_ipv4() {
        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let sock = UdpSocket::bind(bind)
        .await
        .map_err(ProbeError::io("udp socket"))?;
    sock.connect(server)
        .await
        .map_err(ProbeError::io(format!("udp connect {server}")))?;
    sock.send(packet)
        .await
        .map_err(ProbeError::io(format!("udp send to {server}")))?;
    let mut buf = vec![0u8; 65535];
    loop {
        let n = sock
            .recv(&mut buf)
            .await
            .map_err(ProbeError::io(format!("udp receive from {server}")))?;
        if let Ok(m) = Message::parse(&buf[..n]) {
            if matches(&m, id, qname, qtype) {
                return Ok(m);
            }
        }
    }
}

async fn tcp_exchange(
    server: SocketAddr,
    packet: &[u8],
    id: u16,
    qname: &Name,
    qtype: u16,
) -> Result<Message, ProbeError> {
    let mut s = TcpStream::connect(server)
        .await
        .map_err(ProbeError::io(format!("tcp connect {server}")))?;
    let mut framed = (packet.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(packet);
    s.write_all(&framed)
        .await
        .map_err(ProbeError::io("tcp send"))?;
    let mut len = [0u8; 2];
    s.read_exact(&mut len)
        .await
        .map_err(ProbeError::io("tcp receive"))?;
    let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
    s.read_exact(&mut buf)
        .await
        .map_err(ProbeError::io("tcp receive"))?;
    let m = Message::parse(&buf).map_err(|e| DnsFailure::Malformed(e.to_string()))?;
    if !matches(&m, id, qname, qtype) {
        return Err(DnsFailure::Mismatch.into());
    }
    Ok(m)
}

/// Judge a reply against the expectation. Pure.
pub fn judge(m: &Message, expect: Option<&DnsExpect>) -> Result<String, DnsFailure> {
    let code = m.rcode();
    let got = rcode::name(code);
    match expect {
        None | Some(DnsExpect::AnswerContains(_)) if code != rcode::NOERROR => {
            Err(DnsFailure::Rcode {
                got,
                want: "NOERROR".into(),
            })
        }
        None => Ok(format!("NOERROR, {} answers", m.answers.len())),
        Some(DnsExpect::Rcode(want)) if code == u16::from(*want) => Ok(got),
        Some(DnsExpect::Rcode(want)) => Err(DnsFailure::Rcode {
            got,
            want: rcode::name(u16::from(*want)),
        }),
        Some(DnsExpect::AnswerContains(text)) => {
            let answers: Vec<String> = m.answers.iter().map(|r| r.data.to_string()).collect();
            if answers.iter().any(|a| a.contains(text.as_str())) {
                Ok(format!("NOERROR, answer has {text:?}"))
            } else {
                Err(DnsFailure::NoAnswerContains {
                    text: text.clone(),
                    got: answers,
                })
            }
        }
        Some(_) => Err(DnsFailure::Unsupported),
    }
}
