//! `GET /cdn-cgi/trace`: Cloudflare's "which colo am I hitting" document, for a tern site.
//!
//! Format (shared/reference/services.md §1.1): `text/plain`, one `key=value` per line, LF
//! terminated, no quoting (split on the first `=`). We keep Cloudflare's key names and order for
//! the keys that mean something here, so existing parsers (which read `ip`, `colo`, …) work, and
//! add ours at the end:
//!
//! | key | value |
//! |---|---|
//! | `h` | the `Host` header as sent (empty without one) |
//! | `ip` | the client's address as seen by the site |
//! | `ts` | Unix time with milliseconds, `1744159940.969` |
//! | `visit_scheme` | `http` (no TLS listener yet) |
//! | `uag` | the `User-Agent`, verbatim (control characters replaced by `?`) |
//! | `colo` | the site's IATA code (or its name upper-cased) |
//! | `http` | `http/1.1` or `http/1.0` |
//! | `tls` | `off` |
//! | `sni` | `off` |
//! | `site` | tern's site name (the same as `dig CH TXT id.server`) |
//! | `iata` | the IATA code, as `colo` |
//! | `dst` | our address the client reached: tells the anycast from the site's unicast address |
//! | `drain` | `on` while an anycast (service) prefix of the site is drained (`tern ctl drain`, the drain file), else `off`; only from `tern run` |
//! | `service` | `down` when the site has anycast prefixes and announces none of them (its service checks failed, or drained), else `up`; only from `tern run` |
//!
//! The GeoDNS watcher (`crate::geodns::watch`) reads `drain=on` and `service=down` as "out of
//! the answers now": the site's box answers, but its service does not take traffic.
//!
//! Left out because they would be made up here: `fl` (Cloudflare's front-line instance),
//! `sliver`, `loc` (we do no geolocation), `warp`, `gateway`, `rbi`, `kex` (no TLS).
//!
//! JSON (same keys, all strings) with `?format=json` or `Accept: application/json`.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tern_health::PrefixState;
use tern_types::Prefix;
use tokio::sync::watch;

use super::SiteIdentity;
use crate::announcer::View;
use crate::serve::http::{Handler, Request, Response};

/// The path Cloudflare serves it on.
pub const TRACE_PATH: &str = "/cdn-cgi/trace";

/// The `/cdn-cgi/trace` handler.
#[derive(Clone, Debug)]
pub struct Trace {
    identity: Arc<SiteIdentity>,
    drain: Option<DrainSource>,
}

/// Where the trace reads the drain state: the daemon's view and which of its prefixes are
/// unicast (those are not the service: draining them alone is no service drain).
#[derive(Clone, Debug)]
struct DrainSource {
    view: watch::Receiver<View>,
    unicast: Arc<[Prefix]>,
}

impl Trace {
    /// A handler naming `identity`, without a `drain` line.
    pub fn new(identity: Arc<SiteIdentity>) -> Self {
        Trace {
            identity,
            drain: None,
        }
    }

    /// Adds the `drain` line, read from the daemon's `view`; prefixes in `unicast` do not count.
    pub fn with_drain(mut self, view: watch::Receiver<View>, unicast: &[Prefix]) -> Self {
        self.drain = Some(DrainSource {
            view,
            unicast: unicast.into(),
        });
        self
    }

    /// Whether an anycast (non-unicast) prefix is drained now, and whether the site has
    /// anycast prefixes but announces none of them; `None` without a view.
    pub fn drained(&self) -> Option<(bool, bool)> {
        let d = self.drain.as_ref()?;
        let v = d.view.borrow();
        let service: Vec<_> = v
            .prefixes
            .iter()
            .filter(|p| !d.unicast.contains(&p.prefix))
            .collect();
        let drained = service
            .iter()
            .any(|p| matches!(p.state, PrefixState::Drained(_)));
        let down = !service.is_empty() && service.iter().all(|p| p.state.announcement().is_none());
        Some((drained, down))
    }

    /// The fields for `req` at `now`, in output order.
    pub fn fields(&self, req: &Request, now: SystemTime) -> Vec<(&'static str, String)> {
        let ts = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        let colo = self.identity.colo();
        let mut fields = vec![
            ("h", clean(req.header("host").unwrap_or_default())),
            ("ip", req.peer.ip().to_canonical().to_string()),
            ("ts", format!("{}.{:03}", ts.as_secs(), ts.subsec_millis())),
            ("visit_scheme", "http".into()),
            ("uag", clean(req.header("user-agent").unwrap_or_default())),
            ("colo", colo.clone()),
            ("http", req.version.to_ascii_lowercase()),
            ("tls", "off".into()),
            ("sni", "off".into()),
            ("site", self.identity.site.to_string()),
            ("iata", colo),
            ("dst", req.local.ip().to_canonical().to_string()),
        ];
        if let Some((drained, down)) = self.drained() {
            fields.push(("drain", if drained { "on" } else { "off" }.into()));
            fields.push(("service", if down { "down" } else { "up" }.into()));
        }
        fields
    }
}

/// One line per value: no CR/LF or other control characters.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

impl Handler for Trace {
    fn handle(&self, req: &Request) -> Response {
        let fields = self.fields(req, SystemTime::now());
        let json = req.query_param("format") == Some("json")
            || req
                .header("accept")
                .is_some_and(|a| a.contains("application/json"));
        let response = if json {
            let map: serde_json::Map<String, serde_json::Value> = fields
                .into_iter()
                .map(|(k, v)| (k.to_owned(), serde_json::Value::String(v)))
                .collect();
            Response::json(200, &serde_json::Value::Object(map))
        } else {
            let body: String = fields
                .into_iter()
                .map(|(k, v)| format!("{k}={v}\n"))
                .collect();
            Response::text(200, body)
        };
        response
            .with_header("Cache-Control", "no-store")
            .with_header("X-Tern-Site", self.identity.site.as_str())
    }
}
