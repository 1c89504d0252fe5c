//! `tern atlas`: RIPE Atlas measurements → catchment, latency, diffs, reports; and `measure`,
//! which creates a measurement through the RIPE Atlas v2 API and downloads its results.
//!
//! Glue only: reading and analysis live in tern-atlas; this module parses arguments, prints, and
//! (for `measure`) does the HTTP with a blocking client.

use std::path::{Path, PathBuf};

use anyhow::Context;
use tern_atlas::{Analyser, Analysis, ProbeSet, RecordReader, SiteHints, read_probes, report};

use crate::exit::Exit;

#[path = "atlas_measure.rs"]
mod measure;

/// Arguments of `tern atlas`.
#[derive(Debug, clap::Args)]
pub struct Args {
    // Boxed: the measure options are large, and `Args` sits in main's command enum.
    #[command(subcommand)]
    command: Box<Command>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Catchment and latency of one run (one or more result files of the same moment).
    /// `report` is the same (the name ripe-atlas-tools users know).
    #[command(alias = "report")]
    Analyse(AnalyseArgs),
    /// Compare two runs probe by probe: site transitions, latency change, probes that got worse.
    Diff(DiffArgs),
    /// Create a measurement through the RIPE Atlas API, wait for it, download results and probes.
    Measure(Box<measure::MeasureArgs>),
}

/// Options shared by `analyse` and `diff`.
#[derive(Debug, clap::Args)]
struct Common {
    /// Probe metadata: an API answer (/api/v2/probes/…) or a daily archive (.json or .json.bz2).
    /// Repeatable; later files win.
    #[arg(long = "probes", value_name = "FILE")]
    probes: Vec<PathBuf>,
    /// What the sites are: your tern.toml (sites, their unicast prefixes and upstream routers
    /// come from the model), or a hints file (JSON or TOML `[[sites]]`: ids, coordinates,
    /// prefixes, router addresses, the names the sites give in CHAOS/NSID answers).
    #[arg(long, value_name = "FILE")]
    hints: Option<PathBuf>,
    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
    /// Also write a self-contained HTML report to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Rows per table in the terminal report.
    #[arg(long, default_value_t = 20)]
    limit: usize,
}

#[derive(Debug, clap::Args)]
struct AnalyseArgs {
    /// Result files (API arrays or one object per line; .bz2 accepted).
    #[arg(required = true, value_name = "RESULTS")]
    files: Vec<PathBuf>,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, clap::Args)]
struct DiffArgs {
    /// Results of the run before the change.
    #[arg(value_name = "BEFORE")]
    before: PathBuf,
    /// Results of the run after the change.
    #[arg(value_name = "AFTER")]
    after: PathBuf,
    #[command(flatten)]
    common: Common,
}

/// Runs `tern atlas`.
pub fn run(args: Args) -> anyhow::Result<Exit> {
    match *args.command {
        Command::Analyse(a) => run_analyse(a),
        Command::Diff(d) => run_diff(d),
        Command::Measure(m) => measure::run(*m),
    }
}

fn load_context(c: &Common) -> anyhow::Result<(ProbeSet, Option<SiteHints>)> {
    let mut probes = ProbeSet::default();
    for p in &c.probes {
        let set = read_probes(p)?;
        if set.skipped.count > 0 {
            eprintln!(
                "warning: {}: {} probe entries skipped",
                p.display(),
                set.skipped.count
            );
        }
        probes.merge(set);
    }
    let hints = c.hints.as_deref().map(SiteHints::load).transpose()?;
    for n in hints.iter().flat_map(|h| &h.notes) {
        eprintln!("warning: {n}");
    }
    Ok((probes, hints))
}

/// Streams the files through one analysis (memory independent of the files' sizes), warning
/// about what was skipped. Each file is read into its own partial analysis on a worker thread
/// (up to twice as many workers as cores, taking the next file as they finish one: three files
/// on two cores then take 1.5 file-times, not two), and the partials are merged in file order:
/// the result is the same as reading the files one after the other.
fn analyse_files(
    files: &[&Path],
    probes: &ProbeSet,
    hints: Option<&SiteHints>,
) -> anyhow::Result<Analysis> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let workers = (2 * cores).clamp(1, files.len().max(1));
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<anyhow::Result<Analyser<'_>>>>> =
        files.iter().map(|_| Mutex::new(None)).collect();
    let read_one = |f: &Path| -> anyhow::Result<Analyser<'_>> {
        let mut a = Analyser::new(probes, hints);
        a.read(RecordReader::open(f)?)?;
        Ok(a)
    };
    let work = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(f) = files.get(i) else { break };
            let part = read_one(f);
            *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(part);
        }
    };
    if workers == 1 {
        work();
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers).map(|_| scope.spawn(work)).collect();
            for h in handles {
                // A panicking worker leaves its file's slot empty: reported below.
                let _ = h.join();
            }
        });
    }
    let parts = slots.into_iter().map(|s| {
        s.into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .unwrap_or_else(|| Err(anyhow::anyhow!("a reader thread panicked")))
    });
    let mut analyser = Analyser::new(probes, hints);
    for part in parts {
        analyser.merge(part?);
    }
    let analysis = analyser.finish();
    for input in &analysis.inputs {
        warn_input(input);
    }
    Ok(analysis)
}

fn warn_input(input: &tern_atlas::analysis::InputSummary) {
    let sk = &input.skipped;
    if sk.count > 0 {
        eprintln!(
            "warning: {}: {} broken record(s) skipped, {} read",
            input.origin, sk.count, input.records
        );
        for r in &sk.first {
            eprintln!(
                "  record #{} (line {}, byte {}): {}",
                r.index, r.line, r.offset, r.reason
            );
        }
    }
    if sk.stray > 0 {
        eprintln!(
            "warning: {}: stray bytes between records in {} place(s) (no record lost)",
            input.origin, sk.stray
        );
    }
    if input.unclosed_array {
        eprintln!(
            "warning: {}: the JSON array has no closing `]`: the file may be cut off",
            input.origin
        );
    }
}

/// Pretty JSON written straight to stdout (no copy of the whole document in memory).
fn print_json(
    write: impl FnOnce(&mut dyn std::io::Write) -> serde_json::Result<()>,
) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    write(&mut out)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

fn write_html(path: &Path, html: &str) -> anyhow::Result<()> {
    std::fs::write(path, html).with_context(|| format!("cannot write {}", path.display()))
}

fn run_analyse(a: AnalyseArgs) -> anyhow::Result<Exit> {
    let (probes, hints) = load_context(&a.common)?;
    let files: Vec<&Path> = a.files.iter().map(PathBuf::as_path).collect();
    let analysis = analyse_files(&files, &probes, hints.as_ref())?;
    if a.common.json {
        print_json(|w| serde_json::to_writer_pretty(w, &analysis))?;
    } else {
        print!("{}", report::text::analysis(&analysis, a.common.limit));
    }
    if let Some(h) = &a.common.html {
        write_html(h, &report::html::analysis(&analysis))?;
    }
    Ok(Exit::Ok)
}

fn run_diff(d: DiffArgs) -> anyhow::Result<Exit> {
    let (probes, hints) = load_context(&d.common)?;
    let before = analyse_files(&[&d.before], &probes, hints.as_ref())?;
    let after = analyse_files(&[&d.after], &probes, hints.as_ref())?;
    let diff = tern_atlas::diff::diff(&before, &after);
    if d.common.json {
        print_json(|w| serde_json::to_writer_pretty(w, &diff))?;
    } else {
        print!("{}", report::text::diff(&diff, d.common.limit));
    }
    if let Some(h) = &d.common.html {
        write_html(h, &report::html::diff(&before, &after, &diff))?;
    }
    Ok(Exit::Ok)
}
