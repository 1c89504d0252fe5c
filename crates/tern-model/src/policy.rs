//! The routing-policy model: what happens to our announcements at a provider's edge, in types.
//!
//! Place in the architecture: the vocabulary every consumer of routing policy shares. The
//! provider dictionaries ([`crate::provider`]) map action communities to [`Effect`]s; validation
//! resolves each upstream's intents and raw communities into [`AppliedEffect`]s (which AS applies
//! what, asked for by which community); the BIRD renderer, the lab's BIRD routers and the
//! catchment simulator read those types, never the text of tern.toml or the dictionaries. This
//! module depends on nothing else in the crate.
//!
//! Two parts:
//! - **Effects at an edge** ([`Effect`], [`Neighbors`], [`Region`], [`Level`]): what a provider
//!   does with a route it learned from us when a community asks for it: not announce it to some
//!   neighbours, prepend its own AS towards them, set its local preference, keep it to itself.
//! - **Relationships** ([`Relationship`], [`may_export`]): the Gao-Rexford rules (Gao & Rexford,
//!   "Stable Internet routing without global coordination", 2001; Gao, "On inferring autonomous
//!   system relationships in the Internet", 2001) by which an AS prefers and exports routes:
//!   customer routes are preferred over peer routes over provider routes, and only customer
//!   routes (and its own) are exported to peers and providers (valley-free paths).
//!
//! Local-preference values ([`Relationship::local_pref`], [`Level::local_pref`]) are one scale
//! shared by the lab and the simulator: customer 200 > peer 100 > provider 50; the levels an
//! operator asks for sit around them (lowest 10 < provider < low 70 < peer 100 < customer 200 <
//! high 250). Real carriers use their own numbers; what matters is the order, which is theirs.

use std::fmt;

use serde::{Deserialize, Serialize};
use tern_types::Asn;

/// A world region, as carriers scope their action communities ("do not announce in Europe").
///
/// A region names where the carrier's *session to its neighbour* is, not where the neighbour's
/// customers are: "do not announce in Europe" means the carrier does not export the route on
/// its sessions at European points of presence. Carriers draw their regions themselves (Cogent:
/// North America, Europe, Asia-Pacific; Arelion and NTT: continents); tern uses these seven and
/// maps each dictionary entry onto one of them. [`Region::containing`] places a point (a site,
/// a lab router) in one by coarse continent boxes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Region {
    /// North America: the United States, Canada and Mexico down to about 12° N.
    NorthAmerica,
    /// South and Central America below about 12° N, west of 30° W.
    SouthAmerica,
    /// Europe: north of 35° N between the Atlantic and 45° E (the Urals' side of Russia).
    Europe,
    /// Asia and the Pacific rim: East, South-East and South Asia (carriers' "Asia-Pacific").
    Asia,
    /// Oceania: Australia, New Zealand and the islands south of 10° S, east of 110° E.
    Oceania,
    /// Africa.
    Africa,
    /// The Middle East: the Arabian peninsula, the Levant, Iran (34–63° E, north of 12° N).
    MiddleEast,
}

impl Region {
    /// Every region, in declaration order.
    pub const ALL: [Region; 7] = [
        Region::NorthAmerica,
        Region::SouthAmerica,
        Region::Europe,
        Region::Asia,
        Region::Oceania,
        Region::Africa,
        Region::MiddleEast,
    ];

    /// The tern.toml word (`north-america`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Region::NorthAmerica => "north-america",
            Region::SouthAmerica => "south-america",
            Region::Europe => "europe",
            Region::Asia => "asia",
            Region::Oceania => "oceania",
            Region::Africa => "africa",
            Region::MiddleEast => "middle-east",
        }
    }

    /// The name in prose (`North America`), as dictionaries and messages write it.
    pub const fn name(self) -> &'static str {
        match self {
            Region::NorthAmerica => "North America",
            Region::SouthAmerica => "South America",
            Region::Europe => "Europe",
            Region::Asia => "Asia",
            Region::Oceania => "Oceania",
            Region::Africa => "Africa",
            Region::MiddleEast => "the Middle East",
        }
    }

    /// The region of a point in degrees (coarse continent boxes, as documented on each variant).
    pub fn containing(lat: f64, lon: f64) -> Region {
        if lon < -30.0 {
            if lat > 12.0 {
                Region::NorthAmerica
            } else {
                Region::SouthAmerica
            }
        } else if lat < -10.0 && lon > 110.0 {
            Region::Oceania
        } else if lat >= 35.0 && lon <= 45.0 {
            Region::Europe
        } else if (34.0..=63.0).contains(&lon) && lat >= 12.0 {
            Region::MiddleEast
        } else if lon < 55.0 {
            Region::Africa
        } else {
            Region::Asia
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Region {
    type Err = UnknownWord;

    fn from_str(s: &str) -> Result<Region, UnknownWord> {
        Region::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownWord {
                word: s.to_owned(),
                expected: Region::ALL.iter().map(|r| r.as_str()).collect(),
            })
    }
}

/// A word that is none of the expected ones.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {word:?}; expected one of: {}", expected.join(", "))]
pub struct UnknownWord {
    /// What was written.
    pub word: String,
    /// What would have been understood.
    pub expected: Vec<&'static str>,
}

/// A local-preference level in operator words; each carrier has a community per level it offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// Last resort: below every other route, including routes from the carrier's providers.
    Lowest,
    /// Below routes from peers, above routes from providers: a backup path.
    Low,
    /// Equal to routes from the carrier's peers.
    Peer,
    /// Above the carrier's default for customer routes.
    High,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Level; 4] = [Level::Lowest, Level::Low, Level::Peer, Level::High];

    /// The local preference this level stands for on tern's scale (see the module doc).
    pub const fn local_pref(self) -> u32 {
        match self {
            Level::Lowest => 10,
            Level::Low => 70,
            Level::Peer => Relationship::Peer.local_pref(),
            Level::High => 250,
        }
    }

    /// The tern.toml word (`lowest`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Lowest => "lowest",
            Level::Low => "low",
            Level::Peer => "peer",
            Level::High => "high",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an intent or a dictionary entry asks for, as a word (the kind of an [`Effect`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Do not announce to an AS (or to everyone in a region, or to the carrier's peers).
    NoAnnounce,
    /// Prepend N times (to an AS, to everyone, optionally in a region).
    Prepend,
    /// Do not export beyond the provider.
    NoExport,
    /// Set the provider's local preference (optionally in a region).
    LocalPref,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 4] = [
        Action::NoAnnounce,
        Action::Prepend,
        Action::NoExport,
        Action::LocalPref,
    ];

    /// The tern.toml word (`no-announce`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::NoAnnounce => "no-announce",
            Action::Prepend => "prepend",
            Action::NoExport => "no-export",
            Action::LocalPref => "local-pref",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a neighbour is to an AS (Gao-Rexford).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Relationship {
    /// The neighbour pays the AS for transit: its routes are the AS's revenue.
    Customer,
    /// Settlement-free peering: each carries the other's customer routes only.
    Peer,
    /// The AS pays the neighbour for transit.
    Provider,
}

impl Relationship {
    /// Every relationship, most preferred first.
    pub const ALL: [Relationship; 3] = [
        Relationship::Customer,
        Relationship::Peer,
        Relationship::Provider,
    ];

    /// Local preference of routes learned over this relationship: customer > peer > provider.
    pub const fn local_pref(self) -> u32 {
        match self {
            Relationship::Customer => 200,
            Relationship::Peer => 100,
            Relationship::Provider => 50,
        }
    }

    /// The same link seen from the other end (customer ↔ provider, peer ↔ peer).
    pub const fn reverse(self) -> Relationship {
        match self {
            Relationship::Customer => Relationship::Provider,
            Relationship::Peer => Relationship::Peer,
            Relationship::Provider => Relationship::Customer,
        }
    }

    /// `customer`, `peer`, `provider`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Relationship::Customer => "customer",
            Relationship::Peer => "peer",
            Relationship::Provider => "provider",
        }
    }
}

impl fmt::Display for Relationship {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Valley-free export (Gao-Rexford): may a route learned from a `learned_from` neighbour be
/// exported to a `to` neighbour? Routes from customers go to everyone; routes from peers and
/// providers go to customers only. An AS's own routes are exported like customer routes
/// (`may_export(Relationship::Customer, to)` is true for every `to`).
pub const fn may_export(learned_from: Relationship, to: Relationship) -> bool {
    matches!(learned_from, Relationship::Customer) || matches!(to, Relationship::Customer)
}

/// Which neighbours of the applying AS an export effect concerns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "asn")]
pub enum Neighbors {
    /// Every neighbour.
    All,
    /// One neighbour AS.
    As(Asn),
    /// The applying AS's settlement-free peers (not its customers, not its providers).
    Peers,
}

impl Neighbors {
    /// Does this cover a neighbour with AS `asn` that is `rel` to the applying AS?
    pub fn covers(self, asn: Asn, rel: Relationship) -> bool {
        match self {
            Neighbors::All => true,
            Neighbors::As(a) => a == asn,
            Neighbors::Peers => rel == Relationship::Peer,
        }
    }
}

impl fmt::Display for Neighbors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Neighbors::All => f.write_str("all"),
            Neighbors::As(a) => write!(f, "{a}"),
            Neighbors::Peers => f.write_str("peers"),
        }
    }
}

/// What a provider does with a route it learned from us, when asked by a community.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case", tag = "action")]
pub enum Effect {
    /// Not exported to `to` (on sessions in `region` only, when set).
    NoAnnounce {
        /// Whom it is not announced to.
        to: Neighbors,
        /// Only on sessions in this region.
        region: Option<Region>,
    },
    /// Exported to `to` with the applying AS prepended `times` more times (in `region` only,
    /// when set).
    Prepend {
        /// Extra copies of the applying AS.
        times: u8,
        /// Towards whom.
        to: Neighbors,
        /// Only on sessions in this region.
        region: Option<Region>,
    },
    /// The applying AS sets its local preference for the route to `level` (at its routers in
    /// `region` only, when set).
    LocalPref {
        /// The level.
        level: Level,
        /// Only at routers in this region.
        region: Option<Region>,
    },
    /// Not exported to any other AS (RFC 1997 NO_EXPORT, or the provider's own form of it).
    NoExport,
}

impl Effect {
    /// The action word of this effect.
    pub const fn action(&self) -> Action {
        match self {
            Effect::NoAnnounce { .. } => Action::NoAnnounce,
            Effect::Prepend { .. } => Action::Prepend,
            Effect::LocalPref { .. } => Action::LocalPref,
            Effect::NoExport => Action::NoExport,
        }
    }

    /// The region it is limited to.
    pub const fn region(&self) -> Option<Region> {
        match self {
            Effect::NoAnnounce { region, .. }
            | Effect::Prepend { region, .. }
            | Effect::LocalPref { region, .. } => *region,
            Effect::NoExport => None,
        }
    }

    /// What this effect does when the applying AS exports the route to neighbour `to` (`rel`
    /// to the applying AS) on a session in `region`.
    pub fn on_export(&self, to: Asn, rel: Relationship, region: Region) -> ExportAction {
        let here = |r: &Option<Region>| r.is_none_or(|r| r == region);
        match self {
            Effect::NoAnnounce { to: n, region: r } if n.covers(to, rel) && here(r) => {
                ExportAction::Reject
            }
            Effect::Prepend {
                times,
                to: n,
                region: r,
            } if n.covers(to, rel) && here(r) => ExportAction::Prepend(*times),
            Effect::NoExport => ExportAction::Reject,
            _ => ExportAction::Unchanged,
        }
    }

    /// The local preference this effect sets at a router of the applying AS in `region`.
    pub fn local_pref_in(&self, region: Region) -> Option<u32> {
        match self {
            Effect::LocalPref { level, region: r } if r.is_none_or(|r| r == region) => {
                Some(level.local_pref())
            }
            _ => None,
        }
    }
}

impl fmt::Display for Effect {
    /// Operator words: `no-announce to AS6939 in europe`, `prepend 2x to all`, `local-pref
    /// lowest in north-america`, `no-export`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Effect::NoAnnounce { to, .. } => write!(f, "no-announce to {to}")?,
            Effect::Prepend { times, to, .. } => write!(f, "prepend {times}x to {to}")?,
            Effect::LocalPref { level, .. } => write!(f, "local-pref {level}")?,
            Effect::NoExport => f.write_str("no-export")?,
        }
        if let Some(r) = self.region() {
            write!(f, " in {r}")?;
        }
        Ok(())
    }
}

/// What an export effect does to one announcement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportAction {
    /// Not concerned: exported as it is.
    Unchanged,
    /// Not exported.
    Reject,
    /// Exported with this many extra copies of the applying AS.
    Prepend(u8),
}

/// The community (standard or large) that asks a provider for an effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "value")]
pub enum CommunityValue {
    /// An RFC 1997 community.
    Standard(tern_types::Community),
    /// An RFC 8092 large community.
    Large(tern_types::LargeCommunity),
}

impl fmt::Display for CommunityValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommunityValue::Standard(c) => write!(f, "{c}"),
            CommunityValue::Large(c) => write!(f, "{c}"),
        }
    }
}

/// One effect a provider applies to our announcements on one upstream, and how it is asked for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AppliedEffect {
    /// What happens.
    pub effect: Effect,
    /// The AS that applies it (the dictionary's provider: the upstream's own, or the one `via`
    /// names, reached through the upstream).
    pub by: Asn,
    /// The dictionary id of that provider (`vultr`); `None` for RFC 1997 NO_EXPORT without one.
    pub provider: Option<String>,
    /// The community we attach to ask for it.
    pub community: CommunityValue,
    /// The dictionary's meaning, with `{asn}` filled in.
    pub meaning: String,
    /// Confirmed by the provider's own documentation.
    pub verified: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valley_free_export() {
        use Relationship::*;
        for to in Relationship::ALL {
            assert!(may_export(Customer, to), "customer routes go to {to}");
        }
        for from in [Peer, Provider] {
            assert!(may_export(from, Customer));
            assert!(!may_export(from, Peer), "{from} route to a peer");
            assert!(!may_export(from, Provider), "{from} route to a provider");
        }
        assert!(Customer.local_pref() > Peer.local_pref());
        assert!(Peer.local_pref() > Provider.local_pref());
        assert_eq!(Customer.reverse(), Provider);
    }

    #[test]
    fn levels_sit_around_the_relationships() {
        assert!(Level::Lowest.local_pref() < Relationship::Provider.local_pref());
        assert!(Level::Low.local_pref() > Relationship::Provider.local_pref());
        assert!(Level::Low.local_pref() < Relationship::Peer.local_pref());
        assert_eq!(Level::Peer.local_pref(), Relationship::Peer.local_pref());
        assert!(Level::High.local_pref() > Relationship::Customer.local_pref());
    }

    #[test]
    fn effects_at_an_edge() {
        let he = Asn(6939);
        let na = Effect::NoAnnounce {
            to: Neighbors::As(he),
            region: None,
        };
        assert_eq!(
            na.on_export(he, Relationship::Peer, Region::Europe),
            ExportAction::Reject
        );
        assert_eq!(
            na.on_export(Asn(174), Relationship::Peer, Region::Europe),
            ExportAction::Unchanged
        );
        let p = Effect::Prepend {
            times: 2,
            to: Neighbors::All,
            region: Some(Region::Asia),
        };
        assert_eq!(
            p.on_export(he, Relationship::Customer, Region::Asia),
            ExportAction::Prepend(2)
        );
        assert_eq!(
            p.on_export(he, Relationship::Customer, Region::Europe),
            ExportAction::Unchanged
        );
        let peers = Effect::NoAnnounce {
            to: Neighbors::Peers,
            region: None,
        };
        assert_eq!(
            peers.on_export(he, Relationship::Customer, Region::Asia),
            ExportAction::Unchanged
        );
        assert_eq!(
            peers.on_export(he, Relationship::Peer, Region::Asia),
            ExportAction::Reject
        );
        let lp = Effect::LocalPref {
            level: Level::Lowest,
            region: Some(Region::NorthAmerica),
        };
        assert_eq!(lp.local_pref_in(Region::NorthAmerica), Some(10));
        assert_eq!(lp.local_pref_in(Region::Europe), None);
        assert_eq!(lp.to_string(), "local-pref lowest in north-america");
        assert_eq!(
            Effect::NoExport.on_export(he, Relationship::Customer, Region::Asia),
            ExportAction::Reject
        );
    }

    #[test]
    fn regions_of_points_and_words() {
        assert_eq!(Region::containing(52.37, 4.90), Region::Europe);
        assert_eq!(Region::containing(40.69, -74.17), Region::NorthAmerica);
        assert_eq!(Region::containing(35.68, 139.69), Region::Asia);
        assert_eq!(Region::containing(-33.87, 151.21), Region::Oceania);
        assert_eq!(Region::containing(-23.55, -46.63), Region::SouthAmerica);
        assert_eq!(Region::containing(25.20, 55.27), Region::MiddleEast);
        assert_eq!(Region::containing(-26.20, 28.05), Region::Africa);
        for r in Region::ALL {
            assert_eq!(r.as_str().parse::<Region>(), Ok(r));
        }
        assert!("eu".parse::<Region>().is_err());
    }
}
