//! GeoDNS in the lab (issue 13 §6): every site's `tern run` serves the zone on the anycast
//! address, and the probes ask it with real `dig` inside their namespaces.
//!
//! [`dns_table`] is the `[dns]` of a per-site tern.toml: the operator's own section if the
//! tern.toml has one (its `map` and `listen` are dropped: the map path is relative to the
//! operator's file and `tern run` listens where `[site.NAME.edge] dns_listen` says), else a lab
//! zone [`LAB_ZONE`] with `www` bound to `best`. Either way `geoip` names a CSV the lab writes
//! ([`geo_csv`]): every probe address at its modelled place, so "best" is the nearest healthy
//! site by great-circle distance, which in the lab is also the lowest modelled delay (link
//! delays follow distance, docs/lab.md). Health: each site's trace on its unicast `::1`
//! (port 80, served by `tern run`), every [`HEALTH_INTERVAL`], fall [`HEALTH_FALL`].
//!
//! [`answers`] asks `NAME AAAA` of the anycast address from every probe and names the site
//! whose unicast address came back.

use std::net::{IpAddr, Ipv6Addr};

use serde::Serialize;
use toml::{Table, Value};

use crate::error::LabError;
use crate::netns;
use crate::state::LabState;
use crate::topology::{NodeKind, Topology};

/// Zone of the lab's GeoDNS when the operator's tern.toml has no `[dns]` (RFC 2606 `.example`).
pub const LAB_ZONE: &str = "lab.example";
/// The name bound to `best` in [`LAB_ZONE`].
pub const LAB_NAME: &str = "www";
/// GeoDNS health check interval of the lab.
pub const HEALTH_INTERVAL: &str = "500ms";
/// Its timeout.
pub const HEALTH_TIMEOUT: &str = "400ms";
/// Its fall.
pub const HEALTH_FALL: i64 = 2;
/// Its rise.
pub const HEALTH_RISE: i64 = 1;

/// The `[dns]` table of a per-site tern.toml; `existing` is the operator's, `geo` the path of
/// the CSV from [`geo_csv`].
pub fn dns_table(existing: Option<Table>, geo: &str) -> Table {
    let mut t = existing.unwrap_or_else(|| {
        let mut t = Table::new();
        t.insert("zone".into(), Value::String(LAB_ZONE.into()));
        t.insert(
            "ns".into(),
            Value::Array(vec![Value::String(format!("ns1.{LAB_ZONE}"))]),
        );
        let mut name = Table::new();
        name.insert("name".into(), Value::String(LAB_NAME.into()));
        name.insert("answer".into(), Value::String("best".into()));
        t.insert("name".into(), Value::Array(vec![Value::Table(name)]));
        t
    });
    t.remove("map");
    t.remove("listen");
    t.insert("geoip".into(), Value::String(geo.into()));
    let mut h = Table::new();
    h.insert("interval".into(), Value::String(HEALTH_INTERVAL.into()));
    h.insert("timeout".into(), Value::String(HEALTH_TIMEOUT.into()));
    h.insert("rise".into(), Value::Integer(HEALTH_RISE));
    h.insert("fall".into(), Value::Integer(HEALTH_FALL));
    t.insert("health".into(), Value::Table(h));
    t
}

/// The zone a per-site `[dns]` serves (the operator's or [`LAB_ZONE`]).
pub fn zone_of(src: &str) -> String {
    src.parse::<Table>()
        .ok()
        .and_then(|t| {
            t.get("dns")?
                .get("zone")?
                .as_str()
                .map(|z| z.trim_end_matches('.').to_owned())
        })
        .unwrap_or_else(|| LAB_ZONE.to_owned())
}

/// The geolocation CSV (`first,last,lat,lon`): each probe address at its node's place.
pub fn geo_csv(topo: &Topology) -> String {
    let mut out = String::from("# tern lab: probe addresses at their modelled places\n");
    for i in topo.of_kind(NodeKind::Probe) {
        let n = &topo.nodes[i];
        let addrs = n
            .addrs
            .iter()
            .map(|a| IpAddr::from(*a))
            .chain(n.addrs4.iter().map(|a| IpAddr::from(*a)));
        for a in addrs {
            out.push_str(&format!("{a},{a},{},{}\n", n.place.lat, n.place.lon));
        }
    }
    out
}

/// One probe's answer.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Answer {
    /// Probe node.
    pub probe: String,
    /// Its region.
    pub region: String,
    /// Its address.
    pub addr: Ipv6Addr,
    /// The addresses answered (AAAA).
    pub answer: Vec<Ipv6Addr>,
    /// The site whose service address came back (`anycast` for the anycast address).
    pub site: Option<String>,
    /// `dig`'s failure, if any.
    pub error: Option<String>,
}

/// `dig NAME AAAA @anycast` from every probe, in parallel.
pub fn answers(st: &LabState, name: &str) -> Result<Vec<Answer>, LabError> {
    let topo = st.topo()?;
    let probes: Vec<usize> = topo.of_kind(NodeKind::Probe).collect();
    let server = format!("@{}", topo.target);
    let out = std::thread::scope(|s| {
        let hs: Vec<_> = probes
            .iter()
            .map(|&i| {
                let server = server.clone();
                s.spawn(move || {
                    let n = &topo.nodes[i];
                    let ns = st.ns(&n.name);
                    let r = netns::output(
                        "ip",
                        &[
                            "netns", "exec", &ns, "dig", "+short", "+time=1", "+tries=1", &server,
                            name, "AAAA",
                        ],
                    );
                    let (answer, error) = match r {
                        Ok(o) if o.status.success() => (
                            String::from_utf8_lossy(&o.stdout)
                                .lines()
                                .filter_map(|l| l.trim().parse::<Ipv6Addr>().ok())
                                .collect::<Vec<_>>(),
                            None,
                        ),
                        Ok(o) => (
                            Vec::new(),
                            Some(String::from_utf8_lossy(&o.stdout).trim().to_owned()),
                        ),
                        Err(e) => (Vec::new(), Some(e.to_string())),
                    };
                    let site = answer.first().and_then(|a| site_of(topo, *a));
                    Answer {
                        probe: n.name.clone(),
                        region: n.region.to_string(),
                        addr: n.addrs.first().copied().unwrap_or(Ipv6Addr::UNSPECIFIED),
                        answer,
                        site,
                        error,
                    }
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| h.join())
            .collect::<Result<Vec<_>, _>>()
    });
    out.map_err(|_| LabError::Design("a probe thread panicked".into()))
}

/// The site an answered address belongs to: `anycast` for the target, else the site node
/// holding it as a service address.
pub fn site_of(topo: &Topology, a: Ipv6Addr) -> Option<String> {
    if a == topo.target {
        return Some("anycast".into());
    }
    topo.nodes
        .iter()
        .find(|n| n.kind == NodeKind::Site && n.addrs.contains(&a))
        .and_then(|n| n.site.as_ref().map(ToString::to_string))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn lab_zone_without_operator_dns() {
        let t = dns_table(None, "/x/geo.csv");
        assert_eq!(t["zone"].as_str(), Some(LAB_ZONE));
        assert_eq!(t["geoip"].as_str(), Some("/x/geo.csv"));
        assert_eq!(t["health"]["fall"].as_integer(), Some(HEALTH_FALL));
        let mut own: Table = "zone = \"example.net\"\nns = [\"a.example.net\"]\nmap = \"m.json\"\n"
            .parse()
            .unwrap();
        own = dns_table(Some(own), "g.csv");
        assert_eq!(own["zone"].as_str(), Some("example.net"));
        assert!(own.get("map").is_none());
        assert_eq!(zone_of("[dns]\nzone = \"example.net.\"\n"), "example.net");
        assert_eq!(zone_of("[network]\n"), LAB_ZONE);
    }
}
