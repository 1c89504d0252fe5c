//! VRP JSON loading never panics; whatever loads answers RFC 6811 queries consistently.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern_rpki::{Validity, VrpSet};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(set) = VrpSet::from_json_str(text, "fuzz.json") else {
        return;
    };
    for vrp in set.iter().take(64) {
        // Every VRP covers its own prefix, and its own origin is valid there (unless AS0).
        assert!(set.covering(&vrp.prefix).contains(&vrp));
        let v = set.validate(&vrp.prefix, vrp.asn);
        assert!(vrp.asn.0 == 0 || v == Validity::Valid, "{vrp}: {v}");
    }
});
