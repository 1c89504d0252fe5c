//! Whole-process benchmark: `tern atlas analyse` against ripe.atlas.sagan (the RIPE NCC parser,
//! Python) on the same real traceroute files, in one run, as the operator runs them: process
//! start, reading the files, parsing, per-probe values, output. Prints min and median of
//! several runs of each and the ratios. CI does not run benches.
//!
//! Run: `cargo bench -p tern --bench atlas_vs_sagan` (release build; needs ../shared/data or
//! `TERN_SHARED_DATA`, and python3 with ripe.atlas.sagan, as scripts/setup installs it; set
//! `TERN_PYTHON` to use another interpreter). `TERN_BENCH_RUNS` sets the runs (default 9 tern,
//! 5 sagan). With `TERN_BENCH_BIG=1` it also builds a ~200 MB one-line array in a temporary
//! directory by repeating the real files, and reports tern's peak memory on it (`/usr/bin/time
//! -v`, maximum resident set size) and the wall time; the file is removed afterwards.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("TERN_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        });
    dir.join("atlas/traceroute").is_dir().then_some(dir)
}

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("TERN_PYTHON") {
        return p.into();
    }
    // The virtual environment scripts/setup makes, else python3 from PATH.
    let venv = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../.venv/bin/python3"
    ));
    if venv.exists() {
        venv.to_path_buf()
    } else {
        "python3".into()
    }
}

/// Runs `cmd` once, output discarded; seconds.
fn time(cmd: &mut Command) -> f64 {
    let t0 = Instant::now();
    let st = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the command starts");
    let t = t0.elapsed().as_secs_f64();
    assert!(st.success(), "{cmd:?} failed: {st}");
    t
}

fn stats(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[0], v[v.len() / 2])
}

fn main() {
    let Some(data) = shared_data() else {
        println!("skipped: ../shared/data/atlas not found (set TERN_SHARED_DATA)");
        return;
    };
    let files: Vec<PathBuf> = ["44104396", "44104397", "44104399"]
        .iter()
        .map(|id| data.join(format!("atlas/traceroute/RIPE-Atlas-measurement-{id}.json")))
        .collect();
    let tern = env!("CARGO_BIN_EXE_tern");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tern-atlas/tests/sagan_dump.py"
    );
    let py = python();
    let runs: usize = std::env::var("TERN_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(9);
    let tern_cmd = || {
        let mut c = Command::new(tern);
        c.args(["atlas", "analyse", "--json"]).args(&files);
        c
    };
    let sagan_cmd = || {
        let mut c = Command::new(&py);
        c.arg(script).args(&files);
        c
    };
    // Warm the page cache and check both work.
    time(&mut tern_cmd());
    time(&mut sagan_cmd());
    // Interleaved, so both see the same load.
    let (mut t, mut s) = (Vec::new(), Vec::new());
    for i in 0..runs {
        t.push(time(&mut tern_cmd()));
        if i < runs.div_ceil(2).max(3) {
            s.push(time(&mut sagan_cmd()));
        }
    }
    let (tmin, tmed) = stats(t.clone());
    let (smin, smed) = stats(s.clone());
    println!(
        "files: 3 real traceroute measurements (2,807 results), {} runs of tern, {} of sagan",
        t.len(),
        s.len()
    );
    println!(
        "tern atlas analyse --json: min {:.1} ms, median {:.1} ms",
        tmin * 1e3,
        tmed * 1e3
    );
    println!(
        "python3 + ripe.atlas.sagan (tests/sagan_dump.py): min {:.1} ms, median {:.1} ms",
        smin * 1e3,
        smed * 1e3
    );
    println!(
        "ratio (whole process): {:.1}x on the minima, {:.1}x on the medians",
        smin / tmin,
        smed / tmed
    );

    if std::env::var_os("TERN_BENCH_BIG").is_some() {
        big(tern, &files);
    }
}

/// ~200 MB one-line array from the real records, repeated; tern's peak memory and time on it.
fn big(tern: &str, files: &[PathBuf]) {
    let dir = std::env::temp_dir().join(format!("tern-atlas-big-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("big.json");
    let mut parts = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).expect("readable");
        let inner = text.trim().trim_start_matches('[').trim_end_matches(']');
        parts.push(inner.to_string());
    }
    let unit = parts.join(",");
    let mut out = String::with_capacity(210 << 20);
    out.push('[');
    while out.len() < 200 << 20 {
        if out.len() > 1 {
            out.push(',');
        }
        out.push_str(&unit);
    }
    out.push(']');
    std::fs::write(&path, &out).expect("write the big file");
    let size = out.len();
    drop(out);
    let o = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(tern)
        .args(["atlas", "analyse", "--json"])
        .arg(&path)
        .stdout(Stdio::null())
        .output()
        .expect("/usr/bin/time (Debian package `time`)");
    let err = String::from_utf8_lossy(&o.stderr);
    let field = |name: &str| {
        err.lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix(name)
                    .map(str::trim)
                    .map(str::to_string)
            })
            .unwrap_or_default()
    };
    println!(
        "{:.0} MB one-line array: peak RSS {} kB, wall {}",
        size as f64 / 1e6,
        field("Maximum resident set size (kbytes):"),
        field("Elapsed (wall clock) time (h:mm:ss or m:ss):")
    );
    let _ = std::fs::remove_dir_all(&dir);
}
