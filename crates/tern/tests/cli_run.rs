//! Black-box tests of `tern run` and `tern ctl` (the built binary) against a real BIRD 2 on
//! loopback: announce after the checks pass, `tern ctl` text and JSON, SIGHUP reload, and
//! SIGTERM: every route gone from BIRD at once (not after the hold time), a Cease with the
//! RFC 8203 message, exit 0. A refused configuration exits 2 with the reason.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use tern_testkit::*;

const P4: &str = "192.0.2.0/24";
const P6: &str = "2001:db8:1::/48";

fn bird_conf(port: u16) -> String {
    let common = "multihop; passive on; hold time 240; error wait time 1, 3; neighbor as 65001;";
    format!(
        r#"
router id 192.0.2.100;
protocol device {{ }}
protocol bgp tern4 {{ local 127.0.0.1 port {port} as 65002; neighbor 127.0.0.1; {common} ipv4 {{ import all; export none; }}; }}
protocol bgp tern6 {{ local ::1 port {port} as 65002; neighbor ::1; {common} ipv6 {{ import all; export none; }}; }}
"#
    )
}

fn tern_toml(dir: &Path, port: u16, community: &str) -> String {
    format!(
        r#"
[network]
asn = 65001
allocations = ["2001:db8::/32", "192.0.2.0/24"]
lab = true

[[prefix]]
prefix = "{P4}"
role = "anycast"

[[prefix]]
prefix = "{P6}"
role = "anycast"

[site.lab]
code = "TST"
lat = 52.0
lon = 4.0
router_id = "192.0.2.1"
connected = ["127.0.0.0/8", "::1/128"]

[site.lab.edge]
ctl_socket = "ctl.sock"
drain_file = "drain"

[[site.lab.upstream]]
name = "bird4"
neighbor = "127.0.0.1"
port = {port}
remote_as = 65002
multihop = 2
source = "127.0.0.1"
communities = ["{community}"]

[[site.lab.upstream]]
name = "bird6"
neighbor = "::1"
port = {port}
remote_as = 65002
multihop = 2
source = "::1"

[[service]]
name = "web"
prefixes = ["{P4}", "{P6}"]

[[service.check]]
kind = "exec"
command = ["test", "-f", "{health}"]
interval = "1s"
timeout = "500ms"
rise = 1
fall = 2
"#,
        health = dir.join("healthy").display()
    )
}

/// `tern run` as a child process, killed on drop.
struct Run(Option<Child>);

impl Run {
    fn pid(&self) -> String {
        self.0.as_ref().unwrap().id().to_string()
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn ctl(sock: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tern"))
        .arg("ctl")
        .arg("--socket")
        .arg(sock)
        .args(args)
        .output()
        .unwrap()
}

fn signal(pid: &str, sig: &str) {
    assert!(
        Command::new("kill")
            .args([sig, pid])
            .status()
            .unwrap()
            .success()
    );
}

#[test]
fn run_ctl_sighup_and_sigterm_against_bird() {
    let port = free_port();
    let bird = Bird::start(&bird_conf(port));
    let dir = TempDir::new("cli-run");
    let cfg = dir.path().join("tern.toml");
    std::fs::write(&cfg, tern_toml(dir.path(), port, "65002:100")).unwrap();
    std::fs::write(dir.path().join("healthy"), "").unwrap();
    let log = std::fs::File::create(dir.path().join("tern.log")).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(["run", cfg.to_str().unwrap(), "--site", "lab"])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut run = Run(Some(child));
    let tern_log = || std::fs::read_to_string(dir.path().join("tern.log")).unwrap_or_default();

    for p in [P4, P6] {
        wait_for(&format!("{p} at BIRD"), Duration::from_secs(40), || {
            bird.route(p)
        });
    }
    assert!(bird.route(P4).unwrap().contains("(65002,100)"));

    // tern ctl: text and JSON.
    let sock = dir.path().join("ctl.sock");
    let out = ctl(&sock, &["status"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("site lab") && text.contains("Established") && text.contains(P4),
        "{text}"
    );
    let out = ctl(&sock, &["routes", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["upstreams"][0]["name"], "bird4", "{v}");
    assert_eq!(v["upstreams"][0]["routes"][0]["prefix"], P4, "{v}");
    assert_eq!(
        v["upstreams"][0]["routes"][0]["communities"][0], "65002:100",
        "{v}"
    );
    let out = ctl(&sock, &["checks"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("web/exec"),
        "{out:?}"
    );
    let out = ctl(&sock, &["drain", "2001:db8:99::/48"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "an unknown prefix must be refused: {out:?}"
    );

    // SIGHUP: new community on the open session.
    std::fs::write(&cfg, tern_toml(dir.path(), port, "65002:777")).unwrap();
    signal(&run.pid(), "-HUP");
    wait_for(
        "new community after SIGHUP",
        Duration::from_secs(10),
        || {
            bird.route(P4).and_then(|r| {
                if r.contains("(65002,777)") {
                    Ok(())
                } else {
                    Err(r)
                }
            })
        },
    );

    // SIGTERM: routes gone at once, Cease with our message, exit 0.
    let t0 = Instant::now();
    signal(&run.pid(), "-TERM");
    wait_for(
        "routes gone after SIGTERM",
        Duration::from_secs(5),
        || match (bird.route(P4), bird.route(P6)) {
            (Err(_), Err(_)) => Ok(()),
            (a, b) => Err(format!("{a:?} {b:?}")),
        },
    );
    let gone = t0.elapsed();
    println!(
        "MEASURED SIGTERM → both routes gone from BIRD: {:.0} ms (BIRD hold time 240 s)",
        gone.as_secs_f64() * 1000.0
    );
    let mut child = run.0.take().unwrap();
    let status = wait_for("tern run exits", Duration::from_secs(10), || {
        child
            .try_wait()
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "running".to_owned())
    });
    assert_eq!(status.code(), Some(0), "log:\n{}", tern_log());
    let proto = bird.birdc("show protocols all tern4");
    assert!(
        proto.contains("tern shutting down") || proto.contains("Administrative shutdown"),
        "{proto}"
    );
    assert!(!sock.exists(), "the control socket is removed at exit");
}

#[test]
fn refused_configuration_exits_2_with_the_reason() {
    let dir = TempDir::new("cli-run-bad");
    let cfg = dir.path().join("tern.toml");
    std::fs::write(&cfg, tern_toml(dir.path(), 1790, "65002:banana")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(["run", cfg.to_str().unwrap(), "--site", "lab"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("banana") && err.contains("tern.toml"), "{err}");

    std::fs::write(&cfg, tern_toml(dir.path(), 1790, "65002:1")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(["run", cfg.to_str().unwrap(), "--site", "nowhere"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no site nowhere"),
        "{out:?}"
    );
}
