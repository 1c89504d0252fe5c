//! How sites, probes and ASes get a region.
//!
//! - a site, and a probe with coordinates: coarse continent boxes on its latitude/longitude
//!   ([`region_of`], the same boxes the lab uses to place its routers);
//! - a probe with only a country: the country's continent (tern-atlas's UN-geoscheme table);
//! - an AS of an AS-level graph: the region most of its probes are in ([`crate::clients`]);
//!   an AS without probes has no region, so regional effects never match it and a split
//!   carrier links it to all of its regional nodes.

use tern_model::policy::Region;

pub use tern_atlas::geo::continent_of;

/// Every region, in declaration order.
pub const REGIONS: [Region; 7] = [
    Region::NorthAmerica,
    Region::SouthAmerica,
    Region::Europe,
    Region::Asia,
    Region::Oceania,
    Region::Africa,
    Region::MiddleEast,
];

/// Index of a region in [`REGIONS`].
pub fn region_index(r: Region) -> usize {
    REGIONS.iter().position(|x| *x == r).unwrap_or(0)
}

/// The region of a point (coarse continent boxes): the policy model's own [`Region::containing`].
pub fn region_of(lat: f64, lon: f64) -> Region {
    Region::containing(lat, lon)
}

/// The region of a continent code (`EU`, `NA`, …), as tern-atlas names them.
pub fn region_of_continent(code: &str) -> Option<Region> {
    Some(match code {
        "AF" => Region::Africa,
        "AS" => Region::Asia,
        "EU" => Region::Europe,
        "NA" => Region::NorthAmerica,
        "SA" => Region::SouthAmerica,
        "OC" => Region::Oceania,
        _ => return None,
    })
}

/// A probe's region: coordinates first, else its country's continent.
pub fn probe_region(lat: Option<f64>, lon: Option<f64>, country: Option<&str>) -> Option<Region> {
    if let (Some(a), Some(o)) = (lat, lon) {
        if a.is_finite() && o.is_finite() {
            return Some(region_of(a, o));
        }
    }
    country
        .and_then(tern_atlas::geo::continent_of)
        .and_then(region_of_continent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions() {
        assert_eq!(region_of(52.37, 4.90), Region::Europe);
        assert_eq!(region_of(40.69, -74.17), Region::NorthAmerica);
        assert_eq!(region_of(35.68, 139.69), Region::Asia);
        assert_eq!(probe_region(None, None, Some("DE")), Some(Region::Europe));
        assert_eq!(probe_region(None, None, Some("ZZ")), None);
    }
}
