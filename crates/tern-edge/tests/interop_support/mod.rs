//! Shared by the interop and malformed-message tests: a real GoBGP under a Drop guard, our peer
//! tasks and async bounded polling; BIRD, temp dirs and ports come from tern-testkit.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::{IpAddr, SocketAddr};
use std::process::{Child, Command};
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

// The BIRD harness, temp dirs and ports are tern-testkit's; not every test binary uses each.
#[allow(unused_imports)]
pub use tern_testkit::{Bird, TempDir, free_port, require};

/// Poll `f` until it returns `Some`, at most `timeout`; panic with `what` and the last
/// observation otherwise.
pub async fn wait_for<T>(what: &str, timeout: Duration, f: impl FnMut() -> Result<T, String>) -> T {
    tern_testkit::wait_for_async(what, timeout, Duration::from_millis(100), f).await
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
