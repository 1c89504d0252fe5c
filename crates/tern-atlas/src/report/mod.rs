//! Reports of analyses and diffs: terminal tables ([`text`]) and one self-contained HTML page
//! ([`html`]). JSON output is the serde form of [`crate::Analysis`] / [`crate::diff::Diff`].

pub mod html;
pub mod text;

/// A number of ms with one decimal, or "-".
pub fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.1}"))
}

/// A signed number of ms with one decimal, or "-".
pub fn signed_ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:+.1}"))
}
