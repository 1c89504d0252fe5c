//! tern-edge: see ARCHITECTURE.md for its place in the workspace.

pub mod peer;
