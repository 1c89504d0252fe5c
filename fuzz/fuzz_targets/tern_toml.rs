//! Fuzz target: any text given as tern.toml is either a load error or a model with diagnostics;
//! parsing and validation never panic.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(m) = tern_model::parse(std::path::Path::new("fuzz.toml"), text) {
            let _ = m.has_errors();
            let _ = tern_model::plan::usage(&m.network);
        }
    }
});
