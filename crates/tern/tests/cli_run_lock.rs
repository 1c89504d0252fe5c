//! `tern run` started twice by mistake, killed with SIGKILL, stopped mid-startup (issue 16 §3):
//! the running daemon's control socket is never taken away, a dead daemon's stale lock and
//! socket are recovered, and the socket's directory is 0750 whatever the umask. The built
//! binary on loopback only; the upstream is a closed local port (no BGP session comes up, none
//! is needed).
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use tern_testkit::*;

fn tern_toml(http_port: u16, bgp_port: u16) -> String {
    format!(
        r#"
[network]
asn = 65001
allocations = ["2001:db8::/32"]
lab = true

[[prefix]]
prefix = "2001:db8:1::/48"
role = "anycast"

[site.lab]
lat = 52.0
lon = 4.0
router_id = "192.0.2.1"

[site.lab.edge]
ctl_socket = "run/ctl.sock"
drain_file = "drain"
http_listen = ["127.0.0.1:{http_port}"]

[[site.lab.upstream]]
name = "up"
neighbor = "::1"
port = {bgp_port}
remote_as = 65002
"#
    )
}

/// `tern run` as a child process (under `umask 077`), killed on drop.
struct Run(Option<Child>);

impl Run {
    fn start(cfg: &Path, log: &Path) -> Run {
        let log = std::fs::File::create(log).unwrap();
        let child = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "umask 077 && exec '{}' run '{}' --site lab",
                env!("CARGO_BIN_EXE_tern"),
                cfg.display()
            ))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        Run(Some(child))
    }

    fn pid(&self) -> String {
        self.0.as_ref().unwrap().id().to_string()
    }

    /// Wait (bounded) for the process to end.
    fn wait(&mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + within;
        let c = self.0.as_mut().unwrap();
        loop {
            if let Some(s) = c.try_wait().unwrap() {
                self.0 = None;
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "tern run did not end within {within:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
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

fn ctl_status(sock: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(["ctl", "--socket"])
        .arg(sock)
        .arg("status")
        .output()
        .unwrap()
}

fn wait_ctl(sock: &Path, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = ctl_status(sock);
        if out.status.success() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: tern ctl status: {out:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
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

fn setup(tag: &str) -> (TempDir, PathBuf, PathBuf) {
    let dir = TempDir::new(tag);
    let cfg = dir.path().join("tern.toml");
    std::fs::write(&cfg, tern_toml(free_port(), free_port())).unwrap();
    let sock = dir.path().join("run").join("ctl.sock");
    (dir, cfg, sock)
}

#[test]
fn a_second_instance_by_mistake_leaves_the_first_answering() {
    let (dir, cfg, sock) = setup("run-lock");
    let _first = Run::start(&cfg, &dir.path().join("first.log"));
    wait_ctl(&sock, "first daemon");
    let mode = std::fs::metadata(sock.parent().unwrap())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o777,
        0o750,
        "socket directory mode {mode:o} under umask 077"
    );

    // The same site again (its HTTP port is taken too): refused at the lock, exit 2.
    let log = dir.path().join("second.log");
    let mut second = Run::start(&cfg, &log);
    let st = second.wait(Duration::from_secs(20));
    assert_eq!(st.code(), Some(2), "{st:?}");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("another tern run (pid "), "{text}");
    // The first still answers on its socket.
    let out = ctl_status(&sock);
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("site lab"),
        "{out:?}"
    );
}

#[test]
fn kill_9_then_restart_recovers_the_stale_lock_and_socket() {
    let (dir, cfg, sock) = setup("run-kill9");
    let first = Run::start(&cfg, &dir.path().join("first.log"));
    wait_ctl(&sock, "first daemon");
    let mut first = first;
    signal(&first.pid(), "-KILL");
    first.wait(Duration::from_secs(10));
    assert!(
        sock.exists(),
        "a killed daemon leaves its socket file behind"
    );
    assert!(!ctl_status(&sock).status.success());

    let log = dir.path().join("second.log");
    let _second = Run::start(&cfg, &log);
    wait_ctl(&sock, "restarted daemon");
}

#[test]
fn sigterm_mid_startup_then_a_clean_start() {
    let (dir, cfg, sock) = setup("run-term");
    for delay_ms in [0, 30, 150] {
        let mut run = Run::start(&cfg, &dir.path().join(format!("t{delay_ms}.log")));
        std::thread::sleep(Duration::from_millis(delay_ms));
        signal(&run.pid(), "-TERM");
        let st = run.wait(Duration::from_secs(15));
        // Exit 0 after a structured stop, or killed by the signal before the handler was in.
        assert!(st.success() || st.code().is_none(), "{st:?}");
        assert!(
            !ctl_status(&sock).status.success(),
            "nothing answers after SIGTERM"
        );
    }
    let _run = Run::start(&cfg, &dir.path().join("last.log"));
    wait_ctl(&sock, "daemon after the interrupted starts");
}
