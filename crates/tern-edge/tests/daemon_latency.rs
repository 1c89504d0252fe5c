//! Measurement (printed, not asserted): how fast a withdraw leaves the daemon. The upstream is a
//! passive tern peer with an Adj-RIB-In on loopback, so the time is taken when the UPDATE has
//! crossed the socket and been decoded on the far side, without polling (watch channel). Each
//! cycle drains the prefix (→ withdraw) and undrains it (→ announce) through the daemon's
//! control channel; the announcer's own reaction time (prefix state change → routes handed to
//! the peer task) is read from its view.
#![allow(clippy::unwrap_used)]

mod interop_support;

use std::time::{Duration, Instant};

use interop_support::{TempDir, session_config};
use tern_edge::announcer::{Control, DrainScope};
use tern_edge::daemon::{Daemon, RunOptions};
use tern_edge::peer::{Listener, PeerConfig, TransportConfig, spawn_peer};
use tern_types::Asn;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

const CYCLES: usize = 30;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withdraw_latency_state_change_to_update_received() {
    // The far side: passive, keeps an Adj-RIB-In.
    let tracker = TaskTracker::new();
    let cancel = CancellationToken::new();
    let mut listener = Listener::bind("127.0.0.1:0".parse().unwrap(), &[], None).unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut s = session_config(65001);
    s.local_as = Asn(65002);
    s.passive = true;
    s.adj_rib_in = true;
    s.bgp_id = "192.0.2.2".parse().unwrap();
    let far = spawn_peer(
        PeerConfig {
            name: "far".into(),
            remote: "127.0.0.1:1".parse().unwrap(),
            transport: TransportConfig::default(),
            session: s,
        },
        &tracker,
        cancel.clone(),
    );
    listener.add_peer("127.0.0.1".parse().unwrap(), &far);
    listener.spawn(&tracker, cancel.clone());

    let dir = TempDir::new("latency");
    let cfg = dir.path().join("tern.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"
[network]
asn = 65001
allocations = ["192.0.2.0/24"]
lab = true
[[prefix]]
prefix = "192.0.2.0/24"
role = "anycast"
[site.lab]
lat = 0.0
lon = 0.0
router_id = "192.0.2.1"
[site.lab.edge]
ctl_socket = "{}"
drain_file = "{}"
[[site.lab.upstream]]
name = "far"
neighbor = "127.0.0.1"
port = {port}
remote_as = 65002
"#,
            dir.path().join("ctl.sock").display(),
            dir.path().join("drain").display()
        ),
    )
    .unwrap();
    let daemon = Daemon::start(RunOptions {
        config: cfg,
        site: "lab".into(),
        ctl_socket: None,
        signals: false,
    })
    .await
    .unwrap();

    let mut status = far.status.clone();
    let received = |n: usize| move |s: &tern_edge::peer::PeerStatus| s.received_prefixes == Some(n);
    if tokio::time::timeout(Duration::from_secs(30), status.wait_for(received(1)))
        .await
        .is_err()
    {
        panic!(
            "route not received: far {:?}; daemon {:?}",
            far.status.borrow(),
            daemon.view.borrow().upstreams[0].status.borrow()
        );
    }

    let mut withdraw = Vec::new();
    let mut announce = Vec::new();
    let mut reaction = Vec::new();
    for _ in 0..CYCLES {
        for (drained, want, out) in [(true, 0, &mut withdraw), (false, 1, &mut announce)] {
            let t0 = Instant::now();
            daemon
                .control
                .send(Control::Drain {
                    scope: DrainScope::All,
                    drained,
                    reply: None,
                })
                .await
                .unwrap();
            tokio::time::timeout(Duration::from_secs(5), status.wait_for(received(want)))
                .await
                .expect("UPDATE received")
                .unwrap();
            out.push(t0.elapsed());
            reaction.push(daemon.view.borrow().reaction.last);
        }
    }
    let stats = |v: &mut Vec<Duration>| {
        v.sort();
        format!(
            "min {:.3} ms, median {:.3} ms, max {:.3} ms",
            v[0].as_secs_f64() * 1e3,
            v[v.len() / 2].as_secs_f64() * 1e3,
            v[v.len() - 1].as_secs_f64() * 1e3
        )
    };
    println!(
        "MEASURED drain command → withdraw UPDATE received and decoded by the far peer ({CYCLES} runs): {}",
        stats(&mut withdraw)
    );
    println!(
        "MEASURED undrain command → announce UPDATE received ({CYCLES} runs): {}",
        stats(&mut announce)
    );
    println!(
        "MEASURED announcer reaction, prefix state change → routes handed to the peer task: {}",
        stats(&mut reaction)
    );
    assert_eq!(withdraw.len(), CYCLES);

    daemon.shutdown().await;
    tokio::time::timeout(Duration::from_secs(5), status.wait_for(received(0)))
        .await
        .expect("shutdown withdraws")
        .unwrap();
    cancel.cancel();
    tracker.close();
    tokio::time::timeout(Duration::from_secs(5), tracker.wait())
        .await
        .unwrap();
}
