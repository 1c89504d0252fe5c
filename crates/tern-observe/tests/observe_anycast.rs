//! `tern_observe::observe` on examples/anycast with a generated collector view (tests/common/
//! mrtgen.rs; the same bytes are committed as tests/fixtures/observe-anycast.{rib,updates}.mrt
//! for `tern observe`'s black-box test). Each route is there to show one verdict or alert.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;

use common::mrtgen;
use tern_observe::mrt::MrtReader;
use tern_observe::observe::{Alert, Observer, Report, Status};
use tern_types::Asn;

fn model() -> tern_model::Model {
    let m = tern_model::load(&PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/anycast/tern.toml"
    )))
    .unwrap();
    assert!(!m.has_errors(), "{:?}", m.diagnostics);
    m
}

fn observe(m: &tern_model::Model, files: &[Vec<u8>]) -> Report {
    let vrps = tern_rpki::VrpSet::from_json_str(
        r#"{"roas": [{"asn": "AS4200000001", "prefix": "2001:db8:a0::/44", "maxLength": 48, "ta": "test"}]}"#,
        "test.json",
    )
    .unwrap();
    let mut obs = Observer::new(&m.network);
    for (i, f) in files.iter().enumerate() {
        let mut r = MrtReader::new(&f[..]);
        while let Some(rec) = r.next_record().unwrap() {
            obs.handle_record(&rec);
        }
        obs.handle_input_done(format!("file{i}"), r.counts().clone());
    }
    obs.finish(&m.providers, Some(&vrps))
}

fn verdict<'a>(
    r: &'a Report,
    site: &str,
    up: &str,
    effect: &str,
) -> &'a tern_observe::observe::Verdict {
    r.verdicts
        .iter()
        .find(|v| v.site == site && v.upstream == up && v.effect.starts_with(effect))
        .unwrap_or_else(|| {
            panic!(
                "no verdict {site}/{up} {effect}: {:#?}",
                r.verdicts
                    .iter()
                    .map(|v| format!("{}/{} {}", v.site, v.upstream, v.effect))
                    .collect::<Vec<_>>()
            )
        })
}

#[test]
fn committed_fixtures_are_what_the_generator_writes() {
    for (name, bytes) in [
        ("observe-anycast.rib.mrt", mrtgen::anycast_rib()),
        ("observe-anycast.updates.mrt", mrtgen::anycast_updates()),
    ] {
        let path = common::fixture(name);
        if std::env::var_os("UPDATE_FIXTURES").is_some() {
            std::fs::write(&path, &bytes).unwrap();
        }
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bytes,
            "{name}: run with UPDATE_FIXTURES=1"
        );
    }
}

#[test]
fn anycast_verdicts_and_alerts() {
    let m = model();
    let r = observe(&m, &[mrtgen::anycast_rib(), mrtgen::anycast_updates()]);

    // Visibility, origins, upstreams of the anycast /48.
    let a0 = r
        .prefixes
        .iter()
        .find(|p| p.prefix.to_string() == "2001:db8:a0::/48")
        .unwrap();
    assert_eq!(a0.peers, 3);
    assert_eq!(a0.peer_ases, vec![Asn(174), Asn(64512), Asn(64999)]);
    assert_eq!(a0.origins.get(&Asn(mrtgen::US)), Some(&3));
    assert_eq!(a0.upstreams.get(&Asn(20473)), Some(&2));
    assert_eq!(a0.upstreams.get(&Asn(53667)), Some(&1));
    assert_eq!(a0.rpki.len(), 1);
    assert_eq!(a0.rpki[0].state, "valid");

    // no-announce to AS6939 at Amsterdam: Vultr honours it, but AS6939 reaches a1 via AS174.
    let v = verdict(&r, "ams", "vultr6", "no-announce to AS6939");
    assert_eq!(v.status, Status::Bypassed, "{}", v.summary);
    assert!(
        v.summary.contains("0 of 5 paths through AS20473"),
        "{}",
        v.summary
    );
    // Frankfurt asked Vultr not to announce to AS2914, and AS2914 has it from Vultr.
    let v = verdict(&r, "fra", "vultr6", "no-announce to AS2914");
    assert_eq!(v.status, Status::Fails, "{}", v.summary);
    assert_eq!(v.evidence.iter().map(|e| e.contradicting).sum::<usize>(), 1);
    assert!(v.evidence.iter().any(|e| {
        e.examples
            .iter()
            .any(|x| x.starts_with("2914 20473 4200000001"))
    }));
    // Amsterdam's other no-announces hold.
    assert_eq!(
        verdict(&r, "ams", "vultr6", "no-announce to AS1299").status,
        Status::Holds
    );
    // GTT prepend in Asia: region-scoped; shown on the a1 path through GTT.
    let v = verdict(&r, "ams", "vultr6", "prepend 2x");
    assert_eq!(v.status, Status::Seen, "{}", v.summary);
    // Luxembourg: BuyVM prepends 2x to AS174, and we prepend once; both show.
    let v = verdict(&r, "lux", "buyvm6", "prepend 2x to AS174");
    assert_eq!(v.status, Status::Holds, "{}", v.summary);
    let v = verdict(&r, "lux", "buyvm6", "our prepend 1x");
    assert_eq!(v.status, Status::Holds, "{}", v.summary);
    // Local preference never shows on paths; IPv4 sessions have no paths here.
    assert_eq!(
        verdict(&r, "ewr", "vultr6", "local-pref").status,
        Status::NotVisible
    );
    assert_eq!(
        verdict(&r, "ams", "vultr4", "no-announce to AS6939").status,
        Status::NoEvidence
    );

    // Alerts: the foreign origin of a3, the more-specific of a0 (RPKI invalid), the unplanned /48.
    let text: Vec<String> = r.alerts.iter().map(|a| a.to_string()).collect();
    assert!(
        r.alerts
            .iter()
            .any(|a| matches!(a, Alert::UnexpectedOrigin { origin, .. } if *origin == Asn(64666))),
        "{text:?}"
    );
    assert!(r.alerts.iter().any(|a| matches!(a, Alert::MoreSpecific { prefix, .. } if prefix.to_string() == "2001:db8:a0:100::/56")), "{text:?}");
    assert!(
        r.alerts
            .iter()
            .any(|a| matches!(a, Alert::RpkiInvalid { origin, .. } if *origin == Asn(64999))),
        "{text:?}"
    );
    assert!(r.alerts.iter().any(|a| matches!(a, Alert::Unplanned { prefix, .. } if prefix.to_string() == "2001:db8:b0::/48")), "{text:?}");
    assert!(r.has_findings());
    let unseen: Vec<String> = r.not_visible.iter().map(|p| p.to_string()).collect();
    assert_eq!(unseen, vec!["192.0.2.0/24", "2001:db8:af::/48"]);

    // Timeline of Tokyo's /48: announce, withdraw, announce; held at the end.
    let a4 = r
        .prefixes
        .iter()
        .find(|p| p.prefix.to_string() == "2001:db8:a4::/48")
        .unwrap();
    let kinds: Vec<_> = a4
        .events
        .iter()
        .map(|e| (e.timestamp, format!("{:?}", e.kind)))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (1_700_000_100, "Announce".into()),
            (1_700_000_200, "Withdraw".into()),
            (1_700_000_300, "Announce".into())
        ]
    );
    assert_eq!((a4.announcements, a4.withdrawals, a4.peers), (2, 1, 1));
}

#[test]
fn a_clean_view_has_no_findings() {
    let m = model();
    // Only the routes that agree with every intent.
    let peers = [((std::net::Ipv6Addr::LOCALHOST), 174)];
    let rib = mrtgen::rib(
        1,
        &peers,
        &[("2001:db8:a1::/48", vec![(0, vec![174, 20473, mrtgen::US])])],
    );
    let r = observe(&m, &[rib]);
    assert!(
        !r.has_findings(),
        "{:#?} {:#?}",
        r.alerts,
        r.verdicts
            .iter()
            .filter(|v| v.status == Status::Fails)
            .collect::<Vec<_>>()
    );
    assert_eq!(
        verdict(&r, "ams", "vultr6", "no-announce to AS6939").status,
        Status::Holds
    );
}
