//! Operating the site daemon against a real BIRD 2: drain and undrain (control socket and drain
//! file), reload as a diff (new communities on the open session, a refused bad file), the
//! "which site" responders and `/metrics`.
#![allow(clippy::unwrap_used)]

mod daemon_support;
mod interop_support;

use std::process::Command;
use std::time::{Duration, Instant};

use daemon_support::*;
use tern_edge::ctl::proto::{Request, Response};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_and_undrain_by_ctl_and_by_file() {
    let mut lab = Lab::start(&Knobs::default()).await;
    lab.wait_announced().await;

    // One prefix by the control socket.
    let t0 = Instant::now();
    let r = lab
        .ctl(Request::Drain {
            prefix: Some(P4.parse().unwrap()),
            all: false,
        })
        .await;
    assert!(r.is_ok(), "{r:?}");
    let gone = lab.wait_gone(P4, Duration::from_secs(5)).await;
    println!(
        "MEASURED tern ctl drain → gone from BIRD: {:.0} ms",
        t0.elapsed().as_secs_f64() * 1000.0
    );
    assert!(gone < Duration::from_secs(5));
    assert!(lab.route(P6).is_ok(), "draining {P4} must leave {P6} alone");
    let Response::Status(st) = lab.ctl(Request::Status).await else {
        panic!("not a status reply")
    };
    assert_eq!(st.prefixes[0].state, "drained (withdrawn)", "{st:?}");
    assert_eq!(st.ctl_drained[0], P4, "{st:?}");
    let r = lab
        .ctl(Request::Undrain {
            prefix: Some(P4.parse().unwrap()),
            all: false,
        })
        .await;
    assert!(r.is_ok(), "{r:?}");
    lab.wait_route(P4, "back after undrain", Duration::from_secs(5), |_| true)
        .await;

    // A prefix the site does not announce is refused with the reason.
    let r = lab
        .ctl(Request::Drain {
            prefix: Some("2001:db8:99::/48".parse().unwrap()),
            all: false,
        })
        .await;
    assert!(
        r.error().unwrap().message.contains("not announced"),
        "{r:?}"
    );

    // The drain file (empty: everything), then removed.
    std::fs::write(&lab.drain_file, "").unwrap();
    lab.wait_gone(P4, Duration::from_secs(5)).await;
    lab.wait_gone(P6, Duration::from_secs(5)).await;
    std::fs::remove_file(&lab.drain_file).unwrap();
    lab.wait_route(
        P4,
        "back after the drain file is gone",
        Duration::from_secs(5),
        |_| true,
    )
    .await;
    lab.wait_route(
        P6,
        "back after the drain file is gone",
        Duration::from_secs(5),
        |_| true,
    )
    .await;

    // A drain file naming one prefix.
    std::fs::write(&lab.drain_file, format!("# maintenance\n{P6}\n")).unwrap();
    lab.wait_gone(P6, Duration::from_secs(5)).await;
    assert!(lab.route(P4).is_ok());
    std::fs::remove_file(&lab.drain_file).unwrap();
    lab.wait_route(P6, "back", Duration::from_secs(5), |_| true)
        .await;
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_with_prepend_keeps_the_route_less_attractive() {
    let k = Knobs {
        drain: "drain = \"prepend\"\ndrain_prepend = 3\ndrain_communities = [\"65535:0\"]".into(),
        ..Knobs::default()
    };
    let mut lab = Lab::start(&k).await;
    lab.wait_announced().await;
    let r = lab
        .ctl(Request::Drain {
            prefix: None,
            all: false,
        })
        .await;
    assert!(r.is_ok(), "{r:?}");
    let a = lab
        .wait_route(P4, "drained with prepend", Duration::from_secs(5), |a| {
            attr(a, "BGP.as_path") == Some("65001 65001 65001 65001")
        })
        .await;
    assert!(
        attr(&a, "BGP.community")
            .unwrap_or("")
            .contains("(65535,0)"),
        "{a:?}"
    );
    lab.ctl(Request::Undrain {
        prefix: None,
        all: false,
    })
    .await;
    lab.wait_route(P4, "undrained", Duration::from_secs(5), |a| {
        attr(a, "BGP.as_path") == Some("65001")
    })
    .await;
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_changes_communities_on_the_open_session_and_refuses_bad_files() {
    let mut lab = Lab::start(&Knobs::default()).await;
    lab.wait_announced().await;
    let since4 = lab.since("tern4");
    let since6 = lab.since("tern6");
    assert!(since4.contains("Established"), "{since4}");

    // New communities: UPDATE on the open session, no reset.
    let k = Knobs {
        communities4: vec!["65002:200".into(), "65002:300".into()],
        ..Knobs::default()
    };
    lab.write_config(&k);
    let r = lab.ctl(Request::Reload).await;
    assert!(r.is_ok(), "{r:?}");
    let Response::Done(done) = r else {
        panic!("not a done reply")
    };
    let lines = done.lines.join("\n");
    assert!(
        lines.contains("bird4: export attributes changed"),
        "{lines}"
    );
    let a = lab
        .wait_route(P4, "new communities", Duration::from_secs(5), |a| {
            let c = attr(a, "BGP.community").unwrap_or("");
            c.contains("(65002,200)") && c.contains("(65002,300)") && !c.contains("(65002,100)")
        })
        .await;
    assert_eq!(attr(&a, "BGP.as_path"), Some("65001"));
    assert_eq!(
        lab.since("tern4"),
        since4,
        "the IPv4 session was reset by an attribute change"
    );
    assert_eq!(lab.since("tern6"), since6, "the IPv6 session was touched");
    let Response::Status(st) = lab.ctl(Request::Status).await else {
        panic!("not a status reply")
    };
    assert_eq!(st.sessions[0].established_count, 1, "{st:?}");
    assert_eq!(st.sessions[0].state, "Established", "{st:?}");

    // A broken file is refused with the reason; the old configuration keeps running.
    std::fs::write(&lab.config, "[network]\nasn = \"not an AS\"\n").unwrap();
    let r = lab.ctl(Request::Reload).await;
    assert!(!r.is_ok(), "{r:?}");
    let why = r.error().unwrap().message.clone();
    assert!(
        why.contains("refused") && why.contains("tern.toml"),
        "{why}"
    );
    // An invalid (but parseable) file too: a community that does not parse.
    let k_bad = Knobs {
        communities4: vec!["65002:banana".into()],
        ..Knobs::default()
    };
    lab.write_config(&k_bad);
    let r = lab.ctl(Request::Reload).await;
    assert!(r.error().unwrap().message.contains("banana"), "{r:?}");
    assert!(
        attr(&lab.route(P4).unwrap(), "BGP.community")
            .unwrap()
            .contains("(65002,200)")
    );
    assert_eq!(lab.since("tern4"), since4);

    // A transport change (hold time) resets that session only.
    let text = tern_toml(&lab, &k).replacen(
        "source = \"127.0.0.1\"",
        "source = \"127.0.0.1\"\nhold_time = 20",
        1,
    );
    std::fs::write(&lab.config, text).unwrap();
    let r = lab.ctl(Request::Reload).await;
    assert!(r.is_ok(), "{r:?}");
    let Response::Done(done) = r else {
        panic!("not a done reply")
    };
    assert!(
        done.lines
            .iter()
            .any(|l| l.contains("hold time changed (session reset)")),
        "{done:?}"
    );
    wait_for("tern4 re-established after the reset", UP, || {
        let s = lab.since("tern4");
        if s != since4 && s.contains("Established") {
            Ok(())
        } else {
            Err(s)
        }
    })
    .await;
    lab.wait_route(P4, "re-announced after the reset", UP, |_| true)
        .await;
    assert_eq!(
        lab.since("tern6"),
        since6,
        "the IPv6 session was reset by an IPv4-only change"
    );
    lab.stop().await;
}

fn tool(bin: &str, args: &[&str]) -> String {
    let out = Command::new(bin)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{bin} is needed for this test: {e}"));
    assert!(
        out.status.success(),
        "{bin} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn which_site_over_dns_and_http_and_metrics() {
    let mut lab = Lab::start(&Knobs::default()).await;
    lab.wait_announced().await;
    let bound = lab.daemon().bound.clone();
    let dns = bound.dns[0];
    let port = dns.port().to_string();
    let out = tool(
        "dig",
        &[
            "@127.0.0.1",
            "-p",
            &port,
            "+short",
            "+time=2",
            "CH",
            "TXT",
            "id.server",
        ],
    );
    assert_eq!(out.trim(), "\"lab\"", "{out}");
    let out = tool(
        "dig",
        &[
            "@127.0.0.1",
            "-p",
            &port,
            "+short",
            "+time=2",
            "CH",
            "TXT",
            "hostname.bind",
        ],
    );
    assert_eq!(out.trim(), "\"lab\"", "{out}");
    let out = tool(
        "dig",
        &[
            "@127.0.0.1",
            "-p",
            &port,
            "+nsid",
            "+time=2",
            "CH",
            "TXT",
            "id.server",
        ],
    );
    assert!(out.contains("NSID") && out.contains("\"lab\""), "{out}");

    let url = format!("http://{}/cdn-cgi/trace", bound.http[0]);
    let out = tool("curl", &["-fsS", "--max-time", "5", &url]);
    assert!(out.lines().any(|l| l == "site=lab"), "{out}");
    assert!(out.lines().any(|l| l == "colo=TST"), "{out}");

    let metrics = tool(
        "curl",
        &[
            "-fsS",
            "--max-time",
            "5",
            &format!("http://{}/metrics", bound.metrics.unwrap()),
        ],
    );
    for name in tern_edge::metrics::NAMES {
        assert!(
            metrics.contains(&format!("# TYPE {name} ")),
            "{name} missing:\n{metrics}"
        );
    }
    assert!(
        metrics.contains("tern_bgp_session_state{upstream=\"bird4\"} 6"),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!(
            "tern_prefix_state{{prefix=\"{P4}\",state=\"up\"}} 1"
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains("tern_check_up{check=\"web/exec\",service=\"web\"} 1"),
        "{metrics}"
    );
    // The check is up, so it has passed at least `rise` runs: the counters come from the
    // health loop's status watch.
    let ok_runs: u64 = metrics
        .lines()
        .find_map(|l| {
            l.strip_prefix(
                "tern_check_runs_total{check=\"web/exec\",service=\"web\",result=\"ok\"} ",
            )
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    assert!(ok_runs >= 1, "no passed runs counted:\n{metrics}");
    let docs = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/metrics.md"
    ))
    .unwrap();
    for name in tern_edge::metrics::NAMES {
        assert!(
            docs.contains(&format!("`{name}`")),
            "docs/metrics.md does not list {name}"
        );
    }
    lab.stop().await;
}
