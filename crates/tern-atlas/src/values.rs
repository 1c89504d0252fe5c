//! Whole-text splitting of small JSON files into top-level values (probe metadata: API pages,
//! lists, daily archives), with resynchronisation at the next line after a value that does
//! not parse. Result files use the streaming [`crate::read::RecordReader`] instead.

use serde_json::value::RawValue;

use crate::error::AtlasError;
use crate::read::Layout;

/// Bytes as UTF-8 text, or a clear error.
pub(crate) fn as_text<'a>(bytes: &'a [u8], origin: &str) -> Result<&'a str, AtlasError> {
    let s = std::str::from_utf8(bytes).map_err(|e| AtlasError::NotJson {
        origin: origin.to_string(),
        reason: format!("not UTF-8 text ({e})"),
    })?;
    Ok(s.strip_prefix('\u{feff}').unwrap_or(s))
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
