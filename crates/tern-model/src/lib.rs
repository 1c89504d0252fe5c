//! tern-model: the network described once in `tern.toml`, checked and resolved.
//!
//! Place in the architecture (see ARCHITECTURE.md): below the `tern` binary, the BIRD renderer
//! and the site daemon, above tern-types. It reads files but does no network I/O.
//!
//! The config is read in two stages (STYLE habit 8):
//! 1. [`raw`]: serde structs with `deny_unknown_fields` and spans. A file that does not parse
//!    (bad TOML, unknown key, wrong type) is a [`LoadError`] with file:line:col: unusable input.
//! 2. [`validate`]: raw → [`Network`], collecting every problem as a [`Diagnostic`]
//!    (severity, code, file:line:col, message, fix). Intents are compiled to communities with
//!    the provider dictionaries of [`provider`].
//!
//! [`preflight`] adds the checks that need outside data (bogon tables, VRPs, IRR, secrets) and
//! [`plan`] splits and maps address space for `tern plan`.
//!
//! RFCs: 1997 (communities), 8092 (large communities), 6811 and 9319 (through tern-rpki),
//! 2385 (TCP MD5 key limits).

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod diag;
pub mod dns;
pub mod edge;
mod intent;
pub mod lab;
pub mod network;
pub mod plan;
pub mod preflight;
pub mod provider;
pub mod raw;
mod service;
mod session;
pub mod validate;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use diag::{Diagnostic, Location, Severity, Source};
pub use network::{
    Check, Export, HostRoute, Located, Network, OnFailure, PlannedPrefix, Probe, Role, Secret,
    SecretError, Service, Site, Upstream,
};
pub use provider::{Provider, ProviderError, Providers};
pub use service::parse_duration;

/// Time between two health checks when `interval` is not given.
pub const DEFAULT_CHECK_INTERVAL: Duration = Duration::from_secs(5);
/// Time one health check may take when `timeout` is not given.
pub const DEFAULT_CHECK_TIMEOUT: Duration = Duration::from_secs(2);
/// Consecutive successes before a service counts as healthy.
pub const DEFAULT_RISE: u32 = 3;
/// Consecutive failures before a service counts as unhealthy.
pub const DEFAULT_FALL: u32 = 3;
/// HTTP status an http check expects when `expect_status` is not given.
pub const DEFAULT_HTTP_STATUS: u16 = 200;
/// Prepends of a `degrade` that names neither prepend nor communities.
pub const DEFAULT_DEGRADE_PREPEND: u8 = 3;
/// Most prepends of our own AS we accept: longer paths only add noise.
pub const MAX_PREPEND: u8 = 10;
/// Oldest VRP file `tern check` uses without a warning (validators refresh hourly).
pub const MAX_VRP_AGE: Duration = Duration::from_secs(24 * 3600);
/// Longest TCP-MD5 key (Linux `TCP_MD5SIG_MAXKEYLEN`, RFC 2385 sets no limit).
pub const MAX_MD5_KEY_LEN: usize = 80;

/// A tern.toml that cannot be used at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// Cannot read the file.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Malformed TOML, an unknown key or a value of the wrong type.
    #[error("{location}: {message}")]
    Syntax {
        /// Where.
        location: Location,
        /// What the parser said, on one line.
        message: String,
    },
    /// A shipped provider dictionary is broken (a bug in tern).
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

/// A loaded tern.toml: the network, every finding, and the text it came from.
#[derive(Debug)]
pub struct Model {
    /// The resolved network (complete only when `diagnostics` has no error).
    pub network: Network,
    /// Findings of validation, in file order.
    pub diagnostics: Vec<Diagnostic>,
    /// The source text.
    pub source: Source,
    /// The provider dictionaries used.
    pub providers: Providers,
}

impl Model {
    /// Any diagnostic of severity error?
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

/// Reads and validates a tern.toml.
pub fn load(path: &Path) -> Result<Model, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &text)
}

/// Validates tern.toml text; `path` is used in messages and to resolve `password_file`.
pub fn parse(path: &Path, text: &str) -> Result<Model, LoadError> {
    let source = Source::new(path, text);
    let raw: raw::RawFile = toml::from_str(text).map_err(|e| LoadError::Syntax {
        location: source.location(e.span().map(|s| s.start).unwrap_or(0)),
        message: e.message().replace('\n', " ").trim().to_owned(),
    })?;
    let providers = Providers::builtin()?;
    let (network, mut diagnostics) = validate::validate(raw, &source, &providers);
    diagnostics.sort_by(|a, b| a.location.cmp(&b.location));
    Ok(Model {
        network,
        diagnostics,
        source,
        providers,
    })
}
