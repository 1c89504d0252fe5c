//! The latency map: client network / AS → sites ranked by RTT that tern measured.
//!
//! Written by `tern dns map` from RIPE Atlas or `tern lab measure` results (each result: a
//! probe's address, AS and location, the site its target belongs to, the RTT), read by the
//! GeoDNS server. JSON, `version` 1:
//!
//! ```json
//! {"version": 1, "sources": ["msm-1234.json"],
//!  "prefixes": [{"prefix": "198.51.100.0/24", "asn": 64500, "location": [52.3, 4.9],
//!                "clients": 2, "sites": [{"site": "ams", "rtt_ms": 4.1, "samples": 6}, …]}],
//!  "asns": [{"asn": 64500, "clients": 9, "sites": [{"site": "ams", "rtt_ms": 5.0, "samples": 9}]}]}
//! ```
//!
//! Sites in each entry are sorted by RTT, lowest first; the server answers with the first one
//! that is healthy. Prefix entries win over AS entries (an AS entry needs the AS of the client,
//! which only a geolocation file with AS numbers gives). [`LatencyMap::load`] refuses a file that
//! does not parse, has another version, names a site the network does not have, or carries an
//! RTT that is not a finite non-negative number: the server then keeps the map it had.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tern_types::{Prefix, SiteId};

use crate::Error;

/// The map format this build reads and writes.
pub const MAP_VERSION: u32 = 1;
/// Client IPv4 addresses are grouped into networks of this length (what Google Public DNS
/// sends as ECS, and what resolvers may cache per).
pub const DEFAULT_V4_LEN: u8 = 24;
/// Client IPv6 addresses are grouped into networks of this length (a site's /48; Google sends
/// /56 as ECS, inside it).
pub const DEFAULT_V6_LEN: u8 = 48;

/// RTT to one site.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteRtt {
    /// The site.
    pub site: SiteId,
    /// Lowest RTT seen (prefix entries) or median of the clients' lowest (AS entries), ms.
    pub rtt_ms: f64,
    /// Measurements behind it.
    pub samples: usize,
}

/// One client network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrefixEntry {
    /// The network.
    pub prefix: Prefix,
    /// Its AS, when the measurements said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    /// Mean (lat, lon) of the probes in it, when known: for the nearest-site fallback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<(f64, f64)>,
    /// Distinct client addresses measured.
    pub clients: usize,
    /// Sites by RTT, lowest first.
    pub sites: Vec<SiteRtt>,
}

/// One client AS.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AsnEntry {
    /// The AS number.
    pub asn: u32,
    /// Distinct client addresses measured.
    pub clients: usize,
    /// Sites by median RTT, lowest first.
    pub sites: Vec<SiteRtt>,
}

/// The file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyMap {
    /// [`MAP_VERSION`].
    pub version: u32,
    /// Input files it was built from.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Client networks.
    #[serde(default)]
    pub prefixes: Vec<PrefixEntry>,
    /// Client ASes.
    #[serde(default)]
    pub asns: Vec<AsnEntry>,
}

/// One measurement: a client reached `site` in `rtt_ms`.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    /// The client's address.
    pub client: IpAddr,
    /// Its AS.
    pub asn: Option<u32>,
    /// Its (lat, lon).
    pub location: Option<(f64, f64)>,
    /// The site measured.
    pub site: SiteId,
    /// The RTT, ms.
    pub rtt_ms: f64,
}

fn sort_sites(v: &mut [SiteRtt]) {
    v.sort_by(|a, b| a.rtt_ms.total_cmp(&b.rtt_ms).then(a.site.cmp(&b.site)));
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

impl LatencyMap {
    /// Builds a map from measurements: clients grouped into /`v4_len` and /`v6_len` networks,
    /// each network's lowest RTT per site; per AS the median over its clients of each client's
    /// lowest RTT per site. Observations with a non-finite or negative RTT are left out.
    pub fn build(obs: &[Observation], v4_len: u8, v6_len: u8, sources: Vec<String>) -> Self {
        #[derive(Default)]
        struct Net {
            asn: BTreeMap<u32, usize>,
            locs: Vec<(f64, f64)>,
            clients: BTreeSet<IpAddr>,
            best: BTreeMap<SiteId, (f64, usize)>,
        }
        let mut nets: BTreeMap<Prefix, Net> = BTreeMap::new();
        // (asn, client) → site → lowest rtt
        let mut per_client: BTreeMap<(u32, IpAddr), BTreeMap<SiteId, f64>> = BTreeMap::new();
        for o in obs
            .iter()
            .filter(|o| o.rtt_ms.is_finite() && o.rtt_ms >= 0.0)
        {
            let len = if o.client.is_ipv4() { v4_len } else { v6_len };
            let Some(p) = Prefix::truncating(o.client, len) else {
                continue;
            };
            let n = nets.entry(p).or_default();
            if let Some(a) = o.asn {
                *n.asn.entry(a).or_default() += 1;
            }
            if n.clients.insert(o.client) {
                n.locs.extend(o.location);
            }
            let e = n.best.entry(o.site.clone()).or_insert((f64::INFINITY, 0));
            e.0 = e.0.min(o.rtt_ms);
            e.1 += 1;
            if let Some(a) = o.asn {
                let c = per_client.entry((a, o.client)).or_default();
                let r = c.entry(o.site.clone()).or_insert(f64::INFINITY);
                *r = r.min(o.rtt_ms);
            }
        }
        let prefixes = nets
            .into_iter()
            .map(|(prefix, n)| {
                let mut sites: Vec<SiteRtt> = n
                    .best
                    .into_iter()
                    .map(|(site, (rtt_ms, samples))| SiteRtt {
                        site,
                        rtt_ms,
                        samples,
                    })
                    .collect();
                sort_sites(&mut sites);
                let location = (!n.locs.is_empty()).then(|| {
                    let k = n.locs.len() as f64;
                    (
                        n.locs.iter().map(|l| l.0).sum::<f64>() / k,
                        n.locs.iter().map(|l| l.1).sum::<f64>() / k,
                    )
                });
                PrefixEntry {
                    prefix,
                    // The AS most of its measurements came from.
                    asn: n
                        .asn
                        .iter()
                        .max_by_key(|(a, c)| (**c, std::cmp::Reverse(**a)))
                        .map(|(a, _)| *a),
                    location,
                    clients: n.clients.len(),
                    sites,
                }
            })
            .collect();
        let mut by_asn: BTreeMap<u32, (usize, BTreeMap<SiteId, Vec<f64>>)> = BTreeMap::new();
        for ((asn, _), sites) in per_client {
            let e = by_asn.entry(asn).or_default();
            e.0 += 1;
            for (s, r) in sites {
                e.1.entry(s).or_default().push(r);
            }
        }
        let asns = by_asn
            .into_iter()
            .map(|(asn, (clients, sites))| {
                let mut sites: Vec<SiteRtt> = sites
                    .into_iter()
                    .map(|(site, mut v)| SiteRtt {
                        site,
                        samples: v.len(),
                        rtt_ms: median(&mut v),
                    })
                    .collect();
                sort_sites(&mut sites);
                AsnEntry {
                    asn,
                    clients,
                    sites,
                }
            })
            .collect();
        LatencyMap {
            version: MAP_VERSION,
            sources,
            prefixes,
            asns,
        }
    }

    /// Reads and checks a map against the network's sites.
    pub fn load(path: &Path, sites: &[SiteId]) -> Result<LatencyMap, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, sites).map_err(|reason| Error::Map {
            path: path.to_path_buf(),
            reason,
        })
    }

    /// Parses and checks map text (see [`LatencyMap::load`]).
    pub fn parse(text: &str, sites: &[SiteId]) -> Result<LatencyMap, String> {
        let mut m: LatencyMap = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if m.version != MAP_VERSION {
            return Err(format!(
                "map version {} is not {MAP_VERSION}: rebuild it with this tern's `tern dns map`",
                m.version
            ));
        }
        let lists = m
            .prefixes
            .iter()
            .map(|p| (p.prefix.to_string(), &p.sites))
            .chain(m.asns.iter().map(|a| (format!("AS{}", a.asn), &a.sites)));
        for (what, list) in lists {
            for s in list {
                if !sites.contains(&s.site) {
                    return Err(format!(
                        "{what} names site {}, which the network does not have",
                        s.site
                    ));
                }
                if !s.rtt_ms.is_finite() || s.rtt_ms < 0.0 {
                    return Err(format!(
                        "{what}: RTT {} to {} is not a number of ms",
                        s.rtt_ms, s.site
                    ));
                }
            }
        }
        // Hand-edited maps need not keep the order: rank by RTT here.
        for p in &mut m.prefixes {
            sort_sites(&mut p.sites);
        }
        for a in &mut m.asns {
            sort_sites(&mut a.sites);
        }
        Ok(m)
    }
}

/// A map ready for lookups: longest-prefix match per family, AS by number.
#[derive(Clone, Debug, Default)]
pub struct MapIndex {
    map: LatencyMap,
    /// (is_v6, len) → network bits → entry index; lengths longest first.
    by_len: Vec<((bool, u8), HashMap<u128, usize>)>,
    by_asn: HashMap<u32, usize>,
}

fn net_bits(a: IpAddr, len: u8) -> (bool, u128) {
    match a {
        IpAddr::V4(a) => {
            let x = u32::from(a);
            let m = if len == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(len.min(32)))
            };
            (false, u128::from(x & m))
        }
        IpAddr::V6(a) => {
            let x = u128::from(a);
            let m = if len == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(len.min(128)))
            };
            (true, x & m)
        }
    }
}

impl MapIndex {
    /// Indexes a checked map.
    pub fn new(map: LatencyMap) -> MapIndex {
        let mut by: BTreeMap<(bool, u8), HashMap<u128, usize>> = BTreeMap::new();
        for (i, p) in map.prefixes.iter().enumerate() {
            let (v6, bits) = net_bits(p.prefix.addr(), p.prefix.len());
            by.entry((v6, p.prefix.len())).or_default().insert(bits, i);
        }
        let mut by_len: Vec<_> = by.into_iter().collect();
        by_len.sort_by_key(|e| std::cmp::Reverse(e.0.1));
        let by_asn = map
            .asns
            .iter()
            .enumerate()
            .map(|(i, a)| (a.asn, i))
            .collect();
        MapIndex {
            map,
            by_len,
            by_asn,
        }
    }

    /// The map.
    pub fn map(&self) -> &LatencyMap {
        &self.map
    }

    /// The most specific network entry containing `addr`.
    pub fn prefix(&self, addr: IpAddr) -> Option<&PrefixEntry> {
        let addr = match addr {
            IpAddr::V6(a) => a.to_ipv4_mapped().map_or(addr, IpAddr::V4),
            v4 => v4,
        };
        let v6 = addr.is_ipv6();
        self.by_len
            .iter()
            .filter(|((f, _), _)| *f == v6)
            .find_map(|((_, len), t)| t.get(&net_bits(addr, *len).1))
            .map(|&i| &self.map.prefixes[i])
    }

    /// The entry of an AS.
    pub fn asn(&self, asn: u32) -> Option<&AsnEntry> {
        self.by_asn.get(&asn).map(|&i| &self.map.asns[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> SiteId {
        x.parse().unwrap()
    }

    fn obs(client: &str, asn: u32, site: &str, rtt: f64) -> Observation {
        Observation {
            client: client.parse().unwrap(),
            asn: Some(asn),
            location: Some((50.0, 5.0)),
            site: s(site),
            rtt_ms: rtt,
        }
    }

    #[test]
    fn builds_ranked_entries() {
        let m = LatencyMap::build(
            &[
                obs("198.51.100.7", 64500, "ams", 9.0),
                obs("198.51.100.7", 64500, "ams", 5.0),
                obs("198.51.100.7", 64500, "nyc", 80.0),
                obs("198.51.100.9", 64500, "nyc", 70.0),
                obs("2001:db8:c0:1::1", 64501, "nyc", 3.0),
                obs("2001:db8:c0:2::1", 64501, "ams", 90.0),
                obs("203.0.113.1", 64502, "ams", f64::NAN),
            ],
            24,
            48,
            vec!["t.json".into()],
        );
        assert_eq!(m.prefixes.len(), 2, "{m:#?}");
        let p = &m.prefixes[0];
        assert_eq!(p.prefix.to_string(), "198.51.100.0/24");
        assert_eq!((p.asn, p.clients), (Some(64500), 2));
        assert_eq!(
            p.sites[0],
            SiteRtt {
                site: s("ams"),
                rtt_ms: 5.0,
                samples: 2
            }
        );
        assert_eq!(p.sites[1].rtt_ms, 70.0);
        let v6 = &m.prefixes[1];
        assert_eq!(v6.prefix.to_string(), "2001:db8:c0::/48");
        assert_eq!(v6.sites[0].site, s("nyc"));
        // AS 64500: client .7 ams 5 / nyc 80, client .9 nyc 70 → ams 5, nyc median 75.
        let a = &m.asns[0];
        assert_eq!((a.asn, a.clients), (64500, 2));
        assert_eq!((a.sites[0].site.as_str(), a.sites[0].rtt_ms), ("ams", 5.0));
        assert_eq!(a.sites[1].rtt_ms, 75.0);
        // Round trip through the file format.
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(LatencyMap::parse(&text, &[s("ams"), s("nyc")]).unwrap(), m);
    }

    #[test]
    fn refuses_bad_maps() {
        let sites = [s("ams")];
        for bad in [
            "{",
            r#"{"version": 2}"#,
            r#"{"version": 1, "bogus": 1}"#,
            r#"{"version": 1, "prefixes": [{"prefix": "198.51.100.0/24", "clients": 1, "sites": [{"site": "lon", "rtt_ms": 1, "samples": 1}]}]}"#,
            r#"{"version": 1, "asns": [{"asn": 1, "clients": 1, "sites": [{"site": "ams", "rtt_ms": -1, "samples": 1}]}]}"#,
            r#"{"version": 1, "prefixes": [{"prefix": "198.51.100.1/24", "clients": 1, "sites": []}]}"#,
        ] {
            assert!(LatencyMap::parse(bad, &sites).is_err(), "{bad}");
        }
        assert!(LatencyMap::parse(r#"{"version": 1}"#, &sites).is_ok());
    }

    #[test]
    fn longest_prefix_match() {
        let text = r#"{"version": 1, "prefixes": [
            {"prefix": "198.51.0.0/16", "clients": 1, "sites": [{"site": "nyc", "rtt_ms": 1, "samples": 1}]},
            {"prefix": "198.51.100.0/24", "clients": 1, "sites": [{"site": "ams", "rtt_ms": 1, "samples": 1}]},
            {"prefix": "2001:db8::/32", "clients": 1, "sites": [{"site": "ams", "rtt_ms": 1, "samples": 1}]}]}"#;
        let idx = MapIndex::new(LatencyMap::parse(text, &[s("ams"), s("nyc")]).unwrap());
        let hit = |a: &str| idx.prefix(a.parse().unwrap()).map(|e| e.prefix.to_string());
        assert_eq!(hit("198.51.100.3").as_deref(), Some("198.51.100.0/24"));
        assert_eq!(hit("198.51.7.3").as_deref(), Some("198.51.0.0/16"));
        assert_eq!(
            hit("::ffff:198.51.100.3").as_deref(),
            Some("198.51.100.0/24")
        );
        assert_eq!(hit("2001:db8:5::1").as_deref(), Some("2001:db8::/32"));
        assert_eq!(hit("192.0.2.1"), None);
    }
}
