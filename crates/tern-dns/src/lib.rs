//! tern's DNS wire codec: pure, no I/O, no tokio.
//!
//! Shared by every part of tern that reads or writes DNS messages: the site daemon's "which
//! site" responder and DNS health check (tern-edge `whoami`, `probe`), the RIPE Atlas `abuf`
//! decoder (tern-atlas `dns`), the lab's probes (tern-lab), and later the GeoDNS server.
//!
//! Implements:
//! - RFC 1035 §4.1: header, question, resource records; §4.1.4 name compression (decoding
//!   only); §3.1 name and label limits; §3.2.4 class CHAOS; §5.1 text escapes;
//! - RFC 3596: AAAA;
//! - RFC 6891 §6.1: the EDNS(0) OPT pseudo-record, extended RCODE (§6.1.3);
//! - RFC 5001: the NSID option (code 3); RFC 4892: CHAOS TXT identity answers;
//! - RFC 7871: the EDNS Client Subnet option (code 8), [`ecs`];
//! - RFC 1035 §3.3.13: SOA data; §4.1.4 compression on encoding for servers
//!   ([`Message::to_wire`], bounded table), with TC when the answer does not fit (RFC 2181 §9);
//! - RFC 4343: case-insensitive name comparison.
//!
//! Record data is decoded for A, AAAA, TXT, NS/CNAME/PTR, SOA; every other type is kept as bytes.
//!
//! Why not `hickory-proto`: it would pull a large dependency tree (and its 0.26 line needs Rust
//! 1.88, above the workspace's 1.85) to parse one question and write one TXT record. The subset
//! here is a few hundred lines, decodes without panicking on any input (fuzzed by
//! `fuzz/fuzz_targets/dns_query.rs` and `atlas_abuf.rs`), and bounds every loop by the packet
//! length:
//! - names: at most 255 octets (RFC 1035 §3.1), labels at most 63; compression pointers
//!   (§4.1.4) must point strictly backwards, so they cannot loop, and one name may follow at
//!   most [`MAX_POINTER_JUMPS`], so that a packet of thousands of names each pointing into a long
//!   pointer chain costs linear, not quadratic, time;
//! - section counts are only trusted as far as the bytes go: a header claiming 65535 records in a
//!   40-byte packet fails with [`WireError::Truncated`] after reading what is there;
//! - at most one OPT record, in the additional section, owned by the root; no bytes after the
//!   last record.
//!
//! [`Message::to_bytes`] never compresses names; [`Message::to_wire`] (the GeoDNS answers)
//! compresses against a table capped at [`MAX_COMPRESSION_ENTRIES`] suffixes, which avoids the
//! quadratic compression cost hickory had (RUSTSEC-2026-0119).

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod ecs;
mod encode;
mod message;
mod name;

pub use ecs::{ClientSubnet, EcsError, OPT_ECS};
pub use encode::MAX_COMPRESSION_ENTRIES;
pub use message::{Edns, Header, Message, Question, RData, Record, Soa, WireError};
pub use name::{MAX_POINTER_JUMPS, Name};

/// Record type A (RFC 1035 §3.2.2).
pub const TYPE_A: u16 = 1;
/// Record type NS.
pub const TYPE_NS: u16 = 2;
/// Record type CNAME.
pub const TYPE_CNAME: u16 = 5;
/// Record type SOA.
pub const TYPE_SOA: u16 = 6;
/// Record type PTR.
pub const TYPE_PTR: u16 = 12;
/// Record type TXT.
pub const TYPE_TXT: u16 = 16;
/// Record type AAAA (RFC 3596).
pub const TYPE_AAAA: u16 = 28;
/// Pseudo-record OPT (RFC 6891 §6.1.1).
pub const TYPE_OPT: u16 = 41;
/// QTYPE ANY / `*` (RFC 1035 §3.2.3).
pub const TYPE_ANY: u16 = 255;
/// Class IN.
pub const CLASS_IN: u16 = 1;
/// Class CH (CHAOS, RFC 1035 §3.2.4).
pub const CLASS_CH: u16 = 3;
/// EDNS option NSID (RFC 5001 §2.3).
pub const OPT_NSID: u16 = 3;

/// Response codes (RFC 1035 §4.1.1; BADVERS from RFC 6891 §6.1.3).
pub mod rcode {
    /// No error.
    pub const NOERROR: u16 = 0;
    /// Format error.
    pub const FORMERR: u16 = 1;
    /// Server failure.
    pub const SERVFAIL: u16 = 2;
    /// Name does not exist.
    pub const NXDOMAIN: u16 = 3;
    /// Not implemented.
    pub const NOTIMP: u16 = 4;
    /// Refused.
    pub const REFUSED: u16 = 5;
    /// Unsupported EDNS version (extended: upper 8 bits in the OPT TTL).
    pub const BADVERS: u16 = 16;

    /// The mnemonic of `code` (`NXDOMAIN`), or `RCODE<n>` for codes without one here.
    pub fn name(code: u16) -> String {
        match code {
            NOERROR => "NOERROR".into(),
            FORMERR => "FORMERR".into(),
            SERVFAIL => "SERVFAIL".into(),
            NXDOMAIN => "NXDOMAIN".into(),
            NOTIMP => "NOTIMP".into(),
            REFUSED => "REFUSED".into(),
            other => format!("RCODE{other}"),
        }
    }
}

/// A query for `name`/`qtype`/`qclass` with RD set and `edns` as its OPT record, encoded.
pub fn query(id: u16, name: &Name, qtype: u16, qclass: u16, edns: Option<Edns>) -> Vec<u8> {
    let question = Question {
        name: name.clone(),
        qtype,
        qclass,
    };
    let mut m = Message::query(id, question);
    m.header.flags = Header::RD;
    m.edns = edns;
    m.to_bytes()
}

/// Bytes as text: printable ASCII (space included) as is, the rest as `\DDD` (RFC 1035 §5.1).
/// The form RIPE Atlas uses for TXT strings and NSID payloads.
pub fn escape(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    for &c in b {
        if (0x20..0x7f).contains(&c) {
            s.push(char::from(c));
        } else {
            s.push_str(&format!("\\{c:03}"));
        }
    }
    s
}
