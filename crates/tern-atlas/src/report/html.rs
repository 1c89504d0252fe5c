//! HTML (next step).
use crate::analysis::Analysis;
use crate::diff::Diff;
/// HTML of one run.
pub fn analysis(_a: &Analysis) -> String {
    String::new()
}
/// HTML of a diff.
pub fn diff(_b: &Analysis, _a: &Analysis, _d: &Diff) -> String {
    String::new()
}
