//! Adj-RIB-Out and Adj-RIB-In behaviour: only changes go out, grouping, batching, next hops.

#![allow(clippy::unwrap_used)]

use std::net::{Ipv4Addr, Ipv6Addr};

use tern_types::{Afi, Asn, Community, LargeCommunity, Prefix};

use super::*;
use crate::wire::{AsPath, MpNextHop, Update};

fn p(s: &str) -> Prefix {
    s.parse().unwrap()
}

fn ctx() -> ExportContext {
    ExportContext {
        local_as: Asn(65001),
        ibgp: false,
        next_hop_v4: Some(Ipv4Addr::new(192, 0, 2, 1)),
        next_hop_v6: Some("2001:db8::1".parse().unwrap()),
        families: vec![Afi::Ipv4, Afi::Ipv6],
        max_message_len: 4096,
        four_octet_as: true,
    }
}

fn attrs(c: &[&str], prepend: u8) -> RouteAttrs {
    RouteAttrs {
        communities: c.iter().map(|s| s.parse().unwrap()).collect(),
        large_communities: vec![LargeCommunity::new(65001, 1, 2)],
        prepend,
        ..RouteAttrs::default()
    }
}

fn all_announced(e: &Export) -> Vec<Prefix> {
    e.updates
        .iter()
        .flat_map(|u| u.announced().copied())
        .collect()
}
fn all_withdrawn(e: &Export) -> Vec<Prefix> {
    e.updates
        .iter()
        .flat_map(|u| u.withdrawals().copied())
        .collect()
}

#[test]
fn only_changes_are_sent() {
    let mut rib = AdjRibOut::new();
    assert!(rib.announce(p("192.0.2.0/24"), attrs(&["64600:1"], 0)));
    let e = rib.take_changes(&ctx());
    assert_eq!(all_announced(&e), vec![p("192.0.2.0/24")]);
    // Same attributes again (communities in another order): nothing to send.
    assert!(!rib.announce(p("192.0.2.0/24"), attrs(&["64600:1", "64600:1"], 0)));
    assert!(rib.take_changes(&ctx()).updates.is_empty());
    // Changed prepend: one announce.
    assert!(rib.announce(p("192.0.2.0/24"), attrs(&["64600:1"], 2)));
    let e = rib.take_changes(&ctx());
    assert_eq!(e.updates.len(), 1);
    let path = e.updates[0].attrs.as_path.clone().unwrap();
    assert_eq!(path, AsPath::from_sequence([Asn(65001); 3]));
    // Withdraw of something unknown: nothing.
    assert!(!rib.withdraw(p("198.51.100.0/24")));
    assert!(rib.withdraw(p("192.0.2.0/24")));
    let e = rib.take_changes(&ctx());
    assert_eq!(all_withdrawn(&e), vec![p("192.0.2.0/24")]);
    assert!(all_announced(&e).is_empty());
}

#[test]
fn identical_attributes_share_one_update_and_withdrawals_batch() {
    let mut rib = AdjRibOut::new();
    let a = attrs(&["64600:1"], 0);
    let b = attrs(&["64600:2"], 0);
    rib.announce(p("192.0.2.0/25"), a.clone());
    rib.announce(p("192.0.2.128/25"), a.clone());
    rib.announce(p("198.51.100.0/24"), b.clone());
    rib.announce(p("2001:db8:1::/48"), a.clone());
    rib.announce(p("2001:db8:2::/48"), a.clone());
    let e = rib.take_changes(&ctx());
    // v4 group a, v4 group b, v6 group a.
    assert_eq!(e.updates.len(), 3, "{:#?}", e.updates);
    let v6 = e
        .updates
        .iter()
        .find_map(|u| u.attrs.mp_reach.as_ref())
        .unwrap();
    assert_eq!(v6.nlri, vec![p("2001:db8:1::/48"), p("2001:db8:2::/48")]);
    assert_eq!(
        v6.next_hop,
        MpNextHop::V6 {
            global: "2001:db8::1".parse().unwrap(),
            link_local: None
        }
    );
    let n = rib.replace_all(Vec::new());
    assert_eq!(n, 5);
    let e = rib.take_changes(&ctx());
    // One IPv4 withdraw UPDATE and one MP_UNREACH UPDATE.
    assert_eq!(e.updates.len(), 2);
    assert_eq!(all_withdrawn(&e).len(), 5);
    assert!(e.updates.iter().all(|u| u.announced().count() == 0));
}

#[test]
fn replace_all_sends_only_the_difference() {
    let mut rib = AdjRibOut::new();
    rib.replace_all([
        (p("192.0.2.0/24"), attrs(&[], 0)),
        (p("198.51.100.0/24"), attrs(&[], 0)),
    ]);
    rib.take_changes(&ctx());
    let n = rib.replace_all([
        (p("192.0.2.0/24"), attrs(&[], 0)),
        (p("203.0.113.0/24"), attrs(&[], 1)),
    ]);
    assert_eq!(n, 2);
    let e = rib.take_changes(&ctx());
    assert_eq!(all_withdrawn(&e), vec![p("198.51.100.0/24")]);
    assert_eq!(all_announced(&e), vec![p("203.0.113.0/24")]);
}

#[test]
fn large_sets_split_below_the_message_limit() {
    let mut rib = AdjRibOut::new();
    let base: Prefix = p("2001:db8::/32");
    for (i, sub) in base.subnets(48).unwrap().take(2000).enumerate() {
        let _ = i;
        rib.announce(sub, attrs(&["64600:1"], 0));
    }
    let e = rib.take_changes(&ctx());
    assert!(e.updates.len() > 1);
    assert_eq!(all_announced(&e).len(), 2000);
    for u in &e.updates {
        let n = u.attrs.mp_reach.as_ref().unwrap().nlri.len();
        // 7 octets per /48, 4096-byte messages: at most ~580 per UPDATE.
        assert!(n * 7 < 4096 - 19, "{n} prefixes do not fit");
    }
    let w = rib.withdraw_everything(&ctx());
    assert_eq!(all_withdrawn(&w).len(), 2000);
    assert!(w.updates.len() > 1);
}

#[test]
fn ipv6_without_next_hop_or_family_is_held_back_never_colon_colon() {
    let mut rib = AdjRibOut::new();
    rib.announce(p("2001:db8::/48"), attrs(&[], 0));
    rib.announce(p("192.0.2.0/24"), attrs(&[], 0));
    let mut c = ctx();
    c.next_hop_v6 = Some(Ipv6Addr::UNSPECIFIED);
    let e = rib.full(&c, None);
    assert_eq!(all_announced(&e), vec![p("192.0.2.0/24")]);
    assert_eq!(
        e.unsendable,
        vec![Unsendable::NoNextHop(p("2001:db8::/48"))]
    );
    let mut c = ctx();
    c.families = vec![Afi::Ipv4];
    let e = rib.full(&c, None);
    assert_eq!(
        e.unsendable,
        vec![Unsendable::FamilyNotNegotiated(p("2001:db8::/48"))]
    );
    // An explicit per-route next hop wins over the session's.
    let mut a = attrs(&[], 0);
    a.next_hop = Some("2001:db8::99".parse().unwrap());
    rib.announce(p("2001:db8::/48"), a);
    let e = rib.full(&ctx(), Some(Afi::Ipv6));
    let nh = e.updates[0].attrs.mp_reach.as_ref().unwrap().next_hop;
    assert_eq!(
        nh,
        MpNextHop::V6 {
            global: "2001:db8::99".parse().unwrap(),
            link_local: None
        }
    );
}

#[test]
fn ibgp_has_empty_path_and_local_pref() {
    let mut rib = AdjRibOut::new();
    rib.announce(p("192.0.2.0/24"), attrs(&[], 3));
    let mut c = ctx();
    c.ibgp = true;
    let e = rib.full(&c, None);
    assert_eq!(e.updates[0].attrs.as_path, Some(AsPath::empty()));
    assert_eq!(e.updates[0].attrs.local_pref, Some(100));
}

#[test]
fn adj_rib_in_applies_and_enforces_the_limit() {
    let mut rin = AdjRibIn::new(Some(2));
    let mut u = Update {
        nlri: vec![p("192.0.2.0/24"), p("198.51.100.0/24")],
        ..Update::default()
    };
    u.attrs.communities = vec![Community::new(1, 2)];
    rin.apply(&u).unwrap();
    assert_eq!(rin.len(), 2);
    assert_eq!(
        rin.route(&p("192.0.2.0/24")).unwrap().communities,
        vec![Community::new(1, 2)]
    );
    let w = Update {
        withdrawn: vec![p("192.0.2.0/24")],
        ..Update::default()
    };
    rin.apply(&w).unwrap();
    assert_eq!(rin.len(), 1);
    let more = Update {
        nlri: vec![p("192.0.2.0/24"), p("203.0.113.0/24")],
        ..Update::default()
    };
    assert_eq!(rin.apply(&more), Err(MaxPrefixExceeded { limit: 2 }));
}
