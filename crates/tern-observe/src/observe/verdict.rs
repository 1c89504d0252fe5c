//! Did each intent take effect? Judged by AS paths, not communities (action communities are
//! usually stripped before collectors).
//!
//! Every typed effect a provider applies on an upstream ([`tern_model::policy::AppliedEffect`])
//! and our own prepend on a session become one [`Verdict`] per (site, upstream, effect). The
//! paths that can show it are those where the upstream's provider AS (`U`, e.g. Vultr AS20473;
//! the session's private route-server AS never shows) is adjacent to ours. On them, with `B` the
//! AS that applies the effect (`U` itself, or the carrier a `via` names):
//!
//! | effect | holds when | fails when |
//! |---|---|---|
//! | no-announce to X | no path has `X B … U us` | some path does |
//! | no-announce to all, no-export | no path has an AS before `B` | some path does |
//! | prepend n× to X (to all) | every path with `X B` (any AS before `B`) shows `B` n+1 times | one shows fewer |
//! | our prepend n× on the session | every path shows us n+1 times | one shows fewer |
//!
//! A no-announce that holds while X still reaches the prefix through `B`'s other neighbours
//! (`X Y B … U us`) is [`Status::Bypassed`]: the provider did what it was asked, the intent's
//! goal is not met. Region-scoped effects cannot be told from paths (a collector peer's
//! location is unknown): they are reported as seen or not seen on the paths through `B`.
//! Local preference never shows on paths. When the same prefix is announced through `U` by a
//! site without the effect, a path that contradicts it is [`Status::Ambiguous`], not a failure.

use serde::Serialize;
use tern_model::policy::{Effect, Neighbors};
use tern_model::{Network, Providers, Site, Upstream};
use tern_types::{Asn, Prefix};

use super::PrefixReport;

/// Examples of paths kept per verdict and prefix.
const EXAMPLES: usize = 3;

/// The outcome of one intent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The paths show it.
    Holds,
    /// A path contradicts it: `tern observe` exits 1.
    Fails,
    /// It holds at the provider, but the AS it keeps away reaches the prefix another way
    /// through the same provider: `tern observe` exits 1.
    Bypassed,
    /// A path contradicts it, but another site announces the prefix through the same provider
    /// without the intent; AS paths cannot tell the two apart.
    Ambiguous,
    /// Region-scoped: the effect shows on some paths through the applying AS.
    Seen,
    /// Region-scoped: no path through the applying AS shows it (the collectors may have no peer
    /// in that region).
    NotSeen,
    /// No path can show it (the prefix is not visible through this upstream, or no path
    /// reaches the AS concerned).
    NoEvidence,
    /// Paths never show this kind of effect (local preference, "to peers" without
    /// relationships).
    NotVisible,
}

impl Status {
    /// The word printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Holds => "holds",
            Status::Fails => "FAILS",
            Status::Bypassed => "BYPASSED",
            Status::Ambiguous => "ambiguous",
            Status::Seen => "seen",
            Status::NotSeen => "not seen",
            Status::NoEvidence => "no evidence",
            Status::NotVisible => "not visible on paths",
        }
    }
}

/// The evidence on one prefix.
#[derive(Clone, Debug, Serialize)]
pub struct PrefixEvidence {
    /// The prefix.
    pub prefix: Prefix,
    /// Paths through the upstream (`U` adjacent to us).
    pub paths: usize,
    /// Of them, paths the effect concerns (for no-announce: all of them).
    pub concerned: usize,
    /// Of the concerned, paths that contradict the effect.
    pub contradicting: usize,
    /// Paths where the kept-away AS reaches us another way through `B`.
    pub bypassing: usize,
    /// A few contradicting (or bypassing) paths.
    pub examples: Vec<String>,
    /// Sites that announce the prefix through the same provider without this effect.
    pub without_effect: Vec<String>,
}

/// One intent's verdict.
#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    /// Site.
    pub site: String,
    /// Upstream session.
    pub upstream: String,
    /// The effect in operator words (`no-announce to AS6939`, `our prepend 2x`).
    pub effect: String,
    /// The AS that applies it (ours for our own prepend).
    pub by: Asn,
    /// The upstream's provider AS, the one adjacent to ours on paths.
    pub upstream_as: Asn,
    /// Outcome.
    pub status: Status,
    /// One line of evidence.
    pub summary: String,
    /// Per prefix.
    pub evidence: Vec<PrefixEvidence>,
}

/// The AS adjacent to ours on paths through this upstream: the provider's public AS when it
/// has a dictionary (Vultr's sessions are with a private route-server AS), else the neighbor AS.
pub fn upstream_as(up: &Upstream, providers: &Providers) -> Asn {
    up.provider_asn
        .or_else(|| {
            up.provider
                .as_deref()
                .and_then(|p| providers.find(p))
                .map(|p| p.asn)
        })
        .unwrap_or(up.remote_as)
}

/// What one effect checks on a path.
#[derive(Clone, Copy)]
enum Check {
    /// `X B` must not occur.
    NotTo(Asn),
    /// Nothing before `B`.
    NotExported,
    /// `B` at least `n` copies on paths where `to` (or anyone) precedes `B`.
    Copies(Option<Asn>, usize),
    /// Our AS at least `n` copies.
    OurCopies(usize),
}

fn check_for(effect: &Effect) -> Result<(Check, bool), &'static str> {
    let regional = effect.region().is_some();
    Ok(match *effect {
        Effect::NoAnnounce {
            to: Neighbors::As(x),
            ..
        } => (Check::NotTo(x), regional),
        Effect::NoAnnounce {
            to: Neighbors::All, ..
        }
        | Effect::NoExport => (Check::NotExported, regional),
        Effect::NoAnnounce {
            to: Neighbors::Peers,
            ..
        } => return Err("\"to peers\" needs AS relationships, which paths do not carry"),
        Effect::Prepend {
            times,
            to: Neighbors::As(x),
            ..
        } => (Check::Copies(Some(x), usize::from(times) + 1), regional),
        Effect::Prepend {
            times,
            to: Neighbors::All,
            ..
        } => (Check::Copies(None, usize::from(times) + 1), regional),
        Effect::Prepend {
            to: Neighbors::Peers,
            ..
        } => return Err("\"to peers\" needs AS relationships, which paths do not carry"),
        Effect::LocalPref { .. } => return Err("local preference does not show on AS paths"),
    })
}

/// Concerned, contradicting, bypassing for one path (`hops` collapsed, ending with us).
fn judge_path(hops: &[(Option<Asn>, usize)], by: Asn, check: Check) -> (bool, bool, bool) {
    let n = hops.len();
    match check {
        Check::OurCopies(c) => (true, hops[n - 1].1 < c, false),
        _ => {
            let Some(k) = hops[..n - 1].iter().rposition(|(a, _)| *a == Some(by)) else {
                // B is not on this path: the path does not go through the applying AS.
                return (false, false, false);
            };
            match check {
                Check::NotTo(x) => {
                    let adjacent = k >= 1 && hops[k - 1].0 == Some(x);
                    let elsewhere = !adjacent && hops[..k].iter().any(|(a, _)| *a == Some(x));
                    (true, adjacent, elsewhere)
                }
                Check::NotExported => (true, k >= 1, false),
                Check::Copies(to, c) => {
                    let concerned = k >= 1 && to.is_none_or(|x| hops[k - 1].0 == Some(x));
                    (concerned, concerned && hops[k].1 < c, false)
                }
                // Handled above.
                Check::OurCopies(_) => (false, false, false),
            }
        }
    }
}

/// Judges every effect of every upstream against the observed prefixes.
pub fn judge(net: &Network, providers: &Providers, reports: &[PrefixReport]) -> Vec<Verdict> {
    let mut out = Vec::new();
    for site in &net.sites {
        for up in &site.upstreams {
            let u = upstream_as(up, providers);
            for applied in &up.export.effects {
                let label = match &applied.provider {
                    Some(p) => format!("{} (by {p}, {})", applied.effect, applied.by),
                    None => format!("{} (by {})", applied.effect, applied.by),
                };
                out.push(match check_for(&applied.effect) {
                    Err(why) => Verdict {
                        site: site.id.to_string(),
                        upstream: up.name.clone(),
                        effect: label,
                        by: applied.by,
                        upstream_as: u,
                        status: Status::NotVisible,
                        summary: why.to_owned(),
                        evidence: Vec::new(),
                    },
                    Ok((check, regional)) => one(
                        net,
                        providers,
                        reports,
                        (site, up, u),
                        label,
                        applied.by,
                        check,
                        regional,
                        |s: &Upstream| s.export.effects.iter().any(|e| e == applied),
                    ),
                });
            }
            if up.export.prepend > 0 {
                let n = usize::from(up.export.prepend);
                out.push(one(
                    net,
                    providers,
                    reports,
                    (site, up, u),
                    format!("our prepend {}x on the session", up.export.prepend),
                    net.asn,
                    Check::OurCopies(n + 1),
                    false,
                    |s: &Upstream| s.export.prepend >= up.export.prepend,
                ));
            }
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn one(
    net: &Network,
    providers: &Providers,
    reports: &[PrefixReport],
    (site, up, u): (&Site, &Upstream, Asn),
    effect: String,
    by: Asn,
    check: Check,
    regional: bool,
    same: impl Fn(&Upstream) -> bool,
) -> Verdict {
    let mut evidence = Vec::new();
    for prefix in site.announces_of(up.afi()) {
        let Some(rep) = reports.iter().find(|r| r.prefix == *prefix) else {
            continue;
        };
        let without_effect: Vec<String> = net
            .sites
            .iter()
            .flat_map(|s| s.upstreams.iter().map(move |o| (s, o)))
            .filter(|(s, o)| {
                s.announces.contains(prefix)
                    && o.afi() == up.afi()
                    && upstream_as(o, providers) == u
                    && !same(o)
            })
            .map(|(s, o)| format!("{}/{}", s.id, o.name))
            .collect();
        let mut ev = PrefixEvidence {
            prefix: *prefix,
            paths: 0,
            concerned: 0,
            contradicting: 0,
            bypassing: 0,
            examples: Vec::new(),
            without_effect,
        };
        for r in &rep.routes {
            if r.path.upstream_of(net.asn) != Some(u) {
                continue;
            }
            ev.paths += 1;
            let hops = r.path.hops();
            let (concerned, contra, bypass) = judge_path(&hops, by, check);
            ev.concerned += usize::from(concerned);
            ev.contradicting += usize::from(contra);
            ev.bypassing += usize::from(bypass);
            if (contra || bypass) && ev.examples.len() < EXAMPLES {
                ev.examples.push(format!("{} (peer {})", r.path, r.peer.ip));
            }
        }
        evidence.push(ev);
    }
    let (paths, concerned, contra, bypass) = evidence.iter().fold((0, 0, 0, 0), |a, e| {
        (
            a.0 + e.paths,
            a.1 + e.concerned,
            a.2 + e.contradicting,
            a.3 + e.bypassing,
        )
    });
    let ambiguous = evidence
        .iter()
        .any(|e| e.contradicting > 0 && !e.without_effect.is_empty());
    let pattern = match check {
        Check::NotTo(x) if by == u => format!("contain {} {} {}", x.0, u.0, net.asn.0),
        Check::NotTo(x) => format!("contain {} {} … {} {}", x.0, by.0, u.0, net.asn.0),
        Check::NotExported => format!("have an AS before {}", by.0),
        Check::Copies(Some(x), c) => format!("with {} {} show {} {c}×", x.0, by.0, by.0),
        Check::Copies(None, c) => format!("exported by {} show it {c}×", by.0),
        Check::OurCopies(c) => format!("show {} {c}×", net.asn.0),
    };
    let is_prepend = matches!(check, Check::Copies(..) | Check::OurCopies(_));
    let status = if regional {
        if concerned == 0 {
            Status::NoEvidence
        } else if (is_prepend && contra < concerned) || (!is_prepend && contra == 0) {
            // A prepend shows on some paths; a no-announce contradicted by none (paths that
            // contradict it may come from outside its region).
            Status::Seen
        } else {
            Status::NotSeen
        }
    } else if contra > 0 && ambiguous {
        Status::Ambiguous
    } else if contra > 0 {
        Status::Fails
    } else if bypass > 0 {
        Status::Bypassed
    } else if concerned == 0 {
        Status::NoEvidence
    } else {
        Status::Holds
    };
    let summary = if is_prepend {
        format!(
            "{}, {} of {concerned} paths {pattern} ({paths} paths through AS{})",
            status.as_str(),
            concerned - contra,
            u.0
        )
    } else {
        let mut s = format!(
            "{}, {contra} of {concerned} paths through AS{} {pattern}",
            status.as_str(),
            u.0
        );
        if bypass > 0 {
            s.push_str(&format!(
                "; {bypass} reach us another way through AS{}",
                by.0
            ));
        }
        s
    };
    let summary = if regional {
        format!("{summary}; region-scoped, collectors' locations cannot be told from paths")
    } else {
        summary
    };
    Verdict {
        site: site.id.to_string(),
        upstream: up.name.clone(),
        effect,
        by,
        upstream_as: u,
        status,
        summary,
        evidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::Path;

    fn hops(p: &[u32]) -> Vec<(Option<Asn>, usize)> {
        Path(p.iter().map(|a| Some(Asn(*a))).collect()).hops()
    }

    #[test]
    fn paths_judged() {
        let (he, vultr, us) = (6939, 20473, 4_200_000_001);
        let na = Check::NotTo(Asn(he));
        assert_eq!(
            judge_path(&hops(&[he, vultr, us]), Asn(vultr), na),
            (true, true, false)
        );
        assert_eq!(
            judge_path(&hops(&[he, 1299, vultr, us]), Asn(vultr), na),
            (true, false, true)
        );
        assert_eq!(
            judge_path(&hops(&[174, vultr, us]), Asn(vultr), na),
            (true, false, false)
        );
        let p2 = Check::Copies(Some(Asn(3257)), 3);
        assert_eq!(
            judge_path(&hops(&[3257, vultr, vultr, vultr, us]), Asn(vultr), p2),
            (true, false, false)
        );
        assert_eq!(
            judge_path(&hops(&[3257, vultr, us]), Asn(vultr), p2),
            (true, true, false)
        );
        assert_eq!(
            judge_path(&hops(&[174, vultr, us]), Asn(vultr), p2),
            (false, false, false)
        );
        assert_eq!(
            judge_path(&hops(&[174, vultr, us, us]), Asn(us), Check::OurCopies(2)),
            (true, false, false)
        );
        assert_eq!(
            judge_path(&hops(&[vultr, us]), Asn(vultr), Check::NotExported),
            (true, false, false)
        );
    }
}
