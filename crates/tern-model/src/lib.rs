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
//! Module layering, bottom to top (each imports only what is below it; no cycles):
//!
//! 1. [`diag`], [`defaults`], [`policy`] (the routing-policy vocabulary), [`edge`] (the daemon's
//!    resolved settings);
//! 2. [`provider`] (dictionaries → policy effects), [`network`] (the resolved network),
//!    [`lab`] (the `[lab]` section, read by tern-lab only);
//! 3. [`raw`] (what is written; it borrows the closed enums of the layers below);
//! 4. [`validate`] (raw → network; its steps share one collector and never import the driver);
//! 5. [`preflight`], [`plan`] (on the resolved network), and [`load`]/[`parse`] here.
//!
//! [`preflight`] adds the checks that need outside data (bogon tables, VRPs, IRR, secrets) and
//! [`plan`] splits and maps address space for `tern plan`.
//!
//! RFCs: 1997 (communities), 8092 (large communities), 6811 and 9319 (through tern-rpki),
//! 2385 (TCP MD5 key limits).

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod defaults;
pub mod diag;
pub mod dns;
pub mod edge;
pub mod lab;
pub mod network;
pub mod plan;
pub mod policy;
pub mod preflight;
pub mod provider;
pub mod raw;
pub mod validate;

use std::path::{Path, PathBuf};

pub use defaults::*;
pub use diag::{Diagnostic, Location, Severity, Source};
pub use network::{
    Check, Export, HostRoute, Located, Network, OnFailure, PlannedPrefix, Probe, Role, Secret,
    SecretError, Service, Site, Upstream,
};
pub use provider::{Origin, Provider, ProviderError, Providers};
pub use validate::parse_duration;

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
        message: diag::with_suggestion(e.message().replace('\n', " ").trim()),
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let dir = raw
        .network
        .get_ref()
        .providers
        .as_ref()
        .map(|p| (base.join(p.get_ref()), source.span(&p.span())));
    let (providers, provider_diags) = Providers::with_dirs(&provider::dirs::search(dir))?;
    let (network, mut diagnostics) = validate::validate(raw, &source, &providers);
    diagnostics.extend(provider_diags);
    diagnostics.sort_by(|a, b| a.location.cmp(&b.location));
    Ok(Model {
        network,
        diagnostics,
        source,
        providers,
    })
}
