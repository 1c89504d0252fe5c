//! Stage two: the resolved network, the output of [`crate::validate`] and the input of every
//! consumer (`tern plan`, `tern check`, the BIRD renderer, later the site daemon).
//!
//! Everything here is typed and checked; positions in tern.toml are kept as [`Location`]s so
//! that later checks (RPKI, IRR, secrets) can still point at the line that caused them.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tern_types::{Afi, Asn, Community, LargeCommunity, Prefix, SiteId};

use crate::diag::Location;

/// A whole network as described by one tern.toml.
#[derive(Clone, Debug, Serialize)]
pub struct Network {
    /// Free-form name.
    pub name: Option<String>,
    /// Our AS, the origin of every announcement.
    pub asn: Asn,
    /// Where `asn` is written.
    pub asn_location: Location,
    /// Lab network: documentation prefixes and private ASNs allowed.
    pub lab: bool,
    /// Address space we hold.
    pub allocations: Vec<Located<Prefix>>,
    /// The prefix plan, in file order.
    pub prefixes: Vec<PlannedPrefix>,
    /// Sites, sorted by name.
    pub sites: Vec<Site>,
    /// Services and their health checks.
    pub services: Vec<Service>,
    /// The GeoDNS zone, when `[dns]` is present.
    pub dns: Option<crate::dns::Dns>,
}

impl Network {
    /// The site with this name.
    pub fn site(&self, id: &SiteId) -> Option<&Site> {
        self.sites.iter().find(|s| &s.id == id)
    }

    /// Every prefix that some site announces, once, sorted.
    pub fn announced(&self) -> Vec<&PlannedPrefix> {
        let mut v: Vec<&PlannedPrefix> = self
            .prefixes
            .iter()
            .filter(|p| self.sites.iter().any(|s| s.announces.contains(&p.prefix)))
            .collect();
        v.sort_by_key(|p| p.prefix);
        v.dedup_by_key(|p| p.prefix);
        v
    }
}

/// A value and where it was written.
#[derive(Clone, Debug, Serialize)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Its place in tern.toml.
    pub location: Location,
}

/// What a prefix is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "role", content = "sites")]
pub enum Role {
    /// Announced from every site.
    Anycast,
    /// Anycast from a subset of sites.
    Regional(Vec<SiteId>),
    /// Announced from one site.
    Unicast(SiteId),
}

impl Role {
    /// Does `site` announce a prefix with this role?
    pub fn announced_by(&self, site: &SiteId) -> bool {
        match self {
            Role::Anycast => true,
            Role::Regional(v) => v.contains(site),
            Role::Unicast(s) => s == site,
        }
    }
}

/// One entry of the prefix plan.
#[derive(Clone, Debug, Serialize)]
pub struct PlannedPrefix {
    /// The prefix.
    pub prefix: Prefix,
    /// Its role.
    pub role: Role,
    /// Free text.
    pub description: Option<String>,
    /// Where it is written.
    pub location: Location,
}

/// One site: a host with BGP sessions to its upstreams.
#[derive(Clone, Debug, Serialize)]
pub struct Site {
    /// Name.
    pub id: SiteId,
    /// IATA-like code.
    pub code: Option<String>,
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// Default provider id.
    pub provider: Option<String>,
    /// BGP router ID.
    pub router_id: Ipv4Addr,
    /// Networks connected to the host.
    pub connected: Vec<Prefix>,
    /// Prefixes this site announces, sorted.
    pub announces: Vec<Prefix>,
    /// BGP sessions.
    pub upstreams: Vec<Upstream>,
    /// Settings of the site daemon.
    pub edge: crate::edge::Edge,
    /// Where `[site.NAME]` is written.
    pub location: Location,
}

impl Site {
    /// Announced prefixes of one family.
    pub fn announces_of(&self, afi: Afi) -> impl Iterator<Item = &Prefix> {
        self.announces.iter().filter(move |p| p.afi() == afi)
    }
}

/// A static route the host needs to reach a multihop neighbor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HostRoute {
    /// The gateway.
    pub gateway: IpAddr,
    /// Interface, required for a link-local gateway.
    pub interface: Option<String>,
}

/// Where an MD5 key comes from. tern.toml never holds the key itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Secret {
    /// An environment variable.
    Env(String),
    /// A file (first line, trailing newline stripped), resolved relative to tern.toml.
    File(PathBuf),
}

/// Why a secret could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The variable is not set (or not UTF-8).
    #[error("environment variable {0} is not set")]
    EnvUnset(String),
    /// The file cannot be read.
    #[error("cannot read password file {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Empty.
    #[error("the password from {0} is empty")]
    Empty(String),
}

impl Secret {
    /// Reads the key now.
    pub fn resolve(&self) -> Result<String, SecretError> {
        let v = match self {
            Secret::Env(var) => {
                std::env::var(var).map_err(|_| SecretError::EnvUnset(var.clone()))?
            }
            Secret::File(path) => std::fs::read_to_string(path)
                .map_err(|source| SecretError::File {
                    path: path.clone(),
                    source,
                })?
                .lines()
                .next()
                .unwrap_or("")
                .to_owned(),
        };
        if v.is_empty() {
            return Err(SecretError::Empty(self.to_string()));
        }
        Ok(v)
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Secret::Env(v) => write!(f, "${v}"),
            Secret::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// One BGP session of a site.
#[derive(Clone, Debug, Serialize)]
pub struct Upstream {
    /// Session name, a valid BIRD identifier, unique in its site.
    pub name: String,
    /// Provider dictionary id.
    pub provider: Option<String>,
    /// The provider's own AS from its dictionary (Vultr: AS20473, while the session is with
    /// AS64515): the AS our routes enter the Internet through. `None` without a dictionary.
    pub provider_asn: Option<Asn>,
    /// Neighbor address; its family is the session's.
    pub neighbor: IpAddr,
    /// Neighbor AS.
    pub remote_as: Asn,
    /// eBGP multihop TTL (`None`: directly connected).
    pub multihop: Option<u8>,
    /// Our address on the session.
    pub source: Option<IpAddr>,
    /// Host route to the neighbor, when it is not on a connected network.
    pub host_route: Option<HostRoute>,
    /// MD5 key source.
    pub password: Option<Secret>,
    /// What we attach to our announcements on this session.
    pub export: Export,
    /// Neighbor TCP port (179 outside labs).
    pub port: u16,
    /// Hold time we propose (`None`: the daemon's default).
    pub hold_time: Option<u16>,
    /// Time between connection attempts (`None`: the daemon's default, 5 s).
    pub connect_retry: Option<std::time::Duration>,
    /// Wait after a session error, first and largest (`None`: the daemon's 5 s to 120 s).
    pub error_wait: Option<(std::time::Duration, std::time::Duration)>,
    /// Where `[[site.NAME.upstream]]` is written.
    pub location: Location,
}

impl Upstream {
    /// IPv4 or IPv6 session.
    pub fn afi(&self) -> Afi {
        match self.neighbor {
            IpAddr::V4(_) => Afi::Ipv4,
            IpAddr::V6(_) => Afi::Ipv6,
        }
    }
}

/// The compiled traffic engineering of one session.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Export {
    /// Standard communities to add, sorted, deduplicated.
    pub communities: Vec<Community>,
    /// Large communities to add, sorted, deduplicated.
    pub large_communities: Vec<LargeCommunity>,
    /// Prepend our own AS this many times on this session.
    pub prepend: u8,
    /// One line per community or prepend: where it comes from and what it means.
    pub notes: Vec<String>,
    /// What the providers will do with our announcements on this session, each with the AS
    /// that applies it and the community (in `communities` or `large_communities`) that asks
    /// for it. Our own prepend is `prepend`, not an effect.
    pub effects: Vec<crate::policy::AppliedEffect>,
}

/// A service whose health gates announcements.
#[derive(Clone, Debug, Serialize)]
pub struct Service {
    /// Name.
    pub name: String,
    /// Prefixes that depend on it.
    pub prefixes: Vec<Prefix>,
    /// Health checks (all must pass).
    pub checks: Vec<Check>,
    /// What unhealthy means.
    pub on_failure: OnFailure,
    /// Flap damping hold-down after the first flap (`None`: the default 10 s; zero: off).
    pub hold_down: Option<std::time::Duration>,
    /// Ceiling of the doubling hold-down (`None`: the default 600 s).
    pub hold_down_max: Option<std::time::Duration>,
}

/// A health-check target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Probe {
    /// GET the URL, expect the status.
    Http {
        /// URL.
        url: String,
        /// Expected status.
        expect_status: u16,
    },
    /// Connect.
    Tcp {
        /// Address and port.
        addr: std::net::SocketAddr,
    },
    /// Query a name.
    Dns {
        /// Server address and port.
        server: std::net::SocketAddr,
        /// Name to query.
        query: String,
    },
    /// Run a command.
    Exec {
        /// Program and arguments.
        command: Vec<String>,
    },
}

impl Probe {
    /// The kind.
    pub fn kind(&self) -> CheckKind {
        match self {
            Probe::Http { .. } => CheckKind::Http,
            Probe::Tcp { .. } => CheckKind::Tcp,
            Probe::Dns { .. } => CheckKind::Dns,
            Probe::Exec { .. } => CheckKind::Exec,
        }
    }
}

/// One health check.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// What to probe.
    pub probe: Probe,
    /// Time between checks.
    pub interval: Duration,
    /// Time one check may take.
    pub timeout: Duration,
    /// Successes before healthy.
    pub rise: u32,
    /// Failures before unhealthy.
    pub fall: u32,
}

/// What happens to a service's prefixes when it is unhealthy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnFailure {
    /// Withdraw them.
    Withdraw,
    /// Keep them, less attractive.
    Degrade {
        /// Extra prepends of our AS.
        prepend: u8,
        /// Extra standard communities.
        communities: Vec<Community>,
        /// Extra large communities.
        large_communities: Vec<LargeCommunity>,
    },
}

/// Kind of health check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize)]
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

/// What to do when unhealthy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureAction {
    /// Withdraw the prefixes.
    Withdraw,
    /// Keep announcing, less attractive.
    Degrade,
}
