//! Helpers shared by the `wire_*` integration tests: annotated hex, prefixes, a tiny
//! deterministic random generator and an MRT reader; test data is tern-testkit's.
#![allow(dead_code, unused_imports, clippy::unwrap_used)]

use std::io::Read;

use tern_bgp::wire::{Codec, Message, decode, encode};
use tern_types::Prefix;

/// Bytes from hex with `#` comments and any whitespace.
pub fn hex(annotated: &str) -> Vec<u8> {
    let digits: String = annotated
        .lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
        .collect();
    assert!(digits.len() % 2 == 0, "odd number of hex digits");
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap())
        .collect()
}

pub fn p(s: &str) -> Prefix {
    s.parse().unwrap()
}

pub const FOUR: Codec = Codec {
    four_octet_as: true,
    extended_messages: false,
};
pub const TWO: Codec = Codec {
    four_octet_as: false,
    extended_messages: false,
};

/// `bytes` decodes to `msg` and `msg` encodes to `bytes`.
pub fn both_ways(bytes: &[u8], msg: &Message, ctx: &Codec) {
    let got = decode(bytes, ctx).unwrap_or_else(|e| panic!("decode failed: {e} ({e:?})"));
    assert_eq!(got, Some((msg.clone(), bytes.len())), "decode");
    let mut out = Vec::new();
    encode(msg, ctx, &mut out).unwrap();
    assert_eq!(hexdump(&out), hexdump(bytes), "encode");
}

pub fn hexdump(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

pub use tern_testkit::{fixture, full_data};

/// xorshift64*: deterministic, seedable, no dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub fn u32(&mut self) -> u32 {
        self.next() as u32
    }
}

/// One BGP message from an MRT BGP4MP record (RFC 6396 §4.4).
pub struct MrtBgp {
    /// The BGP message bytes, header included.
    pub message: Vec<u8>,
    /// Recorded with 4-octet AS numbers (BGP4MP_MESSAGE_AS4 and friends).
    pub as4: bool,
    /// Peer AS.
    pub peer_as: u32,
}

/// Every BGP4MP / BGP4MP_ET message record of a gzipped MRT file. Other records (state changes,
/// TABLE_DUMP) are skipped; the count of skipped records is returned too.
pub fn read_mrt_messages(path: &std::path::Path) -> (Vec<MrtBgp>, usize) {
    let file = std::fs::File::open(path).unwrap();
    let mut data = Vec::new();
    flate2::read::MultiGzDecoder::new(file)
        .read_to_end(&mut data)
        .unwrap();
    let mut out = Vec::new();
    let mut skipped = 0;
    let mut at = 0;
    while at + 12 <= data.len() {
        let be16 = |i: usize| u16::from_be_bytes([data[i], data[i + 1]]);
        let be32 = |i: usize| u32::from_be_bytes(data[i..i + 4].try_into().unwrap());
        let ty = be16(at + 4);
        let subtype = be16(at + 6);
        let len = be32(at + 8) as usize;
        let mut body = at + 12;
        let end = body + len;
        assert!(end <= data.len(), "truncated MRT record at {at}");
        at = end;
        // 16 = BGP4MP, 17 = BGP4MP_ET (4 extra octets of microseconds).
        if ty == 17 {
            body += 4;
        }
        // Subtypes: 1 MESSAGE, 4 MESSAGE_AS4, 6 MESSAGE_LOCAL, 7 MESSAGE_AS4_LOCAL.
        let as4 = match (ty, subtype) {
            (16 | 17, 1 | 6) => false,
            (16 | 17, 4 | 7) => true,
            _ => {
                skipped += 1;
                continue;
            }
        };
        let asz = if as4 { 4 } else { 2 };
        let peer_as = if as4 {
            be32(body)
        } else {
            u32::from(be16(body))
        };
        let afi = be16(body + 2 * asz + 2);
        let ip = if afi == 1 { 4 } else { 16 };
        let msg_at = body + 2 * asz + 4 + 2 * ip;
        out.push(MrtBgp {
            message: data[msg_at..end].to_vec(),
            as4,
            peer_as,
        });
    }
    (out, skipped)
}

pub mod generate;
pub mod oracle;
