//! Provider dictionaries from the operator's providers directory (`[network] providers`), the
//! completed Cogent and GTT dictionaries, and raw communities a dictionary does not know.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use tern_model::policy::{Effect, Level, Neighbors, Region};
use tern_model::{Origin, Severity, parse};

const HEAD: &str = r#"[network]
asn = 4200000001
allocations = ["2001:db8:a0::/44"]
lab = true
"#;

const REST: &str = r#"
[[prefix]]
prefix = "2001:db8:a0::/48"
role = "anycast"

[site.ewr]
lat = 40.7
lon = -74.2
provider = "cogent"
router_id = "198.51.100.1"
connected = ["2001:db8:ffff::/64"]
"#;

const UP: &str = r#"
[[site.ewr.upstream]]
name = "up6"
neighbor = "2001:db8:ffff::1"
source = "2001:db8:ffff::10"
remote_as = 174
"#;

struct Tmp(PathBuf);
impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
fn tmp(tag: &str) -> Tmp {
    let p = std::env::temp_dir().join(format!("tern-model-prov-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(p.join("providers")).unwrap();
    Tmp(p)
}

#[test]
fn a_raw_community_the_dictionary_lacks_names_the_nearest_known_ones() {
    let text = format!("{HEAD}{REST}communities = [\"174:972\"]\n{UP}");
    let m = parse(Path::new("t.toml"), &text).unwrap();
    let d = m
        .diagnostics
        .iter()
        .find(|d| d.code == "community-unknown")
        .unwrap_or_else(|| panic!("{:#?}", m.diagnostics));
    assert_eq!(d.severity, Severity::Warning);
    assert!(
        d.message
            .starts_with("174:972 is not in the Cogent dictionary; "),
        "{}",
        d.message
    );
    assert!(
        d.message
            .contains("174:975 is local-pref 10 in North America"),
        "{}",
        d.message
    );
    assert_eq!(d.location.as_ref().unwrap().line, 16);
    // A known one gives no warning and becomes an effect; one outside every namespace neither.
    let text = format!("{HEAD}{REST}communities = [\"174:975\", \"64512:1\"]\n{UP}");
    let m = parse(Path::new("t.toml"), &text).unwrap();
    assert!(
        !m.diagnostics.iter().any(|d| d.code == "community-unknown"),
        "{:#?}",
        m.diagnostics
    );
    let fx = &m.network.sites[0].upstreams[0].export.effects;
    assert_eq!(
        fx[0].effect,
        Effect::LocalPref {
            level: Level::Lowest,
            region: Some(Region::NorthAmerica)
        }
    );
}

#[test]
fn cogent_regional_controls_and_gtt_prepends_by_region() {
    let intents = r#"intents = [
  { action = "local-pref", level = "lowest", region = "north-america" },
  { action = "local-pref", level = "lowest", region = "europe" },
  { action = "no-announce", to = "peers", region = "europe" },
  { action = "prepend", times = 2, to = "peers" },
  { action = "prepend", times = 2, region = "north-america", via = "gtt" },
  { action = "prepend", times = 2, region = "asia", via = "gtt" },
]
"#;
    let text = format!("{HEAD}{REST}{intents}{UP}");
    let m = parse(Path::new("t.toml"), &text).unwrap();
    assert!(!m.has_errors(), "{:#?}", m.diagnostics);
    let ex = &m.network.sites[0].upstreams[0].export;
    let c: Vec<String> = ex.communities.iter().map(|c| c.to_string()).collect();
    for want in [
        "174:975",
        "174:985",
        "174:981",
        "174:3002",
        "3257:2992",
        "3257:2592",
    ] {
        assert!(c.contains(&want.to_string()), "{want} missing from {c:?}");
    }
    assert!(ex.effects.iter().any(|e| e.effect
        == Effect::NoAnnounce {
            to: Neighbors::Peers,
            region: Some(Region::Europe)
        }));
    // GTT's entries are unverified: the fix points at the providers directory.
    let d = m
        .diagnostics
        .iter()
        .find(|d| d.code == "intent-unverified" && d.message.contains("GTT"))
        .unwrap();
    let fix = d.fix.as_deref().unwrap();
    assert!(fix.contains("/etc/tern/providers/gtt.toml"), "{fix}");
    assert!(!fix.contains("providers/gtt.toml and"), "{fix}");
}

#[test]
fn network_providers_directory_overrides_a_builtin_dictionary() {
    let t = tmp("net");
    let gtt = tern_model::Providers::builtin()
        .unwrap()
        .find("gtt")
        .unwrap()
        .text
        .clone();
    let file = t.0.join("providers/gtt.toml");
    std::fs::write(&file, gtt.replace("verified = false", "verified = true")).unwrap();
    let text = format!(
        "{HEAD}providers = \"providers\"\n{REST}intents = [ {{ action = \"prepend\", times = 2, region = \"asia\", via = \"gtt\" }} ]\n{UP}"
    );
    let toml = t.0.join("tern.toml");
    std::fs::write(&toml, &text).unwrap();
    let m = tern_model::load(&toml).unwrap();
    assert!(!m.has_errors(), "{:#?}", m.diagnostics);
    assert!(
        !m.diagnostics
            .iter()
            .any(|d| d.code == "intent-unverified" && d.message.contains("GTT's")),
        "{:#?}",
        m.diagnostics
    );
    let g = m.providers.find("gtt").unwrap();
    assert_eq!(g.origin, Origin::File(file.clone()));
    assert!(g.overrides_builtin);
    // A broken file there is an error at its own file:line, the rest still loads.
    std::fs::write(&file, "[provider]\nname = \"GTT\"\nasn = \"x\"\n").unwrap();
    let m = tern_model::load(&toml).unwrap();
    let d = m
        .diagnostics
        .iter()
        .find(|d| d.code == "provider-dictionary")
        .unwrap_or_else(|| panic!("{:#?}", m.diagnostics));
    let l = d.location.as_ref().unwrap();
    assert_eq!((l.file.as_path(), l.line), (file.as_path(), 3), "{d}");
    assert_eq!(d.severity, Severity::Error);
    // A directory that does not exist is an error at the line that names it.
    std::fs::write(&toml, text.replace("\"providers\"", "\"nope\"")).unwrap();
    let m = tern_model::load(&toml).unwrap();
    let d = m
        .diagnostics
        .iter()
        .find(|d| d.code == "provider-dir")
        .unwrap();
    assert_eq!(d.location.as_ref().unwrap().line, 5);
}
