//! The site daemon's configuration: one site of a validated [`tern_model::Network`] turned into
//! what the daemon runs — one [`PeerConfig`] and base export attributes per upstream, the
//! health checks ([`CheckDef`]) and the policy of every announced prefix ([`PrefixPolicy`]).
//!
//! This is the only place where model types meet daemon types; the announcer, the health loop
//! and the peers never see tern.toml. [`diff`] compares two of these for a reload.

pub mod diff;

use std::net::SocketAddr;
use std::path::Path;

use tern_bgp::rib::RouteAttrs;
use tern_bgp::session::{DEFAULT_HOLD_TIME, SessionConfig};
use tern_health::{CheckKind, CheckSpec, Degrade, OnDown, PrefixPolicy, ServiceBinding};
use tern_model::edge::{DrainAction, Edge};
use tern_model::{Network, OnFailure, Probe, Severity, Upstream};
use tern_types::{Afi, Prefix, SiteId};

use crate::peer::{PeerConfig, TransportConfig};
use crate::probe::scheduler::CheckDef;
use crate::whoami::SiteIdentity;

/// DNS checks of tern.toml name no query type: they ask for A records and count any NOERROR
/// answer as healthy.
pub const DNS_CHECK_QTYPE: u16 = 1;

/// Everything the daemon runs for one site.
#[derive(Clone, Debug)]
pub struct SiteConfig {
    /// The site.
    pub site: SiteId,
    /// What the "which site" responders say.
    pub identity: SiteIdentity,
    /// Daemon settings (`[site.NAME.edge]`).
    pub edge: Edge,
    /// One entry per BGP session, in tern.toml order.
    pub upstreams: Vec<UpstreamConfig>,
    /// Every prefix the site announces, with the services that gate it.
    pub prefixes: Vec<PrefixPolicy>,
    /// Every check of those services.
    pub checks: Vec<CheckDef>,
    /// The site's unicast prefixes (role `unicast`): `tern ctl drain` keeps them announced
    /// unless told `--all`, so the operator can still reach the box.
    pub unicast: Vec<Prefix>,
}

/// One BGP session of the site.
#[derive(Clone, Debug)]
pub struct UpstreamConfig {
    /// Session name (unique in the site).
    pub name: String,
    /// Transport and session parameters.
    pub peer: PeerConfig,
    /// Family of the session: only prefixes of this family are announced on it.
    pub afi: Afi,
    /// Communities and prepends compiled from the intents, added to every route.
    pub export: RouteAttrs,
    /// The intent notes (where each community comes from), for `tern ctl routes`.
    pub notes: Vec<String>,
}

impl UpstreamConfig {
    /// The attributes of a route announced in `state` extras (`Degrade::default()` when Up).
    pub fn attrs(&self, extra: &Degrade) -> RouteAttrs {
        let mut a = self.export.clone();
        a.prepend = a.prepend.saturating_add(extra.prepend);
        a.communities.extend(extra.communities.iter().copied());
        a.large_communities
            .extend(extra.large_communities.iter().copied());
        a.normalized()
    }
}

/// Why a configuration cannot be run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file cannot be read or parsed.
    #[error(transparent)]
    Load(#[from] tern_model::LoadError),
    /// Validation found errors (each line: file:line:col, message, fix).
    #[error("{path}: {count} error(s):\n{lines}", count = .0.len(), path = .1, lines = .0.join("\n"))]
    Invalid(Vec<String>, String),
    /// No such site in the file.
    #[error("no site {site} in {path} (sites: {known})")]
    UnknownSite {
        /// Asked for.
        site: String,
        /// The file.
        path: String,
        /// The sites that exist.
        known: String,
    },
    /// An MD5 key cannot be read.
    #[error("upstream {upstream}: {source}")]
    Secret {
        /// The session.
        upstream: String,
        /// Why.
        source: tern_model::SecretError,
    },
    /// A check cannot be built from its URL.
    #[error("service {service}: {source}")]
    Check {
        /// The service.
        service: String,
        /// Why.
        source: tern_health::CheckSpecError,
    },
}

impl SiteConfig {
    /// Read, validate and resolve `path` for `site`, reading MD5 keys now. Any error-severity
    /// diagnostic refuses the whole file.
    pub fn load(path: &Path, site: &str) -> Result<SiteConfig, ConfigError> {
        let model = tern_model::load(path)?;
        if model.has_errors() {
            let lines = model
                .diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .map(|d| d.to_string())
                .collect();
            return Err(ConfigError::Invalid(lines, path.display().to_string()));
        }
        SiteConfig::from_network(&model.network, site, path)
    }

    /// Resolve `site` of a validated network.
    pub fn from_network(net: &Network, site: &str, path: &Path) -> Result<SiteConfig, ConfigError> {
        let s = net
            .sites
            .iter()
            .find(|s| s.id.as_str() == site)
            .ok_or_else(|| ConfigError::UnknownSite {
                site: site.to_owned(),
                path: path.display().to_string(),
                known: net
                    .sites
                    .iter()
                    .map(|s| s.id.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        let upstreams = s
            .upstreams
            .iter()
            .map(|u| upstream(net, s.router_id, u))
            .collect::<Result<Vec<_>, _>>()?;
        let on_drain = match s.edge.drain {
            DrainAction::Withdraw => OnDown::Withdraw,
            DrainAction::Prepend => OnDown::Degrade(Degrade {
                prepend: s.edge.drain_prepend,
                communities: s.edge.drain_communities.clone(),
                large_communities: s.edge.drain_large_communities.clone(),
            }),
        };
        let services: Vec<&tern_model::Service> = net
            .services
            .iter()
            .filter(|svc| svc.prefixes.iter().any(|p| s.announces.contains(p)))
            .collect();
        let prefixes = s
            .announces
            .iter()
            .map(|p| PrefixPolicy {
                prefix: *p,
                services: services
                    .iter()
                    .filter(|svc| svc.prefixes.contains(p))
                    .map(|svc| ServiceBinding {
                        service: svc.name.clone(),
                        on_down: on_down(&svc.on_failure),
                    })
                    .collect(),
                on_drain: on_drain.clone(),
            })
            .collect();
        let mut checks = Vec::new();
        for svc in services {
            for (i, c) in svc.checks.iter().enumerate() {
                let kind = check_kind(&c.probe).map_err(|source| ConfigError::Check {
                    service: svc.name.clone(),
                    source,
                })?;
                let base = format!("{}/{}", svc.name, c.probe.kind_name());
                let name = if svc
                    .checks
                    .iter()
                    .filter(|o| o.probe.kind() == c.probe.kind())
                    .count()
                    > 1
                {
                    format!("{base}{}", i + 1)
                } else {
                    base
                };
                let mut spec = CheckSpec::new(kind);
                spec.interval = c.interval;
                spec.timeout = c.timeout;
                spec.rise = c.rise;
                spec.fall = c.fall;
                if let Some(h) = svc.hold_down {
                    spec.damping.hold_down = h;
                }
                if let Some(h) = svc.hold_down_max {
                    spec.damping.max_hold_down = h;
                }
                checks.push(CheckDef {
                    name,
                    service: svc.name.clone(),
                    spec,
                });
            }
        }
        let mut identity = SiteIdentity::new(s.id.clone());
        identity.iata = s.code.as_ref().map(|c| c.to_ascii_uppercase());
        identity.version = format!("tern {}", env!("CARGO_PKG_VERSION"));
        Ok(SiteConfig {
            site: s.id.clone(),
            identity,
            edge: s.edge.clone(),
            upstreams,
            prefixes,
            checks,
            unicast: net
                .prefixes
                .iter()
                .filter(|p| matches!(&p.role, tern_model::network::Role::Unicast(site) if *site == s.id))
                .map(|p| p.prefix)
                .filter(|p| s.announces.contains(p))
                .collect(),
        })
    }

    /// The routes `upstream` should carry given the announcement of each prefix
    /// (`None`: withdrawn).
    pub fn routes_for<'a>(
        &self,
        up: &UpstreamConfig,
        announcements: impl Iterator<Item = (&'a Prefix, Option<Degrade>)>,
    ) -> Vec<(Prefix, RouteAttrs)> {
        announcements
            .filter(|(p, _)| p.afi() == up.afi)
            .filter_map(|(p, a)| a.map(|d| (*p, up.attrs(&d))))
            .collect()
    }
}

fn on_down(f: &OnFailure) -> OnDown {
    match f {
        OnFailure::Withdraw => OnDown::Withdraw,
        OnFailure::Degrade {
            prepend,
            communities,
            large_communities,
        } => OnDown::Degrade(Degrade {
            prepend: *prepend,
            communities: communities.clone(),
            large_communities: large_communities.clone(),
        }),
    }
}

fn check_kind(p: &Probe) -> Result<CheckKind, tern_health::CheckSpecError> {
    Ok(match p {
        Probe::Http { url, expect_status } => CheckKind::http_from_url(url, *expect_status, None)?,
        Probe::Tcp { addr } => CheckKind::Tcp {
            host: addr.ip().to_string(),
            port: addr.port(),
        },
        Probe::Dns { server, query } => CheckKind::Dns {
            server: *server,
            name: query.clone(),
            qtype: DNS_CHECK_QTYPE,
            expect: None,
        },
        Probe::Exec { command } => CheckKind::Exec {
            argv: command.clone(),
        },
    })
}

fn upstream(
    net: &Network,
    router_id: std::net::Ipv4Addr,
    u: &Upstream,
) -> Result<UpstreamConfig, ConfigError> {
    let md5_key = match &u.password {
        Some(secret) => Some(
            secret
                .resolve()
                .map_err(|source| ConfigError::Secret {
                    upstream: u.name.clone(),
                    source,
                })?
                .into_bytes(),
        ),
        None => None,
    };
    let mut session = SessionConfig::new(net.asn, u.remote_as, router_id);
    session.hold_time = u.hold_time.unwrap_or(DEFAULT_HOLD_TIME);
    if let Some(r) = u.connect_retry {
        session.connect_retry = r;
        session.connect_retry_max = session.connect_retry_max.max(r);
    }
    session.error_wait = u.error_wait;
    session.families = vec![u.afi()];
    // Different seeds per session: retries of two sessions do not line up.
    session.jitter_seed = u
        .name
        .bytes()
        .fold(0x9e37_79b9_u64, |h, b| h.rotate_left(5) ^ u64::from(b));
    let transport = TransportConfig {
        local_addr: u.source,
        md5_key,
        ttl: u.multihop,
        ..TransportConfig::default()
    };
    Ok(UpstreamConfig {
        name: u.name.clone(),
        peer: PeerConfig {
            name: u.name.clone(),
            remote: SocketAddr::new(u.neighbor, u.port),
            transport,
            session,
        },
        afi: u.afi(),
        export: RouteAttrs {
            communities: u.export.communities.clone(),
            large_communities: u.export.large_communities.clone(),
            prepend: u.export.prepend,
            ..RouteAttrs::default()
        }
        .normalized(),
        notes: u.export.notes.clone(),
    })
}

/// Lower-case name of a probe kind, for check names (`web/http`).
trait KindName {
    fn kind_name(&self) -> &'static str;
}

impl KindName for Probe {
    fn kind_name(&self) -> &'static str {
        match self {
            Probe::Http { .. } => "http",
            Probe::Tcp { .. } => "tcp",
            Probe::Dns { .. } => "dns",
            Probe::Exec { .. } => "exec",
        }
    }
}
