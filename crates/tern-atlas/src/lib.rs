//! tern-atlas: see ARCHITECTURE.md for its place in the workspace.
