//! Measurements from every client probe namespace towards the anycast target: ping and
//! traceroute (`ping`/`traceroute` run inside the namespace with `ip netns exec`), the DNS
//! CHAOS `id.server` answer (the lab's own query, `tern lab dns-query`, so that the raw answer
//! is kept for RIPE Atlas `abuf`) and the HTTP trace (`curl …/cdn-cgi/trace`).
//!
//! The site a probe reached is read from the DNS answer, else the HTTP trace, else the
//! traceroute (the hop before the target belongs to a site's provider router).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tern_model::policy::Region;
use tern_types::SiteId;

use crate::error::LabError;
use crate::netns;
use crate::state::LabState;
use crate::topology::{NodeKind, Topology};

/// First RIPE-Atlas-like probe id of the lab (ids count up in topology order).
pub const FIRST_PROBE_ID: u32 = 1001;

/// What to measure.
#[derive(Clone, Debug)]
pub struct Options {
    /// The `tern` executable (for `tern lab dns-query` inside probe namespaces).
    pub exe: PathBuf,
    /// Echo requests per probe.
    pub pings: u32,
    /// Run traceroute.
    pub traceroute: bool,
    /// Fetch the HTTP trace.
    pub http: bool,
}

/// A ping as seen by one probe.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Ping {
    /// Requests sent.
    pub sent: u32,
    /// Per request: RTT in ms, or `None` (timeout).
    pub rtts: Vec<Option<f64>>,
}

impl ProbeResult {
    /// The site the IPv4 DNS answer names.
    pub fn site4(&self) -> Option<&str> {
        self.dns4.as_ref()?.txt.first().map(String::as_str)
    }
}

impl Ping {
    /// Smallest RTT.
    pub fn min(&self) -> Option<f64> {
        self.rtts.iter().flatten().copied().reduce(f64::min)
    }
}

/// One traceroute hop (one packet per hop).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Hop {
    /// Hop number (TTL).
    pub hop: u8,
    /// Who answered.
    pub from: Option<Ipv6Addr>,
    /// RTT, ms.
    pub rtt: Option<f64>,
    /// RTT the lab's link delays give up to this hop, ms.
    #[serde(default)]
    pub model_rtt: Option<f64>,
}

/// The DNS CHAOS exchange of one probe.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Dns {
    /// Round trip, ms.
    pub rt: Option<f64>,
    /// Raw answer, hex.
    pub abuf: Option<String>,
    /// TXT strings.
    pub txt: Vec<String>,
    /// RCODE.
    pub rcode: Option<u8>,
    /// Unix time (s) the query was sent.
    pub sent: Option<f64>,
    /// Why there is no answer.
    pub error: Option<String>,
}

/// Everything one probe measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProbeResult {
    /// Probe node name (`probe-eu-1`).
    pub probe: String,
    /// Probe id in the Atlas output.
    pub prb_id: u32,
    /// Region.
    pub region: Region,
    /// City.
    pub city: String,
    /// Country code.
    pub country: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// AS of the probe's eyeball network.
    pub asn: u32,
    /// The probe's address.
    pub addr: Ipv6Addr,
    /// Unix seconds at start.
    pub timestamp: u64,
    /// The site reached (DNS, else HTTP, else traceroute).
    pub site: Option<SiteId>,
    /// Site named by the DNS answer.
    pub dns_site: Option<SiteId>,
    /// Site named by the HTTP trace.
    pub http_site: Option<SiteId>,
    /// Site the traceroute went through.
    pub trace_site: Option<SiteId>,
    /// Ping.
    pub ping: Ping,
    /// Traceroute hops.
    pub hops: Vec<Hop>,
    /// RTT the lab's link delays give along the traceroute path (what netem would add), ms.
    pub model_rtt: Option<f64>,
    /// Unix seconds when the traceroute ended.
    pub trace_end: u64,
    /// DNS.
    pub dns: Dns,
    /// HTTP trace body.
    pub http: Option<String>,
    /// HTTP status and total time (ms) as curl saw them.
    pub http_status: Option<(u16, f64)>,
    /// The probe's IPv4 address (when the lab has IPv4).
    pub addr4: Option<Ipv4Addr>,
    /// Ping of the IPv4 anycast address.
    pub ping4: Option<Ping>,
    /// DNS CHAOS over IPv4.
    pub dns4: Option<Dns>,
}

/// One run of `tern lab measure`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Measurement {
    /// The lab.
    pub tag: String,
    /// Target.
    pub target: Ipv6Addr,
    /// IPv4 target.
    pub target4: Option<Ipv4Addr>,
    /// Unix seconds at start.
    pub timestamp: u64,
    /// Per probe, in topology order.
    pub results: Vec<ProbeResult>,
}

/// Per region: how many probes reached which site, and the median of their best RTTs.
#[derive(Clone, Debug, Serialize)]
pub struct RegionSummary {
    /// Region.
    pub region: Region,
    /// Probes.
    pub probes: usize,
    /// Site → probes (`-` for none).
    pub sites: BTreeMap<String, usize>,
    /// Median RTT, ms.
    pub median_rtt: Option<f64>,
    /// Median modelled RTT, ms.
    pub median_model_rtt: Option<f64>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Measures from every probe, in parallel.
pub fn measure(st: &LabState, opts: &Options) -> Result<Measurement, LabError> {
    let topo = st.topo()?;
    let probes: Vec<usize> = topo.of_kind(NodeKind::Probe).collect();
    let timestamp = now();
    let results = std::thread::scope(|s| {
        let hs: Vec<_> = probes
            .iter()
            .enumerate()
            .map(|(k, i)| s.spawn(move || one(st, topo, *i, k, opts)))
            .collect();
        hs.into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(LabError::Design("a probe thread panicked".into())))
            })
            .collect::<Result<Vec<_>, _>>()
    })?;
    Ok(Measurement {
        tag: st.tag.clone(),
        target: topo.target,
        target4: topo.target4,
        timestamp,
        results,
    })
}

fn one(
    st: &LabState,
    topo: &Topology,
    i: usize,
    k: usize,
    opts: &Options,
) -> Result<ProbeResult, LabError> {
    let n = &topo.nodes[i];
    let ns = st.ns(&n.name);
    let target = topo.target.to_string();
    let timestamp = now();
    let dns = dns_probe(&ns, &opts.exe, topo.target, Duration::from_secs(1));
    let dns_site = dns.txt.first().and_then(|t| t.parse::<SiteId>().ok());
    let ping6 = ping(&ns, &target, opts.pings)?;
    let addr4 = n.addrs4.first().copied();
    let (ping4, dns4) = match (topo.target4, addr4) {
        (Some(t4), Some(_)) => (
            Some(ping(&ns, &t4.to_string(), opts.pings)?),
            Some(dns_probe(&ns, &opts.exe, t4, Duration::from_secs(1))),
        ),
        _ => (None, None),
    };
    let (hops, trace_end) = if opts.traceroute {
        let out = netns::output(
            "ip",
            &[
                "netns",
                "exec",
                &ns,
                "traceroute",
                "-6",
                "-n",
                "-I",
                "-q",
                "1",
                "-w",
                "1",
                "-m",
                "16",
                &target,
            ],
        )?;
        (
            parse_traceroute(&String::from_utf8_lossy(&out.stdout)),
            now(),
        )
    } else {
        (Vec::new(), 0)
    };
    let trace_site = trace_site(topo, &hops);
    let mut hops = hops;
    let model_rtt = model_rtt(topo, i, &mut hops, trace_site.as_ref().map(SiteId::as_str));
    let (http, http_status) = if opts.http {
        let url = format!("http://[{target}]/cdn-cgi/trace");
        let out = netns::output(
            "ip",
            &[
                "netns",
                "exec",
                &ns,
                "curl",
                "-s",
                "-g",
                "-m",
                "2",
                "-w",
                "\n%{http_code} %{time_total}",
                &url,
            ],
        )
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
        match out.as_deref().and_then(|t| t.rsplit_once('\n')) {
            Some((body, tail)) => {
                let mut f = tail.split_whitespace();
                let code = f.next().and_then(|c| c.parse::<u16>().ok());
                let secs = f.next().and_then(|c| c.parse::<f64>().ok());
                (
                    Some(body.to_owned()),
                    code.zip(secs).map(|(c, t)| (c, t * 1000.0)),
                )
            }
            None => (None, None),
        }
    } else {
        (None, None)
    };
    let http_site = http.as_deref().and_then(|b| {
        b.lines().find_map(|l| {
            l.strip_prefix("site=")
                .and_then(|s| s.parse::<SiteId>().ok())
        })
    });
    Ok(ProbeResult {
        probe: n.name.clone(),
        prb_id: FIRST_PROBE_ID + k as u32,
        region: n.region,
        city: n.place.city.clone(),
        country: n.place.country.clone(),
        lat: n.place.lat,
        lon: n.place.lon,
        asn: eyeball_asn(topo, i),
        addr: n.addrs.first().copied().unwrap_or(Ipv6Addr::UNSPECIFIED),
        timestamp,
        site: dns_site
            .clone()
            .or_else(|| http_site.clone())
            .or_else(|| trace_site.clone()),
        dns_site,
        http_site,
        trace_site,
        ping: ping6,
        hops,
        model_rtt,
        trace_end,
        dns,
        http,
        http_status,
        addr4,
        ping4,
        dns4,
    })
}

/// Twice the one-way delay along probe → traceroute hops → site.
/// Also fills each hop's `model_rtt`.
fn model_rtt(topo: &Topology, probe: usize, hops: &mut [Hop], site: Option<&str>) -> Option<f64> {
    let rtt = |path: &[usize]| {
        let mut p = path.to_vec();
        p.dedup();
        topo.path_delay(&p).map(|d| (d * 2.0 * 10.0).round() / 10.0)
    };
    let site = site.and_then(|s| topo.site(s)).map(|s| s.node);
    let mut path = vec![probe];
    for h in hops.iter_mut() {
        let node = match h.from {
            Some(a) if a == topo.target => site,
            Some(a) => topo.owner(a),
            None => None,
        };
        path.push(node?);
        h.model_rtt = rtt(&path);
    }
    path.push(site?);
    rtt(&path)
}

/// `ping` inside the namespace (family from the address).
fn ping(ns: &str, target: &str, count: u32) -> Result<Ping, LabError> {
    if count == 0 {
        return Ok(Ping::default());
    }
    let c = count.to_string();
    let af = if target.contains(':') { "-6" } else { "-4" };
    let out = netns::output(
        "ip",
        &[
            "netns", "exec", ns, "ping", af, "-n", "-c", &c, "-i", "0.2", "-W", "1", target,
        ],
    )?;
    Ok(parse_ping(&String::from_utf8_lossy(&out.stdout), count))
}

/// The AS of the eyeball a probe hangs off.
fn eyeball_asn(topo: &Topology, probe: usize) -> u32 {
    topo.links_of(probe)
        .first()
        .and_then(|(_, _, _, peer)| topo.nodes[*peer].asn)
        .unwrap_or(0)
}

fn trace_site(topo: &Topology, hops: &[Hop]) -> Option<SiteId> {
    hops.iter()
        .rev()
        .filter_map(|h| h.from)
        .find_map(|a| topo.site_of_hop(a).cloned())
}

/// The DNS CHAOS probe: `tern lab dns-query` inside the probe's namespace.
fn dns_probe(ns: &str, exe: &Path, target: impl Into<IpAddr>, timeout: Duration) -> Dns {
    let target: IpAddr = target.into();
    let t = target.to_string();
    let ms = timeout.as_millis().to_string();
    let out = netns::command(ns, exe)
        .args(["lab", "dns-query", "--server", &t, "--timeout-ms", &ms])
        .stdin(std::process::Stdio::null())
        .output();
    match out {
        Ok(o) => serde_json::from_slice::<Dns>(&o.stdout).unwrap_or_else(|e| Dns {
            error: Some(format!(
                "unreadable dns-query output ({e}): {}",
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            ..Dns::default()
        }),
        Err(e) => Dns {
            error: Some(e.to_string()),
            ..Dns::default()
        },
    }
}

/// Unix time in seconds, as a float.
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Per-region summary.
pub fn summary(m: &Measurement) -> Vec<RegionSummary> {
    let mut by: Vec<RegionSummary> = Vec::new();
    for r in &m.results {
        let e = match by.iter().position(|s| s.region == r.region) {
            Some(p) => &mut by[p],
            None => {
                by.push(RegionSummary {
                    region: r.region,
                    probes: 0,
                    sites: BTreeMap::new(),
                    median_rtt: None,
                    median_model_rtt: None,
                });
                let last = by.len() - 1;
                &mut by[last]
            }
        };
        e.probes += 1;
        *e.sites
            .entry(
                r.site
                    .as_ref()
                    .map_or_else(|| "-".into(), |s| s.to_string()),
            )
            .or_default() += 1;
    }
    for s in &mut by {
        let of = |f: &dyn Fn(&ProbeResult) -> Option<f64>| {
            median(
                m.results
                    .iter()
                    .filter(|r| r.region == s.region)
                    .filter_map(f)
                    .collect(),
            )
        };
        s.median_rtt = of(&|r| r.ping.min());
        s.median_model_rtt = of(&|r| r.model_rtt);
    }
    by
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => None,
        n if n % 2 == 1 => Some(v[n / 2]),
        n => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// Reads iputils `ping` output: one RTT per `icmp_seq`.
pub fn parse_ping(out: &str, sent: u32) -> Ping {
    let mut rtts = vec![None; sent as usize];
    for l in out.lines() {
        let seq = l
            .split_whitespace()
            .find_map(|w| w.strip_prefix("icmp_seq="))
            .and_then(|s| s.parse::<usize>().ok());
        let time = l
            .split_whitespace()
            .find_map(|w| w.strip_prefix("time="))
            .and_then(|s| s.parse::<f64>().ok());
        if let (Some(seq), Some(t)) = (seq, time) {
            if (1..=rtts.len()).contains(&seq) {
                rtts[seq - 1] = Some(t);
            }
        }
    }
    Ping { sent, rtts }
}

/// Reads `traceroute -n -q 1` output.
pub fn parse_traceroute(out: &str) -> Vec<Hop> {
    let mut v = Vec::new();
    for l in out.lines().skip(1) {
        let f: Vec<&str> = l.split_whitespace().collect();
        let Some(hop) = f.first().and_then(|h| h.parse::<u8>().ok()) else {
            continue;
        };
        let from = f.get(1).and_then(|a| a.parse::<Ipv6Addr>().ok());
        let rtt = if from.is_some() {
            f.get(2).and_then(|r| r.parse::<f64>().ok())
        } else {
            None
        };
        v.push(Hop {
            hop,
            from,
            rtt,
            model_rtt: None,
        });
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ping_output() {
        let out = "PING 2001:db8:a0::1(2001:db8:a0::1) 56 data bytes\n\
            64 bytes from 2001:db8:a0::1: icmp_seq=1 ttl=61 time=0.101 ms\n\
            64 bytes from 2001:db8:a0::1: icmp_seq=3 ttl=61 time=0.087 ms\n\n\
            --- 2001:db8:a0::1 ping statistics ---\n3 packets transmitted, 2 received";
        let p = parse_ping(out, 3);
        assert_eq!(p.rtts, vec![Some(0.101), None, Some(0.087)]);
        assert_eq!(p.min(), Some(0.087));
    }

    #[test]
    fn reads_traceroute_output() {
        let out = "traceroute to 2001:db8:a0::1 (2001:db8:a0::1), 16 hops max, 80 byte packets\n \
             1  3fff:100:1:1::1  0.050 ms\n 2  *\n 3  2001:db8:a0::1  0.120 ms\n";
        let h = parse_traceroute(out);
        assert_eq!(h.len(), 3);
        assert_eq!(h[0].from, Some("3fff:100:1:1::1".parse().unwrap()));
        assert_eq!(h[0].rtt, Some(0.050));
        assert_eq!((h[1].hop, h[1].from, h[1].rtt), (2, None, None));
        assert_eq!(h[2].hop, 3);
    }
}
