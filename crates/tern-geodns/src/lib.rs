//! tern-geodns: the authoritative GeoDNS core. Pure and sans-IO: no tokio, no sockets, no clock.
//!
//! Place in the architecture (see ARCHITECTURE.md): below `tern-edge` (whose `geodns` module
//! serves it over UDP and TCP on the shared server layer and watches the sites' health) and
//! the `tern dns` commands; above `tern-dns` (the wire codec) and `tern-model` (the `[dns]`
//! section). It answers the operator's zone with the unicast address of the best healthy site
//! for the client asking.
//!
//! Pieces, in the order a query meets them:
//! - [`respond`]: one query → one [`respond::Reply`] (or a drop): FORMERR/NOTIMP/BADVERS,
//!   CHAOS identity, REFUSED outside the zone, NXDOMAIN/NODATA with the SOA, referrals,
//!   ECS echo with scope, NSID, EDNS payload size and TC;
//! - [`zone`]: the names and records of `[dns]`;
//! - [`select`]: who is asking (ECS or the resolver) → which site: latency map, then
//!   AS, then nearest by great-circle distance, then the anycast address;
//! - [`map`]: the latency map `tern dns map` writes (and its builder);
//! - [`geo`]: MMDB and CSV geolocation files;
//! - [`rrl`]: response rate limiting per client network (token buckets, slip).
//!
//! The caller owns health: it passes an [`select::Up`] bit set with every query, so that a site
//! which failed leaves the answers with the very next query after the watcher said so.
//!
//! RFCs: 1034/1035 (lookup, messages), 2181 §9 (TC), 2308 (negative answers), 4343 (case),
//! 4892 and 5001 (identity, NSID), 6891 (EDNS), 7871 (Client Subnet), 8020 (empty
//! non-terminals), 8482 (ANY).

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod geo;
pub mod map;
#[cfg(test)]
mod mmdb_fixture;
pub mod respond;
pub mod rrl;
pub mod select;
#[cfg(test)]
mod test_zone;
pub mod zone;

use std::path::PathBuf;

use tern_model::dns::Dns;
use tern_types::SiteId;

pub use respond::{Reply, Responder, Transport};
pub use select::{Choice, Family, Reason, Selector, Up};
pub use zone::Zone;

/// Why a GeoDNS input cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file cannot be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The latency map is malformed or does not fit the network.
    #[error("latency map {path}: {reason}")]
    Map {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The geolocation file is malformed.
    #[error("geolocation file {path}: {reason}")]
    Geo {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// More sites than [`select::MAX_SITES`].
    #[error("{0} sites: GeoDNS chooses among at most {max}", max = select::MAX_SITES)]
    TooManySites(usize),
}

/// Loads the latency map `[dns] map` names, checked against the network's sites.
pub fn load_map(dns: &Dns) -> Result<Option<map::MapIndex>, Error> {
    let Some(path) = &dns.map else {
        return Ok(None);
    };
    let ids: Vec<SiteId> = dns.sites.iter().map(|s| s.id.clone()).collect();
    Ok(Some(map::MapIndex::new(map::LatencyMap::load(path, &ids)?)))
}

/// Loads the geolocation file `[dns] geoip` names.
pub fn load_geo(dns: &Dns) -> Result<Option<geo::GeoDb>, Error> {
    dns.geoip.as_deref().map(geo::GeoDb::load).transpose()
}

/// A responder for a validated `[dns]`, with its map and geolocation file loaded;
/// `identity` is the NSID / `id.server` answer when `[dns] identity` is not set. A reload is
/// another call: on error the caller keeps the responder it has, so a broken map or MMDB
/// never replaces a good one.
pub fn build(dns: &Dns, identity: &str) -> Result<Responder, Error> {
    if dns.sites.len() > select::MAX_SITES {
        return Err(Error::TooManySites(dns.sites.len()));
    }
    let selector = Selector::new(dns.sites.clone(), load_map(dns)?, load_geo(dns)?);
    let identity = dns.identity.as_deref().unwrap_or(identity);
    Ok(Responder::new(Zone::new(dns), selector, identity))
}
