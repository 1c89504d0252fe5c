//! What the site daemon (`tern run`, crate tern-edge) needs beyond the BGP sessions themselves:
//! `[site.NAME.edge]` (control socket, drain file and what a drain does, the addresses of the
//! "which site" DNS and HTTP responders and of `/metrics`) and two per-session knobs of
//! `[[site.NAME.upstream]]` (`port`, `hold_time`).
//!
//! This module holds the resolved types and their named defaults (STYLE habit 8); the raw form
//! is [`crate::raw::RawEdge`] and its validation is in the private `validate::edge`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tern_types::{Community, LargeCommunity, SiteId};

/// The BGP port (RFC 4271 §8.2.1).
pub const BGP_PORT: u16 = 179;
/// Directory of the control sockets when `ctl_socket` is not given: `/run/tern/NAME.sock`.
pub const DEFAULT_RUN_DIR: &str = "/run/tern";
/// Prepends of a drain with `drain = "prepend"` when `drain_prepend` is not given.
pub const DEFAULT_DRAIN_PREPEND: u8 = 3;

/// What a drain does to the site's prefixes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DrainAction {
    /// Withdraw them.
    #[default]
    Withdraw,
    /// Keep announcing them with extra prepends (and communities): traffic moves away gently.
    Prepend,
}

/// The resolved `[site.NAME.edge]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Edge {
    /// Control socket.
    pub ctl_socket: PathBuf,
    /// Drain file.
    pub drain_file: PathBuf,
    /// What a drain does.
    pub drain: DrainAction,
    /// Prepends while drained (with [`DrainAction::Prepend`]).
    pub drain_prepend: u8,
    /// Communities while drained (with [`DrainAction::Prepend`]).
    pub drain_communities: Vec<Community>,
    /// Large communities while drained (with [`DrainAction::Prepend`]).
    pub drain_large_communities: Vec<LargeCommunity>,
    /// DNS responder addresses.
    pub dns_listen: Vec<SocketAddr>,
    /// HTTP responder addresses.
    pub http_listen: Vec<SocketAddr>,
    /// Metrics address.
    pub metrics_listen: Option<SocketAddr>,
}

impl Edge {
    /// The defaults for site `id`.
    pub fn defaults(id: &SiteId) -> Self {
        Edge {
            ctl_socket: Path::new(DEFAULT_RUN_DIR).join(format!("{id}.sock")),
            drain_file: Path::new(DEFAULT_RUN_DIR).join(format!("{id}.drain")),
            drain: DrainAction::Withdraw,
            drain_prepend: DEFAULT_DRAIN_PREPEND,
            drain_communities: Vec::new(),
            drain_large_communities: Vec::new(),
            dns_listen: Vec::new(),
            http_listen: Vec::new(),
            metrics_listen: None,
        }
    }
}
