//! Interop against a real GoBGP (gobgpd 3.x) on loopback: IPv4 and IPv6 sessions with and
//! without TCP-MD5, routes with communities, large communities and prepends as GoBGP stores
//! them (`gobgp global rib -j`), withdrawals, a NOTIFICATION from GoBGP (`disable`), and a
//! gobgpd restart.
#![allow(clippy::unwrap_used)]

mod interop_support;

use std::time::Duration;

use interop_support::*;
use serde_json::Value;
use tern_bgp::rib::RouteAttrs;
use tern_bgp::session::{DownReason, State};
use tern_edge::peer::Command;
use tern_types::Prefix;

const UP: Duration = Duration::from_secs(30);

fn neighbor(addr: &str, our_port: u16, password: Option<&str>, afi: &str) -> String {
    let pw = password
        .map(|p| format!("    auth-password = \"{p}\"\n"))
        .unwrap_or_default();
    format!(
        r#"
[[neighbors]]
  [neighbors.config]
    neighbor-address = "{addr}"
    peer-as = {OUR_AS}
{pw}  [neighbors.transport.config]
    remote-port = {our_port}
    local-address = "{addr}"
  [neighbors.timers.config]
    connect-retry = 1
    hold-time = 30
  [neighbors.ebgp-multihop.config]
    enabled = true
    multihop-ttl = 2
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "{afi}"
"#
    )
}

fn gobgp_conf(port: u16, our4: u16, our6: u16, password: Option<&str>) -> String {
    format!(
        r#"
[global.config]
  as = {PEER_AS}
  router-id = "192.0.2.101"
  port = {port}
  local-address-list = ["127.0.0.1", "::1"]
{}{}"#,
        neighbor("127.0.0.1", our4, password, "ipv4-unicast"),
        neighbor("::1", our6, password, "ipv6-unicast"),
    )
}

struct Setup {
    gobgp: Gobgp,
    v4: Ours,
    v6: Ours,
}

fn setup(password: Option<&str>) -> Setup {
    let port = free_port();
    let our4 = free_port();
    let our6 = free_port();
    let gobgp = Gobgp::start(&gobgp_conf(port, our4, our6, password));
    let md5 = password.map(str::as_bytes);
    // GoBGP treats loopback next hops as invalid (treat-as-withdraw), so give explicit ones.
    let mut sc = session_config(PEER_AS);
    sc.next_hop_v4 = Some("192.0.2.1".parse().unwrap());
    sc.next_hop_v6 = Some("2001:db8::1".parse().unwrap());
    let v4 = start_ours(
        "gobgp4",
        format!("127.0.0.1:{our4}").parse().unwrap(),
        format!("127.0.0.1:{port}").parse().unwrap(),
        sc.clone(),
        md5,
    );
    let v6 = start_ours(
        "gobgp6",
        format!("[::1]:{our6}").parse().unwrap(),
        format!("[::1]:{port}").parse().unwrap(),
        sc,
        md5,
    );
    Setup { gobgp, v4, v6 }
}

async fn both_up(s: &Setup) {
    s.v4.wait_state(State::Established, UP).await;
    s.v6.wait_state(State::Established, UP).await;
    for n in ["127.0.0.1", "::1"] {
        wait_for(&format!("GoBGP neighbor {n} established"), UP, || {
            let out = s.gobgp.try_gobgp(&format!("neighbor {n}"))?;
            if out.contains("BGP state = ESTABLISHED") {
                Ok(())
            } else {
                Err(out)
            }
        })
        .await;
    }
}

/// A route as GoBGP holds it: AS path, next hop, communities, large communities.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    as_path: Vec<u64>,
    next_hop: String,
    communities: Vec<String>,
    large: Vec<String>,
}

fn gobgp_route(g: &Gobgp, family: &str, prefix: &str) -> Result<Seen, String> {
    let out = g.try_gobgp(&format!("global rib -a {family} -j"))?;
    let v: Value = serde_json::from_str(&out).map_err(|e| format!("{e}: {out}"))?;
    let path = v
        .get(prefix)
        .and_then(|p| p.get(0))
        .ok_or_else(|| format!("{prefix} not in GoBGP: {out}"))?;
    let attrs = path["attrs"].as_array().ok_or("no attrs")?;
    let mut seen = Seen {
        as_path: vec![],
        next_hop: String::new(),
        communities: vec![],
        large: vec![],
    };
    for a in attrs {
        match a["type"].as_u64() {
            Some(2) => {
                for seg in a["as_paths"].as_array().into_iter().flatten() {
                    seen.as_path.extend(
                        seg["asns"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_u64),
                    );
                }
            }
            Some(3) => seen.next_hop = a["nexthop"].as_str().unwrap_or_default().to_owned(),
            Some(14) => seen.next_hop = a["nexthop"].as_str().unwrap_or_default().to_owned(),
            Some(8) => {
                seen.communities = a["communities"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_u64)
                    .map(|c| format!("{}:{}", c >> 16, c & 0xffff))
                    .collect()
            }
            Some(32) => {
                seen.large = a["value"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|l| format!("{}:{}:{}", l["ASN"], l["LocalData1"], l["LocalData2"]))
                    .collect()
            }
            _ => {}
        }
    }
    Ok(seen)
}

fn route(comms: &[&str], large: &[&str], prepend: u8) -> RouteAttrs {
    RouteAttrs {
        communities: comms.iter().map(|s| s.parse().unwrap()).collect(),
        large_communities: large.iter().map(|s| s.parse().unwrap()).collect(),
        prepend,
        ..RouteAttrs::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gobgp_routes_withdraw_notification_restart() {
    let mut s = setup(None);
    both_up(&s).await;
    let p4: Prefix = "192.0.2.0/24".parse().unwrap();
    let p4b: Prefix = "198.51.100.0/24".parse().unwrap();
    let p6: Prefix = "2001:db8:300::/48".parse().unwrap();
    let a = route(
        &["64600:6939", "65000:100"],
        &["65001:1:2", "4200000000:7:8"],
        2,
    );
    s.v4.peer
        .commands
        .send(Command::Announce(p4, a.clone()))
        .await
        .unwrap();
    s.v4.peer
        .commands
        .send(Command::Announce(p4b, route(&[], &[], 0)))
        .await
        .unwrap();
    s.v6.peer
        .commands
        .send(Command::Announce(p6, a.clone()))
        .await
        .unwrap();

    let want = |nh: &str| Seen {
        as_path: vec![65001, 65001, 65001],
        next_hop: nh.to_owned(),
        communities: vec!["64600:6939".into(), "65000:100".into()],
        large: vec!["65001:1:2".into(), "4200000000:7:8".into()],
    };
    let got = wait_for("v4 route in GoBGP", UP, || {
        gobgp_route(&s.gobgp, "ipv4", "192.0.2.0/24")
    })
    .await;
    assert_eq!(got, want("192.0.2.1"));
    let got = wait_for("v6 route in GoBGP", UP, || {
        gobgp_route(&s.gobgp, "ipv6", "2001:db8:300::/48")
    })
    .await;
    assert_eq!(got, want("2001:db8::1"));
    let got = wait_for("plain v4 route", UP, || {
        gobgp_route(&s.gobgp, "ipv4", "198.51.100.0/24")
    })
    .await;
    assert_eq!(got.as_path, vec![65001]);
    assert!(got.communities.is_empty() && got.large.is_empty());

    // Withdraw.
    s.v4.peer
        .commands
        .send(Command::Withdraw(p4b))
        .await
        .unwrap();
    wait_for("withdrawn from GoBGP", UP, || {
        match gobgp_route(&s.gobgp, "ipv4", "198.51.100.0/24") {
            Err(_) => Ok(()),
            Ok(r) => Err(format!("still there: {r:?}")),
        }
    })
    .await;
    assert!(gobgp_route(&s.gobgp, "ipv4", "192.0.2.0/24").is_ok());

    // Route refresh is exercised against BIRD (`birdc reload in`): GoBGP 3.10's `softresetin`
    // re-filters its own Adj-RIB-In and sends no ROUTE-REFRESH (checked: its counters stay 0).

    // NOTIFICATION from GoBGP.
    s.gobgp.gobgp("neighbor 127.0.0.1 disable");
    let n = wait_for("GoBGP's NOTIFICATION", UP, || {
        match s.v4.status().last_down {
            Some(DownReason::NotificationReceived(n)) => Ok(n),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    assert_eq!(n.code, 6, "Cease: {n}");
    s.gobgp.gobgp("neighbor 127.0.0.1 enable");
    s.v4.wait_state(State::Established, UP).await;
    wait_for("route back after enable", UP, || {
        gobgp_route(&s.gobgp, "ipv4", "192.0.2.0/24")
    })
    .await;

    // gobgpd killed and started again: we reconnect and re-announce.
    let conf = std::fs::read_to_string(s.gobgp.dir.path().join("gobgpd.toml")).unwrap();
    s.gobgp.kill();
    s.v4.wait_state(State::Active, UP).await;
    s.gobgp = Gobgp::start(&conf);
    wait_for("v6 route back after restart", UP, || {
        gobgp_route(&s.gobgp, "ipv6", "2001:db8:300::/48")
    })
    .await;
    wait_for("v4 route back after restart", UP, || {
        gobgp_route(&s.gobgp, "ipv4", "192.0.2.0/24")
    })
    .await;
    s.v4.shutdown().await;
    s.v6.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gobgp_with_tcp_md5() {
    let s = setup(Some("tern-gobgp-md5"));
    both_up(&s).await;
    let p4: Prefix = "203.0.113.0/24".parse().unwrap();
    s.v4.peer
        .commands
        .send(Command::Announce(p4, route(&["64600:3"], &[], 1)))
        .await
        .unwrap();
    let got = wait_for("route over MD5", UP, || {
        gobgp_route(&s.gobgp, "ipv4", "203.0.113.0/24")
    })
    .await;
    assert_eq!(got.as_path, vec![65001, 65001]);
    assert_eq!(got.communities, vec!["64600:3".to_owned()]);
    s.v4.shutdown().await;
    s.v6.shutdown().await;
}
