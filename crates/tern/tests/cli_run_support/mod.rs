//! A small BIRD 2 harness for the black-box `tern run` tests: a trimmed copy of
//! crates/tern-edge/tests/interop_support (temp dir, free port, BIRD under a Drop guard, birdc),
//! since integration tests of one crate cannot import another crate's test modules.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::TcpListener;
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
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A TCP port free on both 127.0.0.1 and ::1 right now.
pub fn free_port() -> u16 {
    loop {
        let l4 = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l4.local_addr().unwrap().port();
        if TcpListener::bind(("::1", port)).is_ok() {
            return port;
        }
    }
}

/// Poll `f` every 20 ms until it is Ok, at most `timeout`.
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

/// A BIRD 2 process in the foreground, killed on drop.
pub struct Bird {
    child: Option<Child>,
    pub dir: TempDir,
    sock: PathBuf,
}

impl Bird {
    pub fn start(conf: &str) -> Self {
        let dir = TempDir::new("cli-bird");
        let conf_path = dir.path().join("bird.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let sock = dir.path().join("bird.ctl");
        let log = std::fs::File::create(dir.path().join("bird.log")).unwrap();
        let child = Command::new("bird")
            .arg("-c")
            .arg(&conf_path)
            .arg("-s")
            .arg(&sock)
            .arg("-P")
            .arg(dir.path().join("bird.pid"))
            .arg("-f")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("BIRD 2 (bird2) must be installed for the tern run tests");
        let b = Bird {
            child: Some(child),
            dir,
            sock,
        };
        wait_for("BIRD up", Duration::from_secs(10), || {
            b.try_birdc("show status").and_then(|s| {
                if s.contains("Daemon is up") {
                    Ok(())
                } else {
                    Err(s)
                }
            })
        });
        b
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
}

impl Drop for Bird {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
