//! Black-box tests of `tern plan`: splitting a prefix, and the plan of a tern.toml.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

fn tern(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(args)
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    out
}

#[test]
fn split_a_44_into_48s() {
    let out = tern(&["plan", "2001:db8:a0::/44", "--split", "48"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "2001:db8:a0::/44 split into /48: 16 prefixes");
    assert_eq!(lines.len(), 17);
    assert_eq!(lines[1], "2001:db8:a0::/48");
    assert_eq!(lines[16], "2001:db8:af::/48");

    let out = tern(&["plan", "192.0.2.0/24", "--split", "26"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("192.0.2.192/26") && text.contains(": 4 prefixes"),
        "{text}"
    );
}

#[test]
fn huge_splits_are_summarised() {
    let out = tern(&["plan", "2001:db8::/32", "--split", "64"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("2001:db8::/32 split into /64: 4294967296 prefixes"));
    assert!(
        text.trim_end().ends_with("... and 4294963200 more"),
        "{}",
        &text[text.len() - 100..]
    );
    assert_eq!(text.lines().count(), 1 + 4096 + 1);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--all lists every one"), "{err}");
}

#[test]
fn all_lists_every_subnet_past_the_cap() {
    let out = tern(&["plan", "2001:db8::/32", "--split", "45", "--all"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "2001:db8::/32 split into /45: 8192 prefixes");
    assert_eq!(lines.len(), 1 + 8192);
    assert_eq!(lines[8192], "2001:db8:fff8::/45");
    assert!(!text.contains("more"));
    // --all means nothing without --split.
    let out = tern(&["plan", "2001:db8::/32", "--all"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bad_splits_exit_2() {
    for args in [
        &["plan", "2001:db8::/48", "--split", "44"][..],
        &["plan", "192.0.2.0/24", "--split", "33"][..],
        &["plan", "2001:db8::/48"][..],
        &["plan", "2001:db8::1/48", "--split", "64"][..],
    ] {
        let out = tern(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: "));
    }
    let out = tern(&["plan", "2001:db8::1/48", "--split", "64"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean 2001:db8::/48"));
}

#[test]
fn plan_of_the_example_shows_use_and_free_space() {
    let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/anycast/tern.toml");
    let out = tern(&["plan", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let line = |p: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(p))
            .unwrap_or("")
    };
    assert!(
        line("2001:db8:a0::/48").contains("anycast (all sites)"),
        "{text}"
    );
    assert!(line("2001:db8:a3::/48").contains("unicast (ewr)"), "{text}");
    assert!(
        line("2001:db8:af::/48").contains("anycast (ams, fra, lux)"),
        "{text}"
    );
    for free in [
        "2001:db8:a6::/47",
        "2001:db8:a8::/46",
        "2001:db8:ac::/47",
        "2001:db8:ae::/48",
    ] {
        assert!(line(free).ends_with("free"), "{free}: {text}");
    }
    assert!(text.contains("(no free space)"));
}
