//! A small DNS wire-format decoder for RIPE Atlas `abuf` fields.
//!
//! Atlas's JSON `answers` is a partial decode and some results carry only `abuf` (base64 of the
//! raw response), and NSID exists only in the wire form, so catchment needs this decoder.
//! Implements: RFC 1035 §4.1 (header, question, resource records, §4.1.4 name compression),
//! RFC 3596 (AAAA), RFC 6891 §6.1 (OPT pseudo-RR, EDNS(0)), RFC 5001 (NSID, option code 3),
//! RFC 4892 (CHAOS TXT `id.server` / `hostname.bind` identity answers).
//!
//! Bounded: names are at most 255 octets and compression pointers must point backwards, so a
//! malicious buffer cannot loop. Pure: no I/O.

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::Serialize;

/// Why a buffer is not a DNS message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DnsError {
    /// The buffer ends inside a field.
    #[error("truncated at offset {0}")]
    Truncated(usize),
    /// A compression pointer that does not point backwards (RFC 1035 §4.1.4).
    #[error("bad compression pointer at offset {0}")]
    BadPointer(usize),
    /// A name longer than 255 octets (RFC 1035 §3.1).
    #[error("name too long at offset {0}")]
    NameTooLong(usize),
    /// Label type 0b01 / 0b10 (obsolete extended labels, RFC 6891 §5).
    #[error("unsupported label type at offset {0}")]
    LabelType(usize),
}

/// RR type numbers used here (RFC 1035 §3.2.2, RFC 3596, RFC 6891).
pub mod rtype {
    /// A.
    pub const A: u16 = 1;
    /// NS.
    pub const NS: u16 = 2;
    /// CNAME.
    pub const CNAME: u16 = 5;
    /// SOA.
    pub const SOA: u16 = 6;
    /// PTR.
    pub const PTR: u16 = 12;
    /// TXT.
    pub const TXT: u16 = 16;
    /// AAAA.
    pub const AAAA: u16 = 28;
    /// OPT.
    pub const OPT: u16 = 41;
}

/// EDNS option code of NSID (RFC 5001 §2.3).
pub const OPTION_NSID: u16 = 3;

/// A decoded DNS message.
#[derive(Clone, Debug, PartialEq, Serialize, Default)]
pub struct Message {
    /// Header ID.
    pub id: u16,
    /// Header flags (QR, opcode, AA, TC, RD, RA, Z, AD, CD, RCODE), as on the wire.
    pub flags: u16,
    /// Question section.
    pub questions: Vec<Question>,
    /// Answer section.
    pub answers: Vec<ResourceRecord>,
    /// Authority section.
    pub authority: Vec<ResourceRecord>,
    /// Additional section, without the OPT pseudo-RR.
    pub additional: Vec<ResourceRecord>,
    /// The OPT pseudo-RR, if any (RFC 6891).
    pub edns: Option<Edns>,
}

/// One question.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Question {
    /// Query name, dotted, without the trailing dot.
    pub name: String,
    /// QTYPE.
    pub qtype: u16,
    /// QCLASS (1 IN, 3 CH).
    pub qclass: u16,
}

/// One resource record.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ResourceRecord {
    /// Owner name.
    pub name: String,
    /// TYPE.
    pub rtype: u16,
    /// CLASS.
    pub class: u16,
    /// TTL in seconds.
    pub ttl: u32,
    /// Decoded RDATA.
    pub data: RData,
}

/// RDATA of the types tern reads; everything else is kept as bytes.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub enum RData {
    /// A.
    A(Ipv4Addr),
    /// AAAA.
    Aaaa(Ipv6Addr),
    /// TXT: character-strings, bytes outside printable ASCII written `\DDD` as Atlas does.
    Txt(Vec<String>),
    /// NS, CNAME, PTR: a domain name.
    Name(String),
    /// Any other type.
    Other(Vec<u8>),
}

/// EDNS(0) data from the OPT pseudo-RR (RFC 6891 §6.1.3).
#[derive(Clone, Debug, PartialEq, Serialize, Default)]
pub struct Edns {
    /// Requestor's UDP payload size (the CLASS field).
    pub udp_size: u16,
    /// Upper 8 bits of the extended RCODE.
    pub ext_rcode: u8,
    /// EDNS version.
    pub version: u8,
    /// The DO bit.
    pub dnssec_ok: bool,
    /// Options, in order.
    pub options: Vec<EdnsOption>,
}

/// One EDNS option.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EdnsOption {
    /// OPTION-CODE.
    pub code: u16,
    /// OPTION-DATA.
    pub data: Vec<u8>,
}

impl Message {
    /// RCODE, with the EDNS extension bits when there is an OPT RR (RFC 6891 §6.1.3).
    pub fn rcode(&self) -> u16 {
        let low = self.flags & 0x000f;
        match &self.edns {
            Some(e) => (u16::from(e.ext_rcode) << 4) | low,
            None => low,
        }
    }

    /// The NSID payload (RFC 5001), as text with non-printable bytes escaped.
    pub fn nsid(&self) -> Option<String> {
        let opt = self
            .edns
            .as_ref()?
            .options
            .iter()
            .find(|o| o.code == OPTION_NSID && !o.data.is_empty())?;
        Some(escape(&opt.data))
    }

    /// Names an answer gives for the server: TXT strings (CHAOS `id.server`, RFC 4892) and
    /// CNAME targets (Quad9 answers `id.server.on.quad9.net` with a CNAME to the instance).
    pub fn identity_names(&self) -> Vec<String> {
        self.answers
            .iter()
            .filter_map(|rr| match &rr.data {
                RData::Txt(parts) => Some(parts.concat()),
                RData::Name(n) if rr.rtype == rtype::CNAME => Some(n.clone()),
                _ => None,
            })
            .collect()
    }

    /// All TXT strings of the answer section, each RR's strings concatenated.
    pub fn txt_answers(&self) -> Vec<String> {
        self.answers
            .iter()
            .filter_map(|rr| match &rr.data {
                RData::Txt(parts) => Some(parts.concat()),
                _ => None,
            })
            .collect()
    }
}

/// Writes bytes as text: printable ASCII as is, the rest as `\DDD` (RFC 1035 §5.1).
fn escape(b: &[u8]) -> String {
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

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DnsError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(DnsError::Truncated(self.pos))?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or(DnsError::Truncated(self.pos))?;
        self.pos = end;
        Ok(s)
    }
    fn u16(&mut self) -> Result<u16, DnsError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, DnsError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Reads a possibly compressed name starting at the cursor (RFC 1035 §4.1.4).
    fn name(&mut self) -> Result<String, DnsError> {
        let (name, next) = read_name(self.buf, self.pos)?;
        self.pos = next;
        Ok(name)
    }
}

/// Reads a name at `start`; returns it and the offset after it in the original position.
fn read_name(buf: &[u8], start: usize) -> Result<(String, usize), DnsError> {
    let mut out = String::new();
    let mut pos = start;
    let mut after: Option<usize> = None;
    let mut wire_len = 0usize;
    // Every pointer must go strictly backwards, so this terminates; the bound is a safety net.
    let mut limit = pos;
    loop {
        let len = *buf.get(pos).ok_or(DnsError::Truncated(pos))?;
        match len & 0xc0 {
            0x00 => {
                if len == 0 {
                    let end = after.unwrap_or(pos + 1);
                    return Ok((out, end));
                }
                let l = usize::from(len);
                let label = buf
                    .get(pos + 1..pos + 1 + l)
                    .ok_or(DnsError::Truncated(pos))?;
                wire_len += l + 1;
                if wire_len > 255 {
                    return Err(DnsError::NameTooLong(start));
                }
                if !out.is_empty() {
                    out.push('.');
                }
                for &c in label {
                    match c {
                        b'.' | b'\\' => {
                            out.push('\\');
                            out.push(char::from(c));
                        }
                        0x21..=0x7e => out.push(char::from(c)),
                        _ => out.push_str(&format!("\\{c:03}")),
                    }
                }
                pos += 1 + l;
            }
            0xc0 => {
                let lo = *buf.get(pos + 1).ok_or(DnsError::Truncated(pos))?;
                let target = (usize::from(len & 0x3f) << 8) | usize::from(lo);
                if target >= limit {
                    return Err(DnsError::BadPointer(pos));
                }
                if after.is_none() {
                    after = Some(pos + 2);
                }
                limit = target;
                pos = target;
            }
            _ => return Err(DnsError::LabelType(pos)),
        }
    }
}

/// Decodes a DNS message (RFC 1035 §4.1).
pub fn decode(buf: &[u8]) -> Result<Message, DnsError> {
    let mut r = Reader { buf, pos: 0 };
    let id = r.u16()?;
    let flags = r.u16()?;
    let qd = r.u16()?;
    let an = r.u16()?;
    let ns = r.u16()?;
    let ar = r.u16()?;
    let mut m = Message {
        id,
        flags,
        ..Message::default()
    };
    for _ in 0..qd {
        let name = r.name()?;
        let qtype = r.u16()?;
        let qclass = r.u16()?;
        m.questions.push(Question {
            name,
            qtype,
            qclass,
        });
    }
    for (count, section) in [(an, 0u8), (ns, 1), (ar, 2)] {
        for _ in 0..count {
            let name = r.name()?;
            let rtype = r.u16()?;
            let class = r.u16()?;
            let ttl = r.u32()?;
            let rdlen = usize::from(r.u16()?);
            let rdata_start = r.pos;
            let rdata = r.take(rdlen)?;
            if rtype == rtype::OPT {
                m.edns = Some(edns(class, ttl, rdata)?);
                continue;
            }
            let data = rdata_of(buf, rtype, rdata_start, rdata)?;
            let rr = ResourceRecord {
                name,
                rtype,
                class,
                ttl,
                data,
            };
            match section {
                0 => m.answers.push(rr),
                1 => m.authority.push(rr),
                _ => m.additional.push(rr),
            }
        }
    }
    Ok(m)
}

fn rdata_of(buf: &[u8], rtype: u16, start: usize, rdata: &[u8]) -> Result<RData, DnsError> {
    Ok(match rtype {
        rtype::A if rdata.len() == 4 => {
            RData::A(Ipv4Addr::new(rdata[0], rdata[1], rdata[2], rdata[3]))
        }
        rtype::AAAA if rdata.len() == 16 => {
            let mut o = [0u8; 16];
            o.copy_from_slice(rdata);
            RData::Aaaa(Ipv6Addr::from(o))
        }
        rtype::TXT => {
            // RFC 1035 §3.3.14: one or more <character-string>s.
            let mut parts = Vec::new();
            let mut i = 0;
            while i < rdata.len() {
                let l = usize::from(rdata[i]);
                let s = rdata
                    .get(i + 1..i + 1 + l)
                    .ok_or(DnsError::Truncated(start + i))?;
                parts.push(escape(s));
                i += 1 + l;
            }
            RData::Txt(parts)
        }
        rtype::NS | rtype::CNAME | rtype::PTR => RData::Name(read_name(buf, start)?.0),
        _ => RData::Other(rdata.to_vec()),
    })
}

fn edns(class: u16, ttl: u32, rdata: &[u8]) -> Result<Edns, DnsError> {
    let mut e = Edns {
        udp_size: class,
        ext_rcode: (ttl >> 24) as u8,
        version: (ttl >> 16) as u8,
        dnssec_ok: ttl & 0x8000 != 0,
        options: Vec::new(),
    };
    let mut r = Reader { buf: rdata, pos: 0 };
    while r.pos < rdata.len() {
        let code = r.u16()?;
        let len = usize::from(r.u16()?);
        e.options.push(EdnsOption {
            code,
            data: r.take(len)?.to_vec(),
        });
    }
    Ok(e)
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

    #[test]
    fn base64_round_values() {
        assert_eq!(base64_decode("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(base64_decode("aGVsbG8").as_deref(), Some(&b"hello"[..]));
        assert_eq!(base64_decode("aGk=").as_deref(), Some(&b"hi"[..]));
        assert_eq!(base64_decode("a"), None);
        assert_eq!(base64_decode("a*bc"), None);
    }

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
        let m = decode(&b).unwrap();
        assert_eq!(m.id, 0x1234);
        assert_eq!(m.questions[0].name, "id.server");
        assert_eq!(m.questions[0].qclass, 3);
        assert_eq!(m.answers[0].name, "id.server");
        assert_eq!(m.txt_answers(), vec!["fra1".to_string()]);
        let e = m.edns.as_ref().unwrap();
        assert_eq!(e.udp_size, 1232);
        assert_eq!(m.nsid().as_deref(), Some("ab\\001\\002"));
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
        let m = decode(&b).unwrap();
        assert_eq!(m.answers[0].data, RData::A(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(
            m.answers[1].data,
            RData::Aaaa("2001:db8::1".parse().unwrap())
        );
        assert_eq!(m.answers[2].data, RData::Name("y.example".into()));
    }

    #[test]
    fn pointer_loops_and_truncation_are_errors() {
        // A name that points at itself.
        let mut b = vec![0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        b.extend([0xc0, 12, 0, 1, 0, 1]);
        assert_eq!(decode(&b), Err(DnsError::BadPointer(12)));
        assert!(matches!(decode(&[0, 1, 2]), Err(DnsError::Truncated(_))));
        // Header says one answer, none present.
        let b = [0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0];
        assert!(matches!(decode(&b), Err(DnsError::Truncated(12))));
    }

    #[test]
    fn real_quad9_abuf() {
        // From RIPE Atlas msm 24980149 (probe 32069): id.server.on.quad9.net CNAME.
        let b = base64_decode("ht+BgAABAAEAAAAAAmlkBnNlcnZlcgJvbgVxdWFkOQNuZXQAABAAAcAMAAUAAQAAADwAGQZyZXMxMTADbWlhAm9uBXF1YWQ5A25ldAA=").unwrap();
        let m = decode(&b).unwrap();
        assert_eq!(m.questions[0].name, "id.server.on.quad9.net");
        assert_eq!(
            m.answers[0].data,
            RData::Name("res110.mia.on.quad9.net".into())
        );
    }
}
