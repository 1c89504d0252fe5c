//! Validation of `[site.NAME.edge]` and of the daemon's per-session knobs (`port`,
//! `hold_time`, `connect_retry`, `error_wait`): raw ([`crate::raw::RawEdge`]) →
//! [`crate::edge::Edge`].

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use tern_types::SiteId;
use toml::Spanned;

use super::ctx::Ctx;
use crate::diag::Severity;
use crate::edge::{BGP_PORT, Edge};
use crate::raw::{RawEdge, RawUpstream};

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
        if *n.get_ref() > crate::defaults::MAX_PREPEND {
            cx.error(
                "bad-prepend",
                &n.span(),
                format!(
                    "drain_prepend = {} is above {}",
                    n.get_ref(),
                    crate::defaults::MAX_PREPEND
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

/// `connect_retry` and `error_wait` of an upstream (BIRD's `connect retry time` and `error wait
/// time`): whole seconds (BIRD counts seconds), at least 1 s, the error wait's first value not
/// above its second.
pub(crate) fn retry_knobs(
    cx: &mut Ctx<'_>,
    ru: &RawUpstream,
) -> (Option<Duration>, Option<(Duration, Duration)>) {
    let secs = |cx: &mut Ctx<'_>, text: &str, span: &std::ops::Range<usize>, key: &str| {
        match super::service::parse_duration(text) {
            Some(d) if d >= Duration::from_secs(1) && d.subsec_nanos() == 0 => Some(d),
            _ => {
                cx.error(
                    "bad-duration",
                    span,
                    format!("{key} = {text:?} is not a whole number of seconds, at least 1"),
                    "write e.g. \"5s\" or \"2m\" (BIRD counts whole seconds)",
                );
                None
            }
        }
    };
    let retry = ru
        .connect_retry
        .as_ref()
        .and_then(|r| secs(cx, r.get_ref(), &r.span(), "connect_retry"));
    let wait = ru.error_wait.as_ref().and_then(|w| {
        let span = w.span();
        let [a, b] = w.get_ref().as_slice() else {
            cx.error(
                "bad-error-wait",
                &span,
                "error_wait needs two durations: the first wait and the largest",
                "write e.g. error_wait = [\"5s\", \"120s\"]",
            );
            return None;
        };
        let (a, b) = (
            secs(cx, a, &span, "error_wait")?,
            secs(cx, b, &span, "error_wait")?,
        );
        if a > b {
            cx.error(
                "bad-error-wait",
                &span,
                format!("error_wait starts at {a:?}, above its largest {b:?}"),
                "put the smaller value first",
            );
            return None;
        }
        Some((a, b))
    });
    (retry, wait)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::edge::{DEFAULT_DRAIN_PREPEND, DrainAction};
    use tern_types::Community;

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
