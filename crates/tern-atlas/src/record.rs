//! The RIPE Atlas result model: one [`Record`] per result object, whatever the probe firmware.
//!
//! This is the validated, firmware-independent side of the reader (`raw.rs` holds the serde
//! structs that mirror the JSON). Layout reference: RIPE Atlas "result format" documentation,
//! firmware layouts 1 … 5000 (see `shared/reference/measurement.md` §1.1).

use std::net::IpAddr;

use serde::Serialize;

use crate::dns::Message;

/// One measurement result of one probe.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Record {
    /// Position of the record in its file (0-based).
    pub index: usize,
    /// Probe id (`prb_id`).
    pub prb_id: u32,
    /// Measurement id (`msm_id`); 0 when absent (e.g. lab output).
    pub msm_id: u64,
    /// Start time, unix seconds.
    pub timestamp: i64,
    /// Probe firmware (`fw`); 0 when absent.
    pub fw: u32,
    /// Address family, 4 or 6, when known.
    pub af: Option<u8>,
    /// Target address; missing on resolution errors.
    pub dst_addr: Option<IpAddr>,
    /// Target name as given to the measurement.
    pub dst_name: Option<String>,
    /// The probe's public address as seen by the Atlas controller.
    pub from: Option<IpAddr>,
    /// The type-specific part.
    pub body: Body,
}

/// The type-specific part of a [`Record`].
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
#[non_exhaustive]
pub enum Body {
    /// `type: "traceroute"`.
    Traceroute(Traceroute),
    /// `type: "ping"`.
    Ping(Ping),
    /// `type: "dns"`.
    Dns(Dns),
    /// `type: "http"`.
    Http(Http),
    /// Any other type (sslcert, ntp, …): kept so that counts are honest, not analysed.
    Other {
        /// The `type` value.
        kind: String,
    },
}

/// Transport protocol of a traceroute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum Proto {
    /// ICMP echo.
    Icmp,
    /// UDP to high ports.
    Udp,
    /// TCP SYN.
    Tcp,
}

/// A traceroute result.
#[derive(Clone, Debug, PartialEq, Serialize, Default)]
pub struct Traceroute {
    /// Protocol, when stated.
    pub proto: Option<Proto>,
    /// Hops in the order of the `result` array.
    pub hops: Vec<Hop>,
    /// A whole-measurement error (e.g. resolution failure).
    pub error: Option<String>,
}

/// One hop (one TTL) of a traceroute.
#[derive(Clone, Debug, PartialEq, Serialize, Default)]
pub struct Hop {
    /// The `hop` number (TTL).
    pub index: u32,
    /// A hop-level error string, if the probe reported one.
    pub error: Option<String>,
    /// The replies (usually three).
    pub replies: Vec<Reply>,
}

/// One reply (or timeout) at a hop.
#[derive(Clone, Debug, PartialEq, Serialize, Default)]
pub struct Reply {
    /// Who answered.
    pub from: Option<IpAddr>,
    /// Round-trip time in ms.
    pub rtt: Option<f64>,
    /// Reply size in bytes.
    pub size: Option<u32>,
    /// TTL of the reply packet.
    pub ttl: Option<u32>,
    /// `x: "*"`: no answer.
    pub timeout: bool,
    /// ICMP error indication (`err`: N, H, A, P, p or a code).
    pub err: Option<String>,
    /// `late`: the reply arrived this many packets late.
    pub late: Option<i64>,
    /// MPLS labels from ICMP extensions (RFC 4950), outermost first.
    pub mpls: Vec<u32>,
}

/// A ping result.
#[derive(Clone, Debug, PartialEq, Serialize, Default)]
pub struct Ping {
    /// Packets sent.
    pub sent: u32,
    /// Replies received.
    pub rcvd: u32,
    /// Minimum RTT (ms); `None` when nothing came back (`-1` in the JSON).
    pub min: Option<f64>,
    /// Average RTT (ms).
    pub avg: Option<f64>,
    /// Maximum RTT (ms).
    pub max: Option<f64>,
    /// Per-packet RTTs that came back.
    pub rtts: Vec<f64>,
}

/// A DNS ("Tdig") result: one response, or several with `use_probe_resolver`.
#[derive(Clone, Debug, PartialEq, Serialize, Default)]
pub struct Dns {
    /// The responses (one per resolver).
    pub responses: Vec<DnsResponse>,
    /// A whole-result error (`timeout`, `getaddrinfo`, …) when there is no response.
    pub error: Option<String>,
}

/// One DNS response.
#[derive(Clone, Debug, PartialEq, Serialize, Default)]
pub struct DnsResponse {
    /// Response time in ms.
    pub rt: Option<f64>,
    /// The server queried (for `resultset` entries).
    pub dst_addr: Option<IpAddr>,
    /// The decoded `abuf` (authoritative data).
    pub message: Option<Message>,
    /// Why `abuf` did not decode, when it was present.
    pub abuf_error: Option<String>,
    /// TXT strings from the partial JSON decode (`answers[].RDATA`), used when there is no `abuf`.
    pub answer_txt: Vec<String>,
    /// Error of this response (timeout…).
    pub error: Option<String>,
}

impl DnsResponse {
    /// The names this response gives for the server: NSID (RFC 5001) first, then TXT answers
    /// (CHAOS `id.server` / `hostname.bind`, RFC 4892), from `abuf` or, failing that, `answers`.
    pub fn server_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(m) = &self.message {
            if let Some(n) = m.nsid().map(tern_dns::escape) {
                out.push(n);
            }
            out.extend(m.identity_names());
        }
        if out.is_empty() {
            out.extend(self.answer_txt.iter().cloned());
        }
        out
    }
}

/// An HTTP result (the fields tern uses: status, time, and a `/cdn-cgi/trace`-style body).
#[derive(Clone, Debug, PartialEq, Serialize, Default)]
pub struct Http {
    /// One entry per request made.
    pub results: Vec<HttpResult>,
}

/// One HTTP request's outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Default)]
pub struct HttpResult {
    /// HTTP status code.
    pub status: Option<u16>,
    /// Total time in ms.
    pub rt: Option<f64>,
    /// The body, when the measurement kept it (lab output does; Atlas usually does not).
    pub body: Option<String>,
    /// Error text.
    pub error: Option<String>,
}

impl HttpResult {
    /// The site named by a trace body: the `site=` line (tern's endpoint), else `colo=`
    /// (Cloudflare-style `/cdn-cgi/trace`).
    pub fn trace_site(&self) -> Option<String> {
        let body = self.body.as_deref()?;
        let value = |key: &str| {
            body.lines().find_map(|l| {
                let (k, v) = l.split_once('=')?;
                let v = v.trim();
                (k.trim() == key && !v.is_empty()).then(|| v.to_string())
            })
        };
        value("site").or_else(|| value("colo"))
    }
}

impl Traceroute {
    /// The last hop in the `result` array, as sagan's `TracerouteResult` sees it.
    pub fn last_hop(&self) -> Option<&Hop> {
        self.hops.last()
    }

    /// Whether the destination answered at the last hop (sagan's `destination_ip_responded`).
    pub fn destination_responded(&self, dst: Option<IpAddr>) -> bool {
        let (Some(dst), Some(h)) = (dst, self.last_hop()) else {
            return false;
        };
        h.replies.iter().any(|r| r.from == Some(dst))
    }

    /// Median RTT of the last hop that has one (sagan's `last_median_rtt`): late replies are
    /// ignored, RTTs rounded to µs as sagan does.
    pub fn last_median_rtt(&self) -> Option<f64> {
        self.hops.iter().rev().find_map(|h| median(&h.rtts()))
    }

    /// Minimum RTT of the last hop that has any RTT (the probe's RTT to the end of the path).
    pub fn last_min_rtt(&self) -> Option<f64> {
        self.hops
            .iter()
            .rev()
            .find_map(|h| h.rtts().into_iter().reduce(f64::min))
    }

    /// Minimum RTT of replies that came from `dst` itself.
    pub fn min_rtt_from(&self, dst: IpAddr) -> Option<f64> {
        self.hops
            .iter()
            .flat_map(|h| &h.replies)
            .filter(|r| r.from == Some(dst) && r.late.is_none())
            .filter_map(|r| r.rtt)
            .reduce(f64::min)
    }

    /// Responding hop addresses, one per hop (the first reply with an address), in path order.
    pub fn path(&self) -> Vec<(u32, IpAddr)> {
        self.hops
            .iter()
            .filter_map(|h| h.replies.iter().find_map(|r| r.from).map(|a| (h.index, a)))
            .collect()
    }
}

impl Hop {
    /// RTTs of the timely replies of this hop (rounded to µs; zero counts as none, like sagan).
    pub fn rtts(&self) -> Vec<f64> {
        self.replies
            .iter()
            .filter(|r| r.late.is_none())
            .filter_map(|r| r.rtt)
            .map(|v| (v * 1000.0).round() / 1000.0)
            .filter(|v| *v != 0.0)
            .collect()
    }
}

/// Median of values (mean of the middle two for an even count); `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2] + v[n / 2 - 1]) / 2.0
    })
}
