//! Fuzz the RIPE Atlas `abuf` DNS wire decoder (tern_atlas::dns): any bytes must decode or
//! give an error, never panic or loop; the base64 front end too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = tern_atlas::dns::decode(data) {
        let _ = m.nsid();
        let _ = m.identity_names();
        let _ = m.rcode();
    }
    if let Ok(s) = std::str::from_utf8(data) {
        if let Some(b) = tern_atlas::dns::base64_decode(s) {
            let _ = tern_atlas::dns::decode(&b);
        }
    }
});
