//! The prefix plan: syntax, length, allocation, documentation space, overlaps and roles.

use std::collections::BTreeMap;

use tern_types::{Prefix, SiteId};
use toml::Spanned;

use super::ctx::Ctx;
use crate::diag::Severity;
use crate::network::{Located, PlannedPrefix, Role};
use crate::raw::{RawPrefix, RawRole};

pub(crate) fn plan(
    cx: &mut Ctx<'_>,
    raw: &[Spanned<RawPrefix>],
    allocations: &[Located<Prefix>],
    site_ids: &BTreeMap<String, SiteId>,
    lab: bool,
) -> Vec<PlannedPrefix> {
    let mut out: Vec<PlannedPrefix> = Vec::new();
    for rp in raw {
        let rp_span = rp.span();
        let rp = rp.get_ref();
        let Some(prefix) = cx.parse::<Prefix>("bad-prefix", &rp.prefix) else {
            continue;
        };
        let span = rp.prefix.span();
        let max = prefix.afi().max_announceable_len();
        if prefix.len() > max {
            cx.error(
                "prefix-too-long",
                &span,
                format!(
                    "{prefix} is longer than /{max}, the longest {} prefix networks accept",
                    prefix.afi()
                ),
                format!("announce a /{max} or shorter"),
            );
        }
        if !allocations.is_empty() && !allocations.iter().any(|a| a.value.contains(&prefix)) {
            let of_afi: Vec<String> = allocations
                .iter()
                .filter(|a| a.value.afi() == prefix.afi())
                .map(|a| a.value.to_string())
                .collect();
            cx.error(
                "prefix-outside-allocation",
                &span,
                if of_afi.is_empty() {
                    format!(
                        "{prefix} is not inside any allocation: no {} allocation is listed",
                        prefix.afi()
                    )
                } else {
                    format!(
                        "{prefix} is not inside the allocations {}",
                        of_afi.join(", ")
                    )
                },
                "use a prefix from your allocation, or add the allocation to [network] allocations",
            );
        }
        if prefix.is_documentation() {
            if lab {
                cx.push(
                    Severity::Info,
                    "lab-documentation-prefix",
                    &span,
                    format!("{prefix} is documentation space, allowed because lab = true"),
                    "use your own address space before going live",
                );
            } else {
                cx.error(
                    "prefix-documentation",
                    &span,
                    format!("{prefix} is documentation space (RFC 3849/9637/5737) and is filtered on the Internet"),
                    "use your own address space, or set lab = true in [network] for a lab",
                );
            }
        }
        if let Some(other) = out.iter().find(|o| o.prefix.overlaps(&prefix)) {
            let what = if other.prefix == prefix {
                "is listed twice"
            } else {
                "overlaps"
            };
            cx.error(
                "prefix-overlap",
                &span,
                format!(
                    "{prefix} {what} {} (line {})",
                    other.prefix, other.location.line
                ),
                "give each role its own, non-overlapping prefix",
            );
        }
        let site_ref = |cx: &mut Ctx<'_>, s: &Spanned<String>| -> Option<SiteId> {
            match site_ids.get(s.get_ref()) {
                Some(id) => Some(id.clone()),
                None => {
                    let hint = match crate::diag::did_you_mean(
                        s.get_ref(),
                        site_ids.keys().map(String::as_str),
                    ) {
                        Some(n) => format!(" (did you mean `{n}`?)"),
                        None => String::new(),
                    };
                    cx.error(
                        "unknown-site",
                        &s.span(),
                        format!("there is no site {:?}{hint}", s.get_ref()),
                        format!(
                            "use one of: {}",
                            site_ids.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    );
                    None
                }
            }
        };
        let role = match *rp.role.get_ref() {
            RawRole::Unicast => {
                if let Some(s) = &rp.sites {
                    cx.error(
                        "role-fields",
                        &s.span(),
                        "a unicast prefix belongs to one site: use site = \"NAME\", not sites",
                        "replace sites = [...] by site = \"NAME\"",
                    );
                }
                match &rp.site {
                    Some(s) => match site_ref(cx, s) {
                        Some(id) => Role::Unicast(id),
                        None => continue,
                    },
                    None => {
                        cx.error(
                            "role-fields",
                            &rp_span,
                            format!("unicast prefix {prefix} needs the site that announces it"),
                            "add site = \"NAME\"",
                        );
                        continue;
                    }
                }
            }
            RawRole::Anycast => {
                if let Some(s) = &rp.site {
                    cx.error(
                        "role-fields",
                        &s.span(),
                        "an anycast prefix is announced by several sites: use sites = [...] for regional anycast, or role = \"unicast\"",
                        "replace site = \"NAME\" by sites = [\"NAME\", ...]",
                    );
                }
                match &rp.sites {
                    None => Role::Anycast,
                    Some(list) => {
                        let ids: Vec<SiteId> = list
                            .get_ref()
                            .iter()
                            .filter_map(|s| site_ref(cx, s))
                            .collect();
                        if list.get_ref().is_empty() {
                            cx.error(
                                "role-fields",
                                &list.span(),
                                "sites = [] announces the prefix nowhere",
                                "list the sites, or remove sites to announce it everywhere",
                            );
                        }
                        Role::Regional(ids)
                    }
                }
            }
        };
        out.push(PlannedPrefix {
            prefix,
            role,
            description: rp.description.clone(),
            location: cx.loc(&span),
        });
    }
    out
}
