//! Malformed messages over a real TCP socket: a raw peer (this test) sends broken bytes; our
//! driver must answer with the right NOTIFICATION, close, stay up and connect again. The same
//! listener accepts each reconnection, so a case only starts once the previous one recovered.
#![allow(clippy::unwrap_used)]

mod interop_support;

use std::net::Ipv4Addr;
use std::time::Duration;

use interop_support::*;
use tern_bgp::session::{DownReason, State};
use tern_bgp::wire::{self, Capability, Message, Open};
use tern_testkit::bgp::{codec, enc};
use tern_types::Asn;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const STEP: Duration = Duration::from_secs(10);

fn open(my_as: u32) -> Open {
    Open {
        version: 4,
        my_as: Asn(my_as),
        hold_time: 30,
        bgp_id: Ipv4Addr::new(192, 0, 2, 9),
        capabilities: vec![
            Capability::Multiprotocol { afi: 1, safi: 1 },
            Capability::RouteRefresh,
            Capability::FourOctetAs(Asn(my_as)),
        ],
    }
}

/// Read one whole BGP message (header-framed) and decode it.
async fn read_msg(s: &mut TcpStream) -> Result<Message, String> {
    let mut hdr = [0u8; 19];
    tokio::time::timeout(STEP, s.read_exact(&mut hdr))
        .await
        .map_err(|_| "timeout".to_owned())?
        .map_err(|e| format!("read: {e}"))?;
    let len = usize::from(u16::from_be_bytes([hdr[16], hdr[17]]));
    let mut msg = hdr.to_vec();
    msg.resize(len.max(19), 0);
    s.read_exact(&mut msg[19..])
        .await
        .map_err(|e| format!("read body: {e}"))?;
    let (m, _) = wire::decode(&msg, &codec())
        .map_err(|e| format!("{e}"))?
        .ok_or("short")?;
    Ok(m)
}

/// After the NOTIFICATION our side must close: the next read sees EOF.
async fn expect_eof(s: &mut TcpStream) {
    let mut b = [0u8; 64];
    let n = tokio::time::timeout(STEP, s.read(&mut b))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(n, 0, "expected the connection to be closed");
}

fn hdr(len: u16, ty: u8) -> Vec<u8> {
    let mut v = vec![0xff; 16];
    v.extend_from_slice(&len.to_be_bytes());
    v.push(ty);
    v
}

fn with_len(mut v: Vec<u8>) -> Vec<u8> {
    let l = v.len() as u16;
    v[16..18].copy_from_slice(&l.to_be_bytes());
    v
}

struct Case {
    name: &'static str,
    /// Complete OPEN/KEEPALIVE first so the bytes arrive in Established.
    established: bool,
    bytes: Vec<u8>,
    want: (u8, u8),
}

fn cases() -> Vec<Case> {
    let good_open = enc(&Message::Open(open(PEER_AS)));
    let mut bad_marker = enc(&Message::Keepalive);
    bad_marker[0] = 0;
    let mut v3 = good_open.clone();
    v3[19] = 3;
    let mut hold2 = good_open.clone();
    hold2[22..24].copy_from_slice(&2u16.to_be_bytes());
    let mut truncated = good_open.clone();
    truncated.truncate(24);
    let truncated = with_len(truncated);
    // Withdrawn Routes Length 100 in a 23-byte UPDATE body.
    let withdrawn_overrun = with_len([hdr(0, 2), vec![0, 100, 0, 0]].concat());
    // Total Path Attribute Length claims more than the message holds.
    let attrs_overrun = with_len([hdr(0, 2), vec![0, 0, 0, 50, 0x40, 1, 1, 0]].concat());
    vec![
        Case {
            name: "bad marker",
            established: false,
            bytes: bad_marker.clone(),
            want: (1, 1),
        },
        Case {
            name: "garbage",
            established: false,
            bytes: b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            want: (1, 1),
        },
        Case {
            name: "length 5000",
            established: false,
            bytes: hdr(5000, 1),
            want: (1, 2),
        },
        Case {
            name: "length 18",
            established: false,
            bytes: hdr(18, 4),
            want: (1, 2),
        },
        Case {
            name: "type 9",
            established: false,
            bytes: hdr(19, 9),
            want: (1, 3),
        },
        Case {
            name: "truncated OPEN",
            established: false,
            bytes: truncated,
            want: (1, 2),
        },
        Case {
            name: "OPEN version 3",
            established: false,
            bytes: v3,
            want: (2, 1),
        },
        Case {
            name: "OPEN wrong AS",
            established: false,
            bytes: enc(&Message::Open(open(65099))),
            want: (2, 2),
        },
        Case {
            name: "OPEN hold time 2",
            established: false,
            bytes: hold2,
            want: (2, 6),
        },
        Case {
            name: "KEEPALIVE before OPEN",
            established: false,
            bytes: enc(&Message::Keepalive),
            want: (5, 1),
        },
        Case {
            name: "bad marker in Established",
            established: true,
            bytes: bad_marker,
            want: (1, 1),
        },
        Case {
            name: "withdrawn length overrun",
            established: true,
            bytes: withdrawn_overrun,
            want: (3, 1),
        },
        Case {
            name: "attribute list overrun",
            established: true,
            bytes: attrs_overrun,
            want: (3, 1),
        },
        Case {
            name: "second OPEN",
            established: true,
            bytes: good_open,
            want: (5, 3),
        },
        Case {
            name: "ROUTE-REFRESH length 24",
            established: true,
            bytes: with_len([hdr(0, 5), vec![0, 1, 0, 1, 0]].concat()),
            want: (7, 1),
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_messages_get_notification_and_we_reconnect() {
    let raw = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let raw_addr = raw.local_addr().unwrap();
    let mut sc = session_config(PEER_AS);
    sc.connect_retry = Duration::from_millis(200);
    sc.connect_retry_max = Duration::from_millis(600);
    let ours = start_ours("raw", "127.0.0.1:0".parse().unwrap(), raw_addr, sc, None);

    for case in cases() {
        let (mut s, _) = tokio::time::timeout(STEP, raw.accept())
            .await
            .unwrap_or_else(|_| panic!("{}: we did not reconnect", case.name))
            .unwrap();
        let Message::Open(theirs) = read_msg(&mut s).await.unwrap() else {
            panic!("{}: expected our OPEN first", case.name)
        };
        assert_eq!(theirs.my_as, Asn(OUR_AS));
        if case.established {
            s.write_all(&enc(&Message::Open(open(PEER_AS))))
                .await
                .unwrap();
            s.write_all(&enc(&Message::Keepalive)).await.unwrap();
            assert_eq!(
                read_msg(&mut s).await.unwrap(),
                Message::Keepalive,
                "{}",
                case.name
            );
            ours.wait_state(State::Established, STEP).await;
        }
        s.write_all(&case.bytes).await.unwrap();
        let reply = read_msg(&mut s).await;
        let Ok(Message::Notification(n)) = reply else {
            panic!("{}: expected a NOTIFICATION, got {reply:?}", case.name)
        };
        assert_eq!((n.code, n.subcode), case.want, "{}: {n}", case.name);
        expect_eof(&mut s).await;
        let st = ours.status();
        assert!(
            matches!(&st.last_down, Some(DownReason::NotificationSent(m)) if *m == n),
            "{}: {st:?}",
            case.name
        );
        assert_ne!(st.state, State::Established, "{}", case.name);
    }

    // Finally a well-behaved peer: the session still comes up.
    let (mut s, _) = tokio::time::timeout(STEP, raw.accept())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(read_msg(&mut s).await.unwrap(), Message::Open(_)));
    s.write_all(&enc(&Message::Open(open(PEER_AS))))
        .await
        .unwrap();
    s.write_all(&enc(&Message::Keepalive)).await.unwrap();
    ours.wait_state(State::Established, STEP).await;
    // RFC 7606 §4: an attribute running past the attribute list is treat-as-withdraw; the
    // session stays up.
    let attr_len_overrun = with_len([hdr(0, 2), vec![0, 0, 0, 4, 0x40, 1, 9, 0]].concat());
    s.write_all(&attr_len_overrun).await.unwrap();
    wait_for("treat-as-withdraw counted", STEP, || {
        let st = ours.status();
        if st.stats.received.errors_tolerated == 1 {
            Ok(())
        } else {
            Err(format!("{st:?}"))
        }
    })
    .await;
    assert_eq!(ours.status().state, State::Established);
    ours.shutdown().await;
    // Our shutdown sends Cease / Administrative Shutdown.
    let mut saw_cease = false;
    while let Ok(m) = read_msg(&mut s).await {
        if let Message::Notification(n) = m {
            saw_cease = (n.code, n.subcode) == (6, 2);
            break;
        }
    }
    assert!(saw_cease, "no Cease on shutdown");
}

/// Passive side: a client that connects to our listener and sends junk gets a NOTIFICATION;
/// the listener keeps accepting, and a later good client gets a session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_on_our_listener_is_answered_and_we_keep_listening() {
    let mut sc = session_config(PEER_AS);
    sc.passive = true;
    // The remote address is the client's source; its port does not matter when passive.
    let ours = start_ours(
        "passive",
        "127.0.0.1:0".parse().unwrap(),
        "127.0.0.1:9".parse().unwrap(),
        sc,
        None,
    );
    let addr = format!("127.0.0.1:{}", ours.listen_port);
    for _ in 0..3 {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        assert!(matches!(read_msg(&mut s).await.unwrap(), Message::Open(_)));
        s.write_all(&hdr(19, 42)).await.unwrap();
        let Message::Notification(n) = read_msg(&mut s).await.unwrap() else {
            panic!()
        };
        assert_eq!((n.code, n.subcode), (1, 3));
        expect_eof(&mut s).await;
        // Idle refuses connections during the back-off; wait until we are Active again.
        ours.wait_state(State::Active, STEP).await;
    }
    let mut s = TcpStream::connect(&addr).await.unwrap();
    assert!(matches!(read_msg(&mut s).await.unwrap(), Message::Open(_)));
    s.write_all(&enc(&Message::Open(open(PEER_AS))))
        .await
        .unwrap();
    s.write_all(&enc(&Message::Keepalive)).await.unwrap();
    ours.wait_state(State::Established, STEP).await;
    ours.shutdown().await;
}
