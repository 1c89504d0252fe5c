//! Catchment: which anycast site each probe reached, from the best evidence available.
//!
//! Evidence, strongest first: NSID (RFC 5001), CHAOS TXT `id.server` / `hostname.bind`
//! (RFC 4892) and identity CNAMEs, an HTTP trace body (`site=` / `colo=` line), traceroute hops
//! matching a site's upstream router addresses, then its unicast prefixes, and — for a third-party
//! target without hints — the network of the last hop before the destination. Site hints come
//! from a small file of their own ([`SiteHints`]); the coordinator builds it from tern.toml.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tern_types::{Prefix, SiteId};

use crate::error::AtlasError;
use crate::record::{Body, Record};

/// What is known about the sites, to recognise them in measurements.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteHints {
    /// The sites.
    #[serde(default)]
    pub sites: Vec<SiteHint>,
    /// Warnings from loading (e.g. a tern.toml with validation errors); not part of the format.
    #[serde(skip)]
    pub notes: Vec<String>,
}

/// One site.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteHint {
    /// Site id as in tern.toml (`fra1`).
    pub id: SiteId,
    /// IATA code of the nearest airport (`FRA`), also recognised in names.
    #[serde(default)]
    pub iata: Option<String>,
    /// Latitude, degrees.
    #[serde(default)]
    pub lat: Option<f64>,
    /// Longitude, degrees.
    #[serde(default)]
    pub lon: Option<f64>,
    /// The site's unicast prefixes (hops inside them belong to the site).
    #[serde(default)]
    pub prefixes: Vec<Prefix>,
    /// Upstream router addresses at the site (the hop before us).
    #[serde(default)]
    pub router_addrs: Vec<IpAddr>,
    /// Patterns naming the site in CHAOS/NSID answers: `*` globs (`*.fra.*`), or a plain word
    /// that must equal the whole answer or one of its labels (case-insensitive).
    #[serde(default)]
    pub names: Vec<String>,
}

impl SiteHint {
    /// (lat, lon) when both are known.
    pub fn location(&self) -> Option<(f64, f64)> {
        Some((self.lat?, self.lon?))
    }

    fn names_match(&self, answer: &str) -> bool {
        let answer = answer.to_ascii_lowercase();
        let words = std::iter::once(self.id.as_str()).chain(self.iata.as_deref());
        let tokens: Vec<&str> = answer.split(['.', '-', ' ']).collect();
        let word_hit = |w: &str| {
            let w = w.to_ascii_lowercase();
            answer == w || tokens.iter().any(|t| *t == w)
        };
        words.clone().any(word_hit)
            || self.names.iter().any(|p| {
                if p.contains('*') {
                    glob(&p.to_ascii_lowercase(), &answer)
                } else {
                    word_hit(p)
                }
            })
    }
}

/// `*`-only glob match (iterative, linear in practice).
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

impl SiteHints {
    /// Reads hints from a tern.toml (the network model: see [`SiteHints::from_network`]), or a
    /// `.json` or `.toml` hints file (`[[sites]]` tables).
    pub fn load(path: &Path) -> Result<SiteHints, AtlasError> {
        let text = std::fs::read_to_string(path).map_err(|source| AtlasError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let origin = path.display().to_string();
        let is_toml = path.extension().is_some_and(|e| e == "toml");
        if is_toml && crate::model::is_tern_toml(&text) {
            return SiteHints::from_tern_toml(path);
        }
        let hints: SiteHints = if is_toml {
            toml::from_str(&text).map_err(|e| AtlasError::Hints {
                origin,
                reason: e.to_string(),
            })?
        } else {
            serde_json::from_str(&text).map_err(|e| AtlasError::Hints {
                origin,
                reason: e.to_string(),
            })?
        };
        Ok(hints)
    }

    /// The site an answer (NSID, CHAOS TXT, trace `colo`) names.
    pub fn site_named(&self, answer: &str) -> Option<&SiteHint> {
        self.sites.iter().find(|s| s.names_match(answer))
    }

    /// The site owning a hop address, and whether it matched a router address (else a prefix).
    pub fn site_of_addr(&self, addr: IpAddr) -> Option<(&SiteHint, Evidence)> {
        if let Some(s) = self.sites.iter().find(|s| s.router_addrs.contains(&addr)) {
            return Some((s, Evidence::HopRouter));
        }
        self.sites
            .iter()
            .find(|s| s.prefixes.iter().any(|p| p.contains_addr(&addr)))
            .map(|s| (s, Evidence::HopPrefix))
    }

    /// A site by id.
    pub fn site(&self, id: &str) -> Option<&SiteHint> {
        self.sites.iter().find(|s| s.id.as_str() == id)
    }
}

/// Kinds of evidence, strongest first (the derived order is the ranking).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Evidence {
    /// NSID option in the DNS response.
    Nsid,
    /// CHAOS TXT (or identity CNAME) answer.
    Chaos,
    /// HTTP trace body.
    HttpTrace,
    /// A hop equal to a site's upstream router address.
    HopRouter,
    /// A hop inside a site's unicast prefix.
    HopPrefix,
    /// No hints: grouped by the network of the last hop before the destination (a hand-over
    /// point: mostly IXP LANs and transit routers, not a site).
    LastHop,
}

impl Evidence {
    /// Short name for tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::Nsid => "nsid",
            Evidence::Chaos => "chaos",
            Evidence::HttpTrace => "http-trace",
            Evidence::HopRouter => "hop-router",
            Evidence::HopPrefix => "hop-prefix",
            Evidence::LastHop => "last-hop",
        }
    }

    /// What a key found with this evidence is, in words.
    pub fn describes(self) -> &'static str {
        match self {
            Evidence::LastHop => "last hop before the target",
            _ => "site",
        }
    }
}

/// Addresses that never identify a site or a hand-over point: private and shared space
/// (10/8, 172.16/12, 192.168/16, 100.64/10), loopback, link-local (169.254/16, fe80::/10),
/// unique local (fc00::/7), unspecified, multicast, and documentation space is kept (the lab
/// uses it).
pub fn is_private(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => {
            let o = a.octets();
            a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || a.is_unspecified()
                || a.is_broadcast()
                || a.is_multicast()
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || o[0] == 0
        }
        IpAddr::V6(a) => {
            let seg = a.segments();
            if let Some(v4) = a.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            a.is_loopback()
                || a.is_unspecified()
                || a.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00
                || (seg[0] & 0xffc0) == 0xfe80
        }
    }
}

/// The catchment of one probe.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Catchment {
    /// The site, or `None` ("unknown").
    pub site: Option<String>,
    /// The evidence used.
    pub evidence: Option<Evidence>,
    /// The observation behind it (the name answered, or the hop address).
    pub detail: Option<String>,
    /// Every site seen by this probe with that evidence (more than one: site flipping).
    pub seen: Vec<String>,
}

/// The site token of an instance name when there are no hints, following common naming
/// schemes: the first three-letter label (or `-` part) that is not the TLD (`res300.vie.rrdns.pch.net` →
/// `vie`), else a label that starts with three letters and then digits (`mia01.l.root-servers.org`
/// → `mia`), else the first label.
pub fn site_token(name: &str) -> String {
    let lower = name.trim().trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = lower.split('.').collect();
    let body = if labels.len() >= 3 {
        &labels[..labels.len() - 1]
    } else {
        &labels[..]
    };
    let parts = || body.iter().flat_map(|l| l.split('-'));
    if let Some(t) = parts().find(|t| t.len() == 3 && t.bytes().all(|b| b.is_ascii_alphabetic())) {
        return t.to_string();
    }
    // Byte tests only: the first three bytes are checked to be ASCII before slicing there.
    let letters_digits = |t: &&str| {
        let b = t.as_bytes();
        b.len() > 3
            && b[..3].iter().all(u8::is_ascii_alphabetic)
            && b[3..].iter().all(u8::is_ascii_digit)
    };
    if let Some(t) = parts().find(letters_digits) {
        return t[..3].to_string();
    }
    labels.first().map(|s| s.to_string()).unwrap_or_default()
}

/// One observation: (evidence, site, detail).
type Observation = (Evidence, String, String);

fn name_site(hints: Option<&SiteHints>, name: &str) -> String {
    match hints.and_then(|h| h.site_named(name)) {
        Some(s) => s.id.to_string(),
        None => site_token(name),
    }
}

/// The group label of an address without hints: its /24 (IPv4) or /48 (IPv6).
fn network_label(addr: IpAddr) -> String {
    let len = if addr.is_ipv4() { 24 } else { 48 };
    match Prefix::truncating(addr, len) {
        Some(p) => format!("via {p}"),
        None => format!("via {addr}"),
    }
}

/// The hand-over point of a traceroute that reached its target: the last public hop before the
/// target (private addresses are skipped: they are the probe's own network or tunnels).
pub fn hand_over(t: &crate::record::Traceroute, dst: Option<IpAddr>) -> Option<IpAddr> {
    if !t.destination_responded(dst) {
        return None;
    }
    t.hops.iter().rev().find_map(|h| {
        h.replies
            .iter()
            .filter_map(|r| r.from)
            .find(|a| Some(*a) != dst && !is_private(*a))
    })
}

/// The votes of one probe's records, kept as counts (memory bounded by the sites seen, not
/// by the records read): only the strongest evidence seen so far counts.
#[derive(Clone, Debug, Default)]
pub struct Votes {
    best: Option<Evidence>,
    /// Site → (votes, first detail).
    sites: BTreeMap<String, (usize, String)>,
    scratch: Vec<Observation>,
}

impl Votes {
    /// Adds the evidence of one record.
    pub fn add(&mut self, record: &Record, hints: Option<&SiteHints>) {
        let mut obs = std::mem::take(&mut self.scratch);
        observe(record, hints, &mut obs);
        for (e, site, detail) in obs.drain(..) {
            match self.best {
                Some(b) if e > b => continue,
                Some(b) if e == b => {}
                _ => {
                    self.best = Some(e);
                    self.sites.clear();
                }
            }
            self.sites.entry(site).or_insert((0, detail)).0 += 1;
        }
        self.scratch = obs;
    }

    /// Adds the votes of records read after these (another part of the same run, in input
    /// order): the same result as adding those records here one by one.
    pub fn merge(&mut self, later: Votes) {
        let Some(e) = later.best else { return };
        match self.best {
            Some(b) if e > b => {}
            Some(b) if e == b => {
                for (site, (n, detail)) in later.sites {
                    self.sites.entry(site).or_insert((0, detail)).0 += n;
                }
            }
            _ => {
                self.best = later.best;
                self.sites = later.sites;
            }
        }
    }

    /// The catchment these votes give: majority; ties go to the alphabetically first site so
    /// the result is deterministic.
    pub fn catchment(&self) -> Catchment {
        let best = self
            .sites
            .iter()
            .max_by(|a, b| a.1.0.cmp(&b.1.0).then(b.0.cmp(a.0)));
        match (self.best, best) {
            (Some(e), Some((site, (_, detail)))) => Catchment {
                site: Some(site.clone()),
                evidence: Some(e),
                detail: Some(detail.clone()),
                seen: self.sites.keys().cloned().collect(),
            },
            _ => Catchment {
                site: None,
                evidence: None,
                detail: None,
                seen: Vec::new(),
            },
        }
    }
}

fn observe(record: &Record, hints: Option<&SiteHints>, out: &mut Vec<Observation>) {
    match &record.body {
        Body::Dns(d) => {
            for resp in &d.responses {
                if let Some(n) = resp
                    .message
                    .as_ref()
                    .and_then(|m| m.nsid())
                    .map(tern_dns::escape)
                {
                    out.push((Evidence::Nsid, name_site(hints, &n), n));
                }
                let names = match &resp.message {
                    Some(m) => m.identity_names(),
                    None => resp.answer_txt.clone(),
                };
                for n in names {
                    out.push((Evidence::Chaos, name_site(hints, &n), n));
                }
            }
        }
        Body::Http(h) => {
            for r in &h.results {
                if let Some(s) = r.trace_site() {
                    let site = match hints.and_then(|h| h.site_named(&s)) {
                        Some(site) => site.id.to_string(),
                        None => s.to_ascii_lowercase(),
                    };
                    out.push((Evidence::HttpTrace, site, s));
                }
            }
        }
        Body::Traceroute(t) => {
            if let Some(h) = hints {
                // The matching hop nearest to the destination.
                let hit = t.hops.iter().rev().find_map(|hop| {
                    hop.replies
                        .iter()
                        .filter_map(|r| r.from)
                        .find_map(|a| h.site_of_addr(a).map(|(s, e)| (e, s.id.to_string(), a)))
                });
                if let Some((e, site, a)) = hit {
                    out.push((e, site, a.to_string()));
                    return;
                }
            }
            if let Some(a) = hand_over(t, record.dst_addr) {
                out.push((Evidence::LastHop, network_label(a), a.to_string()));
            }
        }
        Body::Ping(_) | Body::Other { .. } => {}
    }
}

/// The catchment of one probe from all its records.
pub fn classify(records: &[&Record], hints: Option<&SiteHints>) -> Catchment {
    let mut votes = Votes::default();
    for r in records {
        votes.add(r, hints);
    }
    votes.catchment()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_from_naming_schemes() {
        assert_eq!(site_token("res300.vie.rrdns.pch.net"), "vie");
        assert_eq!(site_token("res110.mia.on.quad9.net"), "mia");
        assert_eq!(site_token("mia01.l.root-servers.org"), "mia");
        assert_eq!(site_token("s04-ns2.jnb"), "jnb");
        assert_eq!(site_token("cache-sjc1000133-SJC"), "sjc");
        assert_eq!(site_token("fra1"), "fra");
        assert_eq!(site_token("instance7"), "instance7");
        // Multi-byte characters where the three letters would end: no panic.
        assert_eq!(site_token("ab\u{e9}1.x"), "ab\u{e9}1");
    }

    #[test]
    fn globs() {
        assert!(glob("*.fra.*", "res1.fra.example.net"));
        assert!(!glob("*.fra.*", "res1.fr.example.net"));
        assert!(glob("fra*", "fra1"));
        assert!(glob("*", ""));
        assert!(!glob("a*b", "ac"));
    }

    #[test]
    fn hints_match_names_and_addresses() {
        let hints: SiteHints = serde_json::from_str(
            r#"{"sites":[{"id":"fra1","iata":"FRA","lat":50.1,"lon":8.7,
                 "prefixes":["2001:db8:1::/48"],"router_addrs":["198.51.100.1"],"names":["*.de-fra.*"]},
                {"id":"ams1","names":["ns1-ams"]}]}"#,
        )
        .unwrap();
        assert_eq!(
            hints.site_named("res1.fra.example").unwrap().id.as_str(),
            "fra1"
        );
        assert_eq!(hints.site_named("x.de-fra.y").unwrap().id.as_str(), "fra1");
        assert_eq!(hints.site_named("FRA1").unwrap().id.as_str(), "fra1");
        assert_eq!(hints.site_named("ns1-ams").unwrap().id.as_str(), "ams1");
        assert!(hints.site_named("lhr").is_none());
        let (s, e) = hints.site_of_addr("198.51.100.1".parse().unwrap()).unwrap();
        assert_eq!((s.id.as_str(), e), ("fra1", Evidence::HopRouter));
        assert!(serde_json::from_str::<SiteHints>(r#"{"sites":[{"id":"Not A Site"}]}"#).is_err());
        let (_, e) = hints
            .site_of_addr("2001:db8:1::9".parse().unwrap())
            .unwrap();
        assert_eq!(e, Evidence::HopPrefix);
        assert!(hints.site_of_addr("192.0.2.1".parse().unwrap()).is_none());
        assert!(serde_json::from_str::<SiteHints>(r#"{"sites":[{"id":"a","colour":1}]}"#).is_err());
    }
}

#[cfg(test)]
mod private_tests {
    use super::*;

    #[test]
    fn private_addresses() {
        for a in [
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "169.254.1.1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_private(a.parse().unwrap()), "{a}");
        }
        for a in [
            "172.32.0.1",
            "100.128.0.1",
            "80.81.193.1",
            "2001:7f8::1",
            "192.0.2.1",
        ] {
            assert!(!is_private(a.parse().unwrap()), "{a}");
        }
    }
}
