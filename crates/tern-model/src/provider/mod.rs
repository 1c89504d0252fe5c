//! Provider community dictionaries: what each upstream's action communities mean.
//!
//! One TOML data file per provider lives in `providers/` and is embedded in the binary; the
//! operator adds or overrides dictionaries in a providers directory (see [`dirs`]): a file there
//! replaces the built-in one of the same name. Each entry states its meaning, its source and
//! whether that meaning was confirmed by the provider's own documentation (`verified`);
//! [`crate::validate`] warns when an unverified entry is used and errors, listing what the
//! provider supports, when an intent has no matching entry. Each entry is a typed
//! [`crate::policy::Effect`] ([`Entry::effect`], [`Provider::rules`]).

pub mod dirs;
mod lookup;

use std::net::IpAddr;
use std::ops::Range;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use tern_types::{Asn, Community, LargeCommunity};
use toml::Spanned;

use crate::policy::{Action, CommunityValue, Effect, Level, Neighbors, Region};

/// The dictionaries shipped with tern: (id, file text).
const BUILTIN: &[(&str, &str)] = &[
    ("arelion", include_str!("../../providers/arelion.toml")),
    ("buyvm", include_str!("../../providers/buyvm.toml")),
    ("cogent", include_str!("../../providers/cogent.toml")),
    ("gtt", include_str!("../../providers/gtt.toml")),
    ("he", include_str!("../../providers/he.toml")),
    ("lumen", include_str!("../../providers/lumen.toml")),
    ("ntt", include_str!("../../providers/ntt.toml")),
    ("vultr", include_str!("../../providers/vultr.toml")),
];

/// A broken dictionary file: in tern's own data a bug (caught by the crate's tests), in the
/// operator's providers directory a finding with file:line ([`dirs`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// Not valid TOML or not the schema.
    #[error("provider dictionary {id}: {message}")]
    Syntax {
        /// The dictionary id.
        id: String,
        /// What the TOML parser said, on one line.
        message: String,
        /// Byte range in the file.
        span: Option<Range<usize>>,
    },
    /// An entry's region is not among the dictionary's `regions`.
    #[error("provider dictionary {id}: region {region} is not in [provider] regions")]
    Region {
        /// The dictionary id.
        id: String,
        /// The region.
        region: Region,
        /// Byte range of the entry.
        span: Range<usize>,
    },
    /// A community template that is not `A:B` / `A:B:C` with numbers or `{asn}`.
    #[error("provider dictionary {id}: bad community template {template:?}")]
    Template {
        /// The dictionary id.
        id: String,
        /// The template.
        template: String,
        /// Byte range of the entry.
        span: Range<usize>,
    },
    /// An entry whose fields do not make an effect (a prepend without `times`, …).
    #[error("provider dictionary {id}: {message}")]
    Entry {
        /// The dictionary id.
        id: String,
        /// What is wrong.
        message: String,
        /// Byte range of the entry.
        span: Range<usize>,
    },
}

impl ProviderError {
    /// Where in the file the problem is (byte range), when known.
    pub fn span(&self) -> Option<Range<usize>> {
        match self {
            ProviderError::Syntax { span, .. } => span.clone(),
            ProviderError::Region { span, .. }
            | ProviderError::Template { span, .. }
            | ProviderError::Entry { span, .. } => Some(span.clone()),
        }
    }

    /// The message without the `provider dictionary ID:` prefix.
    pub fn detail(&self) -> String {
        match self {
            ProviderError::Syntax { message, .. } | ProviderError::Entry { message, .. } => {
                message.clone()
            }
            ProviderError::Region { region, .. } => {
                format!("region {region} is not in [provider] regions")
            }
            ProviderError::Template { template, .. } => {
                format!("bad community template {template:?}")
            }
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDictionary {
    provider: RawProviderInfo,
    session: Option<SessionDefaults>,
    #[serde(default)]
    community: Vec<Spanned<RawEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProviderInfo {
    name: String,
    asn: Asn,
    passes_communities: bool,
    #[serde(default = "yes")]
    passes_communities_verified: bool,
    source: String,
    regions: Option<Vec<Region>>,
}

/// Where a dictionary comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "path")]
pub enum Origin {
    /// Shipped with tern (`crates/tern-model/providers/`).
    Builtin,
    /// A file in the operator's providers directory.
    File(PathBuf),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Builtin => f.write_str("built-in"),
            Origin::File(p) => write!(f, "{}", p.display()),
        }
    }
}

fn yes() -> bool {
    true
}

/// Where a provider's customer sessions are, as documented.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SessionDefaults {
    /// The AS the session is with (Vultr VPS: 64515).
    pub remote_as: Asn,
    /// eBGP multihop TTL.
    pub multihop: Option<u8>,
    /// Usual IPv4 neighbor.
    pub neighbor_v4: Option<IpAddr>,
    /// Usual IPv6 neighbor.
    pub neighbor_v6: Option<IpAddr>,
    /// Where this is documented.
    pub source: String,
}

/// Whether an entry applies to one AS (given in the intent) or to everyone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// A neighbor AS of the provider, given by `{asn}` in the value (or fixed by `peer`).
    Peer,
    /// Every neighbor of the provider.
    All,
    /// The provider's settlement-free peers (not its customers or providers).
    Peers,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    action: Action,
    target: Target,
    peer: Option<Asn>,
    times: Option<u8>,
    level: Option<Level>,
    region: Option<Region>,
    standard: Option<String>,
    large: Option<String>,
    meaning: String,
    source: String,
    verified: bool,
}

/// One part of a community template: a number or the target AS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Fixed(u32),
    Asn,
}

/// One action community of a provider.
#[derive(Clone, Debug)]
pub struct Entry {
    /// What it does.
    pub action: Action,
    /// For one AS or for all.
    pub target: Target,
    /// Fixed target AS (entries that only exist for one peer).
    pub peer: Option<Asn>,
    /// Prepend count.
    pub times: Option<u8>,
    /// Local-pref level.
    pub level: Option<Level>,
    /// Region it is limited to.
    pub region: Option<Region>,
    standard: Option<[Slot; 2]>,
    large: Option<[Slot; 3]>,
    /// The meaning in our words (`{asn}` replaced when compiled).
    pub meaning: String,
    /// Where it comes from.
    pub source: String,
    /// Confirmed by the provider's own documentation.
    pub verified: bool,
}

/// What an entry compiles to for one target (the policy model's community value).
pub type Value = CommunityValue;

impl Entry {
    /// The community for `asn` (ignored for [`Target::All`]): standard when the AS fits in 16
    /// bits (or is not used), otherwise large. `None` when neither form can carry the AS.
    pub fn value(&self, asn: Option<Asn>) -> Option<Value> {
        let fill = |s: Slot| match s {
            Slot::Fixed(v) => Some(v),
            Slot::Asn => asn.map(|a| a.0),
        };
        if let Some([a, b]) = self.standard {
            if let (Some(a), Some(b)) = (fill(a), fill(b)) {
                if let (Ok(a), Ok(b)) = (u16::try_from(a), u16::try_from(b)) {
                    return Some(Value::Standard(Community::new(a, b)));
                }
            }
        }
        if let Some([a, b, c]) = self.large {
            if let (Some(a), Some(b), Some(c)) = (fill(a), fill(b), fill(c)) {
                return Some(Value::Large(LargeCommunity::new(a, b, c)));
            }
        }
        None
    }

    /// The typed effect of this entry for target `asn` (used by [`Target::Peer`] entries
    /// without a fixed `peer`); `None` when the entry needs an AS and none is given, or its
    /// fields do not make an effect (a prepend without `times`, a local-pref without `level`).
    pub fn effect(&self, asn: Option<Asn>) -> Option<Effect> {
        let to = match self.target {
            Target::Peer => Neighbors::As(self.peer.or(asn)?),
            Target::All => Neighbors::All,
            Target::Peers => Neighbors::Peers,
        };
        let region = self.region;
        Some(match self.action {
            Action::NoAnnounce => Effect::NoAnnounce { to, region },
            Action::Prepend => Effect::Prepend {
                times: self.times?,
                to,
                region,
            },
            Action::LocalPref => Effect::LocalPref {
                level: self.level?,
                region,
            },
            Action::NoExport => Effect::NoExport,
        })
    }

    /// The meaning with `{asn}` filled in.
    pub fn meaning_for(&self, asn: Option<Asn>) -> String {
        match asn.or(self.peer) {
            Some(a) => self.meaning.replace("{asn}", &a.0.to_string()),
            None => self.meaning.clone(),
        }
    }

    /// The community templates as written in the dictionary (`64600:{asn}`,
    /// `20473:6000:{asn}`): the standard form first, then the large one.
    pub fn templates(&self) -> Vec<String> {
        let show = |s: &Slot| match s {
            Slot::Fixed(v) => v.to_string(),
            Slot::Asn => "{asn}".to_owned(),
        };
        let mut v = Vec::new();
        if let Some(t) = &self.standard {
            v.push(t.iter().map(show).collect::<Vec<_>>().join(":"));
        }
        if let Some(t) = &self.large {
            v.push(t.iter().map(show).collect::<Vec<_>>().join(":"));
        }
        v
    }

    /// Why the entry's fields make no effect, if they do not.
    fn problem(&self) -> Option<String> {
        let has_asn = self.standard.iter().flatten().any(|s| *s == Slot::Asn)
            || self.large.iter().flatten().any(|s| *s == Slot::Asn);
        match self.action {
            Action::Prepend
                if !self
                    .times
                    .is_some_and(|t| (1..=crate::defaults::MAX_PREPEND).contains(&t)) =>
            {
                return Some(format!(
                    "a prepend needs times = 1..{}",
                    crate::defaults::MAX_PREPEND
                ));
            }
            Action::LocalPref if self.level.is_none() => {
                return Some(
                    "a local-pref needs level = \"lowest\", \"low\", \"peer\" or \"high\"".into(),
                );
            }
            _ => {}
        }
        if self.action != Action::Prepend && self.times.is_some() {
            return Some(format!(
                "times has no meaning for action = \"{}\"",
                self.action
            ));
        }
        if self.action != Action::LocalPref && self.level.is_some() {
            return Some(format!(
                "level has no meaning for action = \"{}\"",
                self.action
            ));
        }
        match self.target {
            Target::Peer if !has_asn && self.peer.is_none() => {
                Some("target = \"peer\" needs {asn} in the community or a fixed peer = AS".into())
            }
            Target::All | Target::Peers if has_asn => Some(format!(
                "{{asn}} in the community needs target = \"peer\", not \"{}\"",
                if self.target == Target::All {
                    "all"
                } else {
                    "peers"
                }
            )),
            _ => None,
        }
    }

    /// Operator words for this entry, e.g. `no-announce to AS{asn} in europe`.
    pub fn describe(&self) -> String {
        let mut s = self.action.to_string();
        if let Some(t) = self.times {
            s.push_str(&format!(" {t}x"));
        }
        if let Some(l) = self.level {
            s.push_str(&format!(" {l}"));
        }
        match (self.target, self.peer) {
            (Target::Peer, Some(p)) => s.push_str(&format!(" to {p}")),
            (Target::Peer, None) => s.push_str(" to AS<n>"),
            (Target::All, _) if matches!(self.action, Action::NoAnnounce | Action::Prepend) => {
                s.push_str(" to all")
            }
            (Target::Peers, _) => s.push_str(" to peers"),
            (Target::All, _) => {}
        }
        if let Some(r) = self.region {
            s.push_str(&format!(" in {r}"));
        }
        s
    }
}

/// One provider's dictionary.
#[derive(Clone, Debug)]
pub struct Provider {
    /// The id used in tern.toml (`vultr`), the file stem.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The provider's AS.
    pub asn: Asn,
    /// Passes third-party communities on to its own upstreams (so `via` works through it).
    pub passes_communities: bool,
    /// Whether that is confirmed by the provider.
    pub passes_communities_verified: bool,
    /// Where the dictionary comes from.
    pub source: String,
    /// Documented customer session parameters.
    pub session: Option<SessionDefaults>,
    /// Regions the provider's communities act in, sorted: `regions` of the dictionary, or
    /// those of its entries. Empty for a provider whose communities act everywhere alike.
    pub regions: Vec<Region>,
    /// Action communities.
    pub entries: Vec<Entry>,
    /// Where this dictionary comes from.
    pub origin: Origin,
    /// The text it was read from (`tern providers show NAME --toml` prints it).
    pub text: String,
    /// A file of the providers directory that replaces the built-in dictionary of this name.
    pub overrides_builtin: bool,
}

/// One dictionary entry made concrete for one neighbour: its effect and its community.
#[derive(Clone, Debug)]
pub struct Rule<'a> {
    /// The entry.
    pub entry: &'a Entry,
    /// What it does.
    pub effect: Effect,
    /// The community that asks for it.
    pub community: CommunityValue,
}

impl Provider {
    /// Parses one dictionary file.
    pub fn parse(id: &str, text: &str) -> Result<Provider, ProviderError> {
        let raw: RawDictionary = toml::from_str(text).map_err(|e| ProviderError::Syntax {
            id: id.to_owned(),
            message: e.message().replace('\n', " ").trim().to_owned(),
            span: e.span(),
        })?;
        let mut entries = Vec::with_capacity(raw.community.len());
        let mut spans = Vec::with_capacity(raw.community.len());
        for se in raw.community {
            let span = se.span();
            let e = se.into_inner();
            let bad = |t: &str| ProviderError::Template {
                id: id.to_owned(),
                template: t.to_owned(),
                span: span.clone(),
            };
            let standard = match &e.standard {
                Some(t) => Some(
                    slots::<2>(t)
                        .filter(|s| s.iter().all(|x| fits16(*x)))
                        .ok_or_else(|| bad(t))?,
                ),
                None => None,
            };
            let large = match &e.large {
                Some(t) => Some(slots::<3>(t).ok_or_else(|| bad(t))?),
                None => None,
            };
            if standard.is_none() && large.is_none() {
                return Err(bad(""));
            }
            let entry = Entry {
                action: e.action,
                target: e.target,
                peer: e.peer,
                times: e.times,
                level: e.level,
                region: e.region,
                standard,
                large,
                meaning: e.meaning,
                source: e.source,
                verified: e.verified,
            };
            if let Some(message) = entry.problem() {
                return Err(ProviderError::Entry {
                    id: id.to_owned(),
                    message,
                    span,
                });
            }
            entries.push(entry);
            spans.push(span);
        }
        let mut regions: Vec<Region> = entries.iter().filter_map(|e| e.region).collect();
        regions.sort();
        regions.dedup();
        if let Some(declared) = raw.provider.regions {
            if let Some((e, span)) = entries
                .iter()
                .zip(&spans)
                .find(|(e, _)| e.region.is_some_and(|r| !declared.contains(&r)))
            {
                return Err(ProviderError::Region {
                    id: id.to_owned(),
                    region: e.region.unwrap_or(Region::Europe),
                    span: span.clone(),
                });
            }
            regions = declared;
            regions.sort();
            regions.dedup();
        }
        Ok(Provider {
            id: id.to_owned(),
            name: raw.provider.name,
            asn: raw.provider.asn,
            passes_communities: raw.provider.passes_communities,
            passes_communities_verified: raw.provider.passes_communities_verified,
            source: raw.provider.source,
            session: raw.session,
            regions,
            entries,
            origin: Origin::Builtin,
            text: text.to_owned(),
            overrides_builtin: false,
        })
    }

    /// Every entry made concrete towards neighbour `to`, in dictionary order: entries for all
    /// neighbours, and entries for one AS when `to` is that AS (or, without a fixed `peer`,
    /// any AS). Entries that cannot be made concrete (no AS given, no community form for it)
    /// are left out.
    pub fn rules(&self, to: Option<Asn>) -> impl Iterator<Item = Rule<'_>> {
        self.entries.iter().filter_map(move |e| {
            let asn = match e.target {
                Target::Peer => {
                    if e.peer.is_some_and(|p| Some(p) != to) {
                        return None;
                    }
                    Some(to?)
                }
                Target::All | Target::Peers => None,
            };
            Some(Rule {
                entry: e,
                effect: e.effect(asn)?,
                community: e.value(asn)?,
            })
        })
    }

    /// What this provider supports, one line per entry kind, for error messages.
    pub fn supported(&self) -> String {
        if self.entries.is_empty() {
            return format!(
                "{} ({}) documents no action communities",
                self.name, self.asn
            );
        }
        let mut v: Vec<String> = self.entries.iter().map(Entry::describe).collect();
        v.dedup();
        format!("{} ({}) supports: {}", self.name, self.asn, v.join("; "))
    }
}

fn fits16(s: Slot) -> bool {
    match s {
        Slot::Fixed(v) => v <= 0xffff,
        Slot::Asn => true,
    }
}

fn slots<const N: usize>(t: &str) -> Option<[Slot; N]> {
    let mut out = [Slot::Fixed(0); N];
    let mut parts = t.split(':');
    for o in out.iter_mut() {
        let p = parts.next()?;
        *o = if p == "{asn}" {
            Slot::Asn
        } else {
            Slot::Fixed(p.parse().ok()?)
        };
    }
    parts.next().is_none().then_some(out)
}

/// All dictionaries known to this build.
#[derive(Clone, Debug)]
pub struct Providers(Vec<Provider>);

impl Providers {
    /// The dictionaries shipped in `providers/`.
    pub fn builtin() -> Result<Providers, ProviderError> {
        BUILTIN
            .iter()
            .map(|(id, text)| Provider::parse(id, text))
            .collect::<Result<Vec<_>, _>>()
            .map(Providers)
    }

    /// By id (`vultr`), name (`Vultr`, case-insensitive) or AS (`AS20473`, `20473`).
    pub fn find(&self, key: &str) -> Option<&Provider> {
        let asn = key.parse::<Asn>().ok();
        self.0
            .iter()
            .find(|p| p.id == key || p.name.eq_ignore_ascii_case(key) || Some(p.asn) == asn)
    }

    /// By AS.
    pub fn by_asn(&self, asn: Asn) -> Option<&Provider> {
        self.0.iter().find(|p| p.asn == asn)
    }

    /// Every dictionary.
    pub fn iter(&self) -> impl Iterator<Item = &Provider> {
        self.0.iter()
    }

    /// The dictionary id `key` is most likely a typo of (by id or name), for "did you mean".
    pub fn suggest(&self, key: &str) -> Option<&str> {
        let by_id = crate::diag::did_you_mean(key, self.0.iter().map(|p| p.id.as_str()));
        by_id.or_else(|| {
            let name = crate::diag::did_you_mean(key, self.0.iter().map(|p| p.name.as_str()))?;
            self.0
                .iter()
                .find(|p| p.name == name)
                .map(|p| p.id.as_str())
        })
    }

    /// The ids, for "known providers are …" messages.
    pub fn ids(&self) -> String {
        self.0
            .iter()
            .map(|p| p.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_dictionaries_parse() {
        let p = Providers::builtin().unwrap();
        assert_eq!(p.iter().count(), BUILTIN.len());
        let v = p.find("vultr").unwrap();
        assert_eq!(v.asn, Asn(20473));
        assert_eq!(v.session.as_ref().unwrap().remote_as, Asn(64515));
        assert!(p.find("AS174").is_some() && p.find("Hurricane Electric").is_some());
        for prov in p.iter() {
            for e in &prov.entries {
                // Every entry yields a value for a 16-bit and for a 32-bit target, or says so.
                let v = e.value(Some(Asn(6939)));
                assert!(v.is_some(), "{}: {}", prov.id, e.describe());
            }
        }
    }

    #[test]
    fn standard_then_large() {
        let p = Providers::builtin().unwrap();
        let v = p.find("vultr").unwrap();
        let no = v
            .entries
            .iter()
            .find(|e| e.action == Action::NoAnnounce)
            .unwrap();
        assert_eq!(
            no.value(Some(Asn(6939))),
            Some(Value::Standard(Community::new(64600, 6939)))
        );
        assert_eq!(
            no.value(Some(Asn(4_200_000_000))),
            Some(Value::Large(LargeCommunity::new(
                20473,
                6000,
                4_200_000_000
            )))
        );
    }

    #[test]
    fn rules_lookup_and_regions() {
        let p = Providers::builtin().unwrap();
        let v = p.find("vultr").unwrap();
        let he = Asn(6939);
        let rules: Vec<Rule<'_>> = v.rules(Some(he)).collect();
        assert_eq!(rules.len(), v.entries.len());
        assert!(rules.iter().any(|r| r.effect
            == Effect::NoAnnounce {
                to: Neighbors::As(he),
                region: None
            }
            && r.community == Value::Standard(Community::new(64600, 6939))));
        // Without a neighbour AS, per-AS entries are left out.
        assert_eq!(v.rules(None).count(), 4);
        let (e, asn) = v
            .lookup(Value::Standard(Community::new(64602, 174)))
            .unwrap();
        assert_eq!((e.times, asn), (Some(2), Some(Asn(174))));
        assert!(
            v.lookup(Value::Standard(Community::new(64609, 174)))
                .is_none()
        );
        assert!(v.owns(Value::Standard(Community::new(64600, 65000))));
        assert!(v.owns(Value::Standard(Community::new(20473, 7777))));
        assert!(
            v.lookup(Value::Standard(Community::new(20473, 7777)))
                .is_none()
        );
        assert!(!v.owns(Value::Standard(Community::new(174, 1))));
        let c = p.find("cogent").unwrap();
        assert!(c.regions.contains(&Region::NorthAmerica) && c.regions.contains(&Region::Europe));
        assert!(p.find("vultr").unwrap().regions.is_empty());
        let near = c.nearest(Value::Standard(Community::new(174, 972)));
        assert!(!near.is_empty() && near.len() <= 3, "{near:?}");
    }

    #[test]
    fn bad_template_is_an_error() {
        let t = "[provider]\nname='x'\nasn=1\npasses_communities=false\nsource='s'\n\
                 [[community]]\naction='no-export'\ntarget='all'\nstandard='70000:1'\n\
                 meaning='m'\nsource='s'\nverified=true\n";
        assert!(matches!(
            Provider::parse("x", t),
            Err(ProviderError::Template { .. })
        ));
    }
}
