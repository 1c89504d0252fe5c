//! IRR route objects from RPSL text (RFC 2622 §2–3, route6 from RFC 4012 §2), as `whois` prints
//! them or IRRd dumps its databases. `tern check` asks, for each announced prefix, whether a
//! `route`/`route6` object with our origin exists.
//!
//! Syntax handled (RFC 2622 §2): objects are separated by blank lines (lines of only whitespace
//! count as blank); each line is `attribute: value`, attribute names are case-insensitive; a line
//! starting with space, tab or `+` continues the previous attribute; lines starting with `%`
//! (whois server remarks) or `#` are comments, and `#` ends the value of the attributes we read.
//! Objects of other classes (aut-num, as-set, mntner, …) are skipped. A `route`/`route6` object
//! with a bad prefix, or with a missing or bad `origin`, makes the whole file an error naming the
//! line.

use std::collections::HashMap;
use std::path::Path;

use tern_types::{Afi, Asn, Prefix};

use crate::error::LoadError;

/// One `route` (IPv4) or `route6` (IPv6) object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteObject {
    /// The route prefix (the class attribute's value).
    pub prefix: Prefix,
    /// `origin:`, the AS allowed to originate it.
    pub origin: Asn,
    /// `source:` (RIPE, RADB, …), if given.
    pub source: Option<String>,
    /// `mnt-by:` maintainers, in order.
    pub mnt_by: Vec<String>,
    /// 1-based line of the `route`/`route6` attribute.
    pub line: usize,
}

impl std::fmt::Display for RouteObject {
    /// `route6 2001:db8::/48 origin AS64512 (source RIPE, line 4)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let class = match self.prefix.afi() {
            Afi::Ipv4 => "route",
            Afi::Ipv6 => "route6",
        };
        write!(f, "{class} {} origin {} (", self.prefix, self.origin)?;
        if let Some(s) = &self.source {
            write!(f, "source {s}, ")?;
        }
        write!(f, "line {})", self.line)
    }
}

/// Route objects loaded from RPSL, indexed by prefix.
#[derive(Clone, Debug, Default)]
pub struct IrrDb {
    objects: Vec<RouteObject>,
    by_prefix: HashMap<Prefix, Vec<usize>>,
}

/// One attribute with its 1-based line and the value (continuations joined with a space).
struct Attr {
    name: String,
    value: String,
    line: usize,
}

impl IrrDb {
    /// Loads RPSL from a file.
    pub fn from_rpsl_file(path: &Path) -> Result<IrrDb, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses RPSL text; `source_name` names it in errors.
    pub fn from_rpsl_str(text: &str, source_name: &str) -> Result<IrrDb, LoadError> {
        Self::parse(text, Path::new(source_name))
    }

    /// Route objects for exactly `prefix`, in file order.
    pub fn routes_for(&self, prefix: &Prefix) -> Vec<&RouteObject> {
        self.by_prefix
            .get(prefix)
            .map(|ix| ix.iter().map(|&i| &self.objects[i]).collect())
            .unwrap_or_default()
    }

    /// Route objects for `prefix` or any less-specific that contains it, shortest first. Many
    /// IRR-based filters accept only exact objects; use this to say what exists instead.
    pub fn covering_routes(&self, prefix: &Prefix) -> Vec<&RouteObject> {
        (0..=prefix.len())
            .filter_map(|len| Prefix::truncating(prefix.addr(), len))
            .flat_map(|p| self.routes_for(&p))
            .collect()
    }

    /// Every route object, in file order.
    pub fn objects(&self) -> &[RouteObject] {
        &self.objects
    }

    /// Number of route objects.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// No route objects.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    fn parse(text: &str, path: &Path) -> Result<IrrDb, LoadError> {
        let mut db = IrrDb::default();
        let mut object: Vec<Attr> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            if raw.trim().is_empty() {
                db.finish(&mut object, path)?;
                continue;
            }
            if raw.starts_with('%') || raw.starts_with('#') {
                continue;
            }
            if raw.starts_with([' ', '\t', '+']) {
                let Some(last) = object.last_mut() else {
                    return Err(LoadError::rpsl(
                        path,
                        line,
                        "continuation line outside an object (a line starting with space, tab or \
                         '+' must follow an attribute)",
                    ));
                };
                let more = raw[1..].trim();
                if !more.is_empty() {
                    if !last.value.is_empty() {
                        last.value.push(' ');
                    }
                    last.value.push_str(more);
                }
                continue;
            }
            let Some((name, value)) = raw.split_once(':') else {
                return Err(LoadError::rpsl(
                    path,
                    line,
                    format!("expected \"attribute: value\", found {:?}", truncate(raw)),
                ));
            };
            let name = name.trim();
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(LoadError::rpsl(
                    path,
                    line,
                    format!("invalid attribute name {:?}", truncate(name)),
                ));
            }
            object.push(Attr {
                name: name.to_ascii_lowercase(),
                value: value.trim().to_owned(),
                line,
            });
        }
        db.finish(&mut object, path)?;
        Ok(db)
    }

    /// Ends the current object: keeps it if it is a route or route6, then clears it.
    fn finish(&mut self, object: &mut Vec<Attr>, path: &Path) -> Result<(), LoadError> {
        let attrs = std::mem::take(object);
        let Some(first) = attrs.first() else {
            return Ok(());
        };
        let afi = match first.name.as_str() {
            "route" => Afi::Ipv4,
            "route6" => Afi::Ipv6,
            _ => return Ok(()),
        };
        let class = first.name.as_str();
        let text = strip_comment(&first.value);
        let prefix: Prefix = text
            .parse()
            .map_err(|e| LoadError::rpsl(path, first.line, format!("{class}: {e}")))?;
        if prefix.afi() != afi {
            let want = if afi == Afi::Ipv4 { "route6" } else { "route" };
            return Err(LoadError::rpsl(
                path,
                first.line,
                format!(
                    "{class}: {prefix} is an {} prefix; use a {want} object",
                    prefix.afi()
                ),
            ));
        }
        let mut origin = None;
        let mut source = None;
        let mut mnt_by = Vec::new();
        for a in &attrs[1..] {
            let v = strip_comment(&a.value);
            match a.name.as_str() {
                "origin" => {
                    if origin.is_some() {
                        return Err(LoadError::rpsl(
                            path,
                            a.line,
                            format!("{class} {prefix}: more than one origin attribute"),
                        ));
                    }
                    let asn: Asn = v.parse().map_err(|e| {
                        LoadError::rpsl(path, a.line, format!("{class} {prefix}: origin: {e}"))
                    })?;
                    origin = Some(asn);
                }
                "source" => source = Some(v.to_owned()),
                "mnt-by" => mnt_by.extend(
                    v.split([',', ' ', '\t'])
                        .filter(|m| !m.is_empty())
                        .map(str::to_owned),
                ),
                _ => {}
            }
        }
        let Some(origin) = origin else {
            return Err(LoadError::rpsl(
                path,
                first.line,
                format!("{class} {prefix} has no origin attribute"),
            ));
        };
        self.by_prefix
            .entry(prefix)
            .or_default()
            .push(self.objects.len());
        self.objects.push(RouteObject {
            prefix,
            origin,
            source,
            mnt_by,
            line: first.line,
        });
        Ok(())
    }
}

/// The value before an end-of-line `#` comment (RFC 2622 §2), trimmed.
fn strip_comment(v: &str) -> &str {
    v.split('#').next().unwrap_or("").trim()
}

/// At most 60 characters of `s`, for error messages.
fn truncate(s: &str) -> String {
    let mut t: String = s.chars().take(60).collect();
    if t.len() < s.len() {
        t.push('…');
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Prefix {
        s.parse().unwrap()
    }

    /// A whois answer as RIPE prints it: server remarks, two objects, a non-route class.
    const WHOIS: &str = "\
% This is the RIPE Database query service.
% The objects are in RPSL format.

route6:         2001:db8:100::/48
descr:          anycast
                prefix of the lab network
origin:         AS64512
mnt-by:         LAB-MNT
mnt-by:         OTHER-MNT, THIRD-MNT
created:        2024-01-01T00:00:00Z
source:         RIPE # Filtered

% Information related to 'AS64512'

aut-num:        AS64512
as-name:        LAB
import:         from AS64513 accept ANY
source:         RIPE

ROUTE:          192.0.2.0/24
Origin:         as64513 # comment after the value
+
Source:         RADB
";

    #[test]
    fn whois_output_with_remarks_and_classes() {
        let db = IrrDb::from_rpsl_str(WHOIS, "whois.txt").unwrap();
        assert_eq!(db.len(), 2, "aut-num is skipped");
        let r = db.routes_for(&p("2001:db8:100::/48"));
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].origin, Asn(64512));
        assert_eq!(r[0].source.as_deref(), Some("RIPE"));
        assert_eq!(r[0].mnt_by, ["LAB-MNT", "OTHER-MNT", "THIRD-MNT"]);
        assert_eq!(r[0].line, 4);
        assert_eq!(
            r[0].to_string(),
            "route6 2001:db8:100::/48 origin AS64512 (source RIPE, line 4)"
        );
        // Upper-case attribute names, "as64513", '#' comment and an empty '+' continuation.
        let r = db.routes_for(&p("192.0.2.0/24"));
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].origin, Asn(64513));
        assert_eq!(r[0].source.as_deref(), Some("RADB"));
        assert_eq!(r[0].line, 20);
        // Exact prefix only.
        assert!(db.routes_for(&p("2001:db8:100::/47")).is_empty());
        assert!(db.routes_for(&p("2001:db8:100::/64")).is_empty());
        // A more-specific is covered by the /48 object; a less-specific is not.
        let cov = db.covering_routes(&p("2001:db8:100:ff::/64"));
        assert_eq!(cov.len(), 1);
        assert_eq!(cov[0].prefix, p("2001:db8:100::/48"));
        assert!(db.covering_routes(&p("2001:db8::/32")).is_empty());
    }

    /// IRRd dump style: objects back to back, several objects for one prefix, continuation of
    /// the class attribute value itself with a tab.
    #[test]
    fn dump_with_multiple_origins_and_continuations() {
        let text = "route6: 2001:db8:200::/48\norigin: AS64512\nsource: RADB\n\n\
                    route6: 2001:db8:200::/48\norigin:\n\tAS64514\nsource: RIPE\n\n\
                    route6:\n 2001:db8:300::/48\norigin: AS4200000001\n";
        let db = IrrDb::from_rpsl_str(text, "dump.db").unwrap();
        let origins: Vec<Asn> = db
            .routes_for(&p("2001:db8:200::/48"))
            .iter()
            .map(|r| r.origin)
            .collect();
        assert_eq!(origins, [Asn(64512), Asn(64514)]);
        assert_eq!(
            db.routes_for(&p("2001:db8:300::/48"))[0].origin,
            Asn(4_200_000_001)
        );
        assert_eq!(db.objects().len(), 3);
    }

    #[test]
    fn whitespace_only_line_separates_and_crlf_works() {
        let text = "route: 198.51.100.0/24\r\norigin: AS64512\r\n   \r\nroute: 203.0.113.0/24\r\norigin: AS64513\r\n";
        let db = IrrDb::from_rpsl_str(text, "crlf.txt").unwrap();
        assert_eq!(db.len(), 2);
        assert_eq!(db.routes_for(&p("203.0.113.0/24"))[0].line, 4);
    }

    #[test]
    fn bad_prefix_is_an_error_with_line() {
        let text = "mntner: LAB-MNT\nsource: RIPE\n\nroute6: 2001:db8::1/48\norigin: AS64512\n";
        let e = IrrDb::from_rpsl_str(text, "bad.txt").unwrap_err();
        assert_eq!(e.line(), Some(4));
        let msg = e.to_string();
        assert!(msg.starts_with("bad.txt:4: route6:"), "{msg}");
        assert!(msg.contains("host bits"), "{msg}");
    }

    #[test]
    fn other_errors_name_the_line() {
        let cases = [
            (
                "route: 2001:db8::/32\norigin: AS1\n",
                1,
                "use a route6 object",
            ),
            (
                "route6: 2001:db8::/32\norigin: ASX\n",
                2,
                "invalid AS number",
            ),
            ("route6: 2001:db8::/32\nsource: RIPE\n", 1, "no origin"),
            (
                "route6: 2001:db8::/32\norigin: AS1\norigin: AS2\n",
                3,
                "more than one origin",
            ),
            (
                "route6: 2001:db8::/32\nthis is not rpsl\n",
                2,
                "expected \"attribute: value\"",
            ),
            (
                "  leading continuation\n",
                1,
                "continuation line outside an object",
            ),
            ("bad name: x\n", 1, "invalid attribute name"),
        ];
        for (text, line, what) in cases {
            let e = IrrDb::from_rpsl_str(text, "t").unwrap_err();
            assert_eq!(e.line(), Some(line), "{text:?}: {e}");
            assert!(e.to_string().contains(what), "{text:?}: {e}");
        }
    }

    #[test]
    fn empty_and_comment_only_inputs() {
        assert!(IrrDb::from_rpsl_str("", "e").unwrap().is_empty());
        assert!(
            IrrDb::from_rpsl_str("% nothing\n# here\n\n", "e")
                .unwrap()
                .is_empty()
        );
    }
}
