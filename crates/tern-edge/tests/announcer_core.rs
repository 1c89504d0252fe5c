//! The announcer's sans-IO core driven by replayable event logs (STYLE habit 11): no tokio, no
//! sockets, a `now` that the log advances. Each step is an input and the outputs it must give,
//! written as text; a failing step names itself.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use tern_edge::announcer::core::{Core, DrainScope, Output, ReloadError};
use tern_edge::config::SiteConfig;
use tern_edge::probe::scheduler::{HealthReport, ServiceHealth};
use tern_health::Health;

/// Site `lab`: an IPv4 and an IPv6 anycast prefix and a unicast IPv6 one; web4 degrades the
/// IPv4 prefix, dns4 withdraws it, web6 withdraws the IPv6 anycast; the unicast one has no
/// service (a static announcement). Drains prepend 2.
fn toml(community: &str, hold: &str) -> String {
    format!(
        r#"
[network]
asn = 65001
allocations = ["2001:db8::/32", "192.0.2.0/24"]
lab = true

[[prefix]]
prefix = "192.0.2.0/24"
role = "anycast"

[[prefix]]
prefix = "2001:db8:1::/48"
role = "anycast"

[[prefix]]
prefix = "2001:db8:201::/48"
role = "unicast"
site = "lab"

[site.lab]
code = "tst"
lat = 1.0
lon = 1.0
router_id = "192.0.2.1"

[site.lab.edge]
ctl_socket = "/nonexistent/ctl.sock"
drain = "prepend"
drain_prepend = 2

[[site.lab.upstream]]
name = "up4"
neighbor = "127.0.0.1"
port = 9
remote_as = 65002
communities = ["{community}"]
{hold}

[[site.lab.upstream]]
name = "up6"
neighbor = "::1"
port = 9
remote_as = 65003
large_communities = ["65001:1:2"]

[[service]]
name = "web4"
prefixes = ["192.0.2.0/24"]
on_failure = {{ action = "degrade", prepend = 1, communities = ["65002:666"] }}

[[service.check]]
kind = "tcp"
target = "127.0.0.1:9"

[[service]]
name = "dns4"
prefixes = ["192.0.2.0/24"]

[[service.check]]
kind = "tcp"
target = "127.0.0.1:10"

[[service]]
name = "web6"
prefixes = ["2001:db8:1::/48"]

[[service.check]]
kind = "tcp"
target = "[::1]:9"
"#
    )
}

fn config(text: &str) -> SiteConfig {
    let model = tern_model::parse(Path::new("/lab/tern.toml"), text).unwrap();
    assert!(!model.has_errors(), "{:?}", model.diagnostics);
    SiteConfig::from_network(&model.network, "lab", Path::new("/lab/tern.toml")).unwrap()
}

/// One input of the log.
enum Ev {
    /// Services now up/down (one report).
    Health(&'static [(&'static str, bool)]),
    Drain(DrainScope, bool),
    DrainFile(&'static [&'static str]),
    Reload(String),
    Stopped(&'static str),
    /// Advance the clock and fire due timeouts.
    Wait(Duration),
}

/// Outputs as text: `up4: 192.0.2.0/24 +1 65002:100,65002:666`, `stop up4`, …
fn render(o: &Output) -> String {
    match o {
        Output::Start(u) => format!("start {}", u.name),
        Output::Routes { upstream, routes } => {
            let r: Vec<String> = routes
                .iter()
                .map(|(p, a)| {
                    let c: Vec<String> = a
                        .communities
                        .iter()
                        .map(|c| c.to_string())
                        .chain(a.large_communities.iter().map(|c| c.to_string()))
                        .collect();
                    format!("{p} +{} {}", a.prepend, c.join(","))
                })
                .collect();
            format!("{upstream}: {}", r.join("; "))
        }
        Output::Stop { upstream, message } => format!("stop {upstream} ({message})"),
        Output::Abort { upstream } => format!("abort {upstream}"),
        Output::HealthReload { checks, .. } => format!("health reload ({} checks)", checks.len()),
        _ => "other".into(),
    }
}

struct Log {
    core: Core,
    now: Instant,
}

impl Log {
    fn new() -> Self {
        let now = Instant::now();
        let mut core = Core::new(config(&toml("65002:100", "")), now);
        let first = drain(&mut core);
        // Start: both sessions; the unicast prefix (no services) is announced at once, the
        // anycast ones are withdrawn until their services are up.
        assert_eq!(
            first,
            [
                "start up4",
                "start up6",
                "up6: 2001:db8:201::/48 +0 65001:1:2"
            ],
            "start"
        );
        Log { core, now }
    }

    fn step(&mut self, what: &str, ev: Ev, want: &[&str]) -> Vec<String> {
        let now = self.now;
        let mut reply = Vec::new();
        match ev {
            Ev::Health(services) => self.core.handle_health(
                HealthReport {
                    at: now,
                    checks: Vec::new(),
                    services: services
                        .iter()
                        .map(|(s, up)| ServiceHealth {
                            service: (*s).to_owned(),
                            health: if *up { Health::Up } else { Health::Down },
                            reason: if *up { "all checks up" } else { "refused" }.into(),
                        })
                        .collect(),
                },
                now,
            ),
            Ev::Drain(scope, drained) => match self.core.handle_drain(scope, drained, now) {
                Ok(ps) => reply.push(format!(
                    "matched {}",
                    ps.iter()
                        .map(|p| p.to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                )),
                Err(e) => reply.push(format!("refused: {e}")),
            },
            Ev::DrainFile(set) => {
                let set = set
                    .iter()
                    .map(|s| (*s != "all").then(|| s.parse().unwrap()))
                    .collect();
                self.core.handle_drain_file(set, now);
            }
            Ev::Reload(text) => match self.core.handle_reload(Ok(config(&text)), now) {
                Ok(lines) => reply.extend(lines),
                Err(e) => reply.push(format!("refused: {e}")),
            },
            Ev::Stopped(u) => self.core.handle_peer_stopped(u, 1, now),
            Ev::Wait(d) => {
                self.now += d;
                self.core.handle_timeout(self.now);
            }
        }
        let got = drain(&mut self.core);
        assert_eq!(got, want, "step: {what}");
        reply
    }
}

fn drain(core: &mut Core) -> Vec<String> {
    std::iter::from_fn(|| core.poll_output())
        .map(|o| render(&o))
        .collect()
}

const V4: &str = "192.0.2.0/24";
const V6: &str = "2001:db8:1::/48";
const UNI: &str = "2001:db8:201::/48";

#[test]
fn health_degrade_withdraw_and_drains() {
    let mut log = Log::new();
    log.step(
        "all services up: each family on its own session with its communities",
        Ev::Health(&[("web4", true), ("dns4", true), ("web6", true)]),
        &[
            "up4: 192.0.2.0/24 +0 65002:100",
            "up6: 2001:db8:1::/48 +0 65001:1:2; 2001:db8:201::/48 +0 65001:1:2",
        ],
    );
    assert!(log.core.reaction().count >= 1);
    log.step(
        "web4 down: IPv4 degraded with its prepend and extra community",
        Ev::Health(&[("web4", false)]),
        &["up4: 192.0.2.0/24 +1 65002:100,65002:666"],
    );
    log.step(
        "dns4 down too: IPv4 withdrawn, the IPv6 session untouched",
        Ev::Health(&[("dns4", false)]),
        &["up4: "],
    );
    log.step(
        "a repeated report changes nothing",
        Ev::Health(&[("dns4", false)]),
        &[],
    );
    log.step(
        "both back",
        Ev::Health(&[("web4", true), ("dns4", true)]),
        &["up4: 192.0.2.0/24 +0 65002:100"],
    );

    // `tern ctl drain` without a prefix: the service prefixes, not the unicast one (16.9).
    let r = log.step(
        "drain without a prefix keeps the unicast prefix",
        Ev::Drain(DrainScope::Service, true),
        &[
            "up4: 192.0.2.0/24 +2 65002:100",
            "up6: 2001:db8:1::/48 +2 65001:1:2; 2001:db8:201::/48 +0 65001:1:2",
        ],
    );
    assert_eq!(r, [format!("matched {V4},{V6}")]);
    let p = log.core.prefix(&V4.parse().unwrap()).unwrap();
    assert!(p.why.contains("operator"), "{}", p.why);
    // One step, no round trip: a health change under a drain changes nothing on the wire.
    log.step(
        "a service failing under a drain",
        Ev::Health(&[("web6", false)]),
        &[],
    );
    log.step(
        "undrain: v4 back; v6 now withdrawn since web6 is down",
        Ev::Drain(DrainScope::Service, false),
        &[
            "up4: 192.0.2.0/24 +0 65002:100",
            "up6: 2001:db8:201::/48 +0 65001:1:2",
        ],
    );
    log.step(
        "web6 up",
        Ev::Health(&[("web6", true)]),
        &["up6: 2001:db8:1::/48 +0 65001:1:2; 2001:db8:201::/48 +0 65001:1:2"],
    );
    let r = log.step(
        "drain --all takes the unicast prefix too",
        Ev::Drain(DrainScope::All, true),
        &[
            "up4: 192.0.2.0/24 +2 65002:100",
            "up6: 2001:db8:1::/48 +2 65001:1:2; 2001:db8:201::/48 +2 65001:1:2",
        ],
    );
    assert_eq!(r, [format!("matched {V4},{V6},{UNI}")]);
    assert_eq!(log.core.drains().0, vec![None]);
    log.step(
        "undrain one prefix of an all-drain: the others stay drained",
        Ev::Drain(DrainScope::Prefix(V4.parse().unwrap()), false),
        &["up4: 192.0.2.0/24 +0 65002:100"],
    );
    log.step(
        "the drain file drains v4",
        Ev::DrainFile(&[V4]),
        &["up4: 192.0.2.0/24 +2 65002:100"],
    );
    log.step(
        "ctl undrain --all: the file's drain stays",
        Ev::Drain(DrainScope::All, false),
        &["up6: 2001:db8:1::/48 +0 65001:1:2; 2001:db8:201::/48 +0 65001:1:2"],
    );
    log.step(
        "drain file emptied",
        Ev::DrainFile(&[]),
        &["up4: 192.0.2.0/24 +0 65002:100"],
    );
    let r = log.step(
        "an unknown prefix is refused",
        Ev::Drain(DrainScope::Prefix("2001:db8:9::/48".parse().unwrap()), true),
        &[],
    );
    assert!(r[0].starts_with("refused: 2001:db8:9::/48 is not announced by site lab"));
    log.core.clear_routes();
    assert!(log.core.upstreams().iter().all(|u| u.wanted.is_empty()));
}

#[test]
fn reload_reset_does_not_block_a_withdrawal() {
    let mut log = Log::new();
    log.step(
        "all up",
        Ev::Health(&[("web4", true), ("dns4", true), ("web6", true)]),
        &[
            "up4: 192.0.2.0/24 +0 65002:100",
            "up6: 2001:db8:1::/48 +0 65001:1:2; 2001:db8:201::/48 +0 65001:1:2",
        ],
    );
    // A refused reload changes nothing (validated before anything changes).
    let mut bad = config(&toml("65002:100", ""));
    bad.prefixes[0].services[0].service = "nosuch".into();
    let r = log.core.handle_reload(Ok(bad), log.now);
    assert!(matches!(r, Err(ReloadError::Health(_))), "{r:?}");
    assert!(log.core.poll_output().is_none());
    assert_eq!(log.core.reloads().1, 1);

    // Hold time changes on up4: only that session is reset; attributes on up6 are not touched.
    let r = log.step(
        "reload resetting up4",
        Ev::Reload(toml("65002:100", "hold_time = 90")),
        &[
            "health reload (3 checks)",
            "stop up4 (tern: configuration changed)",
        ],
    );
    assert!(
        r.iter().any(|l| l.contains("up4: hold time changed")),
        "{r:?}"
    );
    assert!(log.core.poll_timeout().is_some());
    // While up4 stops, a withdrawal goes out on up6 at once.
    log.step(
        "web6 down while up4 is stopping",
        Ev::Health(&[("web6", false)]),
        &["up6: 2001:db8:201::/48 +0 65001:1:2"],
    );
    log.step(
        "up4 stopped: restarted with its routes",
        Ev::Stopped("up4"),
        &["start up4", "up4: 192.0.2.0/24 +0 65002:100"],
    );
    assert_eq!(log.core.upstreams()[0].resets, 1);
    assert_eq!(log.core.upstreams()[0].established_before, 1);
    assert!(log.core.poll_timeout().is_none());

    // A reset whose old task hangs is aborted at the deadline, then restarted when it ends.
    log.step(
        "reload back to the default hold time",
        Ev::Reload(toml("65002:100", "")),
        &[
            "health reload (3 checks)",
            "stop up4 (tern: configuration changed)",
        ],
    );
    log.step("not yet", Ev::Wait(Duration::from_secs(1)), &[]);
    log.step("deadline", Ev::Wait(Duration::from_secs(3)), &["abort up4"]);
    log.step("only once", Ev::Wait(Duration::from_secs(3)), &[]);
    log.step(
        "aborted task ended",
        Ev::Stopped("up4"),
        &["start up4", "up4: 192.0.2.0/24 +0 65002:100"],
    );
    assert_eq!(log.core.reloads().0, 2);
}
