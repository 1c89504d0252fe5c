//! "Which site am I hitting": the site daemon's identity responders (issue 5 §7).
//!
//! Clients of an anycast address cannot tell which site answered them; these endpoints tell
//! them, on the addresses the daemon is configured to serve (normally the anycast one):
//! - [`dns`]: CHAOS TXT `id.server` / `hostname.bind` and EDNS NSID (RFC 4892, RFC 5001), on top
//!   of the workspace's DNS codec, the `tern-dns` crate, which the DNS health check
//!   (`crate::probe`) shares; a [`crate::serve::DnsHandler`];
//! - [`trace`]: `/cdn-cgi/trace` (Cloudflare's format), a [`crate::serve::Handler`].
//!
//! Both are handlers of the daemon's one server layer, [`crate::serve`].

pub mod dns;
pub mod trace;

use tern_types::SiteId;

/// Default answer to `version.bind` / `version.server`.
pub const DEFAULT_VERSION: &str = "tern";

/// What the responders say about this site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteIdentity {
    /// The site's name: the CHAOS `id.server` answer, the NSID payload, `site=` in the trace.
    pub site: SiteId,
    /// IATA code of the nearest airport, upper case (`AMS`): `colo=` in the trace, like
    /// Cloudflare's field. `None` prints the site name upper-cased.
    pub iata: Option<String>,
    /// Answer to `version.bind` / `version.server`.
    pub version: String,
}

impl SiteIdentity {
    /// The identity of `site`, without IATA code, answering [`DEFAULT_VERSION`].
    pub fn new(site: SiteId) -> Self {
        SiteIdentity {
            site,
            iata: None,
            version: DEFAULT_VERSION.to_owned(),
        }
    }

    /// The `colo`/`iata` value: the IATA code, or the site name upper-cased.
    pub fn colo(&self) -> String {
        self.iata
            .clone()
            .unwrap_or_else(|| self.site.as_str().to_ascii_uppercase())
    }
}
