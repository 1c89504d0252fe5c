//! Reading result files: API arrays (`[{…},{…}]`), one-object-per-line dumps (JSONL, also
//! concatenated pretty-printed objects), optionally bzip2-compressed, detected from the content.
//!
//! A broken record is reported and skipped ([`Skipped`]), never fatal; only content that is not
//! JSON at all is an [`AtlasError`].

use std::path::Path;

use serde::Serialize;
use serde_json::value::RawValue;

use crate::error::AtlasError;
use crate::raw::{RawRecord, convert, parse_record};
use crate::record::Record;

/// How many skipped records keep their reason (the rest are only counted).
pub const MAX_REASONS: usize = 5;

/// The layout a file was found in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Layout {
    /// A JSON array, as the REST API returns.
    Array,
    /// Objects one after the other (JSONL dumps, daily archives).
    Lines,
}

/// Records that were skipped, with the first few reasons.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Skipped {
    /// How many records were skipped.
    pub count: usize,
    /// The first [`MAX_REASONS`] reasons: (record index, line, reason).
    pub first: Vec<(usize, usize, String)>,
}

impl Skipped {
    fn push(&mut self, index: usize, line: usize, reason: String) {
        self.count += 1;
        if self.first.len() < MAX_REASONS {
            self.first.push((index, line, reason));
        }
    }
}

/// The records of one file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Results {
    /// Where they came from (file name or `<input>`).
    pub origin: String,
    /// The detected layout.
    pub layout: Layout,
    /// Records that parsed.
    pub records: Vec<Record>,
    /// Records that did not.
    pub skipped: Skipped,
}

/// A record converted as soon as serde has read it (keeps the raw forms short-lived);
/// `Err` is why it would be skipped.
struct Converted(Result<Record, String>);

impl<'de> serde::Deserialize<'de> for Converted {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        RawRecord::deserialize(d).map(|raw| Converted(convert(raw, 0)))
    }
}

/// Reads bytes of a file, decompressing bzip2 when the content starts with `BZh`.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, AtlasError> {
    let bytes = std::fs::read(path).map_err(|source| AtlasError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if bytes.starts_with(b"BZh") {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut bzip2::read::MultiBzDecoder::new(&bytes[..]), &mut out)
            .map_err(|source| AtlasError::Bzip2 {
                path: path.to_path_buf(),
                source,
            })?;
        return Ok(out);
    }
    Ok(bytes)
}

/// Bytes as UTF-8 text, or a clear error.
pub(crate) fn as_text<'a>(bytes: &'a [u8], origin: &str) -> Result<&'a str, AtlasError> {
    let s = std::str::from_utf8(bytes).map_err(|e| AtlasError::NotJson {
        origin: origin.to_string(),
        reason: format!("not UTF-8 text ({e})"),
    })?;
    Ok(s.strip_prefix('\u{feff}').unwrap_or(s))
}

/// Reads a result file (array or lines, plain or bzip2).
pub fn read_results(path: &Path) -> Result<Results, AtlasError> {
    let bytes = read_bytes(path)?;
    let origin = path.display().to_string();
    parse_results(as_text(&bytes, &origin)?, &origin)
}

fn line_of(text: &str, offset: usize) -> usize {
    1 + text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// Offset of a borrowed slice inside `text` (both point into the same buffer).
fn offset_in(text: &str, part: &str) -> usize {
    (part.as_ptr() as usize).saturating_sub(text.as_ptr() as usize)
}

/// One top-level JSON value's text, or (byte offset, why it does not parse).
pub(crate) type Value<'a> = Result<&'a str, (usize, String)>;

/// Splits `text` into top-level JSON values: the elements of an array, or the objects of a
/// JSONL / concatenated stream. Values that do not parse are returned as `Err((offset, reason))`.
/// Returns `None` when the text is not JSON at all.
pub(crate) fn split_values(text: &str) -> Option<(Layout, Vec<Value<'_>>)> {
    let trimmed = text.trim_start();
    let start = text.len() - trimmed.len();
    match trimmed.as_bytes().first() {
        Some(b'[') => {
            if let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(text) {
                return Some((
                    Layout::Array,
                    items.into_iter().map(|r| Ok(r.get())).collect(),
                ));
            }
            // A broken array: fall back to reading it line by line (the common one-record-per-
            // line array), dropping the brackets and separating commas.
            let values = stream(text, start + 1, true);
            values
                .iter()
                .any(Result::is_ok)
                .then_some((Layout::Array, values))
        }
        Some(b'{') => Some((Layout::Lines, stream(text, start, false))),
        _ => None,
    }
}

/// Reads values one after the other from `from`, resynchronising at the next line after an error.
fn stream(text: &str, from: usize, in_array: bool) -> Vec<Value<'_>> {
    let mut out = Vec::new();
    let mut pos = from;
    while pos < text.len() {
        // Skip whitespace and, inside a broken array, separators.
        let rest = &text[pos..];
        let skip = rest
            .find(|c: char| !(c.is_whitespace() || (in_array && (c == ',' || c == ']'))))
            .unwrap_or(rest.len());
        pos += skip;
        if pos >= text.len() {
            break;
        }
        let mut de = serde_json::Deserializer::from_str(&text[pos..]).into_iter::<&RawValue>();
        match de.next() {
            Some(Ok(v)) => {
                out.push(Ok(v.get()));
                pos += de.byte_offset();
            }
            Some(Err(e)) => {
                out.push(Err((pos, e.to_string())));
                // Resume at the next line. Search bytes: the error offset may fall inside a
                // multi-byte character (found by fuzzing); the byte after '\n' never does.
                let failed_at = (pos + de.byte_offset().max(1)).min(text.len());
                pos = match text.as_bytes()[failed_at..]
                    .iter()
                    .position(|&b| b == b'\n')
                {
                    Some(nl) => failed_at + nl + 1,
                    None => text.len(),
                };
            }
            None => break,
        }
    }
    out
}

/// Parses result JSON text (array or lines).
pub fn parse_results(text: &str, origin: &str) -> Result<Results, AtlasError> {
    // Fast path: a well-formed array is read in one pass. Any error (one broken record) falls
    // back to splitting the array and reading record by record.
    if text.trim_start().starts_with('[') {
        if let Ok(converted) = serde_json::from_str::<Vec<Converted>>(text) {
            if converted.iter().all(|c| c.0.is_ok()) {
                let records = converted
                    .into_iter()
                    .enumerate()
                    .filter_map(|(index, c)| {
                        c.0.ok().map(|mut r| {
                            r.index = index;
                            r
                        })
                    })
                    .collect();
                return Ok(Results {
                    origin: origin.to_string(),
                    layout: Layout::Array,
                    records,
                    skipped: Skipped::default(),
                });
            }
        }
    }
    let Some((layout, values)) = split_values(text) else {
        return Err(AtlasError::NotJson {
            origin: origin.to_string(),
            reason: "expected a JSON array or JSON objects one per line".into(),
        });
    };
    let mut records = Vec::with_capacity(values.len());
    let mut skipped = Skipped::default();
    for (index, v) in values.into_iter().enumerate() {
        match v {
            Ok(json) => match parse_record(json, index) {
                Ok(r) => records.push(r),
                Err(reason) => skipped.push(index, line_of(text, offset_in(text, json)), reason),
            },
            Err((offset, reason)) => skipped.push(index, line_of(text, offset), reason),
        }
    }
    if records.is_empty() && skipped.count > 0 && skipped.count == skipped.first.len() {
        // Nothing usable and every value broken: probably not Atlas JSON at all.
        if let Some((_, _, r)) = skipped.first.first() {
            if r.contains("expected value") || r.contains("key must be a string") {
                return Err(AtlasError::NotJson {
                    origin: origin.to_string(),
                    reason: r.clone(),
                });
            }
        }
    }
    Ok(Results {
        origin: origin.to_string(),
        layout,
        records,
        skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TR: &str = r#"{"fw":5020,"type":"traceroute","prb_id":7,"msm_id":1,"timestamp":1,"af":4,"dst_addr":"192.0.2.1","proto":"ICMP","result":[{"hop":1,"result":[{"from":"198.51.100.1","rtt":1.5,"size":28,"ttl":255},{"x":"*"}]},{"hop":2,"result":[{"from":"192.0.2.1","rtt":9.25,"ttl":60},{"from":"192.0.2.1","rtt":9.0,"late":1}]}]}"#;

    #[test]
    fn array_and_lines_give_the_same_records() {
        let arr = format!("[{TR},{TR}]");
        let lines = format!("{TR}\n{TR}\n");
        let a = parse_results(&arr, "a").unwrap();
        let l = parse_results(&lines, "l").unwrap();
        assert_eq!(a.layout, Layout::Array);
        assert_eq!(l.layout, Layout::Lines);
        assert_eq!(a.records.len(), 2);
        assert_eq!(a.records, l.records);
    }

    #[test]
    fn broken_records_are_skipped_with_reasons() {
        let text = format!("{TR}\n{{\"type\":\"ping\"}}\n{{not json\n{TR}\n");
        let r = parse_results(&text, "x").unwrap();
        assert_eq!(r.records.len(), 2);
        assert_eq!(r.skipped.count, 2);
        assert_eq!(r.skipped.first[0].0, 1);
        assert_eq!(r.skipped.first[0].1, 2);
        assert!(r.skipped.first[0].2.contains("prb_id"));
        assert_eq!(r.skipped.first[1].1, 3);
        // A broken array element: the array is re-read line by line.
        let arr = format!("[\n{TR},\n{{\"prb_id\": }},\n{TR}\n]\n");
        let r = parse_results(&arr, "x").unwrap();
        assert_eq!(r.records.len(), 2);
        assert_eq!(r.skipped.count, 1);
    }

    /// Regression (fuzzing): a broken array whose error lies inside a multi-byte character.
    #[test]
    fn resync_inside_a_multibyte_character() {
        // Must not panic (it did: slicing at a non-boundary).
        let _ = parse_results("[\u{28c}[,", "x");
        let r = parse_results("[\u{28c}[,\n{\"prb_id\":1,\"type\":\"ping\"}\n]", "x").unwrap();
        assert_eq!(r.records.len(), 1);
    }

    #[test]
    fn not_json_is_an_error() {
        assert!(matches!(
            parse_results("hello world", "x"),
            Err(AtlasError::NotJson { .. })
        ));
        assert!(matches!(
            parse_results("<html></html>", "x"),
            Err(AtlasError::NotJson { .. })
        ));
    }
}
