//! Black-box tests of `tern render`: one site to stdout or a file, every site into a directory
//! (the README's first command, checked with the real `bird -p -c`), secrets inline or included,
//! refusal on errors and on unknown sites.

#![allow(clippy::unwrap_used)]

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::Command;

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../examples/{name}/tern.toml"))
        .to_string_lossy()
        .into_owned()
}

fn bird_parse(file: &Path) {
    let out = Command::new("bird")
        .arg("-p")
        .arg("-c")
        .arg(file)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `bird` ({e}): install BIRD 2 (apt-get install bird2) to run this test"
            )
        });
    assert!(
        out.status.success(),
        "bird -p -c {} failed: {}{}",
        file.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn readme_first_command_all_sites_parse_in_bird() {
    for ex in ["anycast", "minimal"] {
        let d = TempDir::new("cli-render");
        let out_dir = d.0.join("out/bird");
        let check = tern_env(&["check", &example(ex)], &[]);
        assert_eq!(check.status.code(), Some(0));
        let out = tern_env(
            &[
                "render",
                &example(ex),
                "--all",
                "--out",
                out_dir.to_str().unwrap(),
            ],
            &[],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut confs: Vec<PathBuf> = std::fs::read_dir(&out_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "conf"))
            .collect();
        confs.sort();
        assert!(out_dir.join("ams.conf").exists());
        if ex == "anycast" {
            assert_eq!(confs.len(), 5);
        }
        for c in &confs {
            bird_parse(c);
        }
        // Secrets were not set: each session includes a stub only its owner may read.
        let stub = out_dir.join("secrets/ams_vultr6.conf");
        let stub = if ex == "minimal" {
            out_dir.join("secrets/ams_vultr_v6.conf")
        } else {
            stub
        };
        let text = std::fs::read_to_string(&stub).unwrap();
        assert!(text.contains("password"), "{text}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&stub).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "stub is readable by others: {mode:o}");
        }
        // Rendering again never overwrites a secrets file the operator filled in.
        std::fs::write(&stub, "password \"filled-in\";\n").unwrap();
        let out = tern_env(
            &[
                "render",
                &example(ex),
                "--all",
                "--out",
                out_dir.to_str().unwrap(),
            ],
            &[],
        );
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(
            std::fs::read_to_string(&stub).unwrap(),
            "password \"filled-in\";\n"
        );
        bird_parse(&out_dir.join("ams.conf"));
    }
}

#[test]
fn one_site_to_stdout_and_to_a_file() {
    let out = tern_env(&["render", &example("anycast"), "--site", "lux"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("protocol bgp buyvm6 {"), "{text}");
    assert!(
        text.contains("neighbor 2605:6400:ffff::2 as 53667;"),
        "{text}"
    );
    assert!(
        text.contains("bgp_large_community.add((53667, 109, 6939));"),
        "{text}"
    );
    assert!(text.contains("bgp_path.prepend(TERN_OWN_AS);"), "{text}");
    assert!(
        text.contains("include \"secrets/lux_buyvm6.conf\";"),
        "{text}"
    );
    // Not the other sites' unicast prefixes.
    assert!(!text.contains("2001:db8:a1::/48"), "{text}");

    let d = TempDir::new("cli-render");
    let f = d.0.join("lux.conf");
    let out = tern_env(
        &[
            "render",
            &example("anycast"),
            "--site",
            "lux",
            "-o",
            f.to_str().unwrap(),
        ],
        &[("TERN_LUX_BGP_PASSWORD", "s3cret-key")],
    );
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(&f).unwrap();
    // The key was available: inline, no include, no stub.
    assert!(text.contains("password \"s3cret-key\";"), "{text}");
    assert!(!text.contains("include"), "{text}");
    assert!(!d.0.join("secrets").exists());
    bird_parse(&f);
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_file_holding_a_key_is_0600_even_over_an_old_0644_file() {
    use std::os::unix::fs::PermissionsExt as _;
    let d = TempDir::new("cli-render-mode");
    let key = [("TERN_LUX_BGP_PASSWORD", "s3cret-key")];
    // -o FILE: a new file, then over one an earlier render (or the operator) left 0644.
    let f = d.0.join("lux.conf");
    for over_old_file in [false, true] {
        if over_old_file {
            std::fs::write(&f, "old\n").unwrap();
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let out = tern_env(
            &[
                "render",
                &example("anycast"),
                "--site",
                "lux",
                "-o",
                f.to_str().unwrap(),
            ],
            &key,
        );
        assert_eq!(out.status.code(), Some(0));
        assert!(std::fs::read_to_string(&f).unwrap().contains("s3cret-key"));
        assert_eq!(mode(&f), 0o600, "over an old file: {over_old_file}");
    }
    // --all: the site whose key is known gets 0600; the others hold no key (an include).
    let dir = d.0.join("all");
    let out = tern_env(
        &[
            "render",
            &example("anycast"),
            "--all",
            "--out",
            dir.to_str().unwrap(),
        ],
        &key,
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(mode(&dir.join("lux.conf")), 0o600);
    let ams = std::fs::read_to_string(dir.join("ams.conf")).unwrap();
    assert!(
        !ams.contains("s3cret-key") && ams.contains("include \"secrets/"),
        "{ams}"
    );
    assert_eq!(mode(&dir.join("ams.conf")) & 0o600, 0o600);
    // No temporary file is left behind.
    let stray: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
}

#[test]
fn one_site_into_a_directory_with_out() {
    let d = TempDir::new("cli-render-out");
    let dir = d.0.join("bird");
    let out = tern_env(
        &[
            "render",
            &example("anycast"),
            "--site",
            "lux",
            "--out",
            dir.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Nothing on standard output: the config went to DIR/lux.conf, with its secrets stub.
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let conf = dir.join("lux.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    assert!(text.contains("protocol bgp buyvm6 {"), "{text}");
    assert!(dir.join("secrets/lux_buyvm6.conf").exists());
    assert!(!dir.join("ams.conf").exists());
    bird_parse(&conf);
    // -o and --out together are a usage error.
    let out = tern_env(
        &[
            "render",
            &example("anycast"),
            "--site",
            "lux",
            "--out",
            dir.to_str().unwrap(),
            "-o",
            conf.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn refuses_unknown_sites_and_networks_with_errors() {
    let out = tern_env(&["render", &example("anycast"), "--site", "xyz"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("there is no site \"xyz\"") && err.contains("ams, ewr, fra, lux, nrt"),
        "{err}"
    );

    let d = TempDir::new("cli-render");
    let f = d.0.join("tern.toml");
    std::fs::write(
        &f,
        "[network]\nasn = 4200000001\n\n[[prefix]]\nprefix = \"2001:db8::/48\"\nrole = \"anycast\"\n\n[site.ams]\nlat = 1.0\nlon = 1.0\nrouter_id = \"192.0.2.1\"\n",
    )
    .unwrap();
    let out_dir = d.0.join("out");
    let out = tern_env(
        &[
            "render",
            f.to_str().unwrap(),
            "--all",
            "--out",
            out_dir.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error[asn-bogon]") && err.contains("not rendering"),
        "{err}"
    );
    assert!(!out_dir.exists());

    // --site or --all is required (clap usage error, exit 2).
    let out = tern_env(&["render", &example("anycast")], &[]);
    assert_eq!(out.status.code(), Some(2));
}
