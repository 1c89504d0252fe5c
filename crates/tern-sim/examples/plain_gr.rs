//! Plain Gao-Rexford on a CAIDA file with our AS a customer of each given provider AS (one
//! site per provider, named `as<ASN>`): prints, per AS, its tie set and its pick as JSON lines
//! `{"asn":…,"sites":[…],"pick":…}` and the timings on stderr. The tern side of
//! `scripts/bgpy_compare.py`.
//!
//!   cargo run --release -p tern-sim --example plain_gr -- FILE 20473 53667 …

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::time::Instant;

use tern_sim::policy::{Origin, Scenario};
use tern_sim::{Graph, Mode, asrel, propagate};

fn main() {
    let mut args = std::env::args().skip(1);
    let file = args.next().expect("usage: plain_gr FILE PROVIDER_ASN…");
    let providers: Vec<u32> = args.map(|a| a.parse().unwrap()).collect();
    let t = Instant::now();
    let g = Graph::from_asrel(&asrel::read(std::path::Path::new(&file)).unwrap());
    eprintln!("tern load: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    let sc = Scenario {
        sites: providers.iter().map(|p| format!("as{p}")).collect(),
        origins: providers
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
    let t = Instant::now();
    let sets = propagate(&g, &sc, Mode::Sets);
    let pick = propagate(&g, &sc, Mode::Pick);
    eprintln!("tern sets+pick: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for i in 0..g.len() as u32 {
        let sites = sets.routes[i as usize]
            .map(|r| sc.names(sc.sites_of(r.origins)))
            .unwrap_or_default();
        let p = pick.routes[i as usize].map(|r| sc.sites[sc.origins[r.pick as usize].site].clone());
        let _ = writeln!(
            out,
            "{{\"asn\":{},\"sites\":{:?},\"pick\":{}}}",
            g.node(i).asn,
            sites,
            p.map(|s| format!("{s:?}")).unwrap_or_else(|| "null".into())
        );
    }
}
