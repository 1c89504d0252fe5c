//! Fuzz the DNS codec (tern-dns) and the "which site" responder (tern-edge::whoami).
//!
//! Properties, for any bytes:
//! - `Message::parse` never panics; what it accepts re-encodes to bytes that parse to the same
//!   sections (the encoder never compresses, so this also exercises name expansion);
//! - `respond` never panics; a reply is a parseable response with the query's id, and over UDP
//!   it fits the client's limit (512 without EDNS, at most 1232 with).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tern_dns::{Header, Message};
use tern_edge::whoami::SiteIdentity;
use tern_edge::whoami::dns::{Transport, respond};

fn identity() -> &'static SiteIdentity {
    static ID: OnceLock<SiteIdentity> = OnceLock::new();
    ID.get_or_init(|| SiteIdentity::new("fuzz-site".parse().expect("valid site name")))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Message::parse(data) {
        let bytes = m.to_bytes();
        let back = Message::parse(&bytes).expect("our own encoding parses");
        assert_eq!(back.questions, m.questions);
        assert_eq!(back.answers, m.answers);
        assert_eq!(back.authority, m.authority);
        assert_eq!(back.additional, m.additional);
        assert_eq!(back.edns, m.edns);
    }
    for transport in [Transport::Udp, Transport::Tcp] {
        let Some(reply) = respond(data, identity(), transport) else {
            continue;
        };
        let query = Header::parse(data).expect("a reply implies a readable header");
        let r = Message::parse(&reply).expect("replies parse");
        assert!(r.header.is_response());
        assert_eq!(r.header.id, query.id);
        if transport == Transport::Udp {
            let limit = match Message::parse(data).ok().and_then(|m| m.edns) {
                Some(e) => usize::from(e.udp_size.clamp(512, 1232)),
                None => 512,
            };
            assert!(reply.len() <= limit, "{} > {limit}", reply.len());
        }
    }
});
