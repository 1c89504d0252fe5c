//! A lab measurement written as RIPE Atlas results, so that `tern atlas` reads lab and real
//! measurements alike (field names: `shared/reference/measurement.md` §1.1–1.2).
//!
//! Files written to the output directory:
//! - `ping.json`, `traceroute.json`, `dns.json`, `http.json`: JSON arrays of results (firmware
//!   layout 5000; DNS with the raw answer base64-encoded in `abuf`; HTTP with the trace body);
//!   ping and DNS also over IPv4 (`af` 4) when the lab has an IPv4 anycast address;
//! - `probes.json`: probe metadata in the daily-archive layout `{"meta":…,"objects":[…]}`;
//! - `sites.json`: site hints for `tern atlas` (id, IATA code, location, unicast prefixes,
//!   the provider router addresses that precede each site in a traceroute);
//! - `lab.json`: the lab's own, complete record of the run (including the HTTP traces).

use std::path::Path;

use serde_json::{Value, json};

use crate::error::LabError;
use crate::measure::{Measurement, ProbeResult};
use crate::topology::Topology;

/// Measurement id of the lab's ping results.
pub const MSM_PING: u64 = 9_000_001;
/// Measurement id of the lab's traceroute results.
pub const MSM_TRACEROUTE: u64 = 9_000_002;
/// Measurement id of the lab's DNS results.
pub const MSM_DNS: u64 = 9_000_003;
/// Measurement id of the lab's HTTP results.
pub const MSM_HTTP: u64 = 9_000_004;
/// The firmware layout the results follow.
const FW: u32 = 5000;

/// Standard base64 (RFC 4648 §4) with padding.
pub fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut o = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= c.len() {
                o.push(A[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                o.push('=');
            }
        }
    }
    o
}

/// Bytes from hex text (`None` on bad input).
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Hex text of bytes.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn r3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn common(m: &Measurement, r: &ProbeResult, kind: &str, msm: u64, name: &str) -> Value {
    json!({
        "fw": FW, "lts": 0, "type": kind, "msm_id": msm, "group_id": msm, "msm_name": name,
        "prb_id": r.prb_id, "timestamp": r.timestamp, "af": 6,
        "dst_addr": m.target.to_string(), "dst_name": m.target.to_string(),
        "src_addr": r.addr.to_string(), "from": r.addr.to_string(),
    })
}

/// The same result over IPv4: the probe's and the target's IPv4 addresses, `af` 4, and the
/// IPv4 ping and DNS in place of the IPv6 ones. `None` when the lab has no IPv4.
fn as_v4(m: &Measurement, r: &ProbeResult) -> Option<(Measurement, ProbeResult)> {
    m.target4?;
    r.addr4?;
    let mut r4 = r.clone();
    r4.ping = r.ping4.clone()?;
    r4.dns = r.dns4.clone()?;
    r4.hops.clear();
    let m4 = Measurement {
        results: Vec::new(),
        ..m.clone()
    };
    Some((m4, r4))
}

fn v4_fields(v: Value, m: &Measurement, r: &ProbeResult) -> Value {
    match (m.target4, r.addr4) {
        (Some(t), Some(a)) => merge(
            v,
            json!({ "af": 4, "dst_addr": t.to_string(), "dst_name": t.to_string(),
                    "src_addr": a.to_string(), "from": a.to_string() }),
        ),
        _ => v,
    }
}

fn merge(mut a: Value, b: Value) -> Value {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    a
}

/// Which RTTs the files carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rtt {
    /// As measured (with netem, these include the link delays).
    Measured,
    /// Measured plus the modelled link delays along the path: what netem would have added, for
    /// kernels without it. Marked in `probes.json` (`meta.rtt`).
    PlusModel,
}

/// `r` with the modelled delays added to its RTTs.
pub fn plus_model(r: &ProbeResult) -> ProbeResult {
    let mut r = r.clone();
    let add = r.model_rtt.unwrap_or(0.0);
    for x in r.ping.rtts.iter_mut().flatten() {
        *x += add;
    }
    if let Some(p) = &mut r.ping4 {
        for x in p.rtts.iter_mut().flatten() {
            *x += add;
        }
    }
    for d in [Some(&mut r.dns), r.dns4.as_mut()].into_iter().flatten() {
        if let Some(rt) = &mut d.rt {
            *rt += add;
        }
    }
    for h in &mut r.hops {
        if let (Some(x), Some(mr)) = (&mut h.rtt, h.model_rtt) {
            *x += mr;
        }
    }
    if let Some((_, t)) = &mut r.http_status {
        // TCP handshake, then request and answer: two round trips.
        *t += 2.0 * add;
    }
    r
}

/// The ping result of one probe.
pub fn ping(m: &Measurement, r: &ProbeResult) -> Value {
    let got: Vec<f64> = r.ping.rtts.iter().flatten().copied().collect();
    let (min, max, avg) = if got.is_empty() {
        (-1.0, -1.0, -1.0)
    } else {
        let min = got.iter().copied().fold(f64::INFINITY, f64::min);
        let max = got.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (min, max, got.iter().sum::<f64>() / got.len() as f64)
    };
    let result: Vec<Value> = r
        .ping
        .rtts
        .iter()
        .map(|x| match x {
            Some(t) => json!({ "rtt": r3(*t) }),
            None => json!({ "x": "*" }),
        })
        .collect();
    merge(
        common(m, r, "ping", MSM_PING, "Ping"),
        json!({
            "proto": "ICMP", "sent": r.ping.sent, "rcvd": got.len(), "dup": 0,
            "min": r3(min), "avg": r3(avg), "max": r3(max), "size": 64, "step": null,
            "result": result,
        }),
    )
}

/// The traceroute result of one probe.
pub fn traceroute(m: &Measurement, r: &ProbeResult) -> Value {
    let result: Vec<Value> = r
        .hops
        .iter()
        .map(|h| {
            let reply = match (h.from, h.rtt) {
                (Some(f), Some(t)) => {
                    json!({ "from": f.to_string(), "rtt": r3(t), "size": 48, "ttl": 64 })
                }
                (Some(f), None) => json!({ "from": f.to_string(), "x": "*" }),
                _ => json!({ "x": "*" }),
            };
            json!({ "hop": h.hop, "result": [reply] })
        })
        .collect();
    let responded = r.hops.iter().any(|h| h.from == Some(m.target));
    merge(
        common(m, r, "traceroute", MSM_TRACEROUTE, "Traceroute"),
        json!({
            "proto": "ICMP", "paris_id": 0, "size": 48, "endtime": r.trace_end.max(r.timestamp),
            "destination_ip_responded": responded, "result": result,
        }),
    )
}

/// The DNS result of one probe (`abuf` is the raw answer, base64).
pub fn dns(m: &Measurement, r: &ProbeResult) -> Value {
    let base = merge(
        common(m, r, "dns", MSM_DNS, "Tdig"),
        json!({ "proto": "UDP", "dst_port": "53" }),
    );
    let abuf = r.dns.abuf.as_deref().and_then(unhex);
    match (abuf, r.dns.rt) {
        (Some(abuf), Some(rt)) => {
            let id = abuf
                .get(..2)
                .map(|b| u16::from_be_bytes([b[0], b[1]]))
                .unwrap_or(0);
            let count = |i: usize| {
                abuf.get(i..i + 2)
                    .map(|b| u16::from_be_bytes([b[0], b[1]]))
                    .unwrap_or(0)
            };
            let answers: Vec<Value> = r
                .dns
                .txt
                .iter()
                .map(|t| json!({ "TYPE": "TXT", "NAME": "id.server", "RDATA": [t] }))
                .collect();
            merge(
                base,
                json!({ "result": {
                    "rt": r3(rt), "size": abuf.len(), "abuf": base64(&abuf), "ID": id,
                    "QDCOUNT": count(4), "ANCOUNT": count(6), "NSCOUNT": count(8),
                    "ARCOUNT": count(10), "answers": answers,
                }}),
            )
        }
        _ => merge(base, json!({ "error": { "timeout": 1000 } })),
    }
}

/// The HTTP result of one probe (`GET /cdn-cgi/trace`, body kept: it names the site).
pub fn http(m: &Measurement, r: &ProbeResult) -> Value {
    let base = merge(
        common(m, r, "http", MSM_HTTP, "HTTP"),
        json!({ "uri": format!("http://[{}]/cdn-cgi/trace", m.target) }),
    );
    let item = match (&r.http, r.http_status) {
        (Some(body), Some((res, rt))) => json!({
            "af": 6, "dst_addr": m.target.to_string(), "src_addr": r.addr.to_string(),
            "method": "GET", "ver": "1.1", "res": res, "rt": r3(rt),
            "bsize": body.len(), "body": body,
        }),
        _ => json!({ "af": 6, "dst_addr": m.target.to_string(), "err": "no answer" }),
    };
    merge(base, json!({ "result": [item] }))
}

/// Probe metadata, archive layout.
pub fn probes(m: &Measurement, topo: &Topology) -> Value {
    let objects: Vec<Value> = m
        .results
        .iter()
        .map(|r| {
            let prefix = topo
                .nodes
                .iter()
                .find(|n| n.prefix.is_some_and(|p| p.contains_addr(&r.addr.into())))
                .and_then(|n| n.prefix)
                .map(|p| p.to_string());
            let prefix4 = r.addr4.and_then(|a| {
                topo.nodes
                    .iter()
                    .find_map(|n| n.prefix4.filter(|p| p.contains_addr(&a.into())))
                    .map(|p| p.to_string())
            });
            let mut tags = vec!["system-ipv6-works", "tern-lab"];
            if r.addr4.is_some() {
                tags.push("system-ipv4-works");
            }
            json!({
                "id": r.prb_id, "type": "Probe", "country_code": r.country,
                "latitude": r.lat, "longitude": r.lon,
                "asn_v4": r.addr4.map(|_| r.asn), "asn_v6": r.asn,
                "prefix_v4": prefix4, "prefix_v6": prefix,
                "address_v4": r.addr4.map(|a| a.to_string()), "address_v6": r.addr.to_string(),
                "status": 1, "status_name": "Connected", "is_anchor": false, "is_public": true,
                "tags": tags,
                "description": format!("tern lab {} ({})", r.probe, r.city),
            })
        })
        .collect();
    json!({ "meta": { "total_count": objects.len(), "source": "tern lab" }, "objects": objects })
}

/// Site hints for `tern atlas`.
pub fn sites(topo: &Topology) -> Value {
    let sites: Vec<Value> = topo
        .sites
        .iter()
        .map(|s| {
            let n = &topo.nodes[s.node];
            json!({
                "id": s.id, "iata": s.code, "lat": n.place.lat, "lon": n.place.lon,
                "prefixes": s.unicast.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
                "router_addrs": topo.router_addrs(s.id.as_str()).iter().map(|a| a.to_string()).collect::<Vec<_>>(),
                "names": [s.id],
            })
        })
        .collect();
    json!({ "sites": sites })
}

/// Writes every file into `dir` (created if needed).
pub fn write(dir: &Path, m: &Measurement, topo: &Topology, rtt: Rtt) -> Result<(), LabError> {
    let adjusted;
    let m = match rtt {
        Rtt::Measured => m,
        Rtt::PlusModel => {
            adjusted = Measurement {
                results: m.results.iter().map(plus_model).collect(),
                ..m.clone()
            };
            &adjusted
        }
    };
    std::fs::create_dir_all(dir).map_err(|e| LabError::io(dir, e))?;
    let put = |name: &str, v: &Value| -> Result<(), LabError> {
        let p = dir.join(name);
        let text = serde_json::to_string_pretty(v).map_err(|e| LabError::State {
            path: p.clone(),
            message: e.to_string(),
        })?;
        std::fs::write(&p, text + "\n").map_err(|e| LabError::io(&p, e))
    };
    let each = |f: fn(&Measurement, &ProbeResult) -> Value, v4: bool| -> Value {
        let mut v: Vec<Value> = m.results.iter().map(|r| f(m, r)).collect();
        if v4 {
            v.extend(m.results.iter().filter_map(|r| {
                let (m4, r4) = as_v4(m, r)?;
                Some(v4_fields(f(&m4, &r4), m, r))
            }));
        }
        Value::Array(v)
    };
    put("ping.json", &each(ping, true))?;
    put("traceroute.json", &each(traceroute, false))?;
    put("dns.json", &each(dns, true))?;
    put("http.json", &each(http, false))?;
    let mut pr = probes(m, topo);
    pr["meta"]["rtt"] = json!(match rtt {
        Rtt::Measured => "measured",
        Rtt::PlusModel => "measured plus modelled link delays (no netem in the kernel)",
    });
    put("probes.json", &pr)?;
    put("sites.json", &sites(topo))?;
    put(
        "lab.json",
        &serde_json::to_value(m).map_err(|e| LabError::State {
            path: dir.join("lab.json"),
            message: e.to_string(),
        })?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::{Dns, Hop, Ping};

    fn sample() -> Measurement {
        let q = crate::dns::query(0x0102, "id.server", 16, 3).unwrap();
        let pq = crate::dns::parse_query(&q).unwrap();
        let a = crate::dns::answer(&pq, Some("ams"), 0);
        Measurement {
            tag: "t".into(),
            target: "2001:db8:c0::1".parse().unwrap(),
            target4: None,
            timestamp: 1_700_000_000,
            results: vec![ProbeResult {
                probe: "probe-eu-1".into(),
                prb_id: 1001,
                region: tern_model::policy::Region::Europe,
                city: "London".into(),
                country: "GB".into(),
                lat: 51.51,
                lon: -0.13,
                asn: 65101,
                addr: "3fff:100:1:1::2".parse().unwrap(),
                timestamp: 1_700_000_000,
                site: Some("ams".parse().unwrap()),
                dns_site: Some("ams".parse().unwrap()),
                http_site: None,
                trace_site: Some("ams".parse().unwrap()),
                ping: Ping {
                    sent: 3,
                    rtts: vec![Some(1.5), None, Some(0.5)],
                },
                hops: vec![
                    Hop {
                        hop: 1,
                        from: Some("3fff:100:1:1::1".parse().unwrap()),
                        rtt: Some(0.1),
                        model_rtt: Some(1.0),
                    },
                    Hop {
                        hop: 2,
                        from: None,
                        rtt: None,
                        model_rtt: None,
                    },
                    Hop {
                        hop: 3,
                        from: Some("2001:db8:c0::1".parse().unwrap()),
                        rtt: Some(0.3),
                        model_rtt: Some(14.0),
                    },
                ],
                model_rtt: Some(14.0),
                trace_end: 1_700_000_002,
                dns: Dns {
                    rt: Some(0.25),
                    abuf: Some(hex(&a)),
                    txt: vec!["ams".into()],
                    rcode: Some(0),
                    sent: None,
                    error: None,
                },
                http: None,
                http_status: None,
                addr4: None,
                ping4: None,
                dns4: None,
            }],
        }
    }

    #[test]
    fn results_have_the_atlas_fields() {
        let m = sample();
        let r = &m.results[0];
        let p = ping(&m, r);
        assert_eq!(
            (p["type"].as_str(), p["af"].as_u64()),
            (Some("ping"), Some(6))
        );
        assert_eq!((p["sent"].as_u64(), p["rcvd"].as_u64()), (Some(3), Some(2)));
        assert_eq!(
            (p["min"].as_f64(), p["max"].as_f64()),
            (Some(0.5), Some(1.5))
        );
        assert_eq!(p["result"][1]["x"], "*");
        let t = traceroute(&m, r);
        assert_eq!(t["destination_ip_responded"], true);
        assert_eq!(t["result"][1]["result"][0]["x"], "*");
        assert_eq!(t["result"][2]["result"][0]["from"], "2001:db8:c0::1");
        let d = dns(&m, r);
        for k in [
            "msm_id",
            "prb_id",
            "timestamp",
            "af",
            "dst_addr",
            "from",
            "proto",
        ] {
            assert!(!d[k].is_null(), "{k}");
        }
        assert_eq!(
            (d["result"]["ID"].as_u64(), d["result"]["ANCOUNT"].as_u64()),
            (Some(0x0102), Some(1))
        );
        // abuf decodes back to the wire answer naming the site.
        let b64 = d["result"]["abuf"].as_str().unwrap();
        assert_eq!(b64, base64(&unhex(r.dns.abuf.as_deref().unwrap()).unwrap()));
        let h = http(&m, r);
        assert_eq!(h["result"][0]["err"], "no answer");
        // With the modelled delays added: ping 0.5 + 14, hop 1 0.1 + 1, DNS 0.25 + 14.
        let r2 = plus_model(r);
        let p2 = ping(&m, &r2);
        assert_eq!(p2["min"].as_f64(), Some(14.5));
        assert_eq!(
            traceroute(&m, &r2)["result"][0]["result"][0]["rtt"].as_f64(),
            Some(1.1)
        );
        assert_eq!(dns(&m, &r2)["result"]["rt"].as_f64(), Some(14.25));
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        // RFC 4648 §10.
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
        assert_eq!(
            unhex(&hex(&[0, 1, 0xab, 0xff])),
            Some(vec![0, 1, 0xab, 0xff])
        );
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
    }
}
