//! UPDATE messages (RFC 4271 §4.3).

use tern_types::Prefix;

use super::PathAttributes;

/// An UPDATE message (RFC 4271 §4.3). IPv6 (and any MP) routes travel in
/// [`PathAttributes::mp_reach`] / [`PathAttributes::mp_unreach`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Update {
    /// Withdrawn Routes field: IPv4 prefixes only.
    pub withdrawn: Vec<Prefix>,
    /// Path attributes.
    pub attrs: PathAttributes,
    /// NLRI field: IPv4 prefixes only, reachable via `attrs.next_hop`.
    pub nlri: Vec<Prefix>,
}

impl Update {
    /// The End-of-RIB marker for IPv4 unicast: an empty UPDATE (RFC 4724 §2).
    pub fn end_of_rib_ipv4() -> Self {
        Update::default()
    }

    /// Whether this is an End-of-RIB marker: an empty UPDATE, or one carrying only an empty
    /// MP_UNREACH_NLRI (RFC 4724 §2). Returns the (AFI, SAFI).
    pub fn end_of_rib(&self) -> Option<(u16, u8)> {
        if !self.withdrawn.is_empty() || !self.nlri.is_empty() {
            return None;
        }
        if self.attrs.is_empty() {
            return Some((super::AFI_IPV4, super::SAFI_UNICAST));
        }
        let only_unreach = PathAttributes {
            mp_unreach: None,
            ..self.attrs.clone()
        }
        .is_empty();
        match &self.attrs.mp_unreach {
            Some(u) if only_unreach && u.withdrawn.is_empty() => Some((u.afi, u.safi)),
            _ => None,
        }
    }

    /// Every prefix this UPDATE announces: the NLRI field and MP_REACH_NLRI.
    pub fn announced(&self) -> impl Iterator<Item = &Prefix> + '_ {
        self.nlri
            .iter()
            .chain(self.attrs.mp_reach.iter().flat_map(|m| m.nlri.iter()))
    }

    /// Every prefix this UPDATE withdraws: the Withdrawn Routes field and MP_UNREACH_NLRI.
    pub fn withdrawals(&self) -> impl Iterator<Item = &Prefix> + '_ {
        self.withdrawn.iter().chain(
            self.attrs
                .mp_unreach
                .iter()
                .flat_map(|m| m.withdrawn.iter()),
        )
    }
}
