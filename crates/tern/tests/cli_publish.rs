//! `tern publish` as a user runs it, against a replay server on 127.0.0.1 (port 0) that answers
//! as the RIPE Database REST API (create/modify with `dry-run`, an error with
//! `errormessages`) and the RIPE NCC RPKI management API (GET /roas, POST /roas/publish). No
//! request goes anywhere else. Keys come from the environment or a 0600 file and never show.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

const MODEL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/anycast/tern.toml"
);
const VRPS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tern-observe/tests/fixtures/publish-today-vrps.json"
);
const IRR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tern-observe/tests/fixtures/publish-today-irr.txt"
);
const DB_KEY: &str = "0f1e2d3c-key-id:s3cr3t-db-value";
const RPKI_KEY: &str = "rpki-s3cr3t-value";

#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

/// Serves until the test process ends; every answer closes its connection.
fn replay() -> (String, Arc<Mutex<Vec<Seen>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    std::thread::spawn(move || {
        for stream in l.incoming() {
            let mut stream = stream.unwrap();
            let mut r = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            let mut parts = line.split_whitespace();
            let (method, path) = (
                parts.next().unwrap().to_owned(),
                parts.next().unwrap().to_owned(),
            );
            let mut headers = Vec::new();
            let mut len = 0;
            loop {
                let mut h = String::new();
                r.read_line(&mut h).unwrap();
                let h = h.trim_end();
                if h.is_empty() {
                    break;
                }
                let (k, v) = h.split_once(':').unwrap();
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().unwrap();
                }
                headers.push((k.to_ascii_lowercase(), v.trim().to_owned()));
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            let body = String::from_utf8(body).unwrap();
            let (status, answer) = match (method.as_str(), path.as_str()) {
                // The RIPE Database refuses one object, as it does when the maintainer's
                // authorisation is missing.
                ("POST", p) if p.starts_with("/ripe/route6") && body.contains("2001:db8:a5::/48") => (
                    401,
                    r#"{"errormessages":{"errormessage":[{"severity":"Error","text":"Authorisation for [inet6num] 2001:db8:a5::/48 failed"}]}}"#.to_owned(),
                ),
                ("POST", p) | ("PUT", p) if p.starts_with("/ripe/") => (200, body.clone()),
                ("GET", "/rpki/roas") => (
                    200,
                    r#"[{"asn":"AS4200000001","prefix":"2001:db8:a1::/48","maximalLength":48}]"#.to_owned(),
                ),
                ("POST", "/rpki/roas/publish") => (204, String::new()),
                _ => (404, "{}".to_owned()),
            };
            s2.lock().unwrap().push(Seen {
                method,
                path,
                headers,
                body,
            });
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    (base, seen)
}

fn publish(base: &str, extra: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let db = format!("{base}/");
    let rpki = format!("{base}/rpki");
    let mut args = vec![
        "publish",
        MODEL,
        "--vrps",
        VRPS,
        "--irr",
        IRR,
        "--mnt-by",
        "EXAMPLE-MNT",
        "--ripe-db-url",
        &db,
        "--rpki-api-url",
        &rpki,
    ];
    args.extend_from_slice(extra);
    let out = tern_env(&args, env);
    let (o, e) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    );
    for secret in ["s3cr3t-db-value", RPKI_KEY] {
        assert!(
            !o.contains(secret) && !e.contains(secret),
            "a key was printed"
        );
    }
    (out.status.code(), o, e)
}

#[test]
fn ripe_db_dry_run_creates_and_modifies_and_names_the_refusal() {
    let (base, seen) = replay();
    let (code, out, err) = publish(
        &base,
        &["--submit", "ripe-db", "--format", "table"],
        &[("TERN_RIPE_DB_KEY", DB_KEY)],
    );
    assert_eq!(code, Some(1), "{out}{err}");
    let seen = seen.lock().unwrap().clone();
    // 6 creates (POST) and 1 modify (PUT on the primary key), all with dry-run.
    assert_eq!(seen.len(), 7, "{seen:#?}");
    assert!(seen.iter().all(|s| s.path.ends_with("?dry-run")));
    assert_eq!(seen.iter().filter(|s| s.method == "POST").count(), 6);
    let put = seen.iter().find(|s| s.method == "PUT").unwrap();
    assert_eq!(
        put.path,
        "/ripe/route6/2001:db8:a0::/48AS4200000001?dry-run"
    );
    let auth = put
        .headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .unwrap();
    assert_eq!(auth.1, "Basic MGYxZTJkM2Mta2V5LWlkOnMzY3IzdC1kYi12YWx1ZQ==");
    let v: serde_json::Value = serde_json::from_str(&put.body).unwrap();
    let attrs = v["objects"]["object"][0]["attributes"]["attribute"]
        .as_array()
        .unwrap();
    assert_eq!(
        attrs[0],
        serde_json::json!({"name": "route6", "value": "2001:db8:a0::/48"})
    );
    assert!(attrs.contains(&serde_json::json!({"name": "mnt-by", "value": "EXAMPLE-MNT"})));
    assert!(out.contains("RIPE Database create route6 2001:db8:a5::/48AS4200000001 (dry-run): REFUSED HTTP 401 Error: Authorisation for [inet6num] 2001:db8:a5::/48 failed"), "{out}");
    assert!(
        out.contains(
            "RIPE Database modify route6 2001:db8:a0::/48AS4200000001 (dry-run): accepted"
        ),
        "{out}"
    );
}

#[test]
fn rpki_api_is_read_in_dry_run_and_published_with_commit() {
    let (base, seen) = replay();
    let env = [("TERN_RPKI_API_KEY", RPKI_KEY)];
    let (code, out, _) = publish(&base, &["--submit", "rpki", "--format", "krill"], &env);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("GET /roas: HTTP 200, 1 ROA(s) there now"),
        "{out}"
    );
    assert!(
        out.contains("R: 2001:db8:a0::/44-48 => 4200000001"),
        "{out}"
    );
    {
        let s = seen.lock().unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(
            (s[0].method.as_str(), s[0].path.as_str()),
            ("GET", "/rpki/roas")
        );
        assert!(
            s[0].headers
                .contains(&("ncc-api-authorization".into(), RPKI_KEY.into()))
        );
    }
    let (code, out, _) = publish(
        &base,
        &["--submit", "rpki", "--commit", "--format", "table"],
        &env,
    );
    assert_eq!(code, Some(0), "{out}");
    let s = seen.lock().unwrap();
    let post = s.iter().find(|x| x.method == "POST").unwrap();
    assert_eq!(post.path, "/rpki/roas/publish");
    let v: serde_json::Value = serde_json::from_str(&post.body).unwrap();
    assert_eq!(v["added"].as_array().unwrap().len(), 7);
    assert_eq!(
        v["deleted"][0],
        serde_json::json!({"asn": "AS4200000001", "prefix": "2001:db8:a0::/44", "maximalLength": 48})
    );
}

#[test]
fn keys_only_from_env_or_a_private_file() {
    let (base, seen) = replay();
    let (code, _, err) = publish(&base, &["--submit", "ripe-db"], &[("TERN_RIPE_DB_KEY", "")]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("no RIPE Database key: set TERN_RIPE_DB_KEY"),
        "{err}"
    );
    let dir = TempDir::new("publish-key");
    let file = dir.write("key", DB_KEY);
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, _, err) = publish(
        &base,
        &["--submit", "ripe-db", "--ripe-db-key-file", &file],
        &[],
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("readable by group or others"), "{err}");
    assert!(
        seen.lock().unwrap().is_empty(),
        "nothing is sent without a usable key"
    );
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (code, _, _) = publish(
        &base,
        &["--submit", "ripe-db", "--ripe-db-key-file", &file],
        &[],
    );
    assert_eq!(code, Some(1), "a5 is refused by the replay server");
    assert_eq!(seen.lock().unwrap().len(), 7);
}

#[test]
fn the_default_prints_diff_and_every_form_and_json_has_them_all() {
    let out = tern(&[
        "publish",
        MODEL,
        "--vrps",
        VRPS,
        "--irr",
        IRR,
        "--mnt-by",
        "EXAMPLE-MNT",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    for want in [
        "# ROAs: 7 to add, 1 to remove, 1 already there",
        "- ROA 2001:db8:a0::/44-48 => 4200000001",
        "192.0.2.0/24 origin AS4200000001: invalid (no covering VRP authorises the origin AS) today, valid after",
        "# route objects: 6 to add, 1 to modify, 1 to remove, 1 already there",
        "! conflict: route 192.0.2.0/24 origin AS64496",
        "## RPSL",
        "## Krill",
        "\"maximalLength\": 48",
        "2001:db8:af::/48         AS4200000001   48",
    ] {
        assert!(text.contains(want), "{want:?} not in\n{text}");
    }
    let out = tern(&["publish", MODEL, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["objects"]["roas"].as_array().unwrap().len(), 8);
    assert_eq!(v["ripe_rpki"]["added"].as_array().unwrap().len(), 8);
    assert!(
        v["krill_delta"]
            .as_str()
            .unwrap()
            .contains("A: 2001:db8:a0::/48-48 => 4200000001")
    );
}
