//! Event-log tests: the session driven input by input with a fake clock, checking every output,
//! state and RFC 4271 §8.1 event on the way. Malformed inputs must each end in the right
//! NOTIFICATION, a close and Idle, never a panic.

#![allow(clippy::unwrap_used)]

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use tern_types::{Afi, Asn, Prefix};

use super::*;
use crate::rib::RouteAttrs;
use crate::wire::{
    self, AFI_IPV4, AFI_IPV6, Capability, Codec, Message, Open, RouteRefresh, RouteRefreshSubtype,
    SAFI_UNICAST, Update,
};

const LOCAL_ID: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const PEER_ID: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);

fn cfg() -> SessionConfig {
    let mut c = SessionConfig::new(Asn(65001), Asn(65002), LOCAL_ID);
    c.jitter_seed = 42;
    c.next_hop_v4 = Some(LOCAL_ID);
    c.next_hop_v6 = Some("2001:db8::1".parse().unwrap());
    c
}

fn peer_open(hold: u16) -> Open {
    Open {
        version: 4,
        my_as: Asn(65002),
        hold_time: hold,
        bgp_id: PEER_ID,
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
            Capability::EnhancedRouteRefresh,
            Capability::FourOctetAs(Asn(65002)),
        ],
    }
}

fn enc(m: &Message) -> Vec<u8> {
    let mut b = Vec::new();
    wire::encode(
        m,
        &Codec {
            four_octet_as: true,
            extended_messages: false,
        },
        &mut b,
    )
    .unwrap();
    b
}

fn p(s: &str) -> Prefix {
    s.parse().unwrap()
}

/// Test bench: a session, a fake clock and helpers to read what it sent.
struct Bench {
    s: Session,
    now: Instant,
}

/// What the session did, with transmitted bytes decoded.
#[derive(Debug, PartialEq)]
#[allow(clippy::large_enum_variant)]
enum Did {
    Connect(ConnId),
    Sent(ConnId, Message),
    Close(ConnId),
    Up,
    Down(DownReason),
}

impl Bench {
    fn new(c: SessionConfig) -> Self {
        Bench {
            s: Session::new(c),
            now: Instant::now(),
        }
    }
    fn input(&mut self, i: Input<'_>) -> Vec<Did> {
        self.s.handle_input(i, self.now);
        self.drain()
    }
    fn advance(&mut self, d: Duration) -> Vec<Did> {
        self.now += d;
        self.s.handle_timeout(self.now);
        self.drain()
    }
    fn drain(&mut self) -> Vec<Did> {
        let mut v = Vec::new();
        while let Some(o) = self.s.poll_output() {
            match o {
                Output::Connect(c) => v.push(Did::Connect(c)),
                Output::Close(c) => v.push(Did::Close(c)),
                Output::Established(_) => v.push(Did::Up),
                Output::Down(r) => v.push(Did::Down(r)),
                Output::Transmit(c, bytes) => {
                    let codec = Codec {
                        four_octet_as: true,
                        extended_messages: false,
                    };
                    let mut buf = &bytes[..];
                    while !buf.is_empty() {
                        let (m, n) = wire::decode(buf, &codec).unwrap().unwrap();
                        v.push(Did::Sent(c, m));
                        buf = &buf[n..];
                    }
                }
            }
        }
        v
    }
    fn events(&mut self) -> Vec<(State, Event, State)> {
        self.s
            .take_transitions()
            .into_iter()
            .map(|t| (t.from, t.event, t.to))
            .collect()
    }
    /// Start active, connect, exchange OPEN and KEEPALIVE: Established on ConnId returned.
    fn establish(&mut self, hold: u16) -> ConnId {
        let d = self.input(Input::Start);
        let Did::Connect(c) = d[0] else {
            panic!("{d:?}")
        };
        self.input(Input::Connected(c));
        self.input(Input::Received(c, &enc(&Message::Open(peer_open(hold)))));
        let d = self.input(Input::Received(c, &enc(&Message::Keepalive)));
        assert!(d.contains(&Did::Up), "{d:?}");
        assert_eq!(self.s.state(), State::Established);
        self.s.take_transitions();
        c
    }
}

fn notif(d: &[Did]) -> Option<(u8, u8)> {
    d.iter().find_map(|x| match x {
        Did::Sent(_, Message::Notification(n)) => Some((n.code, n.subcode)),
        _ => None,
    })
}

fn updates(d: &[Did]) -> Vec<Update> {
    d.iter()
        .filter_map(|x| match x {
            Did::Sent(_, Message::Update(u)) => Some(u.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn active_open_reaches_established_with_timers() {
    let mut b = Bench::new(cfg());
    assert_eq!(b.s.state(), State::Idle);
    let d = b.input(Input::Start);
    let c = ConnId(1);
    assert_eq!(d, vec![Did::Connect(c)]);
    assert_eq!(b.s.state(), State::Connect);
    let d = b.input(Input::Connected(c));
    let Did::Sent(_, Message::Open(ours)) = &d[0] else {
        panic!("{d:?}")
    };
    assert_eq!(ours.my_as, Asn(65001));
    assert!(
        ours.capabilities
            .contains(&Capability::FourOctetAs(Asn(65001)))
    );
    assert!(
        ours.capabilities
            .contains(&Capability::EnhancedRouteRefresh)
    );
    assert_eq!(b.s.state(), State::OpenSent);
    // Hold timer while waiting for OPEN is the large one.
    assert_eq!(b.s.poll_timeout(), Some(b.now + DEFAULT_OPEN_HOLD_TIME));
    let d = b.input(Input::Received(c, &enc(&Message::Open(peer_open(9)))));
    assert_eq!(d, vec![Did::Sent(c, Message::Keepalive)]);
    assert_eq!(b.s.state(), State::OpenConfirm);
    let d = b.input(Input::Received(c, &enc(&Message::Keepalive)));
    assert_eq!(d, vec![Did::Up]);
    assert_eq!(
        b.events(),
        vec![
            (State::Idle, Event::ManualStart, State::Connect),
            (State::Connect, Event::TcpCrAcked, State::OpenSent),
            (State::OpenSent, Event::BgpOpen, State::OpenConfirm),
            (State::OpenConfirm, Event::KeepAliveMsg, State::Established),
        ]
    );
    let n = b.s.negotiated().unwrap().clone();
    assert_eq!(n.hold_time, 9, "min(30, 9)");
    assert_eq!(n.families, vec![Afi::Ipv4, Afi::Ipv6]);
    assert!(n.enhanced_route_refresh);
    // Keepalive every hold/3 = 3 s; a KEEPALIVE from the peer keeps the hold timer fresh.
    assert_eq!(b.s.poll_timeout(), Some(b.now + Duration::from_secs(3)));
    let d = b.advance(Duration::from_secs(3));
    assert_eq!(d, vec![Did::Sent(c, Message::Keepalive)]);
    b.input(Input::Received(c, &enc(&Message::Keepalive)));
    b.advance(Duration::from_secs(3));
    b.advance(Duration::from_secs(3));
    assert_eq!(b.s.state(), State::Established);
    // Then silence: 9 s after the peer's last message the hold timer fires.
    let d = b.advance(Duration::from_secs(3));
    assert_eq!(notif(&d), Some((4, 0)), "{d:?}");
    assert!(d.contains(&Did::Close(c)));
    assert!(matches!(
        d.last(),
        Some(Did::Down(DownReason::NotificationSent(_)))
    ));
    assert_eq!(b.s.state(), State::Idle);
    assert!(b.events().iter().any(|e| e.1 == Event::HoldTimerExpires));
    // After the back-off, AutomaticStart connects again.
    let t = b.s.poll_timeout().unwrap();
    assert!(t > b.now && t <= b.now + DEFAULT_CONNECT_RETRY);
    let d = b.advance(t - b.now);
    assert!(matches!(d[..], [Did::Connect(_)]), "{d:?}");
    assert_eq!(b.events()[0].1, Event::AutomaticStart);
}

#[test]
fn hold_time_zero_means_no_keepalives_and_no_hold_timer() {
    let mut b = Bench::new(cfg());
    b.establish(0);
    assert_eq!(b.s.poll_timeout(), None);
    assert!(b.advance(Duration::from_secs(3600)).is_empty());
    assert_eq!(b.s.state(), State::Established);
}

#[test]
fn passive_waits_then_accepts() {
    let mut c = cfg();
    c.passive = true;
    let mut b = Bench::new(c);
    // Idle refuses connections.
    let early = b.s.next_conn_id();
    assert_eq!(b.input(Input::Accepted(early)), vec![Did::Close(early)]);
    assert!(b.input(Input::Start).is_empty());
    assert_eq!(b.s.state(), State::Active);
    assert_eq!(b.s.poll_timeout(), None, "passive never connects out");
    let id = b.s.next_conn_id();
    let d = b.input(Input::Accepted(id));
    assert!(matches!(&d[..], [Did::Sent(_, Message::Open(_))]));
    assert_eq!(
        b.events(),
        vec![
            (
                State::Idle,
                Event::ManualStartWithPassiveTcpEstablishment,
                State::Active
            ),
            (
                State::Active,
                Event::TcpConnectionConfirmed,
                State::OpenSent
            ),
        ]
    );
    b.input(Input::Received(id, &enc(&Message::Open(peer_open(30)))));
    b.input(Input::Received(id, &enc(&Message::Keepalive)));
    assert_eq!(b.s.state(), State::Established);
}

#[test]
fn connect_failures_back_off_exponentially_with_seeded_jitter() {
    let delays = |seed| {
        let mut c = cfg();
        c.jitter_seed = seed;
        let mut b = Bench::new(c);
        let d = b.input(Input::Start);
        let Some(Did::Connect(mut cur)) = d.into_iter().next() else {
            panic!()
        };
        let mut v = Vec::new();
        for _ in 0..5 {
            b.input(Input::ConnectFailed(cur));
            assert_eq!(b.s.state(), State::Active);
            let t = b.s.poll_timeout().unwrap();
            v.push(t - b.now);
            let d = b.advance(t - b.now);
            let [Did::Connect(next)] = d[..] else {
                panic!("{d:?}")
            };
            cur = next;
            assert_eq!(b.s.state(), State::Connect);
        }
        v
    };
    let a = delays(1);
    for (i, d) in a.iter().enumerate() {
        let raw = DEFAULT_CONNECT_RETRY * (1 << i);
        assert!(
            *d <= raw && *d >= raw.mul_f64(0.75),
            "attempt {i}: {d:?} vs {raw:?}"
        );
    }
    assert_eq!(a, delays(1));
    assert_ne!(a, delays(2));
}

#[test]
fn hung_connect_is_abandoned_by_the_connect_retry_timer() {
    let mut b = Bench::new(cfg());
    b.input(Input::Start);
    let d = b.advance(DEFAULT_CONNECT_RETRY);
    assert_eq!(d, vec![Did::Close(ConnId(1))]);
    assert_eq!(b.s.state(), State::Active);
    let t = b.s.poll_timeout().unwrap();
    let d = b.advance(t - b.now);
    assert_eq!(d, vec![Did::Connect(ConnId(2))]);
    // A late success report for the abandoned attempt is closed, not used.
    assert_eq!(
        b.input(Input::Connected(ConnId(1))),
        vec![Did::Close(ConnId(1))]
    );
}

#[test]
fn wrong_peer_as_is_refused_with_bad_peer_as() {
    let mut b = Bench::new(cfg());
    b.input(Input::Start);
    b.input(Input::Connected(ConnId(1)));
    let mut o = peer_open(30);
    o.my_as = Asn(65099);
    o.capabilities
        .retain(|c| !matches!(c, Capability::FourOctetAs(_)));
    o.capabilities.push(Capability::FourOctetAs(Asn(65099)));
    let d = b.input(Input::Received(ConnId(1), &enc(&Message::Open(o))));
    assert_eq!(notif(&d), Some((2, 2)));
    assert!(d.contains(&Did::Close(ConnId(1))));
    assert_eq!(b.s.state(), State::Idle);
    assert_eq!(b.events().last().unwrap().1, Event::BgpOpenMsgErr);
}

#[test]
fn role_mismatch_is_refused() {
    let mut c = cfg();
    c.role = Some(crate::wire::Role::Customer);
    let mut b = Bench::new(c);
    b.input(Input::Start);
    b.input(Input::Connected(ConnId(1)));
    let mut o = peer_open(30);
    o.capabilities
        .push(Capability::Role(crate::wire::Role::Customer));
    let d = b.input(Input::Received(ConnId(1), &enc(&Message::Open(o))));
    assert_eq!(notif(&d), Some((2, 11)));
    assert_eq!(b.s.state(), State::Idle);
}

/// Every malformed or unexpected input ends in NOTIFICATION (code, subcode), close, Idle.
#[test]
fn malformed_inputs_end_in_notification_and_idle() {
    let marker = [0xffu8; 16];
    let hdr = |len: u16, ty: u8| {
        let mut v = marker.to_vec();
        v.extend_from_slice(&len.to_be_bytes());
        v.push(ty);
        v
    };
    let open = enc(&Message::Open(peer_open(30)));
    let mut bad_marker = enc(&Message::Keepalive);
    bad_marker[3] = 0;
    let mut truncated_open = open.clone();
    truncated_open.truncate(25);
    let l = truncated_open.len() as u16;
    truncated_open[16..18].copy_from_slice(&l.to_be_bytes());
    let mut bad_version = open.clone();
    bad_version[19] = 3;
    let mut hold_one = open.clone();
    hold_one[22..24].copy_from_slice(&1u16.to_be_bytes());
    // UPDATE whose total path attribute length runs past the end.
    let mut bad_attr_list = hdr(23 + 4, 2);
    bad_attr_list.extend_from_slice(&[0, 0, 0, 200, 0x40, 1]);
    let l = bad_attr_list.len() as u16;
    bad_attr_list[16..18].copy_from_slice(&l.to_be_bytes());
    // UPDATE with NLRI but no ORIGIN/AS_PATH/NEXT_HOP.
    let mut missing_wk = hdr(0, 2);
    missing_wk.extend_from_slice(&[0, 0, 0, 0, 24, 192, 0, 2]);
    let l = missing_wk.len() as u16;
    missing_wk[16..18].copy_from_slice(&l.to_be_bytes());

    struct Case {
        name: &'static str,
        established: bool,
        bytes: Vec<u8>,
        want: (u8, u8),
    }
    let cases = vec![
        Case {
            name: "bad marker",
            established: false,
            bytes: bad_marker.clone(),
            want: (1, 1),
        },
        Case {
            name: "bad marker up",
            established: true,
            bytes: bad_marker,
            want: (1, 1),
        },
        Case {
            name: "length < 19",
            established: false,
            bytes: hdr(18, 4),
            want: (1, 2),
        },
        Case {
            name: "length > 4096",
            established: true,
            bytes: hdr(5000, 2),
            want: (1, 2),
        },
        Case {
            name: "keepalive len 20",
            established: true,
            bytes: {
                let mut v = hdr(20, 4);
                v.push(0);
                v
            },
            want: (1, 2),
        },
        Case {
            name: "bad type",
            established: true,
            bytes: hdr(19, 9),
            want: (1, 3),
        },
        Case {
            name: "truncated OPEN",
            established: false,
            bytes: truncated_open,
            want: (1, 2),
        },
        Case {
            name: "version 3",
            established: false,
            bytes: bad_version,
            want: (2, 1),
        },
        Case {
            name: "hold time 1",
            established: false,
            bytes: hold_one,
            want: (2, 6),
        },
        Case {
            name: "UPDATE in OpenSent",
            established: false,
            bytes: enc(&Message::Update(Update::default())),
            want: (5, 1),
        },
        Case {
            name: "KEEPALIVE in OpenSent",
            established: false,
            bytes: enc(&Message::Keepalive),
            want: (5, 1),
        },
        Case {
            name: "OPEN in Established",
            established: true,
            bytes: open,
            want: (5, 3),
        },
        Case {
            name: "attribute list overrun",
            established: true,
            bytes: bad_attr_list,
            want: (3, 1),
        },
        Case {
            name: "route refresh length",
            established: true,
            bytes: {
                let mut v = hdr(24, 5);
                v.extend_from_slice(&[0, 1, 0, 1, 0]);
                v
            },
            want: (7, 1),
        },
    ];
    for case in cases {
        let mut b = Bench::new(cfg());
        let c = if case.established {
            b.establish(30)
        } else {
            b.input(Input::Start);
            b.input(Input::Connected(ConnId(1)));
            ConnId(1)
        };
        let d = b.input(Input::Received(c, &case.bytes));
        assert_eq!(notif(&d), Some(case.want), "{}: {d:?}", case.name);
        assert!(d.contains(&Did::Close(c)), "{}: {d:?}", case.name);
        assert_eq!(b.s.state(), State::Idle, "{}", case.name);
        // Further bytes on the dead connection are ignored.
        assert!(
            b.input(Input::Received(c, &[0; 40])).is_empty(),
            "{}",
            case.name
        );
    }
    // RFC 7606 §3 d: a missing well-known attribute is treat-as-withdraw, the session stays.
    let mut b = Bench::new(cfg());
    let c = b.establish(30);
    let d = b.input(Input::Received(c, &missing_wk));
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(b.s.state(), State::Established);
    assert_eq!(b.s.stats().received.errors_tolerated, 1);
    assert_eq!(b.s.stats().received.withdrawn, 1);
}

#[test]
fn bytes_split_anywhere_still_decode() {
    let mut b = Bench::new(cfg());
    b.input(Input::Start);
    b.input(Input::Connected(ConnId(1)));
    let mut all = enc(&Message::Open(peer_open(30)));
    all.extend(enc(&Message::Keepalive));
    let mut d = Vec::new();
    for byte in all {
        d.extend(b.input(Input::Received(ConnId(1), &[byte])));
    }
    assert!(d.contains(&Did::Up), "{d:?}");
}

#[test]
fn peer_notification_takes_the_session_down_and_we_retry() {
    let mut b = Bench::new(cfg());
    let c = b.establish(30);
    let n = crate::wire::Notification::administrative_shutdown("maintenance");
    let d = b.input(Input::Received(c, &enc(&Message::Notification(n.clone()))));
    assert_eq!(
        d,
        vec![
            Did::Close(c),
            Did::Down(DownReason::NotificationReceived(n))
        ]
    );
    assert_eq!(b.s.state(), State::Idle);
    assert_eq!(
        b.events(),
        vec![(State::Established, Event::NotifMsg, State::Idle)]
    );
    let t = b.s.poll_timeout().unwrap();
    assert!(matches!(b.advance(t - b.now)[..], [Did::Connect(_)]));
}

#[test]
fn tcp_loss_in_established_goes_idle_then_reconnects() {
    let mut b = Bench::new(cfg());
    let c = b.establish(30);
    let d = b.input(Input::Closed(c));
    assert_eq!(d, vec![Did::Down(DownReason::ConnectionLost)]);
    assert_eq!(b.s.state(), State::Idle);
    let t = b.s.poll_timeout().unwrap();
    assert!(matches!(b.advance(t - b.now)[..], [Did::Connect(_)]));
}

/// `error_wait` (BIRD's `error wait time`): the Idle wait after an error starts at its first
/// value (with RFC 4271 §10 jitter, 0.75..1) and is its own back-off, not the connect retry's.
#[test]
fn error_wait_bounds_the_idle_after_an_error() {
    let mut c = cfg();
    c.error_wait = Some((Duration::from_secs(40), Duration::from_secs(80)));
    let mut b = Bench::new(c);
    let conn = b.establish(30);
    b.input(Input::Closed(conn));
    assert_eq!(b.s.state(), State::Idle);
    let wait = b.s.poll_timeout().unwrap() - b.now;
    assert!(
        wait >= Duration::from_secs(30) && wait <= Duration::from_secs(40),
        "{wait:?}"
    );
}

/// §6.8: the connection initiated by the side with the lower BGP identifier is closed.
#[test]
fn collision_keeps_the_connection_of_the_higher_identifier() {
    for local_higher in [false, true] {
        let mut c = cfg();
        if local_higher {
            c.bgp_id = Ipv4Addr::new(192, 0, 2, 200);
        }
        let mut b = Bench::new(c);
        b.input(Input::Start);
        let out = ConnId(1);
        b.input(Input::Connected(out));
        let inc = b.s.next_conn_id();
        let d = b.input(Input::Accepted(inc));
        assert!(matches!(&d[..], [Did::Sent(_, Message::Open(_))]));
        let open = enc(&Message::Open(peer_open(30)));
        let d = b.input(Input::Received(out, &open));
        assert_eq!(d, vec![Did::Sent(out, Message::Keepalive)]);
        assert_eq!(b.s.state(), State::OpenConfirm);
        let d = b.input(Input::Received(inc, &open));
        let (victim, survivor) = if local_higher { (inc, out) } else { (out, inc) };
        assert_eq!(notif(&d), Some((6, 7)), "{d:?}");
        assert!(d.contains(&Did::Close(victim)), "{d:?}");
        assert!(!d.contains(&Did::Close(survivor)), "{d:?}");
        assert!(b.events().iter().any(|e| e.1 == Event::OpenCollisionDump));
        let d = b.input(Input::Received(survivor, &enc(&Message::Keepalive)));
        assert!(d.contains(&Did::Up), "local_higher={local_higher}: {d:?}");
    }
}

#[test]
fn collision_with_established_closes_the_new_connection() {
    let mut b = Bench::new(cfg());
    let c = b.establish(30);
    let inc = b.s.next_conn_id();
    let d = b.input(Input::Accepted(inc));
    assert_eq!(notif(&d), Some((6, 7)));
    assert_eq!(d.last(), Some(&Did::Close(inc)));
    assert_eq!(b.s.state(), State::Established);
    assert!(b.s.negotiated().is_some() && c == ConnId(1));
}

#[test]
fn routes_flow_only_on_change_refresh_and_stop_withdraws_then_ceases() {
    let mut b = Bench::new(cfg());
    // Announced before Established: held, sent in the initial dump.
    assert!(b.input(Input::Start).len() == 1);
    b.s.announce(p("192.0.2.0/24"), RouteAttrs::default());
    assert!(b.drain().is_empty());
    b.input(Input::Connected(ConnId(1)));
    b.input(Input::Received(
        ConnId(1),
        &enc(&Message::Open(peer_open(30))),
    ));
    let d = b.input(Input::Received(ConnId(1), &enc(&Message::Keepalive)));
    let u = updates(&d);
    assert_eq!(u.len(), 1);
    assert_eq!(u[0].nlri, vec![p("192.0.2.0/24")]);
    let c = ConnId(1);
    // A new v6 route: one UPDATE with MP_REACH and our global next hop.
    let attrs = RouteAttrs {
        communities: vec!["64600:6939".parse().unwrap()],
        large_communities: vec!["65001:1:2".parse().unwrap()],
        prepend: 2,
        ..RouteAttrs::default()
    };
    assert!(b.s.announce(p("2001:db8::/48"), attrs.clone()));
    let u = updates(&b.drain());
    assert_eq!(u.len(), 1);
    let mp = u[0].attrs.mp_reach.as_ref().unwrap();
    assert_eq!(mp.nlri, vec![p("2001:db8::/48")]);
    assert_eq!(u[0].attrs.as_path.as_ref().unwrap().route_len(), 3);
    // The same again: nothing on the wire.
    assert!(!b.s.announce(p("2001:db8::/48"), attrs));
    assert!(b.drain().is_empty());
    // ROUTE-REFRESH for IPv6: BoRR, the route, EoRR.
    let rr = Message::RouteRefresh(RouteRefresh::request(AFI_IPV6, SAFI_UNICAST));
    let d = b.input(Input::Received(c, &enc(&rr)));
    let kinds: Vec<String> = d
        .iter()
        .map(|x| match x {
            Did::Sent(_, Message::RouteRefresh(r)) => format!("{:?}", r.subtype),
            Did::Sent(_, Message::Update(u)) => format!("update {}", u.announced().count()),
            o => format!("{o:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        vec!["BeginningOfRefresh", "update 1", "EndOfRefresh"]
    );
    assert!(matches!(
        d[0],
        Did::Sent(
            _,
            Message::RouteRefresh(RouteRefresh {
                subtype: RouteRefreshSubtype::BeginningOfRefresh,
                ..
            })
        )
    ));
    assert_eq!(b.s.stats().refreshes_answered, 1);
    // Withdraw: one UPDATE.
    assert!(b.s.withdraw(p("192.0.2.0/24")));
    let u = updates(&b.drain());
    assert_eq!(u[0].withdrawn, vec![p("192.0.2.0/24")]);
    // Stop: withdraw everything, then Cease 6/2 with our message, close, Idle, no retry.
    b.input(Input::Stop {
        message: "maintenance".into(),
    });
    let d = b.drain();
    let _ = d;
    b.s.take_transitions();
    let mut b2 = Bench::new(cfg());
    b2.s.announce(p("2001:db8::/48"), RouteAttrs::default());
    let c2 = b2.establish(30);
    let d = b2.input(Input::Stop {
        message: "maintenance".into(),
    });
    let u = updates(&d);
    assert_eq!(u.len(), 1);
    assert_eq!(
        u[0].withdrawals().copied().collect::<Vec<_>>(),
        vec![p("2001:db8::/48")]
    );
    let n = d.iter().find_map(|x| match x {
        Did::Sent(_, Message::Notification(n)) => Some(n.clone()),
        _ => None,
    });
    let n = n.unwrap();
    assert_eq!((n.code, n.subcode), (6, 2));
    assert_eq!(n.shutdown_communication(), Some("maintenance"));
    let upd_pos = d
        .iter()
        .position(|x| matches!(x, Did::Sent(_, Message::Update(_))))
        .unwrap();
    let not_pos = d
        .iter()
        .position(|x| matches!(x, Did::Sent(_, Message::Notification(_))))
        .unwrap();
    assert!(upd_pos < not_pos, "withdraw before Cease");
    assert!(d.contains(&Did::Close(c2)));
    assert_eq!(d.last(), Some(&Did::Down(DownReason::Stopped)));
    assert_eq!(b2.s.state(), State::Idle);
    assert_eq!(b2.s.poll_timeout(), None);
    // The table survives the stop: a restart announces it again.
    assert_eq!(b2.s.rib_out().len(), 1);
}

#[test]
fn received_routes_are_counted_and_max_prefix_ceases() {
    let mut c = cfg();
    c.adj_rib_in = true;
    c.max_prefixes = Some(2);
    let mut b = Bench::new(c);
    let id = b.establish(30);
    let mut u = Update::default();
    u.attrs.origin = Some(crate::wire::Origin::Igp);
    u.attrs.as_path = Some(crate::wire::AsPath::from_sequence([Asn(65002)]));
    u.attrs.next_hop = Some(PEER_ID);
    u.nlri = vec![p("198.51.100.0/24"), p("203.0.113.0/24")];
    assert!(
        b.input(Input::Received(id, &enc(&Message::Update(u.clone()))))
            .is_empty()
    );
    assert_eq!(b.s.rib_in().unwrap().len(), 2);
    assert_eq!(b.s.stats().received.announced, 2);
    u.nlri = vec![p("192.0.2.0/24")];
    let d = b.input(Input::Received(id, &enc(&Message::Update(u))));
    assert_eq!(notif(&d), Some((6, 1)));
    assert_eq!(b.s.state(), State::Idle);
    assert!(b.s.rib_in().unwrap().is_empty());
}

#[test]
fn counting_without_adj_rib_in() {
    let mut b = Bench::new(cfg());
    let id = b.establish(30);
    let mut u = Update::default();
    u.attrs.origin = Some(crate::wire::Origin::Igp);
    u.attrs.as_path = Some(crate::wire::AsPath::from_sequence([Asn(65002)]));
    u.attrs.next_hop = Some(PEER_ID);
    u.nlri = vec![p("198.51.100.0/24")];
    let w = Update {
        withdrawn: vec![p("198.51.100.0/24")],
        ..Update::default()
    };
    let mut bytes = enc(&Message::Update(u));
    bytes.extend(enc(&Message::Update(w)));
    b.input(Input::Received(id, &bytes));
    let s = b.s.stats();
    assert_eq!(
        (
            s.received.updates,
            s.received.announced,
            s.received.withdrawn
        ),
        (2, 1, 1)
    );
    assert!(b.s.rib_in().is_none());
}
