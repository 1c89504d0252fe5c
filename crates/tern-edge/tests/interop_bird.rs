//! Interop against a real BIRD 2 on loopback: sessions with and without TCP-MD5, IPv4 and IPv6
//! routes with communities, large communities and prepends as BIRD sees them, withdrawals,
//! route refresh, BIRD restarts, NOTIFICATIONs from BIRD, and a wrong peer AS both ways.
#![allow(clippy::unwrap_used)]

mod interop_support;

use std::net::SocketAddr;
use std::time::Duration;

use interop_support::*;
use tern_bgp::rib::RouteAttrs;
use tern_bgp::session::{DownReason, State};
use tern_edge::peer::Command;
use tern_types::Prefix;

const UP: Duration = Duration::from_secs(30);

struct Setup {
    bird: Bird,
    v4: Ours,
    v6: Ours,
}

/// BIRD with one session over IPv4 (tern4) and one over IPv6 (tern6), both multihop on
/// loopback, each listening on its own port and connecting to ours.
fn bird_conf(
    bird_port: u16,
    our4: u16,
    our6: u16,
    as_for_us: u32,
    password: Option<&str>,
) -> String {
    let pw = password
        .map(|p| format!("password \"{p}\";"))
        .unwrap_or_default();
    let common = format!(
        "multihop; hold time 30; connect delay time 1; connect retry time 1; \
         error wait time 1, 3; error forget time 10; {pw}"
    );
    format!(
        r#"
router id 192.0.2.100;
protocol device {{ }}
protocol bgp tern4 {{
  local 127.0.0.1 port {bird_port} as {PEER_AS};
  neighbor 127.0.0.1 port {our4} as {as_for_us};
  {common}
  ipv4 {{ import all; export none; }};
}}
protocol bgp tern6 {{
  local ::1 port {bird_port} as {PEER_AS};
  neighbor ::1 port {our6} as {as_for_us};
  {common}
  ipv6 {{ import all; export none; }};
}}
"#
    )
}

fn setup(password: Option<&str>) -> Setup {
    let bird_port = free_port();
    let our4 = free_port();
    let our6 = free_port();
    let bird = Bird::start(&bird_conf(bird_port, our4, our6, OUR_AS, password));
    let md5 = password.map(str::as_bytes);
    let v4 = start_ours(
        "bird4",
        format!("127.0.0.1:{our4}").parse().unwrap(),
        format!("127.0.0.1:{bird_port}").parse().unwrap(),
        session_config(PEER_AS),
        md5,
    );
    let v6 = start_ours(
        "bird6",
        format!("[::1]:{our6}").parse().unwrap(),
        format!("[::1]:{bird_port}").parse().unwrap(),
        session_config(PEER_AS),
        md5,
    );
    Setup { bird, v4, v6 }
}

/// The attribute lines BIRD prints for `prefix` in `show route all`, as `name: value` pairs.
fn bird_route(bird: &Bird, prefix: &str) -> Result<Vec<(String, String)>, String> {
    let out = bird.try_birdc(&format!("show route all for {prefix}"))?;
    let mut lines = out.lines().skip_while(|l| !l.starts_with(prefix));
    if lines.next().is_none() {
        return Err(format!("{prefix} not in BIRD:\n{out}"));
    }
    Ok(lines
        .take_while(|l| l.starts_with('\t') || l.starts_with(' '))
        .filter_map(|l| l.trim().split_once(": "))
        .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
        .collect())
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn route(comms: &[&str], large: &[&str], prepend: u8) -> RouteAttrs {
    RouteAttrs {
        communities: comms.iter().map(|s| s.parse().unwrap()).collect(),
        large_communities: large.iter().map(|s| s.parse().unwrap()).collect(),
        prepend,
        ..RouteAttrs::default()
    }
}

async fn both_up(s: &Setup) {
    s.v4.wait_state(State::Established, UP).await;
    s.v6.wait_state(State::Established, UP).await;
    for proto in ["tern4", "tern6"] {
        wait_for(&format!("BIRD {proto} Established"), UP, || {
            let st = s.bird.bgp_state(proto);
            if st == "Established" { Ok(()) } else { Err(st) }
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bird_routes_with_attributes_withdraw_and_refresh() {
    let s = setup(None);
    both_up(&s).await;
    let n = s.v4.status().negotiated.unwrap();
    assert_eq!(n.peer_as.0, PEER_AS);
    assert!(n.four_octet_as && n.route_refresh);

    let p4: Prefix = "192.0.2.0/24".parse().unwrap();
    let p4b: Prefix = "198.51.100.0/24".parse().unwrap();
    let p6: Prefix = "2001:db8:100::/48".parse().unwrap();
    let a = route(
        &["64600:6939", "65535:666"],
        &["65001:1:2", "4200000000:7:8"],
        2,
    );
    let cmd4 = &s.v4.peer.commands;
    cmd4.send(Command::Announce(p4, a.clone())).await.unwrap();
    cmd4.send(Command::Announce(p4b, route(&["64601:174"], &[], 0)))
        .await
        .unwrap();
    s.v6.peer
        .commands
        .send(Command::Announce(p6, a.clone()))
        .await
        .unwrap();

    let got = wait_for("192.0.2.0/24 in BIRD", UP, || {
        bird_route(&s.bird, "192.0.2.0/24")
    })
    .await;
    assert_eq!(
        attr(&got, "BGP.as_path"),
        Some("65001 65001 65001"),
        "{got:?}"
    );
    assert_eq!(attr(&got, "BGP.origin"), Some("IGP"));
    assert_eq!(attr(&got, "BGP.next_hop"), Some("127.0.0.1"));
    assert_eq!(
        attr(&got, "BGP.community"),
        Some("(64600,6939) (65535,666)")
    );
    assert_eq!(
        attr(&got, "BGP.large_community"),
        Some("(65001, 1, 2) (4200000000, 7, 8)")
    );
    let got = wait_for("198.51.100.0/24 in BIRD", UP, || {
        bird_route(&s.bird, "198.51.100.0/24")
    })
    .await;
    assert_eq!(attr(&got, "BGP.as_path"), Some("65001"));
    assert_eq!(attr(&got, "BGP.community"), Some("(64601,174)"));
    assert_eq!(attr(&got, "BGP.large_community"), None);
    let got = wait_for("2001:db8:100::/48 in BIRD", UP, || {
        bird_route(&s.bird, "2001:db8:100::/48")
    })
    .await;
    assert_eq!(attr(&got, "BGP.as_path"), Some("65001 65001 65001"));
    assert_eq!(
        attr(&got, "BGP.next_hop"),
        Some("::1"),
        "explicit global next hop, never ::"
    );
    assert_eq!(
        attr(&got, "BGP.community"),
        Some("(64600,6939) (65535,666)")
    );
    assert_eq!(
        attr(&got, "BGP.large_community"),
        Some("(65001, 1, 2) (4200000000, 7, 8)")
    );

    // Changing the prepend sends one new UPDATE; BIRD sees the new path.
    cmd4.send(Command::Announce(p4, route(&["64600:6939"], &[], 0)))
        .await
        .unwrap();
    wait_for("new path in BIRD", UP, || {
        let g = bird_route(&s.bird, "192.0.2.0/24")?;
        match attr(&g, "BGP.as_path") {
            Some("65001") => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;

    // Withdraw: gone from BIRD, the other route stays.
    cmd4.send(Command::Withdraw(p4b)).await.unwrap();
    wait_for("198.51.100.0/24 gone", UP, || {
        match bird_route(&s.bird, "198.51.100.0/24") {
            Err(_) => Ok(()),
            Ok(a) => Err(format!("still there: {a:?}")),
        }
    })
    .await;
    assert!(bird_route(&s.bird, "192.0.2.0/24").is_ok());

    // Route refresh: `reload in` makes BIRD send ROUTE-REFRESH; we answer by re-sending.
    let before = s.v4.status().stats;
    s.bird.birdc("reload in tern4");
    wait_for("refresh answered", UP, || {
        let st = s.v4.status().stats;
        if st.refreshes_answered > before.refreshes_answered && st.updates_out > before.updates_out
        {
            Ok(())
        } else {
            Err(format!("{st:?}"))
        }
    })
    .await;
    assert!(bird_route(&s.bird, "192.0.2.0/24").is_ok());
    assert_eq!(
        s.v4.status().state,
        State::Established,
        "refresh does not reset the session"
    );

    // Shutdown: BIRD sees our Cease with the shutdown message and drops the routes.
    s.v4.shutdown().await;
    wait_for("BIRD saw the Cease", UP, || {
        let out = s.bird.birdc("show protocols all tern4");
        if out.contains("Administrative shutdown") {
            Ok(())
        } else {
            Err(out)
        }
    })
    .await;
    assert!(bird_route(&s.bird, "192.0.2.0/24").is_err());
    s.v6.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bird_with_tcp_md5() {
    let s = setup(Some("tern-md5-secret"));
    both_up(&s).await;
    let p6: Prefix = "2001:db8:200::/48".parse().unwrap();
    s.v6.peer
        .commands
        .send(Command::Announce(
            p6,
            route(&["64600:1"], &["65001:9:9"], 1),
        ))
        .await
        .unwrap();
    let got = wait_for("route over MD5 session", UP, || {
        bird_route(&s.bird, "2001:db8:200::/48")
    })
    .await;
    assert_eq!(attr(&got, "BGP.as_path"), Some("65001 65001"));
    assert_eq!(attr(&got, "BGP.large_community"), Some("(65001, 9, 9)"));
    s.v4.shutdown().await;
    s.v6.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bird_md5_mismatch_never_comes_up() {
    let bird_port = free_port();
    let our4 = free_port();
    let our6 = free_port();
    let bird = Bird::start(&bird_conf(bird_port, our4, our6, OUR_AS, Some("right")));
    let v4 = start_ours(
        "bird4",
        format!("127.0.0.1:{our4}").parse().unwrap(),
        format!("127.0.0.1:{bird_port}").parse().unwrap(),
        session_config(PEER_AS),
        Some(b"wrong"),
    );
    // Give it several connect attempts; the kernel drops every segment with a bad signature.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_ne!(v4.status().state, State::Established);
    assert_ne!(bird.bgp_state("tern4"), "Established");
    // After a few silent attempts the peer says what to check (issue 16 §3).
    let hint = wait_for("the TCP-MD5 hint", UP, || {
        v4.status().hint.ok_or_else(|| format!("{:?}", v4.status()))
    })
    .await;
    assert_eq!(
        hint,
        format!(
            "no answer from 127.0.0.1:{bird_port} after 3 attempts: check the TCP-MD5 password and the neighbor address"
        )
    );
    v4.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bird_restart_notification_and_reconnect() {
    let mut s = setup(None);
    both_up(&s).await;
    let p4: Prefix = "203.0.113.0/24".parse().unwrap();
    s.v4.peer
        .commands
        .send(Command::Announce(p4, route(&["64600:2"], &[], 0)))
        .await
        .unwrap();
    wait_for("route in BIRD", UP, || {
        bird_route(&s.bird, "203.0.113.0/24")
    })
    .await;
    let ups = s.v4.status().stats.established_count;

    // `birdc disable`: BIRD sends Cease / Administrative shutdown; we go down and report it.
    s.bird.birdc("disable tern4 \"tern interop\"");
    let st = wait_for("our side saw BIRD's NOTIFICATION", UP, || {
        let st = s.v4.status();
        match &st.last_down {
            Some(DownReason::NotificationReceived(n)) => Ok(n.clone()),
            _ => Err(format!("{st:?}")),
        }
    })
    .await;
    assert_eq!((st.code, st.subcode), (6, 2), "{st}");
    assert_eq!(st.shutdown_communication(), Some("tern interop"));
    assert_ne!(s.v4.status().state, State::Established);
    s.bird.birdc("enable tern4");
    s.v4.wait_state(State::Established, UP).await;
    wait_for("route back after enable", UP, || {
        bird_route(&s.bird, "203.0.113.0/24")
    })
    .await;

    // BIRD killed and restarted: we see the connection die, back off, reconnect, re-announce.
    s.bird.restart();
    wait_for("session re-established after restart", UP, || {
        let st = s.v4.status();
        if st.state == State::Established && st.stats.established_count >= ups + 2 {
            Ok(())
        } else {
            Err(format!("{st:?}"))
        }
    })
    .await;
    wait_for("route back after restart", UP, || {
        bird_route(&s.bird, "203.0.113.0/24")
    })
    .await;
    s.v4.shutdown().await;
    s.v6.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_peer_as_is_refused_both_ways() {
    // We expect AS65099 but BIRD is AS65002: we send OPEN Message Error / Bad Peer AS.
    let bird_port = free_port();
    let our4 = free_port();
    let our6 = free_port();
    let bird = Bird::start(&bird_conf(bird_port, our4, our6, OUR_AS, None));
    let ours = start_ours(
        "bird4",
        format!("127.0.0.1:{our4}").parse().unwrap(),
        format!("127.0.0.1:{bird_port}").parse().unwrap(),
        session_config(65099),
        None,
    );
    let n = wait_for("we refused the peer", UP, || {
        match ours.status().last_down {
            Some(DownReason::NotificationSent(n)) => Ok(n),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    assert_eq!((n.code, n.subcode), (2, 2));
    wait_for("BIRD's last error says Bad peer AS", UP, || {
        let out = bird.birdc("show protocols all tern4");
        if out.contains("Received: Bad peer AS") {
            Ok(())
        } else {
            Err(out)
        }
    })
    .await;
    ours.shutdown().await;
    drop(bird);

    // BIRD expects AS65099 for us: BIRD sends Bad Peer AS and we report it.
    let bird_port = free_port();
    let our4 = free_port();
    let our6 = free_port();
    let bird = Bird::start(&bird_conf(bird_port, our4, our6, 65099, None));
    let ours = start_ours(
        "bird4",
        SocketAddr::from(([127, 0, 0, 1], our4)),
        SocketAddr::from(([127, 0, 0, 1], bird_port)),
        session_config(PEER_AS),
        None,
    );
    let n = wait_for("BIRD refused us", UP, || match ours.status().last_down {
        Some(DownReason::NotificationReceived(n)) => Ok(n),
        other => Err(format!("{other:?}")),
    })
    .await;
    assert_eq!((n.code, n.subcode), (2, 2));
    assert!(
        bird.birdc("show protocols all tern4")
            .contains("Bad peer AS")
    );
    ours.shutdown().await;
}
