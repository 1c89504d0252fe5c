//! The collector every validation step writes to: the source (for file:line:col), the provider
//! dictionaries, and the diagnostics found so far; plus the small parsers several steps share.

use std::ops::Range;
use std::str::FromStr;

use tern_types::{Community, LargeCommunity};
use toml::Spanned;

use crate::diag::{Diagnostic, Location, Severity, Source};
use crate::provider::Providers;

/// Collects diagnostics while validating one file.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub(crate) src: &'a Source,
    pub(crate) providers: &'a Providers,
    pub(crate) own_asn: tern_types::Asn,
    pub(crate) diags: Vec<Diagnostic>,
}

impl Ctx<'_> {
    pub(crate) fn loc(&self, span: &Range<usize>) -> Location {
        self.src.span(span)
    }

    pub(crate) fn push(
        &mut self,
        severity: Severity,
        code: &'static str,
        span: &Range<usize>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        let d = Diagnostic::new(severity, code, Some(self.loc(span)), message).with_fix(fix);
        self.diags.push(d);
    }

    pub(crate) fn error(
        &mut self,
        code: &'static str,
        span: &Range<usize>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.push(Severity::Error, code, span, message, fix);
    }

    /// Parses text with its own syntax, reporting a `bad-<what>` error on failure.
    pub(crate) fn parse<T>(&mut self, what: &'static str, s: &Spanned<String>) -> Option<T>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        match s.get_ref().parse::<T>() {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(what, &s.span(), e.to_string(), "correct the value");
                None
            }
        }
    }

    pub(crate) fn communities(
        &mut self,
        std: &[Spanned<String>],
        large: &[Spanned<String>],
    ) -> (Vec<Community>, Vec<LargeCommunity>) {
        let mut c = Vec::new();
        for s in std {
            if let Some(v) = self.parse::<Community>("bad-community", s) {
                let well_known = [
                    Community::NO_EXPORT,
                    Community::NO_ADVERTISE,
                    Community::NO_EXPORT_SUBCONFED,
                    Community::GRACEFUL_SHUTDOWN,
                    Community::BLACKHOLE,
                ];
                if v.is_reserved() && !well_known.contains(&v) {
                    self.push(
                        Severity::Warning,
                        "community-reserved",
                        &s.span(),
                        format!("{v} is in a reserved range (0:x and 65535:x, RFC 1997) and is not a well-known community"),
                        "use the provider's documented community instead",
                    );
                }
                if c.contains(&v) {
                    self.push(
                        Severity::Warning,
                        "community-duplicate",
                        &s.span(),
                        format!("community {v} is listed twice"),
                        "remove the duplicate",
                    );
                }
                c.push(v);
            }
        }
        let mut l = Vec::new();
        for s in large {
            if let Some(v) = self.parse::<LargeCommunity>("bad-community", s) {
                l.push(v);
            }
        }
        (c, l)
    }
}

/// Resolves a provider name to a dictionary id, or reports it.
pub(crate) fn provider_ref(cx: &mut Ctx<'_>, p: &Spanned<String>) -> Option<String> {
    match cx.providers.find(p.get_ref()) {
        Some(prov) => Some(prov.id.clone()),
        None => {
            let ids = cx.providers.ids();
            let hint = match cx.providers.suggest(p.get_ref()) {
                Some(s) => format!(" (did you mean `{s}`?)"),
                None => String::new(),
            };
            cx.error(
                "unknown-provider",
                &p.span(),
                format!("no provider dictionary {:?}{hint}", p.get_ref()),
                format!("use one of: {ids}; or leave provider out and use raw communities"),
            );
            None
        }
    }
}
