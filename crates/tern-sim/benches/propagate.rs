//! Bench on the 2016 CAIDA graph (../shared/data): graph load, one propagation, 1,000 what-if
//! configurations (rayon). Plain Gao-Rexford attachments of examples/anycast (our AS a customer
//! of each site's provider AS), the same ones `scripts/bgpy_compare.py` gives bgpy.
//!
//!   cargo bench -p tern-sim --bench propagate
//!
//! Prints min and median over several runs. Not run by CI; skipped (said plainly) without the data.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use tern_sim::policy::{Applied, Effect, Origin, Scenario};
use tern_sim::{Graph, Mode, asrel, propagate, propagate_many};

const GRAPH: &str = "../../../shared/data/asrel/20161101.as-rel.txt.bz2";
/// Provider ASes of the bench's sites (Vultr, BuyVM/FranTech, and three more hosts).
pub const PROVIDERS: [u32; 5] = [20473, 53667, 16509, 14061, 24940];

fn stats(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort();
    (v[0].as_secs_f64() * 1e3, v[v.len() / 2].as_secs_f64() * 1e3)
}

fn main() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(GRAPH);
    if !path.exists() {
        println!(
            "SKIPPED: {} not found (full data lives in ../shared/data)",
            path.display()
        );
        return;
    }
    let mut loads = Vec::new();
    let mut g: Option<Graph> = None;
    for _ in 0..5 {
        let t = Instant::now();
        let f = asrel::read(&path).unwrap();
        let gg = Graph::from_asrel(&f);
        loads.push(t.elapsed());
        g = Some(gg);
    }
    let g = g.unwrap();
    let (lmin, lmed) = stats(loads);
    println!("graph: {} nodes, {} adjacencies", g.len(), g.adjacencies());
    println!("load (read + bunzip2 + parse + cycles + CSR): min {lmin:.1} ms, median {lmed:.1} ms");
    let base = Scenario {
        sites: PROVIDERS.iter().map(|p| format!("site-as{p}")).collect(),
        origins: PROVIDERS
            .iter()
            .enumerate()
            .map(|(i, p)| Origin {
                site: i,
                upstream: "u".into(),
                node: g.of_as(*p)[0],
                prepend: 0,
                effects: Vec::new(),
            })
            .collect(),
    };
    for mode in [Mode::Sets, Mode::Pick] {
        let mut one = Vec::new();
        for _ in 0..20 {
            let t = Instant::now();
            let o = propagate(&g, &base, mode);
            one.push(t.elapsed());
            assert!(!o.unstable);
            if one.len() == 1 {
                println!(
                    "  pops {} for {} nodes, reached {}",
                    o.pops,
                    g.len(),
                    o.routes.iter().flatten().count()
                );
            }
        }
        let (min, med) = stats(one);
        println!("one propagation ({mode:?}): min {min:.2} ms, median {med:.2} ms");
    }
    // 1,000 configurations: prepends 0..3 per site, no-announce to one tier-1 at some sites.
    let tier1 = [174u32, 1299, 2914, 3356, 6939, 3257, 6453, 6762];
    let configs: Vec<Scenario> = (0..1000u32)
        .map(|k| {
            let mut s = base.clone();
            for (i, o) in s.origins.iter_mut().enumerate() {
                o.prepend = ((k >> (2 * i)) & 3) as u8;
                if (k + i as u32) % 3 == 0 {
                    o.effects.push(Applied {
                        by: Some(PROVIDERS[i]),
                        effect: Effect::NoAnnounce {
                            to: tern_model::policy::Neighbors::As(tern_types::Asn(
                                tier1[(k as usize + i) % tier1.len()],
                            )),
                            region: None,
                        },
                        note: String::new(),
                    });
                }
            }
            s
        })
        .collect();
    let mut many = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let out = propagate_many(&g, &configs, Mode::Sets, tern_sim::site_counts);
        many.push(t.elapsed());
        assert_eq!(out.len(), 1000);
    }
    let (min, med) = stats(many);
    println!(
        "1,000 configurations (Sets, rayon, {} threads): min {min:.0} ms, median {med:.0} ms",
        rayon::current_num_threads()
    );
    if let Ok(s) = std::fs::read_to_string("/proc/self/status") {
        if let Some(l) = s.lines().find(|l| l.starts_with("VmHWM")) {
            println!("peak memory: {}", l.trim_start_matches("VmHWM:").trim());
        }
    }
}
