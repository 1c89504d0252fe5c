//! The lab's route collector, as RIPE RIS and RouteViews run them: one BIRD in its own
//! namespace with an eBGP session from every carrier router, which exports its full view to it
//! (every best route, like a full-feed RIS peer) and imports nothing from it. The collector
//! announces nothing and installs nothing in its kernel table.
//!
//! It writes MRT (RFC 6396) into the lab's state directory: every BGP message it receives as
//! BGP4MP (BIRD's `mrtdump { messages }`, one file for the lab's life) and, on demand
//! ([`collect`], `birdc mrt dump table`), a TABLE_DUMP_V2 RIB dump of everything it holds, every
//! peer's route for every prefix, as RIS `bview` files are. `tern observe` reads both.
//!
//! Paths on the lab's wire carry lab ASes (private ones); [`as_map`] lists what each stands
//! for (Cogent's routers are AS65001 in the lab, standing for AS174), and `tern observe
//! --as-map` reads that list, so verdicts speak of the real ASes the intents name.
//! Sessions are IPv6 only: IPv4 prefixes are not collected.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::birdconf::ident;
use crate::daemon;
use crate::error::LabError;
use crate::state::LabState;
use crate::topology::{LinkKind, NodeKind, Topology};

pub use crate::topology::{COLLECTOR_ASN as ASN, COLLECTOR_NODE as NODE};
/// The BGP4MP file in the MRT directory.
pub const UPDATES: &str = "updates.mrt";
/// The AS map file `collect` writes beside the dumps.
pub const AS_MAP: &str = "as-map.txt";

/// Where the collector writes: `<state dir>/mrt`.
pub fn mrt_dir(st: &LabState) -> PathBuf {
    st.dir.join("mrt")
}

/// One session of the collector: the carrier router's end and ours.
struct Session {
    peer: String,
    peer_as: u32,
    peer_addr: Ipv6Addr,
    local: Ipv6Addr,
}

fn sessions(topo: &Topology, i: usize) -> Vec<Session> {
    topo.links_of(i)
        .into_iter()
        .filter(|(l, ..)| l.kind == LinkKind::Monitor)
        .map(|(l, _, local, peer)| Session {
            peer: topo.nodes[peer].name.clone(),
            peer_as: topo.nodes[peer].asn.unwrap_or(0),
            peer_addr: if l.a == i { l.b_addr } else { l.a_addr },
            local,
        })
        .collect()
}

/// The collector's BIRD config: sessions that import everything and export nothing, no
/// kernel protocol, every received message to `dir/updates.mrt`.
pub fn config(topo: &Topology, i: usize, log: &Path, dir: &Path) -> String {
    let n = &topo.nodes[i];
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# tern lab: route collector (AS{ASN}); it announces nothing.\n"
    );
    let _ = writeln!(o, "log \"{}\" all;", log.display());
    let _ = writeln!(o, "router id {};", n.router_id);
    let _ = writeln!(o, "mrtdump \"{}\";\n", dir.join(UPDATES).display());
    let _ = writeln!(o, "protocol device {{\n  scan time 10;\n}}\n");
    for s in sessions(topo, i) {
        let _ = writeln!(o, "protocol bgp n_{} {{", ident(&s.peer));
        let _ = writeln!(o, "  description \"{} (monitored)\";", s.peer);
        let _ = writeln!(o, "  local {} as {ASN};", s.local);
        let _ = writeln!(o, "  neighbor {} as {};", s.peer_addr, s.peer_as);
        let _ = writeln!(o, "  direct;");
        let _ = writeln!(
            o,
            "  connect delay time 1;\n  connect retry time 2;\n  error wait time 1, 4;"
        );
        let _ = writeln!(o, "  mrtdump {{ messages }};");
        let _ = writeln!(
            o,
            "  ipv6 {{\n    import all;\n    export none;\n  }};\n}}\n"
        );
    }
    o
}

/// What each lab AS stands for (only those standing for another AS), one line each:
/// `LAB_AS REAL_AS # routers`, the format `tern observe --as-map` reads.
pub fn as_map(topo: &Topology) -> String {
    let mut m: BTreeMap<u32, (u32, Vec<&str>)> = BTreeMap::new();
    for n in &topo.nodes {
        if let (Some(a), Some(r)) = (n.asn, n.represents) {
            if a != r {
                let e = m.entry(a).or_insert((r, Vec::new()));
                e.1.push(&n.name);
            }
        }
    }
    let mut o = String::from("# lab AS, the AS it stands for (tern lab collect)\n");
    for (a, (r, names)) in m {
        let _ = writeln!(o, "{a} {r} # {}", names.join(", "));
    }
    o
}

/// One BGP session of the collector.
#[derive(Clone, Debug, Serialize)]
pub struct CollectorSession {
    /// BIRD protocol name (`n_<carrier router>`).
    pub name: String,
    /// Established?
    pub established: bool,
}

/// What [`collect`] wrote.
#[derive(Clone, Debug, Serialize)]
pub struct Collected {
    /// The TABLE_DUMP_V2 RIB dump taken now.
    pub rib: PathBuf,
    /// The BGP4MP messages received since `up` (a copy when written elsewhere than the
    /// state directory).
    pub updates: Option<PathBuf>,
    /// Lab AS → the AS it stands for.
    pub as_map: PathBuf,
    /// Sessions of the collector.
    pub sessions: Vec<CollectorSession>,
    /// Routes the collector holds.
    pub routes: usize,
    /// Seconds waited for the collector's view to stop changing.
    pub settled_s: f64,
}

/// Dumps the collector's RIB now into `out` (default [`mrt_dir`]) as `rib.<unix time>.mrt`,
/// after its view has been unchanged for `settle` (at most `timeout`), with the AS map and
/// the BGP4MP file beside it.
pub fn collect(
    st: &LabState,
    out: Option<&Path>,
    settle: Duration,
    timeout: Duration,
) -> Result<Collected, LabError> {
    let topo = st.topo()?;
    if !topo.of_kind(NodeKind::Collector).any(|_| true) {
        return Err(LabError::NotFound(
            "this lab has no route collector (it was brought up by an older tern)".into(),
        ));
    }
    let t = Instant::now();
    let view = || {
        daemon::birdc(st, NODE, &["show", "route", "all"]).map(|s| {
            // Route ages change every second; compare the routes, not the times.
            s.lines()
                .filter(|l| !l.starts_with("BIRD"))
                .map(|l| l.split(" [").next().unwrap_or(l).to_owned())
                .collect::<Vec<_>>()
        })
    };
    let mut last = view()?;
    let mut since = Instant::now();
    while since.elapsed() < settle && t.elapsed() < timeout {
        std::thread::sleep(Duration::from_millis(200));
        let now = view()?;
        if now != last {
            last = now;
            since = Instant::now();
        }
    }
    let settled_s = t.elapsed().as_secs_f64();
    let own = mrt_dir(st);
    let dir = out.map_or(own.clone(), Path::to_path_buf);
    std::fs::create_dir_all(&dir).map_err(|e| LabError::Io {
        path: dir.clone(),
        source: e,
    })?;
    let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut rib = dir.join(format!("rib.{stamp}.mrt"));
    let mut k = 1;
    while rib.exists() {
        rib = dir.join(format!("rib.{stamp}-{k}.mrt"));
        k += 1;
    }
    let arg = format!("\"{}\"", rib.display());
    let reply = daemon::birdc(st, NODE, &["mrt", "dump", "table", "master6", "to", &arg])?;
    // birdc returns once the dump is written; give a slow disk a moment.
    let t2 = Instant::now();
    while !rib.exists() && t2.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    if !rib.exists() {
        return Err(LabError::Design(format!(
            "the collector wrote no {} (birdc said: {})",
            rib.display(),
            reply.trim()
        )));
    }
    let own_updates = own.join(UPDATES);
    let updates = if !own_updates.exists() {
        None
    } else if dir == std::fs::canonicalize(&own).unwrap_or(own.clone()) {
        Some(own_updates)
    } else {
        let to = dir.join(UPDATES);
        std::fs::copy(&own_updates, &to).map_err(|e| LabError::Io {
            path: to.clone(),
            source: e,
        })?;
        Some(to)
    };
    let as_map_path = dir.join(AS_MAP);
    std::fs::write(&as_map_path, as_map(topo)).map_err(|e| LabError::Io {
        path: as_map_path.clone(),
        source: e,
    })?;
    let sessions = daemon::protocols(st, NODE)?
        .into_iter()
        .filter(|p| p.proto == "BGP")
        .map(|p| CollectorSession {
            established: p.info.starts_with("Established"),
            name: p.name,
        })
        .collect();
    let routes = last
        .iter()
        .filter(|l| l.contains(" via ") || l.contains("unicast"))
        .count();
    Ok(Collected {
        rib,
        updates,
        as_map: as_map_path,
        sessions,
        routes,
        settled_s,
    })
}
