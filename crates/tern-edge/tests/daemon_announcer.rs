//! The announcer's shell and the reload diff without BGP neighbors: model → site config, the
//! control socket against bad requests, and the diff table of a reload. Peers point at a closed
//! port, so nothing leaves the host. (The announcer's decisions — health in, routes out, drains
//! — are tested on its sans-IO core in `announcer_core.rs`.)
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::Duration;

use tern_edge::announcer::{Announcer, Control};
use tern_edge::config::SiteConfig;
use tern_edge::config::diff::{UpstreamChange, diff};
use tern_edge::daemon::parse_drain_file;
use tern_health::Degrade;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

fn toml(community: &str, hold: &str, neighbor4: &str) -> String {
    format!(
        r#"
[network]
asn = 65001
allocations = ["2001:db8::/32", "192.0.2.0/24"]
lab = true

[[prefix]]
prefix = "192.0.2.0/24"
role = "anycast"

[[prefix]]
prefix = "2001:db8:1::/48"
role = "anycast"

[site.lab]
code = "tst"
lat = 1.0
lon = 1.0
router_id = "192.0.2.1"

[site.lab.edge]
ctl_socket = "/nonexistent/ctl.sock"
drain = "prepend"
drain_prepend = 2

[[site.lab.upstream]]
name = "up4"
neighbor = "{neighbor4}"
port = 9
remote_as = 65002
communities = ["{community}"]
{hold}

[[site.lab.upstream]]
name = "up6"
neighbor = "::1"
port = 9
remote_as = 65003
large_communities = ["65001:1:2"]

[[service]]
name = "web"
prefixes = ["192.0.2.0/24", "2001:db8:1::/48"]
on_failure = {{ action = "degrade", prepend = 1, communities = ["65002:666"] }}

[[service.check]]
kind = "tcp"
target = "127.0.0.1:9"
"#
    )
}

fn config(text: &str) -> SiteConfig {
    let model = tern_model::parse(Path::new("/lab/tern.toml"), text).unwrap();
    assert!(!model.has_errors(), "{:?}", model.diagnostics);
    SiteConfig::from_network(&model.network, "lab", Path::new("/lab/tern.toml")).unwrap()
}

#[test]
fn model_to_site_config() {
    let c = config(&toml("65002:100", "", "127.0.0.1"));
    assert_eq!(c.identity.colo(), "TST");
    assert_eq!(c.upstreams.len(), 2);
    let up4 = &c.upstreams[0];
    assert_eq!(up4.peer.remote, "127.0.0.1:9".parse().unwrap());
    assert_eq!(up4.peer.session.peer_as.0, 65002);
    assert_eq!(up4.peer.session.families, vec![tern_types::Afi::Ipv4]);
    assert_eq!(up4.export.communities[0].to_string(), "65002:100");
    assert_eq!(c.checks.len(), 1);
    assert_eq!(c.checks[0].name, "web/tcp");
    assert_eq!(c.prefixes.len(), 2);
    assert_eq!(c.prefixes[0].services[0].service, "web");
    // Attributes while degraded: intent communities plus the degrade extras.
    let a = up4.attrs(&Degrade {
        prepend: 1,
        communities: vec!["65002:666".parse().unwrap()],
        large_communities: vec![],
    });
    assert_eq!(a.prepend, 1);
    assert_eq!(a.communities.len(), 2);
}

#[test]
fn reload_diff_table() {
    let old = config(&toml("65002:100", "", "127.0.0.1"));
    let same = diff(&old, &config(&toml("65002:100", "", "127.0.0.1")));
    assert!(same.is_empty(), "{same:?}");
    let d = diff(&old, &config(&toml("65002:200", "", "127.0.0.1")));
    assert_eq!(d.upstreams[0], ("up4".into(), UpstreamChange::Attributes));
    assert_eq!(d.upstreams[1], ("up6".into(), UpstreamChange::Unchanged));
    let d = diff(
        &old,
        &config(&toml("65002:100", "hold_time = 90", "127.0.0.1")),
    );
    assert_eq!(d.upstreams[0].1, UpstreamChange::Reset(vec!["hold time"]));
    let d = diff(&old, &config(&toml("65002:200", "", "127.0.0.2")));
    assert_eq!(d.upstreams[0].1, UpstreamChange::Reset(vec!["neighbor"]));
    assert!(d.summary().iter().any(|l| l.contains("session reset")));
}

#[test]
fn drain_file_syntax() {
    assert_eq!(parse_drain_file("").0, vec![None]);
    assert_eq!(parse_drain_file("# all of it\nall\n").0, vec![None]);
    let (set, bad) = parse_drain_file("192.0.2.0/24\n  # comment\nnot-a-prefix\n");
    assert_eq!(set, vec![Some("192.0.2.0/24".parse().unwrap())]);
    assert_eq!(bad.len(), 1);
}

#[tokio::test]
async fn control_socket_survives_bad_requests() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    let cfg = config(&toml("65002:100", "", "127.0.0.1"));
    let tracker = TaskTracker::new();
    let cancel = CancellationToken::new();
    let (health_tx, _health_rx) = mpsc::unbounded_channel();
    let (a, view) = Announcer::new(
        "/lab/tern.toml".into(),
        cfg,
        health_tx,
        tracker.clone(),
        cancel.clone(),
    );
    let (control, control_rx) = mpsc::channel(16);
    let (_reports, reports_rx) = mpsc::channel(16);
    let task = tokio::spawn(a.run(control_rx, reports_rx));
    let dir = std::env::temp_dir().join(format!("tern-ctl-bad-{}", std::process::id()));
    let sock = dir.join("ctl.sock");
    let (listener, _lock) = tern_edge::ctl::bind(&sock).unwrap();
    tracker.spawn(tern_edge::ctl::serve(
        listener,
        view,
        control.clone(),
        cancel.clone(),
    ));

    let stream = tokio::net::UnixStream::connect(&sock).await.unwrap();
    let (rd, mut wr) = stream.into_split();
    let mut rd = BufReader::new(rd);
    let long = format!("{{\"cmd\":\"status\",\"x\":\"{}\"}}\n", "a".repeat(10_000));
    for bad in [
        "garbage\n",
        "{\"cmd\":\"explode\"}\n",
        "{\"cmd\":\"drain\",\"prefix\":\"nope\"}\n",
        long.as_str(),
    ] {
        wr.write_all(bad.as_bytes()).await.unwrap();
        let mut line = String::new();
        rd.read_line(&mut line).await.unwrap();
        let r: tern_edge::ctl::proto::Response = serde_json::from_str(&line).unwrap();
        assert!(!r.is_ok() && r.error().is_some(), "{bad:?} → {line}");
    }
    // The same connection still answers a good request.
    wr.write_all(b"{\"cmd\":\"status\"}\n").await.unwrap();
    let mut line = String::new();
    rd.read_line(&mut line).await.unwrap();
    let r: tern_edge::ctl::proto::Response = serde_json::from_str(&line).unwrap();
    let tern_edge::ctl::proto::Response::Status(st) = r else {
        panic!("not a status reply: {line}")
    };
    assert_eq!(st.site, "lab");

    control.send(Control::Shutdown).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap();
    cancel.cancel();
    tracker.close();
    tokio::time::timeout(Duration::from_secs(5), tracker.wait())
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
