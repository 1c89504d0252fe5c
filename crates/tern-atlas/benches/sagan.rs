//! Benchmark: parse and analyse the three real traceroute measurements (≈930 probes each) with
//! tern-atlas, and with ripe.atlas.sagan on the same files, in one run; prints the ratio.
//!
//! Run: `cargo bench -p tern-atlas --bench sagan` (needs python3 with ripe.atlas.sagan).
//! Both sides start from the file contents in memory and produce per-probe values (sagan:
//! `TracerouteResult` with all hops; tern: records, catchment and latency analysis).

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use tern_atlas::{Body, ProbeSet, analyse, parse_results};

fn shared_data() -> PathBuf {
    tern_testkit::shared_data_dir().expect("this bench needs ../shared/data (or TERN_SHARED_DATA)")
}

fn tern_pass(texts: &[(String, String)]) -> usize {
    let runs: Vec<_> = texts
        .iter()
        .map(|(name, t)| parse_results(t, name).expect("real data parses"))
        .collect();
    let mut n = 0;
    for run in &runs {
        for r in &run.records {
            if let Body::Traceroute(t) = &r.body {
                std::hint::black_box((t.last_median_rtt(), t.destination_responded(r.dst_addr)));
                n += 1;
            }
        }
        std::hint::black_box(analyse(
            std::slice::from_ref(run),
            &ProbeSet::default(),
            None,
        ));
    }
    n
}

fn main() {
    let dir = shared_data().join("atlas/traceroute");
    let files: Vec<PathBuf> = ["44104396", "44104397", "44104399"]
        .iter()
        .map(|id| dir.join(format!("RIPE-Atlas-measurement-{id}.json")))
        .collect();
    let texts: Vec<(String, String)> = files
        .iter()
        .map(|f| {
            let t = std::fs::read_to_string(f)
                .unwrap_or_else(|e| panic!("{}: {e} (set TERN_SHARED_DATA)", f.display()));
            (f.display().to_string(), t)
        })
        .collect();

    // tern: warm up, then time passes.
    let records = tern_pass(&texts);
    let passes = 30;
    let mut times = Vec::with_capacity(passes);
    for _ in 0..passes {
        let t0 = Instant::now();
        std::hint::black_box(tern_pass(&texts));
        times.push(t0.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    // The fastest pass on both sides: the least disturbed by other load on the machine.
    let tern = times[0];
    let tern_median = times[passes / 2];
    let one = (0..passes)
        .map(|_| {
            let t0 = Instant::now();
            std::hint::black_box(tern_pass(&texts[..1]));
            t0.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min);

    let parse_only = (0..passes)
        .map(|_| {
            let t0 = Instant::now();
            for (name, t) in &texts {
                std::hint::black_box(parse_results(t, name).expect("parses"));
            }
            t0.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min);
    println!("parse only: {:.2} ms", parse_only * 1e3);

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sagan_dump.py");
    let out = Command::new("python3")
        .arg(script)
        .args(["--time", "3"])
        .args(&files)
        .output()
        .expect("python3");
    if !out.status.success() {
        eprintln!("sagan failed: {}", String::from_utf8_lossy(&out.stderr));
        std::process::exit(1);
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("sagan JSON");
    let sagan = v["seconds_per_pass"].as_f64().expect("seconds_per_pass");

    println!("records: {records} traceroutes in {} files", files.len());
    println!(
        "tern-atlas: {:.2} ms per pass (fastest of {passes}; median {:.2} ms)",
        tern * 1e3,
        tern_median * 1e3
    );
    println!(
        "tern-atlas, one measurement ({} probes): {:.2} ms",
        texts[0].1.matches("\"prb_id\"").count(),
        one * 1e3
    );
    println!(
        "ripe.atlas.sagan: {:.1} ms per pass (fastest of 3)",
        sagan * 1e3
    );
    println!("ratio: tern-atlas is {:.1}x faster", sagan / tern);
}
