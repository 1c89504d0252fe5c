//! Before vs after: two analyses of the same probe set compared probe by probe — the site
//! transition matrix, latency change per continent and country, and the probes that got worse.
//! (Aggregates hide changes; RIPE NCC's advice in ripe-atlas-tools #22 is to compare per probe.)

use std::collections::BTreeMap;

use serde::Serialize;

use crate::analysis::{Analysis, ProbeRow, percentile};

/// A probe is "worse" when its minimum RTT grew by more than this many ms …
pub const WORSE_MS: f64 = 1.0;
/// … and by more than this fraction of its "before" RTT (filters jitter on long paths).
pub const WORSE_FRACTION: f64 = 0.05;

/// One probe present in both runs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProbeChange {
    /// Probe id.
    pub prb_id: u32,
    /// Country code.
    pub country: Option<String>,
    /// Continent code.
    pub continent: Option<&'static str>,
    /// Site before.
    pub site_before: String,
    /// Site after.
    pub site_after: String,
    /// Minimum RTT before (ms).
    pub rtt_before: Option<f64>,
    /// Minimum RTT after (ms).
    pub rtt_after: Option<f64>,
    /// after − before (ms), when both are known.
    pub delta: Option<f64>,
}

/// Latency change of one region.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RegionChange {
    /// Continent or country code.
    pub key: String,
    /// Probes with an RTT in both runs.
    pub probes: usize,
    /// Median RTT before (ms).
    pub p50_before: Option<f64>,
    /// Median RTT after (ms).
    pub p50_after: Option<f64>,
    /// Median of the per-probe changes (ms).
    pub p50_delta: Option<f64>,
    /// Probes better by the "worse" thresholds mirrored.
    pub better: usize,
    /// Probes worse.
    pub worse: usize,
}

/// The comparison.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diff {
    /// Probes in both runs.
    pub matched: usize,
    /// Probes only in the "before" run.
    pub only_before: usize,
    /// Probes only in the "after" run.
    pub only_after: usize,
    /// Probes whose site changed.
    pub site_changed: usize,
    /// Site labels (rows and columns of the matrix), most probes first.
    pub sites: Vec<String>,
    /// `matrix[i][j]`: probes at `sites[i]` before and `sites[j]` after.
    pub matrix: Vec<Vec<usize>>,
    /// Per continent.
    pub by_continent: Vec<RegionChange>,
    /// Per country.
    pub by_country: Vec<RegionChange>,
    /// Probes that got worse, largest increase first.
    pub worse: Vec<ProbeChange>,
    /// Every matched probe.
    pub probes: Vec<ProbeChange>,
}

fn is_worse(c: &ProbeChange) -> bool {
    match (c.delta, c.rtt_before) {
        (Some(d), Some(b)) => d > WORSE_MS && d > WORSE_FRACTION * b,
        _ => false,
    }
}

fn is_better(c: &ProbeChange) -> bool {
    match (c.delta, c.rtt_before) {
        (Some(d), Some(b)) => -d > WORSE_MS && -d > WORSE_FRACTION * b,
        _ => false,
    }
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

fn regions<'a>(
    changes: &'a [ProbeChange],
    key: impl Fn(&'a ProbeChange) -> Option<&'a str>,
) -> Vec<RegionChange> {
    let mut groups: BTreeMap<&str, Vec<&ProbeChange>> = BTreeMap::new();
    for c in changes.iter().filter(|c| c.delta.is_some()) {
        if let Some(k) = key(c) {
            groups.entry(k).or_default().push(c);
        }
    }
    let mut out: Vec<RegionChange> = groups
        .into_iter()
        .map(|(k, cs)| {
            let before = sorted(cs.iter().filter_map(|c| c.rtt_before).collect());
            let after = sorted(cs.iter().filter_map(|c| c.rtt_after).collect());
            let delta = sorted(cs.iter().filter_map(|c| c.delta).collect());
            RegionChange {
                key: k.to_string(),
                probes: cs.len(),
                p50_before: percentile(&before, 50.0),
                p50_after: percentile(&after, 50.0),
                p50_delta: percentile(&delta, 50.0),
                better: cs.iter().filter(|c| is_better(c)).count(),
                worse: cs.iter().filter(|c| is_worse(c)).count(),
            }
        })
        .collect();
    out.sort_by(|a, b| b.probes.cmp(&a.probes).then(a.key.cmp(&b.key)));
    out
}

fn change(b: &ProbeRow, a: &ProbeRow) -> ProbeChange {
    ProbeChange {
        prb_id: b.prb_id,
        country: b.country.clone().or_else(|| a.country.clone()),
        continent: b.continent.or(a.continent),
        site_before: b.site_label().to_string(),
        site_after: a.site_label().to_string(),
        rtt_before: b.min_rtt,
        rtt_after: a.min_rtt,
        delta: match (b.min_rtt, a.min_rtt) {
            (Some(x), Some(y)) => Some(y - x),
            _ => None,
        },
    }
}

/// Compares two runs probe by probe.
pub fn diff(before: &Analysis, after: &Analysis) -> Diff {
    let after_rows = after.by_probe();
    let before_rows = before.by_probe();
    let probes: Vec<ProbeChange> = before
        .probes
        .iter()
        .filter_map(|b| after_rows.get(&b.prb_id).map(|a| change(b, a)))
        .collect();
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &probes {
        *count.entry(&c.site_before).or_default() += 1;
        *count.entry(&c.site_after).or_default() += 1;
    }
    let mut sites: Vec<(&str, usize)> = count.into_iter().collect();
    sites.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let sites: Vec<String> = sites.into_iter().map(|(s, _)| s.to_string()).collect();
    let idx: BTreeMap<&str, usize> = sites
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let mut matrix = vec![vec![0usize; sites.len()]; sites.len()];
    for c in &probes {
        if let (Some(&i), Some(&j)) = (
            idx.get(c.site_before.as_str()),
            idx.get(c.site_after.as_str()),
        ) {
            matrix[i][j] += 1;
        }
    }
    let mut worse: Vec<ProbeChange> = probes.iter().filter(|c| is_worse(c)).cloned().collect();
    worse.sort_by(|a, b| {
        b.delta
            .unwrap_or(0.0)
            .total_cmp(&a.delta.unwrap_or(0.0))
            .then(a.prb_id.cmp(&b.prb_id))
    });
    Diff {
        matched: probes.len(),
        only_before: before.probes.len() - probes.len(),
        only_after: after
            .probes
            .iter()
            .filter(|a| !before_rows.contains_key(&a.prb_id))
            .count(),
        site_changed: probes
            .iter()
            .filter(|c| c.site_before != c.site_after)
            .count(),
        by_continent: regions(&probes, |c| c.continent),
        by_country: regions(&probes, |c| c.country.as_deref()),
        sites,
        matrix,
        worse,
        probes,
    }
}
