//! Errors of tern-lab: every variant says what failed and on which lab object.

use std::path::PathBuf;

/// Why a lab operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LabError {
    /// The host lacks something the lab needs (root, a program).
    #[error("missing prerequisites: {}", .0.join("; "))]
    Prerequisites(Vec<String>),
    /// tern.toml cannot be used for a lab.
    #[error("{0}")]
    Design(String),
    /// tern.toml did not load.
    #[error(transparent)]
    Model(#[from] tern_model::LoadError),
    /// The `[lab]` section is malformed.
    #[error("{path}: [lab]: {message}")]
    LabSection {
        /// tern.toml.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// A site's BIRD configuration could not be rendered.
    #[error("site {site}: {source}")]
    Render {
        /// The site.
        site: tern_types::SiteId,
        /// Why.
        source: tern_bird::RenderError,
    },
    /// A command failed.
    #[error("`{command}` failed: {detail}")]
    Command {
        /// The command line.
        command: String,
        /// Exit status and stderr.
        detail: String,
    },
    /// A file or directory operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The state of a lab is missing or unreadable.
    #[error("lab state {path}: {message}")]
    State {
        /// The state file or directory.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The lab did not reach the expected state in time.
    #[error("timed out after {seconds} s waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        seconds: u64,
    },
    /// A signal (SIGINT, SIGTERM) stopped the operation; what it had made is removed.
    #[error("interrupted by {}: removed {namespaces} namespaces and stopped {processes} processes", signal_name(*.signal))]
    Interrupted {
        /// The signal number.
        signal: i32,
        /// Namespaces removed.
        namespaces: usize,
        /// Processes stopped.
        processes: usize,
    },
    /// No such site, probe or lab.
    #[error("{0}")]
    NotFound(String),
}

impl LabError {
    /// An I/O error on a path.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> LabError {
        LabError::Io {
            path: path.into(),
            source,
        }
    }
}

/// `SIGINT`, `SIGTERM` or `signal N`.
pub(crate) fn signal_name(signal: i32) -> String {
    match signal {
        2 => "SIGINT".into(),
        15 => "SIGTERM".into(),
        n => format!("signal {n}"),
    }
}
