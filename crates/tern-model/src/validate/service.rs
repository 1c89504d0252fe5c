//! Services and their health checks: schema and validation only (the site daemon runs them).

use std::net::SocketAddr;
use std::time::Duration;

use tern_types::Prefix;
use toml::Spanned;

use super::ctx::Ctx;
use crate::defaults::{
    DEFAULT_CHECK_INTERVAL, DEFAULT_CHECK_TIMEOUT, DEFAULT_DEGRADE_PREPEND, DEFAULT_FALL,
    DEFAULT_HTTP_STATUS, DEFAULT_RISE, MAX_PREPEND,
};
use crate::diag::Severity;
use crate::network::{Check, CheckKind, FailureAction, OnFailure, PlannedPrefix, Probe, Service};
use crate::raw::{RawCheck, RawService};

/// Parses `"500ms"`, `"5s"`, `"2m"`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().ok()?;
    match unit {
        "ms" => Some(Duration::from_millis(n)),
        "s" => Some(Duration::from_secs(n)),
        "m" => n.checked_mul(60).map(Duration::from_secs),
        _ => None,
    }
}

fn duration(cx: &mut Ctx<'_>, s: Option<&Spanned<String>>, default: Duration) -> Duration {
    let Some(s) = s else { return default };
    match parse_duration(s.get_ref()) {
        Some(d) if !d.is_zero() => d,
        _ => {
            cx.error(
                "bad-duration",
                &s.span(),
                format!("{:?} is not a duration", s.get_ref()),
                "write e.g. \"500ms\", \"5s\" or \"1m\"",
            );
            default
        }
    }
}

pub(crate) fn service(
    cx: &mut Ctx<'_>,
    rs: &Spanned<RawService>,
    plan: &[PlannedPrefix],
) -> Option<Service> {
    let span = rs.span();
    let rs = rs.get_ref();
    let hold = |cx: &mut Ctx<'_>, v: Option<&Spanned<String>>| {
        let v = v?;
        let d = parse_duration(v.get_ref());
        if d.is_none() {
            cx.error(
                "bad-duration",
                &v.span(),
                format!("{:?} is not a duration", v.get_ref()),
                "write e.g. \"10s\", \"10m\", or \"0s\" to turn damping off",
            );
        }
        d
    };
    let hold_down = hold(cx, rs.hold_down.as_ref());
    let hold_down_max = hold(cx, rs.hold_down_max.as_ref());
    let damping = tern_health::Damping {
        hold_down: hold_down.unwrap_or(tern_health::spec::DEFAULT_HOLD_DOWN),
        max_hold_down: hold_down_max.unwrap_or(tern_health::spec::DEFAULT_MAX_HOLD_DOWN),
        ..tern_health::Damping::default()
    };
    let mut prefixes = Vec::new();
    for p in &rs.prefixes {
        let Some(v) = cx.parse::<Prefix>("bad-prefix", p) else {
            continue;
        };
        if !plan.iter().any(|x| x.prefix == v) {
            cx.error(
                "service-prefix-unknown",
                &p.span(),
                format!(
                    "service {} depends on {v}, which is not in the prefix plan",
                    rs.name.get_ref()
                ),
                "list a prefix from [[prefix]]",
            );
        }
        prefixes.push(v);
    }
    if prefixes.is_empty() {
        cx.push(
            Severity::Warning,
            "service-no-prefixes",
            &span,
            format!("service {} gates no prefix", rs.name.get_ref()),
            "add prefixes = [\"...\"]",
        );
    }
    if rs.checks.is_empty() {
        cx.push(
            Severity::Warning,
            "service-no-checks",
            &span,
            format!(
                "service {} has no health check, so it is always healthy",
                rs.name.get_ref()
            ),
            format!("add a [[service.check]] for {}", rs.name.get_ref()),
        );
    }
    // The service's damping goes through the timing rule with its first check (reported once).
    let plain = tern_health::Damping::default();
    let checks = rs
        .checks
        .iter()
        .enumerate()
        .filter_map(|(i, c)| check(cx, c, if i == 0 { &damping } else { &plain }))
        .collect();
    let on_failure = match &rs.on_failure {
        None => OnFailure::Withdraw,
        Some(f) => {
            let fspan = f.span();
            let f = f.get_ref();
            let (communities, large_communities) =
                cx.communities(&f.communities, &f.large_communities);
            match f.action {
                FailureAction::Withdraw => {
                    if f.prepend.is_some()
                        || !communities.is_empty()
                        || !large_communities.is_empty()
                    {
                        cx.error(
                            "bad-on-failure",
                            &fspan,
                            "withdraw takes no prepend or communities",
                            "remove them, or use action = \"degrade\"",
                        );
                    }
                    OnFailure::Withdraw
                }
                FailureAction::Degrade => {
                    let prepend = f.prepend.unwrap_or(
                        if communities.is_empty() && large_communities.is_empty() {
                            DEFAULT_DEGRADE_PREPEND
                        } else {
                            0
                        },
                    );
                    if prepend > MAX_PREPEND {
                        cx.error(
                            "bad-on-failure",
                            &fspan,
                            format!("prepend {prepend} is more than {MAX_PREPEND}"),
                            "prepend 1 to 3 times is usually enough",
                        );
                    }
                    OnFailure::Degrade {
                        prepend,
                        communities,
                        large_communities,
                    }
                }
            }
        }
    };
    Some(Service {
        name: rs.name.get_ref().clone(),
        prefixes,
        checks,
        on_failure,
        hold_down,
        hold_down_max,
    })
}

fn check(
    cx: &mut Ctx<'_>,
    rc: &Spanned<RawCheck>,
    damping: &tern_health::Damping,
) -> Option<Check> {
    let span = rc.span();
    let rc = rc.get_ref();
    let kind = *rc.kind.get_ref();
    let interval = duration(cx, rc.interval.as_ref(), DEFAULT_CHECK_INTERVAL);
    let timeout = duration(cx, rc.timeout.as_ref(), DEFAULT_CHECK_TIMEOUT);
    // The rule `tern run` applies, from the same function: an error here as there.
    for e in tern_health::spec::timing_errors(interval, timeout, damping) {
        let code = match e {
            tern_health::CheckSpecError::HoldDownOrder { .. } => "bad-hold-down",
            _ => "check-timeout",
        };
        let fix = if code == "bad-hold-down" {
            "make hold_down_max at least hold_down"
        } else {
            "make timeout shorter than interval"
        };
        cx.error(code, &span, e.to_string(), fix);
    }
    let mut count = |v: &Option<Spanned<u32>>, default: u32, what: &str| match v {
        Some(n) if *n.get_ref() == 0 => {
            cx.error(
                "bad-check",
                &n.span(),
                format!("{what} = 0 never changes state"),
                format!("use {what} = 1 or more"),
            );
            default
        }
        Some(n) => *n.get_ref(),
        None => default,
    };
    let rise = count(&rc.rise, DEFAULT_RISE, "rise");
    let fall = count(&rc.fall, DEFAULT_FALL, "fall");
    let stray = |cx: &mut Ctx<'_>, present: bool, field: &str| {
        if present {
            cx.error(
                "bad-check",
                &span,
                format!("{field} has no meaning for kind = \"{kind:?}\""),
                format!("remove {field}"),
            );
        }
    };
    stray(cx, rc.query.is_some() && kind != CheckKind::Dns, "query");
    stray(
        cx,
        rc.command.is_some() && kind != CheckKind::Exec,
        "command",
    );
    stray(
        cx,
        rc.expect_status.is_some() && kind != CheckKind::Http,
        "expect_status",
    );
    stray(cx, rc.target.is_some() && kind == CheckKind::Exec, "target");
    let need_target = |cx: &mut Ctx<'_>| -> Option<Spanned<String>> {
        match &rc.target {
            Some(t) => Some(t.clone()),
            None => {
                cx.error(
                    "bad-check",
                    &span,
                    format!("a {kind:?} check needs a target"),
                    "add target = \"...\"",
                );
                None
            }
        }
    };
    let sockaddr = |cx: &mut Ctx<'_>, t: &Spanned<String>| -> Option<SocketAddr> {
        match t.get_ref().parse() {
            Ok(a) => Some(a),
            Err(_) => {
                cx.error(
                    "bad-check",
                    &t.span(),
                    format!("{:?} is not ADDRESS:PORT", t.get_ref()),
                    "write e.g. \"192.0.2.1:53\" or \"[2001:db8::1]:53\"",
                );
                None
            }
        }
    };
    let probe = match kind {
        CheckKind::Http => {
            let t = need_target(cx)?;
            let url = t.get_ref();
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                cx.error(
                    "bad-check",
                    &t.span(),
                    format!("{url:?} is not an http:// or https:// URL"),
                    "write e.g. \"http://[2001:db8::1]/health\"",
                );
                return None;
            }
            Probe::Http {
                url: url.clone(),
                expect_status: rc
                    .expect_status
                    .as_ref()
                    .map(|s| *s.get_ref())
                    .unwrap_or(DEFAULT_HTTP_STATUS),
            }
        }
        CheckKind::Tcp => {
            let t = need_target(cx)?;
            Probe::Tcp {
                addr: sockaddr(cx, &t)?,
            }
        }
        CheckKind::Dns => {
            let t = need_target(cx)?;
            let server = sockaddr(cx, &t)?;
            let Some(q) = &rc.query else {
                cx.error(
                    "bad-check",
                    &span,
                    "a dns check needs query = \"name\"",
                    "add query = \"example.com\"",
                );
                return None;
            };
            Probe::Dns {
                server,
                query: q.get_ref().clone(),
            }
        }
        CheckKind::Exec => match &rc.command {
            Some(c) if !c.get_ref().is_empty() => Probe::Exec {
                command: c.get_ref().clone(),
            },
            _ => {
                cx.error(
                    "bad-check",
                    &span,
                    "an exec check needs command = [\"program\", \"arg\", ...]",
                    "add command",
                );
                return None;
            }
        },
    };
    Some(Check {
        probe,
        interval,
        timeout,
        rise,
        fall,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("5s"), Some(Duration::from_secs(5)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("5"), None);
        assert_eq!(parse_duration("s"), None);
        assert_eq!(parse_duration("5h"), None);
    }
}
