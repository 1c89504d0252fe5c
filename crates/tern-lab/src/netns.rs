//! Network namespaces, veth links, addresses, routes, netem and processes, through iproute2.
//!
//! Every function runs one `ip`/`tc`/`sysctl` command and turns a failure into a
//! [`LabError::Command`] with the command line and its stderr. Nothing here touches the root
//! namespace's interfaces or routes: veth pairs are created with `ip -n A link add … peer name
//! … netns B`, so both ends are born inside lab namespaces.

use std::net::Ipv6Addr;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::error::LabError;

/// Runs a program, returning its stdout; a non-zero exit is an error with stderr.
pub fn run(program: &str, args: &[&str]) -> Result<String, LabError> {
    let out = output(program, args)?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(failed(program, args, &out))
    }
}

/// Runs a program and returns its output whatever the exit status.
pub fn output(program: &str, args: &[&str]) -> Result<Output, LabError> {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| LabError::Command {
            command: line(program, args),
            detail: e.to_string(),
        })
}

fn line(program: &str, args: &[&str]) -> String {
    std::iter::once(program)
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join(" ")
}

fn failed(program: &str, args: &[&str], out: &Output) -> LabError {
    LabError::Command {
        command: line(program, args),
        detail: format!(
            "{}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ),
    }
}

/// Runs `program args` inside namespace `ns`; returns stdout.
pub fn exec(ns: &str, program: &str, args: &[&str]) -> Result<String, LabError> {
    let mut v = vec!["netns", "exec", ns, program];
    v.extend_from_slice(args);
    run("ip", &v)
}

/// A command that runs inside namespace `ns` (not started).
pub fn command(ns: &str, program: &Path) -> Command {
    let mut c = Command::new("ip");
    c.args(["netns", "exec", ns]).arg(program);
    c
}

/// Creates a namespace with loopback up, IPv6 forwarding on and duplicate address detection
/// off (addresses are unique by design; DAD would only delay the lab by seconds).
pub fn add(ns: &str) -> Result<(), LabError> {
    run("ip", &["netns", "add", ns])?;
    exec(
        ns,
        "sysctl",
        &[
            "-q",
            "-w",
            "net.ipv6.conf.all.forwarding=1",
            "net.ipv6.conf.default.accept_dad=0",
            "net.ipv6.conf.all.accept_dad=0",
            "net.ipv6.conf.default.accept_ra=0",
            "net.ipv6.conf.all.accept_ra=0",
            "net.ipv6.icmp.ratelimit=0",
            "net.ipv4.ip_forward=1",
            "net.ipv4.conf.all.rp_filter=0",
            "net.ipv4.conf.default.rp_filter=0",
            "net.ipv4.icmp_ratelimit=0",
        ],
    )?;
    run("ip", &["-n", ns, "link", "set", "lo", "up"])?;
    Ok(())
}

/// Deletes a namespace (its veth ends disappear with it, taking their peers along).
pub fn delete(ns: &str) -> Result<(), LabError> {
    run("ip", &["netns", "delete", ns]).map(|_| ())
}

/// Names of all namespaces on the host.
pub fn list() -> Result<Vec<String>, LabError> {
    Ok(run("ip", &["netns", "list"])?
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect())
}

/// Processes running inside a namespace.
pub fn pids(ns: &str) -> Result<Vec<u32>, LabError> {
    Ok(run("ip", &["netns", "pids", ns])?
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect())
}

/// A veth pair from `if_a` in `ns_a` to `if_b` in `ns_b`, both up.
pub fn veth(ns_a: &str, if_a: &str, ns_b: &str, if_b: &str) -> Result<(), LabError> {
    run(
        "ip",
        &[
            "-n", ns_a, "link", "add", if_a, "type", "veth", "peer", "name", if_b, "netns", ns_b,
        ],
    )?;
    run("ip", &["-n", ns_a, "link", "set", if_a, "up"])?;
    run("ip", &["-n", ns_b, "link", "set", if_b, "up"])?;
    Ok(())
}

/// Adds an address (no DAD).
pub fn addr(ns: &str, dev: &str, addr: Ipv6Addr, plen: u8) -> Result<(), LabError> {
    let a = format!("{addr}/{plen}");
    run(
        "ip",
        &["-n", ns, "-6", "addr", "add", &a, "dev", dev, "nodad"],
    )
    .map(|_| ())
}

/// Adds an IPv4 address.
pub fn addr4(ns: &str, dev: &str, addr: std::net::Ipv4Addr, plen: u8) -> Result<(), LabError> {
    let a = format!("{addr}/{plen}");
    run("ip", &["-n", ns, "-4", "addr", "add", &a, "dev", dev]).map(|_| ())
}

/// The IPv4 default route of a namespace, towards a lab router.
pub fn default_route4(ns: &str, via: std::net::Ipv4Addr) -> Result<(), LabError> {
    let v = via.to_string();
    run(
        "ip",
        &["-n", ns, "-4", "route", "replace", "default", "via", &v],
    )
    .map(|_| ())
}

/// The IPv6 default route of a namespace, towards a lab router, preferring source `src`.
pub fn default_route(ns: &str, via: Ipv6Addr, src: Option<Ipv6Addr>) -> Result<(), LabError> {
    let v = via.to_string();
    let mut args = vec!["-n", ns, "-6", "route", "replace", "default", "via", &v];
    let s = src.map(|a| a.to_string());
    if let Some(s) = &s {
        args.extend(["src", s.as_str()]);
    }
    run("ip", &args).map(|_| ())
}

/// Applies `delay` with netem on `dev`. `Ok(false)` when the kernel has no netem
/// (`CONFIG_NET_SCH_NETEM` unset): the lab then runs without emulated delays.
pub fn netem(ns: &str, dev: &str, delay_ms: f64) -> Result<bool, LabError> {
    let d = format!("{delay_ms:.1}ms");
    let args = [
        "-n", ns, "qdisc", "replace", "dev", dev, "root", "netem", "delay", &d,
    ];
    let out = output("tc", &args)?;
    if out.status.success() {
        return Ok(true);
    }
    let err = String::from_utf8_lossy(&out.stderr);
    if err.contains("qdisc kind is unknown") || err.contains("No such file") {
        return Ok(false);
    }
    Err(failed("tc", &args, &out))
}

/// Is this process alive (and not a zombie)?
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => s
            .rsplit_once(')')
            .map(|(_, rest)| !rest.trim_start().starts_with('Z'))
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// Sends SIGTERM, waits up to `grace`, then SIGKILL. Unknown or dead pids are fine.
pub fn stop(pid: u32, grace: Duration) {
    if !alive(pid) {
        return;
    }
    let p = pid.to_string();
    let _ = output("kill", &["-TERM", &p]);
    let t = Instant::now();
    while alive(pid) && t.elapsed() < grace {
        std::thread::sleep(Duration::from_millis(20));
    }
    if alive(pid) {
        let _ = output("kill", &["-KILL", &p]);
    }
}
