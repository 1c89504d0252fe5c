//! RIPE Atlas probe metadata: REST API answers (`/api/v2/probes/…`: one object, a list, or a
//! page `{"results":[…]}`) and the daily archive (`{"meta":…, "objects":[…]}`, bzip2),
//! one struct for both layouts (see `shared/reference/measurement.md` §1.2).

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::AtlasError;
use crate::read::{Skipped, read_bytes};
use crate::values::{as_text, split_values};

/// What tern needs to know about a probe.
#[derive(Clone, Debug, PartialEq, Serialize, Default)]
pub struct Probe {
    /// Probe id.
    pub id: u32,
    /// ISO 3166-1 alpha-2 country code.
    pub country: Option<String>,
    /// Latitude (user-entered, rounded by RIPE).
    pub lat: Option<f64>,
    /// Longitude.
    pub lon: Option<f64>,
    /// Origin AS of the probe's IPv4 prefix.
    pub asn_v4: Option<u32>,
    /// Origin AS of the probe's IPv6 prefix.
    pub asn_v6: Option<u32>,
    /// Status name ("Connected", …).
    pub status: Option<String>,
    /// Whether the probe is an anchor.
    pub is_anchor: bool,
}

impl Probe {
    /// (lat, lon) when both are known.
    pub fn location(&self) -> Option<(f64, f64)> {
        Some((self.lat?, self.lon?))
    }
}

/// Probe metadata by id.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ProbeSet {
    /// Probes by id.
    pub probes: HashMap<u32, Probe>,
    /// Entries that did not parse.
    pub skipped: Skipped,
}

impl ProbeSet {
    /// Looks a probe up.
    pub fn get(&self, id: u32) -> Option<&Probe> {
        self.probes.get(&id)
    }
    /// Adds the probes of another set (later ones win).
    pub fn merge(&mut self, other: ProbeSet) {
        self.probes.extend(other.probes);
        self.skipped.count += other.skipped.count;
    }
}

/// Serde mirror of both layouts; unknown fields are accepted (the API adds fields over time).
#[derive(Deserialize)]
struct RawProbe {
    id: u32,
    country_code: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    geometry: Option<RawGeometry>,
    asn_v4: Option<u32>,
    asn_v6: Option<u32>,
    status: Option<RawStatus>,
    status_name: Option<String>,
    #[serde(default)]
    is_anchor: Option<bool>,
}

#[derive(Deserialize)]
struct RawGeometry {
    #[serde(default)]
    coordinates: Vec<f64>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawStatus {
    Code(i64),
    Object { name: Option<String> },
}

#[derive(Deserialize)]
struct RawContainer<'a> {
    #[serde(borrow)]
    objects: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    results: Option<Vec<&'a RawValue>>,
}

fn convert(r: RawProbe) -> Probe {
    let (lon, lat) = match r.geometry.as_ref().map(|g| g.coordinates.as_slice()) {
        Some([lon, lat, ..]) => (Some(*lon), Some(*lat)),
        _ => (r.longitude, r.latitude),
    };
    let status = match r.status {
        Some(RawStatus::Object { name }) => name,
        Some(RawStatus::Code(c)) => r.status_name.or_else(|| {
            Some(
                match c {
                    0 => "Never Connected",
                    1 => "Connected",
                    2 => "Disconnected",
                    3 => "Abandoned",
                    _ => "Unknown",
                }
                .to_string(),
            )
        }),
        None => r.status_name,
    };
    Probe {
        id: r.id,
        country: r.country_code.filter(|c| !c.is_empty()),
        lat: lat.filter(|v| v.is_finite() && v.abs() <= 90.0),
        lon: lon.filter(|v| v.is_finite() && v.abs() <= 180.0),
        asn_v4: r.asn_v4,
        asn_v6: r.asn_v6,
        status,
        is_anchor: r.is_anchor.unwrap_or(false),
    }
}

/// Reads a probe metadata file (API answer or archive, plain or bzip2).
pub fn read_probes(path: &Path) -> Result<ProbeSet, AtlasError> {
    let bytes = read_bytes(path)?;
    let origin = path.display().to_string();
    parse_probes(as_text(&bytes, &origin)?, &origin)
}

/// Parses probe metadata text.
pub fn parse_probes(text: &str, origin: &str) -> Result<ProbeSet, AtlasError> {
    let Some((_, values)) = split_values(text) else {
        return Err(AtlasError::NotJson {
            origin: origin.to_string(),
            reason: "expected probe metadata JSON".into(),
        });
    };
    let mut set = ProbeSet::default();
    let mut index = 0usize;
    let add = |set: &mut ProbeSet, json: &str, index: &mut usize| {
        match serde_json::from_str::<RawProbe>(json) {
            Ok(p) => {
                set.probes.insert(p.id, convert(p));
            }
            Err(e) => set.skipped.count_reason(*index, e.to_string()),
        }
        *index += 1;
    };
    for v in values {
        let Ok(json) = v else {
            set.skipped.count_reason(index, "not JSON".into());
            index += 1;
            continue;
        };
        if let Ok(RawContainer { objects, results }) =
            serde_json::from_str::<RawContainer<'_>>(json)
        {
            if let Some(items) = objects.or(results) {
                for item in items {
                    add(&mut set, item.get(), &mut index);
                }
                continue;
            }
        }
        add(&mut set, json, &mut index);
    }
    if set.probes.is_empty() && set.skipped.count > 0 {
        return Err(AtlasError::Shape {
            origin: origin.to_string(),
            reason: format!(
                "no probe metadata found ({} entries without a numeric `id`)",
                set.skipped.count
            ),
        });
    }
    Ok(set)
}

impl Skipped {
    pub(crate) fn count_reason(&mut self, index: usize, reason: String) {
        self.count += 1;
        if self.first.len() < crate::read::MAX_REASONS {
            self.first.push(crate::read::SkipReason {
                index,
                line: 0,
                offset: 0,
                reason,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_and_archive_layouts() {
        let api = r#"{"count":2,"next":null,"results":[
          {"id":10,"country_code":"NL","geometry":{"type":"Point","coordinates":[4.9,52.4]},
           "asn_v4":64512,"status":{"id":1,"name":"Connected","since":"x"},"is_anchor":true,"tags":[{"name":"a","slug":"a"}]},
          {"id":11,"country_code":"DE","geometry":null,"status":{"id":2,"name":"Disconnected"}}]}"#;
        let s = parse_probes(api, "api").unwrap();
        let p = s.get(10).unwrap();
        assert_eq!(p.location(), Some((52.4, 4.9)));
        assert_eq!(p.status.as_deref(), Some("Connected"));
        assert!(p.is_anchor);
        assert_eq!(s.get(11).unwrap().location(), None);

        let archive = r#"{"meta":{"total_count":1},"objects":[{"id":1,"latitude":52.3875,"longitude":4.8875,"country_code":"NL","status":1,"status_name":"Connected","asn_v4":3265,"tags":["home"]}]}"#;
        let s = parse_probes(archive, "archive").unwrap();
        assert_eq!(s.get(1).unwrap().location(), Some((52.3875, 4.8875)));
        assert_eq!(s.get(1).unwrap().asn_v4, Some(3265));

        let list = r#"[{"id":5,"country_code":"US"},{"id":"x"}]"#;
        let s = parse_probes(list, "list").unwrap();
        assert_eq!(s.probes.len(), 1);
        assert_eq!(s.skipped.count, 1);

        assert!(parse_probes("nope", "x").is_err());
        assert!(parse_probes(r#"[{"foo":1}]"#, "x").is_err());
    }
}
