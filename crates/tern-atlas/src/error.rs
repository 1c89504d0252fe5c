//! Errors of tern-atlas: whole-file failures only. A single broken record is never an error; it is
//! counted in [`crate::read::Skipped`] and the rest of the file is read.

use std::path::PathBuf;

/// A file could not be used at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AtlasError {
    /// The file could not be opened or read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The file is bzip2-compressed but does not decompress.
    #[error("{path}: bad bzip2 data: {source}")]
    Bzip2 {
        /// The file.
        path: PathBuf,
        /// What the decompressor said.
        source: std::io::Error,
    },
    /// The content is not JSON (neither an array, nor objects one per line).
    #[error("{origin}: not RIPE Atlas JSON: {reason}")]
    NotJson {
        /// File name or `<input>`.
        origin: String,
        /// Why, with line and column where known.
        reason: String,
    },
    /// JSON, but not the expected shape (e.g. probe metadata without an `id`).
    #[error("{origin}: {reason}")]
    Shape {
        /// File name or `<input>`.
        origin: String,
        /// What was expected.
        reason: String,
    },
    /// A site hints file is invalid.
    #[error("{origin}: invalid site hints: {reason}")]
    Hints {
        /// File name.
        origin: String,
        /// What is wrong, with line and column where known.
        reason: String,
    },
}

/// Why one result record was skipped. The reader counts these in [`crate::read::Skipped`] and
/// goes on with the next record; [`crate::parse_record`] returns them.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// Not valid JSON, or a value of the wrong type (what serde_json said, without position).
    #[error("{message}")]
    Json {
        /// The parser's message.
        message: String,
        /// Byte offset inside the record where the parser stopped.
        offset: usize,
    },
    /// A field every record needs is absent (`prb_id`; `type` or `msm_name`).
    #[error("no {0}")]
    Missing(&'static str),
    /// `result` has the wrong shape for the record's type.
    #[error("{kind}: `result` is {found}, expected {expected}")]
    ResultShape {
        /// The record type.
        kind: &'static str,
        /// What it is.
        found: &'static str,
        /// What it should be.
        expected: &'static str,
    },
    /// A firmware 1 text traceroute (`result` is a string), which tern does not read.
    #[error("{0}: legacy text result (fw 1) not supported")]
    LegacyText(&'static str),
    /// The input ends inside this record.
    #[error("cut off: the input ends inside this record")]
    CutOff,
    /// The record is larger than [`crate::read::MAX_RECORD_BYTES`] (or its braces never close).
    #[error("record larger than {limit} bytes (or its braces never close)")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// A byte where a record must start.
    #[error("expected a record (`{{`), found {found:?}")]
    Unexpected {
        /// The byte found, as a character.
        found: char,
    },
}

impl RecordError {
    /// From a serde_json error on the record's own bytes: the message without serde's
    /// "at line L column C" suffix, and the byte offset inside `bytes`.
    pub(crate) fn json(e: &serde_json::Error, bytes: &[u8]) -> RecordError {
        let text = e.to_string();
        let message = match text.rsplit_once(" at line ") {
            Some((m, _)) => m.to_string(),
            None => text,
        };
        // serde counts lines from 1 and columns from 1 inside the slice it parsed.
        let mut line_start = 0;
        if e.line() > 1 {
            line_start = memchr::memchr_iter(b'\n', bytes)
                .nth(e.line() - 2)
                .map_or(bytes.len(), |p| p + 1);
        }
        let offset = (line_start + e.column().saturating_sub(1)).min(bytes.len());
        RecordError::Json { message, offset }
    }
}
