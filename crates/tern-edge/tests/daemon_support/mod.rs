//! The site-daemon lab: a real BIRD 2 upstream on loopback (IPv4 and IPv6 sessions), a
//! tern.toml written for it, and the daemon running in-process (`Daemon::start`). The BIRD
//! harness (`Bird`, `TempDir`, `free_port`, `wait_for`) is the interop tests' `interop_support`,
//! reused as it is.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use crate::interop_support::{Bird, TempDir, free_port, wait_for};
use tern_edge::ctl::proto::{Request, Response};
use tern_edge::daemon::{Daemon, RunOptions};

/// Our AS.
pub const OUR_AS: u32 = 65001;
/// BIRD's AS.
pub const BIRD_AS: u32 = 65002;
/// IPv4 test prefix.
pub const P4: &str = "192.0.2.0/24";
/// IPv6 test prefix.
pub const P6: &str = "2001:db8:1::/48";

/// Generous bound for anything that involves BIRD and session set-up on a loaded CI machine.
pub const UP: Duration = Duration::from_secs(40);

/// BIRD: passive, multihop, one session per family, on its own port.
pub fn bird_conf(port: u16) -> String {
    bird_conf_md5(port, None)
}

/// [`bird_conf`] with a TCP-MD5 password on both sessions.
pub fn bird_conf_md5(port: u16, password: Option<&str>) -> String {
    let pw = password
        .map(|p| format!("password \"{p}\";"))
        .unwrap_or_default();
    let common = format!(
        "multihop; passive on; hold time 30; error wait time 1, 3; error forget time 10; \
         neighbor as {OUR_AS}; {pw}"
    );
    format!(
        r#"
router id 192.0.2.100;
protocol device {{ }}
protocol bgp tern4 {{
  local 127.0.0.1 port {port} as {BIRD_AS};
  neighbor 127.0.0.1;
  {common}
  ipv4 {{ import all; export none; }};
}}
protocol bgp tern6 {{
  local ::1 port {port} as {BIRD_AS};
  neighbor ::1;
  {common}
  ipv6 {{ import all; export none; }};
}}
"#
    )
}

/// What varies between the tests' tern.toml files.
#[derive(Clone, Debug)]
pub struct Knobs {
    /// Communities on the IPv4 session.
    pub communities4: Vec<String>,
    /// `on_failure` table of the service (TOML inline table), e.g.
    /// `{ action = "degrade", prepend = 2 }`.
    pub on_failure: String,
    /// `[site.lab.edge]` drain lines.
    pub drain: String,
    /// TCP-MD5 password on both sessions (BIRD's config and a password file for us).
    pub password: Option<String>,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            communities4: vec!["65002:100".into()],
            on_failure: r#"{ action = "withdraw" }"#.into(),
            drain: String::new(),
            password: None,
        }
    }
}

/// One lab: BIRD, the files, the daemon.
pub struct Lab {
    pub bird: Bird,
    pub dir: TempDir,
    pub bird_port: u16,
    pub config: PathBuf,
    pub health_file: PathBuf,
    pub drain_file: PathBuf,
    pub socket: PathBuf,
    pub daemon: Option<Daemon>,
}

/// The tern.toml of the lab.
pub fn tern_toml(lab: &Lab, k: &Knobs) -> String {
    let comms = k
        .communities4
        .iter()
        .map(|c| format!("{c:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"
[network]
name = "daemon-lab"
asn = {OUR_AS}
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
ctl_socket = "{sock}"
drain_file = "{drain}"
dns_listen = ["127.0.0.1:0"]
http_listen = ["127.0.0.1:0"]
metrics_listen = "127.0.0.1:0"
{drain_knobs}

[[site.lab.upstream]]
name = "bird4"
neighbor = "127.0.0.1"
port = {port}
remote_as = {BIRD_AS}
multihop = 2
source = "127.0.0.1"
communities = [{comms}]
{pw}

[[site.lab.upstream]]
name = "bird6"
neighbor = "::1"
port = {port}
remote_as = {BIRD_AS}
multihop = 2
source = "::1"
{pw}
large_communities = ["{OUR_AS}:1:2"]

[[service]]
name = "web"
prefixes = ["{P4}", "{P6}"]
on_failure = {on_failure}

[[service.check]]
kind = "exec"
command = ["test", "-f", "{health}"]
interval = "1s"
timeout = "500ms"
rise = 2
fall = 2
"#,
        sock = lab.socket.display(),
        drain = lab.drain_file.display(),
        drain_knobs = k.drain,
        port = lab.bird_port,
        health = lab.health_file.display(),
        on_failure = k.on_failure,
        pw = if k.password.is_some() {
            "password_file = \"md5.key\""
        } else {
            ""
        },
    )
}

impl Lab {
    /// BIRD up, health file present (service healthy), daemon started.
    pub async fn start(k: &Knobs) -> Lab {
        let bird_port = free_port();
        let bird = Bird::start(&bird_conf_md5(bird_port, k.password.as_deref()));
        let dir = TempDir::new("daemon");
        if let Some(pw) = &k.password {
            std::fs::write(dir.path().join("md5.key"), format!("{pw}\n")).unwrap();
        }
        let mut lab = Lab {
            bird,
            bird_port,
            config: dir.path().join("tern.toml"),
            health_file: dir.path().join("healthy"),
            drain_file: dir.path().join("drain"),
            socket: dir.path().join("ctl.sock"),
            dir,
            daemon: None,
        };
        lab.write_config(k);
        std::fs::write(&lab.health_file, "ok").unwrap();
        let daemon = Daemon::start(RunOptions {
            config: lab.config.clone(),
            site: "lab".into(),
            ctl_socket: None,
            signals: false,
        })
        .await
        .unwrap();
        lab.daemon = Some(daemon);
        lab
    }

    pub fn write_config(&self, k: &Knobs) {
        std::fs::write(&self.config, tern_toml(self, k)).unwrap();
    }

    pub fn daemon(&self) -> &Daemon {
        self.daemon.as_ref().unwrap()
    }

    /// Ask the daemon over its control socket.
    pub async fn ctl(&self, req: Request) -> Response {
        tern_edge::ctl::request(&self.socket, &req).await.unwrap()
    }

    /// BIRD's attributes of `prefix`, or Err when BIRD does not have it.
    pub fn route(&self, prefix: &str) -> Result<Vec<(String, String)>, String> {
        bird_route(&self.bird, prefix)
    }

    /// Wait until BIRD has `prefix` and `pred` holds for its attributes; returns them.
    pub async fn wait_route(
        &self,
        prefix: &str,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&[(String, String)]) -> bool,
    ) -> Vec<(String, String)> {
        wait_fast(&format!("{prefix} at BIRD: {what}"), timeout, || {
            let r = self.route(prefix)?;
            if pred(&r) {
                Ok(r)
            } else {
                Err(format!("{r:?}"))
            }
        })
        .await
    }

    /// Wait until BIRD does not have `prefix`; returns how long that took.
    pub async fn wait_gone(&self, prefix: &str, timeout: Duration) -> Duration {
        let t0 = Instant::now();
        wait_fast(
            &format!("{prefix} gone from BIRD"),
            timeout,
            || match self.route(prefix) {
                Ok(r) => Err(format!("still there: {r:?}")),
                Err(_) => Ok(()),
            },
        )
        .await;
        t0.elapsed()
    }

    /// The `Since` column of `show protocols NAME` (changes when the session restarts).
    pub fn since(&self, proto: &str) -> String {
        let out = self.bird.birdc(&format!("show protocols {proto}"));
        out.lines()
            .find(|l| l.starts_with(proto))
            .map(|l| {
                l.split_whitespace()
                    .skip(3)
                    .take(3)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default()
    }

    /// Both sessions Established at BIRD and both prefixes announced.
    pub async fn wait_announced(&self) {
        for proto in ["tern4", "tern6"] {
            wait_for(&format!("BIRD {proto} Established"), UP, || {
                let st = self.bird.bgp_state(proto);
                if st == "Established" { Ok(()) } else { Err(st) }
            })
            .await;
        }
        for p in [P4, P6] {
            self.wait_route(p, "announced", UP, |_| true).await;
        }
    }

    /// Structured shutdown of the daemon.
    pub async fn stop(&mut self) {
        if let Some(d) = self.daemon.take() {
            tokio::time::timeout(Duration::from_secs(10), d.shutdown())
                .await
                .expect("daemon did not stop within 10 s");
        }
    }
}

/// Like `wait_for`, polling every 20 ms (to measure times to the nearest few tens of ms).
pub async fn wait_fast<T>(
    what: &str,
    timeout: Duration,
    f: impl FnMut() -> Result<T, String>,
) -> T {
    tern_testkit::wait_for_async(what, timeout, Duration::from_millis(20), f).await
}

/// The attribute lines BIRD prints for `prefix` in `show route all`, as `name: value` pairs.
pub fn bird_route(bird: &Bird, prefix: &str) -> Result<Vec<(String, String)>, String> {
    let out = bird.try_birdc(&format!("show route all for {prefix}"))?;
    let mut lines = out.lines().skip_while(|l| !l.starts_with(prefix));
    if lines.next().is_none() {
        return Err(format!("{prefix} not in BIRD:\n{out}"));
    }
    Ok(lines
        .take_while(|l| l.starts_with('\t') || l.starts_with(' '))
        .filter_map(|l| l.trim().split_once(": "))
        .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
        .collect())
}

/// One attribute of a route.
pub fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}
