//! The site daemon against a real BIRD 2: nothing announced before the checks pass, a failing
//! service withdraws its prefixes within interval × fall plus a small bound, recovery
//! re-announces after rise (and the damping hold-down), a degraded service is announced with
//! its prepend. Times are printed (they are measurements, not assertions).
#![allow(clippy::unwrap_used)]

mod daemon_support;
mod interop_support;

use std::time::{Duration, Instant};

use daemon_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_failure_withdraws_and_recovery_reannounces() {
    let mut lab = Lab::start(&Knobs::default()).await;
    lab.wait_announced().await;

    // Per-upstream attributes: the IPv4 session carries its community, IPv6 its large one, and
    // nothing is prepended while healthy.
    let r4 = lab.route(P4).unwrap();
    assert_eq!(attr(&r4, "BGP.as_path"), Some("65001"), "{r4:?}");
    assert!(
        attr(&r4, "BGP.community")
            .unwrap_or("")
            .contains("(65002,100)"),
        "{r4:?}"
    );
    let r6 = lab.route(P6).unwrap();
    assert!(
        attr(&r6, "BGP.large_community")
            .unwrap_or("")
            .contains("(65001, 1, 2)"),
        "{r6:?}"
    );

    // The service fails: interval 1 s, fall 2 → withdrawn within about 2–3 s.
    let t0 = Instant::now();
    std::fs::remove_file(&lab.health_file).unwrap();
    lab.wait_gone(P4, Duration::from_secs(10)).await;
    let gone4 = t0.elapsed();
    lab.wait_gone(P6, Duration::from_secs(10)).await;
    let gone6 = t0.elapsed();
    let reaction = lab.daemon().view.borrow().reaction;
    println!(
        "MEASURED service failure → gone from BIRD: v4 {:.0} ms, v6 {:.0} ms (interval 1 s, fall 2); \
         announcer reaction (state change → UPDATE handed to the peers): last {:?}, max {:?}",
        gone4.as_secs_f64() * 1000.0,
        gone6.as_secs_f64() * 1000.0,
        reaction.last,
        reaction.max
    );
    assert!(gone6 < Duration::from_secs(10));

    let tern_edge::ctl::proto::Response::Status(status) =
        lab.ctl(tern_edge::ctl::proto::Request::Status).await
    else {
        panic!("not a status reply")
    };
    let prefixes = &status.prefixes;
    assert_eq!(prefixes[0].state, "down", "{status:?}");
    assert!(prefixes[0].why.contains("service web down"), "{status:?}");

    // Recovery: rise 2 and the first flap's hold-down (10 s by default).
    let t1 = Instant::now();
    std::fs::write(&lab.health_file, "ok").unwrap();
    lab.wait_route(P4, "back after recovery", Duration::from_secs(30), |_| true)
        .await;
    lab.wait_route(P6, "back after recovery", Duration::from_secs(30), |_| true)
        .await;
    println!(
        "MEASURED recovery → back at BIRD: {:.1} s (rise 2, hold-down 10 s)",
        t1.elapsed().as_secs_f64()
    );
    assert!(
        t1.elapsed() >= Duration::from_secs(2),
        "re-announced before rise 2 × 1 s"
    );
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_announced_before_rise() {
    let k = Knobs::default();
    let bird_port = free_port();
    let bird = Bird::start(&bird_conf(bird_port));
    let dir = TempDir::new("daemon-norise");
    let mut lab = Lab {
        bird,
        bird_port,
        config: dir.path().join("tern.toml"),
        health_file: dir.path().join("healthy"),
        drain_file: dir.path().join("drain"),
        socket: dir.path().join("ctl.sock"),
        dir,
        daemon: None,
    };
    lab.write_config(&k);
    // No health file: the service never passes.
    lab.daemon = Some(
        tern_edge::daemon::Daemon::start(tern_edge::daemon::RunOptions {
            config: lab.config.clone(),
            site: "lab".into(),
            ctl_socket: None,
            signals: false,
        })
        .await
        .unwrap(),
    );
    wait_for("BIRD tern4 Established", UP, || {
        let st = lab.bird.bgp_state("tern4");
        if st == "Established" { Ok(()) } else { Err(st) }
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        lab.route(P4).is_err(),
        "announced although the service never passed"
    );
    assert!(
        lab.route(P6).is_err(),
        "announced although the service never passed"
    );
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn degraded_service_is_announced_with_its_prepend() {
    let k = Knobs {
        on_failure: r#"{ action = "degrade", prepend = 2, communities = ["65002:666"] }"#.into(),
        ..Knobs::default()
    };
    let mut lab = Lab::start(&k).await;
    lab.wait_announced().await;
    std::fs::remove_file(&lab.health_file).unwrap();
    let r = lab
        .wait_route(P4, "prepended twice", Duration::from_secs(10), |a| {
            attr(a, "BGP.as_path") == Some("65001 65001 65001")
        })
        .await;
    let comms = attr(&r, "BGP.community").unwrap_or("");
    assert!(
        comms.contains("(65002,666)") && comms.contains("(65002,100)"),
        "{r:?}"
    );
    lab.wait_route(P6, "prepended twice", Duration::from_secs(10), |a| {
        attr(a, "BGP.as_path") == Some("65001 65001 65001")
    })
    .await;
    let tern_edge::ctl::proto::Response::Status(status) =
        lab.ctl(tern_edge::ctl::proto::Request::Status).await
    else {
        panic!("not a status reply")
    };
    let st = status.prefixes[0].state.clone();
    assert!(st.starts_with("degraded"), "{st}");
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn md5_sessions_from_a_password_file() {
    let k = Knobs {
        password: Some("tern-lab-md5".into()),
        ..Knobs::default()
    };
    let mut lab = Lab::start(&k).await;
    lab.wait_announced().await;
    let proto = lab.bird.birdc("show protocols all tern4");
    assert!(proto.contains("Established"), "{proto}");
    lab.stop().await;
    lab.wait_gone(P4, Duration::from_secs(5)).await;
}
