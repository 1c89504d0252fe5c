//! CAIDA AS-relationship files → a list of typed links.
//!
//! Two serials (<https://www.caida.org/catalog/datasets/as-relationships/>): serial-1 lines are
//! `provider|customer|-1` and `peer|peer|0`; serial-2 adds a fourth column (the inference
//! source, ignored). `#` starts a comment line. Files may be plain, bzip2 or gzip; the format is
//! told by the first bytes, not the name. Every line that is neither a comment nor a link is an
//! error that names its line; a repeated pair is counted and the first relationship kept.
//!
//! Real files contain provider→customer cycles (an AS is its own indirect provider). They are
//! found by one depth-first search over the provider→customer edges and broken by turning each
//! edge that closes a cycle (a DFS back edge) into a peering; [`Cycle`] lists the ASes on each
//! cycle and the edge that was turned. The result is acyclic, so customer routes cannot loop.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use serde::Serialize;

/// Largest decompressed file accepted (CAIDA's full serial-2 files are ~10 MB).
pub const MAX_TEXT_BYTES: u64 = 1 << 30;

/// A relationship as written in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkKind {
    /// `a` is a provider of `b` (`-1`).
    ProviderCustomer,
    /// Settlement-free peers (`0`).
    Peer,
}

/// One link between two ASes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct AsLink {
    /// First AS (the provider for [`LinkKind::ProviderCustomer`]).
    pub a: u32,
    /// Second AS.
    pub b: u32,
    /// Relationship.
    pub kind: LinkKind,
}

/// Which serial the file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Serial {
    /// Three columns.
    One,
    /// Four columns (source).
    Two,
    /// No link lines at all.
    Empty,
}

/// A provider→customer cycle and how it was broken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cycle {
    /// The ASes on the cycle, each a provider of the next; the last is a provider of the first.
    pub ases: Vec<u32>,
    /// The provider→customer edge turned into a peering to break it: (provider, customer).
    pub broken: (u32, u32),
}

/// A parsed relationship file.
#[derive(Clone, Debug, Serialize)]
pub struct AsRelFile {
    /// Links, in file order, duplicates removed, cycles broken.
    pub links: Vec<AsLink>,
    /// Serial.
    pub serial: Serial,
    /// Comment lines.
    pub comments: usize,
    /// Lines naming a pair already seen with the same relationship.
    pub duplicates: usize,
    /// Lines naming a pair already seen with another relationship (first kept).
    pub conflicts: usize,
    /// Provider→customer cycles found and broken.
    pub cycles: Vec<Cycle>,
}

/// Why a relationship file cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AsRelError {
    /// Cannot read it.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Compressed data that does not decompress (truncated or corrupt).
    #[error("{origin}: {format} data is corrupt or truncated: {source}")]
    Decompress {
        /// The file.
        origin: String,
        /// bzip2 or gzip.
        format: &'static str,
        /// What the decoder said.
        source: std::io::Error,
    },
    /// Bigger than [`MAX_TEXT_BYTES`] once decompressed.
    #[error("{origin}: more than {MAX_TEXT_BYTES} bytes once decompressed")]
    TooLarge {
        /// The file.
        origin: String,
    },
    /// Not UTF-8 text.
    #[error("{origin}: line {line} is not text")]
    NotText {
        /// The file.
        origin: String,
        /// 1-based line.
        line: usize,
    },
    /// A line that is neither a comment nor `a|b|rel[|source]`.
    #[error(
        "{origin}:{line}: {reason} (expected `AS|AS|-1` or `AS|AS|0`, serial-2 adds `|source`)"
    )]
    Malformed {
        /// The file.
        origin: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// No link at all.
    #[error("{origin}: no AS links in the file ({comments} comment lines)")]
    Empty {
        /// The file.
        origin: String,
        /// Comment lines seen.
        comments: usize,
    },
}

/// Reads a relationship file (plain, .bz2 or .gz, told by its first bytes).
pub fn read(path: &Path) -> Result<AsRelFile, AsRelError> {
    let bytes = std::fs::read(path).map_err(|source| AsRelError::Read {
        path: path.display().to_string(),
        source,
    })?;
    parse(&bytes, &path.display().to_string())
}

/// Parses the bytes of a relationship file; `origin` names it in messages.
pub fn parse(bytes: &[u8], origin: &str) -> Result<AsRelFile, AsRelError> {
    let text = decompress(bytes, origin)?;
    parse_text(&text, origin)
}

fn decompress<'a>(bytes: &'a [u8], origin: &str) -> Result<std::borrow::Cow<'a, [u8]>, AsRelError> {
    let (format, reader): (&'static str, Box<dyn Read + 'a>) = if bytes.starts_with(b"BZh") {
        ("bzip2", Box::new(bzip2::read::MultiBzDecoder::new(bytes)))
    } else if bytes.starts_with(&[0x1f, 0x8b]) {
        ("gzip", Box::new(flate2::read::MultiGzDecoder::new(bytes)))
    } else {
        return Ok(std::borrow::Cow::Borrowed(bytes));
    };
    let mut out = Vec::new();
    reader
        .take(MAX_TEXT_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|source| AsRelError::Decompress {
            origin: origin.to_owned(),
            format,
            source,
        })?;
    if out.len() as u64 > MAX_TEXT_BYTES {
        return Err(AsRelError::TooLarge {
            origin: origin.to_owned(),
        });
    }
    Ok(std::borrow::Cow::Owned(out))
}

fn parse_text(text: &[u8], origin: &str) -> Result<AsRelFile, AsRelError> {
    let mut links = Vec::new();
    let mut seen: HashMap<(u32, u32), LinkKind> = HashMap::new();
    let (mut comments, mut duplicates, mut conflicts) = (0, 0, 0);
    let mut serial = Serial::Empty;
    for (i, raw) in text.split(|b| *b == b'\n').enumerate() {
        let line_no = i + 1;
        let line = std::str::from_utf8(raw).map_err(|_| AsRelError::NotText {
            origin: origin.to_owned(),
            line: line_no,
        })?;
        let line = line.trim_end_matches('\r').trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('#') {
            comments += 1;
            continue;
        }
        let bad = |reason: String| AsRelError::Malformed {
            origin: origin.to_owned(),
            line: line_no,
            reason,
        };
        let cols: Vec<&str> = line.split('|').collect();
        let this = match cols.len() {
            3 => Serial::One,
            4 => Serial::Two,
            n => return Err(bad(format!("{n} columns"))),
        };
        if serial == Serial::Empty {
            serial = this;
        } else if serial != this {
            return Err(bad("serial-1 and serial-2 lines mixed".into()));
        }
        let asn = |s: &str| -> Result<u32, AsRelError> {
            s.trim()
                .parse::<u32>()
                .map_err(|_| bad(format!("{s:?} is not an AS number")))
        };
        let (a, b) = (asn(cols[0])?, asn(cols[1])?);
        let kind = match cols[2].trim() {
            "-1" => LinkKind::ProviderCustomer,
            "0" => LinkKind::Peer,
            r => return Err(bad(format!("relationship {r:?} is neither -1 nor 0"))),
        };
        if a == b {
            return Err(bad(format!("AS{a} linked to itself")));
        }
        let key = (a.min(b), a.max(b));
        match seen.get(&key) {
            Some(k) if *k == kind => duplicates += 1,
            Some(_) => conflicts += 1,
            None => {
                seen.insert(key, kind);
                links.push(AsLink { a, b, kind });
            }
        }
    }
    if links.is_empty() {
        return Err(AsRelError::Empty {
            origin: origin.to_owned(),
            comments,
        });
    }
    let cycles = break_cycles(&mut links);
    Ok(AsRelFile {
        links,
        serial,
        comments,
        duplicates,
        conflicts,
        cycles,
    })
}

/// Finds provider→customer cycles with one iterative DFS and turns every back edge into a
/// peering (removing all back edges of a DFS leaves a DAG).
pub fn break_cycles(links: &mut [AsLink]) -> Vec<Cycle> {
    let mut idx: HashMap<u32, usize> = HashMap::new();
    let mut asns = Vec::new();
    let mut id = |a: u32, asns: &mut Vec<u32>| {
        *idx.entry(a).or_insert_with(|| {
            asns.push(a);
            asns.len() - 1
        })
    };
    // Customers of each provider: (customer index, link index).
    let mut down: Vec<Vec<(usize, usize)>> = Vec::new();
    for (li, l) in links.iter().enumerate() {
        let (p, c) = (id(l.a, &mut asns), id(l.b, &mut asns));
        if down.len() < asns.len() {
            down.resize(asns.len(), Vec::new());
        }
        if l.kind == LinkKind::ProviderCustomer {
            down[p].push((c, li));
        }
    }
    // 0 new, 1 on the stack, 2 done.
    let mut state = vec![0u8; asns.len()];
    let mut cycles = Vec::new();
    let mut turned = Vec::new();
    for root in 0..asns.len() {
        if state[root] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        state[root] = 1;
        while let Some(top) = stack.last_mut() {
            let (v, next) = *top;
            if let Some(&(c, li)) = down[v].get(next) {
                top.1 += 1;
                match state[c] {
                    0 => {
                        state[c] = 1;
                        stack.push((c, 0));
                    }
                    1 => {
                        let from = stack.iter().position(|(n, _)| *n == c).unwrap_or(0);
                        cycles.push(Cycle {
                            ases: stack[from..].iter().map(|(n, _)| asns[*n]).collect(),
                            broken: (asns[v], asns[c]),
                        });
                        turned.push(li);
                    }
                    _ => {}
                }
            } else {
                state[v] = 2;
                stack.pop();
            }
        }
    }
    for li in turned {
        links[li].kind = LinkKind::Peer;
    }
    cycles
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_one_and_two() {
        let f = parse(b"# c\n1|2|-1\n2|3|0\n", "t").unwrap();
        assert_eq!(f.serial, Serial::One);
        assert_eq!(f.comments, 1);
        assert_eq!(f.links.len(), 2);
        assert_eq!(f.links[0].kind, LinkKind::ProviderCustomer);
        let f = parse(b"1|2|-1|bgp\n2|3|0|mlp\n", "t").unwrap();
        assert_eq!(f.serial, Serial::Two);
        assert_eq!(f.links[1].kind, LinkKind::Peer);
    }

    #[test]
    fn malformed_lines_name_their_line() {
        for (text, line) in [
            (&b"1|2|-1\n1|x|0\n"[..], 2),
            (b"1|2\n", 1),
            (b"1|2|-1\n\n3|4|5\n", 3),
            (b"1|1|0\n", 1),
            (b"1|2|0\n1|3|0|s\n", 2),
            (b"1|2|-1\n\xff\n", 2),
        ] {
            match parse(text, "t") {
                Err(
                    AsRelError::Malformed { line: l, .. } | AsRelError::NotText { line: l, .. },
                ) => {
                    assert_eq!(l, line, "{:?}", String::from_utf8_lossy(text))
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(parse(b"", "t"), Err(AsRelError::Empty { .. })));
        assert!(matches!(
            parse(b"# only\n", "t"),
            Err(AsRelError::Empty { comments: 1, .. })
        ));
    }

    #[test]
    fn duplicates_and_conflicts_are_counted() {
        let f = parse(b"1|2|-1\n2|1|-1\n1|2|0\n", "t").unwrap();
        assert_eq!((f.links.len(), f.duplicates, f.conflicts), (1, 1, 1));
    }

    #[test]
    fn compressed_and_truncated() {
        use std::io::Write;
        let text = b"1|2|-1\n2|3|-1\n";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text).unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(parse(&gz, "t.gz").unwrap().links.len(), 2);
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        bz.write_all(text).unwrap();
        let bz = bz.finish().unwrap();
        assert_eq!(parse(&bz, "t.bz2").unwrap().links.len(), 2);
        assert!(matches!(
            parse(&bz[..bz.len() / 2], "t.bz2"),
            Err(AsRelError::Decompress { .. })
        ));
        assert!(matches!(
            parse(&gz[..gz.len() - 4], "t.gz"),
            Err(AsRelError::Decompress { .. })
        ));
    }

    #[test]
    fn cycles_are_broken_and_reported() {
        // 1 > 2 > 3 > 1 (each a provider of the next), plus 3 > 4.
        let f = parse(b"1|2|-1\n2|3|-1\n3|1|-1\n3|4|-1\n", "t").unwrap();
        assert_eq!(f.cycles.len(), 1);
        assert_eq!(f.cycles[0].ases, vec![1, 2, 3]);
        assert_eq!(f.cycles[0].broken, (3, 1));
        let turned = f.links.iter().find(|l| l.a == 3 && l.b == 1).unwrap();
        assert_eq!(turned.kind, LinkKind::Peer);
        // Acyclic now.
        let mut again = f.links.clone();
        assert!(break_cycles(&mut again).is_empty());
    }

    #[test]
    fn garbage_and_every_truncation_never_panic() {
        use std::io::Write;
        let text = b"# c\n1|2|-1\n2|3|0\n3|4|-1|bgp\n";
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        bz.write_all(b"1|2|-1\n2|3|0\n").unwrap();
        let bz = bz.finish().unwrap();
        for cut in 0..bz.len() {
            let _ = parse(&bz[..cut], "t");
        }
        for cut in 0..text.len() {
            let _ = parse(&text[..cut], "t");
        }
        let mut x: u64 = 7;
        for _ in 0..2000 {
            let mut v = Vec::new();
            for _ in 0..(x % 64) {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                v.push(b"0123456789|-#\n xBZh\x1f\x8b"[(x >> 40) as usize % 21]);
            }
            let _ = parse(&v, "t");
        }
    }
}
