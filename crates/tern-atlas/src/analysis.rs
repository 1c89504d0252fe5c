//! Latency and catchment analysis of one measurement run: per probe (site, minimum RTT to the
//! target, what ripe.atlas.sagan gives for its traceroute), per site, country and continent
//! (count, p50, p90), and the share of probes served by their geographically nearest site.
//!
//! [`Analyser`] takes records one at a time and keeps only per-probe counts, so a streamed file
//! of any size is analysed in memory that grows with the probes, not the records.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::net::IpAddr;

use serde::Serialize;
use tern_types::SiteId;

use crate::catchment::{Catchment, Evidence, SiteHints, Votes, hand_over};
use crate::error::AtlasError;
use crate::geo::{continent_of, distance_km};
use crate::probe::ProbeSet;
use crate::read::{RecordReader, Results, Skipped};
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
    pub nearest_site: Option<SiteId>,
    /// Great-circle distance to that site, km.
    pub nearest_km: Option<f64>,
    /// Great-circle distance to the site reached, km (when it has coordinates).
    pub site_km: Option<f64>,
    /// Results of this probe read.
    pub results: usize,
    /// The probe's latest traceroute, as ripe.atlas.sagan sees it.
    pub traceroute: Option<TraceFacts>,
}

/// One traceroute's per-probe values, as ripe.atlas.sagan's `TracerouteResult` gives them
/// (checked against sagan on the real files: `tests/sagan.rs`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TraceFacts {
    /// Measurement id.
    pub msm_id: u64,
    /// Start time, unix seconds.
    pub timestamp: i64,
    /// The target address.
    pub dst_addr: Option<IpAddr>,
    /// Hops in the result (sagan's `total_hops`).
    pub total_hops: usize,
    /// The target answered at the last hop (sagan's `destination_ip_responded`).
    pub destination_responded: bool,
    /// Median RTT of the last hop with RTTs, ms (sagan's `last_median_rtt`).
    pub last_median_rtt: Option<f64>,
    /// Minimum RTT of that hop, ms.
    pub last_min_rtt: Option<f64>,
    /// Minimum RTT of replies from the target itself, ms.
    pub min_rtt_to_destination: Option<f64>,
    /// The last public hop before the target (the hand-over point), when the target answered.
    pub hand_over: Option<IpAddr>,
}

impl TraceFacts {
    fn of(r: &Record) -> Option<TraceFacts> {
        let Body::Traceroute(t) = &r.body else {
            return None;
        };
        Some(TraceFacts {
            msm_id: r.msm_id,
            timestamp: r.timestamp,
            dst_addr: r.dst_addr,
            total_hops: t.hops.len(),
            destination_responded: t.destination_responded(r.dst_addr),
            last_median_rtt: t.last_median_rtt(),
            last_min_rtt: t.last_min_rtt(),
            min_rtt_to_destination: r.dst_addr.and_then(|d| t.min_rtt_from(d)),
            hand_over: hand_over(t, r.dst_addr),
        })
    }
}

/// What the keys of the catchment tables are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Keys {
    /// Sites (from hints, or names the targets give).
    Sites,
    /// No hints and traceroutes only: hand-over points, the network of the last hop before the
    /// target (mostly IXP LANs and transit routers), not sites.
    HandOver,
}

impl Keys {
    /// The keys in words, for table headers.
    pub fn label(self) -> &'static str {
        match self {
            Keys::Sites => "site",
            Keys::HandOver => "last hop before the target",
        }
    }
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
    pub id: SiteId,
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
    /// An array without its closing `]` (the file may be cut off).
    pub unclosed_array: bool,
}

impl InputSummary {
    /// The counts of a file read whole.
    pub fn of(r: &Results) -> InputSummary {
        InputSummary {
            origin: r.origin.clone(),
            records: r.records.len(),
            skipped: r.skipped.clone(),
            unclosed_array: r.unclosed_array,
        }
    }
}

/// The analysis of one run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Analysis {
    /// Inputs.
    pub inputs: Vec<InputSummary>,
    /// What the keys of `by_site` and the probes' `catchment.site` are.
    pub keys: Keys,
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

/// What is kept per probe while records stream in.
#[derive(Debug, Default)]
struct ProbeAcc {
    votes: Votes,
    min_rtt: Option<f64>,
    results: usize,
    traceroute: Option<TraceFacts>,
}

/// The analysis of one run, built record by record (see the module documentation).
#[derive(Debug)]
pub struct Analyser<'a> {
    probes: &'a ProbeSet,
    hints: Option<&'a SiteHints>,
    per_probe: BTreeMap<u32, ProbeAcc>,
    inputs: Vec<InputSummary>,
}

impl<'a> Analyser<'a> {
    /// An empty analysis with this probe metadata and these hints.
    pub fn new(probes: &'a ProbeSet, hints: Option<&'a SiteHints>) -> Self {
        Analyser {
            probes,
            hints,
            per_probe: BTreeMap::new(),
            inputs: Vec::new(),
        }
    }

    /// Adds one record.
    pub fn add(&mut self, r: &Record) {
        let acc = self.per_probe.entry(r.prb_id).or_default();
        acc.results += 1;
        acc.votes.add(r, self.hints);
        if let Some(v) = record_min_rtt(r) {
            acc.min_rtt = Some(acc.min_rtt.map_or(v, |m: f64| m.min(v)));
        }
        if let Some(f) = TraceFacts::of(r) {
            // The latest traceroute (a later record wins a tie).
            if acc
                .traceroute
                .as_ref()
                .is_none_or(|t| f.timestamp >= t.timestamp)
            {
                acc.traceroute = Some(f);
            }
        }
    }

    /// Adds an analysis of inputs read after this one's (e.g. by another thread): the result
    /// is the same as reading those inputs here, in order.
    pub fn merge(&mut self, later: Analyser<'_>) {
        for (prb, acc) in later.per_probe {
            match self.per_probe.entry(prb) {
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(acc);
                }
                std::collections::btree_map::Entry::Occupied(mut o) => {
                    let mine = o.get_mut();
                    mine.results += acc.results;
                    mine.votes.merge(acc.votes);
                    mine.min_rtt = match (mine.min_rtt, acc.min_rtt) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    if let Some(f) = acc.traceroute {
                        if mine
                            .traceroute
                            .as_ref()
                            .is_none_or(|t| f.timestamp >= t.timestamp)
                        {
                            mine.traceroute = Some(f);
                        }
                    }
                }
            }
        }
        self.inputs.extend(later.inputs);
    }

    /// Records one input's counts.
    pub fn add_input(&mut self, summary: InputSummary) {
        self.inputs.push(summary);
    }

    /// Streams every record of `reader` in; returns that input's counts (also kept).
    pub fn read<R: Read>(
        &mut self,
        mut reader: RecordReader<R>,
    ) -> Result<&InputSummary, AtlasError> {
        let mut records = 0;
        for r in &mut reader {
            self.add(&r?);
            records += 1;
        }
        self.inputs.push(InputSummary {
            origin: reader.origin().to_string(),
            records,
            skipped: reader.skipped().clone(),
            unclosed_array: reader.unclosed_array(),
        });
        Ok(&self.inputs[self.inputs.len() - 1])
    }

    /// The analysis.
    pub fn finish(self) -> Analysis {
        let hints = self.hints;
        let probes = self.probes;
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
        let rows: Vec<ProbeRow> = self
            .per_probe
            .into_iter()
            .map(|(prb_id, acc)| {
                let meta = probes.get(prb_id);
                let country = meta.and_then(|m| m.country.clone());
                let location = meta.and_then(|m| m.location());
                let nearest = location.and_then(|loc| {
                    site_points
                        .iter()
                        .map(|s| (distance_km(loc, (s.lat, s.lon)), s))
                        .min_by(|a, b| a.0.total_cmp(&b.0))
                });
                let catchment = acc.votes.catchment();
                let site_km = location.and_then(|loc| {
                    let site = catchment.site.as_deref()?;
                    let p = site_points.iter().find(|p| p.id.as_str() == site)?;
                    Some(distance_km(loc, (p.lat, p.lon)))
                });
                ProbeRow {
                    prb_id,
                    continent: country.as_deref().and_then(continent_of),
                    country,
                    lat: location.map(|l| l.0),
                    lon: location.map(|l| l.1),
                    asn: meta.and_then(|m| m.asn_v4.or(m.asn_v6)),
                    catchment,
                    min_rtt: acc.min_rtt,
                    nearest_site: nearest.map(|(_, s)| s.id.clone()),
                    nearest_km: nearest.map(|(d, _)| d),
                    site_km,
                    results: acc.results,
                    traceroute: acc.traceroute,
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
                    .is_some_and(|s| site_points.iter().any(|p| p.id.as_str() == s))
            })
            .collect();
        let nearest = (!considered.is_empty()).then(|| {
            let at = considered
                .iter()
                .filter(|r| {
                    r.nearest_site.as_ref().map(SiteId::as_str) == r.catchment.site.as_deref()
                })
                .count();
            NearestShare {
                considered: considered.len(),
                at_nearest: at,
                share: at as f64 / considered.len() as f64,
            }
        });
        let keys = if hints.is_none()
            && rows
                .iter()
                .any(|r| r.catchment.evidence == Some(Evidence::LastHop))
        {
            Keys::HandOver
        } else {
            Keys::Sites
        };
        Analysis {
            inputs: self.inputs,
            keys,
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
}

/// Analyses one run (one or more result files of the same moment) held in memory.
pub fn analyse(runs: &[Results], probes: &ProbeSet, hints: Option<&SiteHints>) -> Analysis {
    let mut a = Analyser::new(probes, hints);
    for run in runs {
        for r in &run.records {
            a.add(r);
        }
        a.add_input(InputSummary::of(run));
    }
    a.finish()
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
