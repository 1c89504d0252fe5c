//! Unusable input gets one clear message with file:line and exit 2, never a panic: malformed
//! TOML, an unknown key (injected into every table of every example, STYLE habit 8), a wrong
//! type, a missing file, broken VRP JSON and broken RPSL.

#![allow(clippy::unwrap_used)]

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::Output;

/// Exit 2, nothing on stdout, one `error:` line on stderr that starts with `path:line:`.
fn assert_unusable(out: &Output, path: &str, line: usize) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!("error: {path}:{line}:")),
        "expected error at {path}:{line}: got {err}"
    );
    err
}

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path().join("tern.toml"))
        .filter(|p| p.exists())
        .collect();
    v.sort();
    assert!(v.len() >= 2);
    v
}

#[test]
fn unknown_key_in_every_table_of_every_example() {
    let d = TempDir::new("cli-bad");
    let mut injected = 0;
    for ex in examples() {
        let text = std::fs::read_to_string(&ex).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // After every table header, and inside the first inline intent table.
        let mut spots: Vec<(usize, String)> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.starts_with('['))
            .map(|(i, _)| (i + 1, "frobnicate = 1".to_owned()))
            .collect();
        if let Some(i) = lines
            .iter()
            .position(|l| l.trim_start().starts_with("{ action"))
        {
            spots.push((
                i,
                lines[i].replacen("{ action", "{ frobnicate = 1, action", 1),
            ));
        }
        for (at, new) in spots {
            let mut l: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
            if new.starts_with("frobnicate") {
                l.insert(at, new);
            } else {
                l[at] = new;
            }
            let f = d.write("tern.toml", &l.join("\n"));
            for cmd in ["check", "plan"] {
                let out = tern(&[cmd, &f]);
                let err = assert_unusable(&out, &f, at + 1);
                assert!(err.contains("unknown field `frobnicate`"), "{err}");
            }
            let out = tern(&["render", &f, "--site", "ams"]);
            assert_unusable(&out, &f, at + 1);
            injected += 1;
        }
    }
    assert!(injected > 20, "only {injected} injections");
}

#[test]
fn malformed_toml() {
    let d = TempDir::new("cli-bad");
    let f = d.write(
        "tern.toml",
        "[network]\nasn = 4200000001\nlab = true\n[[prefix]\n",
    );
    let err = assert_unusable(&tern(&["check", &f]), &f, 4);
    assert!(err.contains("expected"), "{err}");
    let f = d.write("tern.toml", "[network]\nasn = \"4200000001\nlab = true\n");
    assert_unusable(&tern(&["check", &f]), &f, 2);
}

#[test]
fn wrong_types() {
    let d = TempDir::new("cli-bad");
    let f = d.write("tern.toml", "[network]\nasn = \"sixty-four\"\n");
    let err = assert_unusable(&tern(&["check", &f]), &f, 2);
    assert!(err.contains("invalid AS number"), "{err}");
    let f = d.write(
        "tern.toml",
        "[network]\nasn = 4200000001\nlab = true\n\n[site.ams]\nlat = \"north\"\nlon = 4.9\n",
    );
    let err = assert_unusable(&tern(&["check", &f]), &f, 6);
    assert!(err.contains("invalid type"), "{err}");
    let f = d.write(
        "tern.toml",
        "[network]\nasn = 4200000001\n\n[[prefix]]\nprefix = \"2001:db8::/48\"\nrole = \"broadcast\"\n",
    );
    let err = assert_unusable(&tern(&["check", &f]), &f, 6);
    assert!(err.contains("unknown variant `broadcast`"), "{err}");
    // A missing required key points at its table.
    let f = d.write("tern.toml", "[network]\nlab = true\n");
    let err = assert_unusable(&tern(&["check", &f]), &f, 1);
    assert!(err.contains("missing field `asn`"), "{err}");
}

#[test]
fn missing_file() {
    let out = tern(&["check", "/nonexistent/tern.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot read /nonexistent/tern.toml"), "{err}");
}

#[test]
fn broken_vrp_and_rpsl_files() {
    let d = TempDir::new("cli-bad");
    let ex = examples()
        .into_iter()
        .find(|p| p.to_string_lossy().contains("minimal"))
        .unwrap();
    let ex = ex.to_str().unwrap();
    let vrps = d.write(
        "vrps.json",
        "{\"roas\": [\n  {\"asn\": 1, \"prefix\": \"2001:db8::/48\", \"maxLength\": 48},\n  {\"asn\": 1, \"prefix\": \"bogus\", \"maxLength\": 48}\n]}\n",
    );
    let err = assert_unusable(&tern(&["check", ex, "--vrps", &vrps]), &vrps, 3);
    assert!(err.contains("bogus"), "{err}");
    let truncated = d.write("t.json", "{\"roas\": [\n  {\"asn\": 1,");
    assert_unusable(&tern(&["check", ex, "--vrps", &truncated]), &truncated, 2);
    let rpsl = d.write(
        "irr.rpsl",
        "route6: 2001:db8::/48\norigin: AS1\nsource: RIPE\n\nroute6: 2001:db8::/48\norigin: ASfoo\n",
    );
    let err = assert_unusable(&tern(&["check", ex, "--irr", &rpsl]), &rpsl, 6);
    assert!(err.contains("ASfoo"), "{err}");
    let out = tern(&["check", ex, "--vrps", "/nonexistent/vrps.json"]);
    assert_eq!(out.status.code(), Some(2));
}
