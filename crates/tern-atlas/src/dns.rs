//! RIPE Atlas `abuf` fields: base64 (RFC 4648 §4) of the raw DNS response, decoded with the
//! workspace DNS codec, `tern_dns`.
//!
//! Atlas's JSON `answers` is a partial decode and some results carry only `abuf`, and NSID exists
//! only in the wire form, so catchment needs the wire decode. What it reads from a message:
//! [`Message::nsid`] (RFC 5001, printed with [`tern_dns::escape`]) and
//! [`Message::identity_names`] (CHAOS TXT `id.server` / `hostname.bind`, RFC 4892, and CNAME
//! targets). Pure: no I/O.

pub use tern_dns::{Message, WireError};

/// Decodes an `abuf`'s bytes as a DNS message (RFC 1035 §4.1), with tern-dns's bounds: backward
/// compression pointers only, names at most 255 octets, no bytes after the last record.
pub fn decode(buf: &[u8]) -> Result<Message, WireError> {
    Message::parse(buf)
}

/// Decodes standard base64 (RFC 4648 §4), padding optional, whitespace ignored.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0u32;
    let mut padded = false;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => {
                padded = true;
                continue;
            }
            b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        if padded {
            return None;
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Leftover bits of a valid encoding are 2 or 4 zero bits; 6 means a truncated quantum.
    (bits != 6).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tern_dns::{Name, RData};

    #[test]
    fn base64_round_values() {
        assert_eq!(base64_decode("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(base64_decode("aGVsbG8").as_deref(), Some(&b"hello"[..]));
        assert_eq!(base64_decode("aGk=").as_deref(), Some(&b"hi"[..]));
        assert_eq!(base64_decode("a"), None);
        assert_eq!(base64_decode("a*bc"), None);
    }

    #[test]
    fn real_quad9_abuf() {
        // From RIPE Atlas msm 24980149 (probe 32069): id.server.on.quad9.net CNAME.
        let b = base64_decode("ht+BgAABAAEAAAAAAmlkBnNlcnZlcgJvbgVxdWFkOQNuZXQAABAAAcAMAAUAAQAAADwAGQZyZXMxMTADbWlhAm9uBXF1YWQ5A25ldAA=").unwrap();
        let m = decode(&b).unwrap();
        assert_eq!(m.questions[0].name.to_dotted(), "id.server.on.quad9.net");
        assert_eq!(
            m.answers[0].data,
            RData::Name(Name::from_text("res110.mia.on.quad9.net").unwrap())
        );
        assert_eq!(
            m.identity_names(),
            vec!["res110.mia.on.quad9.net".to_string()]
        );
    }
}
