//! The streaming reader: MRT common header framing (RFC 6396 §2), decompression, dispatch by
//! record type.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use super::bgp4mp::{self, Bgp4mp, Outcome};
use super::table_dump::{self, Scratch, subtype};
use super::{Counts, MAX_RECORD_LEN, MrtError, MrtErrorKind, Peer, RawRecord, Record, record_type};

/// Opens an MRT file, plain, gzip (`1f 8b`) or bzip2 (`BZh`), recognised by its first bytes
/// (not its name), for streaming.
pub fn open(path: &Path) -> std::io::Result<MrtReader<Box<dyn Read + Send>>> {
    let mut file = BufReader::with_capacity(1 << 16, File::open(path)?);
    let magic = file.fill_buf()?;
    let inner: Box<dyn Read + Send> = if magic.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::bufread::MultiGzDecoder::new(file))
    } else if magic.starts_with(b"BZh") {
        Box::new(bzip2::bufread::MultiBzDecoder::new(file))
    } else {
        Box::new(file)
    };
    Ok(MrtReader::new(inner))
}

/// Reads [`Record`]s one at a time from any byte stream; holds one record body at a time.
#[derive(Debug)]
pub struct MrtReader<R> {
    inner: BufReader<R>,
    offset: u64,
    counts: Counts,
    peers: Vec<Peer>,
    body: Vec<u8>,
    scratch: Scratch,
    message: Vec<u8>,
    failed: bool,
}

impl<R: Read> MrtReader<R> {
    /// A reader over an uncompressed MRT stream (see [`open`] for files).
    pub fn new(inner: R) -> Self {
        MrtReader {
            inner: BufReader::with_capacity(1 << 16, inner),
            offset: 0,
            counts: Counts::default(),
            peers: Vec::new(),
            body: Vec::new(),
            scratch: Scratch::default(),
            message: Vec::new(),
            failed: false,
        }
    }

    /// What was read so far.
    pub fn counts(&self) -> &Counts {
        &self.counts
    }

    /// The offset of the next record header in the uncompressed stream.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The collector peers of the last PEER_INDEX_TABLE.
    pub fn peers(&self) -> &[Peer] {
        &self.peers
    }

    fn error(&mut self, kind: MrtErrorKind) -> MrtError {
        self.failed = true;
        MrtError {
            offset: self.offset,
            kind,
            counts: Box::new(self.counts.clone()),
        }
    }

    /// Fills `buf` completely; returns how many bytes there were if the stream ended first.
    fn fill(&mut self, len: usize, header: bool) -> Result<Option<usize>, std::io::Error> {
        let buf = if header {
            &mut self.message[..len]
        } else {
            &mut self.body[..len]
        };
        let mut got = 0;
        while got < len {
            match self.inner.read(&mut buf[got..]) {
                Ok(0) => return Ok(Some(got)),
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// The next record undecoded (framing only), `Ok(None)` at the end of the stream.
    pub fn next_raw(&mut self) -> Result<Option<RawRecord<'_>>, MrtError> {
        if self.failed {
            return Ok(None);
        }
        // The common header: timestamp, type, subtype, length (§2).
        self.message.resize(self.message.len().max(12), 0);
        match self.fill(12, true) {
            Ok(None) => {}
            Ok(Some(0)) => return Ok(None),
            Ok(Some(got)) => {
                return Err(self.error(MrtErrorKind::Truncated {
                    needed: 12,
                    got: got as u64,
                }));
            }
            Err(e) => return Err(self.error(MrtErrorKind::Io(e))),
        }
        let h = &self.message[..12];
        let timestamp = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
        let record_type = u16::from_be_bytes([h[4], h[5]]);
        let subtype = u16::from_be_bytes([h[6], h[7]]);
        let len = u32::from_be_bytes([h[8], h[9], h[10], h[11]]);
        if len > MAX_RECORD_LEN {
            return Err(self.error(MrtErrorKind::TooLong(len)));
        }
        self.body.resize(len as usize, 0);
        match self.fill(len as usize, false) {
            Ok(None) => {}
            Ok(Some(got)) => {
                return Err(self.error(MrtErrorKind::Truncated {
                    needed: u64::from(len) + 12,
                    got: got as u64 + 12,
                }));
            }
            Err(e) => return Err(self.error(MrtErrorKind::Io(e))),
        }
        let offset = self.offset;
        self.offset += 12 + u64::from(len);
        self.counts.records += 1;
        Ok(Some(RawRecord {
            offset,
            timestamp,
            record_type,
            subtype,
            body: &self.body,
        }))
    }

    /// The next record, `Ok(None)` at the end of the stream. After an error, always `Ok(None)`.
    pub fn next_record(&mut self) -> Result<Option<Record>, MrtError> {
        loop {
            let Some(raw) = self.next_raw()? else {
                return Ok(None);
            };
            let (at, ts, ty, sub) = (raw.offset, raw.timestamp, raw.record_type, raw.subtype);
            match self.dispatch(ts, ty, sub) {
                Ok(Some(r)) => return Ok(Some(r)),
                Ok(None) => {}
                Err(why) => self.malformed(at, why),
            }
        }
    }

    fn malformed(&mut self, at: u64, why: String) {
        self.counts.malformed += 1;
        if self.counts.first_malformed.is_none() {
            self.counts.first_malformed = Some((at, why));
        }
    }

    /// One framed record; `Ok(None)` for records consumed here (peer table, skipped).
    fn dispatch(&mut self, timestamp: u32, ty: u16, sub: u16) -> Result<Option<Record>, String> {
        let at = self.offset - 12 - self.body.len() as u64;
        match ty {
            record_type::TABLE_DUMP if sub == 1 || sub == 2 => {
                let (rib, discarded) =
                    table_dump::table_dump_v1(&self.body, timestamp, sub == 2, &mut self.scratch)?;
                self.counts.rib_entries += 1;
                self.counts.attribute_discards += u64::from(discarded);
                Ok(Some(Record::Rib(rib)))
            }
            record_type::TABLE_DUMP_V2 if sub == subtype::PEER_INDEX_TABLE => {
                self.peers = table_dump::peer_index_table(&self.body)?;
                self.counts.peer_tables += 1;
                Ok(None)
            }
            record_type::TABLE_DUMP_V2 => {
                let Some(family) = table_dump::rib_subtype(sub) else {
                    self.counts.skipped += 1;
                    return Ok(None);
                };
                let (rib, problems, discards) = table_dump::rib_record(
                    &self.body,
                    timestamp,
                    family,
                    &self.peers,
                    &mut self.scratch,
                )?;
                self.counts.rib_entries += rib.entries.len() as u64;
                self.counts.attribute_discards += discards;
                for p in problems {
                    self.malformed(at, p);
                }
                Ok(Some(Record::Rib(rib)))
            }
            record_type::BGP4MP | record_type::BGP4MP_ET => {
                let (micro, body) = if ty == record_type::BGP4MP_ET {
                    let b = self.body.get(..4).ok_or("BGP4MP_ET: no microseconds")?;
                    (
                        u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
                        &self.body[4..],
                    )
                } else {
                    (0, &self.body[..])
                };
                match bgp4mp::record(body, sub, timestamp, micro, &mut self.message)? {
                    Bgp4mp::Update(u, outcome) => {
                        self.counts.updates += 1;
                        match outcome {
                            Outcome::Clean => {}
                            Outcome::AttributeDiscard => self.counts.attribute_discards += 1,
                            Outcome::TreatAsWithdraw => self.counts.treat_as_withdraw += 1,
                        }
                        Ok(Some(Record::Update(u)))
                    }
                    Bgp4mp::State(s) => {
                        self.counts.state_changes += 1;
                        Ok(Some(Record::StateChange(s)))
                    }
                    Bgp4mp::OtherMessage => {
                        self.counts.other_messages += 1;
                        Ok(None)
                    }
                    Bgp4mp::Skipped => {
                        self.counts.skipped += 1;
                        Ok(None)
                    }
                }
            }
            _ => {
                self.counts.skipped += 1;
                Ok(None)
            }
        }
    }
}

impl<R: Read> Iterator for MrtReader<R> {
    type Item = Result<Record, MrtError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}
