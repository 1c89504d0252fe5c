//! serde structs mirroring RIPE Atlas result JSON, and their conversion to [`crate::record`].
//!
//! Unlike tern's configuration structs these do NOT use `deny_unknown_fields`: the result
//! format grows with every probe firmware (`mver`, `ttr`, `destination_ip_responded`, …) and a
//! reader must accept fields it does not know. Values that do not have the expected type make
//! the record "broken" (reported and skipped by the reader); addresses that do not parse become
//! `None`, because some firmware writes placeholders there.

use std::borrow::Cow;
use std::net::IpAddr;

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::dns;
use crate::error::RecordError;
use crate::record::{
    Body, Dns, DnsResponse, Hop, Http, HttpResult, Ping, Proto, Record, Reply, Traceroute,
};

/// A string or a number (firmware varies: `dst_port`, `err`).
#[derive(Deserialize)]
#[serde(untagged)]
enum StrOrNum<'a> {
    Str(#[serde(borrow)] Cow<'a, str>),
    Num(serde_json::Number),
}

impl StrOrNum<'_> {
    fn into_string(self) -> String {
        match self {
            StrOrNum::Str(s) => s.into_owned(),
            StrOrNum::Num(n) => n.to_string(),
        }
    }
}

fn lenient_ip<'de, D: Deserializer<'de>>(d: D) -> Result<Option<IpAddr>, D::Error> {
    let s: Option<Cow<'de, str>> = Option::deserialize(d)?;
    Ok(s.and_then(|s| {
        let s = s.trim();
        dotted_quad(s.as_bytes()).or_else(|| s.parse().ok())
    }))
}

/// A plain dotted-quad IPv4 address (`192.0.2.1`), the common case in traceroutes, read
/// without the general parser; anything else (IPv6, leading zeros, junk) is `None` and goes to
/// `IpAddr::from_str`, which decides as before.
fn dotted_quad(b: &[u8]) -> Option<IpAddr> {
    let mut octets = [0u8; 4];
    let mut parts = b.split(|&c| c == b'.');
    for o in &mut octets {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || (p.len() > 1 && p[0] == b'0') {
            return None;
        }
        let mut v: u16 = 0;
        for &c in p {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u16::from(c - b'0');
        }
        *o = u8::try_from(v).ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(IpAddr::from(octets))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_quads_agree_with_std() {
        for s in [
            "192.0.2.1",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "1..2.3",
            "a.b.c.d",
            "",
            "1.2.3.4 ",
            "2001:db8::1",
            "::ffff:1.2.3.4",
            "1.2.3.04",
        ] {
            let std: Option<IpAddr> = s.parse().ok();
            match dotted_quad(s.as_bytes()) {
                Some(a) => assert_eq!(Some(a), std, "{s}"),
                None => assert!(std.is_none() || s.contains(':'), "{s}"),
            }
        }
    }
}

/// Top-level fields common to all result types.
#[derive(Deserialize)]
pub(crate) struct RawRecord<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    msm_name: Option<Cow<'a, str>>,
    fw: Option<u32>,
    prb_id: Option<u32>,
    msm_id: Option<u64>,
    timestamp: Option<i64>,
    af: Option<u8>,
    /// fw < 4460 traceroutes: `pf` instead of `af`.
    pf: Option<u8>,
    #[serde(default, deserialize_with = "lenient_ip")]
    dst_addr: Option<IpAddr>,
    /// fw 1 / 4400 layouts: `addr` instead of `dst_addr`.
    #[serde(default, deserialize_with = "lenient_ip")]
    addr: Option<IpAddr>,
    dst_name: Option<String>,
    name: Option<String>,
    #[serde(default, deserialize_with = "lenient_ip")]
    from: Option<IpAddr>,
    #[serde(borrow)]
    proto: Option<Cow<'a, str>>,
    #[serde(borrow)]
    result: Option<RawResult<'a>>,
    #[serde(borrow)]
    resultset: Option<Vec<RawResultSetEntry<'a>>>,
    #[serde(borrow)]
    error: Option<&'a RawValue>,
    // ping summary
    sent: Option<u32>,
    rcvd: Option<u32>,
    min: Option<f64>,
    avg: Option<f64>,
    max: Option<f64>,
}

/// `result`, whose shape depends on `type` — which may come after it in the object. A list
/// (traceroute hops, ping packets, HTTP requests: [`RawItem`]), an object (DNS), or a string
/// (fw 1 text traceroutes). Decided from the JSON itself so that every record is read in one pass.
pub(crate) enum RawResult<'a> {
    Items(Vec<RawItem<'a>>),
    Object(RawDnsResult<'a>),
    Text,
}

impl<'de: 'a, 'a> Deserialize<'de> for RawResult<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = RawResult<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list, an object or a string")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                seq: A,
            ) -> Result<Self::Value, A::Error> {
                Vec::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))
                    .map(RawResult::Items)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                RawDnsResult::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(RawResult::Object)
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(RawResult::Text)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// One element of a `result` list: the union of a traceroute hop, a ping packet and an HTTP
/// request result (their field names do not collide in meaning).
#[derive(Deserialize)]
pub(crate) struct RawItem<'a> {
    // traceroute hop
    hop: Option<u32>,
    #[serde(borrow)]
    error: Option<StrOrNum<'a>>,
    result: Option<Vec<Reply>>,
    // ping packet
    rtt: Option<f64>,
    // http
    res: Option<u16>,
    rt: Option<f64>,
    body: Option<String>,
    err: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct RawReply<'a> {
    #[serde(default, deserialize_with = "lenient_ip")]
    from: Option<IpAddr>,
    rtt: Option<f64>,
    size: Option<u32>,
    ttl: Option<u32>,
    #[serde(borrow)]
    x: Option<Cow<'a, str>>,
    #[serde(borrow)]
    err: Option<StrOrNum<'a>>,
    late: Option<i64>,
    icmpext: Option<RawIcmpExt>,
}

impl<'a> From<RawReply<'a>> for Reply {
    fn from(r: RawReply<'a>) -> Reply {
        Reply {
            from: r.from,
            rtt: r.rtt.filter(|v| v.is_finite() && *v >= 0.0),
            size: r.size,
            ttl: r.ttl,
            timeout: r.x.is_some(),
            err: r.err.map(StrOrNum::into_string),
            late: r.late,
            mpls: r
                .icmpext
                .map(|e| {
                    e.obj
                        .iter()
                        .flat_map(|o| o.mpls.iter().filter_map(|m| m.label))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// Replies are read straight into [`Reply`] (one allocation per hop, not two).
impl<'de> Deserialize<'de> for Reply {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        RawReply::deserialize(d).map(Reply::from)
    }
}

/// RFC 4884 ICMP extension objects; only MPLS label stacks (RFC 4950) are kept.
#[derive(Deserialize)]
struct RawIcmpExt {
    #[serde(default)]
    obj: Vec<RawIcmpObj>,
}

#[derive(Deserialize)]
struct RawIcmpObj {
    #[serde(default)]
    mpls: Vec<RawMpls>,
}

#[derive(Deserialize)]
struct RawMpls {
    label: Option<u32>,
}

#[derive(Deserialize)]
pub(crate) struct RawDnsResult<'a> {
    rt: Option<f64>,
    #[serde(borrow)]
    abuf: Option<Cow<'a, str>>,
    #[serde(default, rename = "answers")]
    answers: Vec<RawAnswer>,
}

#[derive(Deserialize)]
struct RawAnswer {
    #[serde(rename = "TYPE")]
    kind: Option<String>,
    #[serde(rename = "RDATA", default)]
    rdata: RawRdata,
}

/// `RDATA` is a list of strings on fw ≥ 4750 and a single string before.
#[derive(Deserialize, Default)]
#[serde(untagged)]
enum RawRdata {
    List(Vec<String>),
    One(String),
    #[default]
    None,
}

#[derive(Deserialize)]
struct RawResultSetEntry<'a> {
    #[serde(default, deserialize_with = "lenient_ip")]
    dst_addr: Option<IpAddr>,
    #[serde(borrow)]
    result: Option<RawDnsResult<'a>>,
    #[serde(borrow)]
    error: Option<&'a RawValue>,
}

/// Parses one result object (already isolated by the reader) into a [`Record`].
pub(crate) fn parse_record(json: &[u8], index: usize) -> Result<Record, RecordError> {
    let raw: RawRecord<'_> =
        serde_json::from_slice(json).map_err(|e| RecordError::json(&e, json))?;
    convert(raw, index)
}

/// Converts a record parsed by serde; errors are why the record is skipped.
pub(crate) fn convert(raw: RawRecord<'_>, index: usize) -> Result<Record, RecordError> {
    let prb_id = raw.prb_id.ok_or(RecordError::Missing("prb_id"))?;
    let kind = match (&raw.kind, &raw.msm_name) {
        (Some(k), _) => k.to_ascii_lowercase(),
        (None, Some(n)) => match n.as_ref() {
            "Ping" => "ping".into(),
            "Traceroute" => "traceroute".into(),
            "Tdig" => "dns".into(),
            other => other.to_ascii_lowercase(),
        },
        (None, None) => return Err(RecordError::Missing("type")),
    };
    let mut raw = raw;
    let result = raw.result.take();
    let body = match kind.as_str() {
        "traceroute" => Body::Traceroute(traceroute(&raw, result)?),
        "ping" => Body::Ping(ping(&raw, result)?),
        "dns" => Body::Dns(dns_body(&mut raw, result)?),
        "http" => Body::Http(http(result)?),
        _ => Body::Other { kind },
    };
    Ok(Record {
        index,
        prb_id,
        msm_id: raw.msm_id.unwrap_or(0),
        timestamp: raw.timestamp.unwrap_or(0),
        fw: raw.fw.unwrap_or(0),
        af: raw.af.or(raw.pf),
        dst_addr: raw.dst_addr.or(raw.addr),
        dst_name: raw.dst_name.or(raw.name),
        from: raw.from,
        body,
    })
}

fn error_text(v: Option<&RawValue>) -> Option<String> {
    let v = v?;
    let s = v.get();
    // Either a string or an object such as {"timeout": 5000} / {"getaddrinfo": "…"}.
    Some(match serde_json::from_str::<String>(s) {
        Ok(t) => t,
        Err(_) => s.to_string(),
    })
}

fn items<'a>(
    result: Option<RawResult<'a>>,
    kind: &'static str,
) -> Result<Vec<RawItem<'a>>, RecordError> {
    match result {
        None => Ok(Vec::new()),
        Some(RawResult::Items(v)) => Ok(v),
        Some(RawResult::Object(_)) => Err(RecordError::ResultShape {
            kind,
            found: "an object",
            expected: "a list",
        }),
        Some(RawResult::Text) => Err(RecordError::LegacyText(kind)),
    }
}

fn traceroute(
    raw: &RawRecord<'_>,
    result: Option<RawResult<'_>>,
) -> Result<Traceroute, RecordError> {
    let proto = match raw.proto.as_deref().map(str::to_ascii_uppercase).as_deref() {
        Some("ICMP") => Some(Proto::Icmp),
        Some("UDP") => Some(Proto::Udp),
        Some("TCP") => Some(Proto::Tcp),
        _ => None,
    };
    let hops = items(result, "traceroute")?;
    Ok(Traceroute {
        proto,
        error: error_text(raw.error),
        hops: hops
            .into_iter()
            .enumerate()
            .map(|(i, h)| Hop {
                index: h.hop.unwrap_or(i as u32 + 1),
                error: h.error.map(StrOrNum::into_string),
                replies: h.result.unwrap_or_default(),
            })
            .collect(),
    })
}

fn ping(raw: &RawRecord<'_>, result: Option<RawResult<'_>>) -> Result<Ping, RecordError> {
    let valid = |v: Option<f64>| v.filter(|v| v.is_finite() && *v >= 0.0);
    // Built-in measurements lacked per-packet RTTs for a while; `result` may be absent.
    let rtts: Vec<f64> = items(result, "ping")?
        .into_iter()
        .filter_map(|p| valid(p.rtt))
        .collect();
    Ok(Ping {
        sent: raw.sent.unwrap_or(0),
        rcvd: raw.rcvd.unwrap_or(rtts.len() as u32),
        min: valid(raw.min).or_else(|| rtts.iter().copied().reduce(f64::min)),
        avg: valid(raw.avg),
        max: valid(raw.max),
        rtts,
    })
}

fn dns_response(
    r: RawDnsResult<'_>,
    dst_addr: Option<IpAddr>,
    error: Option<String>,
) -> DnsResponse {
    let mut resp = DnsResponse {
        rt: r.rt,
        dst_addr,
        error,
        ..DnsResponse::default()
    };
    if let Some(abuf) = r.abuf {
        match dns::base64_decode(&abuf)
            .ok_or_else(|| "abuf: bad base64".to_string())
            .and_then(|b| dns::decode(&b).map_err(|e| format!("abuf: {e}")))
        {
            Ok(m) => resp.message = Some(m),
            Err(e) => resp.abuf_error = Some(e),
        }
    }
    for a in r.answers {
        if a.kind.as_deref() == Some("TXT") {
            match a.rdata {
                RawRdata::List(v) => resp.answer_txt.extend(v),
                RawRdata::One(s) => resp.answer_txt.push(s),
                RawRdata::None => {}
            }
        }
    }
    resp
}

fn dns_body(raw: &mut RawRecord<'_>, result: Option<RawResult<'_>>) -> Result<Dns, RecordError> {
    let mut d = Dns {
        responses: Vec::new(),
        error: error_text(raw.error),
    };
    match result {
        None => {}
        Some(RawResult::Object(r)) => d.responses.push(dns_response(r, raw.dst_addr, None)),
        Some(RawResult::Items(_)) => {
            return Err(RecordError::ResultShape {
                kind: "dns",
                found: "a list",
                expected: "an object",
            });
        }
        Some(RawResult::Text) => {
            return Err(RecordError::ResultShape {
                kind: "dns",
                found: "a string",
                expected: "an object",
            });
        }
    }
    for e in raw.resultset.take().unwrap_or_default() {
        let error = error_text(e.error);
        match e.result {
            Some(r) => d.responses.push(dns_response(r, e.dst_addr, error)),
            None => d.responses.push(DnsResponse {
                dst_addr: e.dst_addr,
                error,
                ..DnsResponse::default()
            }),
        }
    }
    Ok(d)
}

fn http(result: Option<RawResult<'_>>) -> Result<Http, RecordError> {
    Ok(Http {
        results: items(result, "http")?
            .into_iter()
            .map(|h| HttpResult {
                status: h.res,
                rt: h.rt,
                body: h.body,
                error: h.err,
            })
            .collect(),
    })
}
