//! What the site daemon (`tern run`, crate tern-edge) needs beyond the BGP sessions themselves:
//! `[site.NAME.edge]` (control socket, drain file and what a drain does, the addresses of the
//! "which site" DNS and HTTP responders and of `/metrics`) and two per-session knobs of
//! `[[site.NAME.upstream]]` (`port`, `hold_time`).
//!
//! Raw form and validation live together here so that the rest of the model only carries one
//! field per struct for them. Every value has a named default below (STYLE habit 8).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tern_types::{Community, LargeCommunity, SiteId};
use toml::Spanned;

use crate::diag::Severity;
use crate::raw::RawUpstream;
use crate::validate::Ctx;

/// The BGP port (RFC 4271 §8.2.1).
pub const BGP_PORT: u16 = 179;
/// Directory of the control sockets when `ctl_socket` is not given: `/run/tern/NAME.sock`.
pub const DEFAULT_RUN_DIR: &str = "/run/tern";
/// Prepends of a drain with `drain = "prepend"` when `drain_prepend` is not given.
pub const DEFAULT_DRAIN_PREPEND: u8 = 3;

/// `[site.NAME.edge]`, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEdge {
    /// Unix socket of `tern ctl` (default `/run/tern/NAME.sock`).
    pub ctl_socket: Option<Spanned<String>>,
    /// Drain file (default `/run/tern/NAME.drain`): when it exists the site is drained; lines
    /// naming prefixes drain only those.
    pub drain_file: Option<Spanned<String>>,
    /// What a drain does: `withdraw` (default) or `prepend`.
    pub drain: Option<Spanned<DrainAction>>,
    /// Prepends of `drain = "prepend"`.
    pub drain_prepend: Option<Spanned<u8>>,
    /// Communities added while drained with `drain = "prepend"` (e.g. `65535:0`, RFC 8326).
    #[serde(default)]
    pub drain_communities: Vec<Spanned<String>>,
    /// Large communities added while drained with `drain = "prepend"`.
    #[serde(default)]
    pub drain_large_communities: Vec<Spanned<String>>,
    /// `ADDRESS:PORT`s of the CHAOS/NSID DNS responder (UDP and TCP).
    #[serde(default)]
    pub dns_listen: Vec<Spanned<String>>,
    /// `ADDRESS:PORT`s of the HTTP `/cdn-cgi/trace` responder.
    #[serde(default)]
    pub http_listen: Vec<Spanned<String>>,
    /// `ADDRESS:PORT` of the Prometheus `/metrics` endpoint (off when absent).
    pub metrics_listen: Option<Spanned<String>>,
}

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

/// Validates `[site.NAME.edge]`; relative paths are resolved against `base` (tern.toml's
/// directory).
pub(crate) fn edge(
    cx: &mut Ctx<'_>,
    id: &SiteId,
    raw: Option<&Spanned<RawEdge>>,
    base: &Path,
) -> Edge {
    let mut e = Edge::defaults(id);
    let Some(raw) = raw else { return e };
    let raw = raw.get_ref();
    if let Some(p) = &raw.ctl_socket {
        e.ctl_socket = base.join(p.get_ref());
    }
    if let Some(p) = &raw.drain_file {
        e.drain_file = base.join(p.get_ref());
    }
    if let Some(d) = &raw.drain {
        e.drain = *d.get_ref();
    }
    if let Some(n) = &raw.drain_prepend {
        if *n.get_ref() > crate::MAX_PREPEND {
            cx.error(
                "bad-prepend",
                &n.span(),
                format!(
                    "drain_prepend = {} is above {}",
                    n.get_ref(),
                    crate::MAX_PREPEND
                ),
                "use 1 to 3: more prepends add noise, not effect",
            );
        }
        e.drain_prepend = *n.get_ref();
    }
    let (c, l) = cx.communities(&raw.drain_communities, &raw.drain_large_communities);
    e.drain_communities = c;
    e.drain_large_communities = l;
    let addrs = |cx: &mut Ctx<'_>, v: &[Spanned<String>]| -> Vec<SocketAddr> {
        v.iter()
            .filter_map(|s| cx.parse::<SocketAddr>("bad-listen-address", s))
            .collect()
    };
    e.dns_listen = addrs(cx, &raw.dns_listen);
    e.http_listen = addrs(cx, &raw.http_listen);
    e.metrics_listen = raw
        .metrics_listen
        .as_ref()
        .and_then(|s| cx.parse::<SocketAddr>("bad-listen-address", s));
    e
}

/// `port` and `hold_time` of one upstream: (port, proposed hold time).
pub(crate) fn session_knobs(cx: &mut Ctx<'_>, ru: &RawUpstream) -> (u16, Option<u16>) {
    let port = match &ru.port {
        Some(p) if *p.get_ref() == 0 => {
            cx.error(
                "bad-port",
                &p.span(),
                "port 0 is not a TCP port",
                "remove it (179)",
            );
            BGP_PORT
        }
        Some(p) if *p.get_ref() != BGP_PORT => {
            cx.push(
                Severity::Warning,
                "upstream-port",
                &p.span(),
                format!(
                    "port {} is not the BGP port {BGP_PORT}: only labs run BGP elsewhere",
                    p.get_ref()
                ),
                "remove port outside a lab",
            );
            *p.get_ref()
        }
        Some(p) => *p.get_ref(),
        None => BGP_PORT,
    };
    let hold = ru.hold_time.as_ref().map(|h| {
        let v = *h.get_ref();
        if v != 0 && v < 3 {
            cx.error(
                "bad-hold-time",
                &h.span(),
                format!("hold_time = {v}: RFC 4271 §4.2 allows 0 or at least 3 seconds"),
                "use 0 (no keepalives) or 3 and more, e.g. 30",
            );
        }
        v
    });
    (port, hold)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const BASE: &str = r#"
[network]
asn = 65001
allocations = ["192.0.2.0/24"]
lab = true
[[prefix]]
prefix = "192.0.2.0/24"
role = "anycast"
[site.lab]
lat = 0.0
lon = 0.0
router_id = "192.0.2.1"
"#;

    fn codes(extra: &str) -> (Vec<&'static str>, crate::Model) {
        let m = crate::parse(Path::new("/etc/tern/tern.toml"), &format!("{BASE}{extra}")).unwrap();
        (m.diagnostics.iter().map(|d| d.code).collect(), m)
    }

    #[test]
    fn defaults_and_values() {
        let (_, m) = codes("");
        let e = &m.network.sites[0].edge;
        assert_eq!(e.ctl_socket, Path::new("/run/tern/lab.sock"));
        assert_eq!(e.drain_file, Path::new("/run/tern/lab.drain"));
        assert_eq!(e.drain, DrainAction::Withdraw);
        let (c, m) = codes(
            "[site.lab.edge]\nctl_socket = \"run/ctl.sock\"\ndrain = \"prepend\"\n\
             drain_communities = [\"65535:0\"]\ndns_listen = [\"[::1]:53\"]\n\
             metrics_listen = \"127.0.0.1:9179\"\n\
             [[site.lab.upstream]]\nneighbor = \"127.0.0.1\"\nremote_as = 65002\nport = 1179\nhold_time = 9\n",
        );
        let e = &m.network.sites[0].edge;
        assert_eq!(e.ctl_socket, Path::new("/etc/tern/run/ctl.sock"));
        assert_eq!(e.drain, DrainAction::Prepend);
        assert_eq!(e.drain_prepend, DEFAULT_DRAIN_PREPEND);
        assert_eq!(e.drain_communities, vec![Community::GRACEFUL_SHUTDOWN]);
        assert_eq!(e.dns_listen[0].port(), 53);
        let u = &m.network.sites[0].upstreams[0];
        assert_eq!((u.port, u.hold_time), (1179, Some(9)));
        assert!(c.contains(&"upstream-port"), "{c:?}");
    }

    #[test]
    fn every_problem_is_reported() {
        let (c, _) = codes(
            "[site.lab.edge]\ndrain_prepend = 11\nhttp_listen = [\"nowhere\"]\n\
             [[site.lab.upstream]]\nneighbor = \"127.0.0.1\"\nremote_as = 65002\nport = 0\nhold_time = 2\n",
        );
        for code in [
            "bad-prepend",
            "bad-listen-address",
            "bad-port",
            "bad-hold-time",
        ] {
            assert!(c.contains(&code), "{code} missing from {c:?}");
        }
        let r = crate::parse(
            Path::new("t.toml"),
            &format!("{BASE}[site.lab.edge]\nlisten = 1\n"),
        );
        assert!(
            matches!(r, Err(crate::LoadError::Syntax { .. })),
            "unknown keys are refused"
        );
    }
}
