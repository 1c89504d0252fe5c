//! Path attributes of an UPDATE (RFC 4271 §4.3 and §5, RFC 4760, RFC 6793, RFC 1997, RFC 8092,
//! RFC 9234): the typed model. Decoding is in `attr_decode.rs`, encoding in `attr_encode.rs`.

use std::net::{Ipv4Addr, Ipv6Addr};

use tern_types::{Asn, Community, LargeCommunity, Prefix};

/// Attribute type codes (IANA "BGP Path Attributes").
pub mod attr_code {
    /// ORIGIN (RFC 4271).
    pub const ORIGIN: u8 = 1;
    /// AS_PATH (RFC 4271).
    pub const AS_PATH: u8 = 2;
    /// NEXT_HOP (RFC 4271).
    pub const NEXT_HOP: u8 = 3;
    /// MULTI_EXIT_DISC (RFC 4271).
    pub const MED: u8 = 4;
    /// LOCAL_PREF (RFC 4271).
    pub const LOCAL_PREF: u8 = 5;
    /// ATOMIC_AGGREGATE (RFC 4271).
    pub const ATOMIC_AGGREGATE: u8 = 6;
    /// AGGREGATOR (RFC 4271, RFC 6793).
    pub const AGGREGATOR: u8 = 7;
    /// COMMUNITIES (RFC 1997).
    pub const COMMUNITIES: u8 = 8;
    /// ORIGINATOR_ID (RFC 4456), kept raw.
    pub const ORIGINATOR_ID: u8 = 9;
    /// CLUSTER_LIST (RFC 4456), kept raw.
    pub const CLUSTER_LIST: u8 = 10;
    /// MP_REACH_NLRI (RFC 4760).
    pub const MP_REACH_NLRI: u8 = 14;
    /// MP_UNREACH_NLRI (RFC 4760).
    pub const MP_UNREACH_NLRI: u8 = 15;
    /// EXTENDED COMMUNITIES (RFC 4360), kept raw.
    pub const EXTENDED_COMMUNITIES: u8 = 16;
    /// AS4_PATH (RFC 6793).
    pub const AS4_PATH: u8 = 17;
    /// AS4_AGGREGATOR (RFC 6793).
    pub const AS4_AGGREGATOR: u8 = 18;
    /// LARGE_COMMUNITY (RFC 8092).
    pub const LARGE_COMMUNITIES: u8 = 32;
    /// Only to Customer, OTC (RFC 9234).
    pub const OTC: u8 = 35;
}

/// Attribute flag bits (RFC 4271 §4.3).
pub mod attr_flags {
    /// Optional (1) or well-known (0).
    pub const OPTIONAL: u8 = 0x80;
    /// Transitive.
    pub const TRANSITIVE: u8 = 0x40;
    /// Partial: some AS on the way did not recognise this optional transitive attribute.
    pub const PARTIAL: u8 = 0x20;
    /// The length field is two octets.
    pub const EXTENDED_LENGTH: u8 = 0x10;
}

/// ORIGIN (RFC 4271 §5.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    /// 0: learned by an interior protocol (what we announce).
    Igp,
    /// 1: learned by EGP.
    Egp,
    /// 2: learned some other way.
    Incomplete,
}

impl Origin {
    /// The wire value.
    pub fn code(self) -> u8 {
        match self {
            Origin::Igp => 0,
            Origin::Egp => 1,
            Origin::Incomplete => 2,
        }
    }
    /// The origin for a wire value, `None` for undefined values.
    pub fn from_code(v: u8) -> Option<Self> {
        match v {
            0 => Some(Origin::Igp),
            1 => Some(Origin::Egp),
            2 => Some(Origin::Incomplete),
            _ => None,
        }
    }
}

/// AS_PATH segment types (RFC 4271 §4.3, RFC 5065 for confederations).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SegmentKind {
    /// 1: AS_SET, unordered.
    Set,
    /// 2: AS_SEQUENCE, ordered, nearest AS first.
    Sequence,
    /// 3: AS_CONFED_SEQUENCE (RFC 5065).
    ConfedSequence,
    /// 4: AS_CONFED_SET (RFC 5065).
    ConfedSet,
}

impl SegmentKind {
    /// The wire value.
    pub fn code(self) -> u8 {
        match self {
            SegmentKind::Set => 1,
            SegmentKind::Sequence => 2,
            SegmentKind::ConfedSequence => 3,
            SegmentKind::ConfedSet => 4,
        }
    }
    /// The kind for a wire value.
    pub fn from_code(v: u8) -> Option<Self> {
        match v {
            1 => Some(SegmentKind::Set),
            2 => Some(SegmentKind::Sequence),
            3 => Some(SegmentKind::ConfedSequence),
            4 => Some(SegmentKind::ConfedSet),
            _ => None,
        }
    }
    /// A confederation segment (RFC 5065 §5.3).
    pub fn is_confed(self) -> bool {
        matches!(self, SegmentKind::ConfedSequence | SegmentKind::ConfedSet)
    }
}

/// One AS_PATH segment with 4-octet ASNs. On the wire a segment holds at most 255 ASNs; longer
/// ones are split on encode.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AsSegment {
    /// Set or sequence.
    pub kind: SegmentKind,
    /// The ASNs, in wire order.
    pub asns: Vec<Asn>,
}

/// AS_PATH (RFC 4271 §5.1.2), always held with 4-octet ASNs, whatever the session negotiated.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AsPath {
    /// The segments, nearest first.
    pub segments: Vec<AsSegment>,
}

impl AsPath {
    /// An empty path (what an origin sends to iBGP peers, never to eBGP ones).
    pub fn empty() -> Self {
        AsPath::default()
    }

    /// A path of one AS_SEQUENCE.
    pub fn from_sequence(asns: impl IntoIterator<Item = Asn>) -> Self {
        let asns: Vec<Asn> = asns.into_iter().collect();
        if asns.is_empty() {
            return AsPath::empty();
        }
        AsPath {
            segments: vec![AsSegment {
                kind: SegmentKind::Sequence,
                asns,
            }],
        }
    }

    /// Puts `asn` `n` times in front of the path (RFC 4271 §5.1.2: extending the first
    /// AS_SEQUENCE, or adding one when the path starts with a set or is empty). Prepending
    /// our own AS more than once is the usual traffic-engineering knob.
    pub fn prepend(&mut self, asn: Asn, n: usize) {
        if n == 0 {
            return;
        }
        match self.segments.first_mut() {
            Some(seg) if seg.kind == SegmentKind::Sequence => {
                seg.asns.splice(0..0, std::iter::repeat_n(asn, n));
            }
            _ => self.segments.insert(
                0,
                AsSegment {
                    kind: SegmentKind::Sequence,
                    asns: vec![asn; n],
                },
            ),
        }
    }

    /// The path length for route selection (RFC 4271 §9.1.2.2 a): an AS_SET counts 1, each AS in
    /// a sequence counts 1, confederation segments count 0 (RFC 5065 §5.3).
    pub fn route_len(&self) -> usize {
        self.segments
            .iter()
            .map(|s| match s.kind {
                SegmentKind::Sequence => s.asns.len(),
                SegmentKind::Set => 1,
                _ => 0,
            })
            .sum()
    }

    /// The origin AS: the last AS of a final AS_SEQUENCE (`None` if the path ends in a set or is
    /// empty).
    pub fn origin(&self) -> Option<Asn> {
        let last = self.segments.last()?;
        match last.kind {
            SegmentKind::Sequence => last.asns.last().copied(),
            _ => None,
        }
    }

    /// The nearest AS (first of the first AS_SEQUENCE), the one an eBGP peer must have put
    /// there (RFC 4271 §6.3).
    pub fn first(&self) -> Option<Asn> {
        let first = self.segments.first()?;
        match first.kind {
            SegmentKind::Sequence => first.asns.first().copied(),
            _ => None,
        }
    }

    /// All ASNs in path order, sets included.
    pub fn asns(&self) -> impl Iterator<Item = Asn> + '_ {
        self.segments.iter().flat_map(|s| s.asns.iter().copied())
    }

    /// Whether the path is empty.
    pub fn is_empty(&self) -> bool {
        self.segments.iter().all(|s| s.asns.is_empty())
    }
}

/// AGGREGATOR (RFC 4271 §5.1.7, 4-octet per RFC 6793).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Aggregator {
    /// The AS that formed the aggregate.
    pub asn: Asn,
    /// The BGP identifier of the speaker that formed it.
    pub address: Ipv4Addr,
}

/// The next hop of an MP_REACH_NLRI (RFC 4760 §3, RFC 2545 §3 for IPv6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MpNextHop {
    /// 4 octets: an IPv4 next hop.
    V4(Ipv4Addr),
    /// 16 or 32 octets: a global IPv6 address and optionally a link-local one (RFC 2545 §3).
    /// Encoding refuses a global of `::`.
    V6 {
        /// The global address; never `::` when we send it.
        global: Ipv6Addr,
        /// The link-local address, for peers on a shared link.
        link_local: Option<Ipv6Addr>,
    },
}

/// MP_REACH_NLRI (RFC 4760 §3) for a family whose NLRI are plain prefixes (IPv4/IPv6 unicast or
/// multicast). Other families stay in [`PathAttributes::unknown`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MpReach {
    /// Address family.
    pub afi: u16,
    /// Subsequent address family.
    pub safi: u8,
    /// Next hop for the prefixes.
    pub next_hop: MpNextHop,
    /// Reachable prefixes, all of `afi`.
    pub nlri: Vec<Prefix>,
}

/// MP_UNREACH_NLRI (RFC 4760 §4) for a family whose NLRI are plain prefixes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MpUnreach {
    /// Address family.
    pub afi: u16,
    /// Subsequent address family.
    pub safi: u8,
    /// Withdrawn prefixes, all of `afi`. Empty means End-of-RIB for the family (RFC 4724 §2).
    pub withdrawn: Vec<Prefix>,
}

/// A path attribute we do not model, kept byte for byte. An optional transitive one is passed
/// on with the Partial bit set (RFC 4271 §5); others are only kept for inspection.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RawAttribute {
    /// The flags as received (the extended-length bit is recomputed on encode).
    pub flags: u8,
    /// The type code.
    pub code: u8,
    /// The value.
    pub value: Vec<u8>,
}

impl RawAttribute {
    /// Optional and transitive: a speaker that does not know it passes it on (RFC 4271 §5).
    pub fn is_optional_transitive(&self) -> bool {
        self.flags & (attr_flags::OPTIONAL | attr_flags::TRANSITIVE)
            == attr_flags::OPTIONAL | attr_flags::TRANSITIVE
    }

    /// The attribute as a speaker that does not recognise it passes it on (RFC 4271 §5): an
    /// optional transitive one with the Partial bit set, `None` for anything else.
    pub fn for_propagation(&self) -> Option<RawAttribute> {
        self.is_optional_transitive().then(|| RawAttribute {
            flags: self.flags | attr_flags::PARTIAL,
            ..self.clone()
        })
    }
}

/// The path attributes of one UPDATE, typed where we use them.
///
/// All attributes are held in 4-octet form; the [`super::Codec`] decides on the wire form.
/// AS4_PATH and AS4_AGGREGATOR never appear here: from a 2-octet speaker they are merged into
/// `as_path` and `aggregator` on decode (RFC 6793 §4.2.3), and they are generated on encode.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathAttributes {
    /// ORIGIN, well-known mandatory when NLRI are present.
    pub origin: Option<Origin>,
    /// AS_PATH, well-known mandatory when NLRI are present.
    pub as_path: Option<AsPath>,
    /// NEXT_HOP for the IPv4 NLRI field (the MP next hop is in `mp_reach`).
    pub next_hop: Option<Ipv4Addr>,
    /// MULTI_EXIT_DISC.
    pub med: Option<u32>,
    /// LOCAL_PREF (iBGP only).
    pub local_pref: Option<u32>,
    /// ATOMIC_AGGREGATE present.
    pub atomic_aggregate: bool,
    /// AGGREGATOR.
    pub aggregator: Option<Aggregator>,
    /// COMMUNITIES (RFC 1997), in wire order.
    pub communities: Vec<Community>,
    /// LARGE_COMMUNITY (RFC 8092), in wire order.
    pub large_communities: Vec<LargeCommunity>,
    /// Only to Customer (RFC 9234 §5).
    pub otc: Option<Asn>,
    /// MP_REACH_NLRI for IPv4/IPv6 unicast or multicast.
    pub mp_reach: Option<MpReach>,
    /// MP_UNREACH_NLRI for IPv4/IPv6 unicast or multicast.
    pub mp_unreach: Option<MpUnreach>,
    /// Every other attribute, by type code (the order they are sent in). On a 4-octet session
    /// this includes any AS4_PATH / AS4_AGGREGATOR received (RFC 6793 §4.1: not to be used).
    pub unknown: Vec<RawAttribute>,
}

impl PathAttributes {
    /// No attribute set at all (what a withdraw-only UPDATE carries).
    pub fn is_empty(&self) -> bool {
        *self == PathAttributes::default()
    }
}
