//! GeoDNS end to end on loopback: two "sites" serve their real `/cdn-cgi/trace` (whoami) on
//! 127.0.0.11 and 127.0.0.12, the watcher checks them, the GeoDNS handler runs on the shared
//! DNS server, and real `dig` asks it: best site by the latency map with ECS, failover when a
//! site dies within interval × fall + 1 s, NXDOMAIN/NODATA with SOA, REFUSED, CHAOS, NSID,
//! TC then TCP, and a stalled TCP client that blocks nobody.

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use tern_edge::announcer::{PrefixView, Reaction, View};
use tern_edge::geodns::{GeoDns, watch};
use tern_edge::serve::dns::{DnsLimits, serve_tcp, serve_udp};
use tern_edge::serve::http::{Router, serve};
use tern_edge::whoami::SiteIdentity;
use tern_edge::whoami::trace::{TRACE_PATH, Trace};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

const INTERVAL_MS: u64 = 200;
const FALL: u64 = 2;

fn toml(port: u16, map: &Path) -> String {
    format!(
        r#"
[network]
asn = 65001
allocations = ["2001:db8::/32", "192.0.2.0/24"]
lab = true
[[prefix]]
prefix = "2001:db8::/48"
role = "anycast"
[[prefix]]
prefix = "192.0.2.0/24"
role = "anycast"
[site.aaa]
lat = 52.37
lon = 4.90
router_id = "192.0.2.1"
[site.bbb]
lat = 40.71
lon = -74.01
router_id = "192.0.2.2"
[dns]
zone = "example.net"
ns = ["ns1.example.net"]
identity = "geo-test"
map = "{map}"
[dns.health]
port = {port}
interval = "{INTERVAL_MS}ms"
timeout = "150ms"
rise = 1
fall = {FALL}
[dns.site.aaa]
v4 = "127.0.0.11"
[dns.site.bbb]
v4 = "127.0.0.12"
[[dns.record]]
name = "ns1"
type = "A"
value = "192.0.2.53"
[[dns.name]]
name = "www"
answer = "best"
"#,
        map = map.display()
    ) + &(0..40)
        .map(|i| {
            format!(
                "[[dns.record]]\nname = \"big\"\ntype = \"TXT\"\nvalue = \"text record {i:02} padded to be longer\"\n"
            )
        })
        .collect::<String>()
}

const MAP: &str = r#"{"version": 1, "prefixes": [
  {"prefix": "198.51.100.0/24", "clients": 1, "sites": [{"site": "aaa", "rtt_ms": 5, "samples": 1},
                                                      {"site": "bbb", "rtt_ms": 60, "samples": 1}]}]}"#;

/// A site's trace endpoint on `addr`.
async fn site(name: &str, listener: TcpListener) -> CancellationToken {
    let identity = Arc::new(SiteIdentity::new(name.parse().unwrap()));
    let router = Router::new().route(TRACE_PATH, Trace::new(identity));
    let stop = CancellationToken::new();
    tokio::spawn(serve(listener, Arc::new(router), stop.clone()));
    stop
}

async fn dig(server: SocketAddr, args: &[&str]) -> String {
    let out = tokio::process::Command::new("dig")
        .arg(format!("@{}", server.ip()))
        .args(["-p", &server.port().to_string(), "+time=2", "+tries=1"])
        .args(args)
        .output()
        .await
        .expect("dig (dnsutils) must be installed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn short(server: SocketAddr, args: &[&str]) -> String {
    let mut a = vec!["+short"];
    a.extend_from_slice(args);
    dig(server, &a).await.trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn geodns_against_dig() {
    // Two sites on one port at two loopback addresses.
    let l1 = TcpListener::bind("127.0.0.11:0").await.unwrap();
    let port = l1.local_addr().unwrap().port();
    let l2 = TcpListener::bind(("127.0.0.12", port)).await.unwrap();
    let stop_a = site("aaa", l1).await;
    let _stop_b = site("bbb", l2).await;

    let dir = std::env::temp_dir().join(format!("tern-geodns-edge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let map = dir.join("map.json");
    std::fs::write(&map, MAP).unwrap();
    let model = tern_model::parse(&dir.join("tern.toml"), &toml(port, &map)).unwrap();
    assert!(!model.has_errors(), "{:#?}", model.diagnostics);
    let dns = model.network.dns.unwrap();

    let up = Arc::new(AtomicU64::new(0));
    let handler = Arc::new(GeoDns::new(
        tern_geodns::build(&dns, "host").unwrap(),
        up.clone(),
        None,
    ));
    let shutdown = CancellationToken::new();
    let tracker = TaskTracker::new();
    watch::spawn(
        &dns.sites,
        &dns.health,
        up.clone(),
        None,
        &tracker,
        shutdown.clone(),
    );
    let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let server = udp.local_addr().unwrap();
    let tcp = TcpListener::bind(server).await.unwrap();
    let limits = DnsLimits::default();
    tokio::spawn(serve_udp(udp, handler.clone(), limits, shutdown.clone()));
    tokio::spawn(serve_tcp(tcp, handler.clone(), limits, shutdown.clone()));

    let ecs = "+subnet=198.51.100.0/24";
    // Both sites come up after one good check each.
    let deadline = Instant::now() + Duration::from_secs(10);
    while handler.up().0 != 0b11 {
        assert!(Instant::now() < deadline, "sites never came up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        short(server, &["www.example.net", "A", ecs]).await,
        "127.0.0.11"
    );
    let full = dig(server, &["www.example.net", "A", ecs]).await;
    assert!(full.contains("status: NOERROR"), "{full}");
    assert!(full.contains("flags: qr aa rd;"), "AA, no RA: {full}");
    assert!(
        full.contains("CLIENT-SUBNET: 198.51.100.0/24/24"),
        "scope 24 echoed: {full}"
    );
    // Without ECS the resolver (127.0.0.1) is not in the map and there is no geo file.
    let plain = dig(server, &["www.example.net", "A"]).await;
    assert!(
        plain.contains("192.0.2.1") && !plain.contains("CLIENT-SUBNET"),
        "{plain}"
    );

    // Negative answers and refusals.
    let nx = dig(server, &["nope.example.net", "A"]).await;
    assert!(
        nx.contains("status: NXDOMAIN") && nx.contains("IN\tSOA\tns1.example.net."),
        "{nx}"
    );
    let nodata = dig(server, &["www.example.net", "MX"]).await;
    assert!(
        nodata.contains("status: NOERROR")
            && nodata.contains("ANSWER: 0")
            && nodata.contains("SOA"),
        "{nodata}"
    );
    let refused = dig(server, &["example.org", "A"]).await;
    assert!(refused.contains("status: REFUSED"), "{refused}");
    // CHAOS and NSID.
    assert_eq!(
        short(server, &["id.server", "CH", "TXT"]).await,
        "\"geo-test\""
    );
    let nsid = dig(server, &["+nsid", "ns1.example.net", "A"]).await;
    assert!(nsid.contains("NSID: 67 65 6f 2d 74 65 73 74"), "{nsid}");
    // A large answer: TC over UDP with a 1232 buffer, dig retries over TCP and gets it all.
    let big = dig(server, &["big.example.net", "TXT", "+ignore"]).await;
    assert!(big.contains("flags: qr aa tc rd;"), "{big}");
    let big = dig(server, &["big.example.net", "TXT"]).await;
    assert!(big.contains("ANSWER: 40,"), "{big}");

    // A stalled TCP client (half a length prefix, never more) does not block a query over TCP.
    let mut stalled = TcpStream::connect(server).await.unwrap();
    stalled.write_all(&[0]).await.unwrap();
    assert_eq!(
        short(server, &["+tcp", "www.example.net", "A", ecs]).await,
        "127.0.0.11"
    );

    // Site aaa dies: its answers move to bbb within interval × fall + 1 s.
    stop_a.cancel();
    let died = Instant::now();
    let bound = Duration::from_millis(INTERVAL_MS * FALL + 1000);
    loop {
        let a = short(server, &["www.example.net", "A", ecs]).await;
        if a == "127.0.0.12" {
            break;
        }
        assert_eq!(a, "127.0.0.11");
        assert!(
            died.elapsed() < bound + Duration::from_secs(2),
            "no failover after {:?}",
            died.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = died.elapsed();
    println!(
        "failover: {} ms (bound {} ms)",
        took.as_millis(),
        bound.as_millis()
    );
    assert!(took <= bound, "failover took {took:?}, bound {bound:?}");
    drop(stalled);
    shutdown.cancel();
    tracker.close();
    tracker.wait().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// A view of a site daemon with one anycast and one unicast prefix in the given states.
fn view(anycast: tern_health::PrefixState, unicast: tern_health::PrefixState) -> View {
    let prefix = |p: &str, state| PrefixView {
        prefix: p.parse().unwrap(),
        state,
        why: String::new(),
        since: Instant::now(),
        transitions: 0,
    };
    View {
        site: "aaa".parse().unwrap(),
        config: "tern.toml".into(),
        started: Instant::now(),
        upstreams: Vec::new(),
        prefixes: vec![
            prefix("2001:db8::/48", anycast),
            prefix("2001:db8:1::/48", unicast),
        ],
        checks: Vec::new(),
        drain_file: "drain".into(),
        ctl_drained: Vec::new(),
        file_drained: Vec::new(),
        reloads: (0, 0, None),
        reaction: Reaction::default(),
    }
}

/// `tern ctl drain` (the anycast prefix Drained in the daemon's view) shows as `drain=on` in the
/// trace, and the GeoDNS watcher takes the site out at the next check, without waiting for
/// `fall`; a drained unicast prefix alone is no service drain; undrain brings it back at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drained_site_is_out_of_the_answers_at_once() {
    use tern_health::PrefixState::{Drained, Up};
    let l = TcpListener::bind("127.0.0.11:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::watch::channel(view(Up, Up));
    let identity = Arc::new(SiteIdentity::new("aaa".parse().unwrap()));
    let trace = Trace::new(identity).with_drain(rx, &["2001:db8:1::/48".parse().unwrap()]);
    let router = Router::new().route(TRACE_PATH, trace);
    let stop = CancellationToken::new();
    tokio::spawn(serve(l, Arc::new(router), stop.clone()));

    let dir = std::env::temp_dir().join(format!("tern-geodns-drain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let map = dir.join("map.json");
    std::fs::write(&map, MAP).unwrap();
    // fall = 5: a drain seen through `fall` would take 5 intervals.
    let text = toml(port, &map).replace(&format!("fall = {FALL}"), "fall = 5");
    let model = tern_model::parse(&dir.join("tern.toml"), &text).unwrap();
    let dns = model.network.dns.unwrap();
    let up = Arc::new(AtomicU64::new(0));
    let (ev_tx, mut ev_rx) = tokio::sync::mpsc::unbounded_channel();
    let tracker = TaskTracker::new();
    watch::spawn(
        &dns.sites,
        &dns.health,
        up.clone(),
        Some(ev_tx),
        &tracker,
        stop.clone(),
    );
    let bit = |up: &AtomicU64| up.load(std::sync::atomic::Ordering::Acquire) & 1;
    let wait = |want: u64, why: &'static str| {
        let up = up.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(5);
            while bit(&up) != want {
                assert!(Instant::now() < deadline, "{why}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    wait(1, "aaa never came up").await;

    // The body says drain=off while nothing is drained.
    let body = get_trace(port).await;
    assert!(
        body.contains("\nsite=aaa\n") && body.ends_with("\ndrain=off\nservice=up\n"),
        "{body}"
    );

    // Only the unicast prefix drained: still in the answers.
    tx.send(view(Up, Drained(None))).unwrap();
    tokio::time::sleep(Duration::from_millis(INTERVAL_MS * 3)).await;
    assert_eq!(
        bit(&up),
        1,
        "a unicast-only drain must not take the site out"
    );

    // The service drained: out within one check (interval + timeout), far below fall × interval.
    tx.send(view(Drained(None), Up)).unwrap();
    assert!(
        get_trace(port)
            .await
            .ends_with("\ndrain=on\nservice=down\n")
    );
    let drained = Instant::now();
    wait(0, "drained site still in the answers").await;
    let took = drained.elapsed();
    assert!(
        took < Duration::from_millis(INTERVAL_MS * 5),
        "drain seen only after {took:?}: waited for fall?"
    );
    let mut reasons = Vec::new();
    while let Ok(e) = ev_rx.try_recv() {
        reasons.push(e.reason);
    }
    assert!(reasons.iter().any(|r| r.contains("drained")), "{reasons:?}");

    // Undrain: back at the next check (the machine stayed up).
    tx.send(view(Up, Up)).unwrap();
    wait(1, "undrained site not back").await;

    // The site's own service check failed (anycast withdrawn): service=down, out at once too.
    tx.send(view(tern_health::PrefixState::Down, Up)).unwrap();
    assert!(
        get_trace(port)
            .await
            .ends_with("\ndrain=off\nservice=down\n")
    );
    wait(0, "site with its service down still in the answers").await;
    tx.send(view(Up, Up)).unwrap();
    wait(1, "site not back after its service came back").await;

    stop.cancel();
    tracker.close();
    tracker.wait().await;
    let _ = std::fs::remove_dir_all(&dir);
}

async fn get_trace(port: u16) -> String {
    let buf = tern_edge::probe::http::fetch("127.0.0.11", port, TRACE_PATH)
        .await
        .unwrap();
    String::from_utf8(tern_edge::probe::http::body(&buf).unwrap()).unwrap()
}
