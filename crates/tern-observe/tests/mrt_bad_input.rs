//! Bad input never panics the reader: truncated at every offset, garbage, random mutations of
//! real records; errors carry the byte offset and what was read before. (The cargo-fuzz target
//! `fuzz/fuzz_targets/mrt.rs` checks the same property with coverage guidance.)
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use tern_observe::mrt::{MrtErrorKind, MrtReader};

/// Reads everything; returns (records, error).
fn drain(bytes: &[u8]) -> (u64, Option<tern_observe::mrt::MrtError>) {
    let mut r = MrtReader::new(bytes);
    let mut n = 0;
    loop {
        match r.next_record() {
            Ok(Some(_)) => n += 1,
            Ok(None) => return (n, None),
            Err(e) => return (n, Some(e)),
        }
    }
}

#[test]
fn truncation_anywhere_is_an_error_at_the_last_record_boundary() {
    let bytes = decompressed(&fixture("mrtparse-bird6-mrtdump_bgp"));
    // Record boundaries.
    let mut bounds = vec![0usize];
    while *bounds.last().unwrap() < bytes.len() {
        let at = *bounds.last().unwrap();
        let len = u32::from_be_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        bounds.push(at + 12 + len);
    }
    for cut in 0..bytes.len() {
        let (_, err) = drain(&bytes[..cut]);
        if bounds.contains(&cut) {
            assert!(err.is_none(), "cut at a boundary {cut}: {err:?}");
            continue;
        }
        let e = err.unwrap_or_else(|| panic!("cut at {cut} not reported"));
        let last = *bounds.iter().filter(|&&b| b <= cut).max().unwrap();
        assert_eq!(e.offset, last as u64, "cut at {cut}");
        assert!(matches!(e.kind, MrtErrorKind::Truncated { .. }), "{e}");
        assert!(e.to_string().contains(&format!("at byte {last}")), "{e}");
        assert_eq!(
            e.counts.records,
            bounds.iter().filter(|&&b| b > 0 && b <= cut).count() as u64
        );
    }
}

#[test]
fn garbage_is_refused_with_the_offset() {
    let (n, err) = drain(b"this is not an MRT file, it is a text file with a few lines\n");
    assert_eq!(n, 0);
    let e = err.unwrap();
    assert_eq!(e.offset, 0);
    assert!(matches!(e.kind, MrtErrorKind::TooLong(_)), "{e}");
    // A gzip file handed to the plain reader is garbage too.
    let gz = std::fs::read(fixture("bview.ipv4_unicast_add_path.gz")).unwrap();
    assert!(drain(&gz).1.is_some());
}

/// The fuzz target's property without cargo-fuzz: real records with bytes flipped, inserted or
/// cut never panic, and every error names an offset inside the input.
#[test]
fn mutated_real_files_never_panic() {
    let mut inputs = Vec::new();
    for f in [
        "bview.ipv4_unicast_add_path.gz",
        "bview.ipv6_unicast_add_path.gz",
        "mrtparse-bird6-mrtdump_bgp",
        "mrtparse-openbgpd_rib_table-v2",
        "mrtparse-quagga_rib",
        "updates.20020722.2238.gz",
    ] {
        inputs.push(decompressed(&fixture(f)));
    }
    let mut seed = 0x5eed_u64;
    let mut next = move || {
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        seed.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let (mut errors, mut malformed) = (0, 0);
    for i in 0..3000 {
        let mut m = inputs[i % inputs.len()].clone();
        m.truncate(m.len().min(4096));
        for _ in 0..1 + next() % 6 {
            let at = (next() as usize) % m.len().max(1);
            match next() % 3 {
                0 => m[at] ^= 1 << (next() % 8),
                1 => m[at] = next() as u8,
                _ => m.insert(at, next() as u8),
            }
        }
        let mut r = MrtReader::new(&m[..]);
        loop {
            match r.next_record() {
                Ok(Some(rec)) => {
                    let _ = rec.elems();
                }
                Ok(None) => break,
                Err(e) => {
                    errors += 1;
                    assert!(e.offset <= m.len() as u64);
                    break;
                }
            }
        }
        malformed += r.counts().malformed;
    }
    eprintln!(
        "3000 mutated inputs: {errors} ended in an error, {malformed} malformed records skipped"
    );
    assert!(errors > 100 && malformed > 100, "{errors} {malformed}");
}

#[test]
fn a_truncated_gzip_file_is_an_error_after_what_it_held() {
    let gz = std::fs::read(fixture("bview.20020722.2337.head2000.gz")).unwrap();
    let dir = std::env::temp_dir().join(format!("tern-observe-cut-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cut = dir.join("cut.gz");
    std::fs::write(&cut, &gz[..gz.len() / 2]).unwrap();
    let mut r = tern_observe::mrt::open(&cut).unwrap();
    let err = loop {
        match r.next_record() {
            Ok(Some(_)) => {}
            Ok(None) => panic!("a cut gzip file read to a clean end"),
            Err(e) => break e,
        }
    };
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        matches!(
            err.kind,
            MrtErrorKind::Io(_) | MrtErrorKind::Truncated { .. }
        ),
        "{err}"
    );
    assert!(
        err.counts.rib_entries > 100 && err.counts.rib_entries < 2000,
        "{err}"
    );
    assert!(err.offset > 0);
}
