//! Stage one of the two-stage config (STYLE habit 8): `tern.toml` exactly as written.
//!
//! Every struct denies unknown fields, every enum is closed, and every value a diagnostic may
//! point at is wrapped in [`Spanned`] so that validation ([`crate::validate`]) can report
//! file:line:col. Text that has its own syntax (prefixes, addresses, communities) stays a string
//! here and is parsed during validation, so that all such mistakes are reported at once.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer};
use tern_types::Asn;
use toml::Spanned;

use crate::edge::DrainAction;
use crate::network::{CheckKind, FailureAction};
use crate::policy::{Action, Level, Region};

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    /// `[network]`: who we are.
    pub network: Spanned<RawNetwork>,
    /// `[[prefix]]`: the prefix plan.
    #[serde(default, rename = "prefix")]
    pub prefixes: Vec<Spanned<RawPrefix>>,
    /// `[site.NAME]`.
    #[serde(default, rename = "site")]
    pub sites: BTreeMap<Spanned<String>, Spanned<RawSite>>,
    /// `[[service]]`.
    #[serde(default, rename = "service")]
    pub services: Vec<Spanned<RawService>>,
    /// `[lab]`: read by `tern lab` only (see [`crate::lab`]).
    #[serde(default)]
    pub lab: Option<Spanned<crate::lab::RawLab>>,
    /// `[dns]`: the GeoDNS zone (see [`crate::dns`]).
    pub dns: Option<Spanned<crate::dns::RawDns>>,
}

/// `[network]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNetwork {
    /// Free-form name, used in comments of rendered configs.
    pub name: Option<String>,
    /// Our AS number, the origin of every announcement.
    pub asn: Spanned<Asn>,
    /// Address space we hold (e.g. an IPv6 /44 and an IPv4 /24).
    #[serde(default)]
    pub allocations: Vec<Spanned<String>>,
    /// A lab network: documentation prefixes and private ASNs are allowed.
    #[serde(default)]
    pub lab: bool,
    /// The operator's providers directory (relative to tern.toml): dictionaries there add to
    /// or replace the built-in ones (see [`crate::provider::dirs`]).
    pub providers: Option<Spanned<String>>,
}

/// What a prefix is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawRole {
    /// Announced from every site, or from the sites listed in `sites` (regional anycast).
    Anycast,
    /// Announced from one site only (`site`).
    Unicast,
}

/// `[[prefix]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrefix {
    /// The prefix, e.g. `2001:db8::/48`.
    pub prefix: Spanned<String>,
    /// Anycast or unicast.
    pub role: Spanned<RawRole>,
    /// Unicast: the site that announces it.
    pub site: Option<Spanned<String>>,
    /// Anycast: only these sites (regional anycast). Absent: every site.
    pub sites: Option<Spanned<Vec<Spanned<String>>>>,
    /// Free text.
    pub description: Option<String>,
}

/// `[site.NAME]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSite {
    /// IATA-like location code (`AMS`).
    pub code: Option<Spanned<String>>,
    /// Latitude in degrees, -90..90.
    pub lat: Spanned<f64>,
    /// Longitude in degrees, -180..180.
    pub lon: Spanned<f64>,
    /// Default provider of this site's upstreams (a dictionary name such as `vultr`).
    pub provider: Option<Spanned<String>>,
    /// BGP router ID (an IPv4 address). Default: the first IPv4 source address of an upstream.
    pub router_id: Option<Spanned<String>>,
    /// Networks directly connected to the host (to decide whether multihop neighbors need a
    /// host route).
    #[serde(default)]
    pub connected: Vec<Spanned<String>>,
    /// Traffic-engineering intents for every upstream of this site.
    #[serde(default)]
    pub intents: Vec<Spanned<RawIntent>>,
    /// Raw standard communities for every upstream of this site.
    #[serde(default)]
    pub communities: Vec<Spanned<String>>,
    /// Raw large communities for every upstream of this site.
    #[serde(default)]
    pub large_communities: Vec<Spanned<String>>,
    /// `[[site.NAME.upstream]]`.
    #[serde(default, rename = "upstream")]
    pub upstreams: Vec<Spanned<RawUpstream>>,
    /// `[site.NAME.edge]`: settings of the site daemon (see [`crate::edge`]).
    pub edge: Option<Spanned<RawEdge>>,
}

/// `[[site.NAME.upstream]]`: one BGP session.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUpstream {
    /// Session name (letters, digits, `_`); default `<provider>_v4` / `<provider>_v6`.
    pub name: Option<Spanned<String>>,
    /// Provider dictionary; default: the site's provider.
    pub provider: Option<Spanned<String>>,
    /// Neighbor address.
    pub neighbor: Spanned<String>,
    /// Neighbor AS; default: the provider's session AS.
    pub remote_as: Option<Spanned<Asn>>,
    /// eBGP multihop TTL; default: the provider's (Vultr and BuyVM: 2).
    pub multihop: Option<Spanned<u8>>,
    /// Our address on the session.
    pub source: Option<Spanned<String>>,
    /// Next hop of the host route to a multihop neighbor.
    pub gateway: Option<Spanned<String>>,
    /// Interface of `gateway` (needed when the gateway is link-local).
    pub interface: Option<Spanned<String>>,
    /// TCP-MD5 key from this environment variable.
    pub password_env: Option<Spanned<String>>,
    /// TCP-MD5 key from this file (first line), relative to tern.toml.
    pub password_file: Option<Spanned<String>>,
    /// Refused: secrets never live in tern.toml. Present only to give a clear message.
    pub password: Option<Spanned<toml::Value>>,
    /// Intents for this session only (added to the site's).
    #[serde(default)]
    pub intents: Vec<Spanned<RawIntent>>,
    /// Raw standard communities for this session.
    #[serde(default)]
    pub communities: Vec<Spanned<String>>,
    /// Raw large communities for this session.
    #[serde(default)]
    pub large_communities: Vec<Spanned<String>>,
    /// Neighbor TCP port (default 179; other ports only in labs, see [`crate::edge`]).
    pub port: Option<Spanned<u16>>,
    /// Hold time we propose, seconds (default: the daemon's, 30).
    pub hold_time: Option<Spanned<u16>>,
    /// Time between connection attempts, e.g. `"5s"` (BIRD's `connect retry time`; default:
    /// the daemon's 5 s).
    pub connect_retry: Option<Spanned<String>>,
    /// Wait after a session error before reconnecting, doubling from the first to the second
    /// value, e.g. `["5s", "120s"]` (BIRD's `error wait time`; default: the daemon's 5 s to 120 s).
    pub error_wait: Option<Spanned<Vec<String>>>,
}

/// One intent: `{ action = "no-announce", to = "AS6939" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIntent {
    /// What to do.
    pub action: Action,
    /// `"all"`, an AS (`"AS6939"`, `6939`) or a list of ASes.
    pub to: Option<OneOrMany>,
    /// Prepend count (1–3 with provider communities; up to [`crate::defaults::MAX_PREPEND`] locally).
    pub times: Option<u8>,
    /// Only in this region.
    pub region: Option<Region>,
    /// Local-pref level.
    pub level: Option<Level>,
    /// Whose communities to use: a provider name or AS (default: the upstream's provider).
    pub via: Option<AsOrName>,
}

/// An AS number or a name, as written in `to` or `via`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsOrName(pub String);

impl<'de> Deserialize<'de> for AsOrName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = AsOrName;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an AS number (6939 or \"AS6939\"), \"all\" or a provider name")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<AsOrName, E> {
                Ok(AsOrName(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<AsOrName, E> {
                Ok(AsOrName(v.to_string()))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<AsOrName, E> {
                Ok(AsOrName(v.to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `to = "AS6939"` or `to = ["AS6939", "AS2914"]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OneOrMany(pub Vec<AsOrName>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an AS number, \"all\", or a list of AS numbers")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![AsOrName(v.to_string())]))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![AsOrName(v.to_string())]))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![AsOrName(v.to_owned())]))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<OneOrMany, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = seq.next_element::<AsOrName>()? {
                    v.push(x);
                }
                Ok(OneOrMany(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// `[[service]]`: something the site serves on anycast addresses.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    /// Name (`dns`, `web`).
    pub name: Spanned<String>,
    /// Prefixes that must be withdrawn or degraded when this service is unhealthy.
    pub prefixes: Vec<Spanned<String>>,
    /// `[[service.check]]`.
    #[serde(default, rename = "check")]
    pub checks: Vec<Spanned<RawCheck>>,
    /// What unhealthy means. Default: withdraw.
    pub on_failure: Option<Spanned<RawOnFailure>>,
    /// Hold-down before a flapping service is announced again, after its first flap
    /// (default 10 s; `"0s"` turns damping off).
    pub hold_down: Option<Spanned<String>>,
    /// Ceiling of the doubling hold-down (default 600 s).
    pub hold_down_max: Option<Spanned<String>>,
}

/// `[[service.check]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCheck {
    /// http, tcp, dns or exec.
    pub kind: Spanned<CheckKind>,
    /// http: URL; tcp and dns: `ADDRESS:PORT`.
    pub target: Option<Spanned<String>>,
    /// exec: the program and its arguments.
    pub command: Option<Spanned<Vec<String>>>,
    /// dns: the name to query.
    pub query: Option<Spanned<String>>,
    /// http: expected status (default 200).
    pub expect_status: Option<Spanned<u16>>,
    /// Time between checks, e.g. `"5s"`, `"500ms"`.
    pub interval: Option<Spanned<String>>,
    /// Time a check may take.
    pub timeout: Option<Spanned<String>>,
    /// Consecutive successes before healthy.
    pub rise: Option<Spanned<u32>>,
    /// Consecutive failures before unhealthy.
    pub fall: Option<Spanned<u32>>,
}

/// `[service.on_failure]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOnFailure {
    /// withdraw or degrade.
    pub action: FailureAction,
    /// degrade: prepend our AS this many times.
    pub prepend: Option<u8>,
    /// degrade: add these standard communities.
    #[serde(default)]
    pub communities: Vec<Spanned<String>>,
    /// degrade: add these large communities.
    #[serde(default)]
    pub large_communities: Vec<Spanned<String>>,
}

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
