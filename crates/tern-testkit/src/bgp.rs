//! BGP wire helpers for tests that speak to our speaker byte by byte: the codec every session
//! negotiates here (4-octet AS, no extended messages) and a message encoded with it.

use tern_bgp::wire::{self, Codec, Message};

/// The codec of a session with 4-octet AS numbers and without extended messages.
pub fn codec() -> Codec {
    Codec {
        four_octet_as: true,
        extended_messages: false,
    }
}

/// `m` encoded with [`codec`]; panics if it does not encode (a broken test message).
pub fn enc(m: &Message) -> Vec<u8> {
    let mut b = Vec::new();
    wire::encode(m, &codec(), &mut b).unwrap();
    b
}
