//! Event-log tests: drive the machines with explicit `now` values and check every transition.

use std::time::{Duration, Instant};

use tern_health::{
    CheckKind, CheckMachine, CheckResult, CheckSpec, Damping, Degrade, Health, OnDown,
    PrefixPolicy, PrefixState, PrefixStates, ServiceBinding,
};
use tern_types::{Community, Prefix};

fn spec(rise: u32, fall: u32) -> CheckSpec {
    let mut s = CheckSpec::new(CheckKind::Tcp {
        host: "127.0.0.1".into(),
        port: 80,
    });
    s.interval = Duration::from_secs(1);
    s.timeout = Duration::from_millis(500);
    s.rise = rise;
    s.fall = fall;
    s
}

fn secs(t0: Instant, s: f64) -> Instant {
    t0 + Duration::from_secs_f64(s)
}

fn ok() -> CheckResult {
    CheckResult::ok(Duration::from_millis(3), "connected")
}

fn fail() -> CheckResult {
    CheckResult::failed(Duration::from_millis(1), "connection refused")
}

/// Feed `results` one per second starting at t0+`start`, collecting (second, health) transitions.
fn run(m: &mut CheckMachine, t0: Instant, start: u64, results: &[bool]) -> Vec<(u64, Health)> {
    let mut out = Vec::new();
    for (i, r) in results.iter().enumerate() {
        let t = start + i as u64;
        let now = secs(t0, t as f64);
        m.handle_timeout(now);
        m.check_started(now, Duration::ZERO);
        m.handle_result(if *r { ok() } else { fail() }, now);
        while let Some(tr) = m.poll_output() {
            out.push((t, tr.health));
        }
    }
    out
}

#[test]
fn starts_down_until_rise() {
    let t0 = Instant::now();
    let mut m = CheckMachine::new(&spec(3, 2), t0);
    assert_eq!(m.health(), Health::Down);
    assert!(m.reason().contains("waiting for 3"), "{}", m.reason());
    assert!(m.check_due(t0));
    assert_eq!(m.poll_timeout(), t0);
    // ok ok fail resets the count; then three oks → up at second 5 without hold-down.
    let log = run(&mut m, t0, 0, &[true, true, false, true, true, true]);
    assert_eq!(log, vec![(5, Health::Up)]);
    assert!(m.reason().contains("rise 3"), "{}", m.reason());
    assert_eq!(m.poll_timeout(), secs(t0, 6.0));
}

#[test]
fn fall_is_immediate_and_rise_waits_for_hold_down() {
    let t0 = Instant::now();
    let mut s = spec(2, 2);
    s.damping = Damping {
        hold_down: Duration::from_secs(10),
        max_hold_down: Duration::from_secs(100),
        reset_after: Duration::from_secs(900),
    };
    let mut m = CheckMachine::new(&s, t0);
    assert_eq!(run(&mut m, t0, 0, &[true, true]), vec![(1, Health::Up)]);
    // One failure is not enough; two are.
    assert_eq!(run(&mut m, t0, 2, &[false]), vec![]);
    assert_eq!(run(&mut m, t0, 3, &[false]), vec![(3, Health::Down)]);
    let why = m.reason().to_owned();
    assert!(
        why.contains("2 consecutive failures (fall 2): connection refused"),
        "{why}"
    );
    assert!(why.contains("held down 10s"), "{why}");
    // Service is back at once, but the re-announce waits until t=13.
    assert_eq!(run(&mut m, t0, 4, &[true, true]), vec![]);
    assert!(m.reason().contains("held down"), "{}", m.reason());
    // With enough successes in hand, the deadline is the end of the hold-down... or the next
    // check, whichever is first.
    assert_eq!(m.poll_timeout(), secs(t0, 6.0));
    assert_eq!(run(&mut m, t0, 6, &[true; 6]), vec![]);
    m.handle_timeout(secs(t0, 12.9));
    assert_eq!(m.poll_output(), None);
    m.handle_timeout(secs(t0, 13.0));
    let up = m.poll_output().unwrap();
    assert_eq!(up.health, Health::Up);
    assert_eq!(up.at, secs(t0, 13.0));
    assert!(up.reason.contains("after hold-down"), "{}", up.reason);
}

#[test]
fn failure_during_hold_down_resets_successes() {
    let t0 = Instant::now();
    let mut m = CheckMachine::new(&spec(2, 1), t0);
    run(&mut m, t0, 0, &[true, true, false]);
    assert_eq!(m.health(), Health::Down);
    run(&mut m, t0, 3, &[true, true, false]);
    // At t=12 (past hold-down 10s from t=2) successes = 0, so nothing happens.
    m.handle_timeout(secs(t0, 12.0));
    assert_eq!(m.poll_output(), None);
    assert_eq!(run(&mut m, t0, 12, &[true, true]), vec![(13, Health::Up)]);
}

#[test]
fn backoff_grows_with_repeated_flaps_and_decays() {
    let t0 = Instant::now();
    let mut s = spec(1, 1);
    s.damping = Damping {
        hold_down: Duration::from_secs(10),
        max_hold_down: Duration::from_secs(60),
        reset_after: Duration::from_secs(900),
    };
    let mut m = CheckMachine::new(&s, t0);
    let mut t = 0u64;
    let mut holds = Vec::new();
    // Up, then fail, then ok every second until it comes back; five flaps.
    run(&mut m, t0, t, &[true]);
    for _ in 0..5 {
        t += 1;
        let down = run(&mut m, t0, t, &[false]);
        assert_eq!(down, vec![(t, Health::Down)]);
        let down_at = t;
        loop {
            t += 1;
            if !run(&mut m, t0, t, &[true]).is_empty() {
                break;
            }
        }
        holds.push(t - down_at);
    }
    assert_eq!(holds, vec![10, 20, 40, 60, 60]);
    assert_eq!(m.flaps(), 5);
    // Up for less than reset_after, then a failure: still backed off.
    t += 899;
    run(&mut m, t0, t, &[false]);
    assert!(m.reason().contains("held down 60s"), "{}", m.reason());
    assert_eq!(m.flaps(), 6);
    // Back up after the hold-down, stable for 15 min: the next flap starts again at 10 s.
    t += 60;
    assert_eq!(run(&mut m, t0, t, &[true]), vec![(t, Health::Up)]);
    t += 900;
    run(&mut m, t0, t, &[false]);
    assert_eq!(m.flaps(), 1);
    assert!(m.reason().contains("held down 10s"), "{}", m.reason());
}

#[test]
fn flapping_input_gives_bounded_transitions() {
    // The worst input: alternating ok/fail every second for two hours, rise = fall = 1.
    let t0 = Instant::now();
    let mut m = CheckMachine::new(&spec(1, 1), t0);
    let input: Vec<bool> = (0..7200).map(|i| i % 2 == 0).collect();
    let log = run(&mut m, t0, 0, &input);
    let ups = log.iter().filter(|(_, h)| *h == Health::Up).count();
    let downs = log.len() - ups;
    // Without damping this would be 3600 ups. With the defaults (10 s doubling to 600 s):
    // hold-downs 10+20+40+80+160+320 = 630 s for the first 7 ups, then one per 600 s.
    assert!(ups <= 7 + (7200 - 630) / 600 + 1, "{ups} ups");
    eprintln!("2 h of 1 s flapping: {ups} ups, {downs} downs");
    assert!(ups >= 5, "{ups} ups: the service was healthy half the time");
    assert!(downs <= ups, "{downs} downs, {ups} ups");
    // Transitions alternate.
    for w in log.windows(2) {
        assert_ne!(w[0].1, w[1].1, "{log:?}");
    }
}

fn p(s: &str) -> Prefix {
    s.parse().unwrap()
}

fn bind(service: &str, on_down: OnDown) -> ServiceBinding {
    ServiceBinding {
        service: service.into(),
        on_down,
    }
}

fn degrade(prepend: u8, community: &str) -> OnDown {
    OnDown::Degrade(Degrade {
        prepend,
        communities: vec![community.parse::<Community>().unwrap()],
        large_communities: vec![],
    })
}

#[test]
fn prefix_states_many_to_many() {
    let t0 = Instant::now();
    let anycast = p("2001:db8:100::/48");
    let unicast = p("2001:db8:200::/48");
    let stat = p("203.0.113.0/24");
    let mut states = PrefixStates::new(
        vec![
            PrefixPolicy {
                prefix: anycast,
                services: vec![
                    bind("dns", OnDown::Withdraw),
                    bind("web", degrade(3, "64512:100")),
                    bind("api", degrade(1, "64512:200")),
                ],
                on_drain: OnDown::Withdraw,
            },
            PrefixPolicy {
                prefix: unicast,
                services: vec![bind("web", OnDown::Withdraw)],
                on_drain: degrade(5, "64512:999"),
            },
            PrefixPolicy {
                prefix: stat,
                services: vec![],
                on_drain: OnDown::Withdraw,
            },
        ],
        t0,
    );
    // Only the service-less prefix comes up at start.
    let tr = states.poll_output().unwrap();
    assert_eq!((tr.prefix, tr.to.clone()), (stat, PrefixState::Up));
    assert_eq!(states.poll_output(), None);
    assert_eq!(states.state(&anycast).unwrap().0, &PrefixState::Down);

    // dns and api up; web never up → anycast still withdrawn (degrade needs a first up).
    let t1 = t0 + Duration::from_secs(3);
    assert!(states.set_service("dns", Health::Up, "rise", t1));
    assert!(states.set_service("api", Health::Up, "rise", t1));
    assert_eq!(states.poll_output(), None);
    let (s, why) = states.state(&anycast).unwrap();
    assert_eq!(s, &PrefixState::Down);
    assert!(
        why.contains("web down") && why.contains("never up"),
        "{why}"
    );

    // web up → both prefixes up.
    states.set_service("web", Health::Up, "rise", t1);
    let ups: Vec<_> = std::iter::from_fn(|| states.poll_output()).collect();
    assert_eq!(ups.len(), 2);
    assert!(ups.iter().all(|t| t.to == PrefixState::Up));

    // web and api fail: anycast degraded with max prepend and both communities; unicast down.
    let t2 = t1 + Duration::from_secs(10);
    states.set_service("web", Health::Down, "HTTP 503", t2);
    states.set_service("api", Health::Down, "timeout", t2);
    let (s, why) = states.state(&anycast).unwrap();
    let PrefixState::Degraded(d) = s else {
        panic!("{s:?}")
    };
    assert_eq!(d.prepend, 3);
    assert_eq!(d.communities.len(), 2);
    assert!(why.contains("HTTP 503") && why.contains("timeout"), "{why}");
    assert_eq!(states.state(&unicast).unwrap().0, &PrefixState::Down);
    assert!(states.unknown_is_ignored());

    // dns fails too: withdraw wins over degrade.
    states.set_service("dns", Health::Down, "SERVFAIL", t2);
    assert_eq!(states.state(&anycast).unwrap().0, &PrefixState::Down);

    // Drain everything: drain wins over health; unicast drains by prepending.
    let n = states.set_drained(None, true, t2);
    assert_eq!(n, 3);
    assert_eq!(
        states.state(&anycast).unwrap().0,
        &PrefixState::Drained(None)
    );
    let (s, why) = states.state(&unicast).unwrap();
    assert_eq!(s.announcement().unwrap().prepend, 5);
    assert!(why.contains("operator"), "{why}");
    // Undrain one prefix: back to its health state.
    states.set_drained(Some(&stat), false, t2);
    assert_eq!(states.state(&stat).unwrap().0, &PrefixState::Up);
    let log: Vec<_> = std::iter::from_fn(|| states.poll_output()).collect();
    let last = log.last().unwrap();
    assert_eq!(
        (last.prefix, &last.from, &last.to),
        (stat, &PrefixState::Drained(None), &PrefixState::Up)
    );
}

trait Unknown {
    fn unknown_is_ignored(&mut self) -> bool;
}

impl Unknown for PrefixStates {
    fn unknown_is_ignored(&mut self) -> bool {
        !self.set_service("nope", Health::Up, "", Instant::now())
    }
}

#[test]
fn reconfigure_keeps_state() {
    let t0 = Instant::now();
    let mut m = CheckMachine::new(&spec(2, 3), t0);
    run(&mut m, t0, 0, &[true, true, false, false]);
    assert_eq!(m.health(), Health::Up);
    // A reload that only lowers fall to 2: the two failures already seen take it down now.
    let mut s = spec(2, 2);
    s.interval = Duration::from_secs(5);
    m.reconfigure(&s, secs(t0, 4.0));
    let t = m.poll_output().unwrap();
    assert_eq!((t.health, t.at), (Health::Down, secs(t0, 4.0)));
    assert!(t.reason.contains("fall lowered by reload"), "{}", t.reason);
    // The next run is due at the old time (t=4), not pushed out.
    assert!(m.poll_timeout() <= secs(t0, 4.0));

    // Prefix states: a reload that keeps the prefix and service keeps them Up, no transition.
    let a = p("2001:db8:100::/48");
    let b = p("2001:db8:200::/48");
    let pol = |prefix: Prefix, service: &str| PrefixPolicy {
        prefix,
        services: vec![bind(service, OnDown::Withdraw)],
        on_drain: OnDown::Withdraw,
    };
    let mut states = PrefixStates::new(vec![pol(a, "web")], t0);
    states.set_service("web", Health::Up, "rise", t0);
    states.set_drained(Some(&a), true, t0);
    while states.poll_output().is_some() {}
    states.reconfigure(vec![pol(a, "web"), pol(b, "dns")], t0);
    assert_eq!(
        states.poll_output(),
        None,
        "nothing changed for {a}; {b} starts down"
    );
    assert_eq!(states.state(&a).unwrap().0, &PrefixState::Drained(None));
    assert_eq!(states.state(&b).unwrap().0, &PrefixState::Down);
    // Undrain: up again, because web kept its health across the reload.
    states.set_drained(None, false, t0);
    assert_eq!(states.state(&a).unwrap().0, &PrefixState::Up);
}
