//! Records flattened to one element per (peer, prefix): the unit every analysis counts, and
//! the unit other MRT tools (bgpkit-parser's `BgpElem`, `bgpdump -m` lines) print.

use serde::Serialize;
use tern_bgp::wire::{AsPath, PathAttributes, SegmentKind};
use tern_types::Prefix;

use super::{Peer, Record};

/// Announcement (a RIB entry counts as one) or withdrawal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ElemKind {
    /// A route (RIB entry or announced prefix).
    Announce,
    /// A withdrawn prefix.
    Withdraw,
}

/// One route or withdrawal of one peer.
#[derive(Clone, Copy, Debug)]
pub struct Elem<'a> {
    /// Seconds since the epoch: the RIB entry's originated time or the UPDATE's record time.
    pub timestamp: u32,
    /// Announce or withdraw.
    pub kind: ElemKind,
    /// Who.
    pub peer: Peer,
    /// Which prefix.
    pub prefix: Prefix,
    /// ADD-PATH path identifier.
    pub path_id: Option<u32>,
    /// The attributes (announcements only).
    pub attrs: Option<&'a PathAttributes>,
}

impl Record {
    /// The record's routes and withdrawals, one per (peer, prefix, path id).
    pub fn elems(&self) -> Vec<Elem<'_>> {
        match self {
            Record::Rib(rib) => rib
                .entries
                .iter()
                .map(|e| Elem {
                    timestamp: e.originated,
                    kind: ElemKind::Announce,
                    peer: e.peer,
                    prefix: rib.prefix,
                    path_id: e.path_id,
                    attrs: Some(&e.attrs),
                })
                .collect(),
            Record::Update(u) => {
                let mut ids = u.path_ids.iter().copied();
                let mut out: Vec<Elem<'_>> = u
                    .update
                    .withdrawals()
                    .map(|p| Elem {
                        timestamp: u.timestamp,
                        kind: ElemKind::Withdraw,
                        peer: u.peer,
                        prefix: *p,
                        path_id: ids.next(),
                        attrs: None,
                    })
                    .collect();
                out.extend(u.update.announced().map(|p| Elem {
                    timestamp: u.timestamp,
                    kind: ElemKind::Announce,
                    peer: u.peer,
                    prefix: *p,
                    path_id: ids.next(),
                    attrs: Some(&u.update.attrs),
                }));
                out
            }
            Record::StateChange(_) => Vec::new(),
        }
    }
}

/// An AS path as text: sequences space-separated, sets as `{a,b}` (the notation of
/// bgpkit-parser and of `bgpdump -m`).
pub fn path_text(path: &AsPath) -> String {
    let mut s = String::new();
    for seg in &path.segments {
        if !s.is_empty() {
            s.push(' ');
        }
        let set = matches!(seg.kind, SegmentKind::Set | SegmentKind::ConfedSet);
        if set {
            s.push('{');
        }
        for (i, a) in seg.asns.iter().enumerate() {
            if i > 0 {
                s.push(if set { ',' } else { ' ' });
            }
            s.push_str(&a.0.to_string());
        }
        if set {
            s.push('}');
        }
    }
    s
}
