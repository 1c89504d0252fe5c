//! From a community back to the dictionary: which entry a raw community is an instance of,
//! whether it is in a provider's namespace, and the nearest known ones (for "not in the
//! dictionary" warnings).

use tern_types::Asn;

use super::{Entry, Provider, Slot};
use crate::policy::CommunityValue;

impl Provider {
    /// The entry a community is an instance of, and the AS it names (for `{asn}` templates).
    pub fn lookup(&self, v: CommunityValue) -> Option<(&Entry, Option<Asn>)> {
        self.entries
            .iter()
            .find_map(|e| e.matches(v).map(|asn| (e, asn)))
    }

    /// Is the community in this provider's namespace (its AS as the first part, or the first
    /// part of one of its templates)?
    pub fn owns(&self, v: CommunityValue) -> bool {
        let first = match v {
            CommunityValue::Standard(c) => u32::from(c.high()),
            CommunityValue::Large(c) => c.global,
        };
        first == self.asn.0
            || self.entries.iter().any(|e| {
                let head = match v {
                    CommunityValue::Standard(_) => e.standard.map(|s| s[0]),
                    CommunityValue::Large(_) => e.large.map(|s| s[0]),
                };
                head == Some(Slot::Fixed(first))
            })
    }

    /// Up to three entries with fixed values in the namespace of `v`, nearest in value first:
    /// (community, meaning). For "not in the dictionary; did you mean" messages.
    pub fn nearest(&self, v: CommunityValue) -> Vec<(CommunityValue, String)> {
        let key = |c: CommunityValue| -> Option<(u32, u64)> {
            match c {
                CommunityValue::Standard(c) => Some((u32::from(c.high()), u64::from(c.low()))),
                CommunityValue::Large(c) => {
                    Some((c.global, (u64::from(c.local1) << 32) | u64::from(c.local2)))
                }
            }
        };
        let Some((head, at)) = key(v) else {
            return Vec::new();
        };
        let mut v: Vec<(u64, CommunityValue, String)> = self
            .entries
            .iter()
            .filter_map(|e| {
                let c = e.value(None)?;
                let (h, x) = key(c)?;
                (h == head && std::mem::discriminant(&c) == std::mem::discriminant(&v))
                    .then(|| (x.abs_diff(at), c, e.meaning.clone()))
            })
            .collect();
        v.sort_by_key(|(d, _, _)| *d);
        v.dedup_by_key(|(_, c, _)| *c);
        v.into_iter().take(3).map(|(_, c, m)| (c, m)).collect()
    }
}

impl Entry {
    /// The AS filled into `{asn}` when `v` is an instance of this entry (`Some(None)` for an
    /// entry without `{asn}`); `None` when it is not.
    pub(super) fn matches(&self, v: CommunityValue) -> Option<Option<Asn>> {
        fn fit(slots: &[Slot], parts: &[u32]) -> Option<Option<Asn>> {
            let mut asn = None;
            for (s, p) in slots.iter().zip(parts) {
                match s {
                    Slot::Fixed(f) if f == p => {}
                    Slot::Fixed(_) => return None,
                    Slot::Asn => asn = Some(Asn(*p)),
                }
            }
            Some(asn)
        }
        let asn = match v {
            CommunityValue::Standard(c) => {
                fit(&self.standard?, &[u32::from(c.high()), u32::from(c.low())])?
            }
            CommunityValue::Large(c) => fit(&self.large?, &[c.global, c.local1, c.local2])?,
        };
        if let (Some(p), Some(a)) = (self.peer, asn) {
            if p != a {
                return None;
            }
        }
        Some(asn.or(self.peer))
    }
}
