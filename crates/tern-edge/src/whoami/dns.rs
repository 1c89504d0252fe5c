//! The "which site am I hitting" DNS responder, over UDP and TCP.
//!
//! Answers, with the site's identity from [`SiteIdentity`]:
//! - CHAOS TXT `id.server` and `hostname.bind` (RFC 4892 §2.3, the names BIND, NSD, Knot and
//!   the root servers answer) → the site id;
//! - CHAOS TXT `version.bind` / `version.server` → [`SiteIdentity::version`];
//! - EDNS NSID (RFC 5001 §2.3): when a query carries an NSID option, the OPT record of the reply
//!   (whatever the rcode) carries the site id; never sent unasked;
//! - everything else: REFUSED (we are not an authoritative server for anything else). Other
//!   opcodes: NOTIMP. EDNS version above 0: BADVERS (RFC 6891 §6.1.3).
//!
//! Malformed input: fewer than 12 bytes, or a packet with QR set (a response: replying could
//! start a loop between two servers), is dropped; anything else that does not decode gets
//! FORMERR with the query's id. Nothing here panics on any input (fuzz target `dns_query`).
//!
//! [`respond`] is the sans-IO core; [`Whoami`] is it as a [`DnsHandler`] that
//! [`crate::serve::dns::serve_udp`] and [`crate::serve::dns::serve_tcp`] serve.

use std::net::SocketAddr;
use std::sync::Arc;

use tern_dns::{
    CLASS_CH, Edns, Header, Message, OPT_NSID, Question, RData, Record, TYPE_ANY, TYPE_TXT, rcode,
};

use super::SiteIdentity;
use crate::serve::dns::{DnsHandler, DnsQuery};
pub use crate::serve::dns::{EDNS_UDP_SIZE, Transport};

/// The reply to `query`, or `None` to drop it, with the default UDP payload limit
/// ([`EDNS_UDP_SIZE`]). Pure; never panics.
pub fn respond(query: &[u8], identity: &SiteIdentity, transport: Transport) -> Option<Vec<u8>> {
    let unspecified = SocketAddr::from(([0, 0, 0, 0], 0));
    let ctx = DnsQuery {
        message: query,
        client: unspecified,
        local: unspecified,
        transport,
        udp_payload: EDNS_UDP_SIZE,
    };
    respond_within(query, identity, &ctx)
}

fn respond_within(query: &[u8], identity: &SiteIdentity, ctx: &DnsQuery<'_>) -> Option<Vec<u8>> {
    let header = Header::parse(query)?;
    if header.is_response() {
        return None;
    }
    // QR, the query's id, opcode and RD (RFC 1035 §4.1.1).
    let mut reply = Message::response(&header);
    let query = match Message::parse(query) {
        Ok(m) => m,
        Err(_) => {
            reply.header.flags |= rcode::FORMERR;
            return Some(reply.to_bytes());
        }
    };
    reply.questions = query.questions.clone();
    let limit = ctx.reply_limit(query.edns.as_ref().map(|e| e.udp_size));
    let code = answer(&query, identity, &mut reply);
    if let Some(q_edns) = &query.edns {
        let mut edns = Edns {
            udp_size: ctx.udp_payload,
            ..Edns::default()
        };
        if q_edns.has_option(OPT_NSID) {
            edns.options
                .push((OPT_NSID, identity.site.as_str().as_bytes().to_vec()));
        }
        edns.ext_rcode = (code >> 4) as u8;
        reply.edns = Some(edns);
    }
    reply.header.flags |= code & 0xf;
    let mut bytes = reply.to_bytes();
    if bytes.len() > limit {
        // RFC 2181 §9: set TC and drop what does not fit; the client retries over TCP.
        reply.answers.clear();
        reply.header.flags |= 0x0200;
        bytes = reply.to_bytes();
        if bytes.len() > limit {
            reply.questions.clear();
            bytes = reply.to_bytes();
        }
    }
    Some(bytes)
}

/// Fill `reply`'s answers and return the rcode.
fn answer(query: &Message, identity: &SiteIdentity, reply: &mut Message) -> u16 {
    if query.header.opcode() != 0 {
        return rcode::NOTIMP;
    }
    if query.edns.as_ref().is_some_and(|e| e.version > 0) {
        reply.questions.clear();
        return rcode::BADVERS;
    }
    let [q] = query.questions.as_slice() else {
        return rcode::FORMERR;
    };
    let Some(text) = chaos_text(q, identity) else {
        return rcode::REFUSED;
    };
    reply.header.flags |= 0x0400; // AA: we own the CHAOS pseudo-zone.
    if q.qtype == TYPE_TXT || q.qtype == TYPE_ANY {
        reply.answers.push(Record {
            name: q.name.clone(),
            rtype: TYPE_TXT,
            class: CLASS_CH,
            ttl: 0,
            data: RData::Txt(vec![text.into_bytes()]),
        });
    }
    rcode::NOERROR
}

/// The CHAOS TXT string for a question we answer, `None` for one we refuse.
fn chaos_text(q: &Question, identity: &SiteIdentity) -> Option<String> {
    if q.qclass != CLASS_CH {
        return None;
    }
    let is = |n: &str| q.name.eq_text(n);
    if is("id.server") || is("hostname.bind") {
        Some(identity.site.to_string())
    } else if is("version.server") || is("version.bind") {
        Some(identity.version.clone())
    } else {
        None
    }
}

/// The "which site" responder as a [`DnsHandler`] for [`crate::serve::dns`].
#[derive(Clone, Debug)]
pub struct Whoami(pub Arc<SiteIdentity>);

impl DnsHandler for Whoami {
    fn answer(&self, query: &DnsQuery<'_>) -> Option<Vec<u8>> {
        respond_within(query.message, &self.0, query)
    }
}

/// A query, encoded: the codec's [`tern_dns::query`], kept here for the tests that build
/// queries next to [`respond`].
pub use tern_dns::query;

#[cfg(test)]
mod tests {
    use super::*;
    use tern_dns::{CLASS_IN, Name, TYPE_A};

    fn ident() -> SiteIdentity {
        SiteIdentity::new("ams".parse().unwrap())
    }

    fn ask(name: &str, qtype: u16, class: u16, edns: Option<Edns>) -> Message {
        let q = query(9, &Name::from_text(name).unwrap(), qtype, class, edns);
        Message::parse(&respond(&q, &ident(), Transport::Udp).unwrap()).unwrap()
    }

    fn nsid_edns() -> Option<Edns> {
        Some(Edns {
            udp_size: 4096,
            options: vec![(OPT_NSID, vec![])],
            ..Edns::default()
        })
    }

    #[test]
    fn chaos_names() {
        for name in ["id.server", "HOSTNAME.BIND."] {
            let r = ask(name, TYPE_TXT, CLASS_CH, None);
            assert_eq!(r.rcode(), rcode::NOERROR);
            assert_eq!(r.header.id, 9);
            assert!(r.header.is_response() && r.header.rd());
            assert_eq!(r.answers[0].data, RData::Txt(vec![b"ams".to_vec()]));
            assert!(r.edns.is_none(), "no OPT to a client without EDNS");
        }
        let r = ask("version.bind", TYPE_TXT, CLASS_CH, None);
        assert_eq!(r.answers[0].data, RData::Txt(vec![b"tern".to_vec()]));
        // Known name, other type: NODATA.
        let r = ask("id.server", TYPE_A, CLASS_CH, None);
        assert_eq!((r.rcode(), r.answers.len()), (rcode::NOERROR, 0));
    }

    #[test]
    fn refused_with_nsid() {
        let r = ask("example.com", TYPE_A, CLASS_IN, nsid_edns());
        assert_eq!(r.rcode(), rcode::REFUSED);
        let e = r.edns.unwrap();
        assert_eq!(e.options, vec![(OPT_NSID, b"ams".to_vec())]);
        let r = ask("id.server", TYPE_TXT, CLASS_IN, None);
        assert_eq!(r.rcode(), rcode::REFUSED);
        // EDNS without NSID: OPT but no NSID.
        let r = ask("id.server", TYPE_TXT, CLASS_CH, Some(Edns::default()));
        assert!(r.edns.unwrap().options.is_empty());
    }

    #[test]
    fn badvers_and_opcodes() {
        let r = ask(
            "id.server",
            TYPE_TXT,
            CLASS_CH,
            Some(Edns {
                version: 1,
                ..Edns::default()
            }),
        );
        assert_eq!(r.rcode(), rcode::BADVERS);
        let mut q = query(1, &Name::from_text("id.server").unwrap(), 16, 3, None);
        q[2] |= 0x28; // opcode 5 (UPDATE)
        let r = Message::parse(&respond(&q, &ident(), Transport::Udp).unwrap()).unwrap();
        assert_eq!((r.rcode(), r.header.opcode()), (rcode::NOTIMP, 5));
    }

    #[test]
    fn malformed() {
        assert_eq!(respond(&[1, 2, 3], &ident(), Transport::Udp), None);
        let mut q = query(77, &Name::from_text("id.server").unwrap(), 16, 3, None);
        q[2] |= 0x80; // a response: dropped
        assert_eq!(respond(&q, &ident(), Transport::Udp), None);
        q[2] &= 0x7f;
        q.truncate(q.len() - 2);
        let r = Message::parse(&respond(&q, &ident(), Transport::Udp).unwrap()).unwrap();
        assert_eq!((r.header.id, r.rcode()), (77, rcode::FORMERR));
        // Zero questions.
        let mut m = Message::default();
        m.header.id = 5;
        let r = respond(&m.to_bytes(), &ident(), Transport::Udp).unwrap();
        assert_eq!(Message::parse(&r).unwrap().rcode(), rcode::FORMERR);
    }
}
