//! Latency and catchment analysis of one measurement run: per probe (site, minimum RTT to the
//! target), per site, country and continent (count, p50, p90), and the share of probes served
//! by their geographically nearest site.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use serde::Serialize;

use crate::catchment::{Catchment, Evidence, SiteHints, classify};
use crate::geo::{continent_of, distance_km};
use crate::probe::ProbeSet;
use crate::read::{Results, Skipped};
use crate::record::{Body, Record};

/// Label of probes without a site.
pub const UNKNOWN: &str = "unknown";

/// One probe's row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProbeRow {
    /// Probe id.
    pub prb_id: u32,
    /// Country code, from probe metadata.
    pub country: Option<String>,
    /// Continent code.
    pub continent: Option<&'static str>,
    /// Probe latitude.
    pub lat: Option<f64>,
    /// Probe longitude.
    pub lon: Option<f64>,
    /// Origin AS of the probe (IPv4, else IPv6).
    pub asn: Option<u32>,
    /// The probe's catchment.
    pub catchment: Catchment,
    /// Minimum RTT to the target in ms over all its results (ping, traceroute replies from the
    /// target itself, DNS response time).
    pub min_rtt: Option<f64>,
    /// The geographically nearest site with coordinates, when the probe location is known.
    pub nearest_site: Option<String>,
}

impl ProbeRow {
    /// The site label ("unknown" when there is none).
    pub fn site_label(&self) -> &str {
        self.catchment.site.as_deref().unwrap_or(UNKNOWN)
    }
}

/// Aggregated latency of a group of probes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupStats {
    /// Group key (site, country code or continent code).
    pub key: String,
    /// Probes in the group.
    pub probes: usize,
    /// Probes with an RTT.
    pub with_rtt: usize,
    /// Median of the per-probe minimum RTTs (ms).
    pub p50: Option<f64>,
    /// 90th percentile (ms).
    pub p90: Option<f64>,
}

/// Share of probes that reached their geographically nearest site.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NearestShare {
    /// Probes with a location and a known site that has coordinates.
    pub considered: usize,
    /// Of those, served by the nearest site.
    pub at_nearest: usize,
    /// `at_nearest / considered`.
    pub share: f64,
}

/// A site for the map: id and coordinates.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SitePoint {
    /// Site id.
    pub id: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
}

/// One input file's counts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InputSummary {
    /// File name.
    pub origin: String,
    /// Records read.
    pub records: usize,
    /// Records skipped, with the first reasons.
    pub skipped: Skipped,
}

/// The analysis of one run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Analysis {
    /// Inputs.
    pub inputs: Vec<InputSummary>,
    /// Per probe, by probe id.
    pub probes: Vec<ProbeRow>,
    /// All probes together.
    pub overall: GroupStats,
    /// Per site (including "unknown"), most probes first.
    pub by_site: Vec<GroupStats>,
    /// Per country, most probes first ("unknown": no probe metadata).
    pub by_country: Vec<GroupStats>,
    /// Per continent, most probes first.
    pub by_continent: Vec<GroupStats>,
    /// Probes per evidence kind.
    pub by_evidence: BTreeMap<String, usize>,
    /// Share at the nearest site, when sites have coordinates.
    pub nearest: Option<NearestShare>,
    /// Sites with coordinates (from hints).
    pub sites: Vec<SitePoint>,
}

/// Nearest-rank percentile of sorted values (`p` in 0..=100).
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Statistics of a group of probes.
pub fn group_stats(key: &str, rtts: impl IntoIterator<Item = Option<f64>>) -> GroupStats {
    let mut probes = 0;
    let mut v = Vec::new();
    for r in rtts {
        probes += 1;
        if let Some(r) = r {
            v.push(r);
        }
    }
    v.sort_by(f64::total_cmp);
    GroupStats {
        key: key.to_string(),
        probes,
        with_rtt: v.len(),
        p50: percentile(&v, 50.0),
        p90: percentile(&v, 90.0),
    }
}

fn record_min_rtt(r: &Record) -> Option<f64> {
    match &r.body {
        Body::Ping(p) => p.min,
        Body::Traceroute(t) => r.dst_addr.and_then(|d: IpAddr| t.min_rtt_from(d)),
        Body::Dns(d) => d
            .responses
            .iter()
            .filter(|x| x.message.is_some() || !x.answer_txt.is_empty())
            .filter_map(|x| x.rt)
            .filter(|v| v.is_finite() && *v >= 0.0)
            .reduce(f64::min),
        Body::Http(_) | Body::Other { .. } => None,
    }
}

fn grouped<'a>(
    rows: &'a [ProbeRow],
    key: impl Fn(&'a ProbeRow) -> Option<&'a str>,
) -> Vec<GroupStats> {
    let mut groups: BTreeMap<&str, Vec<Option<f64>>> = BTreeMap::new();
    for r in rows {
        if let Some(k) = key(r) {
            groups.entry(k).or_default().push(r.min_rtt);
        }
    }
    let mut out: Vec<GroupStats> = groups.into_iter().map(|(k, v)| group_stats(k, v)).collect();
    out.sort_by(|a, b| b.probes.cmp(&a.probes).then(a.key.cmp(&b.key)));
    out
}

/// Analyses one run (one or more result files of the same moment).
pub fn analyse(runs: &[Results], probes: &ProbeSet, hints: Option<&SiteHints>) -> Analysis {
    let mut per_probe: BTreeMap<u32, Vec<&Record>> = BTreeMap::new();
    for r in runs.iter().flat_map(|r| &r.records) {
        per_probe.entry(r.prb_id).or_default().push(r);
    }
    let site_points: Vec<SitePoint> = hints
        .map(|h| {
            h.sites
                .iter()
                .filter_map(|s| {
                    s.location().map(|(lat, lon)| SitePoint {
                        id: s.id.clone(),
                        lat,
                        lon,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let rows: Vec<ProbeRow> = per_probe
        .into_iter()
        .map(|(prb_id, recs)| {
            let meta = probes.get(prb_id);
            let country = meta.and_then(|m| m.country.clone());
            let location = meta.and_then(|m| m.location());
            let nearest_site = location.and_then(|loc| {
                site_points
                    .iter()
                    .map(|s| (distance_km(loc, (s.lat, s.lon)), s))
                    .min_by(|a, b| a.0.total_cmp(&b.0))
                    .map(|(_, s)| s.id.clone())
            });
            ProbeRow {
                prb_id,
                continent: country.as_deref().and_then(continent_of),
                country,
                lat: location.map(|l| l.0),
                lon: location.map(|l| l.1),
                asn: meta.and_then(|m| m.asn_v4.or(m.asn_v6)),
                catchment: classify(&recs, hints),
                min_rtt: recs
                    .iter()
                    .filter_map(|r| record_min_rtt(r))
                    .reduce(f64::min),
                nearest_site,
            }
        })
        .collect();

    let mut by_evidence = BTreeMap::new();
    for r in &rows {
        let k = r.catchment.evidence.map_or(UNKNOWN, Evidence::as_str);
        *by_evidence.entry(k.to_string()).or_insert(0) += 1;
    }
    let considered: Vec<&ProbeRow> = rows
        .iter()
        .filter(|r| r.nearest_site.is_some())
        .filter(|r| {
            r.catchment
                .site
                .as_deref()
                .is_some_and(|s| site_points.iter().any(|p| p.id == s))
        })
        .collect();
    let nearest = (!considered.is_empty()).then(|| {
        let at = considered
            .iter()
            .filter(|r| r.nearest_site == r.catchment.site)
            .count();
        NearestShare {
            considered: considered.len(),
            at_nearest: at,
            share: at as f64 / considered.len() as f64,
        }
    });
    Analysis {
        inputs: runs
            .iter()
            .map(|r| InputSummary {
                origin: r.origin.clone(),
                records: r.records.len(),
                skipped: r.skipped.clone(),
            })
            .collect(),
        overall: group_stats("all", rows.iter().map(|r| r.min_rtt)),
        by_site: grouped(&rows, |r| Some(r.site_label())),
        by_country: grouped(&rows, |r| Some(r.country.as_deref().unwrap_or(UNKNOWN))),
        by_continent: grouped(&rows, |r| Some(r.continent.unwrap_or(UNKNOWN))),
        by_evidence,
        nearest,
        sites: site_points,
        probes: rows,
    }
}

impl Analysis {
    /// Rows by probe id, for diffs.
    pub fn by_probe(&self) -> HashMap<u32, &ProbeRow> {
        self.probes.iter().map(|r| (r.prb_id, r)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), Some(5.0));
        assert_eq!(percentile(&v, 90.0), Some(9.0));
        assert_eq!(percentile(&v, 100.0), Some(10.0));
        assert_eq!(percentile(&v, 0.0), Some(1.0));
        assert_eq!(percentile(&[], 50.0), None);
        let g = group_stats("x", [Some(3.0), None, Some(1.0)]);
        assert_eq!(
            (g.probes, g.with_rtt, g.p50, g.p90),
            (3, 2, Some(1.0), Some(3.0))
        );
    }
}
