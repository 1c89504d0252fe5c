//! A tern.toml loaded for the lab: the validated network, its `[lab]` section and the
//! provider dictionaries (errors in the file make it unusable for a lab).

use std::path::Path;

use tern_model::lab::RawLab;
use tern_model::{Network, Providers, Severity};

use crate::error::LabError;

/// A tern.toml ready for the lab.
#[derive(Debug)]
pub struct Loaded {
    /// The network.
    pub net: Network,
    /// Its `[lab]` section (default when absent).
    pub lab: RawLab,
    /// Provider dictionaries.
    pub providers: Providers,
    /// The file's text (the per-site configs of `tern run` are written from it).
    pub text: String,
}

/// Loads and validates tern.toml; errors in it make it unusable for a lab.
pub fn load(path: &Path) -> Result<Loaded, LabError> {
    let text = std::fs::read_to_string(path).map_err(|e| LabError::io(path, e))?;
    load_text(path, &text)
}

/// [`load`] from text (`path` is used in messages).
pub fn load_text(path: &Path, text: &str) -> Result<Loaded, LabError> {
    let model = tern_model::parse(path, text)?;
    let errors: Vec<String> = model
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.to_string())
        .collect();
    if !errors.is_empty() {
        return Err(LabError::Design(format!(
            "{} has errors (run tern check):\n{}",
            path.display(),
            errors.join("\n")
        )));
    }
    let lab = tern_model::lab::section(text)
        .map_err(|e| LabError::LabSection {
            path: path.to_path_buf(),
            message: e.message().to_owned(),
        })?
        .unwrap_or_default();
    Ok(Loaded {
        net: model.network,
        lab,
        providers: model.providers,
        text: text.to_owned(),
    })
}
