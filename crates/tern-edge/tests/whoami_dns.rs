//! The DNS responder against real `dig` and against malformed packets, on 127.0.0.1.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tern_dns::{Message, Name, rcode};
use tern_edge::serve::DnsLimits;
use tern_edge::serve::dns::{serve_tcp, serve_udp};
use tern_edge::whoami::SiteIdentity;
use tern_edge::whoami::dns::{self, Whoami};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

struct Server {
    addr: SocketAddr,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<std::io::Result<()>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// UDP and TCP on the same free port (retrying if TCP's half is taken).
async fn start(site: &str) -> Server {
    start_on(site, "127.0.0.1:0").await
}

async fn start_on(site: &str, bind: &str) -> Server {
    let identity = Arc::new(Whoami(Arc::new(SiteIdentity::new(site.parse().unwrap()))));
    for _ in 0..20 {
        let udp = UdpSocket::bind(bind)
            .await
            .unwrap_or_else(|e| panic!("bind {bind}: {e} (this test needs loopback {bind})"));
        let addr = udp.local_addr().unwrap();
        let Ok(tcp) = TcpListener::bind(addr).await else {
            continue;
        };
        let shutdown = CancellationToken::new();
        let tasks = vec![
            tokio::spawn(serve_udp(
                udp,
                identity.clone(),
                DnsLimits::default(),
                shutdown.clone(),
            )),
            tokio::spawn(serve_tcp(
                tcp,
                identity.clone(),
                DnsLimits::default(),
                shutdown.clone(),
            )),
        ];
        return Server {
            addr,
            shutdown,
            tasks,
        };
    }
    panic!("no free port for UDP and TCP together");
}

async fn dig(addr: SocketAddr, args: &[&str]) -> String {
    let out = tokio::process::Command::new("dig")
        .arg(format!("@{}", addr.ip()))
        .arg(if addr.is_ipv6() { "-6" } else { "-4" })
        .arg("-p")
        .arg(addr.port().to_string())
        .args(["+time=2", "+tries=2"])
        .args(args)
        .output()
        .await
        .expect("dig must be installed (dnsutils)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "dig {args:?} failed: {text}");
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dig_names_the_site() {
    let s = start("ams").await;
    let out = dig(s.addr, &["CH", "TXT", "id.server", "+short"]).await;
    assert_eq!(out.trim(), "\"ams\"");
    let out = dig(s.addr, &["CH", "TXT", "hostname.bind", "+short", "+tcp"]).await;
    assert_eq!(out.trim(), "\"ams\"");
    let out = dig(s.addr, &["CH", "TXT", "version.server", "+short"]).await;
    assert_eq!(out.trim(), "\"tern\"");
    // NSID on an unrelated (refused) question: the instance still names itself.
    let out = dig(s.addr, &["+nsid", "IN", "A", "www.example.com"]).await;
    assert!(out.contains("status: REFUSED"), "{out}");
    assert!(
        out.contains("NSID: 61 6d 73") && out.contains("\"ams\""),
        "{out}"
    );
    let out = dig(s.addr, &["+nsid", "CH", "TXT", "id.server"]).await;
    assert!(out.contains("status: NOERROR"), "{out}");
    assert!(out.contains("flags: qr aa rd"), "{out}");
    assert!(out.contains("NSID: 61 6d 73"), "{out}");
    // No NSID unless asked (RFC 5001 §2.1).
    let out = dig(s.addr, &["CH", "TXT", "id.server"]).await;
    assert!(!out.contains("NSID"), "{out}");
}

/// Send `packet`; the reply, waiting up to `wait`.
async fn udp_exchange_within(addr: SocketAddr, packet: &[u8], wait: Duration) -> Option<Vec<u8>> {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    sock.send_to(packet, addr).await.unwrap();
    let mut buf = vec![0u8; 4096];
    match tokio::time::timeout(wait, sock.recv(&mut buf)).await {
        Ok(Ok(n)) => Some(buf[..n].to_vec()),
        _ => None,
    }
}

/// A packet that must be answered: generous wait for a loaded CI machine.
async fn udp_exchange(addr: SocketAddr, packet: &[u8]) -> Option<Vec<u8>> {
    udp_exchange_within(addr, packet, Duration::from_secs(5)).await
}

/// A packet that must be dropped: no answer within a short wait (then a later good query
/// proves the server was alive all along).
async fn udp_dropped(addr: SocketAddr, packet: &[u8]) -> bool {
    udp_exchange_within(addr, packet, Duration::from_millis(500))
        .await
        .is_none()
}

fn header(id: u16, qd: u16, an: u16, ns: u16, ar: u16) -> Vec<u8> {
    let mut b = id.to_be_bytes().to_vec();
    b.extend_from_slice(&[0x01, 0x00]);
    for c in [qd, an, ns, ar] {
        b.extend_from_slice(&c.to_be_bytes());
    }
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_packets_get_formerr_or_nothing() {
    let s = start("fra").await;
    // Truncated header: dropped.
    assert!(udp_dropped(s.addr, &[0x12, 0x34, 0x01]).await);
    assert!(udp_dropped(s.addr, &[]).await);
    // A response (QR set) is never answered: no loops between servers.
    let mut resp = dns::query(9, &Name::from_text("id.server").unwrap(), 16, 3, None);
    resp[2] |= 0x80;
    assert!(udp_dropped(s.addr, &resp).await);
    let formerr = |reply: Option<Vec<u8>>, id: u16| {
        let m = Message::parse(&reply.expect("an answer")).unwrap();
        assert_eq!((m.header.id, m.rcode()), (id, rcode::FORMERR));
    };
    // A label pointer to itself (a loop) and a forward pointer.
    let mut p = header(1, 1, 0, 0, 0);
    p.extend_from_slice(&[0xc0, 12, 0, 16, 0, 3]);
    formerr(udp_exchange(s.addr, &p).await, 1);
    let mut p = header(2, 1, 0, 0, 0);
    p.extend_from_slice(&[2, b'i', b'd', 0xc0, 40, 0, 16, 0, 3]);
    formerr(udp_exchange(s.addr, &p).await, 2);
    // Two pointers pointing at each other.
    let mut p = header(3, 2, 0, 0, 0);
    p.extend_from_slice(&[0xc0, 18, 0, 16, 0, 3, 0xc0, 12, 0, 16, 0, 3]);
    formerr(udp_exchange(s.addr, &p).await, 3);
    // Huge counts.
    let mut p = header(4, 65535, 65535, 65535, 65535);
    p.extend_from_slice(&[0, 0, 16, 0, 3]);
    formerr(udp_exchange(s.addr, &p).await, 4);
    // Label running past the end.
    let mut p = header(5, 1, 0, 0, 0);
    p.extend_from_slice(&[60, b'a', b'b']);
    formerr(udp_exchange(s.addr, &p).await, 5);
    // Random junk of every length up to 64 never kills the server.
    let mut x: u32 = 0x9e37_79b9;
    for len in 0..64 {
        let junk: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        sock.send_to(&junk, s.addr).await.unwrap();
    }
    // TCP: a length prefix promising more than is sent, then close; and a bad packet.
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.write_all(&[0x10, 0x00, 1, 2, 3]).await.unwrap();
    drop(c);
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    let mut p = header(6, 1, 0, 0, 0);
    p.extend_from_slice(&[0xc0, 12, 0, 16, 0, 3]);
    let mut framed = (p.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&p);
    // The same connection then carries a good query.
    let good = dns::query(7, &Name::from_text("id.server").unwrap(), 16, 3, None);
    framed.extend_from_slice(&(good.len() as u16).to_be_bytes());
    framed.extend_from_slice(&good);
    c.write_all(&framed).await.unwrap();
    for want in [(6, rcode::FORMERR), (7, rcode::NOERROR)] {
        let mut len = [0u8; 2];
        c.read_exact(&mut len).await.unwrap();
        let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
        c.read_exact(&mut msg).await.unwrap();
        let m = Message::parse(&msg).unwrap();
        assert_eq!((m.header.id, m.rcode()), want);
    }
    // And it still answers dig afterwards, over both transports.
    let out = dig(s.addr, &["CH", "TXT", "id.server", "+short"]).await;
    assert_eq!(out.trim(), "\"fra\"");
    let out = dig(s.addr, &["CH", "TXT", "id.server", "+short", "+tcp"]).await;
    assert_eq!(out.trim(), "\"fra\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_both_servers() {
    let mut s = start("ams").await;
    // An idle TCP connection must not hold the shutdown up.
    let _idle = TcpStream::connect(s.addr).await.unwrap();
    s.shutdown.cancel();
    for t in s.tasks.drain(..) {
        let r = tokio::time::timeout(Duration::from_secs(5), t).await;
        assert!(matches!(r, Ok(Ok(Ok(())))), "{r:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dig_over_ipv6_loopback() {
    let s = start_on("vultr-fra", "[::1]:0").await;
    let out = dig(s.addr, &["CH", "TXT", "id.server", "+short"]).await;
    assert_eq!(out.trim(), "\"vultr-fra\"");
    let out = dig(s.addr, &["+nsid", "+tcp", "CH", "TXT", "hostname.bind"]).await;
    assert!(out.contains("\"vultr-fra\""), "{out}");
    assert!(out.contains("NSID: 76 75 6c 74 72 2d 66 72 61"), "{out}");
}
