//! A minimal MaxMind DB writer for test fixtures (MaxMind DB format spec 2.0): an IPv6 search
//! tree with 24-bit records (IPv4 networks under `::/96`), a data section of maps with
//! `location.latitude/longitude` and `autonomous_system_number`, and the metadata map. Tests
//! build the small databases they need with it, so no database file is committed and the
//! reader (the `maxminddb` crate, which also `verify()`s the file) checks our understanding of
//! the format independently.

use std::net::IpAddr;

/// One network of the fixture.
pub struct Entry {
    /// Network address.
    pub addr: IpAddr,
    /// Prefix length in its family.
    pub len: u8,
    /// (lat, lon).
    pub location: Option<(f64, f64)>,
    /// AS number.
    pub asn: Option<u32>,
}

fn ctrl(out: &mut Vec<u8>, ty: u8, size: usize) {
    assert!(size < 29, "fixture values stay small");
    if ty <= 7 {
        out.push((ty << 5) | size as u8);
    } else {
        out.push(size as u8);
        out.push(ty - 7);
    }
}

fn string(out: &mut Vec<u8>, s: &str) {
    ctrl(out, 2, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn uint(out: &mut Vec<u8>, ty: u8, v: u64) {
    let b = v.to_be_bytes();
    let skip = b.iter().take_while(|x| **x == 0).count();
    ctrl(out, ty, 8 - skip);
    out.extend_from_slice(&b[skip..]);
}

fn double(out: &mut Vec<u8>, v: f64) {
    ctrl(out, 3, 8);
    out.extend_from_slice(&v.to_be_bytes());
}

fn record(e: &Entry) -> Vec<u8> {
    let mut out = Vec::new();
    let n = usize::from(e.location.is_some()) + usize::from(e.asn.is_some());
    ctrl(&mut out, 7, n);
    if let Some((lat, lon)) = e.location {
        string(&mut out, "location");
        ctrl(&mut out, 7, 2);
        string(&mut out, "latitude");
        double(&mut out, lat);
        string(&mut out, "longitude");
        double(&mut out, lon);
    }
    if let Some(a) = e.asn {
        string(&mut out, "autonomous_system_number");
        uint(&mut out, 6, u64::from(a));
    }
    out
}

/// The database bytes.
pub fn write(entries: &[Entry]) -> Vec<u8> {
    // Trie: node = [left, right], each None (empty), Node(i) or Data(offset).
    #[derive(Clone, Copy)]
    enum R {
        Empty,
        Node(usize),
        Data(usize),
    }
    let mut nodes: Vec<[R; 2]> = vec![[R::Empty, R::Empty]];
    let mut data = Vec::new();
    for e in entries {
        let (bits, len) = match e.addr {
            IpAddr::V4(a) => (u128::from(u32::from(a)), u32::from(e.len) + 96),
            IpAddr::V6(a) => (u128::from(a), u32::from(e.len)),
        };
        let off = data.len();
        data.extend(record(e));
        let mut node = 0;
        for depth in 0..len {
            let bit = ((bits >> (127 - depth)) & 1) as usize;
            if depth + 1 == len {
                nodes[node][bit] = R::Data(off);
            } else {
                node = match nodes[node][bit] {
                    R::Node(i) => i,
                    _ => {
                        nodes.push([R::Empty, R::Empty]);
                        let i = nodes.len() - 1;
                        nodes[node][bit] = R::Node(i);
                        i
                    }
                };
            }
        }
    }
    let count = nodes.len();
    let mut out = Vec::new();
    for n in &nodes {
        for r in n {
            let v = match *r {
                R::Empty => count,
                R::Node(i) => i,
                R::Data(o) => count + 16 + o,
            } as u32;
            out.extend_from_slice(&v.to_be_bytes()[1..]);
        }
    }
    out.extend_from_slice(&[0u8; 16]);
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\xab\xcd\xefMaxMind.com");
    let m = &mut out;
    ctrl(m, 7, 9);
    string(m, "binary_format_major_version");
    uint(m, 5, 2);
    string(m, "binary_format_minor_version");
    uint(m, 5, 0);
    string(m, "build_epoch");
    uint(m, 9, 1_764_806_400);
    string(m, "database_type");
    string(m, "tern-test-City");
    string(m, "description");
    ctrl(m, 7, 1);
    string(m, "en");
    string(m, "tern test fixture");
    string(m, "ip_version");
    uint(m, 5, 6);
    string(m, "languages");
    ctrl(m, 11, 0);
    string(m, "node_count");
    uint(m, 6, count as u64);
    string(m, "record_size");
    uint(m, 5, 24);
    out
}
