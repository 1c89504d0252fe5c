//! What the host needs for a lab: root and programs, each named with its Debian package, all
//! missing ones at once (the binary turns that into exit 2 and "run scripts/setup").

use std::path::{Path, PathBuf};

use crate::error::LabError;

/// Programs `up` needs.
pub const UP_PROGRAMS: &[&str] = &["ip", "tc", "sysctl", "kill", "birdc"];
/// Programs `measure` needs.
pub const MEASURE_PROGRAMS: &[&str] = &["ip", "ping", "traceroute", "curl"];

/// Is `program` runnable (a path, or found on PATH or in the sbin directories)?
pub fn find_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let p = PathBuf::from(program);
        return p.is_file().then_some(p);
    }
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
        .map(|d| Path::new(d).join(program))
        .find(|p| p.is_file())
}

/// The programs of `programs` that cannot be found.
pub fn missing_programs<'a>(programs: &[&'a str]) -> Vec<&'a str> {
    programs
        .iter()
        .copied()
        .filter(|p| find_program(p).is_none())
        .collect()
}

/// The Debian package that provides a program the lab uses.
pub fn package_of(program: &str) -> &str {
    match program.rsplit('/').next().unwrap_or(program) {
        "ip" | "tc" => "iproute2",
        "bird" | "birdc" => "bird2",
        "ping" => "iputils-ping",
        "traceroute" => "traceroute",
        "curl" => "curl",
        "dig" => "dnsutils",
        "sysctl" | "kill" => "procps",
        _ => program,
    }
}

/// Checks root and programs; the error lists everything missing at once.
pub fn prerequisites(programs: &[&str]) -> Result<(), LabError> {
    let mut missing = Vec::new();
    let euid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2))
                .and_then(|u| u.parse::<u32>().ok())
        });
    if euid != Some(0) {
        missing.push("root (network namespaces need CAP_NET_ADMIN: run as root)".to_owned());
    }
    for p in missing_programs(programs) {
        missing.push(format!("{p} (Debian package {})", package_of(p)));
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(LabError::Prerequisites(missing))
    }
}
