//! Domain names: labels, text form, and the bounded reader of compressed names
//! (RFC 1035 §3.1, §4.1.4, §5.1; RFC 4343 for case-insensitive comparison).

use std::fmt;

use crate::WireError;

/// Most compression pointers followed while reading one name. A name has at most 127 labels,
/// and a sane encoder never points at a pointer, so real names need far fewer.
pub const MAX_POINTER_JUMPS: usize = 127;

/// A domain name as a list of labels (case preserved).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Name(Vec<Vec<u8>>);

impl Name {
    /// The root name.
    pub fn root() -> Name {
        Name(Vec::new())
    }

    /// Parse dotted text (`id.server`, trailing dot optional). `None` if a label is empty or
    /// longer than 63 octets, or the name longer than 255.
    pub fn from_text(s: &str) -> Option<Name> {
        let s = s.strip_suffix('.').unwrap_or(s);
        if s.is_empty() {
            return Some(Name::root());
        }
        let labels: Vec<Vec<u8>> = s.split('.').map(|l| l.as_bytes().to_vec()).collect();
        let name = Name(labels);
        let ok = name.0.iter().all(|l| !l.is_empty() && l.len() <= 63) && name.wire_len() <= 255;
        ok.then_some(name)
    }

    /// The labels, as on the wire.
    pub fn labels(&self) -> &[Vec<u8>] {
        &self.0
    }

    /// Octets on the wire, uncompressed.
    pub fn wire_len(&self) -> usize {
        self.0.iter().map(|l| l.len() + 1).sum::<usize>() + 1
    }

    /// Case-insensitive comparison with dotted text (RFC 4343).
    pub fn eq_text(&self, text: &str) -> bool {
        Name::from_text(text).is_some_and(|n| self.eq_ignore_case(&n))
    }

    /// Case-insensitive comparison (RFC 4343 §3).
    pub fn eq_ignore_case(&self, other: &Name) -> bool {
        other.0.len() == self.0.len()
            && other
                .0
                .iter()
                .zip(&self.0)
                .all(|(a, b)| a.eq_ignore_ascii_case(b))
    }

    /// Dotted text without the trailing dot (`id.server`; the root is empty), escaped as by
    /// [`Display`](fmt::Display). The form RIPE Atlas and most reports print.
    pub fn to_dotted(&self) -> String {
        let mut s = self.to_string();
        s.pop(); // The trailing dot, or the root's lone dot.
        s
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        for l in &self.0 {
            out.push(l.len() as u8);
            out.extend_from_slice(l);
        }
        out.push(0);
    }
}

impl fmt::Display for Name {
    /// Dotted, with the trailing dot; octets other than graphic ASCII, `.` and `\` as `\DDD`
    /// (RFC 1035 §5.1).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str(".");
        }
        for l in &self.0 {
            for &c in l {
                if c.is_ascii_graphic() && c != b'.' && c != b'\\' {
                    write!(f, "{}", c as char)?;
                } else {
                    write!(f, "\\{c:03}")?;
                }
            }
            f.write_str(".")?;
        }
        Ok(())
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Name {
    /// As its text form ([`Name::to_dotted`]).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_dotted())
    }
}

/// Read a name starting at `start`; returns it and the offset just after it in the original
/// position (after the first pointer, if any).
pub(crate) fn read_name(b: &[u8], start: usize) -> Result<(Name, usize), WireError> {
    let mut labels = Vec::new();
    let mut pos = start;
    // Every pointer must go strictly before the segment it appears in: no loops possible, and
    // at most b.len() jumps.
    let mut segment_start = start;
    let mut end = None;
    let mut len = 1usize;
    let mut jumps = 0usize;
    loop {
        let l = *b.get(pos).ok_or(WireError::Truncated(pos))?;
        match l & 0xc0 {
            0x00 if l == 0 => {
                return Ok((Name(labels), end.unwrap_or(pos + 1)));
            }
            0x00 => {
                let label = b
                    .get(pos + 1..pos + 1 + l as usize)
                    .ok_or(WireError::Truncated(pos))?;
                len += label.len() + 1;
                if len > 255 {
                    return Err(WireError::NameTooLong(start));
                }
                labels.push(label.to_vec());
                pos += 1 + l as usize;
            }
            0xc0 => {
                let lo = *b.get(pos + 1).ok_or(WireError::Truncated(pos))?;
                let target = usize::from(u16::from_be_bytes([l & 0x3f, lo]));
                jumps += 1;
                if target >= segment_start || jumps > MAX_POINTER_JUMPS {
                    return Err(WireError::BadPointer(pos));
                }
                end.get_or_insert(pos + 2);
                segment_start = target;
                pos = target;
            }
            _ => return Err(WireError::BadLabel(pos)),
        }
    }
}
