//! The zone: static RRsets and bound names by owner, built once from the model's `[dns]`.
//!
//! Lookup follows RFC 1034 §4.3.2 for the cases an authoritative-only server without wildcards
//! or DNSSEC has: the owner exists (answer or NODATA), is an empty non-terminal (NODATA,
//! RFC 8020 §2: a name with descendants exists), is at or below a delegation (referral with
//! the NS set in authority and in-zone glue), or does not exist (NXDOMAIN). Names are compared
//! case-insensitively (RFC 4343) by storing them lower-cased.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, Ipv6Addr};

use tern_dns::{
    CLASS_IN, Name, RData, Record, Soa, TYPE_A, TYPE_AAAA, TYPE_CNAME, TYPE_NS, TYPE_SOA, TYPE_TXT,
};
use tern_model::dns::{Answer, Dns, RecordType};

/// What a name bound to the network answers, as the zone stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// Anycast, best or one site.
    pub answer: Answer,
    /// TTL of the answer.
    pub ttl: u32,
}

/// The data of one owner name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Node {
    /// Static records, in file order.
    pub records: Vec<Record>,
    /// The binding, when the name is bound.
    pub binding: Option<Binding>,
}

impl Node {
    /// Static records of `qtype`.
    pub fn rrset(&self, qtype: u16) -> impl Iterator<Item = &Record> {
        self.records.iter().filter(move |r| r.rtype == qtype)
    }
}

/// The result of looking a name up.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// Not at or below the apex: not ours (REFUSED).
    NotInZone,
    /// The owner exists.
    Found(&'a Node),
    /// No data at the name, but names below it exist (NODATA).
    EmptyNonTerminal,
    /// At or below a delegation point (not the apex): refer with its NS set.
    Delegation(Vec<Record>),
    /// The name does not exist (NXDOMAIN).
    NxDomain,
}

/// A zone ready to answer from.
#[derive(Clone, Debug)]
pub struct Zone {
    apex: Name,
    apex_key: String,
    nodes: BTreeMap<String, Node>,
    /// Every owner and every ancestor of an owner up to the apex.
    existing: BTreeSet<String>,
    /// Owners below the apex with NS records (zone cuts).
    delegations: Vec<String>,
    soa: Record,
    /// The anycast addresses.
    pub anycast_v6: Vec<Ipv6Addr>,
    /// The anycast addresses.
    pub anycast_v4: Vec<Ipv4Addr>,
}

fn name(s: &str) -> Name {
    // Validated by tern-model's check_name; an invalid one can only be the root.
    Name::from_text(s).unwrap_or_else(Name::root)
}

/// Lower-cased dotted key of a name, without the trailing dot. Octets other than letters,
/// digits, `-` and `_` (which no validated owner has) become NUL, so a query label holding a
/// `.` octet can never match two labels of an owner. Cheaper than the escaped text form: this
/// runs for every query.
pub fn key(n: &Name) -> String {
    let mut s = String::with_capacity(n.wire_len());
    for (i, l) in n.labels().iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        for &c in l {
            let c = c.to_ascii_lowercase();
            s.push(if c.is_ascii_alphanumeric() || c == b'-' || c == b'_' {
                char::from(c)
            } else {
                '\0'
            });
        }
    }
    s
}

/// Longest key: a name is at most 255 octets on the wire, and its key is shorter.
const KEY_MAX: usize = 256;

/// [`key`] written into `buf` instead of a new string: the per-query form.
fn key_in<'b>(n: &Name, buf: &'b mut [u8; KEY_MAX]) -> &'b str {
    let mut len = 0;
    for (i, l) in n.labels().iter().enumerate() {
        let dot = usize::from(i > 0);
        let Some(out) = buf.get_mut(len..len + dot + l.len()) else {
            // Longer than any valid name: no owner can match (Name caps the length anyway).
            return "\0";
        };
        if dot == 1 {
            out[0] = b'.';
        }
        for (o, &c) in out[dot..].iter_mut().zip(l) {
            let c = c.to_ascii_lowercase();
            *o = if c.is_ascii_alphanumeric() || c == b'-' || c == b'_' {
                c
            } else {
                0
            };
        }
        len += dot + l.len();
    }
    // Only ASCII was written.
    std::str::from_utf8(&buf[..len]).unwrap_or("\0")
}

impl Zone {
    /// Builds the zone of a validated `[dns]`.
    pub fn new(d: &Dns) -> Zone {
        let apex = name(&d.zone);
        let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
        let rec = |owner: &str, rtype: u16, ttl: u32, data: RData| Record {
            name: name(owner),
            rtype,
            class: CLASS_IN,
            ttl,
            data,
        };
        let soa = rec(
            &d.zone,
            TYPE_SOA,
            d.ttl,
            RData::Soa(Soa {
                mname: name(d.ns.first().map_or(d.zone.as_str(), String::as_str)),
                rname: name(&d.hostmaster),
                serial: d.serial,
                refresh: 3600,
                retry: 600,
                expire: 604_800,
                minimum: d.negative_ttl,
            }),
        );
        let apex_node = nodes.entry(d.zone.clone()).or_default();
        apex_node.records.push(soa.clone());
        for ns in &d.ns {
            apex_node
                .records
                .push(rec(&d.zone, TYPE_NS, d.ttl, RData::Name(name(ns))));
        }
        for r in &d.records {
            let (rtype, data) = match r.rtype {
                RecordType::A => match r.value.parse::<Ipv4Addr>() {
                    Ok(a) => (TYPE_A, RData::A(a)),
                    Err(_) => continue,
                },
                RecordType::Aaaa => match r.value.parse::<Ipv6Addr>() {
                    Ok(a) => (TYPE_AAAA, RData::Aaaa(a)),
                    Err(_) => continue,
                },
                RecordType::Txt => (
                    TYPE_TXT,
                    RData::Txt(r.value.as_bytes().chunks(255).map(<[u8]>::to_vec).collect()),
                ),
                RecordType::Cname => (TYPE_CNAME, RData::Name(name(&r.value))),
                RecordType::Ns => (TYPE_NS, RData::Name(name(&r.value))),
            };
            let node = nodes.entry(r.name.clone()).or_default();
            let dup = node
                .records
                .iter()
                .any(|x| x.rtype == rtype && x.data == data);
            if !dup {
                node.records.push(rec(&r.name, rtype, r.ttl, data));
            }
        }
        for b in &d.names {
            nodes.entry(b.name.clone()).or_default().binding = Some(Binding {
                answer: b.answer.clone(),
                ttl: b.ttl,
            });
        }
        let mut existing = BTreeSet::new();
        for owner in nodes.keys() {
            let mut n = owner.as_str();
            loop {
                existing.insert(n.to_owned());
                if n == d.zone {
                    break;
                }
                match n.split_once('.') {
                    Some((_, rest)) => n = rest,
                    None => break,
                }
            }
        }
        let mut anycast_v6 = Vec::new();
        let mut anycast_v4 = Vec::new();
        for a in &d.anycast {
            match a {
                std::net::IpAddr::V6(a) => anycast_v6.push(*a),
                std::net::IpAddr::V4(a) => anycast_v4.push(*a),
            }
        }
        let delegations = nodes
            .iter()
            .filter(|(k, n)| **k != d.zone && n.rrset(TYPE_NS).next().is_some())
            .map(|(k, _)| k.clone())
            .collect();
        Zone {
            delegations,
            apex_key: key(&apex),
            apex,
            nodes,
            existing,
            soa,
            anycast_v6,
            anycast_v4,
        }
    }

    /// The apex.
    pub fn apex(&self) -> &Name {
        &self.apex
    }

    /// The SOA record, for the authority section of negative answers.
    pub fn soa(&self) -> &Record {
        &self.soa
    }

    /// The negative-caching TTL: min(SOA TTL, MINIMUM) (RFC 2308 §3).
    pub fn negative_ttl(&self) -> u32 {
        match &self.soa.data {
            RData::Soa(s) => s.minimum.min(self.soa.ttl),
            _ => self.soa.ttl,
        }
    }

    /// Is `qname` at or below the apex?
    pub fn contains(&self, qname: &Name) -> bool {
        let (q, a) = (qname.labels(), self.apex.labels());
        q.len() >= a.len()
            && q[q.len() - a.len()..]
                .iter()
                .zip(a)
                .all(|(x, y)| x.eq_ignore_ascii_case(y))
    }

    /// The node of an owner, by key.
    pub fn node(&self, k: &str) -> Option<&Node> {
        self.nodes.get(k)
    }

    /// Looks `qname` up (see the module documentation).
    pub fn lookup(&self, qname: &Name) -> Lookup<'_> {
        if !self.contains(qname) {
            return Lookup::NotInZone;
        }
        let mut buf = [0u8; KEY_MAX];
        let k = key_in(qname, &mut buf);
        // A delegation at or above the name (below the apex) wins (RFC 1034 §4.3.2 step 3b).
        for cut in &self.delegations {
            let below = k.len() > cut.len()
                && k.ends_with(cut.as_str())
                && k.as_bytes()[k.len() - cut.len() - 1] == b'.';
            if k == *cut || below {
                if let Some(node) = self.nodes.get(cut) {
                    return Lookup::Delegation(node.rrset(TYPE_NS).cloned().collect());
                }
            }
        }
        if let Some(node) = self.nodes.get(k) {
            return Lookup::Found(node);
        }
        if k == self.apex_key || self.existing.contains(k) {
            return Lookup::EmptyNonTerminal;
        }
        Lookup::NxDomain
    }

    /// Static A and AAAA records of an in-zone name (glue for NS targets).
    pub fn glue(&self, target: &Name) -> Vec<Record> {
        self.nodes
            .get(&key(target))
            .map(|n| {
                n.records
                    .iter()
                    .filter(|r| r.rtype == TYPE_A || r.rtype == TYPE_AAAA)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_zone::dns;

    fn n(s: &str) -> Name {
        Name::from_text(s).unwrap()
    }

    #[test]
    fn lookups() {
        let z = Zone::new(&dns());
        assert_eq!(z.lookup(&n("example.org")), Lookup::NotInZone);
        assert_eq!(z.lookup(&n("xexample.net")), Lookup::NotInZone);
        match z.lookup(&n("WWW.Example.NET")) {
            Lookup::Found(node) => assert_eq!(node.binding.as_ref().unwrap().answer, Answer::Best),
            other => panic!("{other:?}"),
        }
        match z.lookup(&n("example.net")) {
            Lookup::Found(node) => {
                assert_eq!(node.rrset(TYPE_SOA).count(), 1);
                assert_eq!(node.rrset(TYPE_NS).count(), 2);
            }
            other => panic!("{other:?}"),
        }
        // b.deep.example.net exists, so deep.example.net is an empty non-terminal.
        assert_eq!(z.lookup(&n("deep.example.net")), Lookup::EmptyNonTerminal);
        assert_eq!(z.lookup(&n("nope.example.net")), Lookup::NxDomain);
        assert!(
            matches!(z.lookup(&n("host.sub.example.net")), Lookup::Delegation(ns) if ns.len() == 1)
        );
        assert!(matches!(
            z.lookup(&n("sub.example.net")),
            Lookup::Delegation(_)
        ));
        assert_eq!(z.glue(&n("ns1.example.net")).len(), 1);
        assert_eq!(z.negative_ttl(), 60);
        // A label holding a dot octet is not two labels.
        let mut wire = vec![0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 6];
        wire.extend_from_slice(b"b.deep\x07example\x03net\x00\x00\x01\x00\x01");
        let tricky = tern_dns::Message::parse(&wire).unwrap().questions[0]
            .name
            .clone();
        assert_eq!(tricky.labels().len(), 3);
        assert_eq!(z.lookup(&tricky), Lookup::NxDomain);
        // The per-query key is the stored key.
        for name in [
            &n("WWW.Example.NET"),
            &n("."),
            &n("a_b-c.x9.example.net"),
            &tricky,
        ] {
            let mut buf = [0u8; KEY_MAX];
            assert_eq!(key_in(name, &mut buf), key(name));
        }
    }
}
