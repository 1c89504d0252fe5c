//! RPKI-to-Router protocol client (RFC 8210 version 1, falling back to RFC 6810 version 0).
//!
//! Placeholder: filled in by the next commit.
