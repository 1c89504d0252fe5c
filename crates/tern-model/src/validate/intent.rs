//! Traffic-engineering intents → communities and prepends, through provider dictionaries.
//!
//! An intent is what an operator says ("do not announce to AS6939", "prepend twice in Asia via
//! GTT"); the upstream's provider dictionary (or the one named by `via`, whose communities the
//! upstream passes on) says which community does that. Prepends to everyone with no region and
//! no `via` are done by us, on the session (`bgp_path.prepend`). A missing entry is an error
//! that lists what the provider supports; an entry not confirmed by the provider is a warning.

use tern_types::{Asn, Community, LargeCommunity};
use toml::Spanned;

use super::ctx::Ctx;
use crate::defaults::MAX_PREPEND;
use crate::diag::Severity;
use crate::network::Export;
use crate::policy::{Action, AppliedEffect, CommunityValue, Effect};
use crate::provider::{Origin, Provider, Target};
use crate::raw::{RawIntent, RawSite, RawUpstream};

/// Compiles the site's and the upstream's intents and raw communities for one session.
pub(crate) fn compile(
    cx: &mut Ctx<'_>,
    rs: &RawSite,
    ru: &RawUpstream,
    upstream: &str,
    remote_as: Asn,
    dict: Option<&Provider>,
) -> Export {
    let mut ex = Export::default();
    let (c1, l1) = cx.communities(&rs.communities, &rs.large_communities);
    let (c2, l2) = cx.communities(&ru.communities, &ru.large_communities);
    for c in c1.into_iter().chain(c2) {
        ex.communities.push(c);
        ex.notes.push(format!("{c}: raw community from tern.toml"));
        raw_effect(cx, CommunityValue::Standard(c), dict, &mut ex);
    }
    for c in l1.into_iter().chain(l2) {
        ex.large_communities.push(c);
        ex.notes
            .push(format!("{c}: raw large community from tern.toml"));
        raw_effect(cx, CommunityValue::Large(c), dict, &mut ex);
    }
    for s in rs.communities.iter().chain(&ru.communities) {
        if let Ok(c) = s.get_ref().parse::<Community>() {
            not_in_dictionary(cx, s, CommunityValue::Standard(c), dict);
        }
    }
    for s in rs.large_communities.iter().chain(&ru.large_communities) {
        if let Ok(c) = s.get_ref().parse::<LargeCommunity>() {
            not_in_dictionary(cx, s, CommunityValue::Large(c), dict);
        }
    }
    for i in rs.intents.iter().chain(&ru.intents) {
        intent(cx, i, upstream, remote_as, dict, &mut ex);
    }
    conflicts(cx, rs.intents.iter().chain(&ru.intents));
    ex.communities.sort();
    ex.communities.dedup();
    ex.large_communities.sort();
    ex.large_communities.dedup();
    ex.effects.dedup();
    ex
}

/// A raw community in a known provider's namespace that its dictionary does not have: a
/// warning naming the nearest known ones (a typo, or a community the dictionary lacks).
fn not_in_dictionary(
    cx: &mut Ctx<'_>,
    s: &Spanned<String>,
    v: CommunityValue,
    dict: Option<&Provider>,
) {
    let owner = dict
        .filter(|d| d.owns(v))
        .or_else(|| cx.providers.iter().find(|p| p.owns(v)));
    let Some(p) = owner else { return };
    if p.lookup(v).is_some() || cx.providers.iter().any(|q| q.lookup(v).is_some()) {
        return;
    }
    let near: Vec<String> = p
        .nearest(v)
        .into_iter()
        .map(|(c, m)| format!("{c} is {m}"))
        .collect();
    let message = if near.is_empty() {
        format!("{v} is not in the {} dictionary", p.name)
    } else {
        format!(
            "{v} is not in the {} dictionary; {}",
            p.name,
            near.join("; ")
        )
    };
    let p_name = p.name.clone();
    let p_id = p.id.clone();
    cx.push(
        Severity::Warning,
        "community-unknown",
        &s.span(),
        message,
        format!(
            "check the value against {p_name}'s documentation (`tern providers show {p_id}`); if it is right, add it to the dictionary in your providers directory"
        ),
    );
}

/// The effect of a raw community, when a known dictionary (the upstream's first) has it.
fn raw_effect(cx: &Ctx<'_>, v: CommunityValue, dict: Option<&Provider>, ex: &mut Export) {
    let found = dict
        .and_then(|d| d.lookup(v).map(|(e, a)| (d, e, a)))
        .or_else(|| {
            cx.providers
                .iter()
                .find_map(|p| p.lookup(v).map(|(e, a)| (p, e, a)))
        });
    if let Some((p, e, asn)) = found {
        if let Some(effect) = e.effect(asn) {
            ex.effects.push(AppliedEffect {
                effect,
                by: p.asn,
                provider: Some(p.id.clone()),
                community: v,
                meaning: e.meaning_for(asn),
                verified: e.verified,
            });
        }
    }
}

/// `to` resolved: everyone, the provider's peers, or these ASes.
enum To {
    All,
    Peers,
    Asns(Vec<Asn>),
}

fn targets(cx: &mut Ctx<'_>, i: &Spanned<RawIntent>) -> Option<To> {
    let Some(to) = &i.get_ref().to else {
        return Some(To::All);
    };
    if to.0.len() == 1 && to.0[0].0.eq_ignore_ascii_case("all") {
        return Some(To::All);
    }
    if to.0.len() == 1 && to.0[0].0.eq_ignore_ascii_case("peers") {
        return Some(To::Peers);
    }
    let mut v = Vec::new();
    for t in &to.0 {
        if let Ok(a) = t.0.parse::<Asn>() {
            v.push(a);
        } else if let Some(p) = cx.providers.find(&t.0) {
            v.push(p.asn);
        } else {
            let hint = match crate::diag::did_you_mean(&t.0, ["all", "peers"])
                .or_else(|| cx.providers.suggest(&t.0))
            {
                Some(s) => format!(" (did you mean `{s}`?)"),
                None => String::new(),
            };
            cx.error(
                "bad-intent",
                &i.span(),
                format!(
                    "to = {:?} is neither \"all\", \"peers\", an AS number nor a known provider{hint}",
                    t.0
                ),
                "write the AS, e.g. to = \"AS6939\"",
            );
            return None;
        }
    }
    if v.is_empty() {
        cx.error(
            "bad-intent",
            &i.span(),
            "to = [] names nobody",
            "list the ASes, or write to = \"all\"",
        );
        return None;
    }
    Some(To::Asns(v))
}

fn intent(
    cx: &mut Ctx<'_>,
    si: &Spanned<RawIntent>,
    upstream: &str,
    remote_as: Asn,
    dict: Option<&Provider>,
    ex: &mut Export,
) {
    let span = si.span();
    let i = si.get_ref();
    let Some(to) = targets(cx, si) else { return };
    // Field sanity per action.
    let stray = |cx: &mut Ctx<'_>, field: &str| {
        cx.error(
            "bad-intent",
            &span,
            format!("{field} has no meaning for action = \"{}\"", i.action),
            format!("remove {field}"),
        );
    };
    match i.action {
        Action::Prepend => {
            let t = i.times.unwrap_or(0);
            if t == 0 || t > MAX_PREPEND {
                cx.error(
                    "bad-intent",
                    &span,
                    format!("prepend needs times = 1..{MAX_PREPEND}"),
                    "add times = 1, 2 or 3",
                );
                return;
            }
        }
        _ if i.times.is_some() => stray(cx, "times"),
        _ => {}
    }
    match i.action {
        Action::LocalPref if i.level.is_none() => {
            cx.error(
                "bad-intent",
                &span,
                "local-pref needs a level",
                "add level = \"lowest\", \"low\", \"peer\" or \"high\"",
            );
            return;
        }
        Action::LocalPref => {}
        _ if i.level.is_some() => stray(cx, "level"),
        _ => {}
    }
    if matches!(i.action, Action::NoExport | Action::LocalPref) && i.to.is_some() {
        stray(cx, "to");
    }
    if i.action == Action::NoAnnounce && i.to.is_none() && i.region.is_none() {
        cx.error(
            "bad-intent",
            &span,
            "no-announce needs to = \"AS…\" (or a region, for 'nowhere in that region')",
            "add to = \"AS6939\", or use action = \"no-export\"",
        );
        return;
    }

    // Our own prepend: to everyone, no region, no `via`.
    if i.action == Action::Prepend && matches!(to, To::All) && i.region.is_none() && i.via.is_none()
    {
        let t = i.times.unwrap_or(1);
        ex.prepend = ex.prepend.max(t);
        ex.notes
            .push(format!("prepend our AS {t}x on {upstream} (done by us)"));
        return;
    }

    let prov = match &i.via {
        Some(v) => match cx.providers.find(&v.0) {
            Some(p) => {
                if let Some(d) = dict {
                    if d.asn != p.asn {
                        if !d.passes_communities {
                            cx.push(
                                Severity::Warning,
                                "intent-via-not-passed",
                                &span,
                                format!("{} does not document passing third-party communities on, so {}'s community may never reach {}", d.name, p.name, p.name),
                                format!("ask {} whether they pass communities to AS{}", d.name, p.asn.0),
                            );
                        } else if !d.passes_communities_verified {
                            cx.push(
                                Severity::Warning,
                                "intent-unverified",
                                &span,
                                format!("that {} passes third-party communities on to {} is not confirmed by {}", d.name, p.name, d.name),
                                format!("confirm with {}", d.name),
                            );
                        }
                    }
                }
                p
            }
            None => {
                let ids = cx.providers.ids();
                let hint = match cx.providers.suggest(&v.0) {
                    Some(s) => format!(" (did you mean `{s}`?)"),
                    None => String::new(),
                };
                cx.error(
                    "unknown-provider",
                    &span,
                    format!("via = {:?} is no known provider dictionary{hint}", v.0),
                    format!("use one of: {ids}; or raw communities"),
                );
                return;
            }
        },
        None => match dict {
            Some(d) => d,
            None if i.action == Action::NoExport => {
                ex.communities.push(Community::NO_EXPORT);
                ex.effects.push(no_export(remote_as, None));
                ex.notes.push(format!(
                    "{}: NO_EXPORT (RFC 1997), {upstream} has no provider dictionary",
                    Community::NO_EXPORT
                ));
                return;
            }
            None => {
                cx.error(
                    "intent-no-provider",
                    &span,
                    format!("upstream {upstream} has no provider, so \"{}\" cannot be compiled to communities", i.action),
                    "set provider = \"...\" on the site or upstream, add via = \"...\", or use raw communities",
                );
                return;
            }
        },
    };

    let peers = matches!(to, To::Peers);
    let asns: Vec<Option<Asn>> = match &to {
        To::All | To::Peers => vec![None],
        To::Asns(v) => v.iter().copied().map(Some).collect(),
    };
    for asn in asns {
        let entry = prov.entries.iter().find(|e| {
            e.action == i.action
                && e.region == i.region
                && (i.action != Action::Prepend || e.times == i.times)
                && (i.action != Action::LocalPref || e.level == i.level)
                && match (asn, e.target) {
                    (Some(a), Target::Peer) => e.peer.is_none_or(|p| p == a),
                    (None, Target::All) => !peers,
                    (None, Target::Peers) => peers,
                    _ => false,
                }
        });
        let words = describe(i, asn);
        let Some(entry) = entry else {
            if i.action == Action::NoExport && i.via.is_none() {
                ex.communities.push(Community::NO_EXPORT);
                ex.effects.push(no_export(prov.asn, Some(&prov.id)));
                ex.notes.push(format!(
                    "{}: NO_EXPORT (RFC 1997), {} documents no no-export community",
                    Community::NO_EXPORT,
                    prov.name
                ));
                continue;
            }
            cx.error(
                "intent-unsupported",
                &span,
                format!("{} cannot express \"{words}\"", prov.name),
                prov.supported(),
            );
            continue;
        };
        let Some(value) = entry.value(asn) else {
            cx.error(
                "intent-unsupported",
                &span,
                format!(
                    "{} has no community form that can carry {} for \"{words}\"",
                    prov.name,
                    asn.map(|a| a.to_string()).unwrap_or_default()
                ),
                prov.supported(),
            );
            continue;
        };
        let meaning = entry.meaning_for(asn);
        if let Some(effect) = entry.effect(asn) {
            ex.effects.push(AppliedEffect {
                effect,
                by: prov.asn,
                provider: Some(prov.id.clone()),
                community: value,
                meaning: meaning.clone(),
                verified: entry.verified,
            });
        }
        if !entry.verified {
            cx.push(
                Severity::Warning,
                "intent-unverified",
                &span,
                format!("{}'s {value} ({meaning}) is not confirmed by {}'s own documentation (source: {})", prov.name, prov.name, entry.source),
                match &prov.origin {
                    Origin::File(path) => format!("check it with {} and set verified = true on that entry in {}, or use raw communities", prov.name, path.display()),
                    Origin::Builtin => format!("check it with {}, then override the dictionary in your providers directory (`tern providers show {} --toml > /etc/tern/providers/{}.toml`, or --providers DIR, or [network] providers) and set verified = true on that entry there; or use raw communities", prov.name, prov.id, prov.id),
                },
            );
        }
        let tag = if entry.verified { "" } else { ", unverified" };
        ex.notes
            .push(format!("{value}: {} {meaning}{tag}", prov.name));
        match value {
            CommunityValue::Standard(c) => ex.communities.push(c),
            CommunityValue::Large(c) => ex.large_communities.push(c),
        }
    }
}

/// RFC 1997 NO_EXPORT, applied by `by`.
fn no_export(by: Asn, provider: Option<&str>) -> AppliedEffect {
    AppliedEffect {
        effect: Effect::NoExport,
        by,
        provider: provider.map(str::to_owned),
        community: CommunityValue::Standard(Community::NO_EXPORT),
        meaning: "do not export to other ASes (RFC 1997 NO_EXPORT)".to_owned(),
        verified: true,
    }
}

/// "Do not announce to X" next to "prepend to X" (or local-pref via X's dictionary): the
/// second one has no effect, which is rarely what the operator meant.
fn conflicts<'a>(cx: &mut Ctx<'_>, intents: impl Iterator<Item = &'a Spanned<RawIntent>>) {
    let mut blocked: Vec<String> = Vec::new();
    let mut steered: Vec<(String, std::ops::Range<usize>)> = Vec::new();
    for i in intents {
        let r = i.get_ref();
        let names: Vec<String> = match &r.to {
            Some(t) => t.0.iter().map(|n| n.0.to_ascii_lowercase()).collect(),
            None => continue,
        };
        for n in names {
            let asn = match n.parse::<Asn>() {
                Ok(a) => a.0.to_string(),
                Err(_) => match cx.providers.find(&n) {
                    Some(p) => p.asn.0.to_string(),
                    None => n,
                },
            };
            if asn == "all" || asn == "peers" || r.region.is_some() {
                continue;
            }
            match r.action {
                Action::NoAnnounce => blocked.push(asn),
                Action::Prepend => steered.push((asn, i.span())),
                _ => {}
            }
        }
    }
    for (asn, span) in steered {
        if blocked.contains(&asn) {
            cx.push(
                Severity::Warning,
                "intent-conflict",
                &span,
                format!("prepending to AS{asn} has no effect: another intent does not announce to AS{asn} at all"),
                "remove one of the two intents",
            );
        }
    }
}

/// The intent in operator words, for messages.
fn describe(i: &RawIntent, asn: Option<Asn>) -> String {
    let mut s = i.action.to_string();
    if let Some(t) = i.times {
        s.push_str(&format!(" {t}x"));
    }
    if let Some(l) = i.level {
        s.push_str(&format!(" {l}"));
    }
    let peers =
        i.to.as_ref()
            .is_some_and(|t| t.0.len() == 1 && t.0[0].0.eq_ignore_ascii_case("peers"));
    if let Some(a) = asn {
        s.push_str(&format!(" to {a}"));
    } else if peers {
        s.push_str(" to peers");
    } else if i.action != Action::LocalPref && i.action != Action::NoExport {
        s.push_str(" to all");
    }
    if let Some(r) = i.region {
        s.push_str(&format!(" in {r}"));
    }
    s
}
