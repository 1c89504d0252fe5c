//! `/cdn-cgi/trace` against real `curl`, and the HTTP server against malformed requests.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tern_edge::serve::http::{Request, Response, Router, serve};
use tern_edge::whoami::SiteIdentity;
use tern_edge::whoami::trace::{TRACE_PATH, Trace};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

struct Server {
    addr: SocketAddr,
    shutdown: CancellationToken,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn start(bind: &str) -> std::io::Result<Server> {
    let mut identity = SiteIdentity::new("ams".parse().unwrap());
    identity.iata = Some("AMS".into());
    let identity = Arc::new(identity);
    // The daemon adds its own routes next to the trace, e.g. Prometheus metrics.
    let router = Router::new()
        .route(TRACE_PATH, Trace::new(identity.clone()))
        .route("/metrics", |_: &Request| {
            Response::text(200, "tern_up 1\n").with_header("X-Test", "metrics")
        });
    let listener = TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(serve(listener, Arc::new(router), shutdown.clone()));
    Ok(Server {
        addr,
        shutdown,
        task: Some(task),
    })
}

fn url(addr: SocketAddr, path: &str) -> String {
    format!("http://{addr}{path}")
}

async fn curl(args: &[&str]) -> (bool, String) {
    let out = tokio::process::Command::new("curl")
        .args(["-sS", "--max-time", "5"])
        .args(args)
        .output()
        .await
        .expect("curl must be installed");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn kv(body: &str) -> Vec<(String, String)> {
    body.lines()
        .map(|l| {
            let (k, v) = l.split_once('=').expect("key=value");
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_trace_names_the_site() {
    let s = start("127.0.0.1:0").await.unwrap();
    let (ok, body) = curl(&["-A", "tern test/1 a=b", &url(s.addr, TRACE_PATH)]).await;
    assert!(ok, "{body}");
    let fields = kv(&body);
    let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "h",
            "ip",
            "ts",
            "visit_scheme",
            "uag",
            "colo",
            "http",
            "tls",
            "sni",
            "site",
            "iata",
            "dst"
        ]
    );
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).unwrap().1.clone();
    assert_eq!(get("site"), "ams");
    assert_eq!(get("colo"), "AMS");
    assert_eq!(get("iata"), "AMS");
    assert_eq!(get("ip"), "127.0.0.1");
    assert_eq!(get("dst"), "127.0.0.1");
    assert_eq!(get("h"), s.addr.to_string());
    assert_eq!(get("http"), "http/1.1");
    assert_eq!(get("uag"), "tern test/1 a=b");
    assert_eq!(get("sni"), "off");
    let (secs, millis) = get("ts")
        .split_once('.')
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .unwrap();
    assert_eq!(millis.len(), 3);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let secs: u64 = secs.parse().unwrap();
    assert!(secs.abs_diff(now) < 600, "ts {secs} vs now {now}");

    // JSON on request, both ways.
    for args in [
        vec![url(s.addr, &format!("{TRACE_PATH}?format=json"))],
        vec![
            "-H".to_owned(),
            "Accept: application/json".to_owned(),
            url(s.addr, TRACE_PATH),
        ],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, body) = curl(&args).await;
        assert!(ok);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["site"], "ams");
        assert_eq!(v["ip"], "127.0.0.1");
    }

    // HEAD: headers only, right length.
    let (ok, head) = curl(&["-I", &url(s.addr, TRACE_PATH)]).await;
    assert!(ok);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains("Cache-Control: no-store"), "{head}");
    assert!(head.contains("X-Tern-Site: ams"), "{head}");

    // A route the daemon added, and a missing one.
    let (ok, body) = curl(&["-i", &url(s.addr, "/metrics")]).await;
    assert!(
        ok && body.contains("X-Test: metrics") && body.ends_with("tern_up 1\n"),
        "{body}"
    );
    let (_, code) = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &url(s.addr, "/nope"),
    ])
    .await;
    assert_eq!(code, "404");
    let (_, code) = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-d",
        "x=1",
        &url(s.addr, TRACE_PATH),
    ])
    .await;
    assert_eq!(code, "413", "POST with a body");
    let (_, code) = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-X",
        "DELETE",
        &url(s.addr, TRACE_PATH),
    ])
    .await;
    assert_eq!(code, "405");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_trace_over_ipv6() {
    let Ok(s) = start("[::1]:0").await else {
        // Loopback IPv6 is present on every CI machine we know; fail loudly if not.
        panic!("cannot bind [::1]: this test needs IPv6 loopback");
    };
    let (ok, body) = curl(&[&url(s.addr, TRACE_PATH)]).await;
    assert!(ok, "{body}");
    assert!(body.contains("\nip=::1\n"), "{body}");
    assert!(
        body.contains(&format!("h=[::1]:{}\n", s.addr.port())),
        "{body}"
    );
    assert!(body.contains("\ndst=::1\n"), "{body}");
}

/// Send raw bytes, read the reply until the server closes.
async fn raw(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut c = TcpStream::connect(addr).await.unwrap();
    // The server may answer and close before reading everything: ignore write errors.
    let _ = c.write_all(bytes).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), c.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

fn status(reply: &str) -> &str {
    reply.get(9..12).unwrap_or(reply)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_4xx_and_the_server_lives() {
    let s = start("127.0.0.1:0").await.unwrap();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"hello\r\n\r\n".to_vec(), "400"),
        (b"GET /cdn-cgi/trace HTTP/1.1\r\n\r\n".to_vec(), "400"),
        (b"GET /cdn-cgi/trace HTTP/3\r\nHost: a\r\n\r\n".to_vec(), "505"),
        (b"GET /cdn-cgi/trace HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n".to_vec(), "400"),
        (vec![0xff; 100].into_iter().chain(*b"\r\n\r\n").collect(), "400"),
        (
            format!("GET / HTTP/1.1\r\nHost: a\r\n{}\r\n", "X: y\r\n".repeat(100)).into_bytes(),
            "431",
        ),
        (
            format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(20_000)).into_bytes(),
            "431",
        ),
        (
            b"GET /cdn-cgi/trace HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                .to_vec(),
            "413",
        ),
        // Bare LF line ends are tolerated (RFC 9112 §2.2).
        (b"GET /cdn-cgi/trace HTTP/1.0\n\n".to_vec(), "200"),
    ];
    for (bytes, want) in &cases {
        let reply = raw(s.addr, bytes).await;
        assert_eq!(status(&reply), *want, "{reply}");
    }
    // A client that connects and leaves, and one that sends half a head and leaves.
    drop(TcpStream::connect(s.addr).await.unwrap());
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.write_all(b"GET /cdn-").await.unwrap();
    drop(c);
    let (ok, body) = curl(&[&url(s.addr, TRACE_PATH)]).await;
    assert!(ok && body.contains("site=ams"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_with_an_idle_client() {
    let mut s = start("127.0.0.1:0").await.unwrap();
    let _idle = TcpStream::connect(s.addr).await.unwrap();
    s.shutdown.cancel();
    let t = s.task.take().unwrap();
    let r = tokio::time::timeout(Duration::from_secs(5), t).await;
    assert!(matches!(r, Ok(Ok(Ok(())))), "{r:?}");
}
