//! `tern run` at lab sites (the default site speaker, [`crate::speaker::SpeakerKind::TernRun`]):
//! the per-site tern.toml adapted to the lab, and the processes around it.
//!
//! [`site_toml`] is pure text work on the operator's tern.toml (a `toml::Table`, so intents,
//! communities and prepends are kept exactly as written):
//!
//! - every upstream of the site that the lab built points at its provider router over the direct
//!   link: `neighbor`/`source` are the link addresses and `remote_as` the router's lab AS (what
//!   [`crate::birdconf::site_network`] computes); `gateway`, `interface` and the real key are
//!   dropped; with a lab key, `password_file` names it (TCP-MD5, RFC 2385, as on Vultr: the
//!   provider routers set the same key);
//! - `[site.NAME.edge]`: control socket and drain file in the lab's state directory, the "which
//!   site" DNS (port 53) and HTTP (port 80) responders on the site's service addresses, so
//!   `dig CH TXT id.server` and `/cdn-cgi/trace` are answered by `tern run` itself;
//! - `[[service]]` is replaced by one service, `lab-service`, gating the site's anycast and
//!   regional prefixes on an HTTP check of the small service the lab runs in the site's
//!   namespace ([`SERVICE_ADDR`]): every 1 s, timeout 500 ms, rise 2, fall 2. `tern lab fail`
//!   stops that service, so the failure goes through the real health check;
//! - `[dns]`: the GeoDNS zone, served by `tern run` on the anycast address
//!   ([`crate::geodns::dns_table`]);
//! - `[lab]` is left out (the daemon has no use for it).

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use tern_model::{Network, Role};
use toml::{Table, Value};

use crate::error::LabError;
use crate::topology::Topology;

/// Where each site's small service listens, inside the site's namespace.
pub const SERVICE_ADDR: &str = "127.0.0.1";
/// Its HTTP port (its DNS port is [`SERVICE_DNS_PORT`]; neither clashes with `tern run`'s).
pub const SERVICE_PORT: u16 = 8080;
/// DNS port of the small service.
pub const SERVICE_DNS_PORT: u16 = 8053;
/// Name of the lab's service in the per-site tern.toml.
pub const SERVICE_NAME: &str = "lab-service";
/// Health check timing: interval.
pub const CHECK_INTERVAL: &str = "1s";
/// Health check timing: timeout.
pub const CHECK_TIMEOUT: &str = "500ms";
/// Consecutive successes before the site announces.
pub const CHECK_RISE: i64 = 2;
/// Consecutive failures before the site withdraws.
pub const CHECK_FALL: i64 = 2;
/// The service's flap-damping hold-down after the first flap (`hold_down`, tern-health's
/// default, doubling per flap to 600 s), written out so the demo's heal time follows the file.
pub const HOLD_DOWN: std::time::Duration = std::time::Duration::from_secs(10);

/// Files of one site's `tern run`.
#[derive(Clone, Debug)]
pub struct SiteFiles {
    /// The per-site tern.toml.
    pub config: PathBuf,
    /// `tern ctl` socket.
    pub ctl_socket: PathBuf,
    /// Drain file.
    pub drain_file: PathBuf,
    /// TCP-MD5 key file (shared by the site's sessions).
    pub md5_file: PathBuf,
    /// Log of `tern run`.
    pub log: PathBuf,
    /// Log of the small service.
    pub service_log: PathBuf,
    /// The GeoDNS geolocation CSV ([`crate::geodns::geo_csv`]).
    pub geo_csv: PathBuf,
}

impl SiteFiles {
    /// The files of `site` under the lab directory `dir` (`<dir>/sites/<site>/`).
    pub fn new(dir: &Path, site: &str) -> SiteFiles {
        let d = dir.join("sites").join(site);
        SiteFiles {
            config: d.join("tern.toml"),
            ctl_socket: d.join("ctl.sock"),
            drain_file: d.join("drain"),
            md5_file: d.join("bgp.key"),
            log: d.join("tern-run.log"),
            service_log: d.join("service.log"),
            geo_csv: d.join("geo.csv"),
        }
    }
}

/// The URL the site's health check asks.
pub fn service_url() -> String {
    format!("http://{SERVICE_ADDR}:{SERVICE_PORT}/cdn-cgi/trace")
}

fn bad(site: &str, what: impl std::fmt::Display) -> LabError {
    LabError::Design(format!("the tern.toml of lab site {site}: {what}"))
}

/// The tern.toml `tern run --site SITE` runs in the lab. `src` is the operator's tern.toml,
/// `net` its network, `lab_net` the same through [`crate::birdconf::site_network`]; `md5`
/// makes every session use the key in `files.md5_file`.
pub fn site_toml(
    src: &str,
    net: &Network,
    lab_net: &Network,
    topo: &Topology,
    site: &str,
    files: &SiteFiles,
    md5: bool,
) -> Result<String, LabError> {
    let mut doc: Table = src.parse().map_err(|e| bad(site, e))?;
    let orig = net
        .sites
        .iter()
        .find(|s| s.id.as_str() == site)
        .ok_or_else(|| bad(site, "no such site"))?;
    let lab = lab_net
        .sites
        .iter()
        .find(|s| s.id.as_str() == site)
        .ok_or_else(|| bad(site, "no such site in the lab"))?;
    let ls = topo
        .site(site)
        .ok_or_else(|| bad(site, "no such site in the lab's design"))?;
    let node = &topo.nodes[ls.node];
    doc.remove("lab");
    let st = doc
        .get_mut("site")
        .and_then(Value::as_table_mut)
        .and_then(|t| t.get_mut(site))
        .and_then(Value::as_table_mut)
        .ok_or_else(|| bad(site, "no [site.NAME] table"))?;
    // Upstreams: raw entries and resolved ones are in the same order.
    let raw = match st.remove("upstream") {
        Some(Value::Array(a)) => a,
        Some(_) => return Err(bad(site, "upstream is not an array of tables")),
        None => Vec::new(),
    };
    if raw.len() != orig.upstreams.len() {
        return Err(bad(site, "upstreams do not match the validated model"));
    }
    let mut ups = Vec::new();
    for (r, u) in raw.into_iter().zip(&orig.upstreams) {
        let Some(lu) = lab.upstreams.iter().find(|l| l.name == u.name) else {
            continue; // left out of the lab (e.g. IPv4 in a big lab)
        };
        let Value::Table(mut t) = r else {
            return Err(bad(site, format!("upstream {} is not a table", u.name)));
        };
        for k in [
            "gateway",
            "interface",
            "password_env",
            "password_file",
            "multihop",
        ] {
            t.remove(k);
        }
        t.insert("name".into(), Value::String(lu.name.clone()));
        t.insert("neighbor".into(), Value::String(lu.neighbor.to_string()));
        if let Some(s) = lu.source {
            t.insert("source".into(), Value::String(s.to_string()));
        }
        t.insert(
            "remote_as".into(),
            Value::Integer(i64::from(lu.remote_as.0)),
        );
        if md5 {
            t.insert(
                "password_file".into(),
                Value::String(files.md5_file.display().to_string()),
            );
        }
        ups.push(Value::Table(t));
    }
    st.insert("upstream".into(), Value::Array(ups));
    // The which-site responders on the service addresses.
    let addrs: Vec<IpAddr> = node
        .addrs
        .iter()
        .map(|a| IpAddr::from(*a))
        .chain(node.addrs4.iter().map(|a| IpAddr::from(*a)))
        .collect();
    let listen = |port: u16| {
        Value::Array(
            addrs
                .iter()
                .map(|a| Value::String(SocketAddr::new(*a, port).to_string()))
                .collect(),
        )
    };
    let mut edge = Table::new();
    edge.insert(
        "ctl_socket".into(),
        Value::String(files.ctl_socket.display().to_string()),
    );
    edge.insert(
        "drain_file".into(),
        Value::String(files.drain_file.display().to_string()),
    );
    edge.insert("dns_listen".into(), listen(53));
    edge.insert("http_listen".into(), listen(80));
    st.insert("edge".into(), Value::Table(edge));
    // One service: the lab's, gating the shared prefixes (unicast ones stay announced).
    let gated: Vec<Value> = orig
        .announces
        .iter()
        .filter(|p| {
            net.prefixes
                .iter()
                .any(|pp| pp.prefix == **p && !matches!(pp.role, Role::Unicast(_)))
        })
        .map(|p| Value::String(p.to_string()))
        .collect();
    doc.remove("service");
    if !gated.is_empty() {
        let mut check = Table::new();
        check.insert("kind".into(), Value::String("http".into()));
        check.insert("target".into(), Value::String(service_url()));
        check.insert("interval".into(), Value::String(CHECK_INTERVAL.into()));
        check.insert("timeout".into(), Value::String(CHECK_TIMEOUT.into()));
        check.insert("rise".into(), Value::Integer(CHECK_RISE));
        check.insert("fall".into(), Value::Integer(CHECK_FALL));
        let mut svc = Table::new();
        svc.insert("name".into(), Value::String(SERVICE_NAME.into()));
        svc.insert("prefixes".into(), Value::Array(gated));
        svc.insert("check".into(), Value::Array(vec![Value::Table(check)]));
        svc.insert(
            "hold_down".into(),
            Value::String(format!("{}s", HOLD_DOWN.as_secs())),
        );
        doc.insert("service".into(), Value::Array(vec![Value::Table(svc)]));
    }
    let own_dns = match doc.remove("dns") {
        Some(Value::Table(t)) => Some(t),
        _ => None,
    };
    doc.insert(
        "dns".into(),
        Value::Table(crate::geodns::dns_table(
            own_dns,
            &files.geo_csv.display().to_string(),
        )),
    );
    let body = toml::to_string(&doc).map_err(|e| bad(site, e))?;
    Ok(format!(
        "# tern lab: site {site} as `tern run` runs it inside the lab (written by tern lab; the\n\
         # upstreams point at the lab's provider routers, [[service]] is the lab's).\n\n{body}"
    ))
}

/// What of a per-site tern.toml concerns `site` itself: the file without the other sites'
/// tables. `apply` reloads a site only when this changed.
pub fn own_part(text: &str, site: &str) -> Option<String> {
    let mut doc: Table = text.parse().ok()?;
    if let Some(sites) = doc.get_mut("site").and_then(Value::as_table_mut) {
        sites.retain(|k, _| k == site);
    }
    toml::to_string(&doc).ok()
}
