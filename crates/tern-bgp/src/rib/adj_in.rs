//! Adj-RIB-In (RFC 4271 §3.2): the routes a peer sent us, kept only when asked for.
//!
//! tern is an announce-only origin: it installs nothing it learns. By default received UPDATEs
//! are parsed and counted ([`ReceiveCounters`]) and then dropped. When an operator wants to see
//! what an upstream sends (or a benchmark wants to hold a full table), an [`AdjRibIn`] keeps the
//! latest attributes per prefix, with a maximum-prefix limit whose breach ends the session with
//! Cease "Maximum Number of Prefixes Reached" (RFC 4486 §4, subcode 1).
//!
//! Attribute sets are shared between prefixes (`Arc`): a full table has far fewer distinct
//! attribute sets than prefixes, and consecutive prefixes of one UPDATE share one allocation.

use std::collections::HashMap;
use std::sync::Arc;

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

/// The routes a peer announced to us, latest attributes per prefix.
#[derive(Clone, Debug, Default)]
pub struct AdjRibIn {
    routes: HashMap<Prefix, Arc<PathAttributes>>,
    max_prefixes: Option<usize>,
}

impl AdjRibIn {
    /// An empty table that refuses to grow beyond `max_prefixes` (if given).
    pub fn new(max_prefixes: Option<usize>) -> Self {
        AdjRibIn {
            routes: HashMap::new(),
            max_prefixes,
        }
    }

    /// Apply one UPDATE. Fails (after applying it) when the table now holds more prefixes than
    /// the limit; the session then sends Cease 6/1.
    pub fn apply(&mut self, update: &Update) -> Result<(), MaxPrefixExceeded> {
        for p in update.withdrawals() {
            self.routes.remove(p);
        }
        let mut announced = update.announced().peekable();
        if announced.peek().is_some() {
            // Keep the attributes without the NLRI lists themselves.
            let mut attrs = update.attrs.clone();
            attrs.mp_unreach = None;
            if let Some(m) = attrs.mp_reach.as_mut() {
                m.nlri = Vec::new();
            }
            let attrs = Arc::new(attrs);
            for p in announced {
                self.routes.insert(*p, Arc::clone(&attrs));
            }
        }
        self.check_limit()
    }

    /// Treat these prefixes as withdrawn (RFC 7606 treat-as-withdraw).
    pub fn withdraw(&mut self, prefixes: &[Prefix]) {
        for p in prefixes {
            self.routes.remove(p);
        }
    }

    fn check_limit(&self) -> Result<(), MaxPrefixExceeded> {
        match self.max_prefixes {
            Some(limit) if self.routes.len() > limit => Err(MaxPrefixExceeded { limit }),
            _ => Ok(()),
        }
    }

    /// The attributes held for `prefix`.
    pub fn route(&self, prefix: &Prefix) -> Option<&PathAttributes> {
        self.routes.get(prefix).map(|a| a.as_ref())
    }

    /// Number of prefixes held.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Nothing held.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Drop everything (the session went down).
    pub fn clear(&mut self) {
        self.routes.clear();
    }
}
