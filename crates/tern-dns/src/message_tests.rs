//! Annotated bytes ↔ struct tests for the DNS codec.

use super::*;
use crate::name::read_name;
use crate::*;

/// `dig +nsid CH TXT id.server` as dig 9.18 sends it (cookie option left out).
const QUERY: &[u8] = &[
    0x12, 0x34, // id
    0x01, 0x20, // flags: RD, AD
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // qd 1, an 0, ns 0, ar 1
    2, b'i', b'd', 6, b's', b'e', b'r', b'v', b'e', b'r', 0, // id.server.
    0x00, 0x10, // TXT
    0x00, 0x03, // CH
    0x00, // OPT owner: root
    0x00, 0x29, // OPT
    0x04, 0xd0, // udp size 1232
    0x00, 0x00, 0x00, 0x00, // ext rcode, version, flags
    0x00, 0x04, // rdlen
    0x00, 0x03, 0x00, 0x00, // NSID, empty
];

#[test]
fn parses_annotated_query() {
    let m = Message::parse(QUERY).unwrap();
    assert_eq!(m.header.id, 0x1234);
    assert!(m.header.rd() && !m.header.is_response() && m.header.opcode() == 0);
    assert_eq!(m.questions.len(), 1);
    let q = &m.questions[0];
    assert!(q.name.eq_text("ID.Server."));
    assert_eq!((q.qtype, q.qclass), (TYPE_TXT, CLASS_CH));
    let e = m.edns.as_ref().unwrap();
    assert_eq!(e.udp_size, 1232);
    assert!(e.has_option(OPT_NSID));
    assert!(m.additional.is_empty());
    // And back to the same bytes.
    assert_eq!(m.to_bytes(), QUERY);
}

#[test]
fn encodes_txt_answer() {
    let mut m = Message::default();
    m.header.id = 7;
    m.header.flags = 0x8400; // QR, AA
    m.answers.push(Record {
        name: Name::from_text("id.server").unwrap(),
        rtype: TYPE_TXT,
        class: CLASS_CH,
        ttl: 0,
        data: RData::Txt(vec![b"ams".to_vec()]),
    });
    let b = m.to_bytes();
    let want: &[u8] = &[
        0, 7, 0x84, 0x00, 0, 0, 0, 1, 0, 0, 0, 0, // header: an 1
        2, b'i', b'd', 6, b's', b'e', b'r', b'v', b'e', b'r', 0, // owner
        0, 16, 0, 3, 0, 0, 0, 0, // TXT CH ttl 0
        0, 4, 3, b'a', b'm', b's', // rdlen 4, "ams"
    ];
    assert_eq!(b, want);
    let back = Message::parse(&b).unwrap();
    assert_eq!(
        (back.header.id, back.header.flags, back.header.ancount),
        (7, 0x8400, 1)
    );
    assert_eq!(back.answers, m.answers);
}

#[test]
fn follows_backward_pointers() {
    // Answer owner is a pointer to the question name at offset 12; CNAME data points too.
    let mut b = vec![0, 1, 0x80, 0, 0, 1, 0, 1, 0, 0, 0, 0];
    b.extend_from_slice(&[3, b'w', b'w', b'w', 0, 0, 1, 0, 1]);
    b.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xc0, 12]);
    let m = Message::parse(&b).unwrap();
    assert_eq!(
        m.answers[0].data,
        RData::Name(Name::from_text("www").unwrap())
    );
    assert_eq!(m.answers[0].data.to_string(), "www.");
}

#[test]
fn refuses_bad_input() {
    let head = |qd: u16, ar: u16| {
        let mut b = vec![0, 1, 0, 0];
        b.extend_from_slice(&qd.to_be_bytes());
        b.extend_from_slice(&[0, 0, 0, 0]);
        b.extend_from_slice(&ar.to_be_bytes());
        b
    };
    // Truncated header.
    assert!(matches!(
        Message::parse(&[0, 1, 0]),
        Err(WireError::Truncated(_))
    ));
    // A pointer to itself and a forward pointer.
    let mut b = head(1, 0);
    b.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
    assert_eq!(Message::parse(&b), Err(WireError::BadPointer(12)));
    let mut b = head(1, 0);
    b.extend_from_slice(&[1, b'a', 0xc0, 12, 0, 1, 0, 1]);
    assert_eq!(Message::parse(&b), Err(WireError::BadPointer(14)));
    // A chain of 200 backward pointers, each pointing at the one before, the first at a root
    // label: every pointer is legal alone, but a name may follow at most MAX_POINTER_JUMPS.
    let mut pkt = vec![0u8; 12];
    pkt.push(0); // 12: root
    for i in 0..200usize {
        let target = if i == 0 { 12 } else { 13 + 2 * (i - 1) };
        pkt.extend_from_slice(&(0xc000u16 | target as u16).to_be_bytes());
    }
    let last = pkt.len() - 2;
    assert_eq!(
        read_name(&pkt, last),
        Err(WireError::BadPointer(13 + 2 * 72))
    );
    let ok_start = 13 + 2 * 100;
    assert!(
        read_name(&pkt, ok_start).is_ok(),
        "101 jumps are within the limit"
    );
    // Huge counts, few bytes.
    let mut b = head(65535, 65535);
    b.extend_from_slice(&[0, 0, 1, 0, 1]);
    assert!(matches!(Message::parse(&b), Err(WireError::Truncated(_))));
    // Reserved label type.
    let mut b = head(1, 0);
    b.extend_from_slice(&[0x40, 0, 1, 0, 1]);
    assert_eq!(Message::parse(&b), Err(WireError::BadLabel(12)));
    // Name over 255 octets: 5 labels of 63.
    let mut b = head(1, 0);
    for _ in 0..5 {
        b.push(63);
        b.extend_from_slice(&[b'a'; 63]);
    }
    b.extend_from_slice(&[0, 0, 1, 0, 1]);
    assert_eq!(Message::parse(&b), Err(WireError::NameTooLong(12)));
    // Two OPT records.
    let mut b = head(0, 2);
    for _ in 0..2 {
        b.extend_from_slice(&[0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0]);
    }
    assert!(matches!(Message::parse(&b), Err(WireError::BadOpt(_))));
    // Trailing garbage.
    let mut b = QUERY.to_vec();
    b.push(0);
    assert_eq!(Message::parse(&b), Err(WireError::TrailingBytes(1)));
}

#[test]
fn names_from_text() {
    assert!(Name::from_text("").unwrap() == Name::root());
    assert!(Name::from_text("a..b").is_none());
    assert!(Name::from_text(&"a".repeat(64)).is_none());
    assert_eq!(
        Name::from_text("Id.Server.").unwrap().to_string(),
        "Id.Server."
    );
}

// Moved from tern-atlas's `abuf` decoder: the same bytes, the same assertions, through the
// text forms Atlas uses (names without the trailing dot, `escape`d TXT and NSID).

/// A CHAOS TXT id.server answer with an OPT RR carrying NSID, byte by byte.
#[test]
fn chaos_txt_with_nsid() {
    let mut b = vec![
        0x12, 0x34, // ID
        0x84, 0x00, // QR AA, NOERROR
        0, 1, 0, 1, 0, 0, 0, 1, // QD AN NS AR
    ];
    // question: id.server CH TXT
    b.extend([
        2, b'i', b'd', 6, b's', b'e', b'r', b'v', b'e', b'r', 0, 0, 16, 0, 3,
    ]);
    // answer: pointer to offset 12, TXT CH ttl 0, rdata "fra1"
    b.extend([
        0xc0, 12, 0, 16, 0, 3, 0, 0, 0, 0, 0, 5, 4, b'f', b'r', b'a', b'1',
    ]);
    // OPT: root name, type 41, udp 1232, ttl 0 (DO clear), rdlen 8, NSID "ab\x01\x02"
    b.extend([
        0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 8, 0, 3, 0, 4, b'a', b'b', 1, 2,
    ]);
    let m = Message::parse(&b).unwrap();
    assert_eq!(m.header.id, 0x1234);
    assert_eq!(m.questions[0].name.to_dotted(), "id.server");
    assert_eq!(m.questions[0].qclass, 3);
    assert_eq!(m.answers[0].name.to_dotted(), "id.server");
    assert_eq!(m.txt_answers(), vec!["fra1".to_string()]);
    let e = m.edns.as_ref().unwrap();
    assert_eq!(e.udp_size, 1232);
    assert!(!e.dnssec_ok());
    assert_eq!(m.nsid().map(escape).as_deref(), Some("ab\\001\\002"));
    assert_eq!(m.rcode(), 0);
}

#[test]
fn a_aaaa_and_cname() {
    let mut b = vec![0, 1, 0x81, 0x80, 0, 1, 0, 3, 0, 0, 0, 0];
    b.extend([
        1, b'x', 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 0, 0, 1, 0, 1,
    ]);
    b.extend([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
    b.extend([0xc0, 12, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16]);
    b.extend([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    b.extend([0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 4, 1, b'y', 0xc0, 14]);
    let m = Message::parse(&b).unwrap();
    assert_eq!(m.answers[0].data, RData::A(Ipv4Addr::new(192, 0, 2, 1)));
    assert_eq!(
        m.answers[1].data,
        RData::Aaaa("2001:db8::1".parse().unwrap())
    );
    assert_eq!(
        m.answers[2].data,
        RData::Name(Name::from_text("y.example").unwrap())
    );
    assert_eq!(m.identity_names(), vec!["y.example".to_string()]);
}

#[test]
fn pointer_loops_and_truncation_are_errors() {
    // A name that points at itself.
    let mut b = vec![0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    b.extend([0xc0, 12, 0, 1, 0, 1]);
    assert_eq!(Message::parse(&b), Err(WireError::BadPointer(12)));
    assert!(matches!(
        Message::parse(&[0, 1, 2]),
        Err(WireError::Truncated(_))
    ));
    // Header says one answer, none present.
    let b = [0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0];
    assert!(matches!(Message::parse(&b), Err(WireError::Truncated(12))));
}

#[test]
fn text_forms() {
    assert_eq!(Name::root().to_dotted(), "");
    assert_eq!(Name::root().to_string(), ".");
    assert_eq!(escape(b"a b\x7f\n"), "a b\\127\\010");
    assert_eq!(rcode::name(rcode::NXDOMAIN), "NXDOMAIN");
    assert_eq!(rcode::name(rcode::BADVERS), "RCODE16");
}

#[test]
fn query_builder() {
    let q = query(
        0x1234,
        &Name::from_text("id.server").unwrap(),
        TYPE_TXT,
        CLASS_CH,
        Some(Edns {
            udp_size: 1232,
            options: vec![(OPT_NSID, Vec::new())],
            ..Edns::default()
        }),
    );
    // dig's query, without its AD bit.
    let mut want = QUERY.to_vec();
    want[3] = 0x00;
    assert_eq!(q, want);
}

#[test]
fn response_skeleton() {
    let q = Message::parse(QUERY).unwrap();
    let mut r = Message::response(&q.header);
    // QR set; RD copied; AD (a query-only bit here) and the counts not.
    assert_eq!((r.header.id, r.header.flags), (0x1234, 0x8100));
    // An opcode (here 2, STATUS) is copied too.
    let h = Header {
        flags: 0x1000,
        ..Header::default()
    };
    assert_eq!(Message::response(&h).header.opcode(), 2);
    r.header.flags |= rcode::REFUSED;
    let back = Message::parse(&r.to_bytes()).unwrap();
    assert!(back.header.is_response() && back.header.rd());
    assert_eq!(back.rcode(), rcode::REFUSED);
    // A query with every flag clear, as an authoritative-only client sends it.
    let q = Message::query(
        9,
        Question {
            name: Name::from_text("id.server").unwrap(),
            qtype: TYPE_TXT,
            qclass: CLASS_CH,
        },
    );
    assert_eq!(&q.to_bytes()[2..4], &[0, 0]);
}

#[test]
fn soa_both_ways_with_compressed_names() {
    // An SOA whose names point back into the question (as NSD sends it).
    let mut b = vec![
        0, 1, 0x84, 0x03, 0, 1, 0, 0, 0, 1, 0, 0, // header: NXDOMAIN, qd 1, ns 1
        7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'n', b'e', b't', 0, // example.net.
        0, 1, 0, 1, // A IN
        0xc0, 12, // owner: example.net.
        0, 6, 0, 1, 0, 0, 0x0e, 0x10, // SOA IN ttl 3600
        0, 31, // rdlen
        3, b'n', b's', b'1', 0xc0, 12, // ns1.example.net.
        2, b'h', b'm', 0xc0, 12, // hm.example.net.
    ];
    for v in [2026u32, 3600, 600, 86400, 60] {
        b.extend_from_slice(&v.to_be_bytes());
    }
    let m = Message::parse(&b).unwrap();
    let RData::Soa(s) = &m.authority[0].data else {
        panic!("not an SOA: {:?}", m.authority[0].data);
    };
    assert!(s.mname.eq_text("ns1.example.net") && s.rname.eq_text("hm.example.net"));
    assert_eq!((s.serial, s.minimum), (2026, 60));
    // Uncompressed and compressed encodings parse back to the same record.
    assert_eq!(Message::parse(&m.to_bytes()).unwrap(), m);
    assert_eq!(Message::parse(&m.to_wire(512)).unwrap(), m);
    // RDATA length that does not match the fixed part.
    let mut bad = b.clone();
    bad[40] = 30;
    bad.pop();
    assert!(Message::parse(&bad).is_err());
}
