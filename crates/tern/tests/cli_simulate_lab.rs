//! `tern simulate` against real routers: for the lab of examples/lab (namespaces, BIRD 2
//! carriers and providers, tern run at the sites) and several intent sets, the simulator on the
//! lab's own topology (`--graph <state dir>/<tag>/state.json`) predicts, for every probe, the
//! site `tern lab measure` sees: the tie set contains it, and with the lab's router-id
//! tie-break modelled (`--pick`) it is equal. One lab; `tern lab apply`, `fail`/`heal` and
//! `tern ctl drain` between the sets. Needs root; says plainly when skipped.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const TERN: &str = env!("CARGO_BIN_EXE_tern");

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2))
        == Some("0")
}

struct Lab {
    tag: String,
    dir: PathBuf,
}

impl Lab {
    fn new(name: &str) -> Lab {
        let tag = format!("{name}{:x}", std::process::id() & 0xffff);
        let dir = std::env::temp_dir().join(format!("tern-sim-lab-{tag}"));
        let _ = std::fs::remove_dir_all(&dir);
        Lab { tag, dir }
    }

    fn lab(&self, args: &[&str]) -> Output {
        Command::new(TERN)
            .args(args)
            .arg("--tag")
            .arg(&self.tag)
            .arg("--state-dir")
            .arg(&self.dir)
            .output()
            .unwrap()
    }

    fn ok(o: Output, what: &str) -> String {
        assert!(
            o.status.success(),
            "{what} failed ({}):\n{}\n{}",
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    fn state(&self) -> PathBuf {
        self.dir.join(&self.tag).join("state.json")
    }

    /// prb_id → site, once DNS, HTTP and traceroute agree for every probe.
    fn measured(&self) -> BTreeMap<u64, Option<String>> {
        let t = Instant::now();
        loop {
            let v: serde_json::Value = serde_json::from_str(&Lab::ok(
                self.lab(&["lab", "measure", "--json"]),
                "tern lab measure",
            ))
            .unwrap();
            let mut m = BTreeMap::new();
            let mut agree = true;
            for r in v["results"].as_array().unwrap() {
                let s = |k: &str| r[k].as_str().map(str::to_owned);
                let site = s("site");
                agree &= s("dns_site") == site && s("http_site") == site && s("trace_site") == site;
                m.insert(r["prb_id"].as_u64().unwrap(), site);
            }
            if agree || t.elapsed() > Duration::from_secs(30) {
                return m;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// prb_id → (pick, tie set) from `tern simulate`.
    fn predicted(
        &self,
        cfg: &Path,
        extra: &[&str],
    ) -> BTreeMap<u64, (Option<String>, Vec<String>)> {
        let mut args = vec![
            "simulate",
            cfg.to_str().unwrap(),
            "--graph",
            self.state().to_str().unwrap().to_owned().leak(),
            "--json",
        ];
        args.extend_from_slice(extra);
        let out = Lab::ok(
            Command::new(TERN).args(&args).output().unwrap(),
            "tern simulate",
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["probes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let sites = p["sites"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_owned())
                    .collect();
                (
                    p["prb_id"].as_u64().unwrap(),
                    (p["pick"].as_str().map(str::to_owned), sites),
                )
            })
            .collect()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.lab(&["lab", "down"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Waits until the lab's catchment equals the prediction (routes converge after a change),
/// then checks every probe; returns (probes, equal to pick, inside the tie set).
fn agree(lab: &Lab, name: &str, cfg: &Path, extra: &[&str]) -> (usize, usize, usize) {
    let want = lab.predicted(cfg, extra);
    let t = Instant::now();
    let got = loop {
        let got = lab.measured();
        let same = got
            .iter()
            .all(|(id, s)| want.get(id).map(|w| &w.0) == Some(s));
        if same || t.elapsed() > Duration::from_secs(45) {
            break got;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let (mut eq, mut inside) = (0, 0);
    for (id, site) in &got {
        let (pick, set) = &want[id];
        eq += usize::from(pick == site);
        inside += usize::from(site.as_ref().is_some_and(|s| set.contains(s)));
    }
    eprintln!(
        "lab agreement [{name}]: {} probes, {eq} equal to the pick, {inside} inside the tie set",
        got.len()
    );
    assert_eq!(got.len(), want.len(), "[{name}] probe count");
    for (id, site) in &got {
        assert_eq!(
            &want[id].0, site,
            "[{name}] probe {id}: predicted {:?}",
            want[id]
        );
    }
    (got.len(), eq, inside)
}

/// examples/lab/tern.toml with `intents` added to one site.
fn with_intents(dir: &Path, name: &str, site: &str, intents: &str) -> PathBuf {
    let base = std::fs::read_to_string(example("lab/tern.toml")).unwrap();
    let head = format!("[site.{site}]\n");
    let at = base.find(&head).unwrap() + head.len();
    let text = format!("{}intents = [ {intents} ]\n{}", &base[..at], &base[at..]);
    let p = dir.join(format!("{name}.toml"));
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn simulate_predicts_the_lab_catchment() {
    if !is_root() {
        eprintln!(
            "\n\n*** SKIPPED simulate_predicts_the_lab_catchment: tern lab needs root ***\n\n"
        );
        return;
    }
    let lab = Lab::new("sim");
    std::fs::create_dir_all(&lab.dir).unwrap();
    let base = example("lab/tern.toml");
    Lab::ok(
        lab.lab(&["lab", "up", base.to_str().unwrap()]),
        "tern lab up",
    );
    let mut total = (0, 0, 0);
    let mut add = |r: (usize, usize, usize)| {
        total = (total.0 + r.0, total.1 + r.1, total.2 + r.2);
    };

    // 1. The design (nrt: no-announce in North America via Cogent).
    add(agree(&lab, "design", &base, &[]));

    // 2. Prepend at one site.
    let p = example("lab/tern-prepend.toml");
    Lab::ok(lab.lab(&["lab", "apply", p.to_str().unwrap()]), "apply");
    add(agree(&lab, "prepend 3x at ewr", &p, &[]));

    // 3. No-announce to a carrier: ams's provider keeps the route from Cogent.
    let p = with_intents(
        &lab.dir,
        "noannounce",
        "ams",
        r#"{ action = "no-announce", to = "AS174" }"#,
    );
    Lab::ok(lab.lab(&["lab", "apply", p.to_str().unwrap()]), "apply");
    add(agree(&lab, "no-announce to AS174 at ams", &p, &[]));

    // 4. Regional local-pref: Cogent in North America ranks ewr's route lowest.
    let p = with_intents(
        &lab.dir,
        "localpref",
        "ewr",
        r#"{ action = "local-pref", level = "lowest", region = "north-america", via = "cogent" }"#,
    );
    Lab::ok(lab.lab(&["lab", "apply", p.to_str().unwrap()]), "apply");
    add(agree(
        &lab,
        "local-pref lowest in north-america via cogent at ewr",
        &p,
        &[],
    ));

    // 5. A failed site.
    Lab::ok(lab.lab(&["lab", "apply", base.to_str().unwrap()]), "apply");
    Lab::ok(lab.lab(&["lab", "fail", "ams"]), "fail");
    add(agree(&lab, "ams failed", &base, &["--fail", "ams"]));
    Lab::ok(lab.lab(&["lab", "heal", "ams"]), "heal");

    // 6. A drained site (tern ctl drain; drain = withdraw by default).
    let sock = lab.dir.join(&lab.tag).join("sites/nrt/ctl.sock");
    let o = Command::new(TERN)
        .args(["ctl", "--socket", sock.to_str().unwrap(), "drain"])
        .output()
        .unwrap();
    Lab::ok(o, "tern ctl drain");
    add(agree(&lab, "nrt drained", &base, &["--drain", "nrt"]));

    eprintln!(
        "lab agreement, all sets: {} probe predictions, {} equal, {} inside the tie set",
        total.0, total.1, total.2
    );
}
