//! RTR PDU decoding never panics and re-encodes what it decoded; the session state machine
//! never panics on any byte stream, however it is split.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern_rpki::rtr::RtrClient;
use tern_rpki::rtr::pdu::{Pdu, decode, encode};

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(d)) = decode(data) {
        let small = match &d.pdu {
            Pdu::ErrorReport { pdu, text, .. } => pdu.len() <= 1024 && text.len() <= 1024,
            _ => true,
        };
        if small {
            let again = encode(d.version, &d.pdu);
            let d2 = decode(&again).ok().flatten().expect("re-encoded PDU decodes");
            assert_eq!((d2.version, &d2.pdu), (d.version, &d.pdu));
        }
    }
    // First byte picks the proposed version and a chunk size for feeding the session.
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let mut c = RtrClient::new(first & 1);
    let chunk = usize::from(first >> 1).max(1);
    for part in rest.chunks(chunk) {
        let failed = c.handle_input(part).is_err();
        while c.poll_transmit().is_some() {}
        while c.poll_event().is_some() {}
        if failed {
            assert!(c.is_failed() || c.handle_input(&[]).is_err());
            break;
        }
        c.refresh();
    }
    let _ = c.vrps();
});
