//! Helpers shared by the `wire_*` integration tests: annotated hex, prefixes, a tiny
//! deterministic random generator and an MRT reader; test data is tern-testkit's.
#![allow(dead_code, unused_imports, clippy::unwrap_used)]

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

/// Every BGP4MP / BGP4MP_ET message record of an MRT file (plain, .gz, .bz2), read with
/// tern-observe's MRT reader. Other records (state changes, TABLE_DUMP) are skipped; the count
/// of skipped records is returned too. A malformed file fails the test with the reader's error
/// (byte offset and what was read).
pub fn read_mrt_messages(path: &std::path::Path) -> (Vec<MrtBgp>, usize) {
    let mut reader = tern_observe::mrt::open(path).unwrap();
    let mut out = Vec::new();
    let mut skipped = 0;
    while let Some(raw) = reader
        .next_raw()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    {
        match tern_observe::mrt::bgp4mp_message(&raw).unwrap() {
            Some(m) if !m.add_path => out.push(MrtBgp {
                message: m.message.to_vec(),
                as4: m.as4,
                peer_as: m.peer.asn.0,
            }),
            _ => skipped += 1,
        }
    }
    (out, skipped)
}

pub mod generate;
pub mod oracle;
