//! Event-by-event tests of the RTR session: a scripted cache feeds PDUs, the tests check what the
//! client sends back, which events it reports and which VRPs it holds.

use tern_types::Asn;

use super::pdu::{self, ErrorCode, Pdu, Timing, decode};
use super::session::{Event, RtrClient, SessionError};
use crate::vrp::Vrp;

fn vrp(prefix: &str, max_len: u16, asn: u32) -> Vrp {
    Vrp::new(prefix.parse().unwrap(), max_len, Asn(asn)).unwrap()
}

/// The bytes a cache speaking `version` would send for `pdus`.
fn cache(version: u8, pdus: &[Pdu]) -> Vec<u8> {
    pdus.iter().flat_map(|p| pdu::encode(version, p)).collect()
}

/// Everything the client wants to send, decoded.
fn sent(c: &mut RtrClient) -> Vec<(u8, Pdu)> {
    let mut out = Vec::new();
    while let Some(b) = c.poll_transmit() {
        let d = decode(&b).unwrap().unwrap();
        assert_eq!(d.len, b.len());
        out.push((d.version, d.pdu));
    }
    out
}

fn events(c: &mut RtrClient) -> Vec<Event> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

fn announce(v: Vrp) -> Pdu {
    Pdu::Prefix {
        announce: true,
        vrp: v,
    }
}
fn withdraw(v: Vrp) -> Pdu {
    Pdu::Prefix {
        announce: false,
        vrp: v,
    }
}

const T: Timing = Timing {
    refresh: 900,
    retry: 60,
    expire: 7200,
};

/// Reset Query → Cache Response, prefixes, End of Data, fed one byte at a time.
#[test]
fn full_sync_byte_by_byte() {
    let mut c = RtrClient::new(1);
    assert_eq!(sent(&mut c), [(1, Pdu::ResetQuery)]);
    let bytes = cache(
        1,
        &[
            Pdu::CacheResponse { session_id: 77 },
            announce(vrp("2001:db8::/32", 48, 64512)),
            announce(vrp("192.0.2.0/24", 24, 64513)),
            Pdu::EndOfData {
                session_id: 77,
                serial: 5,
                timing: Some(T),
            },
        ],
    );
    for b in &bytes {
        c.handle_input(std::slice::from_ref(b)).unwrap();
    }
    assert_eq!(
        events(&mut c),
        [Event::Synced {
            session_id: 77,
            serial: 5,
            vrps: 2
        }]
    );
    assert_eq!(
        (c.session_id(), c.serial(), c.timing()),
        (Some(77), Some(5), Some(T))
    );
    let set = c.vrps();
    assert_eq!(set.len(), 2);
    assert!(set.iter().any(|v| *v == vrp("192.0.2.0/24", 24, 64513)));
    assert!(sent(&mut c).is_empty());
}

/// Serial Notify → refresh → Serial Query → incremental update with a withdrawal.
#[test]
fn incremental_update() {
    let mut c = RtrClient::new(1);
    sent(&mut c);
    let a = vrp("2001:db8::/32", 48, 64512);
    let b = vrp("2001:db8:1::/48", 48, 64513);
    let all = cache(
        1,
        &[
            Pdu::CacheResponse { session_id: 1 },
            announce(a),
            Pdu::EndOfData {
                session_id: 1,
                serial: 10,
                timing: Some(T),
            },
        ],
    );
    c.handle_input(&all).unwrap();
    events(&mut c);

    c.handle_input(&cache(
        1,
        &[Pdu::SerialNotify {
            session_id: 1,
            serial: 11,
        }],
    ))
    .unwrap();
    assert_eq!(events(&mut c), [Event::Notified { serial: 11 }]);
    c.refresh();
    assert_eq!(
        sent(&mut c),
        [(
            1,
            Pdu::SerialQuery {
                session_id: 1,
                serial: 10
            }
        )]
    );
    // A second refresh while the query is outstanding sends nothing.
    c.refresh();
    assert!(sent(&mut c).is_empty());

    let delta = cache(
        1,
        &[
            Pdu::CacheResponse { session_id: 1 },
            withdraw(a),
            announce(b),
            Pdu::EndOfData {
                session_id: 1,
                serial: 11,
                timing: Some(T),
            },
        ],
    );
    c.handle_input(&delta).unwrap();
    assert_eq!(
        events(&mut c),
        [Event::Synced {
            session_id: 1,
            serial: 11,
            vrps: 1
        }]
    );
    assert_eq!(c.vrps().iter().copied().collect::<Vec<_>>(), [b]);
}

/// Cache Reset in answer to a Serial Query makes the client start over with a Reset Query.
#[test]
fn cache_reset_leads_to_reset_query() {
    let mut c = RtrClient::new(1);
    sent(&mut c);
    c.handle_input(&cache(
        1,
        &[
            Pdu::CacheResponse { session_id: 3 },
            Pdu::EndOfData {
                session_id: 3,
                serial: 1,
                timing: Some(T),
            },
        ],
    ))
    .unwrap();
    c.refresh();
    assert_eq!(
        sent(&mut c),
        [(
            1,
            Pdu::SerialQuery {
                session_id: 3,
                serial: 1
            }
        )]
    );
    c.handle_input(&cache(1, &[Pdu::CacheReset])).unwrap();
    assert_eq!(sent(&mut c), [(1, Pdu::ResetQuery)]);
    c.handle_input(&cache(
        1,
        &[
            Pdu::CacheResponse { session_id: 4 },
            announce(vrp("3fff::/20", 24, 65000)),
            Pdu::EndOfData {
                session_id: 4,
                serial: 1,
                timing: Some(T),
            },
        ],
    ))
    .unwrap();
    assert_eq!(c.session_id(), Some(4));
    assert_eq!(c.vrps().len(), 1);
}

/// RFC 8210 §7: a version-0 cache answering in version 0 makes the client downgrade.
#[test]
fn downgrade_when_cache_answers_in_version_0() {
    let mut c = RtrClient::new(1);
    sent(&mut c);
    // Serial Notify during negotiation is ignored, whatever its version.
    c.handle_input(&cache(
        0,
        &[Pdu::SerialNotify {
            session_id: 9,
            serial: 9,
        }],
    ))
    .unwrap();
    assert!(events(&mut c).is_empty());
    c.handle_input(&cache(
        0,
        &[
            Pdu::CacheResponse { session_id: 2 },
            announce(vrp("198.51.100.0/24", 24, 64512)),
            Pdu::EndOfData {
                session_id: 2,
                serial: 8,
                timing: None,
            },
        ],
    ))
    .unwrap();
    assert_eq!(c.version(), 0);
    assert_eq!(c.timing(), None);
    assert_eq!(
        events(&mut c),
        [Event::Synced {
            session_id: 2,
            serial: 8,
            vrps: 1
        }]
    );
    c.refresh();
    assert_eq!(
        sent(&mut c),
        [(
            0,
            Pdu::SerialQuery {
                session_id: 2,
                serial: 8
            }
        )]
    );
}

/// A version-0 Error Report "Unsupported Protocol Version" tells the driver to retry with 0.
#[test]
fn unsupported_version_error_report() {
    let mut c = RtrClient::new(1);
    sent(&mut c);
    let er = Pdu::ErrorReport {
        code: ErrorCode::UNSUPPORTED_PROTOCOL_VERSION,
        pdu: pdu::encode(1, &Pdu::ResetQuery),
        text: String::new(),
    };
    let e = c.handle_input(&cache(0, &[er])).unwrap_err();
    assert_eq!(e, SessionError::UnsupportedVersion { ours: 1, cache: 0 });
    assert!(c.is_failed());
    // Never answer an Error Report with one.
    assert!(sent(&mut c).is_empty());
    assert_eq!(c.handle_input(&[]), Err(SessionError::Failed));
}

#[test]
fn no_data_available_is_not_fatal() {
    let mut c = RtrClient::new(1);
    sent(&mut c);
    let er = Pdu::ErrorReport {
        code: ErrorCode::NO_DATA_AVAILABLE,
        pdu: vec![],
        text: "warming up".into(),
    };
    c.handle_input(&cache(1, &[er])).unwrap();
    assert_eq!(events(&mut c), [Event::NoData]);
    assert!(!c.is_failed());
    c.refresh();
    assert_eq!(sent(&mut c), [(1, Pdu::ResetQuery)]);
}

#[test]
fn cache_error_report_is_fatal() {
    let mut c = RtrClient::new(1);
    sent(&mut c);
    let er = Pdu::ErrorReport {
        code: ErrorCode::INTERNAL_ERROR,
        pdu: vec![],
        text: "disk on fire".into(),
    };
    let e = c.handle_input(&cache(1, &[er])).unwrap_err();
    assert!(
        e.to_string().contains("Internal Error (1): disk on fire"),
        "{e}"
    );
}

/// Each protocol violation is answered with the right Error Report and fails the session.
#[test]
fn protocol_violations_are_reported() {
    let a = vrp("2001:db8::/32", 32, 64512);
    let cases: Vec<(Vec<Pdu>, ErrorCode)> = vec![
        (
            vec![
                Pdu::CacheResponse { session_id: 1 },
                announce(a),
                announce(a),
            ],
            ErrorCode::DUPLICATE_ANNOUNCEMENT,
        ),
        (
            vec![Pdu::CacheResponse { session_id: 1 }, withdraw(a)],
            ErrorCode::WITHDRAWAL_OF_UNKNOWN_RECORD,
        ),
        (vec![announce(a)], ErrorCode::CORRUPT_DATA), // prefix before Cache Response
        (
            vec![Pdu::EndOfData {
                session_id: 1,
                serial: 1,
                timing: Some(T),
            }],
            ErrorCode::CORRUPT_DATA,
        ),
        (
            vec![
                Pdu::CacheResponse { session_id: 1 },
                Pdu::EndOfData {
                    session_id: 2,
                    serial: 1,
                    timing: Some(T),
                },
            ],
            ErrorCode::CORRUPT_DATA,
        ),
        (vec![Pdu::CacheReset], ErrorCode::CORRUPT_DATA), // Cache Reset in answer to a Reset Query
        (vec![Pdu::ResetQuery], ErrorCode::UNSUPPORTED_PDU_TYPE),
    ];
    for (pdus, code) in cases {
        let mut c = RtrClient::new(1);
        sent(&mut c);
        let e = c.handle_input(&cache(1, &pdus)).unwrap_err();
        assert!(
            matches!(e, SessionError::Protocol { code: got, .. } if got == code),
            "{pdus:?}: {e}"
        );
        let out = sent(&mut c);
        assert!(
            matches!(&out[..], [(1, Pdu::ErrorReport { code: got, .. })] if *got == code),
            "{pdus:?}: {out:?}"
        );
        assert!(c.is_failed());
    }
}

#[test]
fn version_changes_mid_session_are_reported() {
    let mut c = RtrClient::new(1);
    sent(&mut c);
    c.handle_input(&cache(1, &[Pdu::CacheResponse { session_id: 1 }]))
        .unwrap();
    let e = c
        .handle_input(&cache(0, &[announce(vrp("192.0.2.0/24", 24, 1))]))
        .unwrap_err();
    assert!(
        matches!(
            e,
            SessionError::Protocol {
                code: ErrorCode::UNEXPECTED_PROTOCOL_VERSION,
                ..
            }
        ),
        "{e}"
    );
    // A version we do not know before negotiation: Unsupported Protocol Version.
    let mut c = RtrClient::new(1);
    sent(&mut c);
    let e = c
        .handle_input(&cache(2, &[Pdu::CacheResponse { session_id: 1 }]))
        .unwrap_err();
    assert!(
        matches!(
            e,
            SessionError::Protocol {
                code: ErrorCode::UNSUPPORTED_PROTOCOL_VERSION,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn garbage_bytes_fail_with_corrupt_data() {
    let mut c = RtrClient::new(1);
    sent(&mut c);
    let e = c
        .handle_input(&[1, 4, 0, 0, 0, 0, 0, 99, 0, 0])
        .unwrap_err();
    assert!(matches!(e, SessionError::Decode(_)));
    let out = sent(&mut c);
    assert!(
        matches!(
            &out[..],
            [(
                1,
                Pdu::ErrorReport {
                    code: ErrorCode::CORRUPT_DATA,
                    ..
                }
            )]
        ),
        "{out:?}"
    );
}
