//! Annotated bytes ↔ struct tests for the DNS codec.

use super::*;

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
