//! `[dns]`: the authoritative GeoDNS zone tern serves (`tern dns serve`, crate tern-geodns).
//!
//! The zone apex, its SOA and NS, static records, and names bound to the network: `anycast`
//! (the anycast address), `best` (the unicast address of the best healthy site for the client
//! asking) or `site` (one fixed site's unicast address). Plus where the choice comes from (a
//! latency map written by `tern dns map`, an MMDB or CSV geolocation file), how sites are
//! health-checked, and where the server listens.
//!
//! Raw form and validation live together here so that the rest of the model only carries one
//! field for them (`RawFile::dns`, `Network::dns`). Every default is a named const (STYLE
//! habit 8). A site's unicast address is `::1` (and `.1`) of its unicast prefix unless
//! `[dns.site.NAME]` says otherwise; the anycast address is `::1` (`.1`) of the first anycast
//! prefix of each family unless `anycast` says otherwise.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tern_types::{Prefix, SiteId};
use toml::Spanned;

use crate::diag::{Location, Severity};
use crate::network::{PlannedPrefix, Role, Site};
use crate::validate::ctx::Ctx;

/// TTL of `best` and `site` answers when not given: short, so that a failover reaches clients.
pub const DEFAULT_GEO_TTL: u32 = 30;
/// TTL of static records, `anycast` answers, NS and SOA when not given.
pub const DEFAULT_STATIC_TTL: u32 = 3600;
/// SOA MINIMUM, the negative-caching TTL (RFC 2308 §4), when not given.
pub const DEFAULT_NEGATIVE_TTL: u32 = 60;
/// Path of the which-site endpoint the health watcher fetches on each site's unicast address.
pub const DEFAULT_HEALTH_PATH: &str = "/cdn-cgi/trace";
/// Port of that endpoint.
pub const DEFAULT_HEALTH_PORT: u16 = 80;
/// Time between two checks of one site.
pub const DEFAULT_HEALTH_INTERVAL: Duration = Duration::from_secs(1);
/// Time one check may take.
pub const DEFAULT_HEALTH_TIMEOUT: Duration = Duration::from_millis(800);
/// Successes before a site is answered with again.
pub const DEFAULT_HEALTH_RISE: u32 = 2;
/// Failures before a site leaves the answers.
pub const DEFAULT_HEALTH_FALL: u32 = 2;

/// `[dns]`, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDns {
    /// The zone apex (`example.net`).
    pub zone: Spanned<String>,
    /// Name servers of the zone (NS records at the apex); the first is the SOA MNAME.
    pub ns: Spanned<Vec<Spanned<String>>>,
    /// SOA RNAME (default `hostmaster.<zone>`).
    pub hostmaster: Option<Spanned<String>>,
    /// SOA serial (default 1).
    pub serial: Option<u32>,
    /// SOA MINIMUM / negative TTL, seconds.
    pub negative_ttl: Option<u32>,
    /// TTL of static records, NS and SOA, seconds.
    pub ttl: Option<u32>,
    /// TTL of `best` and `site` answers, seconds.
    pub geo_ttl: Option<u32>,
    /// Where `tern dns serve` listens (UDP and TCP), `ADDRESS:PORT`.
    #[serde(default)]
    pub listen: Vec<Spanned<String>>,
    /// The anycast addresses (default: `::1` / `.1` of the first anycast prefix per family).
    pub anycast: Option<Spanned<Vec<Spanned<String>>>>,
    /// Latency map written by `tern dns map` (relative to tern.toml).
    pub map: Option<Spanned<String>>,
    /// Geolocation file: a MaxMind-format `.mmdb` or a `.csv` of ranges with coordinates.
    pub geoip: Option<Spanned<String>>,
    /// Response rate limit: responses per second per client network (off when absent).
    pub rrl: Option<Spanned<u32>>,
    /// NSID payload and CHAOS `id.server` answer (default: the host's name for `tern dns`).
    pub identity: Option<String>,
    /// `[dns.health]`.
    pub health: Option<Spanned<RawDnsHealth>>,
    /// `[dns.site.NAME]`: per-site addresses.
    #[serde(default)]
    pub site: BTreeMap<Spanned<String>, Spanned<RawDnsSite>>,
    /// `[[dns.record]]`.
    #[serde(default)]
    pub record: Vec<Spanned<RawRecord>>,
    /// `[[dns.name]]`.
    #[serde(default)]
    pub name: Vec<Spanned<RawBoundName>>,
}

/// `[dns.health]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDnsHealth {
    /// HTTP path on each site's unicast address.
    pub path: Option<String>,
    /// Port.
    pub port: Option<u16>,
    /// `"1s"`.
    pub interval: Option<Spanned<String>>,
    /// `"800ms"`.
    pub timeout: Option<Spanned<String>>,
    /// Successes to come back.
    pub rise: Option<Spanned<u32>>,
    /// Failures to leave.
    pub fall: Option<Spanned<u32>>,
}

/// `[dns.site.NAME]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDnsSite {
    /// The site's unicast IPv6 address answered in AAAA.
    pub v6: Option<Spanned<String>>,
    /// The site's unicast IPv4 address answered in A.
    pub v4: Option<Spanned<String>>,
    /// Never answer with this site (planned maintenance).
    #[serde(default)]
    pub drained: bool,
}

/// Record types a static record may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RecordType {
    /// IPv4 address.
    A,
    /// IPv6 address.
    Aaaa,
    /// Text.
    Txt,
    /// Alias (not at the apex, not next to other data).
    Cname,
    /// Name server (delegation or apex).
    Ns,
}

/// `[[dns.record]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRecord {
    /// Owner, relative to the zone (`www`), `@` for the apex, or absolute with a trailing dot.
    pub name: Spanned<String>,
    /// A, AAAA, TXT, CNAME or NS.
    #[serde(rename = "type")]
    pub rtype: Spanned<RecordType>,
    /// The data in presentation form.
    pub value: Spanned<String>,
    /// TTL, seconds.
    pub ttl: Option<u32>,
}

/// What a bound name answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawAnswer {
    /// The anycast address.
    Anycast,
    /// The best healthy site's unicast address.
    Best,
    /// One site's unicast address (`site = "NAME"`).
    Site,
}

/// `[[dns.name]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBoundName {
    /// Owner, as for records.
    pub name: Spanned<String>,
    /// anycast, best or site.
    pub answer: Spanned<RawAnswer>,
    /// With `answer = "site"`.
    pub site: Option<Spanned<String>>,
    /// TTL, seconds.
    pub ttl: Option<u32>,
}

/// The resolved `[dns]`.
#[derive(Clone, Debug, Serialize)]
pub struct Dns {
    /// Apex, lower case, without the trailing dot.
    pub zone: String,
    /// NS names, absolute, without the trailing dot.
    pub ns: Vec<String>,
    /// SOA RNAME.
    pub hostmaster: String,
    /// SOA serial.
    pub serial: u32,
    /// SOA MINIMUM.
    pub negative_ttl: u32,
    /// TTL of static data.
    pub ttl: u32,
    /// TTL of geo answers.
    pub geo_ttl: u32,
    /// Listen addresses of `tern dns serve`.
    pub listen: Vec<SocketAddr>,
    /// Anycast addresses.
    pub anycast: Vec<IpAddr>,
    /// Latency map file.
    pub map: Option<PathBuf>,
    /// Geolocation file.
    pub geoip: Option<PathBuf>,
    /// Responses per second per client network; `None`: no limit.
    pub rrl: Option<u32>,
    /// NSID / id.server answer.
    pub identity: Option<String>,
    /// Health checks of the sites.
    pub health: DnsHealth,
    /// Every site of the network with what GeoDNS needs of it, sorted by id.
    pub sites: Vec<DnsSite>,
    /// Static records.
    pub records: Vec<StaticRecord>,
    /// Bound names.
    pub names: Vec<BoundName>,
    /// Where `[dns]` is written.
    pub location: Location,
}

/// How the watcher checks sites.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DnsHealth {
    /// HTTP path.
    pub path: String,
    /// Port.
    pub port: u16,
    /// Interval.
    pub interval: Duration,
    /// Timeout.
    pub timeout: Duration,
    /// Rise.
    pub rise: u32,
    /// Fall.
    pub fall: u32,
}

/// One site as GeoDNS sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DnsSite {
    /// Site id.
    pub id: SiteId,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Unicast IPv6 address (AAAA answers).
    pub v6: Option<Ipv6Addr>,
    /// Unicast IPv4 address (A answers).
    pub v4: Option<Ipv4Addr>,
    /// Operator drain: never answered.
    pub drained: bool,
}

impl DnsSite {
    /// The address the health watcher checks: IPv6 first.
    pub fn check_addr(&self) -> Option<IpAddr> {
        self.v6.map(IpAddr::V6).or(self.v4.map(IpAddr::V4))
    }
}

/// A static record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StaticRecord {
    /// Owner, absolute, lower case, without the trailing dot.
    pub name: String,
    /// Type.
    pub rtype: RecordType,
    /// Data in presentation form (checked).
    pub value: String,
    /// TTL.
    pub ttl: u32,
}

/// What a bound name answers, resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "answer", content = "site")]
pub enum Answer {
    /// The anycast address.
    Anycast,
    /// The best healthy site.
    Best,
    /// One site.
    Site(SiteId),
}

/// A name bound to the network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BoundName {
    /// Owner, absolute, lower case, without the trailing dot.
    pub name: String,
    /// What it answers.
    pub answer: Answer,
    /// TTL.
    pub ttl: u32,
}

/// A domain name in text: labels of 1–63 octets of letters, digits, `-`, `_`, at most 253
/// characters (no wildcards: tern's GeoDNS does not expand them). Returns it lower-cased without the trailing dot.
pub fn check_name(s: &str) -> Result<String, String> {
    let t = s.strip_suffix('.').unwrap_or(s).to_ascii_lowercase();
    if t.is_empty() || t.len() > 253 {
        return Err(format!("{s:?} is not a domain name (1 to 253 characters)"));
    }
    for l in t.split('.') {
        let ok = !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(format!("{s:?} has a bad label {l:?}"));
        }
    }
    Ok(t)
}

/// Owner text relative to `zone` → absolute (`@` is the apex; a trailing dot means absolute).
fn owner(zone: &str, s: &str) -> Result<String, String> {
    let abs = if s == "@" {
        zone.to_owned()
    } else if s.ends_with('.') {
        check_name(s)?
    } else {
        check_name(&format!("{s}.{zone}"))?
    };
    if abs != zone && !abs.ends_with(&format!(".{zone}")) {
        return Err(format!("{s:?} is outside the zone {zone}"));
    }
    Ok(abs)
}

/// Host `.1` / `::1` of a prefix.
fn first_host(p: &Prefix) -> IpAddr {
    match p.addr() {
        IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a) | 1)),
        IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a) | 1)),
    }
}

/// Validates `[dns]`; paths are resolved against `base` (tern.toml's directory).
pub(crate) fn dns(
    cx: &mut Ctx<'_>,
    raw: Option<&Spanned<RawDns>>,
    prefixes: &[PlannedPrefix],
    sites: &[Site],
    base: &Path,
) -> Option<Dns> {
    let raw_span = raw?.span();
    let r = raw?.get_ref();
    let zone = match check_name(r.zone.get_ref()) {
        Ok(z) => z,
        Err(e) => {
            cx.error(
                "dns-bad-name",
                &r.zone.span(),
                e,
                "write e.g. zone = \"example.net\"",
            );
            "invalid".to_owned()
        }
    };
    let mut ns = Vec::new();
    for n in r.ns.get_ref() {
        match check_name(n.get_ref()) {
            Ok(v) => ns.push(v),
            Err(e) => cx.error("dns-bad-name", &n.span(), e, "write the server's host name"),
        }
    }
    if r.ns.get_ref().is_empty() {
        cx.error(
            "dns-no-ns",
            &r.ns.span(),
            "the zone needs at least one name server",
            "list ns = [\"ns1.example.net\", ...] as delegated at the parent",
        );
    }
    let hostmaster = match &r.hostmaster {
        Some(h) => check_name(h.get_ref()).unwrap_or_else(|e| {
            cx.error("dns-bad-name", &h.span(), e, "write the mailbox as a name");
            format!("hostmaster.{zone}")
        }),
        None => format!("hostmaster.{zone}"),
    };
    let ttl = r.ttl.unwrap_or(DEFAULT_STATIC_TTL);
    let geo_ttl = r.geo_ttl.unwrap_or(DEFAULT_GEO_TTL);
    let listen = r
        .listen
        .iter()
        .filter_map(|s| cx.parse::<SocketAddr>("bad-listen-address", s))
        .collect();

    let anycast = match &r.anycast {
        Some(list) => list
            .get_ref()
            .iter()
            .filter_map(|s| cx.parse::<IpAddr>("bad-address", s))
            .collect(),
        None => {
            let mut v: Vec<IpAddr> = Vec::new();
            for p in prefixes.iter().filter(|p| p.role == Role::Anycast) {
                if !v.iter().any(|a| a.is_ipv6() == p.prefix.addr().is_ipv6()) {
                    v.push(first_host(&p.prefix));
                }
            }
            v
        }
    };
    for name in r.site.keys() {
        if !sites.iter().any(|x| x.id.as_str() == name.get_ref()) {
            cx.error(
                "unknown-site",
                &name.span(),
                format!("[dns.site.{}] names no site", name.get_ref()),
                "use a site name from [site.NAME]",
            );
        }
    }
    let mut dsites = Vec::new();
    for s in sites {
        let over = r
            .site
            .iter()
            .find(|(k, _)| k.get_ref() == s.id.as_str())
            .map(|(_, v)| v.get_ref());
        let unicast = |v6: bool| {
            prefixes
                .iter()
                .filter(|p| p.role == Role::Unicast(s.id.clone()))
                .find(|p| p.prefix.addr().is_ipv6() == v6)
                .map(|p| first_host(&p.prefix))
        };
        let mut v6 = unicast(true).and_then(|a| match a {
            IpAddr::V6(a) => Some(a),
            IpAddr::V4(_) => None,
        });
        let mut v4 = unicast(false).and_then(|a| match a {
            IpAddr::V4(a) => Some(a),
            IpAddr::V6(_) => None,
        });
        if let Some(o) = over {
            if let Some(a) = &o.v6 {
                v6 = cx.parse::<Ipv6Addr>("bad-address", a).or(v6);
            }
            if let Some(a) = &o.v4 {
                v4 = cx.parse::<Ipv4Addr>("bad-address", a).or(v4);
            }
        }
        dsites.push(DnsSite {
            id: s.id.clone(),
            lat: s.lat,
            lon: s.lon,
            v6,
            v4,
            drained: over.is_some_and(|o| o.drained),
        });
    }

    let mut records = Vec::new();
    for rec in &r.record {
        let span = rec.span();
        let rec = rec.get_ref();
        let name = match owner(&zone, rec.name.get_ref()) {
            Ok(n) => n,
            Err(e) => {
                cx.error(
                    "dns-bad-name",
                    &rec.name.span(),
                    e,
                    "write a name inside the zone",
                );
                continue;
            }
        };
        let v = rec.value.get_ref();
        let value = match rec.rtype.get_ref() {
            RecordType::A => v
                .parse::<Ipv4Addr>()
                .map(|a| a.to_string())
                .map_err(|e| e.to_string()),
            RecordType::Aaaa => v
                .parse::<Ipv6Addr>()
                .map(|a| a.to_string())
                .map_err(|e| e.to_string()),
            RecordType::Txt if v.len() > 4000 => Err("TXT data longer than 4000 octets".into()),
            RecordType::Txt => Ok(v.clone()),
            RecordType::Cname | RecordType::Ns => check_name(v),
        };
        let value = match value {
            Ok(v) => v,
            Err(e) => {
                cx.error(
                    "dns-bad-record",
                    &rec.value.span(),
                    format!("{:?} record {name}: {e}", rec.rtype.get_ref()),
                    "correct the value",
                );
                continue;
            }
        };
        if *rec.rtype.get_ref() == RecordType::Cname && name == zone {
            cx.error(
                "dns-bad-record",
                &span,
                "a CNAME cannot be at the zone apex (RFC 1034 §3.6.2: it would hide SOA and NS)",
                "use A/AAAA records or a bound name at the apex",
            );
            continue;
        }
        records.push(StaticRecord {
            name,
            rtype: *rec.rtype.get_ref(),
            value,
            ttl: rec.ttl.unwrap_or(ttl),
        });
    }

    let mut names: Vec<BoundName> = Vec::new();
    for b in &r.name {
        let span = b.span();
        let b = b.get_ref();
        let name = match owner(&zone, b.name.get_ref()) {
            Ok(n) => n,
            Err(e) => {
                cx.error(
                    "dns-bad-name",
                    &b.name.span(),
                    e,
                    "write a name inside the zone",
                );
                continue;
            }
        };
        let answer = match (b.answer.get_ref(), &b.site) {
            (RawAnswer::Site, Some(s)) => {
                match dsites.iter().find(|d| d.id.as_str() == s.get_ref()) {
                    Some(d) => Answer::Site(d.id.clone()),
                    None => {
                        cx.error(
                            "unknown-site",
                            &s.span(),
                            format!("there is no site {:?}", s.get_ref()),
                            "use a site name from [site.NAME]",
                        );
                        continue;
                    }
                }
            }
            (RawAnswer::Site, None) => {
                cx.error(
                    "dns-bad-name",
                    &span,
                    "answer = \"site\" needs site = \"NAME\"",
                    "add site = \"NAME\"",
                );
                continue;
            }
            (other, Some(s)) => {
                cx.error(
                    "dns-bad-name",
                    &s.span(),
                    format!("site has no meaning with answer = \"{other:?}\""),
                    "remove site, or use answer = \"site\"",
                );
                continue;
            }
            (RawAnswer::Anycast, None) => Answer::Anycast,
            (RawAnswer::Best, None) => Answer::Best,
        };
        if names.iter().any(|n| n.name == name) || records.iter().any(|x| x.name == name) {
            cx.error(
                "dns-duplicate-name",
                &b.name.span(),
                format!("{name} is already defined (a bound name owns all of its A and AAAA data)"),
                "remove one of them",
            );
            continue;
        }
        if answer == Answer::Anycast && anycast.is_empty() {
            cx.error(
                "dns-no-address",
                &span,
                format!("{name} answers the anycast address, but there is none"),
                "add an anycast [[prefix]] or anycast = [\"...\"] to [dns]",
            );
        }
        let ttl = b.ttl.unwrap_or(match answer {
            Answer::Anycast => ttl,
            _ => geo_ttl,
        });
        names.push(BoundName { name, answer, ttl });
    }
    let best_used = names.iter().any(|n| n.answer == Answer::Best);
    for s in &dsites {
        if best_used && s.v6.is_none() && s.v4.is_none() {
            cx.push(
                Severity::Warning,
                "dns-site-no-address",
                &raw_span,
                format!(
                    "site {} has no unicast address, so best answers never name it",
                    s.id
                ),
                format!(
                    "add a unicast [[prefix]] for {}, or [dns.site.{}] v6 = \"...\"",
                    s.id, s.id
                ),
            );
        }
    }
    let cname_conflict: Vec<String> = records
        .iter()
        .filter(|r| r.rtype == RecordType::Cname)
        .filter(|c| records.iter().filter(|o| o.name == c.name).count() > 1)
        .map(|c| c.name.clone())
        .collect();
    for n in cname_conflict {
        cx.error(
            "dns-bad-record",
            &raw_span,
            format!("{n} has a CNAME and other data (RFC 1034 §3.6.2)"),
            "keep only the CNAME, or only the other records",
        );
    }

    let health = {
        let h = r.health.as_ref().map(|h| h.get_ref());
        let dur = |cx: &mut Ctx<'_>, s: Option<&Spanned<String>>, d: Duration| match s {
            None => d,
            Some(s) => match crate::parse_duration(s.get_ref()) {
                Some(v) if !v.is_zero() => v,
                _ => {
                    cx.error(
                        "bad-duration",
                        &s.span(),
                        format!("{:?} is not a duration", s.get_ref()),
                        "write e.g. \"1s\"",
                    );
                    d
                }
            },
        };
        let count = |cx: &mut Ctx<'_>, v: Option<&Spanned<u32>>, d: u32| match v {
            Some(n) if *n.get_ref() == 0 => {
                cx.error(
                    "bad-check",
                    &n.span(),
                    "0 never changes state",
                    "use 1 or more",
                );
                d
            }
            Some(n) => *n.get_ref(),
            None => d,
        };
        DnsHealth {
            path: h
                .and_then(|h| h.path.clone())
                .unwrap_or_else(|| DEFAULT_HEALTH_PATH.into()),
            port: h.and_then(|h| h.port).unwrap_or(DEFAULT_HEALTH_PORT),
            interval: dur(
                cx,
                h.and_then(|h| h.interval.as_ref()),
                DEFAULT_HEALTH_INTERVAL,
            ),
            timeout: dur(
                cx,
                h.and_then(|h| h.timeout.as_ref()),
                DEFAULT_HEALTH_TIMEOUT,
            ),
            rise: count(cx, h.and_then(|h| h.rise.as_ref()), DEFAULT_HEALTH_RISE),
            fall: count(cx, h.and_then(|h| h.fall.as_ref()), DEFAULT_HEALTH_FALL),
        }
    };
    let rrl = r.rrl.as_ref().and_then(|v| {
        if *v.get_ref() == 0 {
            cx.error(
                "dns-bad-rrl",
                &v.span(),
                "rrl = 0 would answer nobody",
                "remove rrl, or use e.g. 200",
            );
            None
        } else {
            Some(*v.get_ref())
        }
    });
    Some(Dns {
        zone,
        ns,
        hostmaster,
        serial: r.serial.unwrap_or(1),
        negative_ttl: r.negative_ttl.unwrap_or(DEFAULT_NEGATIVE_TTL),
        ttl,
        geo_ttl,
        listen,
        anycast,
        map: r.map.as_ref().map(|p| base.join(p.get_ref())),
        geoip: r.geoip.as_ref().map(|p| base.join(p.get_ref())),
        rrl,
        identity: r.identity.clone(),
        health,
        sites: dsites,
        records,
        names,
        location: cx.loc(&raw_span),
    })
}

#[cfg(test)]
#[path = "dns_tests.rs"]
mod tests;
