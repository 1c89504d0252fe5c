//! Black-box tests of `tern lab` on the real thing: namespaces, BIRD 2 routers, `tern run` at
//! every site (the default speaker; one test runs the BIRD stand-in), probes. They need root
//! (CI runs as root); without it they say so loudly and return.
//!
//! Each test uses its own tag and its own state directory, so they run in parallel with each
//! other and with anything else on the host, and a guard runs `tern lab down` even when an
//! assertion fails.
//!
//! The expected catchment is written from the lab's design (examples/lab/tern.toml): every
//! carrier router prefers the eBGP route from the provider router in its own region over what
//! its other regions pass on by iBGP (equal local-pref and AS path length), so probes in Europe
//! reach ams, in North America ewr, in Asia nrt.

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

macro_rules! need_root {
    () => {
        if !is_root() {
            eprintln!(
                "\n\n*** SKIPPED {}: tern lab needs root (network namespaces); CI runs as root ***\n\n",
                module_path!()
            );
            return;
        }
    };
}

/// A lab's tag and state directory; `down` on drop.
struct Lab {
    tag: String,
    dir: PathBuf,
}

impl Lab {
    fn new(name: &str) -> Lab {
        let tag = format!("{name}{:x}", std::process::id() & 0xffff);
        let dir = std::env::temp_dir().join(format!("tern-cli-lab-{tag}"));
        let _ = std::fs::remove_dir_all(&dir);
        Lab { tag, dir }
    }

    fn tern(&self, args: &[&str]) -> Output {
        let mut c = Command::new(TERN);
        c.args(args)
            .arg("--tag")
            .arg(&self.tag)
            .arg("--state-dir")
            .arg(&self.dir);
        c.output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.tern(args);
        assert!(
            o.status.success(),
            "tern {} failed ({}):\n{}\n{}",
            args.join(" "),
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// Probe → (region, site) from `tern lab measure --json`, once the DNS, HTTP and
    /// traceroute evidence of every probe agree (they may not while routes are changing).
    fn catchment(&self) -> BTreeMap<String, (String, Option<String>)> {
        let t = Instant::now();
        loop {
            let v: serde_json::Value =
                serde_json::from_str(&self.ok(&["lab", "measure", "--json"])).unwrap();
            let mut m = BTreeMap::new();
            let mut agree = true;
            for r in v["results"].as_array().unwrap() {
                let s = |k: &str| r[k].as_str().map(str::to_owned);
                let site = s("site");
                let site4 = r["dns4"]["txt"][0].as_str().map(str::to_owned);
                // An IPv6-only lab has no IPv4 query (dns4 is null).
                agree &= s("dns_site") == site
                    && s("http_site") == site
                    && s("trace_site") == site
                    && (r["dns4"].is_null() || site4 == site);
                m.insert(s("probe").unwrap(), (s("region").unwrap(), site));
            }
            if agree {
                return m;
            }
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "DNS, HTTP and traceroute disagree for 30 s: {v}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn namespaces(&self) -> Vec<String> {
        let out = Command::new("ip").args(["netns", "list"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|n| n.starts_with(&format!("tern-{}-", self.tag)))
            .map(str::to_owned)
            .collect()
    }

    /// Processes whose command line mentions this lab's state directory or namespaces.
    fn processes(&self) -> Vec<String> {
        let dir = self.dir.to_string_lossy().into_owned();
        let ns = format!("tern-{}-", self.tag);
        let mut v = Vec::new();
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else {
                continue;
            };
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
            let zombie = stat
                .rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'));
            if !zombie && (cmd.contains(&dir) || cmd.contains(&ns)) && pid != std::process::id() {
                v.push(format!("{pid}: {cmd}"));
            }
        }
        v
    }

    /// Nothing of the lab is left: namespaces, processes, state.
    fn assert_gone(&self) {
        assert_eq!(self.namespaces(), Vec::<String>::new(), "namespaces left");
        assert_eq!(self.processes(), Vec::<String>::new(), "processes left");
        assert!(
            !self.dir.join(&self.tag).exists(),
            "state directory {} left",
            self.dir.join(&self.tag).display()
        );
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.tern(&["lab", "down"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn expected(region: &str) -> &'static str {
    match region {
        "europe" => "ams",
        "north-america" => "ewr",
        "asia" => "nrt",
        r => panic!("the lab example has no probes in {r}"),
    }
}

#[test]
fn catchment_failover_prepend_and_clean_down() {
    need_root!();
    let lab = Lab::new("cl");
    let cfg = example("lab/tern.toml");
    lab.ok(&["lab", "up", cfg.to_str().unwrap()]);
    // Every site runs tern run and its service; no BIRD and no lab whoami at the sites.
    let status = lab.ok(&["lab", "status"]);
    assert!(status.contains("sites run: tern run"), "{status}");
    for site in ["ams", "ewr", "nrt"] {
        let line = status
            .lines()
            .find(|l| l.starts_with(&format!("{site} ")))
            .unwrap();
        assert!(
            line.contains("ternrun:") && line.contains("service:"),
            "{line}"
        );
        assert!(
            !line.contains("bird:") && !line.contains("whoami:"),
            "{line}"
        );
    }

    // 1. The catchment is the designed one.
    let base = lab.catchment();
    assert_eq!(base.len(), 6, "{base:?}");
    for (p, (region, site)) in &base {
        assert_eq!(site.as_deref(), Some(expected(region)), "{p} in {region}");
    }

    // A real resolver client agrees with the lab's DNS probe.
    let dig = Command::new("ip")
        .args(["netns", "exec", &format!("tern-{}-probe-as-1", lab.tag)])
        .args([
            "dig",
            "@2001:db8:c0::1",
            "-c",
            "CH",
            "-t",
            "TXT",
            "id.server",
            "+short",
        ])
        .args(["+time=2", "+tries=2"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&dig.stdout).trim(),
        "\"nrt\"",
        "{dig:?}"
    );

    // RIPE Atlas output, as tern atlas reads it.
    let out = lab.dir.join("atlas");
    lab.ok(&["lab", "measure", "--out", out.to_str().unwrap()]);
    let read = |f: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(out.join(f)).unwrap()).unwrap()
    };
    let dns = read("dns.json");
    let r0 = &dns[0];
    for k in [
        "msm_id",
        "prb_id",
        "timestamp",
        "af",
        "dst_addr",
        "from",
        "proto",
    ] {
        assert!(!r0[k].is_null(), "dns result lacks {k}: {r0}");
    }
    assert_eq!(r0["af"], 6);
    assert!(r0["result"]["abuf"].as_str().unwrap().len() > 20);
    assert_eq!(read("traceroute.json")[0]["destination_ip_responded"], true);
    assert_eq!(read("ping.json")[0]["sent"], 3);
    // IPv4 too: the example also announces 192.0.2.0/24 from every site.
    let pings = read("ping.json");
    let v4: Vec<&serde_json::Value> = pings
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["af"] == 4)
        .collect();
    assert_eq!(v4.len(), 6, "one IPv4 ping per probe");
    assert_eq!(v4[0]["dst_addr"], "192.0.2.1");
    assert_eq!(v4[0]["rcvd"], 3);
    let body = read("http.json")[0]["result"][0]["body"].clone();
    assert!(body.as_str().unwrap().contains("site=ams"), "{body}");
    let probes = read("probes.json");
    assert_eq!(probes["objects"].as_array().unwrap().len(), 6);
    assert!(probes["objects"][0]["latitude"].is_f64());

    // 2. A failed site (its service stopped: tern run's check fails twice, 1 s apart, and it
    // withdraws): every probe it had reaches another site; the others stay.
    lab.ok(&["lab", "fail", "ams"]);
    let t = Instant::now();
    let after = loop {
        let c = lab.catchment();
        let moved = c
            .iter()
            .all(|(_, (_, s))| s.as_deref().is_some_and(|s| s != "ams"));
        if moved || t.elapsed() > Duration::from_secs(30) {
            break c;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    eprintln!(
        "failover: every probe left ams within {} ms (measure rounds included)",
        t.elapsed().as_millis()
    );
    for (p, (region, site)) in &after {
        if region == "europe" {
            assert!(
                site.as_deref().is_some_and(|s| s != "ams"),
                "{p} did not move: {site:?}"
            );
        } else {
            assert_eq!(site.as_deref(), Some(expected(region)), "{p} moved");
        }
    }
    let status = lab.ok(&["lab", "status"]);
    assert!(status.contains("failed sites: ams"), "{status}");

    // Heal: back to the design (rise 2 after tern run's damping hold-down of 10 s).
    lab.ok(&["lab", "heal", "ams"]);
    let t = Instant::now();
    loop {
        let c = lab.catchment();
        if c == base {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(60), "no recovery: {c:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!("heal: catchment back within {} ms", t.elapsed().as_millis());

    // 3. A prepend at ewr moves North America away from ewr and nothing else.
    let te = example("lab/tern-prepend.toml");
    let applied = lab.ok(&["lab", "apply", te.to_str().unwrap()]);
    let mut lines = applied.lines();
    assert_eq!(
        lines.next(),
        Some("reloaded: ewr"),
        "only ewr's part changed"
    );
    // The reload diff: what changed in tern.toml and what tern run did, per session.
    let rest: Vec<&str> = lines.collect();
    for want in [
        "ewr: tern.toml: upstream vultr6: prepend 0x -> 3x",
        "ewr: upstream vultr6: export attributes changed (UPDATEs, session kept)",
        "ewr: upstream vultr4: export attributes changed (UPDATEs, session kept)",
    ] {
        assert!(
            rest.iter().any(|l| l.trim() == want),
            "{want:?} not in {rest:?}"
        );
    }
    // By reload: new attributes by UPDATE on the open sessions, no reset.
    let log =
        std::fs::read_to_string(lab.dir.join(&lab.tag).join("sites/ewr/tern-run.log")).unwrap();
    assert!(
        log.contains("export attributes changed (UPDATEs, session kept)"),
        "{log}"
    );
    assert!(!log.contains("session reset"), "{log}");
    let t = Instant::now();
    let moved = loop {
        let c = lab.catchment();
        let na_left = c
            .values()
            .filter(|(r, _)| r == "north-america")
            .all(|(_, s)| s.as_deref().is_some_and(|s| s != "ewr"));
        if na_left || t.elapsed() > Duration::from_secs(30) {
            break c;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    for (p, (region, site)) in &moved {
        if region == "north-america" {
            assert!(
                site.as_deref().is_some_and(|s| s != "ewr"),
                "{p} still at {site:?}"
            );
        } else {
            assert_eq!(site.as_deref(), Some(expected(region)), "{p} moved");
        }
    }

    // 4. down leaves nothing.
    assert!(!lab.namespaces().is_empty());
    lab.ok(&["lab", "down"]);
    lab.assert_gone();
}

#[test]
fn failed_up_leaves_nothing() {
    need_root!();
    let lab = Lab::new("fu");
    std::fs::create_dir_all(&lab.dir).unwrap();
    // A BIRD that works four times, then fails: up dies half way, with routers running.
    let counter = lab.dir.join("count");
    let script = lab.dir.join("flaky-bird");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nn=$(cat {c} 2>/dev/null || echo 0)\nn=$((n+1))\necho $n > {c}\n\
             if [ $n -ge 5 ]; then echo injected failure >&2; exit 1; fi\nexec bird \"$@\"\n",
            c = counter.display()
        ),
    )
    .unwrap();
    Command::new("chmod")
        .arg("+x")
        .arg(&script)
        .status()
        .unwrap();
    let cfg = example("lab/tern.toml");
    let o = lab.tern(&[
        "lab",
        "up",
        cfg.to_str().unwrap(),
        "--bird",
        script.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("injected failure"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&counter).unwrap().trim(),
        "5",
        "up should have started 4 BIRDs before the failure"
    );
    lab.assert_gone();
}

#[test]
fn missing_prerequisites_are_named_with_exit_2() {
    // Runs as any user: without root, root is named; with root, the missing BIRD is.
    let lab = Lab::new("pr");
    let cfg = example("lab/tern.toml");
    let o = lab.tern(&[
        "lab",
        "up",
        cfg.to_str().unwrap(),
        "--bird",
        "/nonexistent/bird",
    ]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("/nonexistent/bird"), "{err}");
    if !is_root() {
        assert!(err.contains("root"), "{err}");
    }
    assert!(lab.namespaces().is_empty());
}

#[test]
fn failed_up_with_tern_run_started_leaves_nothing() {
    need_root!();
    let lab = Lab::new("ft");
    let cfg = example("lab/tern.toml");
    // Every tern run is started, then convergence cannot be met in 0 s (the checks need rise 2
    // at 1 s): up fails with sites, routers and services running.
    let o = lab.tern(&["lab", "up", cfg.to_str().unwrap(), "--timeout", "0"]);
    assert!(!o.status.success(), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("converge"), "{err}");
    lab.assert_gone();
}

#[test]
fn bird_stand_in_still_works() {
    need_root!();
    let lab = Lab::new("bs");
    let cfg = example("lab/tern.toml");
    lab.ok(&["lab", "up", cfg.to_str().unwrap(), "--speaker", "bird"]);
    let status = lab.ok(&["lab", "status"]);
    assert!(status.contains("BIRD 2 stand-in"), "{status}");
    for (p, (region, site)) in &lab.catchment() {
        assert_eq!(site.as_deref(), Some(expected(region)), "{p} in {region}");
    }
    lab.ok(&["lab", "fail", "nrt"]);
    let t = Instant::now();
    loop {
        let c = lab.catchment();
        if c.values()
            .all(|(_, s)| s.as_deref().is_some_and(|s| s != "nrt"))
        {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "nrt kept probes: {c:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    lab.ok(&["lab", "down"]);
    lab.assert_gone();
}

/// What an IPv6-only lab must show: no IPv4 session anywhere in `status`, no IPv4 result in
/// the RIPE Atlas files, which-site by DNS (dig) and HTTP (curl) and a traceroute that reaches
/// the target, all over IPv6.
fn assert_ipv6_only(lab: &Lab, target: &str, probe: &str, site: &str) {
    let status = lab.ok(&["lab", "status"]);
    assert!(
        !status.contains("_4="),
        "IPv4 sessions in an IPv6-only lab:\n{status}"
    );
    let ns = format!("tern-{}-{probe}", lab.tag);
    let dig = Command::new("ip")
        .args(["netns", "exec", &ns, "dig", &format!("@{target}")])
        .args([
            "-c",
            "CH",
            "-t",
            "TXT",
            "id.server",
            "+short",
            "+time=2",
            "+tries=2",
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&dig.stdout).trim(),
        format!("\"{site}\""),
        "{dig:?}"
    );
    let curl = Command::new("ip")
        .args(["netns", "exec", &ns, "curl", "-sg", "--max-time", "3"])
        .arg(format!("http://[{target}]/cdn-cgi/trace"))
        .output()
        .unwrap();
    let body = String::from_utf8_lossy(&curl.stdout);
    assert!(body.contains(&format!("site={site}")), "{curl:?}");
    let out = lab.dir.join("atlas");
    lab.ok(&["lab", "measure", "--out", out.to_str().unwrap()]);
    for f in ["ping.json", "traceroute.json", "dns.json", "http.json"] {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join(f)).unwrap()).unwrap();
        let rs = v.as_array().unwrap();
        assert!(!rs.is_empty(), "{f} is empty");
        for r in rs {
            assert_eq!(r["af"], 6, "{f}: {r}");
        }
        if f == "traceroute.json" {
            assert!(
                rs.iter().all(|r| r["destination_ip_responded"] == true),
                "{v}"
            );
        }
    }
    let probes: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("probes.json")).unwrap()).unwrap();
    for p in probes["objects"].as_array().unwrap() {
        assert!(p["address_v4"].is_null(), "{p}");
    }
}

/// Probe → (region, site).
type Catchment = BTreeMap<String, (String, Option<String>)>;

/// Waits until `ok` holds for the catchment (60 s at most).
fn wait_catchment(lab: &Lab, what: &str, ok: &dyn Fn(&Catchment) -> bool) -> Catchment {
    let t = Instant::now();
    loop {
        let c = lab.catchment();
        if ok(&c) {
            return c;
        }
        assert!(t.elapsed() < Duration::from_secs(60), "{what}: {c:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn minimal_example_ipv6_only_up_measure_fail_heal() {
    need_root!();
    let lab = Lab::new("mi");
    let cfg = example("minimal/tern.toml");
    let up = lab.ok(&["lab", "up", cfg.to_str().unwrap(), "--timeout", "30"]);
    assert!(up.contains("IPv6 only"), "{up}");
    let c = lab.catchment();
    assert_eq!(c.len(), 2, "{c:?}");
    assert!(
        c.values().all(|(_, s)| s.as_deref() == Some("ams")),
        "{c:?}"
    );
    assert_ipv6_only(&lab, "2001:db8:b0::1", "probe-eu-1", "ams");
    // The only site fails: nobody reaches anything; heal brings it back.
    lab.ok(&["lab", "fail", "ams"]);
    // Failing it again says so and changes nothing.
    let again = lab.ok(&["lab", "fail", "ams"]);
    assert!(again.contains("failed already"), "{again}");
    wait_catchment(&lab, "ams still reached", &|c| {
        c.values().all(|(_, s)| s.is_none())
    });
    lab.ok(&["lab", "heal", "ams"]);
    wait_catchment(&lab, "ams not back", &|c| {
        c.values().all(|(_, s)| s.as_deref() == Some("ams"))
    });
    lab.ok(&["lab", "down"]);
    lab.assert_gone();
}

#[test]
fn three_site_ipv6_only_network_up_measure_fail_heal() {
    need_root!();
    let lab = Lab::new("v6");
    let cfg = example("ipv6-only/tern.toml");
    lab.ok(&["lab", "up", cfg.to_str().unwrap(), "--timeout", "30"]);
    let base = lab.catchment();
    assert_eq!(base.len(), 4, "{base:?}");
    for (p, (region, site)) in &base {
        match region.as_str() {
            "europe" => assert!(
                matches!(site.as_deref(), Some("ams" | "lux")),
                "{p}: {site:?}"
            ),
            "north-america" => assert_eq!(site.as_deref(), Some("nyc"), "{p}"),
            r => panic!("no probes expected in {r}"),
        }
    }
    assert_ipv6_only(&lab, "2001:db8:d0::1", "probe-na-1", "nyc");
    // North America moves to Europe when nyc fails, and comes back when it heals.
    lab.ok(&["lab", "fail", "nyc"]);
    let failed = wait_catchment(&lab, "nyc kept probes", &|c| {
        c.values()
            .all(|(_, s)| s.as_deref().is_some_and(|s| s != "nyc"))
    });
    for (p, (region, site)) in &failed {
        if region == "europe" {
            assert_eq!(site, &base[p].1, "{p} moved though its site is up");
        }
    }
    lab.ok(&["lab", "heal", "nyc"]);
    wait_catchment(&lab, "not back to the start", &|c| c == &base);
    lab.ok(&["lab", "down"]);
    lab.assert_gone();
}

impl Lab {
    /// Starts `tern ARGS --tag … --state-dir …` in the background in a process group of its own
    /// (so a signal can go to the group, as a terminal's Ctrl-C does), stdout and stderr piped.
    fn spawn(&self, args: &[&str]) -> std::process::Child {
        use std::os::unix::process::CommandExt as _;
        Command::new(TERN)
            .process_group(0)
            .args(args)
            .arg("--tag")
            .arg(&self.tag)
            .arg("--state-dir")
            .arg(&self.dir)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// The lab's state.json, if it exists and parses.
    fn state(&self) -> Option<serde_json::Value> {
        let text = std::fs::read_to_string(self.dir.join(&self.tag).join("state.json")).ok()?;
        serde_json::from_str(&text).ok()
    }
}

/// Kills the child on drop (a failed assertion must not leave a `tern lab up` running).
struct Running(Option<std::process::Child>);

impl Running {
    fn child(&mut self) -> &mut std::process::Child {
        self.0.as_mut().unwrap()
    }

    /// Waits for the end and takes its output.
    fn output(mut self) -> Output {
        self.0.take().unwrap().wait_with_output().unwrap()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(c) = &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `kill -SIGNAL PID`; with `group`, to the whole process group PID leads (a terminal's Ctrl-C
/// reaches tern and the commands it runs at that moment).
fn send(pid: u32, signal: &str, group: bool) {
    let target = if group {
        format!("-{pid}")
    } else {
        pid.to_string()
    };
    let ok = Command::new("kill")
        .args([&format!("-{signal}"), "--", &target])
        .status()
        .unwrap();
    assert!(ok.success(), "kill -{signal} {target}");
}

/// Waits (30 s at most) until the running `up`'s recorded state satisfies `ready`.
fn wait_state(lab: &Lab, up: &mut Running, what: &str, ready: &dyn Fn(&serde_json::Value) -> bool) {
    let t = Instant::now();
    loop {
        if lab.state().is_some_and(|s| ready(&s)) {
            return;
        }
        assert!(
            up.child().try_wait().unwrap().is_none(),
            "up ended before {what}"
        );
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "up never got to {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn count(s: &serde_json::Value, key: &str, kind: Option<&str>) -> usize {
    s[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|p| kind.is_none_or(|k| p["kind"] == k))
                .count()
        })
        .unwrap_or(0)
}

/// The exit of an interrupted run: 128 + signal, and stderr says what was removed.
fn assert_interrupted(run: Running, signal: &str, code: i32) -> String {
    let o = run.output();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(code), "{o:?}");
    assert!(
        err.contains(&format!("interrupted by {signal}: removed ")),
        "{err}"
    );
    err
}

#[test]
fn interrupted_up_removes_what_it_made() {
    need_root!();
    let cfg = example("lab/tern.toml");
    type Ready = dyn Fn(&serde_json::Value) -> bool;
    // Points of `up`: creating namespaces, starting BIRDs, starting tern run, waiting for BGP
    // (once to tern alone, once to its process group as a terminal's Ctrl-C).
    let ns5: &Ready = &|s| count(s, "namespaces", None) >= 5;
    let birds: &Ready = &|s| count(s, "processes", Some("bird")) >= 3;
    let run1: &Ready = &|s| count(s, "processes", Some("tern-run")) >= 1;
    let run3: &Ready = &|s| count(s, "processes", Some("tern-run")) >= 3;
    let points: [(&str, &str, bool, i32, &Ready); 5] = [
        ("namespaces", "INT", false, 130, ns5),
        ("birds", "TERM", false, 143, birds),
        ("tern run", "INT", false, 130, run1),
        ("convergence", "TERM", false, 143, run3),
        ("convergence (group)", "INT", true, 130, run3),
    ];
    for (i, (what, signal, group, code, ready)) in points.into_iter().enumerate() {
        let lab = Lab::new(&format!("iu{i}"));
        let mut up = Running(Some(lab.spawn(&["lab", "up", cfg.to_str().unwrap()])));
        wait_state(&lab, &mut up, what, ready);
        send(up.child().id(), signal, group);
        let err = assert_interrupted(up, &format!("SIG{signal}"), code);
        eprintln!("interrupted at {what}: {}", err.trim());
        lab.assert_gone();
    }
}

#[test]
fn interrupted_demo_removes_the_lab() {
    need_root!();
    use std::io::BufRead as _;
    for (i, (step, signal, code)) in [("== 2. measure", "INT", 130), ("== 4. heal", "TERM", 143)]
        .into_iter()
        .enumerate()
    {
        let lab = Lab::new(&format!("id{i}"));
        let mut demo = Running(Some(lab.spawn(&["lab", "demo"])));
        // Read all of stdout in a thread (a closed pipe would end the demo by SIGPIPE).
        let out = demo.child().stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let seen = rx.iter().any(|l: String| l.starts_with(step));
        assert!(seen, "the demo never printed {step:?}");
        assert!(!lab.namespaces().is_empty(), "no lab at {step}");
        send(demo.child().id(), signal, i == 0);
        let err = assert_interrupted(demo, &format!("SIG{signal}"), code);
        // 3 sites, 3 provider routers, 6 carrier routers, 6 eyeballs, 6 probes, the collector.
        assert!(err.contains("removed 25 namespaces"), "{err}");
        lab.assert_gone();
    }
}

#[test]
fn killed_up_is_incomplete_and_down_is_idempotent() {
    need_root!();
    let lab = Lab::new("k9");
    let cfg = example("lab/tern.toml");
    let mut up = Running(Some(lab.spawn(&["lab", "up", cfg.to_str().unwrap()])));
    wait_state(&lab, &mut up, "BIRDs", &|s| {
        count(s, "processes", Some("bird")) >= 3
    });
    // While up runs, status says it is being built.
    let status = lab.ok(&["lab", "status"]);
    assert!(status.contains("still building"), "{status}");
    send(up.child().id(), "KILL", false);
    let _ = up.child().wait();
    // What kill -9 left is a lab that status names incomplete, in text.
    let status = lab.ok(&["lab", "status"]);
    assert!(
        status.contains("incomplete") && status.contains("did not finish"),
        "{status}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&lab.ok(&["lab", "status", "--json"])).unwrap();
    assert_eq!(json["complete"], false);
    let down = lab.ok(&["lab", "down"]);
    assert!(down.starts_with("removed "), "{down}");
    lab.assert_gone();
    // Again, with the tag and without: nothing to remove, exit 0.
    assert!(lab.ok(&["lab", "down"]).contains("nothing to remove"));
    let o = Command::new(TERN)
        .args(["lab", "down", "--state-dir"])
        .arg(&lab.dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("nothing to remove"),
        "{o:?}"
    );
}
