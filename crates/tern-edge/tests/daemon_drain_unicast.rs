//! `tern ctl drain` without a prefix keeps the site's unicast prefix announced (the operator
//! must still reach the box), `--all` drains it too (issue 16 §9), against a real BIRD 2.
#![allow(clippy::unwrap_used)]

mod daemon_support;
mod interop_support;

use std::time::Duration;

use daemon_support::*;
use tern_edge::ctl::proto::{Request, Response};

const UNICAST: &str = "2001:db8:201::/48";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_keeps_the_unicast_prefix_unless_all() {
    let mut lab = Lab::start(&Knobs::default()).await;
    lab.wait_announced().await;
    // Add the site's unicast prefix (no service: a static announcement) by reload.
    let text = tern_toml(&lab, &Knobs::default()).replacen(
        "[site.lab]\n",
        &format!(
            "[[prefix]]\nprefix = \"{UNICAST}\"\nrole = \"unicast\"\nsite = \"lab\"\n\n[site.lab]\n"
        ),
        1,
    );
    std::fs::write(&lab.config, text).unwrap();
    let r = lab.ctl(Request::Reload).await;
    assert!(r.is_ok(), "{r:?}");
    lab.wait_route(UNICAST, "announced after reload", UP, |_| true)
        .await;

    let r = lab
        .ctl(Request::Drain {
            prefix: None,
            all: false,
        })
        .await;
    assert!(r.is_ok(), "{r:?}");
    let Response::Done(done) = r else {
        panic!("not a done reply")
    };
    let lines = done.lines.join("\n");
    assert!(lines.contains("drained 2 prefix(es)"), "{lines}");
    assert!(
        lines.contains(&format!(
            "kept announced (unicast, to reach the box): {UNICAST}"
        )),
        "{lines}"
    );
    lab.wait_gone(P4, Duration::from_secs(5)).await;
    lab.wait_gone(P6, Duration::from_secs(5)).await;
    // Still there a moment later.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(lab.route(UNICAST).is_ok(), "the unicast prefix must stay");

    let r = lab
        .ctl(Request::Drain {
            prefix: None,
            all: true,
        })
        .await;
    assert!(r.is_ok(), "{r:?}");
    lab.wait_gone(UNICAST, Duration::from_secs(5)).await;
    let Response::Status(st) = lab.ctl(Request::Status).await else {
        panic!("not a status reply")
    };
    assert_eq!(st.ctl_drained[0], "all", "{st:?}");

    let r = lab
        .ctl(Request::Undrain {
            prefix: None,
            all: true,
        })
        .await;
    assert!(r.is_ok(), "{r:?}");
    for p in [P4, P6, UNICAST] {
        lab.wait_route(
            p,
            "back after undrain --all",
            Duration::from_secs(5),
            |_| true,
        )
        .await;
    }
    lab.stop().await;
}
