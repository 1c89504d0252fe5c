//! The README stays true: its tern.toml example passes `tern check`, and its first two lines of
//! shell are the set-up commands CI relies on.

#![allow(clippy::unwrap_used)]

use std::process::Command;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md at the repository root")
}

/// The text of every fenced block in `lang`.
fn blocks(text: &str, lang: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in text.lines() {
        match (&mut cur, line.trim_start().strip_prefix("```")) {
            (None, Some(l)) if l.trim() == lang => cur = Some(String::new()),
            (Some(_), Some(_)) => out.extend(cur.take()),
            (Some(b), None) => {
                b.push_str(line);
                b.push('\n');
            }
            _ => {}
        }
    }
    out
}

#[test]
fn readme_tern_toml_example_checks_clean() {
    let toml = blocks(&readme(), "toml");
    assert_eq!(toml.len(), 1, "one tern.toml example in the README");
    let dir = std::env::temp_dir().join(format!("tern-readme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("tern.toml");
    std::fs::write(&file, &toml[0]).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tern"))
        .arg("check")
        .arg(&file)
        .env_remove("TERN_AMS_BGP_PASSWORD")
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("0 error(s)"), "{stdout}");
}

#[test]
fn readme_starts_with_the_two_setup_commands() {
    let sh = blocks(&readme(), "sh");
    assert!(sh.len() >= 2, "two sh blocks");
    assert_eq!(
        sh[0].trim(),
        "bash scripts/setup && cargo run --release -q -p tern -- lab demo"
    );
    assert_eq!(sh[1].trim(), "bash scripts/setup && cargo test --workspace");
    let ci =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.ci/run")).unwrap();
    assert!(
        ci.contains("cargo test --workspace"),
        ".ci/run runs the README's test command"
    );
}
