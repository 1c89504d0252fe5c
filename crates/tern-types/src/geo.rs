//! Geography shared by the crates that place things on the globe (the lab's link delays, the
//! Atlas analysis's "nearest site"): one great-circle distance.

/// Mean Earth radius, km (IUGG).
pub const EARTH_RADIUS_KM: f64 = 6371.0;

/// Great-circle distance in km between two (latitude, longitude) points in degrees, by the
/// haversine formula on a sphere of [`EARTH_RADIUS_KM`] (error under 0.5 % against the
/// ellipsoid, plenty for catchment and delay estimates).
pub fn great_circle_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1) = (a.0.to_radians(), a.1.to_radians());
    let (la2, lo2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    // min(1): rounding can push h a hair above 1 for antipodal points.
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        // Amsterdam – Frankfurt ≈ 365 km; Amsterdam – New York ≈ 5,860 km.
        let d = great_circle_km((52.37, 4.90), (50.11, 8.68));
        assert!((350.0..380.0).contains(&d), "{d}");
        let d = great_circle_km((52.37, 4.90), (40.71, -74.01));
        assert!((5800.0..5900.0).contains(&d), "{d}");
        assert!(great_circle_km((0.0, 0.0), (0.0, 0.0)).abs() < 1e-9);
        // Antipodes: half the circumference, not NaN.
        let d = great_circle_km((0.0, 0.0), (0.0, 180.0));
        assert!(
            (d - std::f64::consts::PI * EARTH_RADIUS_KM).abs() < 1e-6,
            "{d}"
        );
        // Symmetric.
        let (a, b) = ((-33.87, 151.21), (51.51, -0.13));
        assert!((great_circle_km(a, b) - great_circle_km(b, a)).abs() < 1e-9);
    }
}
