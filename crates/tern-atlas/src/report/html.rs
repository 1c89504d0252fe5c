//! One self-contained HTML page per report: no network fetches, only inline CSS, SVG and a few
//! lines of JS. A world map of the probes coloured by site (equirectangular; land outline from
//! Natural Earth via world-atlas, see `assets/README.md`), latency CDFs and the tables.
//!
//! The script sets `<body data-ok="1">` when it ran to its end without an error (and
//! `data-error` otherwise), so a headless browser test can tell a working page from a broken one.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::analysis::{Analysis, GroupStats, ProbeRow, UNKNOWN};
use crate::diff::{Diff, RegionChange};
use crate::report::{ms, signed_ms};

/// Land outline, 3600×1800 equirectangular grid (x = (lon+180)·10, y = (90−lat)·10).
const LAND: &str = include_str!("../../assets/land-110m.svgpath");

/// Site colours, in order of site size; further sites share [`OTHER`].
const PALETTE: [&str; 12] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#bcbd22", "#393b79", "#637939", "#ad494a",
];
const OTHER: &str = "#7f7f7f";
const UNKNOWN_COLOUR: &str = "#c8c8c8";

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fff}\
h1{font-size:22px}h2{font-size:17px;margin-top:28px}\
table{border-collapse:collapse;margin:8px 0}td,th{padding:2px 10px;border-bottom:1px solid #ddd;text-align:right}\
td:first-child,th:first-child{text-align:left}th{background:#f2f2f2}\
.map{width:100%;max-width:1300px;background:#eaf2fb;border:1px solid #ccd}\
.land{fill:#d9d4c7;stroke:#b3ab99;stroke-width:1}\
.probe{stroke:#fff;stroke-width:2}.site{stroke:#000;stroke-width:4}\
.legend span{display:inline-block;margin:2px 12px 2px 0;cursor:pointer}\
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px;border-radius:6px}\
.dim{opacity:.12}.cdf{max-width:1000px;width:100%}.cdf text{font-size:12px}\
.grid{stroke:#e3e3e3}.axis{stroke:#555}.worse{color:#b00}";

/// Page script: legend click highlights one site; marks the page as rendered.
const SCRIPT: &str = "window.addEventListener('error',function(e){document.body.dataset.error=String(e.message)});\
(function(){var dots=document.querySelectorAll('circle.probe');\
document.querySelectorAll('.legend span').forEach(function(s){s.addEventListener('click',function(){\
var k=s.dataset.site,on=s.classList.toggle('sel');document.querySelectorAll('.legend span').forEach(function(o){if(o!==s)o.classList.remove('sel')});\
dots.forEach(function(d){d.classList.toggle('dim',on&&d.dataset.site!==k)})})});\
if(!document.querySelector('svg.map path.land'))throw new Error('map missing');\
document.body.dataset.probes=String(dots.length);document.body.dataset.ok='1'})();";

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// Colour per site label: the largest sites get palette colours.
fn colours(by_site: &[GroupStats]) -> BTreeMap<String, &'static str> {
    let mut m = BTreeMap::new();
    let mut i = 0;
    for g in by_site {
        let c = if g.key == UNKNOWN {
            UNKNOWN_COLOUR
        } else if i < PALETTE.len() {
            i += 1;
            PALETTE[i - 1]
        } else {
            OTHER
        };
        m.insert(g.key.clone(), c);
    }
    m
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head>\n<body>\n{body}\n<script>{SCRIPT}</script>\n</body></html>\n",
        esc(title)
    )
}

fn legend(by_site: &[GroupStats], col: &BTreeMap<String, &str>) -> String {
    let mut s = String::from("<div class=\"legend\">");
    for g in by_site
        .iter()
        .filter(|g| col.get(&g.key).is_some_and(|c| *c != OTHER))
    {
        let _ = write!(
            s,
            "<span data-site=\"{k}\"><i style=\"background:{c}\"></i>{k} ({n})</span>",
            k = esc(&g.key),
            c = col.get(&g.key).copied().unwrap_or(OTHER),
            n = g.probes
        );
    }
    if by_site.iter().any(|g| col.get(&g.key) == Some(&OTHER)) {
        let _ = write!(
            s,
            "<span><i style=\"background:{OTHER}\"></i>other sites</span>"
        );
    }
    s.push_str("</div>");
    s
}

/// The map: land, probes (coloured by `site_of`), and sites with coordinates.
fn map(a: &Analysis, col: &BTreeMap<String, &str>, ring: impl Fn(&ProbeRow) -> bool) -> String {
    let mut s = format!(
        "<svg class=\"map\" viewBox=\"0 0 3600 1800\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\">\
         <path class=\"land\" d=\"{LAND}\"/>"
    );
    for p in &a.probes {
        let (Some(lat), Some(lon)) = (p.lat, p.lon) else {
            continue;
        };
        let site = p.site_label();
        let c = col.get(site).copied().unwrap_or(OTHER);
        let extra = if ring(p) {
            " style=\"stroke:#000;stroke-width:5\""
        } else {
            ""
        };
        let _ = write!(
            s,
            "<circle class=\"probe\" data-site=\"{k}\" cx=\"{x:.0}\" cy=\"{y:.0}\" r=\"11\" fill=\"{c}\"{extra}>\
             <title>probe {id} {cc} → {k}, {rtt} ms</title></circle>",
            k = esc(site),
            x = (lon + 180.0) * 10.0,
            y = (90.0 - lat) * 10.0,
            id = p.prb_id,
            cc = esc(p.country.as_deref().unwrap_or("")),
            rtt = ms(p.min_rtt),
        );
    }
    for site in &a.sites {
        let c = col.get(site.id.as_str()).copied().unwrap_or(OTHER);
        let (x, y) = ((site.lon + 180.0) * 10.0, (90.0 - site.lat) * 10.0);
        let _ = write!(
            s,
            "<rect class=\"site\" x=\"{:.0}\" y=\"{:.0}\" width=\"34\" height=\"34\" fill=\"{c}\"><title>site {}</title></rect>",
            x - 17.0,
            y - 17.0,
            esc(site.id.as_str())
        );
    }
    s.push_str("</svg>");
    s
}

/// A CDF chart of several series of RTTs (ms), log-scaled x axis from 1 ms.
fn cdf(series: &[(String, &str, Vec<f64>)]) -> String {
    let (w, h, left, bottom, top, right) = (1000.0, 360.0, 50.0, 40.0, 10.0, 260.0);
    let max = series
        .iter()
        .flat_map(|s| s.2.iter().copied())
        .fold(10.0f64, f64::max);
    // At most 10^6 ms on the axis: the tick loop below stays bounded whatever the input.
    let xmax = 10f64.powf(max.log10().ceil().clamp(1.0, 6.0));
    let lx = |v: f64| left + (v.clamp(1.0, xmax).log10() / xmax.log10()) * (w - left - right);
    let ly = |f: f64| top + (1.0 - f) * (h - top - bottom);
    let mut s = format!(
        "<svg class=\"cdf\" viewBox=\"0 0 {w} {h}\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\">"
    );
    let mut tick = 1.0;
    while tick <= xmax {
        for m in [1.0, 3.0] {
            let v = tick * m;
            if v > xmax {
                continue;
            }
            let x = lx(v);
            let _ = write!(
                s,
                "<line class=\"grid\" x1=\"{x:.1}\" y1=\"{top}\" x2=\"{x:.1}\" y2=\"{:.1}\"/>\
                 <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{v}</text>",
                h - bottom,
                h - bottom + 16.0
            );
        }
        tick *= 10.0;
    }
    for f in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let y = ly(f);
        let _ = write!(
            s,
            "<line class=\"grid\" x1=\"{left}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{f}</text>",
            w - right,
            left - 6.0,
            y + 4.0
        );
    }
    let _ = write!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">minimum RTT to the target (ms, log scale)</text>",
        (left + w - right) / 2.0,
        h - 4.0
    );
    for (i, (name, colour, values)) in series.iter().enumerate() {
        let mut v = values.clone();
        v.sort_by(f64::total_cmp);
        if v.is_empty() {
            continue;
        }
        let n = v.len() as f64;
        let mut pts = format!("{:.1},{:.1}", lx(v[0]), ly(0.0));
        for (k, x) in v.iter().enumerate() {
            let _ = write!(
                pts,
                " {:.1},{:.1} {:.1},{:.1}",
                lx(*x),
                ly(k as f64 / n),
                lx(*x),
                ly((k + 1) as f64 / n)
            );
        }
        let _ = write!(
            s,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{pts}\"/>\
             <line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{colour}\" stroke-width=\"3\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\">{} ({})</text>",
            w - right + 10.0,
            top + 10.0 + 18.0 * i as f64,
            w - right + 30.0,
            top + 10.0 + 18.0 * i as f64,
            w - right + 34.0,
            top + 14.0 + 18.0 * i as f64,
            esc(name),
            values.len()
        );
    }
    s.push_str("</svg>");
    s
}

fn stats_table(title: &str, groups: &[GroupStats]) -> String {
    let mut s = format!(
        "<table><tr><th>{}</th><th>probes</th><th>with RTT</th><th>p50 ms</th><th>p90 ms</th></tr>",
        esc(title)
    );
    for g in groups {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&g.key),
            g.probes,
            g.with_rtt,
            ms(g.p50),
            ms(g.p90)
        );
    }
    s.push_str("</table>");
    s
}

/// CDF series: all probes, then the largest sites.
fn site_series<'a>(
    a: &Analysis,
    col: &BTreeMap<String, &'a str>,
) -> Vec<(String, &'a str, Vec<f64>)> {
    let mut out = vec![(
        "all".to_string(),
        "#000",
        a.probes.iter().filter_map(|p| p.min_rtt).collect(),
    )];
    for g in a
        .by_site
        .iter()
        .filter(|g| g.key != UNKNOWN && g.with_rtt > 0)
        .take(8)
    {
        out.push((
            g.key.clone(),
            col.get(&g.key).copied().unwrap_or(OTHER),
            a.probes
                .iter()
                .filter(|p| p.site_label() == g.key)
                .filter_map(|p| p.min_rtt)
                .collect(),
        ));
    }
    out
}

fn summary(a: &Analysis) -> String {
    let mut s = String::from("<p>");
    for i in &a.inputs {
        let _ = write!(
            s,
            "{}: {} records, {} skipped<br>",
            esc(&i.origin),
            i.records,
            i.skipped.count
        );
    }
    let o = &a.overall;
    let _ = write!(
        s,
        "<b>{}</b> probes, {} with an RTT to the target; p50 <b>{}</b> ms, p90 <b>{}</b> ms.",
        o.probes,
        o.with_rtt,
        ms(o.p50),
        ms(o.p90)
    );
    if let Some(n) = &a.nearest {
        let _ = write!(
            s,
            " Served by the nearest site: {}/{} ({:.1}%).",
            n.at_nearest,
            n.considered,
            100.0 * n.share
        );
    }
    let located = a.probes.iter().filter(|p| p.lat.is_some()).count();
    let _ = write!(
        s,
        " {located} probes have a location and are on the map.</p>"
    );
    s
}

/// The report of one run.
pub fn analysis(a: &Analysis) -> String {
    let col = colours(&a.by_site);
    let mut b = String::from("<h1>tern atlas: catchment and latency</h1>");
    b.push_str(&summary(a));
    b.push_str("<h2>Probes by site</h2>");
    b.push_str(&legend(&a.by_site, &col));
    b.push_str(&map(a, &col, |_| false));
    b.push_str("<h2>Latency CDF</h2>");
    b.push_str(&cdf(&site_series(a, &col)));
    b.push_str(match a.keys {
        crate::analysis::Keys::Sites => "<h2>Sites</h2>",
        crate::analysis::Keys::HandOver => {
            "<h2>Hand-over points (last hop before the target; no site hints)</h2>"
        }
    });
    b.push_str(&stats_table(a.keys.label(), &a.by_site));
    b.push_str("<h2>Continents</h2>");
    b.push_str(&stats_table("continent", &a.by_continent));
    b.push_str("<h2>Countries</h2>");
    b.push_str(&stats_table("country", &a.by_country));
    page("tern atlas report", &b)
}

fn region_table(title: &str, rows: &[RegionChange]) -> String {
    let mut s = format!(
        "<table><tr><th>{}</th><th>probes</th><th>p50 before</th><th>p50 after</th><th>p50 Δ</th><th>better</th><th>worse</th></tr>",
        esc(title)
    );
    for r in rows {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.key),
            r.probes,
            ms(r.p50_before),
            ms(r.p50_after),
            signed_ms(r.p50_delta),
            r.better,
            r.worse
        );
    }
    s.push_str("</table>");
    s
}

/// The report of a diff: the "after" map (probes that changed site ringed), before/after CDFs,
/// the transition matrix, regional changes and the probes that got worse.
pub fn diff(before: &Analysis, after: &Analysis, d: &Diff) -> String {
    let col = colours(&after.by_site);
    let changed: std::collections::HashSet<u32> = d
        .probes
        .iter()
        .filter(|c| c.site_before != c.site_after)
        .map(|c| c.prb_id)
        .collect();
    let mut b = String::from("<h1>tern atlas: before vs after</h1>");
    let _ = write!(
        b,
        "<p><b>{}</b> probes in both runs ({} only before, {} only after); <b>{}</b> changed site; \
         <b class=\"worse\">{}</b> got worse. p50 {} → {} ms.</p>",
        d.matched,
        d.only_before,
        d.only_after,
        d.site_changed,
        d.worse.len(),
        ms(before.overall.p50),
        ms(after.overall.p50)
    );
    b.push_str("<h2>Probes by site after the change (ringed: changed site)</h2>");
    b.push_str(&legend(&after.by_site, &col));
    b.push_str(&map(after, &col, |p| changed.contains(&p.prb_id)));
    b.push_str("<h2>Latency CDF</h2>");
    b.push_str(&cdf(&[
        (
            "before".into(),
            "#1f77b4",
            before.probes.iter().filter_map(|p| p.min_rtt).collect(),
        ),
        (
            "after".into(),
            "#d62728",
            after.probes.iter().filter_map(|p| p.min_rtt).collect(),
        ),
    ]));
    b.push_str("<h2>Site transitions (rows: before, columns: after)</h2><table><tr><th></th>");
    for s in &d.sites {
        let _ = write!(b, "<th>{}</th>", esc(s));
    }
    b.push_str("</tr>");
    for (i, s) in d.sites.iter().enumerate() {
        let _ = write!(b, "<tr><td>{}</td>", esc(s));
        for (j, n) in d.matrix[i].iter().enumerate() {
            let style = if i != j && *n > 0 {
                " class=\"worse\""
            } else {
                ""
            };
            let _ = write!(
                b,
                "<td{style}>{}</td>",
                if *n == 0 {
                    String::from("·")
                } else {
                    n.to_string()
                }
            );
        }
        b.push_str("</tr>");
    }
    b.push_str("</table><h2>Continents</h2>");
    b.push_str(&region_table("continent", &d.by_continent));
    b.push_str("<h2>Countries</h2>");
    b.push_str(&region_table("country", &d.by_country));
    b.push_str("<h2>Probes that got worse</h2><table><tr><th>probe</th><th>country</th><th>site before</th><th>site after</th><th>before ms</th><th>after ms</th><th>Δ ms</th></tr>");
    for c in &d.worse {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"worse\">{}</td></tr>",
            c.prb_id,
            esc(c.country.as_deref().unwrap_or("-")),
            esc(&c.site_before),
            esc(&c.site_after),
            ms(c.rtt_before),
            ms(c.rtt_after),
            signed_ms(c.delta)
        );
    }
    b.push_str("</table>");
    page("tern atlas diff", &b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            esc("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }

    #[test]
    fn cdf_of_absurd_values_is_bounded() {
        let svg = cdf(&[("x".into(), "#000", vec![0.0, 1e300, f64::MAX])]);
        assert!(svg.ends_with("</svg>"));
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }

    #[test]
    fn land_asset_is_a_path() {
        assert!(LAND.starts_with('M'));
        assert!(LAND.len() > 10_000);
        assert!(LAND.trim_end().ends_with('z'));
    }
}
