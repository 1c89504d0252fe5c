//! tern-lab's DNS decoders and the whoami responder: any bytes, no panic; the responder's
//! answers carry at least a header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern_lab::{dns, whoami};

fuzz_target!(|data: &[u8]| {
    let _ = dns::parse_reply(data);
    if let Ok(q) = dns::parse_query(data) {
        let a = dns::answer(&q, Some("ams"), 0);
        let _ = dns::parse_reply(&a);
    }
    let id = whoami::Identity {
        site: "ams".into(),
        code: None,
    };
    if let Some(a) = whoami::respond(data, &id) {
        assert!(a.len() >= 12);
    }
});
