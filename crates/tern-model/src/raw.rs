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
    pub edge: Option<Spanned<crate::edge::RawEdge>>,
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
}

/// What an intent asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Do not announce to an AS (or to everyone in a region).
    NoAnnounce,
    /// Prepend our AS N times (to an AS, to everyone, optionally in a region).
    Prepend,
    /// Do not export beyond the provider.
    NoExport,
    /// Set the provider's local preference (optionally in a region).
    LocalPref,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::NoAnnounce => "no-announce",
            Action::Prepend => "prepend",
            Action::NoExport => "no-export",
            Action::LocalPref => "local-pref",
        })
    }
}

/// A world region as providers scope their communities.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Region {
    /// North America.
    NorthAmerica,
    /// South America.
    SouthAmerica,
    /// Europe.
    Europe,
    /// Asia and the Pacific.
    Asia,
    /// Oceania.
    Oceania,
    /// Africa.
    Africa,
    /// Middle East.
    MiddleEast,
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Region::NorthAmerica => "north-america",
            Region::SouthAmerica => "south-america",
            Region::Europe => "europe",
            Region::Asia => "asia",
            Region::Oceania => "oceania",
            Region::Africa => "africa",
            Region::MiddleEast => "middle-east",
        })
    }
}

/// Local-preference levels in operator words; each provider maps them to its values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// Last resort: below everything else.
    Lowest,
    /// Below peers (a backup path).
    Low,
    /// Equal to routes from peers.
    Peer,
    /// Above the provider's default for customers.
    High,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Lowest => "lowest",
            Level::Low => "low",
            Level::Peer => "peer",
            Level::High => "high",
        })
    }
}

/// One intent: `{ action = "no-announce", to = "AS6939" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIntent {
    /// What to do.
    pub action: Action,
    /// `"all"`, an AS (`"AS6939"`, `6939`) or a list of ASes.
    pub to: Option<OneOrMany>,
    /// Prepend count (1–3 with provider communities; up to [`crate::MAX_PREPEND`] locally).
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
}

/// Kind of health check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckKind {
    /// HTTP(S) GET, healthy on the expected status.
    Http,
    /// TCP connect.
    Tcp,
    /// DNS query, healthy on an answer.
    Dns,
    /// Run a command, healthy on exit 0.
    Exec,
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

/// What to do when unhealthy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureAction {
    /// Withdraw the prefixes.
    Withdraw,
    /// Keep announcing, less attractive.
    Degrade,
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
