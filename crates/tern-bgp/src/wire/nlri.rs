//! Prefix encoding shared by the NLRI, Withdrawn Routes, MP_REACH_NLRI and MP_UNREACH_NLRI
//! fields (RFC 4271 §4.3, RFC 4760 §5): a length in bits, then just enough octets.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use tern_types::{Afi, Prefix};

use super::reader::Reader;

/// Octets one prefix takes on the wire.
pub(crate) fn prefix_wire_len(p: &Prefix) -> usize {
    1 + usize::from(p.len()).div_ceil(8)
}

/// Appends one prefix.
pub(crate) fn encode_prefix(p: &Prefix, out: &mut Vec<u8>) {
    let n = usize::from(p.len()).div_ceil(8);
    out.push(p.len());
    match p.addr() {
        IpAddr::V4(a) => out.extend(a.octets().iter().take(n)),
        IpAddr::V6(a) => out.extend(a.octets().iter().take(n)),
    }
}

/// Decodes a whole field of prefixes of one family. Bits past the prefix length are ignored
/// (RFC 4271 §4.3: "trailing bits … are irrelevant").
pub(crate) fn decode_prefixes(buf: &[u8], afi: Afi) -> Result<Vec<Prefix>, &'static str> {
    let mut r = Reader::new(buf);
    // Every prefix takes at least one octet, so this bounds the allocation by the input.
    let mut out = Vec::with_capacity(buf.len().min(1024));
    while !r.is_empty() {
        let len = r.u8().ok_or("truncated prefix")?;
        if len > afi.bits() {
            return Err("prefix length longer than the address");
        }
        let bytes = r
            .take(usize::from(len).div_ceil(8))
            .ok_or("prefix runs past the end of its field")?;
        let addr = match afi {
            Afi::Ipv4 => {
                let mut o = [0u8; 4];
                o.iter_mut().zip(bytes).for_each(|(d, s)| *d = *s);
                IpAddr::V4(Ipv4Addr::from(o))
            }
            Afi::Ipv6 => {
                let mut o = [0u8; 16];
                o.iter_mut().zip(bytes).for_each(|(d, s)| *d = *s);
                IpAddr::V6(Ipv6Addr::from(o))
            }
        };
        let p = Prefix::truncating(addr, len).ok_or("prefix length longer than the address")?;
        out.push(p);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Prefix {
        s.parse().unwrap()
    }

    #[test]
    fn both_ways() {
        let mut out = Vec::new();
        for s in [
            "0.0.0.0/0",
            "192.0.2.0/24",
            "198.51.100.128/25",
            "203.0.113.7/32",
        ] {
            encode_prefix(&p(s), &mut out);
        }
        #[rustfmt::skip]
        assert_eq!(out, [
            0,                      // 0.0.0.0/0: no octets
            24, 192, 0, 2,          // 192.0.2.0/24
            25, 198, 51, 100, 128,  // 198.51.100.128/25
            32, 203, 0, 113, 7,     // 203.0.113.7/32
        ]);
        assert_eq!(
            decode_prefixes(&out, Afi::Ipv4).unwrap(),
            vec![
                p("0.0.0.0/0"),
                p("192.0.2.0/24"),
                p("198.51.100.128/25"),
                p("203.0.113.7/32")
            ]
        );
        let mut v6 = Vec::new();
        encode_prefix(&p("2001:db8:40::/42"), &mut v6);
        assert_eq!(v6, [42, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x40]);
        assert_eq!(
            decode_prefixes(&v6, Afi::Ipv6).unwrap(),
            vec![p("2001:db8:40::/42")]
        );
        assert_eq!(prefix_wire_len(&p("2001:db8:40::/42")), 7);
    }

    #[test]
    fn bad_fields() {
        assert!(decode_prefixes(&[33, 1, 2, 3, 4, 5], Afi::Ipv4).is_err());
        assert!(decode_prefixes(&[24, 192, 0], Afi::Ipv4).is_err());
        assert!(decode_prefixes(&[129], Afi::Ipv6).is_err());
        // Host bits past the length are ignored.
        assert_eq!(
            decode_prefixes(&[23, 192, 0, 3], Afi::Ipv4).unwrap(),
            vec![p("192.0.2.0/23")]
        );
    }
}
