//! Propagation on hand-made graphs (exact expectations) and invariants on random graphs:
//! valley-free loop-free paths, taking a site away never gives another site fewer ASes,
//! prepending at a site never gives it more.

#![allow(clippy::unwrap_used)]

use tern_model::policy::{Level, Neighbors, Region};
use tern_sim::graph::{Graph, GraphBuilder, Rel};
use tern_sim::policy::{Applied, Effect, Origin, Scenario};
use tern_sim::{Mode, Outcome, asrel, propagate};

fn graph(text: &str) -> Graph {
    Graph::from_asrel(&asrel::parse(text.as_bytes(), "t").unwrap())
}

fn origin(g: &Graph, site: usize, asn: u32) -> Origin {
    Origin {
        site,
        upstream: "u".into(),
        node: g.of_as(asn)[0],
        prepend: 0,
        effects: Vec::new(),
    }
}

fn sites_at(g: &Graph, sc: &Scenario, o: &Outcome, asn: u32) -> Vec<String> {
    o.routes[g.of_as(asn)[0] as usize]
        .map(|r| sc.names(sc.sites_of(r.origins)))
        .unwrap_or_default()
}

fn pick_at(g: &Graph, sc: &Scenario, o: &Outcome, asn: u32) -> Option<String> {
    o.routes[g.of_as(asn)[0] as usize].map(|r| sc.sites[sc.origins[r.pick as usize].site].clone())
}

/// Tier-1s 1 and 2 peer; 1 sells to 11 (site a's provider) and 21; 2 sells to 12 (site b's
/// provider) and 22; 23 buys from both.
const SMALL: &str = "1|2|0\n1|11|-1\n1|21|-1\n2|12|-1\n2|22|-1\n1|23|-1\n2|23|-1\n";

fn small() -> (Graph, Scenario) {
    let g = graph(SMALL);
    let sc = Scenario {
        sites: vec!["a".into(), "b".into()],
        origins: vec![origin(&g, 0, 11), origin(&g, 1, 12)],
    };
    (g, sc)
}

#[test]
fn customer_routes_win_and_ties_are_sets() {
    let (g, sc) = small();
    let o = propagate(&g, &sc, Mode::Sets);
    assert!(!o.unstable);
    assert_eq!(sites_at(&g, &sc, &o, 21), ["a"]);
    assert_eq!(sites_at(&g, &sc, &o, 22), ["b"]);
    // 23 hears a from 1 and b from 2, both provider routes of length 3.
    assert_eq!(sites_at(&g, &sc, &o, 23), ["a", "b"]);
    let r = o.routes[g.of_as(23)[0] as usize].unwrap();
    assert_eq!((r.lp, r.len), (50, 3));
    // Tier-1 1 has a customer route to a (len 2) and a peer route to b: customer wins.
    assert_eq!(sites_at(&g, &sc, &o, 1), ["a"]);
    // Pick: lowest neighbour router id (= ASN here), AS1.
    let p = propagate(&g, &sc, Mode::Pick);
    assert_eq!(pick_at(&g, &sc, &p, 23).as_deref(), Some("a"));
    let path: Vec<u32> = p
        .path(g.of_as(23)[0])
        .iter()
        .map(|n| g.node(*n).asn)
        .collect();
    assert_eq!(path, [23, 1, 11]);
}

#[test]
fn prepend_and_no_announce_move_the_tie() {
    let (g, mut sc) = small();
    sc.origins[0].prepend = 2;
    let o = propagate(&g, &sc, Mode::Sets);
    assert_eq!(sites_at(&g, &sc, &o, 23), ["b"]);
    // Prepends never beat a customer route.
    assert_eq!(sites_at(&g, &sc, &o, 21), ["a"]);

    let (g, mut sc) = small();
    // AS11 does not announce a to AS1: nobody hears a at all (11's only neighbour).
    sc.origins[0].effects.push(Applied {
        by: Some(11),
        effect: Effect::NoAnnounce {
            to: Neighbors::As(tern_types::Asn(1)),
            region: None,
        },
        note: String::new(),
    });
    let o = propagate(&g, &sc, Mode::Sets);
    for asn in [1, 21, 22, 23] {
        assert_eq!(sites_at(&g, &sc, &o, asn), ["b"], "AS{asn}");
    }
    assert_eq!(sites_at(&g, &sc, &o, 11), ["a"]);
}

#[test]
fn local_pref_below_peer_sends_a_carrier_to_its_peer() {
    let (g, mut sc) = small();
    // AS1 honours "local-pref lowest" on a's route: its peer route to b (100) wins over 10.
    sc.origins[0].effects.push(Applied {
        by: Some(1),
        effect: Effect::LocalPref {
            region: None,
            level: Level::Lowest,
        },
        note: String::new(),
    });
    let o = propagate(&g, &sc, Mode::Sets);
    assert_eq!(sites_at(&g, &sc, &o, 1), ["b"]);
    assert_eq!(sites_at(&g, &sc, &o, 21), ["b"]);
    // A peer route is not exported to peers: AS2 keeps its customer route.
    assert_eq!(sites_at(&g, &sc, &o, 2), ["b"]);
}

#[test]
fn no_export_stops_at_the_first_as() {
    let (g, mut sc) = small();
    sc.origins[1].effects.push(Applied {
        by: None,
        effect: Effect::NoExport,
        note: String::new(),
    });
    let o = propagate(&g, &sc, Mode::Sets);
    assert_eq!(sites_at(&g, &sc, &o, 12), ["b"]);
    assert_eq!(sites_at(&g, &sc, &o, 22), ["a"]);
}

#[test]
fn split_carrier_prefers_its_regional_ebgp_route() {
    // Carrier 1 in two regions; provider 11 (site a) is in Europe, 12 (site b) in Asia; both
    // buy from 1. Eyeball 21 in Europe, 22 in Asia.
    let f = asrel::parse(b"1|11|-1\n1|12|-1\n1|21|-1\n1|22|-1\n", "t").unwrap();
    let mut b = GraphBuilder::from_asrel(&f);
    for (asn, r) in [
        (11, Region::Europe),
        (21, Region::Europe),
        (12, Region::Asia),
        (22, Region::Asia),
    ] {
        let i = b.find_as(asn).unwrap();
        b.nodes_mut()[i as usize].region = Some(r);
    }
    let one = b.find_as(1).unwrap();
    b.split_regional(one, &[Region::Europe, Region::Asia]);
    let g = b.build();
    let sc = Scenario {
        sites: vec!["a".into(), "b".into()],
        origins: vec![origin(&g, 0, 11), origin(&g, 1, 12)],
    };
    let o = propagate(&g, &sc, Mode::Sets);
    assert_eq!(sites_at(&g, &sc, &o, 21), ["a"]);
    assert_eq!(sites_at(&g, &sc, &o, 22), ["b"]);
    // Regional local-pref lowest in Europe at AS1: Europe takes b's route over iBGP.
    let mut sc2 = sc.clone();
    sc2.origins[0].effects.push(Applied {
        by: Some(1),
        effect: Effect::LocalPref {
            region: Some(Region::Europe),
            level: Level::Lowest,
        },
        note: String::new(),
    });
    let o = propagate(&g, &sc2, Mode::Sets);
    assert_eq!(sites_at(&g, &sc2, &o, 21), ["b"]);
    assert_eq!(sites_at(&g, &sc2, &o, 22), ["b"]);
}

/// A small deterministic generator (no dependency for tests).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// Random acyclic graph: a lower ASN is never a customer of a higher one.
fn random_graph(seed: u64, n: u32) -> Graph {
    let mut r = Lcg(seed);
    let mut text = String::new();
    for c in 2..=n {
        let providers = 1 + r.next(3);
        for _ in 0..providers {
            let p = 1 + r.next(u64::from(c - 1)) as u32;
            text.push_str(&format!("{p}|{c}|-1\n"));
        }
        if r.next(3) == 0 {
            let q = 1 + r.next(u64::from(n)) as u32;
            if q != c {
                text.push_str(&format!("{q}|{c}|0\n"));
            }
        }
    }
    graph(&text)
}

fn random_scenario(g: &Graph, r: &mut Lcg, sites: usize) -> Scenario {
    let mut sc = Scenario::default();
    for s in 0..sites {
        sc.sites.push(format!("s{s}"));
        let node = r.next(g.len() as u64) as u32;
        sc.origins.push(Origin {
            site: s,
            upstream: "u".into(),
            node,
            prepend: r.next(2) as u8,
            effects: Vec::new(),
        });
    }
    sc
}

/// Nodes whose tie set contains each site.
fn counts(sc: &Scenario, o: &Outcome) -> Vec<usize> {
    let mut c = vec![0; sc.sites.len()];
    for r in o.routes.iter().flatten() {
        let s = sc.sites_of(r.origins);
        for (i, x) in c.iter_mut().enumerate() {
            if s & (1 << i) != 0 {
                *x += 1;
            }
        }
    }
    c
}

fn valley_free(g: &Graph, path: &[u32]) -> bool {
    // From the origin outwards: up*, at most one peer, down*.
    let mut phase = 0; // 0 up, 1 after peer/down
    for w in path.windows(2).rev() {
        let (near, far) = (w[0], w[1]);
        let rel = g.neighbours(near).find(|(x, _)| *x == far).map(|(_, r)| r);
        match rel {
            // far is near's customer: the route went up.
            Some(Rel::Customer) if phase == 0 => {}
            Some(Rel::Peer) if phase == 0 => phase = 1,
            Some(Rel::Provider) => phase = 1,
            Some(Rel::Internal) => {}
            _ => return false,
        }
    }
    true
}

#[test]
fn invariants_on_random_graphs() {
    for seed in 1..=30u64 {
        let g = random_graph(seed, 120);
        let mut r = Lcg(seed * 7919);
        let sc = random_scenario(&g, &mut r, 4);
        let sets = propagate(&g, &sc, Mode::Sets);
        let pick = propagate(&g, &sc, Mode::Pick);
        assert!(!sets.unstable && !pick.unstable, "seed {seed}");
        for i in 0..g.len() as u32 {
            let Some(rp) = pick.routes[i as usize] else {
                assert!(
                    sets.routes[i as usize].is_none(),
                    "seed {seed}: same reachability"
                );
                continue;
            };
            let path = pick.path(i);
            let mut seen = path.clone();
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), path.len(), "seed {seed}: loop in {path:?}");
            assert!(valley_free(&g, &path), "seed {seed}: valley in {path:?}");
            assert_eq!(*path.last().unwrap(), sc.origins[rp.pick as usize].node);
            // The pick is one of the tied routes, same rank.
            let rs = sets.routes[i as usize].unwrap();
            assert_eq!((rs.lp, rs.len), (rp.lp, rp.len), "seed {seed} node {i}");
            assert!(
                rs.origins & rp.origins != 0,
                "seed {seed} node {i}: pick outside tie set"
            );
        }
        let base = counts(&sc, &sets);
        for gone in 0..sc.origins.len() {
            let mut less = sc.clone();
            less.origins.remove(gone);
            for o in &mut less.origins {
                // keep site indices
                let _ = o;
            }
            let after = counts(&less, &propagate(&g, &less, Mode::Sets));
            for s in 0..sc.sites.len() {
                if s != sc.origins[gone].site {
                    assert!(
                        after[s] >= base[s],
                        "seed {seed}: removing s{gone} cost s{s} ASes"
                    );
                }
            }
            let mut longer = sc.clone();
            longer.origins[gone].prepend += 2;
            let after = counts(&longer, &propagate(&g, &longer, Mode::Sets));
            let s = sc.origins[gone].site;
            assert!(
                after[s] <= base[s],
                "seed {seed}: prepending at s{s} won ASes"
            );
        }
    }
}
