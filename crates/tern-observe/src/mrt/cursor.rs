//! A bounds-checked big-endian cursor over one record body: every short read is an error,
//! never a panic.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why a record body could not be parsed.
pub(super) type Malformed = &'static str;

pub(super) struct Cursor<'a> {
    buf: &'a [u8],
}

impl<'a> Cursor<'a> {
    pub(super) fn new(buf: &'a [u8]) -> Self {
        Cursor { buf }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub(super) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }

    pub(super) fn take(&mut self, n: usize, what: Malformed) -> Result<&'a [u8], Malformed> {
        if n > self.buf.len() {
            return Err(what);
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    pub(super) fn u8(&mut self, what: Malformed) -> Result<u8, Malformed> {
        Ok(self.take(1, what)?[0])
    }

    pub(super) fn u16(&mut self, what: Malformed) -> Result<u16, Malformed> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(super) fn u32(&mut self, what: Malformed) -> Result<u32, Malformed> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A 2- or 4-octet AS number.
    pub(super) fn asn(&mut self, four: bool, what: Malformed) -> Result<u32, Malformed> {
        if four {
            self.u32(what)
        } else {
            self.u16(what).map(u32::from)
        }
    }

    /// An IPv4 (`v6` false) or IPv6 address.
    pub(super) fn ip(&mut self, v6: bool, what: Malformed) -> Result<IpAddr, Malformed> {
        if v6 {
            let b: [u8; 16] = self.take(16, what)?.try_into().map_err(|_| what)?;
            Ok(IpAddr::V6(Ipv6Addr::from(b)))
        } else {
            let b: [u8; 4] = self.take(4, what)?.try_into().map_err(|_| what)?;
            Ok(IpAddr::V4(Ipv4Addr::from(b)))
        }
    }
}
