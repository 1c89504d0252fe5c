//! Loading from files: the path appears in every error, and a good file loads the same as its
//! text. Files go to a per-test temp directory, removed afterwards.

use std::path::{Path, PathBuf};

use tern_rpki::{IrrDb, LoadError, Validity, VrpSet, max_length_advice};
use tern_testkit::TempDir;
use tern_types::{Asn, Prefix};

fn p(s: &str) -> Prefix {
    s.parse().unwrap()
}

#[test]
fn vrp_file_round_trip_and_checks() {
    let dir = TempDir::new("vrp");
    let path = PathBuf::from(dir.write(
        "vrps.json",
        r#"{"metadata": {"generated": 1700000000},
  "roas": [
    {"asn": "AS64512", "prefix": "2001:db8:100::/48", "maxLength": 48, "ta": "lab"},
    {"asn": 64512, "prefix": "2001:db8:200::/48", "maxLength": 56, "ta": "lab"},
    {"asn": 64999, "prefix": "2001:db8:300::/40", "maxLength": 48, "ta": "lab"}
  ]}"#,
    ));
    let set = VrpSet::from_json_file(&path).unwrap();
    assert_eq!(set.len(), 3);
    // The questions `tern check` asks for each announced prefix of AS64512:
    assert_eq!(
        set.validate(&p("2001:db8:100::/48"), Asn(64512)),
        Validity::Valid
    );
    assert!(max_length_advice(&set, &p("2001:db8:100::/48"), Asn(64512)).is_empty());
    assert_eq!(
        set.validate(&p("2001:db8:200::/48"), Asn(64512)),
        Validity::Valid
    );
    assert_eq!(
        max_length_advice(&set, &p("2001:db8:200::/48"), Asn(64512)).len(),
        1
    );
    assert!(matches!(
        set.validate(&p("2001:db8:300::/48"), Asn(64512)),
        Validity::Invalid(_)
    ));
    assert_eq!(
        set.validate(&p("2001:db8:400::/48"), Asn(64512)),
        Validity::NotFound
    );
}

#[test]
fn broken_vrp_file_names_path_line_column() {
    let dir = TempDir::new("vrpbad");
    let path = PathBuf::from(dir.write(
        "vrps.json",
        "{\"roas\": [\n  {\"asn\": 64512, \"prefix\": \"2001:db8::/32\",, }\n]}",
    ));
    let e = VrpSet::from_json_file(&path).unwrap_err();
    assert!(matches!(e, LoadError::Json { .. }));
    assert_eq!(e.path(), path.as_path());
    assert_eq!(e.line(), Some(2));
    let msg = e.to_string();
    assert!(msg.starts_with(&format!("{}:2:", path.display())), "{msg}");
}

#[test]
fn rpsl_file_and_its_errors() {
    let dir = TempDir::new("rpsl");
    let good = PathBuf::from(dir.write(
        "routes.txt",
        "route6: 2001:db8:100::/48\norigin: AS64512\nmnt-by: LAB-MNT\nsource: RIPE\n",
    ));
    let db = IrrDb::from_rpsl_file(&good).unwrap();
    assert_eq!(db.routes_for(&p("2001:db8:100::/48"))[0].origin, Asn(64512));

    let bad = PathBuf::from(dir.write(
        "bad.txt",
        "route6: 2001:db8:100::/48\norigin: AS64512\n\nroute6: 2001:db8::/129\norigin: AS1\n",
    ));
    let e = IrrDb::from_rpsl_file(&bad).unwrap_err();
    assert_eq!(e.line(), Some(4));
    assert!(
        e.to_string()
            .starts_with(&format!("{}:4: route6:", bad.display())),
        "{e}"
    );

    let e = IrrDb::from_rpsl_file(Path::new("/nonexistent/routes.txt")).unwrap_err();
    assert!(matches!(e, LoadError::Io { .. }));
    assert_eq!(e.line(), None);
}
