//! The routing-policy model as resolved for an upstream: every intent and every raw community a
//! dictionary knows becomes a typed effect, with the AS that applies it and its community.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use tern_model::parse;
use tern_model::policy::{AppliedEffect, CommunityValue, Effect, Level, Neighbors, Region};
use tern_types::{Asn, Community, LargeCommunity};

const NET: &str = r#"[network]
asn = 4200000001
allocations = ["2001:db8:a0::/44"]
lab = true

[[prefix]]
prefix = "2001:db8:a0::/48"
role = "anycast"

[site.ams]
lat = 52.4
lon = 4.9
provider = "vultr"
router_id = "198.51.100.1"
connected = ["2001:db8:ffff::/64"]
intents = [
  { action = "no-announce", to = "AS6939" },
  { action = "prepend", times = 2, to = "all", region = "europe", via = "arelion" },
  { action = "prepend", times = 3, to = "all" },
]
communities = ["64601:174"]

[[site.ams.upstream]]
name = "up6"
neighbor = "2001:db8:ffff::1"
source = "2001:db8:ffff::10"
"#;

fn effects(text: &str) -> Vec<AppliedEffect> {
    let m = parse(Path::new("t.toml"), text).unwrap();
    m.network.sites[0].upstreams[0].export.effects.clone()
}

#[test]
fn intents_and_known_raw_communities_become_effects() {
    let e = effects(NET);
    let vultr = Asn(20473);
    let find = |eff: Effect| e.iter().find(|a| a.effect == eff);
    let no_he = find(Effect::NoAnnounce {
        to: Neighbors::As(Asn(6939)),
        region: None,
    })
    .unwrap_or_else(|| panic!("{e:#?}"));
    assert_eq!(no_he.by, vultr);
    assert_eq!(no_he.provider.as_deref(), Some("vultr"));
    assert_eq!(
        no_he.community,
        CommunityValue::Standard(Community::new(64600, 6939))
    );
    assert_eq!(no_he.meaning, "do not announce to AS6939");
    assert!(no_he.verified);
    // `via`: applied by Arelion, not by Vultr.
    let eu = e
        .iter()
        .find(|a| a.effect.region() == Some(Region::Europe))
        .unwrap_or_else(|| panic!("{e:#?}"));
    assert_eq!(eu.by, Asn(1299));
    assert!(matches!(eu.effect, Effect::Prepend { times: 2, .. }));
    // The raw community is in Vultr's dictionary: prepend 1x to AS174.
    let raw = find(Effect::Prepend {
        times: 1,
        to: Neighbors::As(Asn(174)),
        region: None,
    })
    .unwrap_or_else(|| panic!("{e:#?}"));
    assert_eq!(raw.meaning, "prepend 1x to AS174");
    // Our own prepend is done by us: not an effect at the provider.
    assert_eq!(e.len(), 3, "{e:#?}");
    let m = parse(Path::new("t.toml"), NET).unwrap();
    let u = &m.network.sites[0].upstreams[0];
    assert_eq!(u.export.prepend, 3);
    // The session is with Vultr's AS64515; our routes enter the Internet at AS20473.
    assert_eq!((u.remote_as, u.provider_asn), (Asn(64515), Some(vultr)));
}

#[test]
fn no_export_without_a_dictionary_is_applied_by_the_neighbor() {
    let text = NET
        .replace("provider = \"vultr\"\n", "")
        .replace(
            "communities = [\"64601:174\"]\n",
            "intents = [ { action = \"no-export\" } ]\n",
        )
        .replace(
            "intents = [\n  { action = \"no-announce\", to = \"AS6939\" },\n  { action = \"prepend\", times = 2, to = \"all\", region = \"europe\", via = \"arelion\" },\n  { action = \"prepend\", times = 3, to = \"all\" },\n]\n",
            "",
        )
        .replace("source = \"2001:db8:ffff::10\"\n", "source = \"2001:db8:ffff::10\"\nremote_as = 64999\n");
    let e = effects(&text);
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(e[0].effect, Effect::NoExport);
    assert_eq!(e[0].by, Asn(64999));
    assert_eq!(e[0].provider, None);
}

#[test]
fn large_communities_and_local_pref_levels() {
    let text = NET.replace(
        "communities = [\"64601:174\"]\n",
        "large_communities = [\"20473:6000:4200000009\"]\n",
    );
    let e = effects(&text);
    assert!(
        e.iter().any(|a| a.effect
            == Effect::NoAnnounce {
                to: Neighbors::As(Asn(4_200_000_009)),
                region: None
            }
            && a.community
                == CommunityValue::Large(LargeCommunity::new(20473, 6000, 4_200_000_009))),
        "{e:#?}"
    );
    let text = NET.replace(
        "provider = \"vultr\"",
        "provider = \"cogent\"",
    ).replace("communities = [\"64601:174\"]\n", "").replace(
        "  { action = \"no-announce\", to = \"AS6939\" },\n",
        "  { action = \"local-pref\", level = \"lowest\", region = \"north-america\" },\n",
    ).replace("  { action = \"prepend\", times = 2, to = \"all\", region = \"europe\", via = \"arelion\" },\n", "")
    .replace("source = \"2001:db8:ffff::10\"\n", "source = \"2001:db8:ffff::10\"\nremote_as = 174\n");
    let e = effects(&text);
    assert_eq!(
        e[0].effect,
        Effect::LocalPref {
            level: Level::Lowest,
            region: Some(Region::NorthAmerica)
        },
        "{e:#?}"
    );
    assert_eq!(e[0].by, Asn(174));
    assert_eq!(Level::Lowest.local_pref(), 10);
}
