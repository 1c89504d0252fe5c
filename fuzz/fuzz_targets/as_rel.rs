//! CAIDA AS-relationship reader (`tern_sim::asrel::parse`): any bytes (plain, bzip2 or gzip by
//! their first bytes) give links or an error, never a panic or a hang; cycle breaking always
//! leaves an acyclic provider→customer graph.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut f) = tern_sim::asrel::parse(data, "fuzz") {
        assert!(!f.links.is_empty());
        assert!(tern_sim::asrel::break_cycles(&mut f.links).is_empty());
        let g = tern_sim::Graph::from_asrel(&f);
        assert!(g.len() >= 2);
    }
});
