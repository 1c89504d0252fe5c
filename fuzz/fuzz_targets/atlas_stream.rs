//! Fuzz the streaming RIPE Atlas result reader (`tern_atlas::RecordReader`) on any bytes:
//! scanning, resynchronisation after damage, the buffer refills. The input arrives in reads of
//! a size taken from the first byte; the records, skips and the unclosed-array flag must be the
//! same as when the whole input is read at once (chunk boundaries change nothing), and no
//! record index may repeat. Errors are fine; panics are not.
#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;
use tern_atlas::RecordReader;

/// Hands out `data` in reads of at most `step` bytes.
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

fn run<R: Read>(r: R) -> Option<(Vec<tern_atlas::Record>, usize, usize, bool)> {
    let mut reader = RecordReader::new(r, "fuzz");
    let mut records = Vec::new();
    for r in &mut reader {
        records.push(r.ok()?);
    }
    Some((
        records,
        reader.skipped().count,
        reader.skipped().stray,
        reader.unclosed_array(),
    ))
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let step = usize::from(first % 64) + 1;
    let whole = run(body);
    let trickled = run(Trickle { data: body, step });
    assert_eq!(whole, trickled);
    if let Some((records, skipped, _, _)) = whole {
        let mut last = None;
        for r in &records {
            assert!(last.is_none_or(|l| r.index > l), "indices increase");
            last = Some(r.index);
        }
        assert!(records.len() + skipped <= body.len());
    }
});
