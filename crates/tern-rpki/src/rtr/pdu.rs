//! RTR PDU codec (RFC 8210 §5; version 0 layouts from RFC 6810 §5).
//!
//! Every PDU starts with the 8-byte header of §5.1:
//!
//! ```text
//!  0          8          16         24        31
//! +----------+----------+---------------------+
//! | version  | PDU type | session id / flags  |
//! +----------+----------+---------------------+
//! |                 length (incl. header)     |
//! +-------------------------------------------+
//! ```
//!
//! [`decode`] works on a byte stream: it returns `Ok(None)` until a whole PDU is buffered, then
//! the PDU and how many bytes it used. It never panics on any input.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use tern_types::{Asn, Prefix};

use crate::vrp::Vrp;

/// PDU type numbers (RFC 8210 §5 and the IANA "rpki-rtr-pdu" registry).
pub mod pdu_type {
    /// Serial Notify, §5.2.
    pub const SERIAL_NOTIFY: u8 = 0;
    /// Serial Query, §5.3.
    pub const SERIAL_QUERY: u8 = 1;
    /// Reset Query, §5.4.
    pub const RESET_QUERY: u8 = 2;
    /// Cache Response, §5.5.
    pub const CACHE_RESPONSE: u8 = 3;
    /// IPv4 Prefix, §5.6.
    pub const IPV4_PREFIX: u8 = 4;
    /// IPv6 Prefix, §5.7.
    pub const IPV6_PREFIX: u8 = 6;
    /// End of Data, §5.8.
    pub const END_OF_DATA: u8 = 7;
    /// Cache Reset, §5.9.
    pub const CACHE_RESET: u8 = 8;
    /// Router Key, §5.10 (version 1 only).
    pub const ROUTER_KEY: u8 = 9;
    /// Error Report, §5.11.
    pub const ERROR_REPORT: u8 = 10;
}

/// Largest PDU we accept. Real PDUs are at most a few hundred bytes (a Router Key carries one
/// SPKI; an Error Report one PDU and a text); anything larger is corrupt or hostile.
pub const MAX_PDU_LEN: u32 = 64 * 1024;

/// Error codes of RFC 8210 §12 (IANA "rpki-rtr-error").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ErrorCode(pub u16);

impl ErrorCode {
    /// 0, fatal.
    pub const CORRUPT_DATA: ErrorCode = ErrorCode(0);
    /// 1, fatal.
    pub const INTERNAL_ERROR: ErrorCode = ErrorCode(1);
    /// 2, not fatal: the cache has no data yet.
    pub const NO_DATA_AVAILABLE: ErrorCode = ErrorCode(2);
    /// 3, fatal.
    pub const INVALID_REQUEST: ErrorCode = ErrorCode(3);
    /// 4, fatal.
    pub const UNSUPPORTED_PROTOCOL_VERSION: ErrorCode = ErrorCode(4);
    /// 5, fatal.
    pub const UNSUPPORTED_PDU_TYPE: ErrorCode = ErrorCode(5);
    /// 6, fatal.
    pub const WITHDRAWAL_OF_UNKNOWN_RECORD: ErrorCode = ErrorCode(6);
    /// 7, fatal.
    pub const DUPLICATE_ANNOUNCEMENT: ErrorCode = ErrorCode(7);
    /// 8, fatal (RFC 8210).
    pub const UNEXPECTED_PROTOCOL_VERSION: ErrorCode = ErrorCode(8);
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.0 {
            0 => "Corrupt Data",
            1 => "Internal Error",
            2 => "No Data Available",
            3 => "Invalid Request",
            4 => "Unsupported Protocol Version",
            5 => "Unsupported PDU Type",
            6 => "Withdrawal of Unknown Record",
            7 => "Duplicate Announcement Received",
            8 => "Unexpected Protocol Version",
            _ => "unknown error code",
        };
        write!(f, "{name} ({})", self.0)
    }
}

/// End of Data timing parameters (RFC 8210 §6), seconds. Absent in version 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// Refresh Interval: poll the cache this often.
    pub refresh: u32,
    /// Retry Interval: after a failed poll, retry this soon.
    pub retry: u32,
    /// Expire Interval: drop the data if it cannot be refreshed for this long.
    pub expire: u32,
}

impl Default for Timing {
    /// The defaults of RFC 8210 §6: refresh 3600, retry 600, expire 7200.
    fn default() -> Self {
        Timing {
            refresh: 3600,
            retry: 600,
            expire: 7200,
        }
    }
}

/// One RTR PDU. The protocol version travels next to it (see [`Decoded`], [`encode`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pdu {
    /// The cache has new data (§5.2).
    SerialNotify {
        /// Session ID.
        session_id: u16,
        /// The cache's newest serial.
        serial: u32,
    },
    /// "What changed since `serial`?" (§5.3).
    SerialQuery {
        /// Session ID.
        session_id: u16,
        /// The router's serial.
        serial: u32,
    },
    /// "Send everything" (§5.4).
    ResetQuery,
    /// Start of the cache's answer (§5.5).
    CacheResponse {
        /// Session ID.
        session_id: u16,
    },
    /// An IPv4 (§5.6) or IPv6 (§5.7) Prefix PDU, chosen by the prefix's family.
    Prefix {
        /// Flags bit 0: 1 = announce, 0 = withdraw.
        announce: bool,
        /// The payload.
        vrp: Vrp,
    },
    /// End of the cache's answer (§5.8).
    EndOfData {
        /// Session ID.
        session_id: u16,
        /// The serial of the data just sent.
        serial: u32,
        /// Version 1 only.
        timing: Option<Timing>,
    },
    /// "I cannot answer your Serial Query; send a Reset Query" (§5.9).
    CacheReset,
    /// A BGPsec router key (§5.10); decoded so a session does not break on it, not used by tern.
    RouterKey {
        /// Flags bit 0: announce.
        announce: bool,
        /// Subject Key Identifier.
        ski: [u8; 20],
        /// The router's AS.
        asn: Asn,
        /// Subject Public Key Info, DER.
        spki: Vec<u8>,
    },
    /// An error (§5.11).
    ErrorReport {
        /// What went wrong.
        code: ErrorCode,
        /// The offending PDU, possibly empty.
        pdu: Vec<u8>,
        /// Diagnostic text, possibly empty.
        text: String,
    },
}

/// A decoded PDU with its header's version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// Protocol version field.
    pub version: u8,
    /// The PDU.
    pub pdu: Pdu,
    /// Its length on the wire.
    pub len: usize,
}

/// Bytes that are not a valid PDU. Each maps to the error code a router reports back.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The length field is impossible for the type, or over [`MAX_PDU_LEN`].
    #[error("PDU type {pdu_type} with length {len}: {why}")]
    BadLength {
        /// PDU type.
        pdu_type: u8,
        /// Length field.
        len: u32,
        /// What was expected.
        why: &'static str,
    },
    /// A PDU type we do not know (or that this version does not have).
    #[error("unsupported PDU type {pdu_type} in protocol version {version}")]
    UnsupportedType {
        /// PDU type.
        pdu_type: u8,
        /// Header version.
        version: u8,
    },
    /// A field holds a value the RFC forbids.
    #[error("PDU type {pdu_type}: {why}")]
    BadField {
        /// PDU type.
        pdu_type: u8,
        /// What is wrong.
        why: String,
    },
}

impl DecodeError {
    /// The RFC 8210 §12 code to report this with.
    pub fn code(&self) -> ErrorCode {
        match self {
            DecodeError::UnsupportedType { .. } => ErrorCode::UNSUPPORTED_PDU_TYPE,
            _ => ErrorCode::CORRUPT_DATA,
        }
    }
}

/// The fixed length of each fixed-size PDU in `version`, or `None` for variable ones.
fn fixed_len(pdu_type: u8, version: u8) -> Option<u32> {
    use pdu_type::*;
    match pdu_type {
        SERIAL_NOTIFY | SERIAL_QUERY => Some(12),
        RESET_QUERY | CACHE_RESPONSE | CACHE_RESET => Some(8),
        IPV4_PREFIX => Some(20),
        IPV6_PREFIX => Some(32),
        END_OF_DATA => Some(if version == 0 { 12 } else { 24 }),
        _ => None,
    }
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}
fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Decodes the first PDU in `buf`. `Ok(None)`: not enough bytes yet.
pub fn decode(buf: &[u8]) -> Result<Option<Decoded>, DecodeError> {
    if buf.len() < 8 {
        return Ok(None);
    }
    let (version, ty) = (buf[0], buf[1]);
    let len = be32(buf, 4);
    if len > MAX_PDU_LEN {
        return Err(DecodeError::BadLength {
            pdu_type: ty,
            len,
            why: "longer than any real PDU",
        });
    }
    if let Some(want) = fixed_len(ty, version) {
        if len != want {
            return Err(DecodeError::BadLength {
                pdu_type: ty,
                len,
                why: "wrong length for this PDU type and version",
            });
        }
    } else if len < 8 {
        return Err(DecodeError::BadLength {
            pdu_type: ty,
            len,
            why: "shorter than the header",
        });
    }
    let n = len as usize;
    if buf.len() < n {
        return Ok(None);
    }
    let b = &buf[..n];
    let session = be16(b, 2);
    use pdu_type::*;
    let pdu = match ty {
        SERIAL_NOTIFY => Pdu::SerialNotify {
            session_id: session,
            serial: be32(b, 8),
        },
        SERIAL_QUERY => Pdu::SerialQuery {
            session_id: session,
            serial: be32(b, 8),
        },
        RESET_QUERY => Pdu::ResetQuery,
        CACHE_RESPONSE => Pdu::CacheResponse {
            session_id: session,
        },
        IPV4_PREFIX | IPV6_PREFIX => decode_prefix(b)?,
        END_OF_DATA => Pdu::EndOfData {
            session_id: session,
            serial: be32(b, 8),
            timing: (version >= 1).then(|| Timing {
                refresh: be32(b, 12),
                retry: be32(b, 16),
                expire: be32(b, 20),
            }),
        },
        CACHE_RESET => Pdu::CacheReset,
        ROUTER_KEY if version >= 1 => decode_router_key(b)?,
        ERROR_REPORT => decode_error_report(b)?,
        _ => {
            return Err(DecodeError::UnsupportedType {
                pdu_type: ty,
                version,
            });
        }
    };
    Ok(Some(Decoded {
        version,
        pdu,
        len: n,
    }))
}

/// §5.6 / §5.7: flags, prefix length, max length, zero, prefix, ASN.
fn decode_prefix(b: &[u8]) -> Result<Pdu, DecodeError> {
    let ty = b[1];
    let (flags, plen, max) = (b[8], b[9], b[10]);
    let addr = if ty == pdu_type::IPV4_PREFIX {
        IpAddr::V4(Ipv4Addr::new(b[12], b[13], b[14], b[15]))
    } else {
        let mut o = [0u8; 16];
        o.copy_from_slice(&b[12..28]);
        IpAddr::V6(Ipv6Addr::from(o))
    };
    let asn = Asn(be32(b, b.len() - 4));
    let bad = |why: String| DecodeError::BadField { pdu_type: ty, why };
    let prefix = Prefix::new(addr, plen).map_err(|e| bad(e.to_string()))?;
    let vrp = Vrp::new(prefix, u16::from(max), asn).map_err(|e| bad(e.to_string()))?;
    Ok(Pdu::Prefix {
        announce: flags & 1 == 1,
        vrp,
    })
}

/// §5.10: flags in the session field, SKI, ASN, SPKI.
fn decode_router_key(b: &[u8]) -> Result<Pdu, DecodeError> {
    if b.len() < 8 + 20 + 4 {
        return Err(DecodeError::BadLength {
            pdu_type: b[1],
            len: b.len() as u32,
            why: "Router Key needs SKI and ASN",
        });
    }
    let mut ski = [0u8; 20];
    ski.copy_from_slice(&b[8..28]);
    Ok(Pdu::RouterKey {
        announce: b[2] & 1 == 1,
        ski,
        asn: Asn(be32(b, 28)),
        spki: b[32..].to_vec(),
    })
}

/// §5.11: code, encapsulated PDU length + PDU, text length + UTF-8 text.
fn decode_error_report(b: &[u8]) -> Result<Pdu, DecodeError> {
    let ty = b[1];
    let short = |why| DecodeError::BadLength {
        pdu_type: ty,
        len: b.len() as u32,
        why,
    };
    if b.len() < 16 {
        return Err(short("Error Report needs two length fields"));
    }
    let pdu_len = be32(b, 8) as usize;
    let pdu_end = 12usize
        .checked_add(pdu_len)
        .filter(|&e| e.checked_add(4).is_some_and(|t| t <= b.len()))
        .ok_or_else(|| short("encapsulated PDU longer than the Error Report"))?;
    let text_len = be32(b, pdu_end) as usize;
    let text_start = pdu_end + 4;
    if text_start.checked_add(text_len) != Some(b.len()) {
        return Err(short("error text length does not match the PDU length"));
    }
    let text = String::from_utf8_lossy(&b[text_start..]).into_owned();
    Ok(Pdu::ErrorReport {
        code: ErrorCode(be16(b, 2)),
        pdu: b[12..pdu_end].to_vec(),
        text,
    })
}

/// Encodes `pdu` with header version `version`. An End of Data in version 0 drops the timing.
pub fn encode(version: u8, pdu: &Pdu) -> Vec<u8> {
    use pdu_type::*;
    let mut out = Vec::with_capacity(32);
    let header = |out: &mut Vec<u8>, ty: u8, session: u16| {
        out.push(version);
        out.push(ty);
        out.extend_from_slice(&session.to_be_bytes());
        out.extend_from_slice(&[0; 4]); // length, patched below
    };
    match pdu {
        Pdu::SerialNotify { session_id, serial } => {
            header(&mut out, SERIAL_NOTIFY, *session_id);
            out.extend_from_slice(&serial.to_be_bytes());
        }
        Pdu::SerialQuery { session_id, serial } => {
            header(&mut out, SERIAL_QUERY, *session_id);
            out.extend_from_slice(&serial.to_be_bytes());
        }
        Pdu::ResetQuery => header(&mut out, RESET_QUERY, 0),
        Pdu::CacheResponse { session_id } => header(&mut out, CACHE_RESPONSE, *session_id),
        Pdu::Prefix { announce, vrp } => {
            let v4 = matches!(vrp.prefix.addr(), IpAddr::V4(_));
            header(&mut out, if v4 { IPV4_PREFIX } else { IPV6_PREFIX }, 0);
            out.extend_from_slice(&[u8::from(*announce), vrp.prefix.len(), vrp.max_len, 0]);
            match vrp.prefix.addr() {
                IpAddr::V4(a) => out.extend_from_slice(&a.octets()),
                IpAddr::V6(a) => out.extend_from_slice(&a.octets()),
            }
            out.extend_from_slice(&vrp.asn.0.to_be_bytes());
        }
        Pdu::EndOfData {
            session_id,
            serial,
            timing,
        } => {
            header(&mut out, END_OF_DATA, *session_id);
            out.extend_from_slice(&serial.to_be_bytes());
            if version >= 1 {
                let t = timing.unwrap_or_default();
                for v in [t.refresh, t.retry, t.expire] {
                    out.extend_from_slice(&v.to_be_bytes());
                }
            }
        }
        Pdu::CacheReset => header(&mut out, CACHE_RESET, 0),
        Pdu::RouterKey {
            announce,
            ski,
            asn,
            spki,
        } => {
            header(&mut out, ROUTER_KEY, u16::from(*announce) << 8);
            out.extend_from_slice(ski);
            out.extend_from_slice(&asn.0.to_be_bytes());
            out.extend_from_slice(spki);
        }
        Pdu::ErrorReport { code, pdu, text } => {
            header(&mut out, ERROR_REPORT, code.0);
            // Bounded so the whole PDU stays under MAX_PDU_LEN.
            let pdu = &pdu[..pdu.len().min(1024)];
            let text = truncate_utf8(text, 1024);
            out.extend_from_slice(&(pdu.len() as u32).to_be_bytes());
            out.extend_from_slice(pdu);
            out.extend_from_slice(&(text.len() as u32).to_be_bytes());
            out.extend_from_slice(text.as_bytes());
        }
    }
    let len = (out.len() as u32).to_be_bytes();
    out[4..8].copy_from_slice(&len);
    out
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn truncate_utf8(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vrp(prefix: &str, max_len: u16, asn: u32) -> Vrp {
        Vrp::new(prefix.parse().unwrap(), max_len, Asn(asn)).unwrap()
    }

    fn round_trip(version: u8, pdu: Pdu, bytes: &[u8]) {
        assert_eq!(encode(version, &pdu), bytes, "encode {pdu:?}");
        let d = decode(bytes).unwrap().unwrap();
        assert_eq!((d.version, &d.pdu, d.len), (version, &pdu, bytes.len()));
        // Every strict prefix of the bytes is "need more".
        for cut in 0..bytes.len() {
            assert_eq!(decode(&bytes[..cut]), Ok(None), "cut at {cut}");
        }
    }

    #[test]
    fn queries_and_small_pdus() {
        #[rustfmt::skip]
        round_trip(1, Pdu::ResetQuery, &[
            1, 2, 0, 0,          // v1, Reset Query, zero
            0, 0, 0, 8,          // length 8
        ]);
        #[rustfmt::skip]
        round_trip(1, Pdu::SerialQuery { session_id: 0x1234, serial: 7 }, &[
            1, 1, 0x12, 0x34,    // v1, Serial Query, session 0x1234
            0, 0, 0, 12,         // length 12
            0, 0, 0, 7,          // serial 7
        ]);
        #[rustfmt::skip]
        round_trip(0, Pdu::SerialNotify { session_id: 1, serial: 0xdead_beef }, &[
            0, 0, 0, 1, 0, 0, 0, 12, 0xde, 0xad, 0xbe, 0xef,
        ]);
        round_trip(
            1,
            Pdu::CacheResponse { session_id: 9 },
            &[1, 3, 0, 9, 0, 0, 0, 8],
        );
        round_trip(0, Pdu::CacheReset, &[0, 8, 0, 0, 0, 0, 0, 8]);
    }

    #[test]
    fn prefix_pdus() {
        #[rustfmt::skip]
        round_trip(1, Pdu::Prefix { announce: true, vrp: vrp("192.0.2.0/24", 24, 64512) }, &[
            1, 4, 0, 0,          // v1, IPv4 Prefix, zero
            0, 0, 0, 20,         // length 20
            1, 24, 24, 0,        // flags announce, prefix len 24, max len 24, zero
            192, 0, 2, 0,        // prefix
            0, 0, 0xfc, 0x00,    // ASN 64512
        ]);
        #[rustfmt::skip]
        round_trip(1, Pdu::Prefix { announce: false, vrp: vrp("2001:db8::/32", 48, 4_200_000_000) }, &[
            1, 6, 0, 0,          // v1, IPv6 Prefix, zero
            0, 0, 0, 32,         // length 32
            0, 32, 48, 0,        // flags withdraw, /32, max 48, zero
            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0xfa, 0x56, 0xea, 0x00, // ASN 4200000000
        ]);
    }

    #[test]
    fn end_of_data_both_versions() {
        #[rustfmt::skip]
        round_trip(0, Pdu::EndOfData { session_id: 5, serial: 42, timing: None }, &[
            0, 7, 0, 5, 0, 0, 0, 12, 0, 0, 0, 42,
        ]);
        let t = Timing {
            refresh: 3600,
            retry: 600,
            expire: 7200,
        };
        #[rustfmt::skip]
        round_trip(1, Pdu::EndOfData { session_id: 5, serial: 42, timing: Some(t) }, &[
            1, 7, 0, 5, 0, 0, 0, 24,
            0, 0, 0, 42,         // serial
            0, 0, 0x0e, 0x10,    // refresh 3600
            0, 0, 0x02, 0x58,    // retry 600
            0, 0, 0x1c, 0x20,    // expire 7200
        ]);
    }

    #[test]
    fn error_report_and_router_key() {
        let inner = encode(1, &Pdu::ResetQuery);
        let pdu = Pdu::ErrorReport {
            code: ErrorCode::UNSUPPORTED_PROTOCOL_VERSION,
            pdu: inner.clone(),
            text: "v1?".into(),
        };
        #[rustfmt::skip]
        let mut bytes = vec![
            0, 10, 0, 4,         // v0, Error Report, code 4
            0, 0, 0, 31,         // length 8 + 4 + 8 + 4 + 3... patched below
            0, 0, 0, 8,          // encapsulated PDU length
        ];
        bytes.extend_from_slice(&inner);
        bytes.extend_from_slice(&[0, 0, 0, 3, b'v', b'1', b'?']);
        bytes[7] = bytes.len() as u8;
        round_trip(0, pdu, &bytes);

        let key = Pdu::RouterKey {
            announce: true,
            ski: [7; 20],
            asn: Asn(64512),
            spki: vec![1, 2, 3],
        };
        let enc = encode(1, &key);
        assert_eq!(&enc[..4], &[1, 9, 1, 0]);
        round_trip(1, key, &enc);
    }

    #[test]
    fn rejects_corrupt_pdus() {
        // Wrong fixed length.
        assert!(matches!(
            decode(&[1, 2, 0, 0, 0, 0, 0, 9, 0]),
            Err(DecodeError::BadLength { .. })
        ));
        // v0 End of Data with the v1 length.
        let mut eod = encode(
            1,
            &Pdu::EndOfData {
                session_id: 1,
                serial: 1,
                timing: None,
            },
        );
        eod[0] = 0;
        assert!(decode(&eod).is_err());
        // Router Key does not exist in version 0; unknown types are reported as such.
        let e = decode(&[0, 9, 0, 0, 0, 0, 0, 8]).unwrap_err();
        assert_eq!(e.code(), ErrorCode::UNSUPPORTED_PDU_TYPE);
        assert!(decode(&[1, 200, 0, 0, 0, 0, 0, 8]).is_err());
        // Huge length is refused before waiting for the bytes.
        assert!(decode(&[1, 10, 0, 0, 0x7f, 0xff, 0xff, 0xff]).is_err());
        // Host bits set, max length below prefix length, prefix length beyond 32.
        for (plen, max, addr) in [
            (24u8, 24u8, [192, 0, 2, 1]),
            (24, 16, [192, 0, 2, 0]),
            (33, 33, [192, 0, 2, 0]),
        ] {
            let mut b = encode(
                1,
                &Pdu::Prefix {
                    announce: true,
                    vrp: vrp("192.0.2.0/24", 24, 1),
                },
            );
            b[9] = plen;
            b[10] = max;
            b[12..16].copy_from_slice(&addr);
            let e = decode(&b).unwrap_err();
            assert_eq!(e.code(), ErrorCode::CORRUPT_DATA, "{e}");
        }
        // Error Report whose inner lengths overflow the PDU.
        let mut er = encode(
            1,
            &Pdu::ErrorReport {
                code: ErrorCode(0),
                pdu: vec![],
                text: String::new(),
            },
        );
        er[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(decode(&er).is_err());
    }
}
