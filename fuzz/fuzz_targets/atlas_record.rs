//! Fuzz the RIPE Atlas result readers: one record, and whole files (array / JSONL detection,
//! resynchronisation after broken records), plus probe metadata. Errors are fine; panics are not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(r) = tern_atlas::parse_record(text) {
        if let tern_atlas::Body::Traceroute(t) = &r.body {
            let _ = (t.last_median_rtt(), t.last_min_rtt(), t.destination_responded(r.dst_addr));
        }
    }
    if let Ok(results) = tern_atlas::parse_results(text, "fuzz") {
        let a = tern_atlas::analyse(&[results], &tern_atlas::ProbeSet::default(), None);
        let _ = tern_atlas::report::text::analysis(&a, 5);
        let _ = tern_atlas::report::html::analysis(&a);
        let d = tern_atlas::diff::diff(&a, &a);
        let _ = tern_atlas::report::text::diff(&d, 5);
    }
    let _ = tern_atlas::parse_probes(text, "fuzz");
});
