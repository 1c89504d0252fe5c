//! Shared by the interop and malformed-message tests: temp dirs, free ports, real BIRD 2 and
//! GoBGP daemons under Drop guards, our peer tasks, and bounded polling.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::{IpAddr, SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use tern_bgp::session::{SessionConfig, State};
use tern_edge::peer::{Listener, PeerConfig, PeerHandle, PeerStatus, TransportConfig, spawn_peer};
use tern_types::Asn;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Our AS in every test.
pub const OUR_AS: u32 = 65001;
/// The daemon's AS in every test.
pub const PEER_AS: u32 = 65002;

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

/// Poll `f` until it returns `Some`, at most `timeout`; panic with `what` and the last
/// observation otherwise.
pub async fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut f: impl FnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match f() {
            Ok(v) => return v,
            Err(last) if Instant::now() > deadline => {
                panic!("timed out after {timeout:?} waiting for {what}; last: {last}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

fn require(bin: &str) {
    let ok = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {bin}"))
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "{bin} is not installed: the interop tests need BIRD 2 (bird2) and gobgpd"
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

/// A gobgpd process, killed on drop.
pub struct Gobgp {
    child: Option<Child>,
    pub dir: TempDir,
    pub api_port: u16,
}

impl Gobgp {
    pub fn start(conf_toml: &str) -> Self {
        require("gobgpd");
        let dir = TempDir::new("gobgp");
        let conf = dir.path().join("gobgpd.toml");
        std::fs::write(&conf, conf_toml).unwrap();
        let api_port = free_port();
        let log = std::fs::File::create(dir.path().join("gobgpd.log")).unwrap();
        let child = Command::new("gobgpd")
            .arg("-f")
            .arg(&conf)
            .arg("-t")
            .arg("toml")
            .arg("--api-hosts")
            .arg(format!("127.0.0.1:{api_port}"))
            .arg("--pprof-disable")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let g = Gobgp {
            child: Some(child),
            dir,
            api_port,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if g.try_gobgp("global").is_ok() {
                return g;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("gobgpd did not come up; log:\n{}", g.log());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("gobgpd.log")).unwrap_or_default()
    }

    /// Kill it now (SIGKILL: the peer sees the TCP connection die).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn try_gobgp(&self, args: &str) -> Result<String, String> {
        let out = Command::new("gobgp")
            .arg("-p")
            .arg(self.api_port.to_string())
            .args(args.split_whitespace())
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    pub fn gobgp(&self, args: &str) -> String {
        self.try_gobgp(args).unwrap()
    }
}

impl Drop for Gobgp {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Our side of a test: tracker, token, listener, one peer.
pub struct Ours {
    pub tracker: TaskTracker,
    pub cancel: CancellationToken,
    pub peer: PeerHandle,
    pub listen_port: u16,
}

/// Session defaults for tests: short retry so restarts reconnect quickly, fixed jitter seed.
pub fn session_config(peer_as: u32) -> SessionConfig {
    let mut s = SessionConfig::new(Asn(OUR_AS), Asn(peer_as), "192.0.2.1".parse().unwrap());
    s.connect_retry = Duration::from_millis(500);
    s.connect_retry_max = Duration::from_secs(2);
    s.jitter_seed = 7;
    s
}

/// Start our peer towards `remote`, listening on `listen` (port 0 = pick one) for the daemon's
/// connections from `remote.ip()`.
pub fn start_ours(
    name: &str,
    listen: SocketAddr,
    remote: SocketAddr,
    session: SessionConfig,
    md5: Option<&[u8]>,
) -> Ours {
    let tracker = TaskTracker::new();
    let cancel = CancellationToken::new();
    let keys: Vec<(IpAddr, Vec<u8>)> = md5
        .map(|k| vec![(remote.ip(), k.to_vec())])
        .unwrap_or_default();
    let mut listener = Listener::bind(listen, &keys, None).unwrap();
    let listen_port = listener.local_addr().unwrap().port();
    let transport = TransportConfig {
        md5_key: md5.map(|k| k.to_vec()),
        local_addr: Some(listen.ip()),
        ..TransportConfig::default()
    };
    let peer = spawn_peer(
        PeerConfig {
            name: name.to_owned(),
            remote,
            transport,
            session,
        },
        &tracker,
        cancel.clone(),
    );
    listener.add_peer(remote.ip(), &peer);
    listener.spawn(&tracker, cancel.clone());
    Ours {
        tracker,
        cancel,
        peer,
        listen_port,
    }
}

impl Ours {
    pub fn status(&self) -> PeerStatus {
        self.peer.status.borrow().clone()
    }

    pub async fn wait_state(&self, want: State, timeout: Duration) -> PeerStatus {
        wait_for(&format!("our session {want}"), timeout, || {
            let s = self.status();
            if s.state == want {
                Ok(s)
            } else {
                Err(format!("{s:?}"))
            }
        })
        .await
    }

    /// Structured shutdown: cancel, wait for every task (bounded).
    pub async fn shutdown(self) {
        self.cancel.cancel();
        self.tracker.close();
        tokio::time::timeout(Duration::from_secs(5), self.tracker.wait())
            .await
            .expect("peer tasks did not finish within 5 s of cancellation");
    }
}

impl Drop for Ours {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}
