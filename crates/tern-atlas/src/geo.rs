//! Geography for the analysis: ISO 3166-1 alpha-2 country → continent, and great-circle distance.
//!
//! The continent table follows the UN geoscheme's usual seven-continent split as RIPE Atlas
//! reports use it (Turkey, Cyprus and the Caucasus in Asia; Russia in Europe).

/// Continent codes, as in `continent_of`.
pub const CONTINENTS: [(&str, &str); 7] = [
    ("AF", "Africa"),
    ("AN", "Antarctica"),
    ("AS", "Asia"),
    ("EU", "Europe"),
    ("NA", "North America"),
    ("OC", "Oceania"),
    ("SA", "South America"),
];

const TABLE: [(&str, &str); 7] = [
    (
        "AF",
        "DZ AO BJ BW BF BI CM CV CF TD KM CD CG CI DJ EG GQ ER ET GA GM GH GN GW KE LS LR LY MG \
         MW ML MR MU YT MA MZ NA NE NG RE RW SH ST SN SC SL SO ZA SS SD SZ TZ TG TN UG EH ZM ZW",
    ),
    (
        "AS",
        "AF AM AZ BH BD BT BN KH CN CY GE HK IN ID IR IQ IL JP JO KZ KW KG LA LB MO MY MV MN MM \
         NP KP OM PK PS PH QA SA SG KR LK SY TW TJ TH TL TR TM AE UZ VN YE IO CC CX",
    ),
    (
        "EU",
        "AX AL AD AT BY BE BA BG HR CZ DK EE FO FI FR DE GI GR GG HU IS IE IM IT JE XK LV LI LT \
         LU MT MD MC ME NL MK NO PL PT RO RU SM RS SK SI ES SJ SE CH UA GB VA",
    ),
    (
        "NA",
        "AI AG AW BS BB BZ BM BQ VG CA KY CR CU CW DM DO SV GL GD GP GT HT HN JM MQ MX MS NI PA \
         PR BL KN LC MF PM VC SX TT TC US VI UM",
    ),
    ("SA", "AR BO BR CL CO EC FK GF GY PY PE SR UY VE GS"),
    (
        "OC",
        "AS AU CK FJ PF GU KI MH FM NR NC NZ NU NF MP PW PG PN WS SB TK TO TV VU WF",
    ),
    ("AN", "AQ BV HM TF"),
];

/// The continent code (AF, AN, AS, EU, NA, OC, SA) of an ISO 3166-1 alpha-2 country code.
pub fn continent_of(country: &str) -> Option<&'static str> {
    let cc = country.trim();
    if cc.len() != 2 {
        return None;
    }
    let cc = cc.to_ascii_uppercase();
    TABLE
        .iter()
        .find(|(_, list)| list.split_ascii_whitespace().any(|c| c == cc))
        .map(|(c, _)| *c)
}

/// Great-circle distance in km between two (lat, lon) points in degrees: tern-types' one.
pub use tern_types::geo::great_circle_km as distance_km;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continents() {
        assert_eq!(continent_of("NL"), Some("EU"));
        assert_eq!(continent_of("us"), Some("NA"));
        assert_eq!(continent_of("BR"), Some("SA"));
        assert_eq!(continent_of("JP"), Some("AS"));
        assert_eq!(continent_of("ZA"), Some("AF"));
        assert_eq!(continent_of("NZ"), Some("OC"));
        assert_eq!(continent_of("ZZ"), None);
        assert_eq!(continent_of("NLD"), None);
        // No country is listed twice.
        let mut all: Vec<&str> = TABLE
            .iter()
            .flat_map(|(_, l)| l.split_ascii_whitespace())
            .collect();
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n);
    }
}
