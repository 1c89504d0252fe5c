//! Diff.
