//! `tern atlas measure` against a local HTTP server (127.0.0.1, port 0) that replays RIPE Atlas
//! API v2 answers in the documented format: create → status polls (ongoing, then stopped) →
//! results (a real measurement from ../shared/data, served at run time) → paginated probe
//! metadata. Also: the API refusing a request, and a missing key.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

/// One request as the replay server saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    auth: Option<String>,
    body: String,
}

/// What the server answers.
#[derive(Clone)]
struct Script {
    /// Answer to POST /api/v2/measurements/: (status, body).
    create: (u16, String),
    /// Results body.
    results: String,
    /// Polls answered "Ongoing" before "Stopped".
    ongoing_polls: usize,
}

/// The replay server: a thread serving until the test ends (the listener thread is detached;
/// it only ever talks to 127.0.0.1 and dies with the test process).
struct Replay {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

const MSM: u64 = 90000001;
const PAGE: usize = 200;

fn read_request(stream: &mut TcpStream) -> Option<Seen> {
    let mut r = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut len = 0usize;
    let mut auth = None;
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        match k.to_ascii_lowercase().as_str() {
            "content-length" => len = v.trim().parse().ok()?,
            "authorization" => auth = Some(v.trim().to_string()),
            _ => {}
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    Some(Seen {
        method,
        path,
        auth,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn respond(stream: &mut TcpStream, status: u16, body: &str) {
    let reason = match status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        403 => "Forbidden",
        _ => "Not Found",
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

fn query_param<'a>(path: &'a str, key: &str) -> Option<&'a str> {
    path.split_once('?')?.1.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then_some(v)
    })
}

impl Replay {
    fn start(script: Script) -> Replay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (seen2, base2) = (seen.clone(), base.clone());
        std::thread::spawn(move || {
            let mut polls = 0usize;
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let Some(req) = read_request(&mut stream) else {
                    continue;
                };
                seen2.lock().unwrap().push(req.clone());
                if req.auth.as_deref() != Some("Key test-key") {
                    respond(
                        &mut stream,
                        403,
                        r#"{"error":{"status":403,"detail":"Authentication credentials were not provided."}}"#,
                    );
                    continue;
                }
                let path = req.path.as_str();
                if req.method == "POST" && path == "/api/v2/measurements/" {
                    respond(&mut stream, script.create.0, &script.create.1);
                } else if path == format!("/api/v2/measurements/{MSM}/") {
                    polls += 1;
                    let (id, name, n) = if polls <= script.ongoing_polls {
                        (2, "Ongoing", 300)
                    } else {
                        (4, "Stopped", 911)
                    };
                    let body = json!({"id": MSM, "type": "traceroute", "is_oneoff": true,
                        "status": {"id": id, "name": name, "when": null},
                        "participant_count": n, "probes_requested": 1000, "probes_scheduled": 950});
                    respond(&mut stream, 200, &body.to_string());
                } else if path.starts_with(&format!("/api/v2/measurements/{MSM}/results/")) {
                    respond(&mut stream, 200, &script.results);
                } else if path.starts_with("/api/v2/probes/") {
                    let ids: Vec<u32> = query_param(path, "id__in")
                        .unwrap_or("")
                        .split(',')
                        .filter_map(|s| s.parse().ok())
                        .collect();
                    let page: usize = query_param(path, "page")
                        .and_then(|p| p.parse().ok())
                        .unwrap_or(1);
                    let chunk: Vec<Value> = ids
                        .iter()
                        .skip((page - 1) * PAGE)
                        .take(PAGE)
                        .map(|id| {
                            json!({
                        "id": id, "type": "Probe", "asn_v4": 64512, "country_code": "NL",
                        "geometry": {"type": "Point", "coordinates": [4.9, 52.4]},
                        "status": {"id": 1, "name": "Connected", "since": "2022-08-01T00:00:00Z"},
                        "is_anchor": false, "is_public": true})
                        })
                        .collect();
                    let next = (page * PAGE < ids.len()).then(|| {
                        format!(
                            "{base2}/api/v2/probes/?id__in={}&page={}",
                            query_param(path, "id__in").unwrap_or(""),
                            page + 1
                        )
                    });
                    let body = json!({"count": ids.len(), "next": next, "previous": null, "results": chunk});
                    respond(&mut stream, 200, &body.to_string());
                } else {
                    respond(
                        &mut stream,
                        404,
                        r#"{"error":{"status":404,"detail":"Not found."}}"#,
                    );
                }
            }
        });
        Replay { base, seen }
    }
}

#[test]
fn measure_creates_polls_and_downloads() {
    // 911 results, the size of the real measurement 44104396 (so probe look-ups page as they
    // would): the 30 real records of its excerpt, repeated with probe ids 1..=911.
    let excerpt: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(fixture(
            "atlas/traceroute/RIPE-Atlas-measurement-44104396-first30.json",
        ))
        .unwrap(),
    )
    .unwrap();
    let results = Value::Array(
        (0..911)
            .map(|i| {
                let mut r = excerpt[i % excerpt.len()].clone();
                r["prb_id"] = json!(i + 1);
                r
            })
            .collect(),
    )
    .to_string();
    let server = Replay::start(Script {
        create: (201, json!({"measurements": [MSM]}).to_string()),
        results,
        ongoing_polls: 2,
    });
    let out_dir = TempDir::new("measure");
    let out = Command::new(env!("CARGO_BIN_EXE_tern"))
        .args([
            "atlas",
            "measure",
            "--target",
            "192.0.2.1",
            "--from-msm",
            "44104396",
            "--probes",
            "1000",
        ])
        .args([
            "--include-tag",
            "system-ipv4-works",
            "--poll",
            "0.05",
            "--api",
            &server.base,
        ])
        .arg("--out")
        .arg(&out_dir.0)
        .env("RIPE_ATLAS_KEY", "test-key")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");

    let seen = server.seen.lock().unwrap().clone();
    let create = seen.iter().find(|s| s.method == "POST").unwrap();
    let body: Value = serde_json::from_str(&create.body).unwrap();
    assert_eq!(body["definitions"][0]["type"], "traceroute");
    assert_eq!(body["definitions"][0]["af"], 4);
    assert_eq!(body["definitions"][0]["target"], "192.0.2.1");
    assert_eq!(body["definitions"][0]["protocol"], "ICMP");
    assert_eq!(
        body["probes"][0],
        json!({"type": "msm", "value": 44104396, "requested": 1000,
        "tags": {"include": ["system-ipv4-works"], "exclude": []}})
    );
    assert_eq!(body["is_oneoff"], true);
    // Three polls (ongoing, ongoing, stopped), shown as progress.
    assert_eq!(
        seen.iter()
            .filter(|s| s.path == format!("/api/v2/measurements/{MSM}/"))
            .count(),
        3
    );
    assert!(stderr.contains("300/1000 probes"), "{stderr}");
    assert!(stderr.contains("911/1000 probes, Stopped"), "{stderr}");
    // 911 probe ids: chunks of ≤500 ids (500 + 411), the server pages by 200 → 3 + 3 pages.
    let probe_requests = seen
        .iter()
        .filter(|s| s.path.starts_with("/api/v2/probes/"))
        .count();
    assert_eq!(probe_requests, 3 + 3);

    let results_file = out_dir.0.join(format!("results-{MSM}.json"));
    let probes_file = out_dir.0.join(format!("probes-{MSM}.json"));
    assert!(stdout.contains("911 results from 911 probes"), "{stdout}");
    let probes: Value =
        serde_json::from_str(&std::fs::read_to_string(&probes_file).unwrap()).unwrap();
    assert_eq!(probes["results"].as_array().unwrap().len(), 911);

    // The downloaded files feed `tern atlas analyse` unchanged.
    let a = Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(["atlas", "analyse", "--json", "--probes"])
        .arg(&probes_file)
        .arg(&results_file)
        .output()
        .unwrap();
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    let j: Value = serde_json::from_slice(&a.stdout).unwrap();
    assert_eq!(j["overall"]["probes"], 911);
    assert_eq!(j["by_country"][0]["key"], "NL");
    assert_eq!(j["by_country"][0]["probes"], 911);
}

#[test]
fn api_refusal_and_missing_key_are_clear_errors() {
    let server = Replay::start(Script {
        create: (400, r#"{"error":{"status":400,"code":102,"detail":"Invalid input","title":"Bad Request","errors":[{"source":{"pointer":"/definitions/0/target"},"detail":"Target is not allowed"}]}}"#.into()),
        results: "[]".into(),
        ongoing_polls: 0,
    });
    let out_dir = TempDir::new("measure-err");
    let out = Command::new(env!("CARGO_BIN_EXE_tern"))
        .args([
            "atlas",
            "measure",
            "--type",
            "dns",
            "--nsid",
            "--target",
            "2001:db8::53",
            "--from-country",
            "nl",
        ])
        .args(["--api", &server.base])
        .arg("--out")
        .arg(&out_dir.0)
        .env("RIPE_ATLAS_KEY", "test-key")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("HTTP 400"), "{stderr}");
    assert!(
        stderr.contains("/definitions/0/target Target is not allowed"),
        "{stderr}"
    );
    let seen = server.seen.lock().unwrap().clone();
    let body: Value = serde_json::from_str(&seen[0].body).unwrap();
    assert_eq!(body["definitions"][0]["af"], 6);
    assert_eq!(body["definitions"][0]["query_class"], "CHAOS");
    assert_eq!(body["definitions"][0]["query_argument"], "id.server");
    assert_eq!(body["definitions"][0]["set_nsid_bit"], true);
    assert_eq!(body["probes"][0]["type"], "country");
    assert_eq!(body["probes"][0]["value"], "NL");

    let out = Command::new(env!("CARGO_BIN_EXE_tern"))
        .args([
            "atlas",
            "measure",
            "--target",
            "192.0.2.1",
            "--api",
            &server.base,
        ])
        .env_remove("RIPE_ATLAS_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("RIPE_ATLAS_KEY"));
}
