//! MRT (RFC 6396) reading: route-collector RIB dumps and update files, streamed record by record.
//!
//! The bottom layer of `tern-observe`: [`MrtReader`] turns a byte stream (plain, gzip or bzip2,
//! see [`open`]) into [`Record`]s; the propagation analysis in [`crate::observe`] consumes them.
//! Memory is bounded by the largest record ([`MAX_RECORD_LEN`]), never by the file.
//!
//! Path attributes are decoded by tern-bgp's UPDATE decoder (RFC 7606 semantics): a RIB entry's
//! attributes are framed as an UPDATE without NLRI (its abbreviated MP_REACH_NLRI, RFC 6396
//! §4.3.4, is read here), a BGP4MP message is decoded as it is, with ADD-PATH path identifiers
//! (RFC 8050, RFC 7911) taken out first.
//!
//! RFCs: RFC 6396 (TABLE_DUMP, TABLE_DUMP_V2, BGP4MP, BGP4MP_ET), RFC 8050 (ADD-PATH subtypes),
//! RFC 6793 (AS4 subtypes; TABLE_DUMP_V2 attributes always carry 4-octet ASNs).
//!
//! Errors: a record that cannot be framed (truncated file, absurd length, I/O) ends the stream
//! with an [`MrtError`] carrying the byte offset and what was read up to there; a record whose
//! body is malformed is skipped and counted in [`Counts::malformed`] (the first one is kept in
//! [`Counts::first_malformed`]), since the next record's position is still known.

mod bgp4mp;
mod cursor;
mod elem;
mod reader;
mod table_dump;

use std::net::IpAddr;

use serde::Serialize;
use tern_bgp::wire::{PathAttributes, Update};
use tern_types::{Asn, Prefix};

pub use bgp4mp::bgp4mp_message;
pub use elem::{Elem, ElemKind, path_text};
pub use reader::{MrtReader, open};

/// The largest record body we accept; real RIB records with hundreds of peers are well below.
pub const MAX_RECORD_LEN: u32 = 16 << 20;

/// MRT record types (RFC 6396 §4).
pub mod record_type {
    /// TABLE_DUMP (§4.2), deprecated but still in old archives.
    pub const TABLE_DUMP: u16 = 12;
    /// TABLE_DUMP_V2 (§4.3).
    pub const TABLE_DUMP_V2: u16 = 13;
    /// BGP4MP (§4.4).
    pub const BGP4MP: u16 = 16;
    /// BGP4MP_ET (§4.4, extended timestamp).
    pub const BGP4MP_ET: u16 = 17;
}

/// One collector peer: who sent the route.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Peer {
    /// The peer's address on the collector session.
    pub ip: IpAddr,
    /// The peer's AS.
    pub asn: Asn,
}

/// One route of a RIB dump: a peer's best path for a prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RibEntry {
    /// Who sent it.
    pub peer: Peer,
    /// When the collector received it (seconds since the epoch).
    pub originated: u32,
    /// ADD-PATH path identifier (RFC 8050 subtypes only).
    pub path_id: Option<u32>,
    /// The path attributes (AS_PATH with AS4_PATH merged, communities, …).
    pub attrs: PathAttributes,
}

/// The routes of one prefix in a RIB dump (one TABLE_DUMP_V2 RIB record; one entry per
/// TABLE_DUMP record).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rib {
    /// Dump time (seconds since the epoch).
    pub timestamp: u32,
    /// The prefix.
    pub prefix: Prefix,
    /// One entry per peer (and path id).
    pub entries: Vec<RibEntry>,
}

/// One BGP UPDATE a collector received (BGP4MP MESSAGE*).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateRecord {
    /// Seconds since the epoch.
    pub timestamp: u32,
    /// Microseconds (BGP4MP_ET only, else 0).
    pub microseconds: u32,
    /// Who sent it.
    pub peer: Peer,
    /// The UPDATE, with path identifiers removed from the NLRI.
    pub update: Update,
    /// ADD-PATH path identifiers of `update.withdrawals()` then `update.announced()`, in that
    /// order (empty without ADD-PATH).
    pub path_ids: Vec<u32>,
}

/// A collector session changed state (BGP4MP STATE_CHANGE*).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct StateChange {
    /// Seconds since the epoch.
    pub timestamp: u32,
    /// The peer.
    pub peer: Peer,
    /// RFC 4271 FSM state codes (1 Idle … 6 Established).
    pub old_state: u16,
    /// New state.
    pub new_state: u16,
}

/// One MRT record as framed, before decoding (RFC 6396 §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawRecord<'a> {
    /// Offset of its header in the uncompressed stream.
    pub offset: u64,
    /// Seconds since the epoch.
    pub timestamp: u32,
    /// [`record_type`].
    pub record_type: u16,
    /// Subtype.
    pub subtype: u16,
    /// The body (for BGP4MP_ET including the microseconds).
    pub body: &'a [u8],
}

/// The BGP message of a BGP4MP MESSAGE* record, undecoded: for tests of a BGP decoder on real
/// collector data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bgp4mpMessage<'a> {
    /// Who sent it.
    pub peer: Peer,
    /// AS4 subtype: the message's AS_PATH carries 4-octet ASNs.
    pub as4: bool,
    /// ADD-PATH subtype: its NLRI carry path identifiers.
    pub add_path: bool,
    /// The BGP message, header included.
    pub message: &'a [u8],
}

/// One decoded MRT record.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum Record {
    /// RIB routes of one prefix.
    Rib(Rib),
    /// A BGP UPDATE.
    Update(UpdateRecord),
    /// A session state change.
    StateChange(StateChange),
}

/// What a reader has seen so far; part of every error so "read 114,000 entries, then …" can
/// be said.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Records framed (every type).
    pub records: u64,
    /// RIB entries returned.
    pub rib_entries: u64,
    /// UPDATE messages returned.
    pub updates: u64,
    /// State changes returned.
    pub state_changes: u64,
    /// TABLE_DUMP_V2 PEER_INDEX_TABLE records.
    pub peer_tables: u64,
    /// BGP messages other than UPDATE (OPEN, KEEPALIVE, NOTIFICATION) in BGP4MP records.
    pub other_messages: u64,
    /// Records of types or subtypes we do not read (RIB_GENERIC, OSPF, ISIS, …).
    pub skipped: u64,
    /// Records or RIB entries whose body is malformed, skipped.
    pub malformed: u64,
    /// The first malformed one: offset of its record and why.
    pub first_malformed: Option<(u64, String)>,
    /// UPDATEs or entries whose attributes tern-bgp's decoder discarded part of (RFC 7606
    /// attribute discard), kept with what remained.
    pub attribute_discards: u64,
    /// UPDATEs the decoder found malformed in a way RFC 7606 handles as treat-as-withdraw:
    /// returned with every prefix in `withdrawn`.
    pub treat_as_withdraw: u64,
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} records ({} RIB entries, {} updates, {} state changes, {} skipped, {} malformed)",
            self.records,
            self.rib_entries,
            self.updates,
            self.state_changes,
            self.skipped,
            self.malformed
        )
    }
}

/// Why a stream could not be read to its end.
#[derive(Debug, thiserror::Error)]
#[error("MRT stream at byte {offset} (uncompressed): {kind}; read before: {counts}")]
pub struct MrtError {
    /// Offset of the record header where reading stopped, in the uncompressed stream.
    pub offset: u64,
    /// What went wrong.
    pub kind: MrtErrorKind,
    /// What was read before.
    pub counts: Box<Counts>,
}

/// The kinds of [`MrtError`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MrtErrorKind {
    /// The stream ends inside a record header or body.
    #[error("truncated record: {needed} bytes needed, {got} present")]
    Truncated {
        /// Bytes the header said.
        needed: u64,
        /// Bytes present.
        got: u64,
    },
    /// A record longer than [`MAX_RECORD_LEN`]: garbage, or not MRT.
    #[error("record length {0} exceeds the limit of {MAX_RECORD_LEN} bytes (not MRT?)")]
    TooLong(u32),
    /// Reading or decompressing failed.
    #[error("read failed: {0}")]
    Io(#[from] std::io::Error),
}
