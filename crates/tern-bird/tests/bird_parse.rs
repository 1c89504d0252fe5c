//! Every rendered config of every example is accepted by the real BIRD 2 (`bird -p -c FILE`).

#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use common::TempDir;

fn bird_parses(file: &std::path::Path) -> Result<(), String> {
    let out = Command::new("bird")
        .arg("-p")
        .arg("-c")
        .arg(file)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `bird` ({e}): install BIRD 2 (Debian: apt-get install bird2) to run this test")
        });
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "bird -p -c {} failed ({}): {}{}",
            file.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Renders every site of every example into `dir`; `with_keys` inlines a dummy key, otherwise
/// the include files are created with one.
fn render_all(dir: &std::path::Path, with_keys: bool) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for (name, toml) in common::examples() {
        let m = tern_model::load(&toml).unwrap();
        let out = dir.join(&name);
        std::fs::create_dir_all(out.join("secrets")).unwrap();
        for site in &m.network.sites {
            let text = if with_keys {
                tern_bird::render_with(&m.network, &site.id, &|_| Some("not-a-real-key".into()))
                    .unwrap()
            } else {
                tern_bird::render_with(&m.network, &site.id, &|_| None).unwrap()
            };
            if !with_keys {
                for u in site.upstreams.iter().filter(|u| u.password.is_some()) {
                    let inc = out.join(tern_bird::secret_include(&site.id, u));
                    std::fs::write(inc, "password \"not-a-real-key\";\n").unwrap();
                }
            }
            let f = out.join(format!("{}.conf", site.id));
            std::fs::write(&f, text).unwrap();
            files.push(f);
        }
    }
    files
}

#[test]
fn bird_accepts_every_rendered_config() {
    for with_keys in [false, true] {
        let dir = TempDir::new("parse");
        let files = render_all(&dir.0, with_keys);
        assert!(files.len() >= 6);
        let errors: Vec<String> = files.iter().filter_map(|f| bird_parses(f).err()).collect();
        assert!(errors.is_empty(), "{}", errors.join("\n"));
    }
}

#[test]
fn bird_rejects_a_broken_config() {
    // The check can fail: a config with a missing include is refused.
    let dir = TempDir::new("neg");
    let (_, toml) = common::examples().into_iter().next().unwrap();
    let m = tern_model::load(&toml).unwrap();
    let site = &m.network.sites[0];
    let text = tern_bird::render_with(&m.network, &site.id, &|_| None).unwrap();
    let f = dir.0.join("x.conf");
    std::fs::write(&f, text).unwrap();
    assert!(bird_parses(&f).is_err());
}

#[test]
fn session_knobs_are_rendered_and_bird_accepts_them() {
    // An example with port, hold_time, connect_retry and error_wait set on its first upstream.
    let (_, toml) = common::examples().into_iter().next().unwrap();
    let text = std::fs::read_to_string(&toml).unwrap();
    let i = text.find("[[site.").unwrap();
    let j = i + text[i..].find("upstream]]").unwrap() + "upstream]]".len();
    let knobs =
        "\nport = 1179\nhold_time = 90\nconnect_retry = \"5s\"\nerror_wait = [\"5s\", \"120s\"]";
    let edited = format!("{}{knobs}{}", &text[..j], &text[j..]);
    let dir = TempDir::new("knobs");
    let path = toml.parent().unwrap().join(".knobs-test.toml");
    std::fs::write(&path, &edited).unwrap();
    let m = tern_model::load(&path);
    let _ = std::fs::remove_file(&path);
    let m = m.unwrap();
    assert!(!m.has_errors(), "{:?}", m.diagnostics);
    let site = m
        .network
        .sites
        .iter()
        .find(|s| s.upstreams.iter().any(|u| u.port == 1179))
        .expect("the edited upstream");
    let conf =
        tern_bird::render_with(&m.network, &site.id, &|_| Some("not-a-real-key".into())).unwrap();
    for line in [
        " port 1179 as ",
        "  hold time 90;",
        "  connect retry time 5;",
        "  error wait time 5, 120;",
    ] {
        assert!(conf.contains(line), "{line:?} missing:\n{conf}");
    }
    let f = dir.0.join("knobs.conf");
    std::fs::write(&f, conf).unwrap();
    bird_parses(&f).unwrap();
}
