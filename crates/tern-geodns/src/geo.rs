//! Operator-supplied geolocation: where a client network is (and its AS, when the file says).
//!
//! Two formats, chosen by the file name:
//! - `.mmdb`: a MaxMind-format database (GeoIP2/GeoLite2 City or ASN, DB-IP Lite City, IPinfo),
//!   read with the `maxminddb` crate. Fields used: `location.latitude`, `location.longitude`
//!   and `autonomous_system_number`; the network the answer covers becomes the ECS scope.
//!   [`GeoDb::load`] runs the crate's full `verify()` (search tree, data section, metadata), so
//!   a truncated or corrupt file is refused before it replaces a good one.
//! - `.csv`: `first,last,lat,lon[,asn]` per line, addresses of one family per range (`#`
//!   comments, blank lines allowed), e.g. converted from DB-IP's CSV. Ranges must not overlap.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::Error;

/// The one great-circle distance of the workspace (tern-types), by its name here.
pub use tern_types::geo::{EARTH_RADIUS_KM, great_circle_km as distance_km};

/// What the database says about an address.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GeoHit {
    /// (lat, lon), when known.
    pub location: Option<(f64, f64)>,
    /// Origin AS, when known.
    pub asn: Option<u32>,
    /// Length of the network of the entry (the same answer holds for all of it).
    pub prefix_len: u8,
}

/// A loaded geolocation file.
pub struct GeoDb {
    path: PathBuf,
    kind: Kind,
}

impl std::fmt::Debug for GeoDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoDb")
            .field("path", &self.path)
            .field("entries", &self.entries())
            .finish()
    }
}

enum Kind {
    Mmdb(maxminddb::Reader<Vec<u8>>),
    Csv(Vec<Range>),
}

#[derive(Clone, Copy, Debug)]
struct Range {
    first: u128,
    last: u128,
    v6: bool,
    lat: f64,
    lon: f64,
    asn: Option<u32>,
}

#[derive(Deserialize)]
struct MmdbRecord {
    location: Option<MmdbLocation>,
    autonomous_system_number: Option<u32>,
}

#[derive(Deserialize)]
struct MmdbLocation {
    latitude: Option<f64>,
    longitude: Option<f64>,
}

fn bits(a: IpAddr) -> (u128, bool) {
    match a {
        IpAddr::V4(a) => (u128::from(u32::from(a)), false),
        IpAddr::V6(a) => (u128::from(a), true),
    }
}

impl GeoDb {
    /// Loads and checks a file (`.mmdb` or `.csv`).
    pub fn load(path: &Path) -> Result<GeoDb, Error> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let bad = |reason: String| Error::Geo {
            path: path.to_path_buf(),
            reason,
        };
        let kind = if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
        {
            let text = String::from_utf8(bytes).map_err(|_| bad("not UTF-8".into()))?;
            Kind::Csv(parse_csv(&text).map_err(bad)?)
        } else {
            let reader = maxminddb::Reader::from_source(bytes).map_err(|e| bad(e.to_string()))?;
            reader.verify().map_err(|e| bad(format!("verify: {e}")))?;
            Kind::Mmdb(reader)
        };
        Ok(GeoDb {
            path: path.to_path_buf(),
            kind,
        })
    }

    /// The file it came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Ranges (CSV) or search-tree nodes (MMDB).
    pub fn entries(&self) -> usize {
        match &self.kind {
            Kind::Mmdb(r) => r.metadata().node_count as usize,
            Kind::Csv(v) => v.len(),
        }
    }

    /// What the file knows about `addr` (an IPv4-mapped IPv6 address is looked up as IPv4).
    pub fn lookup(&self, addr: IpAddr) -> Option<GeoHit> {
        let addr = match addr {
            IpAddr::V6(a) => a.to_ipv4_mapped().map_or(addr, IpAddr::V4),
            v4 => v4,
        };
        match &self.kind {
            Kind::Mmdb(r) => {
                let res = r.lookup(addr).ok()?;
                let rec: MmdbRecord = res.decode().ok()??;
                let net = res.network().ok()?;
                let mut prefix_len = net.prefix();
                // A v4 address in an IPv6 tree reports the /96-based length in some versions.
                if addr.is_ipv4() && prefix_len > 32 {
                    prefix_len = prefix_len.saturating_sub(96);
                }
                let location = rec
                    .location
                    .and_then(|l| Some((l.latitude?, l.longitude?)))
                    .filter(|(la, lo)| la.is_finite() && lo.is_finite());
                Some(GeoHit {
                    location,
                    asn: rec.autonomous_system_number,
                    prefix_len,
                })
            }
            Kind::Csv(ranges) => {
                let (x, v6) = bits(addr);
                let i = ranges.partition_point(|r| (r.v6, r.first) <= (v6, x));
                let r = ranges.get(i.checked_sub(1)?)?;
                if r.v6 != v6 || x > r.last {
                    return None;
                }
                Some(GeoHit {
                    location: Some((r.lat, r.lon)),
                    asn: r.asn,
                    prefix_len: block_len(x, r.first, r.last, v6),
                })
            }
        }
    }
}

/// The shortest prefix length whose block around `x` lies inside `[first, last]`.
fn block_len(x: u128, first: u128, last: u128, v6: bool) -> u8 {
    let max: u32 = if v6 { 128 } else { 32 };
    for len in 0..=max {
        let host = max - len;
        let mask = if host >= 128 { 0 } else { u128::MAX << host };
        let lo = x & mask;
        let hi = lo | !mask & if v6 { u128::MAX } else { u128::from(u32::MAX) };
        if lo >= first && hi <= last {
            return len as u8;
        }
    }
    max as u8
}

fn parse_csv(text: &str) -> Result<Vec<Range>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = |m: &str| format!("line {}: {m}", i + 1);
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        if !(4..=5).contains(&f.len()) {
            return Err(at("want first,last,lat,lon[,asn]"));
        }
        let a: IpAddr = f[0].parse().map_err(|_| at("bad first address"))?;
        let b: IpAddr = f[1].parse().map_err(|_| at("bad last address"))?;
        let lat: f64 = f[2].parse().map_err(|_| at("bad latitude"))?;
        let lon: f64 = f[3].parse().map_err(|_| at("bad longitude"))?;
        if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
            return Err(at("coordinates out of range"));
        }
        let asn = match f.get(4) {
            Some(s) if !s.is_empty() => Some(
                s.trim_start_matches("AS")
                    .parse::<u32>()
                    .map_err(|_| at("bad AS number"))?,
            ),
            _ => None,
        };
        let ((first, v6), (last, v6b)) = (bits(a), bits(b));
        if v6 != v6b || first > last {
            return Err(at("first and last must be one family, first ≤ last"));
        }
        out.push(Range {
            first,
            last,
            v6,
            lat,
            lon,
            asn,
        });
    }
    out.sort_by_key(|r| (r.v6, r.first));
    for w in out.windows(2) {
        if w[0].v6 == w[1].v6 && w[1].first <= w[0].last {
            let show = |x: u128, v6: bool| {
                if v6 {
                    Ipv6Addr::from(x).to_string()
                } else {
                    Ipv4Addr::from(x as u32).to_string()
                }
            };
            return Err(format!("ranges overlap at {}", show(w[1].first, w[1].v6)));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        // Amsterdam – New York, about 5860 km.
        let d = distance_km((52.37, 4.90), (40.71, -74.01));
        assert!((5800.0..5900.0).contains(&d), "{d}");
        assert!(distance_km((1.0, 2.0), (1.0, 2.0)) < 1e-9);
        // Antipodes: half the circumference.
        let d = distance_km((0.0, 0.0), (0.0, 180.0));
        assert!((d - std::f64::consts::PI * EARTH_RADIUS_KM).abs() < 1.0);
    }

    #[test]
    fn csv_ranges() {
        let r = parse_csv(
            "# test\n198.51.100.0,198.51.100.255,52.3,4.9,AS64500\n\
             2001:db8:c0::,2001:db8:c0:ffff:ffff:ffff:ffff:ffff,40.7,-74.0\n\
             203.0.113.0,203.0.113.127,1.3,103.8,64501\n",
        )
        .unwrap();
        let db = GeoDb {
            path: "t.csv".into(),
            kind: Kind::Csv(r),
        };
        let h = db.lookup("198.51.100.77".parse().unwrap()).unwrap();
        assert_eq!(
            (h.location, h.asn, h.prefix_len),
            (Some((52.3, 4.9)), Some(64500), 24)
        );
        let h = db.lookup("2001:db8:c0:1::5".parse().unwrap()).unwrap();
        assert_eq!((h.asn, h.prefix_len), (None, 48));
        let h = db.lookup("203.0.113.5".parse().unwrap()).unwrap();
        assert_eq!(h.prefix_len, 25);
        assert!(db.lookup("203.0.113.200".parse().unwrap()).is_none());
        assert!(db.lookup("192.0.2.1".parse().unwrap()).is_none());
        // IPv4-mapped IPv6 is looked up as IPv4.
        assert!(db.lookup("::ffff:198.51.100.1".parse().unwrap()).is_some());
        for bad in [
            "1.2.3.4,1.2.3.5,91,0\n",
            "1.2.3.4,::1,0,0\n",
            "1.2.3.9,1.2.3.5,0,0\n",
            "1.2.3.4,1.2.3.5\n",
            "1.0.0.0,1.0.0.255,0,0\n1.0.0.128,1.0.1.0,0,0\n",
        ] {
            assert!(parse_csv(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn block_lengths() {
        assert_eq!(block_len(5, 0, 255, false), 24);
        assert_eq!(block_len(5, 0, u128::from(u32::MAX), false), 0);
        assert_eq!(block_len(130, 128, 191, false), 26);
    }
}
