//! The health loop end to end: real checks against a local service that the test stops and
//! restarts; its reports (check states, service states) fed into the prefix machine the way the
//! announcer's core does, prefix transitions out, drains applied there.
//!
//! The health loop sends one report per change with the check states in it, so what a test (or
//! the announcer) reads about the checks is the state that caused the transition: there is no
//! separate `watch` that could still say `Up` right after a `Down` arrived (issue 15 §2: the
//! flake of `service_down_up_and_drain`).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tern_edge::probe::scheduler::{
    CheckDef, CheckStatus, HealthCommand, HealthReport, Scheduler, SchedulerError, validate,
};
use tern_health::{
    CheckKind, CheckSpec, Damping, Degrade, OnDown, PrefixPolicy, PrefixState, PrefixStates,
    PrefixTransition, ServiceBinding,
};
use tern_types::Prefix;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

fn fast(kind: CheckKind) -> CheckSpec {
    let mut s = CheckSpec::new(kind);
    // Short, but with a timeout generous enough that a loaded CI machine does not make the
    // `true` and connect checks fail spuriously.
    s.interval = Duration::from_millis(250);
    s.timeout = Duration::from_millis(240);
    s.rise = 2;
    s.fall = 2;
    s.damping = Damping {
        hold_down: Duration::from_millis(300),
        max_hold_down: Duration::from_secs(1),
        reset_after: Duration::from_secs(60),
    };
    s
}

fn policies(anycast: Prefix, unicast: Prefix) -> Vec<PrefixPolicy> {
    vec![
        PrefixPolicy {
            prefix: anycast,
            services: vec![ServiceBinding {
                service: "web".into(),
                on_down: OnDown::Withdraw,
            }],
            on_drain: OnDown::Withdraw,
        },
        PrefixPolicy {
            prefix: unicast,
            services: vec![
                ServiceBinding {
                    service: "ctl".into(),
                    on_down: OnDown::Withdraw,
                },
                ServiceBinding {
                    service: "web".into(),
                    on_down: OnDown::Degrade(Degrade {
                        prepend: 2,
                        ..Degrade::default()
                    }),
                },
            ],
            on_drain: OnDown::Withdraw,
        },
    ]
}

/// The health loop's reports applied to a prefix machine, as the announcer's core does.
struct Site {
    reports: mpsc::Receiver<HealthReport>,
    states: PrefixStates,
    /// Check states of the report that carried the latest transition.
    checks: Vec<CheckStatus>,
    seen: std::collections::VecDeque<PrefixTransition>,
}

impl Site {
    fn new(reports: mpsc::Receiver<HealthReport>, policies: Vec<PrefixPolicy>) -> Self {
        Site {
            reports,
            states: PrefixStates::new(policies, Instant::now()),
            checks: Vec::new(),
            seen: Default::default(),
        }
    }

    /// The next prefix transition (bounded wait).
    async fn next(&mut self) -> PrefixTransition {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(t) = self.seen.pop_front() {
                return t;
            }
            let r = tokio::time::timeout_at(deadline.into(), self.reports.recv())
                .await
                .expect("prefix transition within 15 s")
                .expect("health loop running");
            self.apply(r);
        }
    }

    fn apply(&mut self, r: HealthReport) {
        for s in &r.services {
            self.states
                .set_service(&s.service, s.health, &s.reason, r.at);
        }
        self.checks = r.checks;
        self.take();
    }

    fn take(&mut self) {
        while let Some(t) = self.states.poll_output() {
            self.seen.push_back(t);
        }
    }

    fn drain(&mut self, prefix: Option<&Prefix>, drained: bool) {
        self.states.set_drained(prefix, drained, Instant::now());
        self.take();
    }

    /// Wait (bounded) for the transition of `prefix` satisfying `want`.
    async fn wait_prefix(
        &mut self,
        prefix: Prefix,
        want: impl Fn(&PrefixState) -> bool,
    ) -> (PrefixState, String) {
        loop {
            let t = self.next().await;
            if t.prefix == prefix && want(&t.to) {
                return (t.to, t.why);
            }
        }
    }

    fn states(&self) -> Vec<PrefixState> {
        self.states.iter().map(|(_, s, _)| s.clone()).collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_down_up_and_drain() {
    let anycast: Prefix = "2001:db8:100::/48".parse().unwrap();
    let unicast: Prefix = "2001:db8:201::/48".parse().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let checks = vec![
        CheckDef {
            name: "web/tcp".into(),
            service: "web".into(),
            spec: fast(CheckKind::Tcp {
                host: "127.0.0.1".into(),
                port: addr.port(),
            }),
        },
        CheckDef {
            name: "ctl/exec".into(),
            service: "ctl".into(),
            spec: fast(CheckKind::Exec {
                argv: vec!["true".into()],
            }),
        },
    ];
    let sched = Scheduler::new(checks, policies(anycast, unicast), Instant::now()).unwrap();
    let (reports_tx, reports) = mpsc::channel(1024);
    let (_cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let shutdown = CancellationToken::new();
    let mut site = Site::new(reports, policies(anycast, unicast));
    assert!(site.states().iter().all(|s| *s == PrefixState::Down));
    let task = tokio::spawn(sched.run(reports_tx, cmd_rx, shutdown.clone()));

    // Both come up once their checks passed rise times (in either order).
    let mut up = std::collections::BTreeSet::new();
    while up.len() < 2 {
        let t = site.next().await;
        assert_eq!(t.to, PrefixState::Up, "{t:?}");
        up.insert(t.prefix);
    }
    // Stop the service: anycast withdrawn, unicast degraded.
    drop(listener);
    let (_, why) = site.wait_prefix(anycast, |s| *s == PrefixState::Down).await;
    assert!(
        why.contains("service web down") && why.contains("refused"),
        "{why}"
    );
    // The report that carried it shows the failing check with its latest result.
    let web = site.checks.iter().find(|c| c.name == "web/tcp").unwrap();
    assert_eq!(web.health, tern_health::Health::Down);
    assert!(!web.last_result.as_ref().unwrap().ok, "{web:?}");
    assert!(
        site.checks
            .iter()
            .any(|c| c.name == "ctl/exec" && c.health == tern_health::Health::Up)
    );
    let (s, _) = site
        .wait_prefix(unicast, |s| matches!(s, PrefixState::Degraded(_)))
        .await;
    assert_eq!(s.announcement().unwrap().prepend, 2);

    // Restart it on the same port: back up after rise and the hold-down.
    let listener = TcpListener::bind(addr).await.unwrap();
    let (_, why) = site.wait_prefix(anycast, |s| *s == PrefixState::Up).await;
    assert!(why.contains("all services up"), "{why}");
    site.wait_prefix(unicast, |s| *s == PrefixState::Up).await;

    // Drain everything, then undrain.
    site.drain(None, true);
    let (_, why) = site
        .wait_prefix(anycast, |s| *s == PrefixState::Drained(None))
        .await;
    assert!(why.contains("operator"), "{why}");
    site.drain(Some(&anycast), false);
    site.wait_prefix(anycast, |s| *s == PrefixState::Up).await;

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("health loop stops on shutdown")
        .unwrap();
    let states = site.states();
    assert_eq!(states[0], PrefixState::Up);
    assert_eq!(states[1], PrefixState::Drained(None));
    drop(listener);
}

#[test]
fn configuration_errors_are_all_reported() {
    let mut bad = CheckSpec::new(CheckKind::Exec { argv: vec![] });
    bad.fall = 0;
    let checks = vec![
        CheckDef {
            name: "a".into(),
            service: "web".into(),
            spec: bad.clone(),
        },
        CheckDef {
            name: "a".into(),
            service: "web".into(),
            spec: CheckSpec::new(CheckKind::Exec {
                argv: vec!["true".into()],
            }),
        },
    ];
    let p = |s: &str| s.parse::<Prefix>().unwrap();
    let errors = Scheduler::new(
        checks,
        policies(p("2001:db8:1::/48"), p("2001:db8:2::/48")),
        Instant::now(),
    )
    .unwrap_err();
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 4, "{text:#?}");
    assert!(errors.contains(&SchedulerError::DuplicateCheck("a".into())));
    assert!(
        text.iter()
            .any(|t| t.contains("service ctl, which has no health check"))
    );
    assert!(text.iter().any(|t| t.starts_with("check a: fall = 0")));
    assert!(text.iter().any(|t| t.contains("argv is empty")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_is_a_diff() {
    let anycast: Prefix = "2001:db8:100::/48".parse().unwrap();
    let unicast: Prefix = "2001:db8:201::/48".parse().unwrap();
    let extra: Prefix = "203.0.113.0/24".parse().unwrap();
    let exec = |name: &str, service: &str| CheckDef {
        name: name.into(),
        service: service.into(),
        spec: fast(CheckKind::Exec {
            argv: vec!["true".into()],
        }),
    };
    let checks = vec![exec("web/exec", "web"), exec("ctl/exec", "ctl")];
    let sched = Scheduler::new(checks.clone(), policies(anycast, unicast), Instant::now()).unwrap();
    let (reports_tx, reports) = mpsc::channel(1024);
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let shutdown = CancellationToken::new();
    let mut site = Site::new(reports, policies(anycast, unicast));
    let task = tokio::spawn(sched.run(reports_tx, cmd_rx, shutdown.clone()));
    let mut up = std::collections::BTreeSet::new();
    while up.len() < 2 {
        up.insert(site.next().await.prefix);
    }

    // An invalid configuration is refused whole (the announcer validates before it sends).
    assert_eq!(
        validate(&[], &policies(anycast, unicast)).len(),
        3,
        "web twice, ctl once"
    );

    // Same checks with a slower interval, plus a new prefix on the (healthy) web service:
    // the new prefix comes up at once, the old ones see no transition at all.
    let mut slower = checks.clone();
    for c in &mut slower {
        c.spec.interval = Duration::from_millis(300);
    }
    let mut pols = policies(anycast, unicast);
    pols.push(PrefixPolicy {
        prefix: extra,
        services: vec![ServiceBinding {
            service: "web".into(),
            on_down: OnDown::Withdraw,
        }],
        on_drain: OnDown::Withdraw,
    });
    assert!(validate(&slower, &pols).is_empty());
    let transitions_before: Vec<u64> = site.checks.iter().map(|c| c.transitions).collect();
    site.states.reconfigure(pols.clone(), Instant::now());
    site.take();
    cmd_tx
        .send(HealthCommand::Reload {
            checks: slower,
            prefixes: pols,
        })
        .unwrap();
    let (s, why) = site.wait_prefix(extra, |_| true).await;
    assert_eq!(s, PrefixState::Up, "{why}");
    // Let a few more checks run, then make sure nothing else moved.
    tokio::time::sleep(Duration::from_millis(500)).await;
    shutdown.cancel();
    let _sched = task.await.unwrap();
    while let Ok(r) = site.reports.try_recv() {
        site.apply(r);
    }
    assert!(site.seen.is_empty(), "{:?}", site.seen);
    assert_eq!(site.states().len(), 3);
    assert!(
        site.checks
            .iter()
            .all(|c| c.last_result.as_ref().is_some_and(|r| r.ok))
    );
    let transitions_after: Vec<u64> = site.checks.iter().map(|c| c.transitions).collect();
    assert_eq!(transitions_before, transitions_after, "no check moved");
    assert!(site.states().iter().all(|s| *s == PrefixState::Up));
}
