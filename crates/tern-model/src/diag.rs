//! Diagnostics: what `tern check` prints, one per problem, each pointing at file:line:col with a
//! severity, a stable code and a fix (STYLE habit 7: collect every problem, never stop at the first).

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// How bad a finding is. `tern check` exits 1 when any [`Severity::Error`] is present.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Something worth knowing (e.g. a lab-only relaxation that applied).
    Info,
    /// Works, but probably not what you want, or not verified.
    Warning,
    /// The network would not work as described or would harm others.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// A place in a file, 1-based.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Location {
    /// The file as given on the command line.
    pub file: PathBuf,
    /// Line, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub col: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.col)
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error, warning or info.
    pub severity: Severity,
    /// Stable kebab-case code (`prefix-overlap`, `rpki-invalid`, …), for filtering and tests.
    pub code: &'static str,
    /// Where it is; `None` for findings about the network as a whole.
    pub location: Option<Location>,
    /// What is wrong, in one sentence.
    pub message: String,
    /// What to do about it.
    pub fix: Option<String>,
}

impl Diagnostic {
    /// A finding without a fix yet.
    pub fn new(
        severity: Severity,
        code: &'static str,
        location: Option<Location>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity,
            code,
            location,
            message: message.into(),
            fix: None,
        }
    }

    /// Adds the fix.
    pub fn with_fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    /// `file:line:col: severity[code]: message` and, on the next line, `  fix: …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(l) = &self.location {
            write!(f, "{l}: ")?;
        }
        write!(f, "{}[{}]: {}", self.severity, self.code, self.message)?;
        if let Some(fix) = &self.fix {
            write!(f, "\n    fix: {fix}")?;
        }
        Ok(())
    }
}

/// The text of one input file, to turn byte offsets (serde spans) into line:col.
#[derive(Clone, Debug)]
pub struct Source {
    path: PathBuf,
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
    text: String,
}

impl Source {
    /// Wraps a file's text.
    pub fn new(path: impl AsRef<Path>, text: impl Into<String>) -> Self {
        let text = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Source {
            path: path.as_ref().to_path_buf(),
            line_starts,
            text,
        }
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The location of a byte offset (clamped to the text).
    pub fn location(&self, offset: usize) -> Location {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts[line - 1];
        let col = self
            .text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(0)
            + 1;
        Location {
            file: self.path.clone(),
            line,
            col,
        }
    }

    /// The location of the start of a span.
    pub fn span(&self, span: &Range<usize>) -> Location {
        self.location(span.start)
    }
}

/// The candidate closest to `word` by edit distance (see `edit_distance`, case-insensitive), when it
/// is close enough to be a typo: at most 1 edit for words up to 4 characters, 2 up to 8, else 3.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let w = word.to_ascii_lowercase();
    let limit = match w.chars().count() {
        0..=4 => 1,
        5..=8 => 2,
        _ => 3,
    };
    candidates
        .into_iter()
        .map(|c| (edit_distance(&w, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= limit && !c.eq_ignore_ascii_case(word))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance in characters: insertions, deletions, substitutions and transpositions of
/// neighbours (optimal string alignment), so `aisa` is one edit from `asia`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// A serde "unknown field `x`, expected one of `a`, `b`" (or "unknown variant") message with
/// " (did you mean `b`?)" added when one expected name is a likely typo of `x`.
pub fn with_suggestion(message: &str) -> String {
    let Some(rest) = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("unknown variant `"))
    else {
        return message.to_owned();
    };
    let Some((word, expected)) = rest.split_once('`') else {
        return message.to_owned();
    };
    let names: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    match did_you_mean(word, names) {
        Some(s) => format!("{message} (did you mean `{s}`?)"),
        None => message.to_owned(),
    }
}

/// Counts by severity.
pub fn count(diags: &[Diagnostic], severity: Severity) -> usize {
    diags.iter().filter(|d| d.severity == severity).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_for_typos_only() {
        assert_eq!(
            did_you_mean("neighbour", ["name", "neighbor", "provider"]),
            Some("neighbor")
        );
        assert_eq!(did_you_mean("xyz", ["name", "neighbor"]), None);
        assert_eq!(did_you_mean("cogen", ["cogent", "gtt"]), Some("cogent"));
        let m = "unknown field `neighbour`, expected one of `name`, `neighbor`, `remote_as`";
        assert_eq!(
            with_suggestion(m),
            format!("{m} (did you mean `neighbor`?)")
        );
        let m = "unknown variant `aisa`, expected one of `europe`, `asia`";
        assert!(with_suggestion(m).ends_with("(did you mean `asia`?)"));
        let m = "unknown field `bogus`, expected `transits` or `probe_regions`";
        assert_eq!(with_suggestion(m), m);
        assert_eq!(with_suggestion("invalid type"), "invalid type");
    }

    #[test]
    fn offsets_to_line_col() {
        let s = Source::new("t.toml", "a = 1\nbé = 2\n\nc");
        assert_eq!((s.location(0).line, s.location(0).col), (1, 1));
        assert_eq!((s.location(6).line, s.location(6).col), (2, 1));
        // 'é' is two bytes; "= 2" starts at column 4 in characters.
        assert_eq!((s.location(10).line, s.location(10).col), (2, 4));
        assert_eq!(s.location(16).line, 4);
        assert_eq!(s.location(999).line, 4);
    }
}
