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
//!
//! Left out because they would be made up here: `fl` (Cloudflare's front-line instance),
//! `sliver`, `loc` (we do no geolocation), `warp`, `gateway`, `rbi`, `kex` (no TLS).
//!
//! JSON (same keys, all strings) with `?format=json` or `Accept: application/json`.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::SiteIdentity;
use crate::serve::http::{Handler, Request, Response};

/// The path Cloudflare serves it on.
pub const TRACE_PATH: &str = "/cdn-cgi/trace";

/// The `/cdn-cgi/trace` handler.
#[derive(Clone, Debug)]
pub struct Trace {
    identity: Arc<SiteIdentity>,
}

impl Trace {
    /// A handler naming `identity`.
    pub fn new(identity: Arc<SiteIdentity>) -> Self {
        Trace { identity }
    }

    /// The fields for `req` at `now`, in output order.
    pub fn fields(&self, req: &Request, now: SystemTime) -> Vec<(&'static str, String)> {
        let ts = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        let colo = self.identity.colo();
        vec![
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
        ]
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
