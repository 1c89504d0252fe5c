//! The HTML reports rendered in real headless Chromium (Debian `chromium`): the screenshot is a
//! non-blank PNG showing the map and site colours, and the page's script ran to its end without
//! an error (`<body data-ok="1">`, read back with `--dump-dom`; no "Uncaught" console message).
#![allow(clippy::unwrap_used)]

mod common;
use common::*;

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn chromium() -> PathBuf {
    for c in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::var("PATH").unwrap_or_default().split(':') {
            let p = Path::new(dir).join(c);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!("chromium not found: apt-get install -y chromium (scripts/setup installs it)");
}

/// Runs headless Chromium with its own profile dir; kills it after 120 s.
fn run_chromium(profile: &Path, extra: &[&str], url: &str) -> Output {
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1400,1000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    // Read the pipes on threads so a chatty browser cannot block on a full pipe.
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t1 = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut so, &mut v).ok();
        v
    });
    let t2 = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut se, &mut v).ok();
        v
    });
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish in 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: t1.join().unwrap(),
        stderr: t2.join().unwrap(),
    }
}

/// RGB pixels of a PNG.
fn decode_png(bytes: Vec<u8>) -> (u32, u32, Vec<[u8; 3]>) {
    let mut dec = png::Decoder::new(Cursor::new(bytes));
    dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    assert!(
        channels >= 3,
        "expected a colour PNG, got {:?}",
        info.color_type
    );
    let px = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|c| [c[0], c[1], c[2]])
        .collect();
    (info.width, info.height, px)
}

fn near(a: [u8; 3], b: [u8; 3]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 12)
}

fn check_page(html: &Path, tmp: &TempDir, tag: &str) {
    let url = format!("file://{}", html.display());
    let shot = tmp.join(&format!("{tag}.png"));
    let out = run_chromium(
        &tmp.join(&format!("profile-{tag}")),
        &[&format!("--screenshot={}", shot.display())],
        &url,
    );
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("Uncaught"), "JS error in {tag}: {stderr}");

    let (w, h, px) = decode_png(std::fs::read(&shot).unwrap());
    assert_eq!((w, h), (1400, 1000));
    // Not blank: luminance varies, and the land colour and the first site colour are on screen.
    let lum: Vec<f64> = px
        .iter()
        .map(|p| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]))
        .collect();
    let mean = lum.iter().sum::<f64>() / lum.len() as f64;
    let var = lum.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / lum.len() as f64;
    assert!(
        var > 100.0,
        "{tag}: screenshot looks blank (luminance variance {var:.1})"
    );
    let land = px.iter().filter(|p| near(**p, [0xd9, 0xd4, 0xc7])).count();
    assert!(
        land > 20_000,
        "{tag}: land outline not drawn ({land} pixels)"
    );
    let site0 = px.iter().filter(|p| near(**p, [0x1f, 0x77, 0xb4])).count();
    assert!(
        site0 > 30,
        "{tag}: no probe of the largest site visible ({site0} pixels)"
    );

    let dom = run_chromium(
        &tmp.join(&format!("profile-{tag}-dom")),
        &["--dump-dom"],
        &url,
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    let body = dom
        .split("<body")
        .nth(1)
        .and_then(|b| b.split('>').next())
        .unwrap_or("");
    assert!(
        body.contains("data-ok=\"1\""),
        "{tag}: page script did not finish: <body{body}>"
    );
    assert!(
        !body.contains("data-error"),
        "{tag}: page script error: <body{body}>"
    );
}

#[test]
fn analysis_and_diff_reports_render_in_chromium() {
    let d = fixture("atlas");
    let tmp = TempDir::new("html");
    let report = tmp.join("report.html");
    let out = Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(["atlas", "analyse"])
        .arg(d.join("traceroute/RIPE-Atlas-measurement-44104396-first30.json"))
        .arg("--probes")
        .arg(d.join("probes/20171103-excerpt.json.bz2"))
        .arg("--html")
        .arg(&report)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&report).unwrap();
    // Self-contained: nothing is fetched from the network.
    for bad in ["http://", "https://", "<link", "src="] {
        let hits: Vec<&str> = html.matches(bad).collect();
        let allowed = if bad == "http://" {
            html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
        } else {
            0
        };
        assert_eq!(hits.len(), allowed, "report refers to {bad}");
    }
    check_page(&report, &tmp, "analysis");

    let diff = tmp.join("diff.html");
    let out = Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(["atlas", "diff"])
        .arg(d.join("dns/RIPE-Atlas-measurement-29083406.json"))
        .arg(d.join("dns/RIPE-Atlas-measurement-29096558.json"))
        .arg("--probes")
        .arg(d.join("probes/20171103-excerpt.json.bz2"))
        .arg("--html")
        .arg(&diff)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    check_page(&diff, &tmp, "diff");
}
