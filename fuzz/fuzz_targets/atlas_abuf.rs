//! Fuzz the RIPE Atlas `abuf` path (tern_atlas::dns, decoding with tern-dns): any bytes must
//! decode or give an error, never panic or loop; the text forms catchment reads and the base64
//! front end too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = tern_atlas::dns::decode(data) {
        let _ = m.nsid().map(tern_dns::escape);
        let _ = m.txt_answers();
        let _ = m.identity_names();
        let _ = m.rcode();
    }
    if let Ok(s) = std::str::from_utf8(data) {
        if let Some(b) = tern_atlas::dns::base64_decode(s) {
            let _ = tern_atlas::dns::decode(&b);
        }
    }
});
