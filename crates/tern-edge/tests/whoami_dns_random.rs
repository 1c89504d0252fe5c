//! The fuzz target's properties on stable Rust (CI has no cargo-fuzz): seeded random mutations
//! of real queries, a bounded number of iterations, the same invariants as
//! `fuzz/fuzz_targets/dns_query.rs`.

use tern_dns::{CLASS_CH, CLASS_IN, Edns, Header, Message, Name, OPT_NSID};
use tern_edge::whoami::SiteIdentity;
use tern_edge::whoami::dns::{Transport, query, respond};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let nsid = Some(Edns {
        udp_size: 1232,
        options: vec![(OPT_NSID, vec![])],
        ..Edns::default()
    });
    let n = |s: &str| Name::from_text(s).unwrap();
    vec![
        query(1, &n("id.server"), 16, CLASS_CH, nsid.clone()),
        query(2, &n("hostname.bind"), 16, CLASS_CH, None),
        query(3, &n("www.example.com"), 1, CLASS_IN, nsid),
        // A response with compressed names (answer owner and CNAME data point at the question).
        vec![
            0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 3, b'w', b'w', b'w', 0, 0, 1, 0, 1, 0xc0, 12,
            0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xc0, 12,
        ],
    ]
}

fn check(data: &[u8], identity: &SiteIdentity) {
    if let Ok(m) = Message::parse(data) {
        let back = Message::parse(&m.to_bytes()).expect("our own encoding parses");
        assert_eq!(
            (
                &back.questions,
                &back.answers,
                &back.authority,
                &back.additional,
                &back.edns
            ),
            (
                &m.questions,
                &m.answers,
                &m.authority,
                &m.additional,
                &m.edns
            ),
            "round trip of {data:?}"
        );
    }
    for transport in [Transport::Udp, Transport::Tcp] {
        let Some(reply) = respond(data, identity, transport) else {
            continue;
        };
        let id = Header::parse(data).expect("reply implies a header").id;
        let r = Message::parse(&reply).expect("replies parse");
        assert!(r.header.is_response() && r.header.id == id, "{data:?}");
        if transport == Transport::Udp {
            let limit = match Message::parse(data).ok().and_then(|m| m.edns) {
                Some(e) => usize::from(e.udp_size.clamp(512, 1232)),
                None => 512,
            };
            assert!(reply.len() <= limit, "{data:?}");
        }
    }
}

#[test]
fn random_mutations_keep_the_invariants() {
    let identity = SiteIdentity::new("ams".parse().unwrap());
    let seeds = seeds();
    let mut rng = Rng(0x7e57_5eed_d15c_a11e);
    let mut parsed = 0usize;
    for i in 0..50_000 {
        let mut data = seeds[i % seeds.len()].clone();
        for _ in 0..=rng.below(4) {
            match rng.below(5) {
                0 if !data.is_empty() => {
                    let at = rng.below(data.len());
                    data[at] = rng.next() as u8;
                }
                1 if !data.is_empty() => {
                    let at = rng.below(data.len());
                    data[at] ^= 1 << rng.below(8);
                }
                2 => {
                    let at = rng.below(data.len() + 1);
                    data.truncate(at);
                }
                3 => {
                    let at = rng.below(data.len() + 1);
                    data.insert(at, rng.next() as u8);
                }
                _ if data.len() > 12 => {
                    // Point a byte pair somewhere: compression pointers at random targets.
                    let at = 12 + rng.below(data.len() - 12);
                    data[at] = 0xc0 | (rng.next() as u8 & 0x3f);
                }
                _ => {}
            }
        }
        parsed += usize::from(Message::parse(&data).is_ok());
        check(&data, &identity);
    }
    // The mutations must not be so destructive that nothing parses (that would test little).
    assert!(
        parsed > 5_000,
        "only {parsed} of 50000 mutated packets parsed"
    );
}
