//! Black-box tests of what a command-line tool is expected to have: shell completions and man
//! pages generated from the parser's own definitions, `--version` naming the commit, and an OS
//! error said once.

#![allow(clippy::unwrap_used)]

mod common;
use common::*;

use std::process::Command;

/// Every subcommand of `tern --help`, read from the help text (so a new one is covered too).
fn subcommands() -> Vec<String> {
    let out = tern(&["--help"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let list = text.split("Commands:").nth(1).unwrap();
    let list = list.split("Options:").next().unwrap();
    let names: Vec<String> = list
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .map(str::to_owned)
        .collect();
    assert!(names.len() >= 8, "{names:?}");
    names
}

fn have(bin: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {bin}"))
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn completions_for_bash_zsh_and_fish_name_every_subcommand() {
    let subs = subcommands();
    for shell in ["bash", "zsh", "fish"] {
        let out = tern(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        for s in &subs {
            assert!(text.contains(s.as_str()), "{shell} completions lack {s}");
        }
        // Nested options too: `tern render --out`.
        assert!(text.contains("--out"), "{shell}");
    }
    // The bash script is valid bash, and completes `tern re<TAB>` to render.
    if have("bash") {
        let dir = TempDir::new("completions");
        let f = dir.write(
            "tern.bash",
            &String::from_utf8_lossy(&tern(&["completions", "bash"]).stdout),
        );
        let script = format!(
            "source {f}; COMP_WORDS=(tern re); COMP_CWORD=1; _tern tern re tern; echo \"${{COMPREPLY[@]}}\""
        );
        let out = Command::new("bash")
            .arg("-c")
            .arg(&script)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got = String::from_utf8_lossy(&out.stdout);
        assert_eq!(got.trim(), "render", "{got}");
    }
    // An unknown shell is a usage error naming the choices.
    let out = tern(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bash"));
}

#[test]
fn man_page_and_one_page_per_subcommand() {
    let out = tern(&["man"]);
    assert_eq!(out.status.code(), Some(0));
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH tern 1"),
        "{page}"
    );
    assert!(page.contains(".TH tern 1"), "{page}");
    for s in subcommands() {
        assert!(
            page.contains(&format!("tern\\-{s}")) || page.contains(&s),
            "man lacks {s}"
        );
    }
    let dir = TempDir::new("man");
    let out = tern(&["man", "--out", dir.0.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    for s in subcommands() {
        let p = dir.join(&format!("tern-{s}.1"));
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(text.contains(&format!(".TH tern-{s} 1")), "{text}");
    }
    // Nested subcommands get their own page, with their options.
    let up = std::fs::read_to_string(dir.join("tern-render.1")).unwrap();
    assert!(up.contains("\\-\\-out"), "{up}");
    assert!(dir.join("tern-lab-up.1").exists());
    // man(1) renders it without warnings where it is installed.
    if have("man") {
        let out = Command::new("man")
            .args(["--warnings", "-l"])
            .arg(dir.join("tern.1"))
            .env("MANPAGER", "cat")
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains("completions"));
    }
}

#[test]
fn version_names_the_commit() {
    let out = tern(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    let v = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(
        v.starts_with(&format!("tern {} (", env!("CARGO_PKG_VERSION"))),
        "{v}"
    );
    let git = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    match git {
        Ok(o) if o.status.success() => {
            let head = String::from_utf8_lossy(&o.stdout).trim().to_owned();
            // Built from this checkout: the commit is named (HEAD may have moved since the
            // build only when committing between build and test, which cargo test rebuilds).
            assert!(v.contains(&head), "{v} does not name HEAD {head}");
        }
        _ => assert!(v.ends_with("(unknown commit)"), "{v}"),
    }
}

#[test]
fn an_os_error_is_said_once() {
    let missing = "/nonexistent/tern.toml";
    for args in [
        &["check", missing][..],
        &["plan", missing][..],
        &["render", missing, "--all", "--out", "/tmp/tern-never-made"][..],
        &["atlas", "analyse", missing][..],
    ] {
        let out = tern(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert!(err.contains(missing), "{args:?}: {err}");
        assert_eq!(
            err.matches("No such file or directory").count(),
            1,
            "{args:?}: {err}"
        );
        assert_eq!(err.matches("os error 2").count(), 1, "{args:?}: {err}");
    }
}
