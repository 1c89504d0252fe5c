//! The RIPE Atlas REST API v2, sans-IO: request paths and bodies are built here and answers
//! parsed here; the `tern` binary does the HTTP. Endpoints and body layout: RIPE Atlas API v2
//! documentation (`shared/reference/measurement.md` §1.3):
//! `POST /api/v2/measurements/` (create), `GET /api/v2/measurements/{id}/` (status),
//! `GET /api/v2/measurements/{id}/results/` (results), `GET /api/v2/probes/?id__in=…` (probes).
//! Authentication is the header `Authorization: Key <KEY>`.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The API's answer could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The server refused the request (its `error.detail` and per-field messages).
    #[error("RIPE Atlas API refused the request (HTTP {status}): {detail}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// What the API said.
        detail: String,
    },
    /// The answer is not the documented JSON.
    #[error("unexpected RIPE Atlas API answer to {what}: {reason}")]
    Unexpected {
        /// Which request.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

/// Measurement type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// Traceroute.
    Traceroute,
    /// Ping.
    Ping,
    /// DNS.
    Dns,
}

impl Kind {
    /// The API's `type` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Traceroute => "traceroute",
            Kind::Ping => "ping",
            Kind::Dns => "dns",
        }
    }
}

/// One measurement definition.
#[derive(Clone, Debug, PartialEq)]
pub struct Definition {
    /// Type.
    pub kind: Kind,
    /// Address family (4 or 6).
    pub af: u8,
    /// Target address or name.
    pub target: String,
    /// Description shown in the Atlas UI.
    pub description: String,
    /// Traceroute protocol (ICMP, UDP, TCP) or DNS transport (UDP, TCP).
    pub protocol: Option<String>,
    /// Packets per probe (ping, traceroute).
    pub packets: Option<u32>,
    /// DNS: query (class, type, name), e.g. ("CHAOS", "TXT", "id.server").
    pub query: Option<(String, String, String)>,
    /// DNS: ask for NSID (RFC 5001).
    pub nsid: bool,
}

/// Which probes take part.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Selector {
    /// An area: WW, West, North-Central, South-Central, North-East, South-East.
    Area(String),
    /// A country (ISO 3166-1 alpha-2).
    Country(String),
    /// An origin AS.
    Asn(u32),
    /// A prefix.
    Prefix(String),
    /// Explicit probe ids.
    Probes(Vec<u32>),
    /// The probes of an earlier measurement (for before/after comparisons).
    Msm(u64),
}

/// A probe selection: selector, count and tag filters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    /// Selector.
    pub selector: Selector,
    /// Probes requested.
    pub requested: u32,
    /// Probe tags to require (e.g. `system-ipv6-works`).
    pub include_tags: Vec<String>,
    /// Probe tags to exclude.
    pub exclude_tags: Vec<String>,
}

/// Path of the create endpoint.
pub const CREATE_PATH: &str = "/api/v2/measurements/";

/// Path of a measurement's status.
pub fn status_path(id: u64) -> String {
    format!("/api/v2/measurements/{id}/")
}

/// Path of a measurement's results.
pub fn results_path(id: u64) -> String {
    format!("/api/v2/measurements/{id}/results/?format=json")
}

/// Paths of probe metadata for these ids, at most 500 per request (the API's page size limit).
pub fn probes_paths(ids: &[u32]) -> Vec<String> {
    ids.chunks(500)
        .map(|c| {
            let list: Vec<String> = c.iter().map(u32::to_string).collect();
            format!(
                "/api/v2/probes/?id__in={}&page_size=500&format=json",
                list.join(",")
            )
        })
        .collect()
}

/// The JSON body of a create request.
pub fn create_body(defs: &[Definition], selection: &Selection, one_off: bool) -> Value {
    let definitions: Vec<Value> = defs
        .iter()
        .map(|d| {
            let mut v = json!({
                "type": d.kind.as_str(),
                "af": d.af,
                "target": d.target,
                "description": d.description,
            });
            if let Some(p) = &d.protocol {
                v["protocol"] = json!(p);
            }
            if let Some(n) = d.packets {
                v["packets"] = json!(n);
            }
            if d.kind == Kind::Dns {
                if let Some((class, qtype, name)) = &d.query {
                    v["query_class"] = json!(class);
                    v["query_type"] = json!(qtype);
                    v["query_argument"] = json!(name);
                }
                v["set_nsid_bit"] = json!(d.nsid);
                v["use_probe_resolver"] = json!(false);
                v["udp_payload_size"] = json!(1232);
            }
            v
        })
        .collect();
    let (kind, value) = match &selection.selector {
        Selector::Area(a) => ("area", json!(a)),
        Selector::Country(c) => ("country", json!(c.to_ascii_uppercase())),
        Selector::Asn(a) => ("asn", json!(a)),
        Selector::Prefix(p) => ("prefix", json!(p)),
        Selector::Probes(ids) => (
            "probes",
            json!(ids.iter().map(u32::to_string).collect::<Vec<_>>().join(",")),
        ),
        Selector::Msm(id) => ("msm", json!(id)),
    };
    let mut probes = json!({"type": kind, "value": value, "requested": selection.requested});
    if !selection.include_tags.is_empty() || !selection.exclude_tags.is_empty() {
        probes["tags"] =
            json!({"include": selection.include_tags, "exclude": selection.exclude_tags});
    }
    json!({"definitions": definitions, "probes": [probes], "is_oneoff": one_off})
}

/// Reads an error answer (`{"error":{"status","detail","errors":[{"detail","source"}]}}`).
pub fn refusal(status: u16, body: &str) -> ApiError {
    let detail = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            let e = v.get("error")?;
            let mut s = e
                .get("detail")
                .and_then(Value::as_str)
                .or_else(|| e.get("title").and_then(Value::as_str))
                .unwrap_or("")
                .to_string();
            for sub in e
                .get("errors")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(d) = sub.get("detail").and_then(Value::as_str) {
                    let at = sub
                        .pointer("/source/pointer")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    s.push_str(&format!("; {at} {d}"));
                }
            }
            Some(s)
        })
        .unwrap_or_else(|| body.chars().take(300).collect());
    ApiError::Refused { status, detail }
}

/// The ids from a create answer (`{"measurements":[id,…]}`).
pub fn parse_created(body: &str) -> Result<Vec<u64>, ApiError> {
    #[derive(Deserialize)]
    struct Created {
        measurements: Vec<u64>,
    }
    let c: Created = serde_json::from_str(body).map_err(|e| ApiError::Unexpected {
        what: "create",
        reason: e.to_string(),
    })?;
    if c.measurements.is_empty() {
        return Err(ApiError::Unexpected {
            what: "create",
            reason: "no measurement id".into(),
        });
    }
    Ok(c.measurements)
}

/// A measurement's state.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Status {
    /// Status id (0 specified, 1 scheduled, 2 ongoing, 4 stopped, 5 forced to stop, 6 no
    /// suitable probes, 7 failed, 8 archived).
    pub id: u32,
    /// Status name.
    pub name: String,
    /// Probes that took part so far.
    pub participants: Option<u32>,
    /// Probes requested.
    pub requested: Option<u32>,
}

impl Status {
    /// Whether the measurement will produce no more results.
    pub fn is_final(&self) -> bool {
        self.id >= 4
    }
    /// Whether it ended without results (no suitable probes, failed).
    pub fn is_failure(&self) -> bool {
        matches!(self.id, 6 | 7)
    }
}

/// Reads a measurement status answer.
pub fn parse_status(body: &str) -> Result<Status, ApiError> {
    #[derive(Deserialize)]
    struct RawStatus {
        id: u32,
        name: Option<String>,
    }
    #[derive(Deserialize)]
    struct Raw {
        status: RawStatus,
        participant_count: Option<u32>,
        probes_requested: Option<u32>,
    }
    let r: Raw = serde_json::from_str(body).map_err(|e| ApiError::Unexpected {
        what: "measurement status",
        reason: e.to_string(),
    })?;
    Ok(Status {
        id: r.status.id,
        name: r
            .status
            .name
            .unwrap_or_else(|| format!("status {}", r.status.id)),
        participants: r.participant_count,
        requested: r.probes_requested,
    })
}

/// One page of probe metadata: its entries (raw JSON, kept as the API wrote them) and the URL
/// of the next page.
pub fn parse_probe_page(body: &str) -> Result<(Vec<Value>, Option<String>), ApiError> {
    #[derive(Deserialize)]
    struct Page {
        results: Vec<Value>,
        next: Option<String>,
    }
    let p: Page = serde_json::from_str(body).map_err(|e| ApiError::Unexpected {
        what: "probes",
        reason: e.to_string(),
    })?;
    Ok((p.results, p.next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_body_matches_the_documented_layout() {
        let d = Definition {
            kind: Kind::Dns,
            af: 6,
            target: "2001:db8:100::53".into(),
            description: "catchment chaos".into(),
            protocol: Some("UDP".into()),
            packets: None,
            query: Some(("CHAOS".into(), "TXT".into(), "hostname.bind".into())),
            nsid: true,
        };
        let s = Selection {
            selector: Selector::Msm(1234),
            requested: 1000,
            include_tags: vec!["system-ipv6-works".into()],
            exclude_tags: vec![],
        };
        let b = create_body(&[d], &s, true);
        assert_eq!(b["definitions"][0]["query_class"], "CHAOS");
        assert_eq!(b["definitions"][0]["set_nsid_bit"], true);
        assert_eq!(
            b["probes"][0],
            json!({"type":"msm","value":1234,"requested":1000,
            "tags":{"include":["system-ipv6-works"],"exclude":[]}})
        );
        assert_eq!(b["is_oneoff"], true);
    }

    #[test]
    fn answers() {
        assert_eq!(
            parse_created(r#"{"measurements":[5,6]}"#).unwrap(),
            vec![5, 6]
        );
        assert!(parse_created(r#"{"measurements":[]}"#).is_err());
        let s = parse_status(r#"{"id":5,"status":{"id":2,"name":"Ongoing"},"participant_count":10,"probes_requested":50}"#).unwrap();
        assert!(!s.is_final());
        assert_eq!(s.participants, Some(10));
        let e = refusal(
            400,
            r#"{"error":{"status":400,"code":102,"detail":"Invalid input","title":"Bad Request","errors":[{"source":{"pointer":"/definitions/0/target"},"detail":"not a valid target"}]}}"#,
        );
        assert!(
            e.to_string()
                .contains("/definitions/0/target not a valid target"),
            "{e}"
        );
        let (items, next) = parse_probe_page(r#"{"count":2,"next":"http://x/p?page=2","previous":null,"results":[{"id":1},{"id":2}]}"#).unwrap();
        assert_eq!(
            (items.len(), next.as_deref()),
            (2, Some("http://x/p?page=2"))
        );
        assert_eq!(probes_paths(&(1..=1001).collect::<Vec<_>>()).len(), 3);
    }
}
