//! Timing an operator can see and set (issue 16 §6): per-service hold-down, per-upstream
//! `connect_retry` and `error_wait`, from tern.toml to what `tern run` runs; and one rule for
//! check timeouts, so `tern check` (tern-model's validation) and `tern run` agree.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::Duration;

use tern_edge::config::SiteConfig;
use tern_model::Severity;

fn toml(service_extra: &str, upstream_extra: &str, timeout: &str) -> String {
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
lat = 1.0
lon = 1.0
router_id = "192.0.2.1"

[[site.lab.upstream]]
name = "up"
neighbor = "::1"
remote_as = 65002
{upstream_extra}

[[service]]
name = "web"
prefixes = ["2001:db8:1::/48"]
{service_extra}

[[service.check]]
kind = "tcp"
target = "[::1]:80"
interval = "2s"
timeout = "{timeout}"
"#
    )
}

fn model(text: &str) -> tern_model::Model {
    tern_model::parse(Path::new("/lab/tern.toml"), text).unwrap()
}

fn site(text: &str) -> SiteConfig {
    let m = model(text);
    assert!(!m.has_errors(), "{:?}", m.diagnostics);
    SiteConfig::from_network(&m.network, "lab", Path::new("/lab/tern.toml")).unwrap()
}

#[test]
fn defaults_are_todays() {
    let c = site(&toml("", "", "1s"));
    let d = &c.checks[0].spec.damping;
    assert_eq!(d.hold_down, Duration::from_secs(10));
    assert_eq!(d.max_hold_down, Duration::from_secs(600));
    let s = &c.upstreams[0].peer.session;
    assert_eq!(s.connect_retry, Duration::from_secs(5));
    // None: the speaker waits connect_retry .. connect_retry_max (5 s to 120 s) after an error.
    assert_eq!(s.error_wait, None);
    assert_eq!(s.connect_retry_max, Duration::from_secs(120));
}

#[test]
fn hold_down_and_retry_timers_reach_the_daemon() {
    let c = site(&toml(
        "hold_down = \"2s\"\nhold_down_max = \"30s\"",
        "connect_retry = \"7s\"\nerror_wait = [\"3s\", \"60s\"]",
        "1s",
    ));
    let d = &c.checks[0].spec.damping;
    assert_eq!(
        (d.hold_down, d.max_hold_down),
        (Duration::from_secs(2), Duration::from_secs(30))
    );
    let s = &c.upstreams[0].peer.session;
    assert_eq!(s.connect_retry, Duration::from_secs(7));
    assert_eq!(
        s.error_wait,
        Some((Duration::from_secs(3), Duration::from_secs(60)))
    );
    // 0 turns damping off.
    let c = site(&toml("hold_down = \"0s\"", "", "1s"));
    assert_eq!(c.checks[0].spec.damping.hold_down, Duration::ZERO);
    assert!(c.checks[0].spec.validate().is_empty());
}

#[test]
fn bad_timers_are_errors_with_their_place() {
    for (svc, up, want) in [
        (
            "hold_down = \"60s\"\nhold_down_max = \"10s\"",
            "",
            "max_hold_down",
        ),
        ("hold_down = \"soon\"", "", "is not a duration"),
        ("", "connect_retry = \"500ms\"", "whole number of seconds"),
        ("", "error_wait = [\"60s\", \"5s\"]", "above its largest"),
        ("", "error_wait = [\"5s\"]", "two durations"),
    ] {
        let m = model(&toml(svc, up, "1s"));
        let errs: Vec<String> = m
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| d.to_string())
            .collect();
        assert!(
            errs.iter().any(|e| e.contains(want)),
            "{svc} {up}: {errs:?}"
        );
    }
}

#[test]
fn check_and_run_agree_on_timeouts() {
    // A timeout above the interval: `tern check` refuses it (an error, not a warning) with the
    // same text `tern run`'s check validation gives.
    let m = model(&toml("", "", "3s"));
    let d = m
        .diagnostics
        .iter()
        .find(|d| d.code == "check-timeout")
        .expect("check-timeout");
    assert_eq!(d.severity, Severity::Error);
    let spec = {
        let mut s = tern_health::CheckSpec::new(tern_health::CheckKind::Tcp {
            host: "::1".into(),
            port: 80,
        });
        s.interval = Duration::from_secs(2);
        s.timeout = Duration::from_secs(3);
        s
    };
    let run = spec.validate();
    assert_eq!(run.len(), 1);
    assert!(
        d.to_string().contains(&run[0].to_string()),
        "{d} vs {}",
        run[0]
    );
    // And the boundary is the same on both sides: equal is fine.
    assert!(!model(&toml("", "", "2s")).has_errors());
}
