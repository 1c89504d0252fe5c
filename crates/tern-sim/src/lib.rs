//! tern-sim: see ARCHITECTURE.md for its place in the workspace.
