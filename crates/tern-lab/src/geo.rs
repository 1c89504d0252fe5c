//! Geography of the lab: regions, where routers and probes stand, and link delays.
//!
//! A site's region comes from its coordinates (coarse continent boxes, good enough to place a
//! lab). Each lab region has a hub city (where the transit carriers' routers stand) and up to
//! three probe cities (where eyeball networks and their client probes stand). Link delay is the
//! great-circle distance at two thirds of the speed of light (fibre), plus a constant.

use serde::{Deserialize, Serialize};
use tern_model::policy::Region;
use tern_types::geo::great_circle_km;

/// Kilometres light travels in fibre per millisecond (2/3 c).
pub const FIBRE_KM_PER_MS: f64 = 299_792.458 / 1000.0 * 2.0 / 3.0;

/// Every region, in the lab's fixed order (it decides router ids, hence BGP tie-breaks).
pub const REGIONS: &[Region] = &[
    Region::Europe,
    Region::NorthAmerica,
    Region::Asia,
    Region::SouthAmerica,
    Region::Oceania,
    Region::Africa,
    Region::MiddleEast,
];

/// A place: name, ISO 3166 country code, latitude, longitude.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Place {
    /// City.
    pub city: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// Degrees north.
    pub lat: f64,
    /// Degrees east.
    pub lon: f64,
}

fn place(city: &str, country: &str, lat: f64, lon: f64) -> Place {
    Place {
        city: city.to_owned(),
        country: country.to_owned(),
        lat,
        lon,
    }
}

/// Short name used in namespace and router names (`eu`, `na`, …).
pub fn short(r: Region) -> &'static str {
    match r {
        Region::Europe => "eu",
        Region::NorthAmerica => "na",
        Region::Asia => "as",
        Region::SouthAmerica => "sa",
        Region::Oceania => "oc",
        Region::Africa => "af",
        Region::MiddleEast => "me",
    }
}

/// Position of a region in [`REGIONS`].
pub fn rank(r: Region) -> usize {
    REGIONS
        .iter()
        .position(|x| *x == r)
        .unwrap_or(REGIONS.len())
}

/// The hub city of a region: where the transit carriers' routers stand.
pub fn hub(r: Region) -> Place {
    match r {
        Region::Europe => place("Frankfurt", "DE", 50.11, 8.68),
        Region::NorthAmerica => place("Ashburn", "US", 39.04, -77.49),
        Region::Asia => place("Hong Kong", "HK", 22.32, 114.17),
        Region::SouthAmerica => place("Sao Paulo", "BR", -23.55, -46.63),
        Region::Oceania => place("Sydney", "AU", -33.87, 151.21),
        Region::Africa => place("Johannesburg", "ZA", -26.20, 28.05),
        Region::MiddleEast => place("Dubai", "AE", 25.20, 55.27),
    }
}

/// Probe cities of a region, in order (eyeball `n` stands in city `n`).
pub fn probe_cities(r: Region) -> Vec<Place> {
    match r {
        Region::Europe => vec![
            place("London", "GB", 51.51, -0.13),
            place("Warsaw", "PL", 52.23, 21.01),
            place("Madrid", "ES", 40.42, -3.70),
        ],
        Region::NorthAmerica => vec![
            place("Chicago", "US", 41.88, -87.63),
            place("Toronto", "CA", 43.65, -79.38),
            place("Dallas", "US", 32.78, -96.80),
        ],
        Region::Asia => vec![
            place("Seoul", "KR", 37.57, 126.98),
            place("Singapore", "SG", 1.35, 103.82),
            place("Mumbai", "IN", 19.08, 72.88),
        ],
        Region::SouthAmerica => vec![
            place("Buenos Aires", "AR", -34.60, -58.38),
            place("Bogota", "CO", 4.71, -74.07),
            place("Santiago", "CL", -33.45, -70.67),
        ],
        Region::Oceania => vec![
            place("Auckland", "NZ", -36.85, 174.76),
            place("Perth", "AU", -31.95, 115.86),
            place("Melbourne", "AU", -37.81, 144.96),
        ],
        Region::Africa => vec![
            place("Lagos", "NG", 6.52, 3.38),
            place("Nairobi", "KE", -1.29, 36.82),
            place("Cairo", "EG", 30.04, 31.24),
        ],
        Region::MiddleEast => vec![
            place("Tel Aviv", "IL", 32.09, 34.78),
            place("Riyadh", "SA", 24.71, 46.68),
            place("Doha", "QA", 25.29, 51.53),
        ],
    }
}

/// The region of a point (coarse continent boxes): the policy model's [`Region::containing`].
pub fn region_of(lat: f64, lon: f64) -> Region {
    Region::containing(lat, lon)
}

/// One-way delay of a link between two points, ms, rounded to 0.1 ms.
pub fn delay_ms(a: (f64, f64), b: (f64, f64), base_ms: f64) -> f64 {
    let d = great_circle_km(a, b) / FIBRE_KM_PER_MS + base_ms;
    (d * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_of_the_example_sites() {
        assert_eq!(region_of(52.37, 4.90), Region::Europe); // Amsterdam
        assert_eq!(region_of(40.69, -74.17), Region::NorthAmerica); // Newark
        assert_eq!(region_of(35.68, 139.69), Region::Asia); // Tokyo
        assert_eq!(region_of(-33.87, 151.21), Region::Oceania);
        assert_eq!(region_of(-23.55, -46.63), Region::SouthAmerica);
        assert_eq!(region_of(25.20, 55.27), Region::MiddleEast);
        assert_eq!(region_of(-26.20, 28.05), Region::Africa);
        for r in REGIONS {
            // Every hub and probe city lies in its own region.
            let h = hub(*r);
            assert_eq!(region_of(h.lat, h.lon), *r, "{}", h.city);
            for c in probe_cities(*r) {
                assert_eq!(region_of(c.lat, c.lon), *r, "{}", c.city);
            }
        }
    }

    #[test]
    fn delay_is_distance_at_two_thirds_c() {
        // Amsterdam–New York is about 5,860 km: about 29 ms one way in fibre.
        let d = delay_ms((52.37, 4.90), (40.71, -74.01), 0.0);
        assert!((28.0..31.0).contains(&d), "{d}");
        assert_eq!(delay_ms((1.0, 1.0), (1.0, 1.0), 0.5), 0.5);
    }
}
