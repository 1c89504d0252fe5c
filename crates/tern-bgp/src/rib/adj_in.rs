//! Adj-RIB-In (RFC 4271 §3.2): the routes a peer sent us, kept only when asked for.
//!
//! tern is an announce-only origin: it installs nothing it learns. By default received UPDATEs
//! are parsed and counted ([`ReceiveCounters`]) and then dropped. When an operator wants to see
//! what an upstream sends (or a benchmark wants to hold a full table), an [`AdjRibIn`] keeps the
//! latest attributes per prefix, with a maximum-prefix limit whose breach ends the session with
//! Cease "Maximum Number of Prefixes Reached" (RFC 4486 §4, subcode 1).
//!
//! Attribute sets are interned and shared between prefixes (`Arc`): a full table has far fewer
//! distinct attribute sets than prefixes (≈60k for ≈700k prefixes).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use ipnet::IpNet;

use tern_types::Prefix;

use crate::wire::{PathAttributes, Update};

/// Counters of what a peer sent, kept whether or not an Adj-RIB-In is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReceiveCounters {
    /// UPDATE messages received.
    pub updates: u64,
    /// Prefixes announced (an announce of a prefix already held counts again).
    pub announced: u64,
    /// Prefixes withdrawn (including RFC 7606 treat-as-withdraw).
    pub withdrawn: u64,
    /// UPDATEs handled as withdraw or with attributes discarded (RFC 7606).
    pub errors_tolerated: u64,
}

/// The maximum-prefix limit was crossed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("peer sent more than {limit} prefixes")]
pub struct MaxPrefixExceeded {
    /// The configured limit.
    pub limit: usize,
}

/// Compact table key: address bits and length, per family (a `Prefix` would cost 18 bytes plus
/// padding per entry; a full table has ~1M entries).
type V4Key = (u32, u8);
type V6Key = (u128, u8);

/// The routes a peer announced to us, latest attributes per prefix.
#[derive(Clone, Debug, Default)]
pub struct AdjRibIn {
    v4: HashMap<V4Key, Arc<PathAttributes>>,
    v6: HashMap<V6Key, Arc<PathAttributes>>,
    attrs: Interner,
    max_prefixes: Option<usize>,
}

impl AdjRibIn {
    /// An empty table that refuses to grow beyond `max_prefixes` (if given).
    pub fn new(max_prefixes: Option<usize>) -> Self {
        AdjRibIn {
            max_prefixes,
            ..AdjRibIn::default()
        }
    }

    fn insert(&mut self, p: &Prefix, a: Arc<PathAttributes>) -> Option<Arc<PathAttributes>> {
        match p.as_ipnet() {
            IpNet::V4(n) => self.v4.insert((u32::from(n.network()), n.prefix_len()), a),
            IpNet::V6(n) => self.v6.insert((u128::from(n.network()), n.prefix_len()), a),
        }
    }

    fn remove(&mut self, p: &Prefix) {
        let old = match p.as_ipnet() {
            IpNet::V4(n) => self.v4.remove(&(u32::from(n.network()), n.prefix_len())),
            IpNet::V6(n) => self.v6.remove(&(u128::from(n.network()), n.prefix_len())),
        };
        if let Some(old) = old {
            self.attrs.release(old);
        }
    }

    /// Apply one UPDATE. Fails (after applying it) when the table now holds more prefixes than
    /// the limit; the session then sends Cease 6/1.
    pub fn apply(&mut self, update: &Update) -> Result<(), MaxPrefixExceeded> {
        for p in update.withdrawals() {
            self.remove(p);
        }
        let mut announced = update.announced().peekable();
        if announced.peek().is_some() {
            // Keep the attributes without the NLRI lists themselves, shared by every route
            // with the same attributes (not only those of this UPDATE).
            let mut attrs = update.attrs.clone();
            attrs.mp_unreach = None;
            if let Some(m) = attrs.mp_reach.as_mut() {
                m.nlri = Vec::new();
            }
            let attrs = self.attrs.intern(attrs);
            for p in announced {
                if let Some(old) = self.insert(p, Arc::clone(&attrs)) {
                    self.attrs.release(old);
                }
            }
        }
        self.check_limit()
    }

    /// Treat these prefixes as withdrawn (RFC 7606 treat-as-withdraw).
    pub fn withdraw(&mut self, prefixes: &[Prefix]) {
        for p in prefixes {
            self.remove(p);
        }
    }

    fn check_limit(&self) -> Result<(), MaxPrefixExceeded> {
        match self.max_prefixes {
            Some(limit) if self.len() > limit => Err(MaxPrefixExceeded { limit }),
            _ => Ok(()),
        }
    }

    /// The attributes held for `prefix`.
    pub fn route(&self, prefix: &Prefix) -> Option<&PathAttributes> {
        match prefix.as_ipnet() {
            IpNet::V4(n) => self.v4.get(&(u32::from(n.network()), n.prefix_len())),
            IpNet::V6(n) => self.v6.get(&(u128::from(n.network()), n.prefix_len())),
        }
        .map(|a| a.as_ref())
    }

    /// Number of prefixes held.
    pub fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    /// Nothing held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of distinct attribute sets held.
    pub fn attribute_sets(&self) -> usize {
        self.attrs.len()
    }

    /// Drop everything (the session went down).
    pub fn clear(&mut self) {
        self.v4 = HashMap::new();
        self.v6 = HashMap::new();
        self.attrs = Interner::default();
    }
}

/// One shared copy of each distinct attribute set (BIRD's `rta` cache does the same).
/// `PathAttributes` is not `Hash`, so the bucket key is a hash of its fields and each bucket
/// holds the (rarely more than one) sets with that hash.
#[derive(Clone, Debug, Default)]
struct Interner {
    buckets: HashMap<u64, Vec<Arc<PathAttributes>>>,
    count: usize,
}

impl Interner {
    fn key(a: &PathAttributes) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        a.origin.map(|o| o.code()).hash(&mut h);
        a.as_path.hash(&mut h);
        a.next_hop.hash(&mut h);
        a.med.hash(&mut h);
        a.local_pref.hash(&mut h);
        a.atomic_aggregate.hash(&mut h);
        a.aggregator.hash(&mut h);
        a.communities.hash(&mut h);
        a.large_communities.hash(&mut h);
        a.otc.hash(&mut h);
        a.mp_reach
            .as_ref()
            .map(|m| (m.afi, m.safi, m.next_hop))
            .hash(&mut h);
        a.unknown.hash(&mut h);
        h.finish()
    }

    fn intern(&mut self, a: PathAttributes) -> Arc<PathAttributes> {
        let bucket = self.buckets.entry(Self::key(&a)).or_default();
        if let Some(found) = bucket.iter().find(|x| ***x == a) {
            return Arc::clone(found);
        }
        let a = Arc::new(a);
        bucket.push(Arc::clone(&a));
        self.count += 1;
        a
    }

    /// A route let go of `a`: forget the set when only the interner still holds it.
    fn release(&mut self, a: Arc<PathAttributes>) {
        if Arc::strong_count(&a) > 2 {
            return;
        }
        let k = Self::key(&a);
        if let Some(bucket) = self.buckets.get_mut(&k) {
            let before = bucket.len();
            bucket.retain(|x| !Arc::ptr_eq(x, &a));
            self.count -= before - bucket.len();
            if bucket.is_empty() {
                self.buckets.remove(&k);
            }
        }
    }

    fn len(&self) -> usize {
        self.count
    }
}
