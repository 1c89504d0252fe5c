//! The server-side encoder: name compression (RFC 1035 §4.1.4) and a size limit with TC
//! (RFC 1035 §4.2.1, RFC 2181 §9, RFC 6891 §7).
//!
//! [`Message::to_wire`] compresses owner names and the names inside NS, CNAME, PTR and SOA data
//! (the types RFC 3597 §4 allows compression in) against names written before. The table of
//! earlier names is capped at [`MAX_COMPRESSION_ENTRIES`] suffixes, so encoding costs at most
//! names × labels × entries comparisons: linear in the message, never the quadratic blow-up
//! hickory had (RUSTSEC-2026-0119). When the message does not fit the limit, every record
//! section is dropped and TC set, as gdnsd and Knot do (a resolver retries over TCP; a partial
//! RRset is worse than none).

use crate::message::write_rdata;
use crate::{Header, Message, Name, RData, Record, TYPE_OPT};

/// Most name suffixes remembered for compression.
pub const MAX_COMPRESSION_ENTRIES: usize = 64;

struct Writer {
    out: Vec<u8>,
    /// Where earlier name suffixes start in `out` (each a complete name: labels ending in the
    /// root or a pointer). Compared in place, so compression allocates nothing.
    table: Vec<u16>,
}

impl Writer {
    fn name(&mut self, name: &Name) {
        let labels = name.labels();
        for i in 0..labels.len() {
            let suffix = &labels[i..];
            if let Some(&at) = self
                .table
                .iter()
                .find(|&&at| written_eq(&self.out, usize::from(at), suffix))
            {
                let p = 0xc000 | at;
                self.out.extend_from_slice(&p.to_be_bytes());
                return;
            }
            // Pointers hold 14 bits of offset.
            if self.out.len() < 0x3fff && self.table.len() < MAX_COMPRESSION_ENTRIES {
                self.table.push(self.out.len() as u16);
            }
            let l = &labels[i];
            self.out.push(l.len() as u8);
            self.out.extend_from_slice(l);
        }
        self.out.push(0);
    }

    fn record(&mut self, rec: &Record) {
        self.name(&rec.name);
        self.out.extend_from_slice(&rec.rtype.to_be_bytes());
        self.out.extend_from_slice(&rec.class.to_be_bytes());
        self.out.extend_from_slice(&rec.ttl.to_be_bytes());
        let len_at = self.out.len();
        self.out.extend_from_slice(&[0, 0]);
        match &rec.data {
            RData::Name(n) => self.name(n),
            RData::Soa(s) => {
                self.name(&s.mname);
                self.name(&s.rname);
                for v in [s.serial, s.refresh, s.retry, s.expire, s.minimum] {
                    self.out.extend_from_slice(&v.to_be_bytes());
                }
            }
            other => write_rdata(other, &mut self.out),
        }
        let rdlen = (self.out.len() - len_at - 2) as u16;
        self.out[len_at..len_at + 2].copy_from_slice(&rdlen.to_be_bytes());
    }
}

/// Is the name written at `at` in `out` equal to `labels`, ignoring ASCII case (RFC 4343)?
/// Follows the pointers this writer wrote (each strictly backwards, so the walk ends); a name
/// still being written has no end yet and never matches.
fn written_eq(out: &[u8], mut at: usize, labels: &[Vec<u8>]) -> bool {
    let mut rest = labels.iter();
    loop {
        let Some(&l) = out.get(at) else {
            return false;
        };
        if l & 0xc0 == 0xc0 {
            let Some(&lo) = out.get(at + 1) else {
                return false;
            };
            let target = usize::from(u16::from_be_bytes([l & 0x3f, lo]));
            if target >= at {
                return false;
            }
            at = target;
            continue;
        }
        let l = usize::from(l);
        match rest.next() {
            None => return l == 0,
            Some(want) if want.len() == l && l > 0 => match out.get(at + 1..at + 1 + l) {
                Some(have) if have.eq_ignore_ascii_case(want) => at += 1 + l,
                _ => return false,
            },
            Some(_) => return false,
        }
    }
}

impl Message {
    /// Encode with name compression; when the result is longer than `limit` octets, encode
    /// again without any records (question and OPT kept) and with TC set. The header counts
    /// come from the sections, as in [`Message::to_bytes`].
    pub fn to_wire(&self, limit: usize) -> Vec<u8> {
        let full = self.encode_compressed(true);
        if full.len() <= limit {
            return full;
        }
        let mut short = self.encode_compressed(false);
        short[2] |= (Header::TC >> 8) as u8;
        short
    }

    fn encode_compressed(&self, records: bool) -> Vec<u8> {
        let mut w = Writer {
            out: Vec::with_capacity(512),
            table: Vec::new(),
        };
        let h = &self.header;
        let n = |v: usize| if records { v as u16 } else { 0 };
        let arcount = n(self.additional.len()) + u16::from(self.edns.is_some());
        for v in [
            h.id,
            h.flags,
            self.questions.len() as u16,
            n(self.answers.len()),
            n(self.authority.len()),
            arcount,
        ] {
            w.out.extend_from_slice(&v.to_be_bytes());
        }
        for q in &self.questions {
            w.name(&q.name);
            w.out.extend_from_slice(&q.qtype.to_be_bytes());
            w.out.extend_from_slice(&q.qclass.to_be_bytes());
        }
        if records {
            for rec in self
                .answers
                .iter()
                .chain(&self.authority)
                .chain(&self.additional)
            {
                w.record(rec);
            }
        }
        if let Some(e) = &self.edns {
            let out = &mut w.out;
            out.push(0);
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
        w.out
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv6Addr;

    use super::*;
    use crate::{CLASS_IN, Question, Soa, TYPE_AAAA, TYPE_NS, TYPE_SOA};

    fn n(s: &str) -> Name {
        Name::from_text(s).unwrap()
    }

    fn sample() -> Message {
        let mut m = Message::query(
            3,
            Question {
                name: n("www.example.net"),
                qtype: TYPE_AAAA,
                qclass: CLASS_IN,
            },
        );
        m.header.flags = Header::QR | Header::AA;
        for i in 0..3u16 {
            m.answers.push(Record {
                name: n("WWW.example.net"),
                rtype: TYPE_AAAA,
                class: CLASS_IN,
                ttl: 60,
                data: RData::Aaaa(Ipv6Addr::new(0x2001, 0xdb8, i, 0, 0, 0, 0, 1)),
            });
        }
        m.authority.push(Record {
            name: n("example.net"),
            rtype: TYPE_NS,
            class: CLASS_IN,
            ttl: 3600,
            data: RData::Name(n("ns1.example.net")),
        });
        m.authority.push(Record {
            name: n("example.net"),
            rtype: TYPE_SOA,
            class: CLASS_IN,
            ttl: 3600,
            data: RData::Soa(Soa {
                mname: n("ns1.example.net"),
                rname: n("hostmaster.example.net"),
                serial: 7,
                refresh: 1,
                retry: 2,
                expire: 3,
                minimum: 4,
            }),
        });
        m
    }

    #[test]
    fn compresses_and_round_trips() {
        let m = sample();
        let plain = m.to_bytes();
        let packed = m.to_wire(65535);
        assert!(
            packed.len() < plain.len(),
            "{} vs {}",
            packed.len(),
            plain.len()
        );
        // The first answer's owner is a pointer to the question name at offset 12.
        let q_end = 12 + n("www.example.net").wire_len() + 4;
        assert_eq!(&packed[q_end..q_end + 2], &[0xc0, 12]);
        let back = Message::parse(&packed).unwrap();
        assert_eq!(back.answers.len(), 3);
        assert_eq!(back.authority, m.authority);
        // Case of later owners is lost to the pointer only where the suffix matched: the
        // answers' owners now read as the question's spelling, which RFC 4343 allows.
        assert!(back.answers[0].name.eq_ignore_case(&n("www.example.net")));
        let unpacked = Message::parse(&plain).unwrap();
        assert_eq!(back.answers.len(), unpacked.answers.len());
        assert_eq!(back.authority, unpacked.authority);
    }

    #[test]
    fn compression_matches_case_insensitively_and_only_whole_names() {
        let mut m = Message::query(
            9,
            Question {
                name: n("a.a.a.Example.net"),
                qtype: TYPE_NS,
                qclass: CLASS_IN,
            },
        );
        for (owner, target) in [
            ("A.a.example.NET", "a.a.a.example.net"),
            ("a.example.net", "b.a.a.a.EXAMPLE.net"),
            ("example.net", "net"),
            ("a.a", "a"),
        ] {
            m.answers.push(Record {
                name: n(owner),
                rtype: TYPE_NS,
                class: CLASS_IN,
                ttl: 1,
                data: RData::Name(n(target)),
            });
        }
        let packed = m.to_wire(65535);
        assert!(packed.len() < m.to_bytes().len());
        let back = Message::parse(&packed).unwrap();
        assert_eq!(back.answers.len(), m.answers.len());
        for (got, want) in back.answers.iter().zip(&m.answers) {
            assert!(
                got.name.eq_ignore_case(&want.name),
                "{} vs {}",
                got.name,
                want.name
            );
            match (&got.data, &want.data) {
                (RData::Name(g), RData::Name(w)) => assert!(g.eq_ignore_case(w), "{g} vs {w}"),
                other => panic!("{other:?}"),
            }
        }
        // The second owner is wholly a pointer to a suffix of the question name.
        let q_end = 12 + n("a.a.a.Example.net").wire_len() + 4;
        assert_eq!(packed[q_end] & 0xc0, 0xc0);
    }

    #[test]
    fn too_large_becomes_tc_without_records() {
        let mut m = sample();
        m.edns = Some(crate::Edns {
            udp_size: 1232,
            ..Default::default()
        });
        let full = m.to_wire(65535);
        let cut = m.to_wire(full.len() - 1);
        let r = Message::parse(&cut).unwrap();
        assert!(r.header.tc());
        assert!(r.answers.is_empty() && r.authority.is_empty());
        assert_eq!(r.questions, m.questions);
        assert!(r.edns.is_some());
        let fits = Message::parse(&m.to_wire(full.len())).unwrap();
        assert!(!fits.header.tc());
    }
}
