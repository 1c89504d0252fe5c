//! The health loop end to end: real checks against a local service that the test stops and
//! restarts, prefix transitions out, drains in.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tern_edge::probe::scheduler::{
    CheckDef, HealthCommand, HealthEvent, Scheduler, SchedulerError,
};
use tern_health::{
    CheckKind, CheckSpec, Damping, Degrade, OnDown, PrefixPolicy, PrefixState, ServiceBinding,
};
use tern_types::Prefix;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
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

/// Wait (bounded) for the prefix event satisfying `want`; returns the events seen on the way.
async fn wait_prefix(
    rx: &mut mpsc::Receiver<HealthEvent>,
    prefix: Prefix,
    want: impl Fn(&PrefixState) -> bool,
) -> (PrefixState, String) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let ev = tokio::time::timeout_at(deadline.into(), rx.recv())
            .await
            .expect("prefix transition within 15 s")
            .expect("health loop running");
        if let HealthEvent::Prefix(t) = ev {
            if t.prefix == prefix && want(&t.to) {
                return (t.to, t.why);
            }
        }
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
    assert!(
        sched
            .prefix_states()
            .iter()
            .all(|(_, s, _)| *s == PrefixState::Down)
    );
    let (ev_tx, mut ev) = mpsc::channel(1024);
    let (cmd_tx, cmd_rx) = mpsc::channel(8);
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(sched.run(ev_tx, cmd_rx, shutdown.clone()));

    // Both come up once their checks passed rise times (in either order).
    let mut up = std::collections::BTreeSet::new();
    while up.len() < 2 {
        let ev = tokio::time::timeout(Duration::from_secs(15), ev.recv())
            .await
            .expect("both prefixes up within 15 s")
            .unwrap();
        if let HealthEvent::Prefix(t) = ev {
            assert_eq!(t.to, PrefixState::Up, "{t:?}");
            up.insert(t.prefix);
        }
    }
    // Stop the service: anycast withdrawn, unicast degraded.
    drop(listener);
    let (_, why) = wait_prefix(&mut ev, anycast, |s| *s == PrefixState::Down).await;
    assert!(
        why.contains("service web down") && why.contains("refused"),
        "{why}"
    );
    let (s, _) = wait_prefix(&mut ev, unicast, |s| matches!(s, PrefixState::Degraded(_))).await;
    assert_eq!(s.announcement().unwrap().prepend, 2);

    // Restart it on the same port: back up after rise and the hold-down.
    let listener = TcpListener::bind(addr).await.unwrap();
    let (_, why) = wait_prefix(&mut ev, anycast, |s| *s == PrefixState::Up).await;
    assert!(why.contains("all services up"), "{why}");
    wait_prefix(&mut ev, unicast, |s| *s == PrefixState::Up).await;

    // Drain everything, then undrain.
    cmd_tx
        .send(HealthCommand::Drain {
            prefix: None,
            drained: true,
        })
        .await
        .unwrap();
    let (_, why) = wait_prefix(&mut ev, anycast, |s| *s == PrefixState::Drained(None)).await;
    assert!(why.contains("operator"), "{why}");
    cmd_tx
        .send(HealthCommand::Drain {
            prefix: Some(anycast),
            drained: false,
        })
        .await
        .unwrap();
    wait_prefix(&mut ev, anycast, |s| *s == PrefixState::Up).await;

    shutdown.cancel();
    let sched = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("health loop stops on shutdown")
        .unwrap();
    let states = sched.prefix_states();
    assert_eq!(states[0].1, PrefixState::Up);
    assert_eq!(states[1].1, PrefixState::Drained(None));
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
    let (ev_tx, mut ev) = mpsc::channel(1024);
    let (cmd_tx, cmd_rx) = mpsc::channel(8);
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(sched.run(ev_tx, cmd_rx, shutdown.clone()));
    let mut up = std::collections::BTreeSet::new();
    while up.len() < 2 {
        if let HealthEvent::Prefix(t) = tokio::time::timeout(Duration::from_secs(15), ev.recv())
            .await
            .expect("both prefixes up within 15 s")
            .unwrap()
        {
            up.insert(t.prefix);
        }
    }

    // An invalid configuration is refused whole.
    let (reply, outcome) = oneshot::channel();
    cmd_tx
        .send(HealthCommand::Reload {
            checks: vec![],
            prefixes: policies(anycast, unicast),
            reply,
        })
        .await
        .unwrap();
    assert_eq!(
        outcome.await.unwrap().unwrap_err().len(),
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
    let (reply, outcome) = oneshot::channel();
    cmd_tx
        .send(HealthCommand::Reload {
            checks: slower,
            prefixes: pols,
            reply,
        })
        .await
        .unwrap();
    outcome.await.unwrap().unwrap();
    let (s, why) = wait_prefix(&mut ev, extra, |_| true).await;
    assert_eq!(s, PrefixState::Up, "{why}");
    // Let a few more checks run, then make sure nothing else moved.
    tokio::time::sleep(Duration::from_millis(500)).await;
    shutdown.cancel();
    let sched = task.await.unwrap();
    while let Ok(e) = ev.try_recv() {
        assert!(
            !matches!(
                e,
                HealthEvent::Prefix(_) | HealthEvent::CheckTransition { .. }
            ),
            "{e:?}"
        );
    }
    assert!(
        sched
            .prefix_states()
            .iter()
            .all(|(_, s, _)| *s == PrefixState::Up)
    );
}
