//! Test support shared by every crate's tests: temporary directories, free ports, bounded
//! polling, a BIRD 2 process under a Drop guard with birdc, and where test data comes from
//! (committed fixtures, the full public data when present, Python with sagan).
//! A dev-dependency only; nothing in a shipped binary uses it.
#![allow(clippy::unwrap_used, missing_debug_implementations)]

pub mod bgp;
mod data;

pub use data::{fixture, full_data, repo_root, sagan_python, shared_data_dir};

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "tern-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    /// The directory itself.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// A path inside it.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Writes `text` to `name` inside it and returns the path as text.
    pub fn write(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A TCP port free on both 127.0.0.1 and ::1 right now (the OS picks it, so parallel tests do
/// not collide).
pub fn free_port() -> u16 {
    loop {
        let l4 = StdListener::bind("127.0.0.1:0").unwrap();
        let port = l4.local_addr().unwrap().port();
        if StdListener::bind(("::1", port)).is_ok() {
            return port;
        }
    }
}

/// Poll `f` every 20 ms until it is Ok, at most `timeout`; panic with `what` and the last
/// observation otherwise. Async tests use [`wait_for_async`].
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match f() {
            Ok(v) => return v,
            Err(last) if Instant::now() > deadline => {
                panic!("timed out after {timeout:?} waiting for {what}; last: {last}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// [`wait_for`] for async tests: polls `f` every `every`, sleeping on tokio between tries.
pub async fn wait_for_async<T>(
    what: &str,
    timeout: Duration,
    every: Duration,
    mut f: impl FnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match f() {
            Ok(v) => return v,
            Err(last) if Instant::now() > deadline => {
                panic!("timed out after {timeout:?} waiting for {what}; last: {last}")
            }
            Err(_) => tokio::time::sleep(every).await,
        }
    }
}

/// Panics with a clear message unless `bin` is on PATH.
pub fn require(bin: &str) {
    let ok = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {bin}"))
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "{bin} is not installed: these tests need BIRD 2 (bird2) and gobgpd (scripts/setup installs them)"
    );
}

/// A BIRD 2 process in the foreground, killed on drop.
pub struct Bird {
    child: Option<Child>,
    pub dir: TempDir,
    conf: PathBuf,
    sock: PathBuf,
}

impl Bird {
    pub fn start(conf: &str) -> Self {
        require("bird");
        let dir = TempDir::new("bird");
        let conf_path = dir.path().join("bird.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let sock = dir.path().join("bird.ctl");
        let mut b = Bird {
            child: None,
            dir,
            conf: conf_path,
            sock,
        };
        b.spawn();
        b
    }

    fn spawn(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("bird.log")).unwrap();
        let child = Command::new("bird")
            .arg("-c")
            .arg(&self.conf)
            .arg("-s")
            .arg(&self.sock)
            .arg("-P")
            .arg(self.dir.path().join("bird.pid"))
            .arg("-f")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self
                .try_birdc("show status")
                .is_ok_and(|s| s.contains("Daemon is up"))
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("BIRD did not come up; log:\n{}", self.log());
    }

    /// Kill it (SIGKILL: no NOTIFICATION, the peer sees the TCP connection die).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(&self.sock);
    }

    /// Kill and start again with the same configuration.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("bird.log")).unwrap_or_default()
    }

    pub fn try_birdc(&self, cmd: &str) -> Result<String, String> {
        let out = Command::new("birdc")
            .arg("-s")
            .arg(&self.sock)
            .args(cmd.split_whitespace())
            .stdin(Stdio::null())
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    pub fn birdc(&self, cmd: &str) -> String {
        self.try_birdc(cmd).unwrap()
    }

    /// Does BIRD have a route for `prefix`? Returns its `show route all` text.
    pub fn route(&self, prefix: &str) -> Result<String, String> {
        let out = self.try_birdc(&format!("show route all for {prefix}"))?;
        if out.lines().any(|l| l.starts_with(prefix)) {
            Ok(out)
        } else {
            Err(out)
        }
    }

    /// The `BGP state:` line of `show protocols all NAME`.
    pub fn bgp_state(&self, proto: &str) -> String {
        let out = self
            .try_birdc(&format!("show protocols all {proto}"))
            .unwrap_or_default();
        out.lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("BGP state:")
                    .map(|s| s.trim().to_owned())
            })
            .unwrap_or_default()
    }
}

impl Drop for Bird {
    fn drop(&mut self) {
        self.kill();
    }
}
