//! The authoritative answer to one query: pure, no I/O, never panics (fuzz target
//! `geodns_query`).
//!
//! Behaviour, with the RFCs:
//! - fewer than 12 octets, or QR set (a response: answering could loop two servers): dropped;
//!   anything else that does not decode, a malformed ECS option (RFC 7871 §7.1.1) or a QDCOUNT
//!   other than 1: FORMERR;
//! - opcode other than QUERY: NOTIMP; EDNS version above 0: BADVERS (RFC 6891 §6.1.3);
//! - class CH: `id.server` / `hostname.bind` → the identity, `version.server` / `version.bind`
//!   → the version (RFC 4892); other CHAOS names REFUSED;
//! - class IN outside the zone: REFUSED; AXFR/IXFR: REFUSED (no transfers);
//! - in the zone, AA set: the data; NODATA (NOERROR, no answer) and NXDOMAIN with the SOA in
//!   authority at TTL min(SOA TTL, MINIMUM) (RFC 2308 §3); empty non-terminals are NODATA
//!   (RFC 8020); a CNAME is answered for every type but CNAME, with the target's data when it
//!   is in the zone; below a zone cut a referral (AA clear, NS in authority, in-zone glue);
//! - `best` names: A/AAAA of the site [`Selector::choose`] picks for the client, which is the
//!   ECS address when the query has ECS with a source prefix above 0, else the resolver's
//!   address; `site` names: that site while it is up, else the anycast address; `anycast`
//!   names: the anycast address. ANY returns both families (RFC 8482 allows less);
//! - ECS (RFC 7871 §7.2): echoed with the query's family, source and address whenever the query
//!   had one, with scope = [`Choice::scope`] for answers chosen by client address, 0 otherwise;
//!   never sent unasked;
//! - NSID (RFC 5001): the identity, only when asked; RA never set (no recursion); RD copied;
//! - size: over UDP at most 512 octets without EDNS, else the client's payload size clamped
//!   to 512..[`EDNS_UDP_SIZE`]; a larger answer goes out as TC with no records (RFC 2181 §9)
//!   so the resolver retries over TCP, where the limit is 65535.

use std::net::IpAddr;

use tern_dns::{
    CLASS_CH, CLASS_IN, ClientSubnet, Edns, Header, Message, Name, OPT_ECS, OPT_NSID, Question,
    RData, Record, TYPE_A, TYPE_AAAA, TYPE_ANY, TYPE_CNAME, TYPE_NS, TYPE_TXT, rcode,
};
use tern_model::dns::Answer;

use crate::select::{Choice, Family, Reason, Selector, Up, first_of};
use crate::zone::{Lookup, Node, Zone};

/// UDP payload size we advertise and the most we send over UDP: 1232 (DNS Flag Day 2020).
pub const EDNS_UDP_SIZE: u16 = 1232;
/// Largest UDP answer without EDNS (RFC 1035 §4.2.1).
pub const CLASSIC_UDP_SIZE: usize = 512;
/// Answer to `version.bind` / `version.server`.
pub const VERSION: &str = "tern";
/// QTYPE AXFR and IXFR.
const TYPE_AXFR: u16 = 252;
const TYPE_IXFR: u16 = 251;

/// How a query arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// UDP: size-limited.
    Udp,
    /// TCP: up to 65535 octets.
    Tcp,
}

/// Kinds of answers, for response rate limiting and counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Data in the answer section.
    Positive,
    /// NOERROR without data.
    NoData,
    /// NXDOMAIN.
    NxDomain,
    /// A referral.
    Referral,
    /// REFUSED, FORMERR, NOTIMP, BADVERS.
    Error,
}

/// A reply ready to encode.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The message.
    pub message: Message,
    /// Most octets it may take.
    pub limit: usize,
    /// What kind of answer it is.
    pub kind: Kind,
    /// The site choice, for `best`/`site` answers.
    pub choice: Option<Choice>,
}

impl Reply {
    /// The wire form (compressed; TC when over the limit).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.message.to_wire(self.limit)
    }

    /// The "slip" form for rate limiting: TC with no records, so a real resolver retries over
    /// TCP and a spoofed victim gets a tiny packet.
    pub fn to_slip(&self) -> Vec<u8> {
        self.message.to_wire(0)
    }
}

/// A zone and a selector: everything needed to answer.
#[derive(Debug)]
pub struct Responder {
    zone: Zone,
    selector: Selector,
    identity: Vec<u8>,
}

impl Responder {
    /// A responder answering `zone`, choosing sites with `selector`, naming itself `identity`
    /// in NSID and CHAOS answers.
    pub fn new(zone: Zone, selector: Selector, identity: &str) -> Responder {
        Responder {
            zone,
            selector,
            identity: identity.as_bytes().to_vec(),
        }
    }

    /// The zone.
    pub fn zone(&self) -> &Zone {
        &self.zone
    }

    /// The selector.
    pub fn selector(&self) -> &Selector {
        &self.selector
    }

    /// The identity.
    pub fn identity(&self) -> &[u8] {
        &self.identity
    }

    /// The reply to `query` from `peer`, or `None` to drop it. `up` says which sites are
    /// healthy now.
    pub fn respond(
        &self,
        query: &[u8],
        peer: IpAddr,
        transport: Transport,
        up: Up,
    ) -> Option<Reply> {
        let header = Header::parse(query)?;
        if header.is_response() {
            return None;
        }
        let mut reply = Message::response(&header);
        let error = |mut reply: Message, code: u16| Reply {
            message: {
                reply.header.flags |= code & 0xf;
                reply
            },
            limit: CLASSIC_UDP_SIZE,
            kind: Kind::Error,
            choice: None,
        };
        let Ok(q) = Message::parse(query) else {
            return Some(error(reply, rcode::FORMERR));
        };
        let limit = match (&q.edns, transport) {
            (_, Transport::Tcp) => usize::from(u16::MAX),
            (Some(e), Transport::Udp) => usize::from(e.udp_size.clamp(512, EDNS_UDP_SIZE)),
            (None, Transport::Udp) => CLASSIC_UDP_SIZE,
        };
        reply.questions = q.questions.clone();
        let ecs = match q.edns.as_ref().and_then(|e| e.option(OPT_ECS)) {
            None => None,
            Some(data) => match ClientSubnet::parse(data) {
                Ok(c) => Some(c),
                Err(_) => {
                    reply.questions.clear();
                    return Some(error(reply, rcode::FORMERR));
                }
            },
        };
        let mut out = Out {
            reply,
            kind: Kind::Error,
            choice: None,
            scope_used: false,
        };
        let code = self.answer(&q, peer, ecs, up, &mut out);
        let mut reply = out.reply;
        if let Some(qe) = &q.edns {
            let mut e = Edns {
                udp_size: EDNS_UDP_SIZE,
                ext_rcode: (code >> 4) as u8,
                ..Edns::default()
            };
            if qe.has_option(OPT_NSID) {
                e.options.push((OPT_NSID, self.identity.clone()));
            }
            if let (Some(c), true) = (ecs, code != rcode::BADVERS) {
                let scope = match (&out.choice, out.scope_used) {
                    (Some(ch), true) if c.source_prefix > 0 => ch.scope,
                    _ => 0,
                };
                let echo = ClientSubnet {
                    scope_prefix: scope,
                    ..c
                };
                e.options.push((OPT_ECS, echo.to_bytes()));
            }
            reply.edns = Some(e);
        }
        reply.header.flags |= code & 0xf;
        Some(Reply {
            message: reply,
            limit,
            kind: out.kind,
            choice: out.choice,
        })
    }

    fn answer(
        &self,
        q: &Message,
        peer: IpAddr,
        ecs: Option<ClientSubnet>,
        up: Up,
        out: &mut Out,
    ) -> u16 {
        if q.header.opcode() != 0 {
            return rcode::NOTIMP;
        }
        if q.edns.as_ref().is_some_and(|e| e.version > 0) {
            out.reply.questions.clear();
            return rcode::BADVERS;
        }
        let [question] = q.questions.as_slice() else {
            return rcode::FORMERR;
        };
        if question.qclass == CLASS_CH {
            return self.chaos(question, out);
        }
        if question.qclass != CLASS_IN || !self.zone.contains(&question.name) {
            return rcode::REFUSED;
        }
        if question.qtype == TYPE_AXFR || question.qtype == TYPE_IXFR {
            return rcode::REFUSED;
        }
        let (client, source) = match ecs {
            Some(c) if c.source_prefix > 0 => (c.addr, c.source_prefix),
            _ => (peer, tern_dns::ecs::max_len(peer)),
        };
        let ctx = Ctx { client, source, up };
        out.reply.header.flags |= Header::AA;
        match self.zone.lookup(&question.name) {
            Lookup::NotInZone => rcode::REFUSED,
            Lookup::Delegation(ns) => {
                out.reply.header.flags &= !Header::AA;
                for r in &ns {
                    if let RData::Name(target) = &r.data {
                        out.reply.additional.extend(self.zone.glue(target));
                    }
                }
                out.reply.authority = ns;
                out.kind = Kind::Referral;
                rcode::NOERROR
            }
            Lookup::EmptyNonTerminal => self.negative(out, rcode::NOERROR),
            Lookup::NxDomain => self.negative(out, rcode::NXDOMAIN),
            Lookup::Found(node) => {
                self.node_answer(&question.name, question.qtype, node, &ctx, out, 0);
                if out.reply.answers.is_empty() {
                    self.negative(out, rcode::NOERROR)
                } else {
                    out.kind = Kind::Positive;
                    if question.qtype == TYPE_NS && question.name.eq_ignore_case(self.zone.apex()) {
                        for r in out.reply.answers.clone() {
                            if let RData::Name(t) = &r.data {
                                out.reply.additional.extend(self.zone.glue(t));
                            }
                        }
                    }
                    rcode::NOERROR
                }
            }
        }
    }

    fn negative(&self, out: &mut Out, code: u16) -> u16 {
        let mut soa = self.zone.soa().clone();
        soa.ttl = self.zone.negative_ttl();
        out.reply.authority.push(soa);
        out.kind = if code == rcode::NXDOMAIN {
            Kind::NxDomain
        } else {
            Kind::NoData
        };
        code
    }

    fn node_answer(
        &self,
        qname: &Name,
        qtype: u16,
        node: &Node,
        ctx: &Ctx,
        out: &mut Out,
        depth: u8,
    ) {
        // A CNAME answers every type but itself (RFC 1034 §3.6.2); follow it once in-zone.
        if qtype != TYPE_CNAME {
            if let Some(c) = node.rrset(TYPE_CNAME).next() {
                out.reply.answers.push(c.clone());
                if let (RData::Name(target), 0) = (&c.data, depth) {
                    if let Lookup::Found(n) = self.zone.lookup(target) {
                        self.node_answer(target, qtype, n, ctx, out, depth + 1);
                    }
                }
                return;
            }
        }
        for r in &node.records {
            if r.rtype == qtype || (qtype == TYPE_ANY && r.rtype != TYPE_CNAME) {
                out.reply.answers.push(r.clone());
            }
        }
        let Some(b) = &node.binding else { return };
        let families: &[Family] = match qtype {
            TYPE_A => &[Family::V4],
            TYPE_AAAA => &[Family::V6],
            TYPE_ANY => &[Family::V6, Family::V4],
            _ => &[],
        };
        for &family in families {
            let (addr, choice) = self.bound(&b.answer, family, ctx);
            if let Some(ch) = choice {
                out.scope_used |= matches!(b.answer, Answer::Best);
                out.choice = Some(ch);
            }
            if let Some(a) = addr {
                out.reply.answers.push(Record {
                    name: qname.clone(),
                    rtype: if a.is_ipv4() { TYPE_A } else { TYPE_AAAA },
                    class: CLASS_IN,
                    ttl: b.ttl,
                    data: match a {
                        IpAddr::V4(a) => RData::A(a),
                        IpAddr::V6(a) => RData::Aaaa(a),
                    },
                });
            }
        }
    }

    /// The address a binding answers for `family`, and the choice behind it.
    fn bound(
        &self,
        answer: &Answer,
        family: Family,
        ctx: &Ctx,
    ) -> (Option<IpAddr>, Option<Choice>) {
        let anycast = first_of(&self.zone.anycast_v6, &self.zone.anycast_v4, family);
        let s = &self.selector;
        match answer {
            Answer::Anycast => (anycast, None),
            Answer::Site(id) => {
                let ch = match s.index(id) {
                    Some(i) if s.eligible(i, family, ctx.up) => Choice {
                        site: Some(i),
                        reason: Reason::Anycast,
                        scope: 0,
                    },
                    _ => Choice {
                        site: None,
                        reason: Reason::Anycast,
                        scope: 0,
                    },
                };
                let addr = ch.site.and_then(|i| s.addr(i, family)).or(anycast);
                (addr, Some(ch))
            }
            Answer::Best => {
                let ch = s.choose(ctx.client, ctx.source, family, ctx.up);
                let addr = ch.site.and_then(|i| s.addr(i, family)).or(anycast);
                (addr, Some(ch))
            }
        }
    }

    fn chaos(&self, q: &Question, out: &mut Out) -> u16 {
        let is = |n: &str| q.name.eq_text(n);
        let text = if is("id.server") || is("hostname.bind") {
            self.identity.clone()
        } else if is("version.server") || is("version.bind") {
            VERSION.as_bytes().to_vec()
        } else {
            return rcode::REFUSED;
        };
        out.reply.header.flags |= Header::AA;
        if q.qtype == TYPE_TXT || q.qtype == TYPE_ANY {
            out.reply.answers.push(Record {
                name: q.name.clone(),
                rtype: TYPE_TXT,
                class: CLASS_CH,
                ttl: 0,
                data: RData::Txt(vec![text]),
            });
            out.kind = Kind::Positive;
        } else {
            out.kind = Kind::NoData;
        }
        rcode::NOERROR
    }
}

struct Ctx {
    client: IpAddr,
    source: u8,
    up: Up,
}

struct Out {
    reply: Message,
    kind: Kind,
    choice: Option<Choice>,
    /// Did the answer depend on the client's address?
    scope_used: bool,
}

#[cfg(test)]
#[path = "respond_tests.rs"]
mod tests;
