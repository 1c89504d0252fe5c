//! Golden files: every site of every example renders exactly as in `tests/golden/`.
//! Refresh with `UPDATE_GOLDEN=1 cargo test -p tern-bird --test golden` and review the diff.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

#[test]
fn every_example_site_matches_its_golden_file() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut checked = 0;
    let mut mismatched = Vec::new();
    for (name, toml) in common::examples() {
        let m = tern_model::load(&toml).unwrap();
        assert!(!m.has_errors(), "{name}: {:?}", m.diagnostics);
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(&name);
        for site in &m.network.sites {
            // No secrets at render time: golden files show the include form.
            let text = tern_bird::render_with(&m.network, &site.id, &|_| None).unwrap();
            let file = dir.join(format!("{}.conf", site.id));
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&file, &text).unwrap();
            } else {
                let want = std::fs::read_to_string(&file).unwrap_or_else(|e| {
                    panic!(
                        "{}: {e}; run with UPDATE_GOLDEN=1 to create it",
                        file.display()
                    )
                });
                if want != text {
                    mismatched.push(file.display().to_string());
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 6, "only {checked} sites rendered");
    assert!(
        mismatched.is_empty(),
        "rendered configs differ from golden files (UPDATE_GOLDEN=1 to refresh, then review): {mismatched:?}"
    );
}
