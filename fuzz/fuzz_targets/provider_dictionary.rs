//! Fuzz target: any text given as a provider dictionary (a file of the operator's providers
//! directory) is either an error with a span inside the text or a dictionary whose entries make
//! rules, look-ups and "nearest" answers without panicking.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tern_model::Provider;
use tern_model::policy::CommunityValue;
use tern_types::{Asn, Community, LargeCommunity};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Provider::parse("fuzz", text) {
        Ok(p) => {
            for asn in [None, Some(Asn(6939)), Some(Asn(4_200_000_000))] {
                let _ = p.rules(asn).count();
            }
            for e in &p.entries {
                let _ = (e.templates(), e.describe(), e.effect(Some(Asn(174))));
            }
            let probes = [
                CommunityValue::Standard(Community::new(174, 972)),
                CommunityValue::Large(LargeCommunity::new(20473, 6000, 64512)),
            ];
            for v in probes {
                let _ = (p.lookup(v), p.owns(v), p.nearest(v));
            }
        }
        Err(e) => {
            if let Some(s) = e.span() {
                assert!(s.start <= text.len(), "span outside the text");
            }
        }
    }
});
