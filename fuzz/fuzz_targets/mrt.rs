//! Fuzz the MRT reader (tern_observe::mrt): any byte stream must give records, skipped or
//! malformed counts, or an error with an offset inside the input; never a panic or a loop.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut r = tern_observe::mrt::MrtReader::new(data);
    loop {
        match r.next_record() {
            Ok(Some(rec)) => {
                for e in rec.elems() {
                    if let Some(p) = e.attrs.and_then(|a| a.as_path.as_ref()) {
                        let _ = tern_observe::mrt::path_text(p);
                    }
                }
            }
            Ok(None) => break,
            Err(e) => {
                assert!(e.offset <= data.len() as u64);
                break;
            }
        }
    }
});
