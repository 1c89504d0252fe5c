//! Each check executor against local servers the test starts on 127.0.0.1, passing and failing.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tern_dns::{Message, RData, Record, rcode};
use tern_edge::probe::run_check;
use tern_edge::serve::http::{Request, Response, Router, serve};
use tern_edge::whoami::SiteIdentity;
use tern_health::{CheckKind, CheckResult, CheckSpec, CheckSpecError, DnsExpect};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio_util::sync::CancellationToken;

fn spec(kind: CheckKind, timeout_ms: u64) -> CheckSpec {
    let mut s = CheckSpec::new(kind);
    s.timeout = Duration::from_millis(timeout_ms);
    s.interval = s.timeout.max(s.interval);
    assert_eq!(s.validate(), vec![], "test spec must be valid");
    s
}

async fn check(kind: CheckKind) -> CheckResult {
    run_check(&spec(kind, 2000)).await
}

fn assert_failed(r: &CheckResult, detail: &str) {
    assert!(!r.ok, "expected failure, got {r:?}");
    assert!(r.detail.contains(detail), "{:?} lacks {detail:?}", r.detail);
}

async fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_connect() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let r = check(CheckKind::Tcp {
        host: "127.0.0.1".into(),
        port,
    })
    .await;
    assert!(r.ok, "{r:?}");
    assert!(r.latency < Duration::from_secs(2));
    let r = check(CheckKind::Tcp {
        host: "127.0.0.1".into(),
        port: closed_port().await,
    })
    .await;
    assert_failed(&r, "refused");
}

fn http(port: u16, path: &str, status: u16, body: Option<&str>) -> CheckKind {
    CheckKind::Http {
        host: "127.0.0.1".into(),
        port,
        path: path.into(),
        expect_status: status,
        expect_body: body.map(str::to_owned),
        tls: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_get() {
    let router = Router::new()
        .route("/healthz", |r: &Request| {
            // The check sends a proper Host header.
            let host = r.header("host").unwrap_or("none").to_owned();
            Response::text(200, format!("status: healthy\nhost={host}\n"))
        })
        .route("/sick", |_: &Request| Response::text(500, "broken"));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(serve(listener, Arc::new(router), shutdown.clone()));

    let r = check(http(port, "/healthz", 200, Some("healthy"))).await;
    assert!(r.ok, "{r:?}");
    let r = check(http(
        port,
        "/healthz",
        200,
        Some(&format!("host=127.0.0.1:{port}")),
    ))
    .await;
    assert!(r.ok, "Host header: {r:?}");
    assert_failed(
        &check(http(port, "/sick", 200, None)).await,
        "HTTP 500, want 200",
    );
    assert!(check(http(port, "/sick", 500, Some("broken"))).await.ok);
    assert_failed(&check(http(port, "/missing", 200, None)).await, "HTTP 404");
    assert_failed(
        &check(http(port, "/healthz", 200, Some("degraded"))).await,
        "body lacks \"degraded\"",
    );
    assert_failed(
        &check(http(closed_port().await, "/", 200, None)).await,
        "refused",
    );
    shutdown.cancel();
    server.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_chunked_and_timeout() {
    // A hand-written server sending a chunked body.
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf).await.unwrap();
        s.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nall \r\n2\r\nok\r\n0\r\n\r\n")
            .await
            .unwrap();
    });
    let r = check(http(port, "/", 200, Some("all ok"))).await;
    assert!(r.ok, "{r:?}");
    server.await.unwrap();

    // A listener nobody accepts on: the connect succeeds, the answer never comes.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let r = run_check(&spec(http(port, "/", 200, None), 300)).await;
    assert_failed(&r, "timeout after 300 ms");
    assert_eq!(r.latency, Duration::from_millis(300));
}

#[tokio::test]
async fn https_is_refused_at_validation() {
    let mut kind = http(443, "/", 200, None);
    if let CheckKind::Http { tls, .. } = &mut kind {
        *tls = true;
    }
    let s = CheckSpec::new(kind);
    assert_eq!(s.validate(), vec![CheckSpecError::TlsUnsupported]);
    assert_failed(&run_check(&s).await, "not supported");
}

/// A fake DNS server: over UDP always truncated (TC, no answers); over TCP an A record.
async fn truncating_dns() -> SocketAddr {
    let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = udp.local_addr().unwrap();
    let tcp = TcpListener::bind(addr).await.unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        while let Ok((n, peer)) = udp.recv_from(&mut buf).await {
            let mut m = Message::parse(&buf[..n]).unwrap();
            m.header.flags |= 0x8200; // QR, TC
            m.edns = None;
            udp.send_to(&m.to_bytes(), peer).await.unwrap();
        }
    });
    tokio::spawn(async move {
        while let Ok((mut s, _)) = tcp.accept().await {
            let mut len = [0u8; 2];
            s.read_exact(&mut len).await.unwrap();
            let mut q = vec![0u8; usize::from(u16::from_be_bytes(len))];
            s.read_exact(&mut q).await.unwrap();
            let mut m = Message::parse(&q).unwrap();
            m.header.flags |= 0x8000;
            m.edns = None;
            m.answers.push(Record {
                name: m.questions[0].name.clone(),
                rtype: 1,
                class: 1,
                ttl: 60,
                data: RData::A("192.0.2.53".parse().unwrap()),
            });
            let b = m.to_bytes();
            let mut out = (b.len() as u16).to_be_bytes().to_vec();
            out.extend_from_slice(&b);
            s.write_all(&out).await.unwrap();
        }
    });
    addr
}

fn dns(server: SocketAddr, expect: Option<DnsExpect>) -> CheckKind {
    CheckKind::Dns {
        server,
        name: "www.example.com".into(),
        qtype: 1,
        expect,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_query_with_tcp_fallback() {
    let server = truncating_dns().await;
    let r = check(dns(
        server,
        Some(DnsExpect::AnswerContains("192.0.2.53".into())),
    ))
    .await;
    assert!(r.ok, "{r:?}");
    assert!(r.detail.ends_with("(tcp)"), "{r:?}");
    let r = check(dns(
        server,
        Some(DnsExpect::AnswerContains("192.0.2.99".into())),
    ))
    .await;
    assert_failed(&r, "no answer contains");

    // Our own responder refuses class IN: fine when REFUSED is expected, a failure otherwise.
    let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = udp.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let ident = Arc::new(SiteIdentity::new("ams".parse().unwrap()));
    let task = tokio::spawn(tern_edge::serve::dns::serve_udp(
        udp,
        Arc::new(tern_edge::whoami::dns::Whoami(ident)),
        tern_edge::serve::DnsLimits::default(),
        shutdown.clone(),
    ));
    let r = check(dns(addr, Some(DnsExpect::Rcode(rcode::REFUSED as u8)))).await;
    assert!(r.ok && r.detail == "REFUSED (udp)", "{r:?}");
    assert_failed(&check(dns(addr, None)).await, "REFUSED, want NOERROR");
    shutdown.cancel();
    task.await.unwrap().unwrap();

    // A server that never answers.
    let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let r = run_check(&spec(dns(silent.local_addr().unwrap(), None), 300)).await;
    assert_failed(&r, "timeout");
}

fn exec(args: &[&str]) -> CheckKind {
    CheckKind::Exec {
        argv: args.iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// Processes whose command line contains `needle`.
fn processes_with(needle: &str) -> usize {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .filter(|c| {
            String::from_utf8_lossy(c)
                .replace('\0', " ")
                .contains(needle)
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_checks() {
    assert!(check(exec(&["true"])).await.ok);
    assert_failed(&check(exec(&["false"])).await, "exit status 1");
    assert_failed(&check(exec(&["sh", "-c", "exit 3"])).await, "exit status 3");
    assert_failed(
        &check(exec(&["/nonexistent/tern-check"])).await,
        "cannot run",
    );
    // A timed-out check is killed together with its children.
    let marker = format!(
        "{}.{}",
        7000 + std::process::id() % 1000,
        std::process::id()
    );
    let script = format!("sleep {marker} & sleep {marker}; wait");
    let r = run_check(&spec(exec(&["sh", "-c", &script]), 300)).await;
    assert_failed(&r, "timeout after 300 ms, killed");
    // SIGKILL is delivered at once, but reaping may take a moment: poll briefly.
    let mut left = usize::MAX;
    for _ in 0..50 {
        left = processes_with(&format!("sleep {marker}"));
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0, "sleep {marker} survived the timeout");
}
