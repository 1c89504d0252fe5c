//! The server layer's DNS server with a handler of its own, on 127.0.0.1: the handler sees the
//! client and the transport (TC over UDP, the full answer over TCP, checked by real `dig`), and a
//! stalled or flooding TCP client does not keep others from being answered.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tern_dns::{CLASS_IN, Message, Name, RData, Record, TYPE_TXT, rcode};
use tern_edge::serve::accept::Limits;
use tern_edge::serve::dns::{DnsLimits, DnsQuery, Transport, formerr, serve_tcp, serve_udp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio_util::sync::CancellationToken;

/// A TXT answer of 40 strings of 50 bytes (about 2 kB, above any UDP limit here) naming the
/// client's address and the transport; TC and no answer when it does not fit.
fn handler(q: &DnsQuery<'_>) -> Option<Vec<u8>> {
    let Ok(msg) = Message::parse(q.message) else {
        return formerr(q.message);
    };
    let mut reply = Message::response(&msg.header);
    reply.questions = msg.questions.clone();
    let transport = match q.transport {
        Transport::Udp => "udp",
        Transport::Tcp => "tcp",
    };
    let mut txt = vec![format!("{} {transport}", q.client.ip()).into_bytes()];
    txt.extend((0..40).map(|_| vec![b'x'; 50]));
    reply.answers.push(Record {
        name: msg.questions.first()?.name.clone(),
        rtype: TYPE_TXT,
        class: CLASS_IN,
        ttl: 0,
        data: RData::Txt(txt),
    });
    let bytes = reply.to_bytes();
    if bytes.len() > q.reply_limit(msg.edns.as_ref().map(|e| e.udp_size)) {
        reply.answers.clear();
        reply.header.flags |= 0x0200;
        return Some(reply.to_bytes());
    }
    Some(bytes)
}

struct Server {
    addr: SocketAddr,
    shutdown: CancellationToken,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn start(limits: DnsLimits) -> Server {
    for _ in 0..20 {
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = udp.local_addr().unwrap();
        let Ok(tcp) = TcpListener::bind(addr).await else {
            continue;
        };
        let shutdown = CancellationToken::new();
        let h = Arc::new(handler);
        tokio::spawn(serve_udp(udp, h.clone(), limits, shutdown.clone()));
        tokio::spawn(serve_tcp(tcp, h, limits, shutdown.clone()));
        return Server { addr, shutdown };
    }
    panic!("no free port for UDP and TCP together");
}

fn query(id: u16) -> Vec<u8> {
    tern_dns::query(
        id,
        &Name::from_text("big.example").unwrap(),
        TYPE_TXT,
        CLASS_IN,
        None,
    )
}

async fn tcp_ask(addr: SocketAddr, id: u16) -> Message {
    let mut c = TcpStream::connect(addr).await.unwrap();
    let q = query(id);
    let mut framed = (q.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&q);
    c.write_all(&framed).await.unwrap();
    let mut len = [0u8; 2];
    c.read_exact(&mut len).await.unwrap();
    let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
    c.read_exact(&mut msg).await.unwrap();
    Message::parse(&msg).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_sees_client_and_transport_tc_over_udp_full_over_tcp() {
    let s = start(DnsLimits::default()).await;
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    sock.send_to(&query(1), s.addr).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), sock.recv(&mut buf))
        .await
        .expect("an answer over UDP")
        .unwrap();
    let m = Message::parse(&buf[..n]).unwrap();
    assert!(n <= 512, "{n} bytes to a client without EDNS");
    assert!(
        m.header.flags & 0x0200 != 0 && m.answers.is_empty(),
        "{m:?}"
    );

    let m = tokio::time::timeout(Duration::from_secs(5), tcp_ask(s.addr, 2))
        .await
        .unwrap();
    assert_eq!(m.header.flags & 0x0200, 0);
    let RData::Txt(txt) = &m.answers[0].data else {
        panic!("{m:?}")
    };
    assert_eq!(txt[0], b"127.0.0.1 tcp");

    // Real dig: retries over TCP on TC by itself and gets the full answer.
    let out = tokio::process::Command::new("dig")
        .args(["@127.0.0.1", "-p", &s.addr.port().to_string()])
        .args(["+time=2", "+tries=2", "+short", "TXT", "big.example"])
        .output()
        .await
        .expect("dig must be installed (dnsutils)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("\"127.0.0.1 tcp\""), "{text}");
    assert_eq!(text.matches(&"x".repeat(50)).count(), 40, "{text}");

    // Malformed: FORMERR with the id; a response: nothing.
    let mut p = query(9);
    p.truncate(14);
    sock.send_to(&p, s.addr).await.unwrap();
    let n = tokio::time::timeout(Duration::from_secs(5), sock.recv(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let m = Message::parse(&buf[..n]).unwrap();
    assert_eq!((m.header.id, m.rcode()), (9, rcode::FORMERR));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_and_flooding_tcp_clients_do_not_block_others() {
    let limits = DnsLimits {
        tcp_write: Duration::from_millis(300),
        ..DnsLimits::default()
    };
    let s = start(limits).await;
    // Five clients that send one byte of a length prefix and stall.
    let mut stalled = Vec::new();
    for _ in 0..5 {
        let mut c = TcpStream::connect(s.addr).await.unwrap();
        c.write_all(&[0]).await.unwrap();
        stalled.push(c);
    }
    // One that sends query after query and never reads an answer.
    let flood = tokio::spawn({
        let addr = s.addr;
        async move {
            let mut c = TcpStream::connect(addr).await.unwrap();
            let q = query(3);
            let mut framed = (q.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&q);
            let many = framed.repeat(200);
            let mut sent = 0usize;
            for _ in 0..50 {
                match tokio::time::timeout(Duration::from_millis(200), c.write_all(&many)).await {
                    Ok(Ok(())) => sent += 1,
                    _ => break,
                }
            }
            (c, sent)
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Others are answered meanwhile, over TCP and UDP.
    for id in 10..15 {
        let m = tokio::time::timeout(Duration::from_secs(5), tcp_ask(s.addr, id))
            .await
            .expect("answered while others stall");
        assert_eq!(m.header.id, id);
    }
    let (_c, sent) = flood.await.unwrap();
    assert!(sent >= 1, "the flooding client got nothing through at all");
    let m = tokio::time::timeout(Duration::from_secs(5), tcp_ask(s.addr, 20))
        .await
        .expect("answered after the flood");
    assert_eq!(m.header.id, 20);
    drop(stalled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_client_cap_closes_the_extra_connection_and_frees_the_slot() {
    let limits = DnsLimits {
        tcp: Limits {
            max_per_client: 2,
            ..Limits::new(16, Duration::from_secs(60))
        },
        ..DnsLimits::default()
    };
    let s = start(limits).await;
    let a = TcpStream::connect(s.addr).await.unwrap();
    let _b = TcpStream::connect(s.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The third from the same address is closed at accept: EOF or reset.
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    let mut buf = [0u8; 1];
    let r = tokio::time::timeout(Duration::from_secs(5), c.read(&mut buf))
        .await
        .expect("closed, not left hanging");
    assert!(matches!(r, Ok(0) | Err(_)), "{r:?}");
    // One slot freed: a new connection is answered.
    drop(a);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let m = tokio::time::timeout(Duration::from_secs(5), tcp_ask(s.addr, 30))
        .await
        .expect("answered once a slot is free");
    assert_eq!(m.header.id, 30);
}
