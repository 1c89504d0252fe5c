//! The real graphs in ../shared/data (not in a fresh clone: skipped, said plainly): the 2016
//! CAIDA serial-1 file loads whole, and the 2018 TopoScope file's provider→customer cycles are
//! found, reported with their ASes and broken.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use tern_sim::asrel::{self, LinkKind};
use tern_sim::{Graph, Mode, propagate};

fn data(name: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/asrel")
        .join(name);
    if p.exists() {
        Some(p)
    } else {
        eprintln!(
            "\n*** SKIPPED: {} not found (full data lives in ../shared/data) ***\n",
            p.display()
        );
        None
    }
}

#[test]
fn caida_2016_loads_whole() {
    let Some(p) = data("20161101.as-rel.txt.bz2") else {
        return;
    };
    let f = asrel::read(&p).unwrap();
    let g = Graph::from_asrel(&f);
    assert_eq!(g.len(), 55_809);
    assert_eq!(f.links.len(), 239_064);
    assert!(f.comments > 0);
    eprintln!(
        "2016 CAIDA: {} ASes, {} links, {} cycles",
        g.len(),
        f.links.len(),
        f.cycles.len()
    );
}

#[test]
fn toposcope_cycles_are_broken_and_reported() {
    let Some(p) = data("toposcope_asrel_201806.txt") else {
        return;
    };
    let mut f = asrel::read(&p).unwrap();
    assert!(
        !f.cycles.is_empty(),
        "the TopoScope file has provider→customer cycles"
    );
    for c in &f.cycles {
        assert!(c.ases.len() >= 2);
        assert_eq!(c.ases[0], c.broken.1, "the broken edge closes the cycle");
        assert_eq!(*c.ases.last().unwrap(), c.broken.0);
        let l = f.links.iter().find(|l| (l.a, l.b) == c.broken).unwrap();
        assert_eq!(l.kind, LinkKind::Peer);
    }
    eprintln!(
        "TopoScope 2018: {} links, {} cycles broken, e.g. {:?}",
        f.links.len(),
        f.cycles.len(),
        &f.cycles[..f.cycles.len().min(3)]
    );
    assert!(asrel::break_cycles(&mut f.links).is_empty());
    // Propagation terminates and is stable on it.
    let g = Graph::from_asrel(&f);
    assert_eq!(g.len(), 61_411);
    let sc = tern_sim::Scenario {
        sites: vec!["a".into()],
        origins: vec![tern_sim::Origin {
            site: 0,
            upstream: "u".into(),
            node: g.of_as(20473)[0],
            prepend: 0,
            effects: Vec::new(),
        }],
    };
    assert!(!propagate(&g, &sc, Mode::Sets).unstable);
}
