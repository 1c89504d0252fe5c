//! Terminal tables for `tern atlas analyse` and `tern atlas diff`.

use std::fmt::Write;

use crate::analysis::{Analysis, GroupStats};
use crate::diff::{Diff, RegionChange};
use crate::report::{ms, signed_ms};

/// A plain-text table: left-aligned first column, right-aligned others.
#[derive(Debug, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles.
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }
    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }
    /// Renders the table.
    pub fn render(&self) -> String {
        let n = self.header.len();
        let mut w = vec![0usize; n];
        for r in std::iter::once(&self.header).chain(&self.rows) {
            for (i, c) in r.iter().enumerate().take(n) {
                w[i] = w[i].max(c.chars().count());
            }
        }
        let mut out = String::new();
        for (k, r) in std::iter::once(&self.header).chain(&self.rows).enumerate() {
            let mut line = String::new();
            for (i, c) in r.iter().enumerate().take(n) {
                if i == 0 {
                    let _ = write!(line, "{c:<width$}", width = w[i]);
                } else {
                    let _ = write!(line, "  {c:>width$}", width = w[i]);
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
            if k == 0 {
                let total = w.iter().sum::<usize>() + 2 * n.saturating_sub(1);
                out.push_str(&"-".repeat(total));
                out.push('\n');
            }
        }
        out
    }
}

fn stats_table(title: &str, groups: &[GroupStats], limit: usize) -> String {
    let mut t = Table::new(&[title, "probes", "with rtt", "p50 ms", "p90 ms"]);
    for g in groups.iter().take(limit) {
        t.row(vec![
            g.key.clone(),
            g.probes.to_string(),
            g.with_rtt.to_string(),
            ms(g.p50),
            ms(g.p90),
        ]);
    }
    let mut s = t.render();
    if groups.len() > limit {
        let _ = writeln!(s, "… and {} more", groups.len() - limit);
    }
    s
}

/// The report of one run; `limit` bounds the rows of each table.
pub fn analysis(a: &Analysis, limit: usize) -> String {
    let mut s = String::new();
    for i in &a.inputs {
        let _ = writeln!(
            s,
            "{}: {} records, {} skipped",
            i.origin, i.records, i.skipped.count
        );
        for r in &i.skipped.first {
            let _ = writeln!(
                s,
                "  skipped record #{} (line {}, byte {}): {}",
                r.index, r.line, r.offset, r.reason
            );
        }
        if i.unclosed_array {
            let _ = writeln!(s, "  the array has no closing `]`: the file may be cut off");
        }
    }
    let o = &a.overall;
    let _ = writeln!(
        s,
        "\n{} probes, {} with an RTT to the target; p50 {} ms, p90 {} ms",
        o.probes,
        o.with_rtt,
        ms(o.p50),
        ms(o.p90)
    );
    let ev: Vec<String> = a
        .by_evidence
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let _ = writeln!(s, "catchment evidence: {}", ev.join(", "));
    match &a.nearest {
        Some(n) => {
            let _ = writeln!(
                s,
                "served by the nearest site: {}/{} probes ({:.1}%)",
                n.at_nearest,
                n.considered,
                100.0 * n.share
            );
        }
        None => {
            let _ = writeln!(s, "served by the nearest site: n/a (no site coordinates)");
        }
    }
    s.push('\n');
    if a.keys == crate::analysis::Keys::HandOver {
        s.push_str(
            "no site hints: the keys are hand-over points, the network of the last public hop \
             before the target (mostly IXP LANs and transit routers), not sites\n",
        );
    }
    s.push_str(&stats_table(a.keys.label(), &a.by_site, limit));
    s.push('\n');
    s.push_str(&stats_table("continent", &a.by_continent, limit));
    s.push('\n');
    s.push_str(&stats_table("country", &a.by_country, limit));
    s
}

fn region_table(title: &str, rows: &[RegionChange], limit: usize) -> String {
    let mut t = Table::new(&[
        title,
        "probes",
        "p50 before",
        "p50 after",
        "p50 Δ",
        "better",
        "worse",
    ]);
    for r in rows.iter().take(limit) {
        t.row(vec![
            r.key.clone(),
            r.probes.to_string(),
            ms(r.p50_before),
            ms(r.p50_after),
            signed_ms(r.p50_delta),
            r.better.to_string(),
            r.worse.to_string(),
        ]);
    }
    t.render()
}

/// The report of a diff.
pub fn diff(d: &Diff, limit: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} probes in both runs ({} only before, {} only after); {} changed site",
        d.matched, d.only_before, d.only_after, d.site_changed
    );
    if d.matched == 0 {
        let _ = writeln!(
            s,
            "no probe took part in both runs: measure the \"after\" run with the same probes \
             (tern atlas measure --from-msm <before id>)"
        );
        return s;
    }
    let shown = d.sites.len().min(limit);
    let mut header: Vec<&str> = vec!["before \\ after"];
    header.extend(d.sites.iter().take(shown).map(String::as_str));
    let mut t = Table::new(&header);
    for (i, site) in d.sites.iter().enumerate().take(shown) {
        let mut row = vec![site.clone()];
        row.extend(d.matrix[i].iter().take(shown).map(|n| match n {
            0 => ".".to_string(),
            n => n.to_string(),
        }));
        t.row(row);
    }
    s.push_str("\nsite transitions\n");
    s.push_str(&t.render());
    if d.sites.len() > shown {
        let _ = writeln!(s, "… {} more sites (see --json)", d.sites.len() - shown);
    }
    s.push('\n');
    s.push_str(&region_table("continent", &d.by_continent, limit));
    s.push('\n');
    s.push_str(&region_table("country", &d.by_country, limit));
    let _ = writeln!(s, "\n{} probes got worse", d.worse.len());
    let mut t = Table::new(&[
        "probe",
        "country",
        "site before",
        "site after",
        "before ms",
        "after ms",
        "Δ ms",
    ]);
    for c in d.worse.iter().take(limit) {
        t.row(vec![
            c.prb_id.to_string(),
            c.country.clone().unwrap_or_else(|| "-".into()),
            c.site_before.clone(),
            c.site_after.clone(),
            ms(c.rtt_before),
            ms(c.rtt_after),
            signed_ms(c.delta),
        ]);
    }
    s.push_str(&t.render());
    s
}
