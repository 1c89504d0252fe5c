//! A real GoBGP (gobgpd 3.x) as a second oracle, over loopback: our OPEN and KEEPALIVE must be
//! accepted, GoBGP's UPDATEs must decode to the attributes it was told to send, and the UPDATEs
//! we encode must show up in GoBGP's Adj-RIB-In with exactly our attributes.
//!
//! The test plays a minimal BGP speaker by hand (just enough to reach Established): the real
//! session FSM lives in `tern_bgp::session` and is tested there.
#![allow(clippy::unwrap_used)]

mod wire_common;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tern_bgp::wire::*;
use tern_types::{Asn, Community, LargeCommunity, Prefix};
use wire_common::*;

const GOBGP_AS: u32 = 64512;
const OUR_AS: u32 = 4_200_000_001;

/// gobgpd in its own temp dir, killed on drop.
struct Gobgpd {
    child: Child,
    dir: PathBuf,
    api: String,
}

impl Drop for Gobgpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Gobgpd {
    fn start(peer_port: u16) -> Gobgpd {
        let api_port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir =
            std::env::temp_dir().join(format!("tern-wire-gobgp-{}-{api_port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let conf = format!(
            r#"[global.config]
  as = {GOBGP_AS}
  router-id = "192.0.2.1"
  port = -1
[[neighbors]]
  [neighbors.config]
    neighbor-address = "127.0.0.1"
    peer-as = {OUR_AS}
  [neighbors.transport.config]
    remote-port = {peer_port}
    local-address = "127.0.0.1"
  [neighbors.timers.config]
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
"#
        );
        std::fs::write(dir.join("gobgpd.toml"), conf).unwrap();
        let child = Command::new("gobgpd")
            .arg("-f")
            .arg(dir.join("gobgpd.toml"))
            .args([
                "--api-hosts",
                &format!("127.0.0.1:{api_port}"),
                "--pprof-disable",
                "-l",
                "warn",
            ])
            .stdout(std::fs::File::create(dir.join("gobgpd.log")).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .expect("gobgpd (Debian package gobgpd) must be installed for this test");
        Gobgpd {
            child,
            dir,
            api: api_port.to_string(),
        }
    }

    fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("gobgp")
            .args(["-u", "127.0.0.1", "-p", &self.api])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "gobgp {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

/// Our end of the session: a socket and a receive buffer.
struct Peer {
    sock: TcpStream,
    buf: Vec<u8>,
    ctx: Codec,
}

impl Peer {
    fn send(&mut self, msg: &Message) {
        let mut out = Vec::new();
        encode(msg, &self.ctx, &mut out).unwrap();
        self.sock.write_all(&out).unwrap();
    }

    /// The next message, within `deadline`.
    fn recv(&mut self, deadline: Instant) -> Message {
        loop {
            if let Some((m, used)) =
                decode(&self.buf, &self.ctx).unwrap_or_else(|e| panic!("GoBGP sent {e}"))
            {
                self.buf.drain(..used);
                return m;
            }
            assert!(Instant::now() < deadline, "timed out waiting for GoBGP");
            let mut chunk = [0u8; 4096];
            match self.sock.read(&mut chunk) {
                Ok(0) => panic!("GoBGP closed the session"),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("read: {e}"),
            }
        }
    }
}

fn accept(listener: &TcpListener, deadline: Instant) -> TcpStream {
    listener.set_nonblocking(true).unwrap();
    loop {
        match listener.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).unwrap();
                s.set_read_timeout(Some(Duration::from_millis(200)))
                    .unwrap();
                return s;
            }
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("GoBGP did not connect: {e}"),
        }
    }
}

fn establish(gobgp_port: &TcpListener) -> Peer {
    let deadline = Instant::now() + Duration::from_secs(60);
    let sock = accept(gobgp_port, deadline);
    let mut peer = Peer {
        sock,
        buf: Vec::new(),
        ctx: Codec::default(),
    };
    let Message::Open(theirs) = peer.recv(deadline) else {
        panic!("expected OPEN")
    };
    assert_eq!(theirs.my_as, Asn(GOBGP_AS));
    let ours = Open {
        version: 4,
        my_as: Asn(OUR_AS),
        hold_time: 90,
        bgp_id: Ipv4Addr::new(192, 0, 2, 2),
        capabilities: vec![
            Capability::Multiprotocol {
                afi: AFI_IPV4,
                safi: SAFI_UNICAST,
            },
            Capability::Multiprotocol {
                afi: AFI_IPV6,
                safi: SAFI_UNICAST,
            },
            Capability::RouteRefresh,
            Capability::FourOctetAs(Asn(OUR_AS)),
        ],
    };
    assert!(theirs.has(&Capability::FourOctetAs(Asn(0))), "{theirs:?}");
    assert!(
        theirs
            .multiprotocol()
            .any(|f| f == (AFI_IPV6, SAFI_UNICAST)),
        "{theirs:?}"
    );
    peer.send(&Message::Open(ours.clone()));
    peer.send(&Message::Keepalive);
    peer.ctx = Codec::negotiated(&ours, &theirs);
    assert!(peer.ctx.four_octet_as);
    assert_eq!(
        peer.recv(deadline),
        Message::Keepalive,
        "GoBGP did not accept our OPEN"
    );
    peer
}

/// UPDATEs from GoBGP until every prefix in `want` was announced; returns them.
fn collect_updates(peer: &mut Peer, want: &[Prefix]) -> Vec<Update> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut got = Vec::new();
    loop {
        let done = want
            .iter()
            .all(|p| got.iter().any(|u: &Update| u.announced().any(|a| a == p)));
        if done {
            return got;
        }
        match peer.recv(deadline) {
            Message::Update(u) => got.push(u),
            Message::Keepalive => peer.send(&Message::Keepalive),
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn gobgp_accepts_our_messages_and_we_decode_its_updates() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let gobgp = Gobgpd::start(listener.local_addr().unwrap().port());
    let mut peer = establish(&listener);

    // GoBGP → us.
    gobgp.cli(&[
        "global",
        "rib",
        "add",
        "198.51.100.0/24",
        "origin",
        "igp",
        "nexthop",
        "192.0.2.1",
        "med",
        "10",
        "community",
        "64512:100,no-export",
        "large-community",
        "64512:1:2",
    ]);
    gobgp.cli(&[
        "global",
        "rib",
        "add",
        "-a",
        "ipv6",
        "2001:db8:1::/48",
        "nexthop",
        "2001:db8::1",
        "community",
        "64512:200",
    ]);
    let updates = collect_updates(&mut peer, &[p("198.51.100.0/24"), p("2001:db8:1::/48")]);
    let v4 = updates
        .iter()
        .find(|u| u.nlri.contains(&p("198.51.100.0/24")))
        .unwrap();
    assert_eq!(v4.attrs.origin, Some(Origin::Igp));
    assert_eq!(
        v4.attrs.as_path,
        Some(AsPath::from_sequence([Asn(GOBGP_AS)]))
    );
    assert_eq!(v4.attrs.med, Some(10));
    assert_eq!(
        v4.attrs.communities,
        vec![Community::new(64512, 100), Community::NO_EXPORT]
    );
    assert_eq!(
        v4.attrs.large_communities,
        vec![LargeCommunity::new(64512, 1, 2)]
    );
    assert!(v4.attrs.next_hop.is_some());
    let v6 = updates
        .iter()
        .find(|u| u.announced().any(|a| *a == p("2001:db8:1::/48")))
        .unwrap();
    let mp = v6.attrs.mp_reach.as_ref().unwrap();
    assert_eq!((mp.afi, mp.safi), (AFI_IPV6, SAFI_UNICAST));
    assert!(
        matches!(mp.next_hop, MpNextHop::V6 { global, .. } if !global.is_unspecified()),
        "{mp:?}"
    );
    assert_eq!(v6.attrs.communities, vec![Community::new(64512, 200)]);

    // Us → GoBGP: IPv4 and IPv6 with prepends, communities, large communities, MED.
    let mut path = AsPath::from_sequence([Asn(OUR_AS)]);
    path.prepend(Asn(OUR_AS), 2);
    let attrs = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(path),
        // GoBGP treats a loopback next hop as invalid (treat-as-withdraw).
        next_hop: Some(Ipv4Addr::new(192, 0, 2, 2)),
        med: Some(7),
        communities: vec![Community::new(64512, 6939)],
        large_communities: vec![LargeCommunity::new(OUR_AS, 1, 2)],
        mp_reach: Some(MpReach {
            afi: AFI_IPV6,
            safi: SAFI_UNICAST,
            next_hop: MpNextHop::V6 {
                global: "2001:db8::2".parse().unwrap(),
                link_local: None,
            },
            nlri: vec![],
        }),
        ..Default::default()
    };
    for u in updates_for_announce(
        &attrs,
        &[p("203.0.113.0/24"), p("2001:db8:100::/48")],
        &peer.ctx,
    )
    .unwrap()
    {
        peer.send(&Message::Update(u));
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let (v4, v6) = loop {
        let v4 = gobgp.cli(&["neighbor", "127.0.0.1", "adj-in", "-a", "ipv4", "-j"]);
        let v6 = gobgp.cli(&["neighbor", "127.0.0.1", "adj-in", "-a", "ipv6", "-j"]);
        let has = |rib: &str, key: &str| {
            serde_json::from_str::<serde_json::Value>(rib)
                .ok()
                .and_then(|j| j.get(key).and_then(|v| v.as_array()).map(|a| !a.is_empty()))
                .unwrap_or(false)
        };
        if has(&v4, "203.0.113.0/24") && has(&v6, "2001:db8:100::/48") {
            break (v4, v6);
        }
        assert!(
            Instant::now() < deadline,
            "GoBGP never showed our routes: {v4} {v6}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    for (rib, key) in [(&v4, "203.0.113.0/24"), (&v6, "2001:db8:100::/48")] {
        let json: serde_json::Value = serde_json::from_str(rib).unwrap();
        let attrs = &json[key][0]["attrs"];
        let attr = |ty: u64| {
            attrs
                .as_array()
                .and_then(|a| a.iter().find(|x| x["type"] == ty))
                .unwrap_or_else(|| panic!("no attribute {ty} in {rib}"))
                .clone()
        };
        assert_eq!(attr(1)["value"], 0, "ORIGIN IGP");
        assert_eq!(
            attr(2)["as_paths"][0]["asns"],
            serde_json::json!([OUR_AS, OUR_AS, OUR_AS])
        );
        assert_eq!(attr(4)["metric"], 7);
        assert_eq!(
            attr(8)["communities"],
            serde_json::json!([Community::new(64512, 6939).0])
        );
        assert_eq!(
            attr(32)["value"],
            serde_json::json!([{"ASN": OUR_AS, "LocalData1": 1, "LocalData2": 2}])
        );
    }
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&v4).unwrap()["203.0.113.0/24"][0]["attrs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["type"] == 3)
            .unwrap()["nexthop"],
        "192.0.2.2"
    );
    assert!(v6.contains("2001:db8::2"), "{v6}");

    // A Cease with a shutdown communication closes the session, and GoBGP reads our text
    // (RFC 9003) back out of it.
    peer.send(&Message::Notification(
        Notification::administrative_shutdown("tern wire test done"),
    ));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = std::fs::read_to_string(gobgp.dir.join("gobgpd.log")).unwrap_or_default();
        let state = gobgp.cli(&["neighbor", "127.0.0.1"]);
        if log.contains(r#""Communicated-Reason":"tern wire test done""#)
            && !state.contains("ESTABLISHED")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "GoBGP did not take our Cease: {state}\n{log}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
