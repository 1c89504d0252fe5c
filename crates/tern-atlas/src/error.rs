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
