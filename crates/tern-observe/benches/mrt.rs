//! MRT reading speed, as whole processes on the same files in one run: our reader, bgpkit-parser
//! (both: gzip through flate2, every element with its AS path), and `bgpdump -m` beside them
//! (it also formats text). Reports min and median wall time over several runs and the ratios.
//!
//! `cargo bench -p tern-observe --bench mrt` (files from ../shared/data/mrt or
//! `TERN_SHARED_DATA`; `TERN_BENCH_RUNS`, default 7). The bench spawns itself as the worker
//! (`--worker ours|bgpkit FILE`), so each measurement is one process from start to exit.
#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn reader(path: &Path) -> Box<dyn Read> {
    let f = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::bufread::MultiGzDecoder::new(f))
    } else if path.extension().is_some_and(|e| e == "bz2") {
        Box::new(bzip2::bufread::MultiBzDecoder::new(f))
    } else {
        Box::new(f)
    }
}

/// Elements and the sum of their AS path lengths (so neither reader can skip the paths).
fn worker(kind: &str, path: &Path) -> (u64, u64) {
    let (mut n, mut hops) = (0u64, 0u64);
    match kind {
        "ours" => {
            let mut r = tern_observe::mrt::MrtReader::new(reader(path));
            while let Some(rec) = r.next_record().unwrap() {
                for e in rec.elems() {
                    n += 1;
                    if let Some(p) = e.attrs.and_then(|a| a.as_path.as_ref()) {
                        hops += p.asns().count() as u64;
                    }
                }
            }
        }
        "bgpkit" => {
            for e in bgpkit_parser::BgpkitParser::from_reader(reader(path)).into_elem_iter() {
                n += 1;
                if let Some(p) = &e.as_path {
                    hops += p.iter_segments().map(|s| s.len() as u64).sum::<u64>();
                }
            }
        }
        _ => panic!("unknown worker {kind}"),
    }
    (n, hops)
}

fn time(cmd: &mut Command) -> (Duration, String) {
    let t = Instant::now();
    let out = cmd.stderr(Stdio::null()).output().unwrap();
    let d = t.elapsed();
    assert!(out.status.success(), "{cmd:?} failed");
    (d, String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--worker") {
        let (n, hops) = worker(&args[i + 1], Path::new(&args[i + 2]));
        println!("{n} {hops}");
        return;
    }
    let base = std::env::var_os("TERN_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        });
    let runs: usize = std::env::var("TERN_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    let me = std::env::current_exe().unwrap();
    let bgpdump = Command::new("bgpdump").arg("-h").output().is_ok();
    if !bgpdump {
        eprintln!("bgpdump not installed (apt-get install bgpdump): its column is left out");
    }
    for file in ["mrt/bview.20020722.2337.gz", "mrt/updates.20160811.1600.gz"] {
        let path = base.join(file);
        if !path.exists() {
            eprintln!("SKIPPED: {} is absent", path.display());
            continue;
        }
        let mut t: [Vec<Duration>; 3] = Default::default();
        let mut counts = [String::new(), String::new()];
        for _ in 0..runs {
            for (k, kind) in ["ours", "bgpkit"].iter().enumerate() {
                let (d, out) = time(Command::new(&me).args(["--worker", kind]).arg(&path));
                t[k].push(d);
                counts[k] = out;
            }
            if bgpdump {
                let (d, _) = time(
                    Command::new("bgpdump")
                        .arg("-m")
                        .arg(&path)
                        .stdout(Stdio::null()),
                );
                t[2].push(d);
            }
        }
        assert_eq!(counts[0], counts[1], "elements and path lengths differ");
        let elems: f64 = counts[0].split(' ').next().unwrap().parse().unwrap();
        let stat = |v: &mut Vec<Duration>| {
            v.sort();
            (v[0], v[v.len() / 2])
        };
        let (o, b) = (stat(&mut t[0]), stat(&mut t[1]));
        println!("{file}: {elems} elements, {runs} runs, whole processes (min / median)");
        let line = |name: &str, (min, med): (Duration, Duration)| {
            println!(
                "  {name:<14} {:>8.1} ms / {:>8.1} ms   {:.2} M elements/s (median)",
                min.as_secs_f64() * 1e3,
                med.as_secs_f64() * 1e3,
                elems / med.as_secs_f64() / 1e6
            );
        };
        line("tern-observe", o);
        line("bgpkit-parser", b);
        println!(
            "  bgpkit / ours: {:.2}x (min), {:.2}x (median)",
            b.0.as_secs_f64() / o.0.as_secs_f64(),
            b.1.as_secs_f64() / o.1.as_secs_f64()
        );
        if bgpdump {
            let d = stat(&mut t[2]);
            line("bgpdump -m", d);
            println!(
                "  bgpdump / ours: {:.2}x (min), {:.2}x (median)",
                d.0.as_secs_f64() / o.0.as_secs_f64(),
                d.1.as_secs_f64() / o.1.as_secs_f64()
            );
        }
    }
}
