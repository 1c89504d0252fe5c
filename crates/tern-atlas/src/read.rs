//! Reading result files: API arrays (`[{…},{…}]`, usually on one line), one-object-per-line
//! dumps (JSONL, also concatenated pretty-printed objects), optionally bzip2-compressed, detected
//! from the content.
//!
//! [`RecordReader`] streams: it holds one record at a time (a buffer of [`CHUNK`] bytes that
//! grows only for a record larger than that, up to [`MAX_RECORD_BYTES`]), so memory does not
//! depend on the file's size. A byte-level scanner (strings, escapes, brace depth; `memchr` to
//! jump) finds where a record ends; serde_json then reads exactly those bytes into borrowed
//! structs (`raw.rs`). A broken record is counted and skipped ([`Skipped`]), never fatal: the
//! reader resynchronises at the next `{` that starts a valid record, so one damaged byte in a
//! one-line array costs that record only. A missing closing `]` is reported
//! ([`Results::unclosed_array`]). Only content that is not JSON at all is an [`AtlasError`].

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use serde::Serialize;

use crate::error::{AtlasError, RecordError};
use crate::raw;
use crate::record::Record;

/// How many skipped records keep their reason (the rest are only counted).
pub const MAX_REASONS: usize = 5;
/// Largest record the reader accepts; a longer one (or one whose braces never close) is skipped.
pub const MAX_RECORD_BYTES: usize = 8 << 20;
/// Bytes read from the file at a time.
pub const CHUNK: usize = 256 << 10;

/// The layout a file was found in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Layout {
    /// A JSON array, as the REST API returns.
    Array,
    /// Objects one after the other (JSONL dumps, daily archives).
    Lines,
}

/// Why one record was skipped, and where.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SkipReason {
    /// Position of the record in its file (0-based; skipped records count).
    pub index: usize,
    /// Line where the record starts (1-based; 0 when unknown).
    pub line: usize,
    /// Byte offset in the (decompressed) input where the problem is.
    pub offset: u64,
    /// What is wrong.
    pub reason: String,
}

/// Records that were skipped, with the first few reasons.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Skipped {
    /// How many records were skipped.
    pub count: usize,
    /// The first [`MAX_REASONS`] reasons.
    pub first: Vec<SkipReason>,
    /// Stray bytes between intact records (no record lost), by occurrence.
    pub stray: usize,
}

impl Skipped {
    fn push(&mut self, index: usize, line: usize, offset: u64, reason: String) {
        self.count += 1;
        if self.first.len() < MAX_REASONS {
            self.first.push(SkipReason {
                index,
                line,
                offset,
                reason,
            });
        }
    }

    /// Adds the counts of another input.
    pub fn merge(&mut self, other: &Skipped) {
        self.count += other.count;
        self.stray += other.stray;
        for r in &other.first {
            if self.first.len() < MAX_REASONS {
                self.first.push(r.clone());
            }
        }
    }
}

/// The records of one file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Results {
    /// Where they came from (file name or `<input>`).
    pub origin: String,
    /// The detected layout.
    pub layout: Layout,
    /// Records that parsed.
    pub records: Vec<Record>,
    /// Records that did not.
    pub skipped: Skipped,
    /// The input is an array whose closing `]` is missing (the file was cut off?).
    pub unclosed_array: bool,
}

/// Opens a file for streaming, decompressing bzip2 when the content starts with `BZh`. Plain
/// files are read unbuffered: [`RecordReader`] has its own buffer.
pub fn open(path: &Path) -> Result<Box<dyn Read>, AtlasError> {
    let io = |source| AtlasError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(io)?;
    let mut head = [0u8; 3];
    let mut n = 0;
    while n < head.len() {
        match file.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e)),
        }
    }
    let src = std::io::Cursor::new(head[..n].to_vec()).chain(file);
    Ok(if head[..n] == *b"BZh" {
        Box::new(bzip2::read::MultiBzDecoder::new(BufReader::with_capacity(
            CHUNK, src,
        )))
    } else {
        Box::new(src)
    })
}

/// Reads all bytes of a file, decompressing bzip2 when the content starts with `BZh`.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, AtlasError> {
    let mut out = Vec::new();
    open(path)?
        .read_to_end(&mut out)
        .map_err(|source| AtlasError::Bzip2 {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(out)
}

/// Where the reader is in the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Before the first value.
    Start,
    /// Inside an array: records, commas, the closing `]`.
    Array,
    /// After a `]`: only whitespace (or another array or object) may follow.
    AfterArray,
    /// Objects one after the other.
    Lines,
    /// Looking for the next record after a broken one.
    Resync,
    /// Done.
    End,
}

/// Where the scanner stopped inside a value (relative to the value's first byte).
#[derive(Clone, Copy, Debug, Default)]
struct ScanState {
    pos: usize,
    depth: usize,
    in_str: bool,
}

/// What the scanner found from a `{`.
enum Scan {
    /// The value ends before this buffer position.
    Complete(usize),
    /// More bytes are needed.
    More,
    /// The value is longer than [`MAX_RECORD_BYTES`].
    TooLarge,
}

/// A streaming reader of result records. Iterate it for the records that parse; afterwards
/// [`RecordReader::skipped`], [`RecordReader::layout`] and [`RecordReader::unclosed_array`] say
/// what else was found. Only I/O and not-JSON-at-all are errors (and end the iteration).
pub struct RecordReader<R> {
    src: R,
    origin: String,
    buf: Vec<u8>,
    /// First unconsumed byte in `buf`.
    start: usize,
    /// End of valid bytes in `buf`.
    end: usize,
    eof: bool,
    /// Input offset of `buf[0]`.
    base: u64,
    /// Line of `buf[start]`.
    line: usize,
    mode: Mode,
    layout: Option<Layout>,
    /// The layout's own mode, to return to after a resynchronisation.
    home: Mode,
    index: usize,
    skipped: Skipped,
    unclosed_array: bool,
    sc: ScanState,
    /// Stray bytes seen where a record should start: (line, offset, reason). Counted as a
    /// skipped record only if resynchronisation then passes over an object (a record lost);
    /// bytes between two intact records are counted in [`Skipped::stray`].
    pending: Option<(usize, u64, String)>,
    /// In resynchronisation after a damage already counted as a skipped record.
    counted: bool,
}

impl<R> std::fmt::Debug for RecordReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordReader")
            .field("origin", &self.origin)
            .field("index", &self.index)
            .field("skipped", &self.skipped.count)
            .finish_non_exhaustive()
    }
}

impl RecordReader<Box<dyn Read>> {
    /// Opens a result file (plain or bzip2).
    pub fn open(path: &Path) -> Result<Self, AtlasError> {
        Ok(RecordReader::new(open(path)?, &path.display().to_string()))
    }
}

impl<R: Read> RecordReader<R> {
    /// A reader of `src`; `origin` names it in messages.
    pub fn new(src: R, origin: &str) -> Self {
        RecordReader {
            src,
            origin: origin.to_string(),
            buf: vec![0; CHUNK],
            start: 0,
            end: 0,
            eof: false,
            base: 0,
            line: 1,
            mode: Mode::Start,
            layout: None,
            home: Mode::Lines,
            index: 0,
            skipped: Skipped::default(),
            unclosed_array: false,
            sc: ScanState::default(),
            pending: None,
            counted: false,
        }
    }

    /// The input's name.
    pub fn origin(&self) -> &str {
        &self.origin
    }
    /// The layout, once the first byte was read.
    pub fn layout(&self) -> Option<Layout> {
        self.layout
    }
    /// Records skipped so far.
    pub fn skipped(&self) -> &Skipped {
        &self.skipped
    }
    /// Whether the input was an array that ended without its `]` (known at the end).
    pub fn unclosed_array(&self) -> bool {
        self.unclosed_array
    }
    /// Records seen so far (read or skipped).
    pub fn seen(&self) -> usize {
        self.index
    }

    /// Reads everything into [`Results`] (holds every record: for small inputs).
    pub fn collect_results(mut self) -> Result<Results, AtlasError> {
        let mut records = Vec::new();
        for r in &mut self {
            records.push(r?);
        }
        Ok(Results {
            origin: self.origin,
            layout: self.layout.unwrap_or(Layout::Array),
            records,
            skipped: self.skipped,
            unclosed_array: self.unclosed_array,
        })
    }

    fn io_error(&self, source: std::io::Error) -> AtlasError {
        AtlasError::Io {
            path: self.origin.clone().into(),
            source,
        }
    }

    /// Reads more bytes; `false` at the end of the input.
    fn fill(&mut self) -> Result<bool, AtlasError> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.base += self.start as u64;
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < CHUNK / 2 {
            let len = self.buf.len();
            self.buf.resize(len * 2, 0);
        }
        loop {
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io_error(e)),
            }
        }
    }

    /// Marks `n` bytes from `start` as read.
    fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.line += memchr::memchr_iter(b'\n', &self.buf[self.start..self.start + n]).count();
        self.start += n;
        // A buffer grown for one large record shrinks back once it is consumed.
        if self.start == self.end && self.buf.len() > 4 * CHUNK {
            self.base += self.start as u64;
            self.start = 0;
            self.end = 0;
            self.buf.truncate(CHUNK);
            self.buf.shrink_to_fit();
        }
    }

    /// The next byte that is not whitespace, without consuming it; `None` at the end.
    fn peek_significant(&mut self) -> Result<Option<u8>, AtlasError> {
        loop {
            let rest = &self.buf[self.start..self.end];
            match rest.iter().position(|b| !b.is_ascii_whitespace()) {
                Some(i) => {
                    self.consume(i);
                    return Ok(Some(self.buf[self.start]));
                }
                None => {
                    let n = rest.len();
                    self.consume(n);
                    if !self.fill()? {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// Continues finding the end of the object starting at `buf[start]` (a `{`), from where
    /// the last call stopped (`self.sc`).
    fn scan(&mut self) -> Scan {
        let bytes = &self.buf[self.start..self.end];
        let ScanState {
            mut pos,
            mut depth,
            mut in_str,
        } = self.sc;
        let out = loop {
            if pos > MAX_RECORD_BYTES {
                break Scan::TooLarge;
            }
            if in_str {
                // Inside a string only the closing quote and escapes matter.
                let Some(k) = memchr::memchr2(b'"', b'\\', &bytes[pos.min(bytes.len())..]) else {
                    pos = pos.max(bytes.len());
                    break Scan::More;
                };
                pos += k;
                if bytes[pos] == b'\\' {
                    if pos + 1 >= bytes.len() {
                        break Scan::More;
                    }
                    pos += 2;
                } else {
                    in_str = false;
                    pos += 1;
                }
                continue;
            }
            // Outside strings only quotes and braces matter.
            let Some(j) = memchr::memchr3(b'"', b'{', b'}', &bytes[pos.min(bytes.len())..]) else {
                pos = pos.max(bytes.len());
                break Scan::More;
            };
            pos += j;
            match bytes[pos] {
                b'{' => depth += 1,
                b'}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        break Scan::Complete(self.start + pos + 1);
                    }
                }
                _ => in_str = true,
            }
            pos += 1;
        };
        self.sc = ScanState { pos, depth, in_str };
        out
    }

    /// The end of the object at `start`, reading more as needed.
    fn value_end(&mut self) -> Result<Result<usize, RecordError>, AtlasError> {
        self.sc = ScanState::default();
        loop {
            match self.scan() {
                Scan::Complete(e) => return Ok(Ok(e)),
                Scan::TooLarge => {
                    return Ok(Err(RecordError::TooLarge {
                        limit: MAX_RECORD_BYTES,
                    }));
                }
                Scan::More => {
                    if !self.fill()? {
                        return Ok(Err(RecordError::CutOff));
                    }
                }
            }
        }
    }

    fn skip(&mut self, offset_in_record: usize, reason: &RecordError) {
        let offset = self.base + (self.start + offset_in_record) as u64;
        self.skipped
            .push(self.index, self.line, offset, reason.to_string());
        self.index += 1;
    }

    /// Reads the record at `start` (a `{`). `Some(record)`, or `None` after counting it as
    /// skipped and switching to resynchronisation.
    ///
    /// Fast path: serde_json reads the record straight from the buffer and says where it
    /// ended; "needs more bytes" refills and reads again. Anything else (damage, a value of
    /// the wrong type, a record larger than the buffer allows) takes [`Self::record_slow`],
    /// which isolates the record with the scanner first.
    fn record(&mut self) -> Result<Option<Record>, AtlasError> {
        loop {
            let bytes = &self.buf[self.start..self.end];
            let mut it =
                serde_json::Deserializer::from_slice(bytes).into_iter::<raw::RawRecord<'_>>();
            let outcome = match it.next() {
                Some(Ok(r)) => Some((raw::convert(r, self.index), it.byte_offset())),
                Some(Err(e)) if e.is_eof() && bytes.len() <= MAX_RECORD_BYTES => None,
                _ => return self.record_slow(),
            };
            match outcome {
                Some((Ok(r), used)) => {
                    self.counted = false;
                    self.index += 1;
                    self.consume(used);
                    return Ok(Some(r));
                }
                Some((Err(_), _)) => return self.record_slow(),
                None => {
                    if !self.fill()? {
                        return self.record_slow();
                    }
                }
            }
        }
    }

    /// The careful path of [`Self::record`].
    fn record_slow(&mut self) -> Result<Option<Record>, AtlasError> {
        match self.value_end()? {
            Ok(e) => match raw::parse_record(&self.buf[self.start..e], self.index) {
                Ok(r) => {
                    self.counted = false;
                    self.index += 1;
                    self.consume(e - self.start);
                    Ok(Some(r))
                }
                Err(err) => {
                    let at = match &err {
                        RecordError::Json { offset, .. } => *offset,
                        _ => 0,
                    };
                    // A parse error may mean the scanner's idea of the end is wrong (a damaged
                    // quote or brace): look for the next record from the byte after this `{`.
                    let structural = matches!(err, RecordError::Json { .. });
                    self.skip(at, &err);
                    // Stray bytes up to the next record belong to this damage.
                    self.counted = true;
                    if structural {
                        self.consume(1);
                        self.mode = Mode::Resync;
                    } else {
                        self.consume(e - self.start);
                    }
                    Ok(None)
                }
            },
            Err(err) => {
                self.skip(0, &err);
                self.consume(1);
                self.counted = true;
                self.mode = Mode::Resync;
                Ok(None)
            }
        }
    }

    /// One step of resynchronisation: the next `{` that starts a record ends it. Objects
    /// inside the damaged record (hops, replies: no `prb_id`) are passed over, not counted.
    fn resync(&mut self) -> Result<Option<Record>, AtlasError> {
        loop {
            let rest = &self.buf[self.start..self.end];
            let found = if self.layout == Some(Layout::Array) {
                memchr::memchr2(b'{', b']', rest)
            } else {
                memchr::memchr(b'{', rest)
            };
            let Some(i) = found else {
                let n = rest.len();
                self.consume(n);
                if !self.fill()? {
                    self.finish();
                    return Ok(None);
                }
                continue;
            };
            self.consume(i);
            if self.buf[self.start] == b']' {
                // Perhaps the end of the array; if more follows, AfterArray comes back here.
                self.consume(1);
                self.mode = Mode::AfterArray;
                return Ok(None);
            }
            match self.value_end()? {
                Ok(e) => {
                    let bytes = &self.buf[self.start..e];
                    match raw::parse_record(bytes, self.index) {
                        Ok(r) => {
                            if self.pending.take().is_some() {
                                self.skipped.stray += 1;
                            }
                            self.index += 1;
                            self.consume(e - self.start);
                            self.counted = false;
                            self.mode = self.home;
                            return Ok(Some(r));
                        }
                        // A whole object with a probe id but bad content: a record of its own.
                        Err(
                            err @ (RecordError::ResultShape { .. } | RecordError::LegacyText(_)),
                        )
                        | Err(err @ RecordError::Missing("type")) => {
                            if self.pending.take().is_some() {
                                self.skipped.stray += 1;
                            }
                            self.skip(0, &err);
                            self.consume(e - self.start);
                            self.counted = false;
                            self.mode = self.home;
                            return Ok(None);
                        }
                        Err(_) => {
                            self.realise_pending();
                            self.consume(1);
                        }
                    }
                }
                // Nothing after this `{` closes (a damaged quote inverts what is a string, or
                // it is the damaged record's own `{`): try the next one.
                Err(_) => {
                    self.realise_pending();
                    self.consume(1);
                }
            }
        }
    }

    /// Stray bytes before an abandoned object: a record was lost there.
    fn realise_pending(&mut self) {
        if let Some((line, offset, reason)) = self.pending.take() {
            self.skipped.push(self.index, line, offset, reason);
            self.index += 1;
            self.counted = true;
        }
    }

    /// Bytes the reader's buffer holds now (for tests of bounded memory).
    pub fn buffer_capacity(&self) -> usize {
        self.buf.capacity()
    }

    fn finish(&mut self) {
        // Stray bytes at the very end (after the last record) lost nothing.
        if self.pending.take().is_some() {
            self.skipped.stray += 1;
        }
        if self.layout == Some(Layout::Array) && self.mode != Mode::AfterArray {
            self.unclosed_array = true;
        }
        self.mode = Mode::End;
    }

    /// The next record, skipping (and counting) broken ones.
    fn next_record(&mut self) -> Result<Option<Record>, AtlasError> {
        loop {
            match self.mode {
                Mode::End => return Ok(None),
                Mode::Start => {
                    // A UTF-8 byte order mark.
                    while self.end - self.start < 3 && self.fill()? {}
                    if self.buf[self.start..self.end].starts_with(b"\xEF\xBB\xBF") {
                        self.consume(3);
                    }
                    match self.peek_significant()? {
                        Some(b'[') => {
                            self.consume(1);
                            self.layout = Some(Layout::Array);
                            self.home = Mode::Array;
                            self.mode = Mode::Array;
                        }
                        Some(b'{') => {
                            self.layout = Some(Layout::Lines);
                            self.home = Mode::Lines;
                            self.mode = Mode::Lines;
                        }
                        _ => {
                            self.mode = Mode::End;
                            return Err(AtlasError::NotJson {
                                origin: self.origin.clone(),
                                reason: "expected a JSON array or JSON objects one per line".into(),
                            });
                        }
                    }
                }
                Mode::Array | Mode::Lines => match self.peek_significant()? {
                    None => {
                        self.finish();
                        return Ok(None);
                    }
                    Some(b'{') => {
                        if let Some(r) = self.record()? {
                            return Ok(Some(r));
                        }
                    }
                    Some(b',') if self.mode == Mode::Array => self.consume(1),
                    Some(b']') if self.mode == Mode::Array => {
                        self.consume(1);
                        self.mode = Mode::AfterArray;
                    }
                    Some(b) => {
                        let err = RecordError::Unexpected {
                            found: char::from(b),
                        };
                        if !self.counted {
                            let offset = self.base + self.start as u64;
                            self.pending = Some((self.line, offset, err.to_string()));
                        }
                        self.consume(1);
                        self.mode = Mode::Resync;
                    }
                },
                Mode::AfterArray => match self.peek_significant()? {
                    None => {
                        self.mode = Mode::End;
                        return Ok(None);
                    }
                    // Concatenated arrays (several API pages in one file).
                    Some(b'[') if !self.counted && self.pending.is_none() => {
                        self.consume(1);
                        self.mode = Mode::Array;
                    }
                    // A `]` inside a damaged record was not the end after all.
                    Some(b) => {
                        if self.pending.is_none() && !self.counted {
                            let offset = self.base + self.start as u64;
                            let err = RecordError::Unexpected {
                                found: char::from(b),
                            };
                            self.pending = Some((self.line, offset, err.to_string()));
                        }
                        self.mode = Mode::Resync;
                    }
                },
                Mode::Resync => {
                    if let Some(r) = self.resync()? {
                        return Ok(Some(r));
                    }
                }
            }
        }
    }
}

impl<R: Read> Iterator for RecordReader<R> {
    type Item = Result<Record, AtlasError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}

/// Reads a whole result file (array or lines, plain or bzip2) into memory. For large files,
/// iterate a [`RecordReader`] instead.
pub fn read_results(path: &Path) -> Result<Results, AtlasError> {
    RecordReader::open(path)?.collect_results()
}

/// Parses result JSON text (array or lines).
pub fn parse_results(text: &str, origin: &str) -> Result<Results, AtlasError> {
    RecordReader::new(text.as_bytes(), origin).collect_results()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TR: &str = r#"{"fw":5020,"type":"traceroute","prb_id":7,"msm_id":1,"timestamp":1,"af":4,"dst_addr":"192.0.2.1","proto":"ICMP","result":[{"hop":1,"result":[{"from":"198.51.100.1","rtt":1.5,"size":28,"ttl":255},{"x":"*"}]},{"hop":2,"result":[{"from":"192.0.2.1","rtt":9.25,"ttl":60},{"from":"192.0.2.1","rtt":9.0,"late":1}]}]}"#;

    #[test]
    fn array_and_lines_give_the_same_records() {
        let arr = format!("[{TR},{TR}]");
        let lines = format!("{TR}\n{TR}\n");
        let a = parse_results(&arr, "a").unwrap();
        let l = parse_results(&lines, "l").unwrap();
        assert_eq!(a.layout, Layout::Array);
        assert_eq!(l.layout, Layout::Lines);
        assert_eq!(a.records.len(), 2);
        assert_eq!(a.records, l.records);
    }

    #[test]
    fn broken_records_are_skipped_with_reasons() {
        let text = format!("{TR}\n{{\"type\":\"ping\"}}\n{{not json\n{TR}\n");
        let r = parse_results(&text, "x").unwrap();
        assert_eq!(r.records.len(), 2);
        assert_eq!(r.skipped.count, 2);
        assert_eq!(r.skipped.first[0].index, 1);
        assert_eq!(r.skipped.first[0].line, 2);
        assert!(r.skipped.first[0].reason.contains("prb_id"));
        assert_eq!(r.skipped.first[1].line, 3);
        assert_eq!(r.records[1].index, 3);
        // A broken array element.
        let arr = format!("[\n{TR},\n{{\"prb_id\": }},\n{TR}\n]\n");
        let r = parse_results(&arr, "x").unwrap();
        assert_eq!(r.records.len(), 2);
        assert_eq!(r.skipped.count, 1);
    }

    /// Regression (fuzzing): a broken array whose error lies inside a multi-byte character.
    #[test]
    fn resync_inside_a_multibyte_character() {
        // Must not panic (it did: slicing at a non-boundary).
        let _ = parse_results("[\u{28c}[,", "x");
        let r = parse_results("[\u{28c}[,\n{\"prb_id\":1,\"type\":\"ping\"}\n]", "x").unwrap();
        assert_eq!(r.records.len(), 1);
    }

    #[test]
    fn not_json_is_an_error() {
        assert!(matches!(
            parse_results("hello world", "x"),
            Err(AtlasError::NotJson { .. })
        ));
        assert!(matches!(
            parse_results("<html></html>", "x"),
            Err(AtlasError::NotJson { .. })
        ));
    }
}
