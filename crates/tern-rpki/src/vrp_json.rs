//! Loading a [`VrpSet`] from the JSON that RPKI validators export (reference: shared
//! config-and-security.md §2.2):
//!
//! - rpki-client `-j`: `{"metadata": {"buildtime": "…Z", …}, "roas": [{"asn": 64512, "prefix":
//!   "…", "maxLength": 48, "ta": "ripe", "expires": 1700000000}], …}`;
//! - Routinator `json`: `{"metadata": {"generated": 1700000000, …}, "roas": [{"asn": "AS64512",
//!   "prefix": "…", "maxLength": 48, "ta": "ripe"}]}`, and `jsonext`, where `ta` gives way to a
//!   `source` array; OctoRPKI's output has the same shape.
//!
//! `asn` may be a number, `"AS64512"` or `"64512"`. This is data produced by other programs, not
//! configuration, so unlike tern.toml the raw structs tolerate unknown fields (as StayRTR and
//! arouteserver do): validators add metadata and keys (`bgpsec_keys`, `aspas`, …) over time.
//! Everything we do read is checked, and a bad entry makes the whole file an error whose line and
//! column point at it.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::value::RawValue;
use tern_types::{Asn, Prefix};

use crate::error::LoadError;
use crate::vrp::{Vrp, VrpSet};

/// The parts of a VRP file we read. Entries stay raw so that each one's position is known when
/// it turns out to be bad.
#[derive(Deserialize)]
#[serde(expecting = "a VRP JSON object with a \"roas\" array (rpki-client or Routinator json)")]
struct RawFile<'a> {
    #[serde(default)]
    metadata: Option<serde_json::Value>,
    #[serde(borrow)]
    roas: Vec<&'a RawValue>,
}

/// One `roas` entry.
#[derive(Deserialize)]
struct RawRoa {
    asn: Asn,
    prefix: Prefix,
    /// RFC 6482: absent means "the prefix length".
    #[serde(rename = "maxLength", default)]
    max_length: Option<u16>,
}

impl VrpSet {
    /// Loads a validator's JSON export (see the module documentation for the formats).
    pub fn from_json_file(path: &Path) -> Result<VrpSet, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::parse_json(&text, path)
    }

    /// Parses a validator's JSON export; `source_name` names it in errors.
    pub fn from_json_str(text: &str, source_name: &str) -> Result<VrpSet, LoadError> {
        Self::parse_json(text, Path::new(source_name))
    }

    fn parse_json(text: &str, path: &Path) -> Result<VrpSet, LoadError> {
        if text.trim().is_empty() {
            return Err(LoadError::Json {
                path: path.to_owned(),
                line: 1,
                column: 1,
                message: "empty file: expected a VRP JSON object with a \"roas\" array".into(),
            });
        }
        // serde would accept a struct written as an array; a VRP file is always an object.
        let start = text.len() - text.trim_start().len();
        if let Some(c) = text[start..].chars().next().filter(|&c| c != '{') {
            let (line, column) = line_column(text, start);
            return Err(LoadError::Json {
                path: path.to_owned(),
                line,
                column,
                message: format!(
                    "found {c:?}: expected a VRP JSON object with a \"roas\" array \
                     (rpki-client or Routinator json)"
                ),
            });
        }
        let raw: RawFile = serde_json::from_str(text).map_err(|e| {
            let mut err = LoadError::from_json(path, &e);
            if let LoadError::Json { message, .. } = &mut err {
                if message.starts_with("missing field `roas`") {
                    *message = "not a VRP file: missing field `roas` (expected rpki-client or \
                                Routinator JSON output)"
                        .to_owned();
                }
            }
            err
        })?;
        let generated = raw.metadata.as_ref().and_then(generated_time);
        let mut vrps = Vec::with_capacity(raw.roas.len());
        for entry in raw.roas {
            let entry = entry.get();
            // `entry` borrows from `text`: its offset locates it in the file.
            // Computed only for an error: scanning from the start for every entry would be
            // quadratic in the file size.
            let offset = (entry.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
            let roa: RawRoa = serde_json::from_str(entry).map_err(|e| {
                let (line, column) = line_column(text, offset);
                match LoadError::from_json(path, &e) {
                    LoadError::Json {
                        path,
                        line: l,
                        column: c,
                        message,
                    } => LoadError::Json {
                        path,
                        line: line + l.saturating_sub(1),
                        column: if l <= 1 {
                            column + c.saturating_sub(1)
                        } else {
                            c
                        },
                        message,
                    },
                    other => other,
                }
            })?;
            let max = roa.max_length.unwrap_or(u16::from(roa.prefix.len()));
            let vrp = Vrp::new(roa.prefix, max, roa.asn).map_err(|e| {
                let (line, column) = line_column(text, offset);
                LoadError::Json {
                    path: path.to_owned(),
                    line,
                    column,
                    message: format!("VRP {} {}: {e}", roa.prefix, roa.asn),
                }
            })?;
            vrps.push(vrp);
        }
        Ok(VrpSet::from_vrps(vrps).with_generated(generated))
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// `metadata.generated` (unix seconds; Routinator, OctoRPKI) or `metadata.buildtime`
/// (RFC 3339 UTC; rpki-client).
fn generated_time(meta: &serde_json::Value) -> Option<SystemTime> {
    let secs = match (meta.get("generated"), meta.get("buildtime")) {
        (Some(g), _) if g.as_u64().is_some() => g.as_u64(),
        (_, Some(b)) => b.as_str().and_then(rfc3339_utc_secs),
        _ => None,
    }?;
    UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

/// Seconds since the epoch of `YYYY-MM-DDTHH:MM:SS[.frac](Z|+00:00)`; `None` for anything else.
fn rfc3339_utc_secs(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u64> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = s.get(19..)?;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        rest = &frac[digits..];
    }
    if !matches!(rest, "Z" | "z" | "+00:00" | "-00:00") {
        return None;
    }
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    // Days from civil (proleptic Gregorian), H. Hinnant's algorithm.
    let (y, mo) = (y as i64, mo as i64);
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + (h * 3600 + mi * 60 + se) as i64;
    u64::try_from(secs).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vrp::Validity;

    fn p(s: &str) -> Prefix {
        s.parse().unwrap()
    }

    /// rpki-client `-j` output: integer asn, `expires`, rich metadata, other top-level keys.
    const RPKI_CLIENT: &str = r#"{
  "metadata": {
    "buildmachine": "lab.example",
    "buildtime": "2024-01-01T00:00:00Z",
    "roas": 3, "vrps": 3, "uniquevrps": 3
  },
  "roas": [
    { "asn": 64512, "prefix": "2001:db8::/32", "maxLength": 48, "ta": "ripe", "expires": 1700000000 },
    { "asn": 64513, "prefix": "192.0.2.0/24", "maxLength": 24, "ta": "arin", "expires": 1700000000 },
    { "asn": 4200000001, "prefix": "3fff::/20", "maxLength": 20, "ta": "apnic", "expires": 1700000000 }
  ],
  "bgpsec_keys": [],
  "provider_authorizations": { "ipv4": [], "ipv6": [] }
}"#;

    #[test]
    fn rpki_client_format() {
        let s = VrpSet::from_json_str(RPKI_CLIENT, "rpki-client.json").unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(
            s.validate(&p("2001:db8:1::/48"), Asn(64512)),
            Validity::Valid
        );
        assert_eq!(
            s.validate(&p("3fff::/20"), Asn(4_200_000_001)),
            Validity::Valid
        );
        // 2024-01-01T00:00:00Z = 1704067200.
        assert_eq!(
            s.generated(),
            Some(UNIX_EPOCH + Duration::from_secs(1_704_067_200))
        );
    }

    /// Routinator `json`: asn as "AS…" string, `generated` unix metadata.
    #[test]
    fn routinator_json_format() {
        let text = r#"{"metadata": {"generated": 1700000000, "generatedTime": "2023-11-14T22:13:20Z"},
            "roas": [
              {"asn": "AS64512", "prefix": "2001:db8:100::/40", "maxLength": 48, "ta": "ripe"},
              {"asn": "AS64513", "prefix": "198.51.100.0/24", "maxLength": 24, "ta": "arin"}
            ]}"#;
        let s = VrpSet::from_json_str(text, "routinator.json").unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(
            s.validate(&p("2001:db8:1ff::/48"), Asn(64512)),
            Validity::Valid
        );
        assert_eq!(
            s.validate(&p("198.51.100.0/24"), Asn(64513)),
            Validity::Valid
        );
        assert_eq!(
            s.generated(),
            Some(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        );
    }

    /// Routinator `jsonext`: `source` arrays instead of `ta`, exception entries from SLURM.
    #[test]
    fn routinator_jsonext_format() {
        let text = r#"{"metadata": {"generated": 1700000000},
            "roas": [
              {"asn": "AS64512", "prefix": "2001:db8::/32", "maxLength": 32,
               "source": [{"type": "roa", "uri": "rsync://rpki.example/repo/a.roa", "tal": "ripe",
                           "validity": {"notBefore": "2023-01-01T00:00:00Z", "notAfter": "2024-01-01T00:00:00Z"},
                           "chainValidity": {"notBefore": "2023-01-01T00:00:00Z", "notAfter": "2024-01-01T00:00:00Z"},
                           "stale": "2023-12-01T00:00:00Z"}]},
              {"asn": "64514", "prefix": "203.0.113.0/24", "maxLength": 24,
               "source": [{"type": "exception", "path": "/etc/slurm.json", "comment": "lab"}]}
            ],
            "routerKeys": [], "aspas": []}"#;
        let s = VrpSet::from_json_str(text, "jsonext.json").unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(
            s.validate(&p("203.0.113.0/24"), Asn(64514)),
            Validity::Valid
        );
    }

    #[test]
    fn missing_max_length_means_prefix_length() {
        let s = VrpSet::from_json_str(
            r#"{"roas": [{"asn": 64512, "prefix": "2001:db8::/32"}]}"#,
            "x.json",
        )
        .unwrap();
        assert_eq!(s.iter().next().map(|v| v.max_len), Some(32));
    }

    #[test]
    fn malformed_json_has_line_and_column() {
        // Missing comma after the first object, on line 3.
        let text = "{\"roas\": [\n {\"asn\": 64512, \"prefix\": \"2001:db8::/32\", \"maxLength\": 48}\n {\"asn\": 1}\n]}";
        let e = VrpSet::from_json_str(text, "broken.json").unwrap_err();
        assert_eq!(e.line(), Some(3), "{e}");
        assert!(e.column().is_some());
        let msg = e.to_string();
        assert!(msg.starts_with("broken.json:3:"), "{msg}");
        // The position is not repeated inside the message.
        assert!(!msg.contains(" at line "), "{msg}");
    }

    #[test]
    fn bad_entries_are_errors_with_position() {
        let bad_prefix =
            "{\"roas\": [\n{\"asn\": 64512, \"prefix\": \"2001:db8::1/32\", \"maxLength\": 48}\n]}";
        let e = VrpSet::from_json_str(bad_prefix, "f.json").unwrap_err();
        assert_eq!(e.line(), Some(2));
        assert!(e.to_string().contains("host bits"), "{e}");

        let bad_max = "{\"roas\": [\n\n{\"asn\": 64512, \"prefix\": \"2001:db8::/32\", \"maxLength\": 24}\n]}";
        let e = VrpSet::from_json_str(bad_max, "f.json").unwrap_err();
        assert_eq!((e.line(), e.column()), (Some(3), Some(1)));
        assert!(e.to_string().contains("maxLength 24 is shorter"), "{e}");

        // Errors inside an entry point into it: column of the bad value on its line.
        let bad_type = "{\"roas\": [\n  {\"asn\": 64512, \"prefix\": \"2001:db8::/32\"},\n  {\"asn\": 64512, \"prefix\": 7}\n]}";
        let e = VrpSet::from_json_str(bad_type, "f.json").unwrap_err();
        assert_eq!(e.line(), Some(3), "{e}");
        assert!(e.column().unwrap() > 25, "{e}");

        let bad_asn = r#"{"roas": [{"asn": "ASX", "prefix": "2001:db8::/32", "maxLength": 32}]}"#;
        let e = VrpSet::from_json_str(bad_asn, "f.json").unwrap_err();
        assert!(e.to_string().contains("invalid AS number"), "{e}");

        let no_roas = r#"{"metadata": {}, "vrps": []}"#;
        let e = VrpSet::from_json_str(no_roas, "f.json").unwrap_err();
        assert!(e.to_string().contains("not a VRP file"), "{e}");

        let e = VrpSet::from_json_str(" \n", "f.json").unwrap_err();
        assert!(e.to_string().starts_with("f.json:1:1: empty file"), "{e}");

        let array = "[1, 2]";
        let e = VrpSet::from_json_str(array, "f.json").unwrap_err();
        assert!(e.to_string().contains("\"roas\" array"), "{e}");
    }

    #[test]
    fn missing_file_is_io_error_with_path() {
        let e = VrpSet::from_json_file(Path::new("/nonexistent/tern/vrps.json")).unwrap_err();
        assert!(matches!(e, LoadError::Io { .. }));
        assert!(
            e.to_string()
                .starts_with("/nonexistent/tern/vrps.json: cannot read"),
            "{e}"
        );
    }

    #[test]
    fn rfc3339() {
        assert_eq!(rfc3339_utc_secs("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339_utc_secs("2000-03-01T00:00:00Z"), Some(951_868_800));
        assert_eq!(
            rfc3339_utc_secs("2024-01-01T00:00:00.123Z"),
            Some(1_704_067_200)
        );
        assert_eq!(rfc3339_utc_secs("2024-01-01T00:00:00+02:00"), None);
        assert_eq!(rfc3339_utc_secs("2024-13-01T00:00:00Z"), None);
        assert_eq!(rfc3339_utc_secs("garbage"), None);
        assert_eq!(rfc3339_utc_secs("２０２４-01-01T00:00:00Z"), None);
    }
}
