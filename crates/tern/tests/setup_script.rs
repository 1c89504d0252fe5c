//! scripts/setup (the README's first command) never stops or disables a service that was
//! already on the machine, keeps the daemons it installs from starting, and fails loudly. Run
//! against stand-ins for apt-get, dpkg-query, systemctl, service, pkill and Python that only
//! record how they were called: nothing is installed and nothing on this machine is touched.

#![allow(clippy::unwrap_used)]

mod common;
use common::TempDir;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Output};

fn script(dir: &Path, name: &str, body: &str) {
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/bash\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A sandbox: stand-in commands first on PATH, each appending its argv to `calls`.
/// `missing` packages are reported as not installed; `apt_fails` makes apt-get install fail.
struct Sandbox {
    dir: TempDir,
}

impl Sandbox {
    fn new(missing: &[&str], apt_fails: bool) -> Sandbox {
        let dir = TempDir::new("setup");
        let bin = dir.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(dir.join("systemd")).unwrap();
        let log = dir.join("calls");
        let log = log.display();
        let policy = dir.join("policy-rc.d");
        let policy = policy.display();
        let missing = missing.join(" ");
        script(
            &bin,
            "dpkg-query",
            &format!(
                "echo \"dpkg-query $*\" >>{log}\nfor m in {missing}; do [ \"${{@: -1}}\" = \"$m\" ] && exit 1; done\nprintf 'install ok installed'"
            ),
        );
        // apt-get records whether policy-rc.d forbade service starts while it ran.
        script(
            &bin,
            "apt-get",
            &format!(
                "echo \"apt-get $*\" >>{log}\nif [ \"$1\" = install ] || [ \"$2\" = install ] || [[ \" $* \" == *\" install \"* ]]; then\n  if [ -x {policy} ] && ! {policy}; then echo 'policy: no starts' >>{log}; fi\n  {}\nfi",
                if apt_fails { "exit 100" } else { "true" }
            ),
        );
        for cmd in ["systemctl", "service", "pkill", "killall", "invoke-rc.d"] {
            script(&bin, cmd, &format!("echo \"{cmd} $*\" >>{log}"));
        }
        // The venv already has sagan.
        std::fs::create_dir_all(dir.join("venv/bin")).unwrap();
        script(&dir.join("venv/bin"), "python3", "exit 0");
        Sandbox { dir }
    }

    fn run(&self) -> Output {
        let path = format!(
            "{}:{}",
            self.dir.join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Command::new("bash")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/setup"))
            .env("PATH", path)
            .env("TERN_VENV", self.dir.join("venv"))
            .env("TERN_SETUP_POLICY_RC_D", self.dir.join("policy-rc.d"))
            .env("TERN_SETUP_SYSTEMD_RUN", self.dir.join("systemd"))
            .output()
            .unwrap()
    }

    fn calls(&self) -> String {
        std::fs::read_to_string(self.dir.join("calls")).unwrap_or_default()
    }
}

fn no_stops(calls: &str) {
    for l in calls.lines() {
        assert!(
            !l.starts_with("service")
                && !l.starts_with("pkill")
                && !l.starts_with("killall")
                && !l.starts_with("invoke-rc.d")
                && !l.contains("--now")
                && !l.contains(" stop")
                && !l.contains(" mask"),
            "setup stopped or changed a service: {l}\n{calls}"
        );
    }
}

#[test]
fn with_everything_installed_it_touches_no_service() {
    let s = Sandbox::new(&[], false);
    let out = s.run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls = s.calls();
    assert!(calls.contains("dpkg-query"), "{calls}");
    no_stops(&calls);
    assert!(!calls.contains("apt-get"), "{calls}");
    assert!(!calls.contains("systemctl"), "{calls}");
}

#[test]
fn what_it_installs_does_not_start_and_only_that_is_kept_from_boot() {
    let s = Sandbox::new(&["bird2", "gcc"], false);
    let out = s.run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls = s.calls();
    no_stops(&calls);
    let install = calls
        .lines()
        .find(|l| l.starts_with("apt-get") && l.contains("install"))
        .unwrap_or_else(|| panic!("no apt-get install: {calls}"));
    assert!(
        install.contains("bird2") && install.contains("gcc"),
        "{install}"
    );
    assert!(!install.contains("gobgpd"), "{install}");
    assert!(calls.contains("policy: no starts"), "{calls}");
    // BIRD, which it installed, is not enabled at boot; GoBGP and StayRTR, already there, are
    // left as they were.
    let systemctl: Vec<&str> = calls
        .lines()
        .filter(|l| l.starts_with("systemctl"))
        .collect();
    assert_eq!(systemctl, ["systemctl disable --quiet bird"], "{calls}");
    // Its temporary policy-rc.d is gone.
    assert!(!s.dir.join("policy-rc.d").exists());
}

#[test]
fn a_failed_install_fails_loudly_and_cleans_up() {
    let s = Sandbox::new(&["bird2"], true);
    let out = s.run();
    assert!(!out.status.success(), "setup hid a failed apt-get");
    no_stops(&s.calls());
    assert!(!s.dir.join("policy-rc.d").exists());
}
