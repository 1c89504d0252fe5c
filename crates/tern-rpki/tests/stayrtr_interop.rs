//! Interop: our RTR client against a real StayRTR cache (Debian package `stayrtr`).
//!
//! Each test writes a VRP JSON file (documentation prefixes, private ASNs) into its own temp
//! directory, starts `stayrtr` on a free loopback port with its metrics listener on an
//! ephemeral loopback port, fetches over RTR and compares with the same file loaded by
//! `VrpSet::from_json_file`. The daemon is killed by a Drop guard, also when the test fails.

use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use tern_rpki::VrpSet;
use tern_rpki::rtr::{self, RtrError};
use tern_testkit::{TempDir, free_port};

/// A child process killed (and reaped) on drop, also when a test panics.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running stayrtr and its temp dir; both go away on drop, the process first (fields drop
/// in declaration order).
struct StayRtr {
    _child: KillOnDrop,
    dir: TempDir,
    addr: SocketAddr,
}

fn stayrtr_binary() -> &'static str {
    let ok = Command::new("stayrtr")
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "stayrtr is not installed: this interop test needs it (apt-get install -y stayrtr; \
         scripts/setup installs it)"
    );
    "stayrtr"
}

/// Starts stayrtr serving `json` with extra `args`, and waits until it accepts connections.
/// A port taken between `free_port` and stayrtr's bind makes stayrtr exit: then it is
/// restarted on another port, so we never talk to a stranger's listener.
fn start(name: &str, json: &str, args: &[&str]) -> StayRtr {
    let bin = stayrtr_binary();
    let dir = TempDir::new(&format!("rpki-{name}"));
    let cache = dir.0.join("vrps.json");
    std::fs::write(&cache, json).unwrap();
    for _attempt in 0..5 {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let log = std::fs::File::create(dir.0.join("stayrtr.log")).unwrap();
        let child = Command::new(bin)
            .arg("-cache")
            .arg(&cache)
            .args(["-bind", &addr.to_string()])
            .args([
                "-metrics.addr",
                "127.0.0.1:0",
                "-checktime=false",
                "-refresh",
                "3600",
            ])
            .args(args)
            .current_dir(&dir.0)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut child = KillOnDrop(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut exited = false;
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if child.0.try_wait().unwrap().is_some() {
                exited = true;
                break;
            }
            assert!(
                Instant::now() < deadline,
                "stayrtr did not listen on {addr}; log: {}",
                std::fs::read_to_string(dir.0.join("stayrtr.log")).unwrap_or_default()
            );
            sleep(Duration::from_millis(100));
        }
        // Still alive a moment after the port answered: the listener is ours.
        sleep(Duration::from_millis(300));
        if !exited && child.0.try_wait().unwrap().is_none() {
            return StayRtr {
                _child: child,
                dir,
                addr,
            };
        }
    }
    let log = std::fs::read_to_string(dir.0.join("stayrtr.log")).unwrap_or_default();
    panic!("stayrtr kept exiting at start; log: {log}");
}

/// Fetches, retrying while the cache is still loading (No Data Available).
fn fetch(s: &StayRtr) -> rtr::Snapshot {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match rtr::fetch_snapshot(s.addr, Duration::from_secs(10)) {
            Ok(snap) => return snap,
            Err(RtrError::NoData { .. }) if Instant::now() < deadline => {
                sleep(Duration::from_millis(200))
            }
            Err(e) => panic!(
                "fetch from stayrtr failed: {e}; log: {}",
                std::fs::read_to_string(s.dir.0.join("stayrtr.log")).unwrap_or_default()
            ),
        }
    }
}

/// ~300 VRPs over the documentation prefixes with private ASNs, asn written both ways.
fn vrp_json() -> String {
    let mut roas = Vec::new();
    for i in 0..256u32 {
        let asn = if i % 2 == 0 {
            format!("{}", 64512 + i)
        } else {
            format!("\"AS{}\"", 4_200_000_000u32 + i)
        };
        roas.push(format!(
            r#"{{"asn": {asn}, "prefix": "2001:db8:{i:x}::/48", "maxLength": {}, "ta": "lab"}}"#,
            48 + (i % 3) * 8
        ));
    }
    for (p, max) in [
        ("192.0.2.0/24", 24),
        ("198.51.100.0/24", 28),
        ("203.0.113.0/25", 32),
    ] {
        roas.push(format!(
            r#"{{"asn": 65000, "prefix": "{p}", "maxLength": {max}, "ta": "lab"}}"#
        ));
    }
    roas.push(r#"{"asn": "AS65001", "prefix": "3fff::/20", "maxLength": 48, "ta": "lab"}"#.into());
    roas.push(r#"{"asn": 0, "prefix": "3fff:100::/24", "maxLength": 24, "ta": "lab"}"#.into());
    format!(
        "{{\"metadata\": {{\"buildtime\": \"2024-01-01T00:00:00Z\"}},\n\"roas\": [\n{}\n]}}\n",
        roas.join(",\n")
    )
}

/// Equal sets, or a short account of the difference.
fn assert_same(got: &VrpSet, want: &VrpSet) {
    let missing: Vec<String> = want
        .iter()
        .filter(|v| !got.iter().any(|g| g == *v))
        .map(|v| v.to_string())
        .take(5)
        .collect();
    let extra: Vec<String> = got
        .iter()
        .filter(|v| !want.iter().any(|w| w == *v))
        .map(|v| v.to_string())
        .take(5)
        .collect();
    assert!(
        got == want,
        "RTR gave {} VRPs, the file has {}; missing (first 5): {missing:?}; extra: {extra:?}",
        got.len(),
        want.len()
    );
}

#[test]
fn fetch_version_1_matches_the_file() {
    let json = vrp_json();
    let want = VrpSet::from_json_str(&json, "vrps.json").unwrap();
    assert_eq!(want.len(), 261);
    let s = start(
        "v1",
        &json,
        &[
            "-rtr.refresh",
            "900",
            "-rtr.retry",
            "60",
            "-rtr.expire",
            "7200",
        ],
    );
    let snap = fetch(&s);
    assert_eq!(snap.version, 1);
    let t = snap.timing.expect("version 1 End of Data carries timers");
    assert_eq!((t.refresh, t.retry, t.expire), (900, 60, 7200));
    assert_same(&snap.vrps, &want);
}

#[test]
fn fetch_falls_back_to_version_0() {
    let json = vrp_json();
    let want = VrpSet::from_json_str(&json, "vrps.json").unwrap();
    let s = start("v0", &json, &["-protocol", "0"]);
    let snap = fetch(&s);
    assert_eq!(snap.version, 0);
    assert_eq!(snap.timing, None);
    assert_same(&snap.vrps, &want);
}

#[test]
fn nothing_listening_is_an_io_error() {
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let e = rtr::fetch(addr, Duration::from_secs(2)).unwrap_err();
    assert!(matches!(e, RtrError::Io { .. }), "{e}");
    assert!(e.to_string().contains(&addr.to_string()), "{e}");
}

/// What a version-0-only stayrtr does with our version-1 Reset Query, seen through the sans-IO
/// client: RFC 8210 §7 allows an Error Report "Unsupported Protocol Version" (then we reconnect
/// with 0, as `fetch` does) or a version-0 answer (then we downgrade in place).
#[test]
fn version_1_query_to_version_0_cache() {
    use std::io::{Read, Write};
    use tern_rpki::rtr::{Event, RtrClient, SessionError};

    let s = start("v0raw", &vrp_json(), &["-protocol", "0"]);
    let mut stream = TcpStream::connect(s.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut c = RtrClient::new(1);
    while let Some(b) = c.poll_transmit() {
        stream.write_all(&b).unwrap();
    }
    let mut buf = [0u8; 4096];
    let outcome = loop {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "stayrtr closed without a word");
        match c.handle_input(&buf[..n]) {
            Err(e) => break Err(e),
            Ok(()) => {
                if let Some(Event::Synced { .. }) = c.poll_event() {
                    break Ok(c.version());
                }
            }
        }
    };
    eprintln!("stayrtr -protocol 0 answered a version 1 query with: {outcome:?}");
    match outcome {
        Ok(v) => assert_eq!(v, 0),
        Err(e) => assert_eq!(e, SessionError::UnsupportedVersion { ours: 1, cache: 0 }),
    }
}
