//! Every address of the lab, documentation prefixes only: link networks `3fff:0:0:<link>::/64`
//! (`::1` on the customer/first side) and /31s of `198.51.100.0/24` (128 of them, then the lab
//! runs IPv6 only), eyeball `n`'s `3fff:100:<n>::/48` and `203.0.113.<8(n-1)>/29` with its probe
//! at `3fff:100:<n>:1::2` and `.2`, the sites' service addresses (`::1` of each prefix they
//! announce), router ids `198.51.100.<i+1>` in node order, and the target.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use tern_model::lab::RawLab;
use tern_model::{Network, Role, Site};
use tern_types::{Afi, Prefix};

use super::Node;
use crate::error::LabError;

/// IPv4 /31 link networks in 198.51.100.0/24.
const NETS4: u32 = 128;

/// The addresses of one link.
#[derive(Clone, Copy, Debug)]
pub(super) struct LinkNet {
    pub a: Ipv6Addr,
    pub b: Ipv6Addr,
    pub plen: u8,
    pub a4: Option<Ipv4Addr>,
    pub b4: Option<Ipv4Addr>,
    pub plen4: u8,
}

/// Hands out link networks in link order.
#[derive(Debug)]
pub(super) struct LinkNets {
    /// IPv4 /31s handed out so far.
    nets4: u32,
    /// IPv4 wanted and not run out.
    v4: bool,
}

impl LinkNets {
    /// `v4`: the lab runs IPv4 too.
    pub fn new(v4: bool) -> LinkNets {
        LinkNets { nets4: 0, v4 }
    }

    /// Does every link that wanted IPv4 have it (false also when none was wanted)?
    pub fn v4(&self) -> bool {
        self.v4
    }

    /// The network of link number `index` (0-based); IPv4 too when `v4` and some is left.
    pub fn next(&mut self, index: usize, v4: bool) -> LinkNet {
        let k = index as u16 + 1;
        let (a4, b4) = if !v4 || !self.v4 {
            (None, None)
        } else if self.nets4 < NETS4 {
            let x = self.nets4 * 2;
            self.nets4 += 1;
            (
                Some(Ipv4Addr::new(198, 51, 100, x as u8)),
                Some(Ipv4Addr::new(198, 51, 100, x as u8 + 1)),
            )
        } else {
            self.v4 = false;
            (None, None)
        };
        LinkNet {
            a: Ipv6Addr::new(0x3fff, 0, 0, k, 0, 0, 0, 1),
            b: Ipv6Addr::new(0x3fff, 0, 0, k, 0, 0, 0, 2),
            plen: 64,
            a4,
            b4,
            plen4: 31,
        }
    }

    /// A probe's access link: the probe's address and `::1` of its /64, `.1` of its /29.
    pub fn access(probe: &Node) -> LinkNet {
        let a = probe.addrs[0];
        let seg = a.segments();
        let a4 = probe.addrs4.first().copied();
        LinkNet {
            a,
            b: Ipv6Addr::new(seg[0], seg[1], seg[2], seg[3], 0, 0, 0, 1),
            plen: 64,
            a4,
            b4: a4.map(|a| Ipv4Addr::from(u32::from(a) - 1)),
            plen4: 29,
        }
    }
}

/// What eyeball `n` (1-based) originates and where its probe is.
#[derive(Clone, Copy, Debug)]
pub(super) struct EyeballAddrs {
    pub prefix: Prefix,
    pub prefix4: Option<Prefix>,
    pub probe: Ipv6Addr,
    pub probe4: Option<Ipv4Addr>,
}

/// Eyeball `n`'s prefixes (IPv4 for the first 32 when the lab runs IPv4) and probe addresses.
pub(super) fn eyeball(n: u32, v4: bool) -> Result<EyeballAddrs, LabError> {
    let prefix = Prefix::new(
        IpAddr::V6(Ipv6Addr::new(0x3fff, 0x100, n as u16, 0, 0, 0, 0, 0)),
        48,
    )
    .map_err(|e| LabError::Design(e.to_string()))?;
    let prefix4 = (v4 && n <= 32)
        .then(|| {
            Prefix::new(
                IpAddr::V4(Ipv4Addr::new(203, 0, 113, ((n - 1) * 8) as u8)),
                29,
            )
            .ok()
        })
        .flatten();
    Ok(EyeballAddrs {
        prefix,
        prefix4,
        probe: Ipv6Addr::new(0x3fff, 0x100, n as u16, 1, 0, 0, 0, 2),
        probe4: prefix4
            .and_then(|p| p.as_v4())
            .map(|n| Ipv4Addr::from(u32::from(n.network()) + 2)),
    })
}

/// A site's service addresses: `::1` (`.1`) of every prefix it announces.
pub(super) fn service(s: &Site) -> (Vec<Ipv6Addr>, Vec<Ipv4Addr>) {
    (
        s.announces_of(Afi::Ipv6).filter_map(first_host).collect(),
        s.announces_of(Afi::Ipv4).filter_map(first_host4).collect(),
    )
}

/// Router ids `198.51.100.<i+1>` in node order (fixes BIRD's last tie-break).
pub(super) fn router_ids(nodes: &mut [Node]) {
    for (i, n) in nodes.iter_mut().enumerate() {
        n.router_id = Ipv4Addr::new(198, 51, 100, (i + 1) as u8);
    }
}

/// The address probes measure: `[lab] target`, else `::1` of the first IPv6 anycast prefix.
pub(super) fn target(net: &Network, lab: &RawLab) -> Result<Ipv6Addr, LabError> {
    match &lab.target {
        Some(t) => t
            .parse::<Ipv6Addr>()
            .map_err(|_| LabError::Design(format!("[lab] target {t:?} is not an IPv6 address"))),
        None => net
            .prefixes
            .iter()
            .filter(|p| p.role == Role::Anycast && p.prefix.afi() == Afi::Ipv6)
            .find_map(|p| first_host(&p.prefix))
            .ok_or_else(|| {
                LabError::Design(
                    "tern.toml has no IPv6 anycast prefix announced by every site; set [lab] target"
                        .into(),
                )
            }),
    }
}

/// `.1` of the first IPv4 anycast prefix, if any.
pub(super) fn target4(net: &Network) -> Option<Ipv4Addr> {
    net.prefixes
        .iter()
        .filter(|p| p.role == Role::Anycast && p.prefix.afi() == Afi::Ipv4)
        .find_map(|p| first_host4(&p.prefix))
}

/// `.1` of an IPv4 prefix.
fn first_host4(p: &Prefix) -> Option<Ipv4Addr> {
    let n = p.as_v4()?;
    if n.prefix_len() > 30 {
        return None;
    }
    Some(Ipv4Addr::from(u32::from(n.network()) | 1))
}

/// `::1` of an IPv6 prefix (the service address the lab puts on a site).
fn first_host(p: &Prefix) -> Option<Ipv6Addr> {
    let n = p.as_v6()?;
    if n.prefix_len() > 127 {
        return None;
    }
    Some(Ipv6Addr::from(u128::from(n.network()) | 1))
}
