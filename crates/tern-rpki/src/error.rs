//! [`LoadError`]: why a VRP JSON or RPSL file could not be used. One error makes the whole file
//! unusable (the `tern` binary exits 2); the error names the file, the line (and column where the
//! JSON parser knows it) and what is wrong.

use std::fmt;
use std::path::{Path, PathBuf};

/// A VRP or RPSL file that cannot be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// Not valid JSON, or JSON that is not a VRP file (wrong type, missing field, bad prefix).
    #[error("{}:{line}:{column}: {message}", path.display())]
    Json {
        /// The file (or the name given to `from_json_str`).
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// An RPSL object that cannot be understood.
    #[error("{}:{line}: {message}", path.display())]
    Rpsl {
        /// The file (or the name given to `from_rpsl_str`).
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

impl LoadError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            LoadError::Io { path, .. }
            | LoadError::Json { path, .. }
            | LoadError::Rpsl { path, .. } => path,
        }
    }

    /// The 1-based line, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            LoadError::Io { .. } => None,
            LoadError::Json { line, .. } | LoadError::Rpsl { line, .. } => Some(*line),
        }
    }

    /// The 1-based column, when known.
    pub fn column(&self) -> Option<usize> {
        match self {
            LoadError::Json { column, .. } => Some(*column),
            _ => None,
        }
    }

    /// What is wrong, without the location prefix.
    pub fn message(&self) -> String {
        match self {
            LoadError::Io { source, .. } => format!("cannot read: {source}"),
            LoadError::Json { message, .. } | LoadError::Rpsl { message, .. } => message.clone(),
        }
    }

    /// Maps a serde_json error to its line and column.
    pub(crate) fn from_json(path: &Path, e: &serde_json::Error) -> Self {
        // serde_json's Display appends " at line L column C"; keep only the message part.
        let full = e.to_string();
        let message = match full.rfind(" at line ") {
            Some(i) if e.line() > 0 => full[..i].to_owned(),
            _ => full,
        };
        LoadError::Json {
            path: path.to_owned(),
            line: e.line(),
            column: e.column(),
            message,
        }
    }

    pub(crate) fn rpsl(path: &Path, line: usize, message: impl fmt::Display) -> Self {
        LoadError::Rpsl {
            path: path.to_owned(),
            line,
            message: message.to_string(),
        }
    }
}
