//! What one configuration announces where: origins (a site attached to a provider node) and
//! the typed effects other ASes apply to each origin's route.
//!
//! The effects are tern-model's typed [`Effect`]s (the policy model shared with the BIRD
//! renderer and the lab); [`crate::model`] builds a scenario from a tern.toml. An effect is applied by the nodes standing for [`Applied::by`] (every node for
//! `None`, as RFC 1997 NO_EXPORT is), exactly where the lab's BIRD routers apply the provider
//! dictionaries' communities: local-pref on import, no-announce/prepend/no-export on export to
//! an eBGP neighbour (matched by the neighbour's AS and region).

use serde::Serialize;
pub use tern_model::policy::{Effect, Level, Neighbors, Region, Relationship};

/// Local preference of customer routes (tern-model's one scale, shared with the lab).
pub const LP_CUSTOMER: u16 = Relationship::Customer.local_pref() as u16;
/// Local preference of peer routes.
pub const LP_PEER: u16 = Relationship::Peer.local_pref() as u16;
/// Local preference of provider routes.
pub const LP_PROVIDER: u16 = Relationship::Provider.local_pref() as u16;

/// What a provider's `local-pref` level means (tern-model's scale: lowest 10, low 70, peer
/// 100, high 250; customers 200).
pub fn level_pref(l: Level) -> u16 {
    l.local_pref() as u16
}

/// An effect and who applies it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Applied {
    /// The AS applying it ([`crate::graph::Node::represents`]); `None`: every AS.
    pub by: Option<u32>,
    /// What.
    pub effect: Effect,
    /// Where it comes from (community and dictionary meaning), for reports.
    pub note: String,
}

/// One route we originate: a site's session to a provider node.
#[derive(Clone, Debug, Serialize)]
pub struct Origin {
    /// Index into [`Scenario::sites`].
    pub site: usize,
    /// Upstream session name.
    pub upstream: String,
    /// The provider node that hears it.
    pub node: u32,
    /// Extra copies of our AS on the session (the AS path at the provider is 1 + prepend).
    pub prepend: u8,
    /// Effects applied to it by other ASes.
    pub effects: Vec<Applied>,
}

/// One configuration to simulate: at most [`MAX_ORIGINS`] origins.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Scenario {
    /// Site names (index = site id in results).
    pub sites: Vec<String>,
    /// Origins.
    pub origins: Vec<Origin>,
}

/// Most origins (site × upstream) one scenario may have: routes carry them as a 64-bit set.
pub const MAX_ORIGINS: usize = 64;

impl Scenario {
    /// Sites of an origin set.
    pub fn sites_of(&self, mask: u64) -> u64 {
        let mut s = 0u64;
        let mut m = mask;
        while m != 0 {
            let o = m.trailing_zeros() as usize;
            m &= m - 1;
            if let Some(or) = self.origins.get(o) {
                s |= 1 << or.site;
            }
        }
        s
    }

    /// Names of the sites in a site set, in index order.
    pub fn names(&self, sites: u64) -> Vec<String> {
        (0..self.sites.len())
            .filter(|i| sites & (1 << i) != 0)
            .map(|i| self.sites[i].clone())
            .collect()
    }
}
