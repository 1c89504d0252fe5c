//! DNS messages: header, sections, record data, the OPT record; decoding with the bounds
//! described at the crate top, encoding without compression (RFC 1035 §4.1, RFC 6891 §6.1).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::name::read_name;
use crate::{
    Name, OPT_NSID, TYPE_A, TYPE_AAAA, TYPE_CNAME, TYPE_NS, TYPE_OPT, TYPE_PTR, TYPE_SOA, TYPE_TXT,
    escape,
};

/// Why bytes are not a DNS message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The message ends inside a field.
    #[error("message truncated at offset {0}")]
    Truncated(usize),
    /// A label longer than 63 octets, or a reserved label type (0b01/0b10).
    #[error("bad label at offset {0}")]
    BadLabel(usize),
    /// A compression pointer that does not point strictly backwards.
    #[error("bad compression pointer at offset {0}")]
    BadPointer(usize),
    /// A name longer than 255 octets.
    #[error("name longer than 255 octets at offset {0}")]
    NameTooLong(usize),
    /// More than one OPT record, or one with a non-root owner (RFC 6891 §6.1.1).
    #[error("bad OPT record: {0}")]
    BadOpt(&'static str),
    /// Bytes after the last record.
    #[error("{0} bytes after the last record")]
    TrailingBytes(usize),
}

/// The fixed 12-octet header (RFC 1035 §4.1.1).
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// Query id.
    pub id: u16,
    /// QR, opcode, AA, TC, RD, RA, Z, AD, CD, RCODE (low 4 bits).
    pub flags: u16,
    /// Question count.
    pub qdcount: u16,
    /// Answer count.
    pub ancount: u16,
    /// Authority count.
    pub nscount: u16,
    /// Additional count.
    pub arcount: u16,
}

impl Header {
    /// Length of the header on the wire.
    pub const LEN: usize = 12;
    /// QR: the message is a response.
    pub const QR: u16 = 0x8000;
    /// AA: authoritative answer.
    pub const AA: u16 = 0x0400;
    /// TC: truncated.
    pub const TC: u16 = 0x0200;
    /// RD: recursion desired.
    pub const RD: u16 = 0x0100;
    /// RA: recursion available (never set by an authoritative-only server).
    pub const RA: u16 = 0x0080;

    /// Read the header, if the bytes are long enough.
    pub fn parse(b: &[u8]) -> Option<Header> {
        let w = |i: usize| Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]));
        Some(Header {
            id: w(0)?,
            flags: w(2)?,
            qdcount: w(4)?,
            ancount: w(6)?,
            nscount: w(8)?,
            arcount: w(10)?,
        })
    }

    /// Is this a response (QR = 1)?
    pub fn is_response(&self) -> bool {
        self.flags & Header::QR != 0
    }

    /// The opcode (0 = QUERY).
    pub fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0xf) as u8
    }

    /// Recursion desired.
    pub fn rd(&self) -> bool {
        self.flags & Header::RD != 0
    }

    /// Truncated.
    pub fn tc(&self) -> bool {
        self.flags & Header::TC != 0
    }

    /// The 4-bit header RCODE.
    pub fn rcode(&self) -> u8 {
        (self.flags & 0xf) as u8
    }
}

/// One question (RFC 1035 §4.1.2).
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    /// QNAME.
    pub name: Name,
    /// QTYPE.
    pub qtype: u16,
    /// QCLASS.
    pub qclass: u16,
}

/// Decoded record data for the types tern reads; every other type is kept as bytes.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RData {
    /// IPv4 address.
    A(Ipv4Addr),
    /// IPv6 address.
    Aaaa(Ipv6Addr),
    /// NS / CNAME / PTR target.
    Name(Name),
    /// TXT character-strings.
    Txt(Vec<Vec<u8>>),
    /// Start of authority (RFC 1035 §3.3.13).
    Soa(Soa),
    /// Anything else, as bytes.
    Raw(Vec<u8>),
}

impl fmt::Display for RData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RData::A(a) => write!(f, "{a}"),
            RData::Aaaa(a) => write!(f, "{a}"),
            RData::Name(n) => write!(f, "{n}"),
            RData::Txt(strings) => {
                for s in strings {
                    f.write_str(&String::from_utf8_lossy(s))?;
                }
                Ok(())
            }
            RData::Soa(s) => write!(
                f,
                "{} {} {} {} {} {} {}",
                s.mname, s.rname, s.serial, s.refresh, s.retry, s.expire, s.minimum
            ),
            RData::Raw(b) => write!(f, "\\# {}", b.len()),
        }
    }
}

/// SOA record data (RFC 1035 §3.3.13); `minimum` is the negative-caching TTL (RFC 2308 §4).
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Soa {
    /// The primary name server.
    pub mname: Name,
    /// The mailbox of the person responsible, as a name (`hostmaster.example.net`).
    pub rname: Name,
    /// Zone serial.
    pub serial: u32,
    /// Secondary refresh interval, seconds.
    pub refresh: u32,
    /// Secondary retry interval, seconds.
    pub retry: u32,
    /// Secondary expiry, seconds.
    pub expire: u32,
    /// Negative-caching TTL, seconds.
    pub minimum: u32,
}

/// A resource record (RFC 1035 §4.1.3), OPT excluded (see [`Edns`]).
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Owner.
    pub name: Name,
    /// TYPE.
    pub rtype: u16,
    /// CLASS.
    pub class: u16,
    /// TTL in seconds.
    pub ttl: u32,
    /// Data.
    pub data: RData,
}

/// The EDNS(0) OPT pseudo-record (RFC 6891 §6.1.2).
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Edns {
    /// Requestor's UDP payload size.
    pub udp_size: u16,
    /// Upper 8 bits of the extended RCODE.
    pub ext_rcode: u8,
    /// EDNS version.
    pub version: u8,
    /// The DO bit and the rest of the flags.
    pub flags: u16,
    /// Options as (code, data).
    pub options: Vec<(u16, Vec<u8>)>,
}

impl Edns {
    /// Does it carry option `code`?
    pub fn has_option(&self, code: u16) -> bool {
        self.options.iter().any(|(c, _)| *c == code)
    }

    /// The data of the first option `code`, if any.
    pub fn option(&self, code: u16) -> Option<&[u8]> {
        self.options
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, d)| d.as_slice())
    }

    /// The DO bit (RFC 3225 §3).
    pub fn dnssec_ok(&self) -> bool {
        self.flags & 0x8000 != 0
    }
}

/// A DNS message.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    /// Header; the counts are recomputed by [`Message::to_bytes`].
    pub header: Header,
    /// Questions.
    pub questions: Vec<Question>,
    /// Answers.
    pub answers: Vec<Record>,
    /// Authority records.
    pub authority: Vec<Record>,
    /// Additional records other than OPT.
    pub additional: Vec<Record>,
    /// The OPT record, if any.
    pub edns: Option<Edns>,
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(WireError::Truncated(self.pos))?;
        let s = self
            .b
            .get(self.pos..end)
            .ok_or(WireError::Truncated(self.pos))?;
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, WireError> {
        let s = self.take(2)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }

    fn u32(&mut self) -> Result<u32, WireError> {
        let s = self.take(4)?;
        Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }

    /// Read a possibly compressed name at the cursor (RFC 1035 §4.1.4).
    fn name(&mut self) -> Result<Name, WireError> {
        let (name, end) = read_name(self.b, self.pos)?;
        self.pos = end;
        Ok(name)
    }
}

impl Message {
    /// A query with one question and all flags clear (RD too: set [`Header::RD`] to ask a
    /// resolver to recurse).
    pub fn query(id: u16, question: Question) -> Message {
        let mut m = Message::default();
        m.header.id = id;
        m.questions.push(question);
        m
    }

    /// An empty response to a query with header `query`: its id, QR set, its opcode and RD
    /// copied (RFC 1035 §4.1.1), RCODE 0, no sections. The responder fills in the rest.
    pub fn response(query: &Header) -> Message {
        let mut m = Message::default();
        m.header.id = query.id;
        m.header.flags = Header::QR | (query.flags & 0x7800) | (query.flags & Header::RD);
        m
    }

    /// Decode a whole message. Never panics; see the module documentation for the bounds.
    pub fn parse(b: &[u8]) -> Result<Message, WireError> {
        let header = Header::parse(b).ok_or(WireError::Truncated(b.len()))?;
        let mut r = Reader {
            b,
            pos: Header::LEN,
        };
        let mut msg = Message {
            header,
            ..Message::default()
        };
        for _ in 0..header.qdcount {
            let name = r.name()?;
            let qtype = r.u16()?;
            let qclass = r.u16()?;
            msg.questions.push(Question {
                name,
                qtype,
                qclass,
            });
        }
        for _ in 0..header.ancount {
            let rec = read_record(&mut r, &mut msg.edns, false)?;
            msg.answers.extend(rec);
        }
        for _ in 0..header.nscount {
            let rec = read_record(&mut r, &mut msg.edns, false)?;
            msg.authority.extend(rec);
        }
        for _ in 0..header.arcount {
            let rec = read_record(&mut r, &mut msg.edns, true)?;
            msg.additional.extend(rec);
        }
        if r.pos != b.len() {
            return Err(WireError::TrailingBytes(b.len() - r.pos));
        }
        Ok(msg)
    }

    /// The full RCODE: header bits plus the OPT's extended bits (RFC 6891 §6.1.3).
    pub fn rcode(&self) -> u16 {
        let ext = self.edns.as_ref().map_or(0, |e| u16::from(e.ext_rcode));
        (ext << 4) | u16::from(self.header.rcode())
    }

    /// The NSID payload (RFC 5001 §2.3): the first non-empty NSID option of the OPT record.
    pub fn nsid(&self) -> Option<&[u8]> {
        self.edns
            .as_ref()?
            .options
            .iter()
            .find(|(c, d)| *c == OPT_NSID && !d.is_empty())
            .map(|(_, d)| d.as_slice())
    }

    /// Names an answer gives for the server: TXT strings (CHAOS `id.server`, RFC 4892 §2.3),
    /// each record's strings joined and [`escape`]d, and CNAME targets as
    /// [`Name::to_dotted`] (Quad9 answers `id.server.on.quad9.net` with a CNAME to the
    /// instance).
    pub fn identity_names(&self) -> Vec<String> {
        self.answers
            .iter()
            .filter_map(|rr| match &rr.data {
                RData::Txt(parts) => Some(escape(&parts.concat())),
                RData::Name(n) if rr.rtype == TYPE_CNAME => Some(n.to_dotted()),
                _ => None,
            })
            .collect()
    }

    /// All TXT strings of the answer section, each record's strings joined and [`escape`]d.
    pub fn txt_answers(&self) -> Vec<String> {
        self.answers
            .iter()
            .filter_map(|rr| match &rr.data {
                RData::Txt(parts) => Some(escape(&parts.concat())),
                _ => None,
            })
            .collect()
    }

    /// Encode, without name compression. The header counts come from the sections; the RCODE's
    /// upper bits go to the OPT record, which must then exist.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        let h = &self.header;
        let arcount = self.additional.len() + usize::from(self.edns.is_some());
        for v in [
            h.id,
            h.flags,
            self.questions.len() as u16,
            self.answers.len() as u16,
            self.authority.len() as u16,
            arcount as u16,
        ] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        for q in &self.questions {
            q.name.write(&mut out);
            out.extend_from_slice(&q.qtype.to_be_bytes());
            out.extend_from_slice(&q.qclass.to_be_bytes());
        }
        for rec in self
            .answers
            .iter()
            .chain(&self.authority)
            .chain(&self.additional)
        {
            write_record(rec, &mut out);
        }
        if let Some(e) = &self.edns {
            out.push(0); // root owner
            out.extend_from_slice(&TYPE_OPT.to_be_bytes());
            out.extend_from_slice(&e.udp_size.to_be_bytes());
            out.push(e.ext_rcode);
            out.push(e.version);
            out.extend_from_slice(&e.flags.to_be_bytes());
            let rdlen: usize = e.options.iter().map(|(_, d)| 4 + d.len()).sum();
            out.extend_from_slice(&(rdlen as u16).to_be_bytes());
            for (code, data) in &e.options {
                out.extend_from_slice(&code.to_be_bytes());
                out.extend_from_slice(&(data.len() as u16).to_be_bytes());
                out.extend_from_slice(data);
            }
        }
        out
    }
}

fn read_record(
    r: &mut Reader<'_>,
    edns: &mut Option<Edns>,
    additional: bool,
) -> Result<Option<Record>, WireError> {
    let name = r.name()?;
    let rtype = r.u16()?;
    let class = r.u16()?;
    let ttl = r.u32()?;
    let rdlen = usize::from(r.u16()?);
    let rdata_start = r.pos;
    let rdata = r.take(rdlen)?;
    if rtype == TYPE_OPT {
        if !additional {
            return Err(WireError::BadOpt("OPT outside the additional section"));
        }
        if edns.is_some() {
            return Err(WireError::BadOpt("more than one OPT record"));
        }
        if name != Name::root() {
            return Err(WireError::BadOpt("owner is not the root"));
        }
        let mut options = Vec::new();
        let mut o = Reader { b: rdata, pos: 0 };
        while o.pos < rdata.len() {
            let code = o.u16()?;
            let len = usize::from(o.u16()?);
            options.push((code, o.take(len)?.to_vec()));
        }
        let [ext_rcode, version, f0, f1] = ttl.to_be_bytes();
        *edns = Some(Edns {
            udp_size: class,
            ext_rcode,
            version,
            flags: u16::from_be_bytes([f0, f1]),
            options,
        });
        return Ok(None);
    }
    let data = match (rtype, rdlen) {
        (TYPE_A, 4) => RData::A(Ipv4Addr::new(rdata[0], rdata[1], rdata[2], rdata[3])),
        (TYPE_AAAA, 16) => {
            let mut a = [0u8; 16];
            a.copy_from_slice(rdata);
            RData::Aaaa(Ipv6Addr::from(a))
        }
        (TYPE_NS | TYPE_CNAME | TYPE_PTR, _) => {
            // The name may be compressed against the whole message, but must end inside RDATA.
            let (n, end) = read_name(r.b, rdata_start)?;
            if end != rdata_start + rdlen {
                return Err(WireError::BadLabel(rdata_start));
            }
            RData::Name(n)
        }
        (TYPE_SOA, _) => {
            let (mname, at) = read_name(r.b, rdata_start)?;
            let (rname, at) = read_name(r.b, at)?;
            let end = rdata_start + rdlen;
            let fixed = r.b.get(at..end).filter(|f| f.len() == 20);
            let Some(f) = fixed else {
                return Err(WireError::Truncated(at));
            };
            let n = |i: usize| u32::from_be_bytes([f[i], f[i + 1], f[i + 2], f[i + 3]]);
            RData::Soa(Soa {
                mname,
                rname,
                serial: n(0),
                refresh: n(4),
                retry: n(8),
                expire: n(12),
                minimum: n(16),
            })
        }
        (TYPE_TXT, _) => {
            let mut strings = Vec::new();
            let mut t = Reader { b: rdata, pos: 0 };
            while t.pos < rdata.len() {
                let l = usize::from(t.u8()?);
                strings.push(t.take(l)?.to_vec());
            }
            RData::Txt(strings)
        }
        _ => RData::Raw(rdata.to_vec()),
    };
    Ok(Some(Record {
        name,
        rtype,
        class,
        ttl,
        data,
    }))
}

fn write_record(rec: &Record, out: &mut Vec<u8>) {
    rec.name.write(out);
    out.extend_from_slice(&rec.rtype.to_be_bytes());
    out.extend_from_slice(&rec.class.to_be_bytes());
    out.extend_from_slice(&rec.ttl.to_be_bytes());
    let len_at = out.len();
    out.extend_from_slice(&[0, 0]);
    write_rdata(&rec.data, out);
    let rdlen = (out.len() - len_at - 2) as u16;
    out[len_at..len_at + 2].copy_from_slice(&rdlen.to_be_bytes());
}

/// Record data, uncompressed.
pub(crate) fn write_rdata(data: &RData, out: &mut Vec<u8>) {
    match data {
        RData::A(a) => out.extend_from_slice(&a.octets()),
        RData::Aaaa(a) => out.extend_from_slice(&a.octets()),
        RData::Name(n) => n.write(out),
        RData::Txt(strings) => {
            for s in strings {
                // A character-string holds at most 255 octets (RFC 1035 §3.3).
                for chunk in s.chunks(255) {
                    out.push(chunk.len() as u8);
                    out.extend_from_slice(chunk);
                }
                if s.is_empty() {
                    out.push(0);
                }
            }
        }
        RData::Soa(s) => {
            s.mname.write(out);
            s.rname.write(out);
            for v in [s.serial, s.refresh, s.retry, s.expire, s.minimum] {
                out.extend_from_slice(&v.to_be_bytes());
            }
        }
        RData::Raw(b) => out.extend_from_slice(b),
    }
}

#[cfg(test)]
#[path = "message_tests.rs"]
mod tests;
