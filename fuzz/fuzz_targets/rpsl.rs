//! RPSL parsing never panics; every loaded route object is found under its own prefix.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern_rpki::IrrDb;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match IrrDb::from_rpsl_str(text, "fuzz.rpsl") {
        Ok(db) => {
            for obj in db.objects() {
                assert!(db.routes_for(&obj.prefix).contains(&obj));
                assert!(obj.line >= 1 && obj.line <= text.lines().count());
            }
        }
        Err(e) => {
            // Every error names a line inside the input (or just past it).
            let line = e.line().unwrap_or(0);
            assert!(line >= 1 && line <= text.lines().count() + 1, "{e}");
        }
    }
});
