//! Our OPEN and what two OPENs agree on (RFC 4271 §4.2, RFC 5492, RFC 4760 §8, RFC 6793,
//! RFC 2918, RFC 7313, RFC 9234 §4).

use std::net::Ipv4Addr;
use std::time::Duration;

use tern_types::{Afi, Asn};

use super::SessionConfig;
use crate::rib::{afi_safi, family};
use crate::wire::{
    AS_TRANS, BGP_VERSION, Capability, Codec, ErrorCode, Notification, Open, Role, subcode,
};

/// What the two OPENs agreed on; valid while the session is up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Negotiated {
    /// The peer's AS (from the 4-octet AS capability when present).
    pub peer_as: Asn,
    /// The peer's BGP identifier.
    pub peer_id: Ipv4Addr,
    /// Hold time: the smaller of both proposals, 0 = no hold timer and no keepalives (§4.2).
    pub hold_time: u16,
    /// Families both sides advertised (IPv4 unicast alone when the peer sent no multiprotocol
    /// capability, RFC 4760 §8).
    pub families: Vec<Afi>,
    /// Both sides speak 4-octet AS (RFC 6793).
    pub four_octet_as: bool,
    /// Both sides advertised route refresh (RFC 2918).
    pub route_refresh: bool,
    /// Both sides advertised enhanced route refresh (RFC 7313): refreshes are framed by
    /// BoRR/EoRR.
    pub enhanced_route_refresh: bool,
    /// The peer's role, if it sent one (RFC 9234).
    pub peer_role: Option<Role>,
    /// The codec context for UPDATEs.
    pub codec: Codec,
}

impl Negotiated {
    /// KEEPALIVE interval: a third of the hold time (RFC 4271 §10), `None` when hold time is 0.
    pub fn keepalive_interval(&self) -> Option<Duration> {
        (self.hold_time > 0).then(|| Duration::from_millis(u64::from(self.hold_time) * 1000 / 3))
    }

    /// The hold time as a duration, `None` when it is 0.
    pub fn hold_duration(&self) -> Option<Duration> {
        (self.hold_time > 0).then(|| Duration::from_secs(u64::from(self.hold_time)))
    }
}

/// The OPEN we send for `cfg`.
pub fn local_open(cfg: &SessionConfig) -> Open {
    let mut capabilities: Vec<Capability> = cfg
        .families
        .iter()
        .map(|f| {
            let (afi, safi) = afi_safi(*f);
            Capability::Multiprotocol { afi, safi }
        })
        .collect();
    capabilities.push(Capability::RouteRefresh);
    if cfg.enhanced_route_refresh {
        capabilities.push(Capability::EnhancedRouteRefresh);
    }
    capabilities.push(Capability::FourOctetAs(cfg.local_as));
    if let Some(r) = cfg.role {
        capabilities.push(Capability::Role(r));
    }
    Open {
        version: BGP_VERSION,
        my_as: cfg.local_as,
        hold_time: cfg.hold_time,
        bgp_id: cfg.bgp_id,
        capabilities,
    }
}

/// Check the peer's OPEN against our configuration (RFC 4271 §6.2; the codec already refused
/// bad versions, hold times 1–2 and identifier 0) and work out what was negotiated. An error is
/// the NOTIFICATION to send.
pub fn negotiate(
    cfg: &SessionConfig,
    local: &Open,
    remote: &Open,
) -> Result<Negotiated, Notification> {
    let open_err = |sub: u8| Notification::new(ErrorCode::Open, sub, Vec::new());
    // RFC 6793 §4.2.2: the codec already put the capability's AS in `my_as`; a 4-octet speaker
    // that sends AS_TRANS without the capability is itself broken.
    let peer_as = remote.my_as;
    if peer_as != cfg.peer_as || (peer_as == AS_TRANS && remote.four_octet_as().is_none()) {
        // §6.2: "If the Autonomous System field of the OPEN message is unacceptable, then the
        // Error Subcode MUST be set to Bad Peer AS."
        return Err(open_err(subcode::open::BAD_PEER_AS));
    }
    // RFC 6286 §2.2: an identifier equal to ours is an error only from an internal peer; an
    // external peer may share it (identifiers are unique within an AS), and collisions between
    // equal identifiers are then resolved by AS number (RFC 6286 §2.3).
    if remote.bgp_id == cfg.bgp_id && peer_as == cfg.local_as {
        return Err(open_err(subcode::open::BAD_BGP_IDENTIFIER));
    }
    // RFC 9234 §4.2: roles must pair up; in strict mode the peer must send one.
    if let Some(ours) = cfg.role {
        match remote.role() {
            Some(theirs) if Some(theirs) != ours.expected_peer_role() => {
                return Err(open_err(subcode::open::ROLE_MISMATCH));
            }
            None if cfg.strict_role => return Err(open_err(subcode::open::ROLE_MISMATCH)),
            _ => {}
        }
    }
    let remote_families: Vec<Afi> = {
        let mp: Vec<(u16, u8)> = remote.multiprotocol().collect();
        if mp.is_empty() {
            vec![Afi::Ipv4]
        } else {
            mp.into_iter().filter_map(|(a, s)| family(a, s)).collect()
        }
    };
    let families = cfg
        .families
        .iter()
        .copied()
        .filter(|f| remote_families.contains(f))
        .collect();
    let both = |c: &Capability| local.has(c) && remote.has(c);
    Ok(Negotiated {
        peer_as,
        peer_id: remote.bgp_id,
        hold_time: cfg.hold_time.min(remote.hold_time),
        families,
        four_octet_as: both(&Capability::FourOctetAs(Asn(0))),
        route_refresh: both(&Capability::RouteRefresh),
        enhanced_route_refresh: both(&Capability::EnhancedRouteRefresh),
        peer_role: remote.role(),
        codec: Codec::negotiated(local, remote),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::wire::{AFI_IPV6, SAFI_UNICAST};

    fn cfg() -> SessionConfig {
        SessionConfig::new(Asn(65001), Asn(65002), Ipv4Addr::new(192, 0, 2, 1))
    }

    fn peer_open() -> Open {
        Open {
            version: 4,
            my_as: Asn(65002),
            hold_time: 30,
            bgp_id: Ipv4Addr::new(192, 0, 2, 2),
            capabilities: vec![
                Capability::Multiprotocol {
                    afi: AFI_IPV6,
                    safi: SAFI_UNICAST,
                },
                Capability::RouteRefresh,
                Capability::FourOctetAs(Asn(65002)),
            ],
        }
    }

    #[test]
    fn hold_time_is_the_minimum_and_families_intersect() {
        let c = cfg();
        let n = negotiate(&c, &local_open(&c), &peer_open()).expect("ok");
        assert_eq!(n.hold_time, 30);
        assert_eq!(n.keepalive_interval(), Some(Duration::from_secs(10)));
        assert_eq!(n.families, vec![Afi::Ipv6]);
        assert!(n.four_octet_as && n.route_refresh && !n.enhanced_route_refresh);
        let mut zero = peer_open();
        zero.hold_time = 0;
        let n = negotiate(&c, &local_open(&c), &zero).expect("ok");
        assert_eq!((n.hold_time, n.keepalive_interval()), (0, None));
        let mut no_mp = peer_open();
        no_mp.capabilities.clear();
        let n = negotiate(&c, &local_open(&c), &no_mp).expect("ok");
        assert_eq!(n.families, vec![Afi::Ipv4]);
        assert!(!n.four_octet_as);
    }

    #[test]
    fn wrong_as_same_id_and_role_mismatch_are_refused() {
        let c = cfg();
        let mut o = peer_open();
        o.my_as = Asn(65099);
        let e = negotiate(&c, &local_open(&c), &o).unwrap_err();
        assert_eq!((e.code, e.subcode), (2, 2));
        // RFC 6286 §2.2: the same identifier is fine from an external peer, an error from an
        // internal one.
        let mut o = peer_open();
        o.bgp_id = c.bgp_id;
        assert!(negotiate(&c, &local_open(&c), &o).is_ok());
        let ibgp = SessionConfig::new(Asn(65001), Asn(65001), c.bgp_id);
        let mut o = peer_open();
        o.my_as = Asn(65001);
        o.capabilities.pop();
        o.capabilities.push(Capability::FourOctetAs(Asn(65001)));
        o.bgp_id = ibgp.bgp_id;
        assert_eq!(
            negotiate(&ibgp, &local_open(&ibgp), &o)
                .unwrap_err()
                .subcode,
            3
        );
        let mut c = cfg();
        c.role = Some(Role::Customer);
        let mut o = peer_open();
        o.capabilities.push(Capability::Role(Role::Peer));
        assert_eq!(negotiate(&c, &local_open(&c), &o).unwrap_err().subcode, 11);
        o.capabilities.pop();
        o.capabilities.push(Capability::Role(Role::Provider));
        assert!(negotiate(&c, &local_open(&c), &o).is_ok());
        o.capabilities.pop();
        assert!(
            negotiate(&c, &local_open(&c), &o).is_ok(),
            "non-strict: no role is fine"
        );
        c.strict_role = true;
        assert_eq!(negotiate(&c, &local_open(&c), &o).unwrap_err().subcode, 11);
    }
}
