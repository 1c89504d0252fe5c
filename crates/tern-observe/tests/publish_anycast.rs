//! `tern_observe::publish` on examples/anycast against a made-up "today" (tests/fixtures/
//! publish-today-*: a too-broad /44 ROA, another origin's ROAs, a route6 with an old
//! maintainer, a stale route6, another origin's route object).
#![allow(clippy::unwrap_used)]

mod common;

use tern_observe::publish::{self, Options};
use tern_types::Asn;

fn setup() -> (tern_model::Model, publish::Objects) {
    let m = tern_model::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/anycast/tern.toml"
    )))
    .unwrap();
    let objs = publish::objects(
        &m.network,
        &Options {
            mnt_by: "EXAMPLE-MNT".into(),
            source: "RIPE".into(),
        },
    );
    (m, objs)
}

#[test]
fn one_route6_and_one_exact_roa_per_announced_prefix() {
    let (m, objs) = setup();
    assert_eq!(objs.routes.len(), m.network.announced().len());
    assert_eq!(objs.roas.len(), 8);
    assert!(
        objs.roas
            .iter()
            .all(|r| r.max_length == r.prefix.len() && r.asn == Asn(4_200_000_001))
    );
    let rpsl = objs.rpsl();
    assert!(rpsl.contains("route6: 2001:db8:a0::/48\ndescr:  anycast service addresses (DNS, web), every site\norigin: AS4200000001\nmnt-by: EXAMPLE-MNT\nsource: RIPE\n"), "{rpsl}");
    assert!(rpsl.contains("route:  192.0.2.0/24\n"));
    // Without today's registries: every ROA to add.
    let d = publish::diff(&m.network, &objs, None, None);
    assert_eq!(publish::krill_delta(&d, &objs).matches("\nA: ").count(), 8);
    assert_eq!(
        publish::ripe_rpki_json(&d, &objs)["added"]
            .as_array()
            .unwrap()
            .len(),
        8
    );
    // Each form parses back with the tools tern itself uses: the RPSL with tern-rpki's reader.
    let back = tern_rpki::IrrDb::from_rpsl_str(&rpsl, "planned").unwrap();
    assert_eq!(back.len(), 8);
}

#[test]
fn diff_against_today() {
    let (m, objs) = setup();
    let vrps =
        tern_rpki::VrpSet::from_json_file(&common::fixture("publish-today-vrps.json")).unwrap();
    let irr = tern_rpki::IrrDb::from_rpsl_file(&common::fixture("publish-today-irr.txt")).unwrap();
    let d = publish::diff(&m.network, &objs, Some(&vrps), Some(&irr));
    assert_eq!(
        (d.roas_add.len(), d.roas_remove.len(), d.roas_kept.len()),
        (7, 1, 1)
    );
    assert_eq!(
        d.roas_remove[0].krill(),
        "2001:db8:a0::/44-48 => 4200000001"
    );
    assert_eq!(
        (
            d.routes_add.len(),
            d.routes_modify.len(),
            d.routes_remove.len(),
            d.routes_kept
        ),
        (6, 1, 1, 1)
    );
    assert_eq!(d.routes_modify[0].prefix.to_string(), "2001:db8:a0::/48");
    assert!(d.routes_remove[0].contains("2001:db8:a9::/48"));
    // The IPv4 anycast prefix is invalid today (only AS64496 is authorised) and valid after.
    assert_eq!(d.transitions.len(), 1);
    assert_eq!(d.transitions[0].prefix.to_string(), "192.0.2.0/24");
    assert!(d.transitions[0].today.starts_with("invalid") && d.transitions[0].after == "valid");
    // Nothing becomes invalid: each /48 gets its own ROA before the /44 one goes.
    assert!(d.not_valid_after.is_empty(), "{:?}", d.not_valid_after);
    // Named: two other origins' ROAs, the too-broad /44, another origin's route object; the
    // VRP outside our space (198.18.0.0/15) is not ours to judge.
    let names: Vec<&str> = d.conflicts.iter().map(|c| c.object.as_str()).collect();
    assert_eq!(names.len(), 4, "{names:?}");
    assert!(
        names.iter().any(|n| n.contains("64511"))
            && names
                .iter()
                .any(|n| n.contains("route 192.0.2.0/24 origin AS64496"))
    );
    assert!(!names.iter().any(|n| n.contains("198.18")));
    let delta = publish::krill_delta(&d, &objs);
    assert!(
        delta.contains("\nR: 2001:db8:a0::/44-48 => 4200000001\n") && !delta.contains("a1::/48"),
        "{delta}"
    );
    let j = publish::ripe_rpki_json(&d, &objs);
    assert_eq!(j["deleted"][0]["maximalLength"], 48);
    assert_eq!(j["added"].as_array().unwrap().len(), 7);
}

#[test]
fn an_announcement_left_without_a_roa_is_reported() {
    let (m, mut objs) = setup();
    // Today only the /44 with maxLength 48 covers everything. A plan without a ROA for
    // 2001:db8:a5::/48 (dropped here by hand) removes the /44 and would leave that
    // announcement with no covering ROA.
    let vrps = tern_rpki::VrpSet::from_json_str(
        r#"{"roas": [{"asn": "AS4200000001", "prefix": "2001:db8:a0::/44", "maxLength": 48, "ta": "t"}]}"#,
        "t",
    )
    .unwrap();
    objs.roas
        .retain(|r| r.prefix.to_string() != "2001:db8:a5::/48");
    let d = publish::diff(&m.network, &objs, Some(&vrps), None);
    assert_eq!(d.roas_remove.len(), 1);
    let bad: Vec<String> = d
        .not_valid_after
        .iter()
        .map(|t| format!("{} {}", t.prefix, t.after))
        .collect();
    assert_eq!(bad, vec!["2001:db8:a5::/48 not found".to_string()]);
    // The IPv4 prefix had no ROA at all and gets one.
    assert!(
        d.transitions
            .iter()
            .any(|t| t.prefix.to_string() == "192.0.2.0/24"
                && t.today == "not found"
                && t.after == "valid")
    );
}
