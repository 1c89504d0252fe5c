//! Site choice: which healthy site is best for a client, and why.
//!
//! In this order (issue 13 §3), skipping sites that are down, drained or have no address of the
//! family asked for:
//! 1. the latency map's entry for the client's network, its sites by measured RTT;
//! 2. the map's entry for the client's AS (the AS from the geolocation file);
//! 3. the nearest site by great-circle distance to where the client is: the geolocation file's
//!    coordinates, else the map entry's probe location;
//! 4. none: the caller answers with the anycast address.
//!
//! The ECS scope returned with an answer (RFC 7871 §7.2.1) is the length of the network the
//! deciding entry covers (the map's prefix, or the geolocation file's network), never longer
//! than the source prefix the resolver sent; when nothing matched, the source prefix itself.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;
use tern_model::dns::DnsSite;
use tern_types::{Prefix, SiteId};

use crate::geo::{GeoDb, distance_km};
use crate::map::{MapIndex, SiteRtt};

/// Most sites a GeoDNS zone can choose among (one bit each in [`Up`]).
pub const MAX_SITES: usize = 64;

/// Which sites may be answered with: bit `i` is site `i` of [`Selector::sites`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Up(pub u64);

impl Up {
    /// Every site.
    pub const ALL: Up = Up(u64::MAX);

    /// Is site `i` up?
    pub fn has(self, i: usize) -> bool {
        i < MAX_SITES && self.0 & (1 << i) != 0
    }

    /// With site `i` set to `up`.
    pub fn with(self, i: usize, up: bool) -> Up {
        if i >= MAX_SITES {
            return self;
        }
        if up {
            Up(self.0 | 1 << i)
        } else {
            Up(self.0 & !(1 << i))
        }
    }
}

/// Address family of the question.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// A.
    V4,
    /// AAAA.
    V6,
}

/// Why a site (or the anycast address) was chosen.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "by")]
pub enum Reason {
    /// The latency map's network entry.
    MapPrefix {
        /// The entry.
        prefix: Prefix,
        /// Measured RTT to the chosen site.
        rtt_ms: f64,
        /// Better-ranked sites skipped because they are down.
        skipped: usize,
    },
    /// The latency map's AS entry.
    MapAsn {
        /// The AS.
        asn: u32,
        /// Median RTT to the chosen site.
        rtt_ms: f64,
        /// Better-ranked sites skipped because they are down.
        skipped: usize,
    },
    /// Nearest healthy site to the client's location.
    Nearest {
        /// Distance, km.
        km: f64,
        /// Where the location came from: `geoip` or `map`.
        from: &'static str,
    },
    /// Nothing known (or no healthy site): the anycast address.
    Anycast,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::MapPrefix {
                prefix,
                rtt_ms,
                skipped,
            } => write!(f, "map {prefix}: {rtt_ms:.1} ms ({skipped} better down)"),
            Reason::MapAsn {
                asn,
                rtt_ms,
                skipped,
            } => write!(f, "map AS{asn}: {rtt_ms:.1} ms ({skipped} better down)"),
            Reason::Nearest { km, from } => write!(f, "nearest by {from} location: {km:.0} km"),
            Reason::Anycast => f.write_str("anycast (no data or no healthy site)"),
        }
    }
}

/// The outcome for one client.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Choice {
    /// Index into [`Selector::sites`]; `None`: anycast.
    pub site: Option<usize>,
    /// Why.
    pub reason: Reason,
    /// ECS scope prefix length for the answer.
    pub scope: u8,
}

/// The sites and the data to choose among them.
#[derive(Debug, Default)]
pub struct Selector {
    sites: Vec<DnsSite>,
    map: Option<MapIndex>,
    geo: Option<GeoDb>,
}

impl Selector {
    /// A selector over `sites` (at most [`MAX_SITES`]; later ones are never chosen).
    pub fn new(sites: Vec<DnsSite>, map: Option<MapIndex>, geo: Option<GeoDb>) -> Selector {
        Selector { sites, map, geo }
    }

    /// The sites, in [`Up`] bit order.
    pub fn sites(&self) -> &[DnsSite] {
        &self.sites
    }

    /// The index of a site.
    pub fn index(&self, id: &SiteId) -> Option<usize> {
        self.sites.iter().position(|s| &s.id == id)
    }

    /// The map, if one is loaded.
    pub fn map(&self) -> Option<&MapIndex> {
        self.map.as_ref()
    }

    /// The geolocation file, if one is loaded.
    pub fn geo(&self) -> Option<&GeoDb> {
        self.geo.as_ref()
    }

    /// Can site `i` be answered with for `family`?
    pub fn eligible(&self, i: usize, family: Family, up: Up) -> bool {
        let Some(s) = self.sites.get(i) else {
            return false;
        };
        up.has(i)
            && !s.drained
            && match family {
                Family::V4 => s.v4.is_some(),
                Family::V6 => s.v6.is_some(),
            }
    }

    /// The address of site `i` for `family`.
    pub fn addr(&self, i: usize, family: Family) -> Option<IpAddr> {
        let s = self.sites.get(i)?;
        match family {
            Family::V4 => s.v4.map(IpAddr::V4),
            Family::V6 => s.v6.map(IpAddr::V6),
        }
    }

    fn first_up(&self, list: &[SiteRtt], family: Family, up: Up) -> Option<(usize, f64, usize)> {
        let mut skipped = 0;
        for s in list {
            match self.index(&s.site) {
                Some(i) if self.eligible(i, family, up) => return Some((i, s.rtt_ms, skipped)),
                _ => skipped += 1,
            }
        }
        None
    }

    fn nearest(&self, at: (f64, f64), family: Family, up: Up) -> Option<(usize, f64)> {
        (0..self.sites.len().min(MAX_SITES))
            .filter(|&i| self.eligible(i, family, up))
            .map(|i| (i, distance_km(at, (self.sites[i].lat, self.sites[i].lon))))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// The best site for a client at `client` whose resolver disclosed `source` bits of it.
    pub fn choose(&self, client: IpAddr, source: u8, family: Family, up: Up) -> Choice {
        let cap = |len: u8| len.min(source);
        let entry = self.map.as_ref().and_then(|m| m.prefix(client));
        if let Some(e) = entry {
            if let Some((i, rtt_ms, skipped)) = self.first_up(&e.sites, family, up) {
                return Choice {
                    site: Some(i),
                    reason: Reason::MapPrefix {
                        prefix: e.prefix,
                        rtt_ms,
                        skipped,
                    },
                    scope: cap(e.prefix.len()),
                };
            }
        }
        let hit = self.geo.as_ref().and_then(|g| g.lookup(client));
        let asn = entry.and_then(|e| e.asn).or(hit.and_then(|h| h.asn));
        if let (Some(m), Some(asn)) = (&self.map, asn) {
            if let Some(a) = m.asn(asn) {
                if let Some((i, rtt_ms, skipped)) = self.first_up(&a.sites, family, up) {
                    let len = entry
                        .map(|e| e.prefix.len())
                        .or(hit.map(|h| h.prefix_len))
                        .unwrap_or(source);
                    return Choice {
                        site: Some(i),
                        reason: Reason::MapAsn {
                            asn,
                            rtt_ms,
                            skipped,
                        },
                        scope: cap(len),
                    };
                }
            }
        }
        let located = hit
            .and_then(|h| Some((h.location?, h.prefix_len, "geoip")))
            .or_else(|| entry.and_then(|e| Some((e.location?, e.prefix.len(), "map"))));
        if let Some((at, len, from)) = located {
            if let Some((i, km)) = self.nearest(at, family, up) {
                return Choice {
                    site: Some(i),
                    reason: Reason::Nearest { km, from },
                    scope: cap(len),
                };
            }
        }
        Choice {
            site: None,
            reason: Reason::Anycast,
            scope: source,
        }
    }
}

/// The address of a family in a list, for anycast answers.
pub fn first_of(v6: &[Ipv6Addr], v4: &[Ipv4Addr], family: Family) -> Option<IpAddr> {
    match family {
        Family::V6 => v6.first().copied().map(IpAddr::V6),
        Family::V4 => v4.first().copied().map(IpAddr::V4),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::map::LatencyMap;
    use crate::test_zone::dns;

    fn selector(map: &str) -> Selector {
        let d = dns();
        let ids: Vec<SiteId> = d.sites.iter().map(|s| s.id.clone()).collect();
        Selector::new(
            d.sites.clone(),
            Some(MapIndex::new(LatencyMap::parse(map, &ids).unwrap())),
            None,
        )
    }

    const MAP: &str = r#"{"version": 1,
      "prefixes": [{"prefix": "198.51.100.0/24", "asn": 64500, "clients": 1, "location": [1.3, 103.8],
                    "sites": [{"site": "ams", "rtt_ms": 5, "samples": 1}, {"site": "nyc", "rtt_ms": 70, "samples": 1}]},
                   {"prefix": "2001:db8:c0::/48", "clients": 1,
                    "sites": [{"site": "nyc", "rtt_ms": 3, "samples": 1}]}],
      "asns": [{"asn": 64500, "clients": 3, "sites": [{"site": "sin", "rtt_ms": 9, "samples": 3}]}]}"#;

    #[test]
    fn map_then_asn_then_location_then_anycast() {
        let s = selector(MAP);
        let ams = s.index(&"ams".parse().unwrap()).unwrap();
        let nyc = s.index(&"nyc".parse().unwrap()).unwrap();
        let sin = s.index(&"sin".parse().unwrap()).unwrap();
        let c: IpAddr = "198.51.100.20".parse().unwrap();
        let ch = s.choose(c, 24, Family::V6, Up::ALL);
        assert_eq!((ch.site, ch.scope), (Some(ams), 24));
        assert!(matches!(ch.reason, Reason::MapPrefix { skipped: 0, .. }));
        // Resolver sent /20 only: scope is capped at the source.
        assert_eq!(s.choose(c, 20, Family::V6, Up::ALL).scope, 20);
        // ams down: next by RTT.
        let up = Up::ALL.with(ams, false);
        let ch = s.choose(c, 24, Family::V6, up);
        assert_eq!(ch.site, Some(nyc));
        assert!(matches!(ch.reason, Reason::MapPrefix { skipped: 1, .. }));
        // Both down: the AS entry (sin).
        let up = up.with(nyc, false);
        let ch = s.choose(c, 24, Family::V6, up);
        assert_eq!(ch.site, Some(sin));
        assert!(matches!(ch.reason, Reason::MapAsn { asn: 64500, .. }));
        // sin down too: nothing ranked is up; the entry's probe location (Singapore) finds no
        // healthy site either, so the anycast address.
        let none = up.with(sin, false);
        assert_eq!(s.choose(c, 24, Family::V6, none).reason, Reason::Anycast);
        // Only ams back: the nearest healthy site to the entry's location.
        let ch = s.choose(c, 24, Family::V6, Up(0).with(ams, true));
        assert_eq!(ch.site, Some(ams));
        // A site without IPv4 is never an A answer: nyc has no v4 in the test zone.
        let ch = s.choose("2001:db8:c0::9".parse().unwrap(), 56, Family::V4, Up::ALL);
        assert_ne!(ch.site, Some(nyc));
        // Unknown client, no geo file: anycast with the source as scope.
        let ch = s.choose("192.0.2.1".parse().unwrap(), 24, Family::V6, Up::ALL);
        assert_eq!((ch.site, ch.scope, ch.reason), (None, 24, Reason::Anycast));
    }

    #[test]
    fn nearest_by_map_location() {
        // The entry's only site is down; its probes are in Singapore → sin.
        let map = r#"{"version": 1, "prefixes": [{"prefix": "203.0.113.0/24", "clients": 1,
            "location": [1.35, 103.82], "sites": [{"site": "ams", "rtt_ms": 200, "samples": 1}]}]}"#;
        let s = selector(map);
        let ams = s.index(&"ams".parse().unwrap()).unwrap();
        let sin = s.index(&"sin".parse().unwrap()).unwrap();
        let ch = s.choose(
            "203.0.113.9".parse().unwrap(),
            32,
            Family::V6,
            Up::ALL.with(ams, false),
        );
        assert_eq!(ch.site, Some(sin));
        assert!(matches!(ch.reason, Reason::Nearest { from: "map", km } if km < 50.0));
        assert_eq!(ch.scope, 24);
    }

    #[test]
    fn drained_sites_are_never_chosen() {
        let mut d = dns();
        d.sites[0].drained = true; // ams
        let s = Selector::new(d.sites.clone(), selector(MAP).map, None);
        let ch = s.choose("198.51.100.20".parse().unwrap(), 24, Family::V6, Up::ALL);
        assert_eq!(ch.site, s.index(&"nyc".parse().unwrap()));
    }
}
