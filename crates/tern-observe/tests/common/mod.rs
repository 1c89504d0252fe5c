//! Helpers of tern-observe's tests: fixture paths, the shared data directory, elements of both
//! readers as comparable rows.
#![allow(dead_code, clippy::unwrap_used)]

pub mod mrtgen;

use std::io::Read;
use std::path::{Path, PathBuf};

use tern_observe::mrt::{self, ElemKind, path_text};

/// A committed fixture (tests/fixtures, see its README).
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures")).join(name)
}

/// A file of the shared data directory, `None` (and a line saying the test is skipped) when
/// it is absent, as in a fresh clone: tern-testkit's locator.
pub fn shared(rel: &str) -> Option<PathBuf> {
    tern_testkit::full_data(rel)
}

/// One element as both readers can print it.
pub type Row = (ElemKind, String, u32, String, Option<u32>, String);

/// The decompressed bytes of a plain, .gz or .bz2 file.
pub fn decompressed(path: &Path) -> Vec<u8> {
    let raw = std::fs::read(path).unwrap();
    let mut out = Vec::new();
    if raw.starts_with(&[0x1f, 0x8b]) {
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .unwrap();
    } else if raw.starts_with(b"BZh") {
        bzip2::read::MultiBzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .unwrap();
    } else {
        out = raw;
    }
    out
}

/// Our reader's rows, sorted, and its counts.
pub fn ours(path: &Path) -> (Vec<Row>, mrt::Counts) {
    let mut r = mrt::open(path).unwrap();
    let mut rows = Vec::new();
    while let Some(rec) = r.next_record().unwrap() {
        for e in rec.elems() {
            let path = e
                .attrs
                .and_then(|a| a.as_path.as_ref())
                .map(path_text)
                .unwrap_or_default();
            rows.push((
                e.kind,
                e.peer.ip.to_string(),
                e.peer.asn.0,
                e.prefix.to_string(),
                e.path_id,
                path,
            ));
        }
    }
    rows.sort();
    (rows, r.counts().clone())
}

/// bgpkit-parser's rows, sorted.
pub fn bgpkit(path: &Path) -> Vec<Row> {
    let bytes = decompressed(path);
    let parser = bgpkit_parser::BgpkitParser::from_reader(&bytes[..]);
    let mut rows: Vec<Row> = parser
        .into_elem_iter()
        .map(|e| {
            let kind = if e.elem_type.is_announce() {
                ElemKind::Announce
            } else {
                ElemKind::Withdraw
            };
            let path = e.as_path.map(|p| p.to_string()).unwrap_or_default();
            (
                kind,
                e.peer_ip.to_string(),
                e.peer_asn.to_u32(),
                e.prefix.prefix.to_string(),
                e.prefix.path_id,
                path,
            )
        })
        .collect();
    rows.sort();
    rows
}
