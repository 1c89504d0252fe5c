//! The streaming reader on damaged and large input, from a committed fixture (24 real results
//! of measurement 44104396 as one JSON line, the API's own format; provenance in tests/data).

#![allow(clippy::unwrap_used)]

use std::io::Read;

use tern_atlas::analysis::Analyser;
use tern_atlas::read::{CHUNK, Layout};
use tern_atlas::{ProbeSet, RecordReader, parse_results};

const FIXTURE: &str = include_str!("data/traceroute-44104396-24.json");
const N: usize = 24;

#[test]
fn the_fixture_reads_whole() {
    let r = parse_results(FIXTURE, "f").unwrap();
    assert_eq!((r.records.len(), r.skipped.count), (N, 0));
    assert_eq!(r.layout, Layout::Array);
    assert!(!r.unclosed_array);
    assert!(
        !FIXTURE.contains('\n'),
        "the fixture is one line, like the API's answers"
    );
}

/// The fixture's first `n` records as a one-line array.
fn first(n: usize) -> String {
    let r = parse_results(FIXTURE, "f").unwrap();
    assert!(n <= r.records.len());
    // Record boundaries: the fixture's records are joined by `},{"fw":`.
    let starts: Vec<usize> = FIXTURE.match_indices("{\"fw\":").map(|(i, _)| i).collect();
    assert_eq!(starts.len(), N);
    format!("{}]", &FIXTURE[..starts[n] - 1])
}

/// One damaged byte anywhere in a one-line array costs at most the record it is in: every
/// other record is read, and the skipped count says what was lost (it used to drop every
/// record after the damage while reporting one skipped).
#[test]
fn one_damaged_byte_costs_one_record() {
    const M: usize = 5;
    let text = first(M);
    assert_eq!(parse_results(&text, "f").unwrap().records.len(), M);
    let bytes = text.as_bytes();
    let mut tried = 0;
    // Every 11th byte, with each replacement that can break the structure or a value.
    for pos in (1..bytes.len() - 1).step_by(11) {
        for with in [b'x', b'"', b'}', b'{', b',', b']'] {
            if bytes[pos] == with {
                continue;
            }
            let mut damaged = bytes.to_vec();
            damaged[pos] = with;
            let text = String::from_utf8_lossy(&damaged);
            let r = parse_results(&text, "d").unwrap();
            let (read, skipped) = (r.records.len(), r.skipped.count);
            let ctx = format!(
                "byte {pos} ({:?} → {:?}): {read} read, {skipped} skipped, {:?}",
                char::from(bytes[pos]),
                char::from(with),
                r.skipped.first
            );
            assert!(read >= M - 1, "{ctx}");
            assert!(skipped <= 1, "{ctx}");
            // Nothing lost silently: a record not read is counted.
            assert!(read + skipped >= M, "{ctx}");
            tried += 1;
        }
    }
    assert!(tried > 4_000, "{tried}");
}

/// The exact case of the issue: a damaged byte in the first record of a one-line array.
#[test]
fn damage_early_in_a_one_line_array() {
    let text = FIXTURE.replacen("\"prb_id\":", "\"prb_id\";", 1);
    let r = parse_results(&text, "d").unwrap();
    assert_eq!((r.records.len(), r.skipped.count), (N - 1, 1));
    let why = &r.skipped.first[0];
    assert_eq!((why.index, why.line), (0, 1));
    assert!(why.offset > 0 && why.offset < 4000, "{why:?}");
    assert_eq!(r.records[0].index, 1);
}

#[test]
fn a_missing_closing_bracket_is_reported() {
    let cut = FIXTURE.trim_end().strip_suffix(']').unwrap();
    let r = parse_results(cut, "c").unwrap();
    assert_eq!((r.records.len(), r.skipped.count), (N, 0));
    assert!(r.unclosed_array);
    // Cut inside the last record: that record is counted as skipped (cut off).
    let r = parse_results(&FIXTURE[..FIXTURE.len() - 100], "c").unwrap();
    assert_eq!((r.records.len(), r.skipped.count), (N - 1, 1));
    assert!(
        r.skipped.first[0].reason.contains("cut off"),
        "{:?}",
        r.skipped
    );
    assert!(r.unclosed_array);
}

/// A source that yields the fixture's records again and again as one JSON array, in small
/// reads, without ever holding the whole input.
struct Repeat {
    body: Vec<u8>,
    times: usize,
    state: usize,
    pos: usize,
}

impl Read for Repeat {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        // state 0: "[", 1..=times: records (joined by ','), times+1: "]", then EOF.
        let chunk: &[u8] = match self.state {
            0 => b"[",
            s if s <= self.times => &self.body,
            s if s == self.times + 1 => b"]",
            _ => return Ok(0),
        };
        let n = (chunk.len() - self.pos).min(out.len()).min(10_000);
        out[..n].copy_from_slice(&chunk[self.pos..self.pos + n]);
        self.pos += n;
        if self.pos == chunk.len() {
            self.pos = 0;
            self.state += 1;
        }
        Ok(n)
    }
}

/// Memory does not grow with the input: the reader's buffer stays at its initial size while
/// it streams an input 30 times larger, and the analysis holds per-probe counts only.
#[test]
fn streaming_holds_one_buffer_whatever_the_size() {
    let inner = FIXTURE
        .trim()
        .strip_prefix('[')
        .unwrap()
        .strip_suffix(']')
        .unwrap();
    let body = format!("{inner},").into_bytes();
    let times = 30 * CHUNK / body.len() + 1;
    let src = Repeat {
        body,
        times,
        state: 0,
        pos: 0,
    };
    let mut reader = RecordReader::new(src, "repeat");
    let probes = ProbeSet::default();
    let mut analyser = Analyser::new(&probes, None);
    let mut n = 0;
    let mut most = 0;
    while let Some(r) = reader.next() {
        analyser.add(&r.unwrap());
        n += 1;
        most = most.max(reader.buffer_capacity());
    }
    assert_eq!(n, times * N);
    assert_eq!(reader.skipped().count, 0);
    assert!(!reader.unclosed_array());
    assert!(most <= 2 * CHUNK, "buffer grew to {most} bytes");
    let a = analyser.finish();
    // Each probe's results are counted, not kept.
    assert!(
        a.probes.iter().all(|p| p.results == times),
        "{:?}",
        a.probes[0].results
    );
}

/// Hands out bytes in reads of at most `step` bytes.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(out.len()).min(self.data.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Where the reads end changes nothing, also around damage (the fuzz target atlas_stream
/// checks the same on any bytes).
#[test]
fn read_boundaries_change_nothing() {
    let text = first(3);
    for (pos, with) in [
        (0, b'['),
        (40, b'"'),
        (500, b'}'),
        (2000, b'{'),
        (text.len() - 1, b' '),
    ] {
        let mut damaged = text.as_bytes().to_vec();
        damaged[pos] = with;
        let whole = parse_results(&String::from_utf8_lossy(&damaged), "w").unwrap();
        for step in [1, 2, 3, 7, 64, 1000] {
            let r = RecordReader::new(
                Trickle {
                    data: &damaged,
                    step,
                },
                "w",
            )
            .collect_results()
            .unwrap();
            assert_eq!(r.records, whole.records, "byte {pos}, reads of {step}");
            assert_eq!(r.skipped, whole.skipped, "byte {pos}, reads of {step}");
            assert_eq!(r.unclosed_array, whole.unclosed_array);
        }
    }
}

/// Partial analyses (one per thread in `tern atlas analyse`) merged in input order equal one
/// analysis reading the inputs one after the other, also for probes seen in several inputs.
#[test]
fn merged_partial_analyses_equal_one_pass() {
    let inputs = [FIXTURE.to_string(), first(10), first(3)];
    let probes = ProbeSet::default();
    let mut one = Analyser::new(&probes, None);
    for (i, t) in inputs.iter().enumerate() {
        one.read(RecordReader::new(t.as_bytes(), &i.to_string()))
            .unwrap();
    }
    let mut merged = Analyser::new(&probes, None);
    for (i, t) in inputs.iter().enumerate() {
        let mut part = Analyser::new(&probes, None);
        part.read(RecordReader::new(t.as_bytes(), &i.to_string()))
            .unwrap();
        merged.merge(part);
    }
    let (one, merged) = (one.finish(), merged.finish());
    assert_eq!(one, merged);
    assert!(one.probes.iter().any(|p| p.results == 3));
}
