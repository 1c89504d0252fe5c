//! Processes inside lab namespaces: BIRD daemons (started, controlled with `birdc`, stopped), the
//! lab's whoami endpoints, services and `tern run` ([`spawn`]). Their pids go into the lab state
//! ([`crate::state`]).

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::error::LabError;
use crate::netns;
use crate::state::LabState;

/// One line of `birdc show protocols`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Protocol {
    /// Protocol name.
    pub name: String,
    /// Kind (`BGP`, `Static`, …).
    pub proto: String,
    /// `up`, `start`, `down`.
    pub state: String,
    /// BGP state and more (`Established`, `Active  Socket: …`).
    pub info: String,
}

/// The config file of a node's BIRD.
pub fn conf_path(state: &LabState, node: &str) -> PathBuf {
    state.dir.join(format!("{node}.conf"))
}

/// The log file of a node's BIRD.
pub fn log_path(state: &LabState, node: &str) -> PathBuf {
    state.dir.join(format!("{node}.log"))
}

/// Writes `conf` and starts `bird` (the program) in the node's namespace; returns its pid.
pub fn start_bird(state: &LabState, node: &str, conf: &str, bird: &Path) -> Result<u32, LabError> {
    let path = conf_path(state, node);
    std::fs::write(&path, conf).map_err(|e| LabError::io(&path, e))?;
    let pidfile = state.dir.join(format!("{node}.pid"));
    let _ = std::fs::remove_file(&pidfile);
    let sock = state.socket(node);
    let ns = state.ns(node);
    let out = netns::command(&ns, bird)
        .arg("-c")
        .arg(&path)
        .arg("-s")
        .arg(&sock)
        .arg("-P")
        .arg(&pidfile)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| LabError::Command {
            command: format!("{} in {ns}", bird.display()),
            detail: e.to_string(),
        })?;
    if !out.status.success() {
        return Err(LabError::Command {
            command: format!("{} -c {} in {ns}", bird.display(), path.display()),
            detail: format!(
                "{}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    // BIRD forks into the background and writes its pid file.
    let t = Instant::now();
    loop {
        if let Some(pid) = std::fs::read_to_string(&pidfile)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            return Ok(pid);
        }
        if t.elapsed() > Duration::from_secs(5) {
            return Err(LabError::Timeout {
                what: format!("the pid file of BIRD in {ns}"),
                seconds: 5,
            });
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `birdc -s <socket> <args>`; returns its output.
pub fn birdc(state: &LabState, node: &str, args: &[&str]) -> Result<String, LabError> {
    let sock = state.socket(node);
    let s = sock.to_string_lossy();
    let mut v = vec!["-s", &s];
    v.extend_from_slice(args);
    let out = netns::run("birdc", &v)?;
    // birdc exits 0 even when a command fails; BIRD's error replies start with codes 8xxx/9xxx.
    if let Some(l) = out
        .lines()
        .find(|l| l.starts_with('8') || l.starts_with('9'))
    {
        return Err(LabError::Command {
            command: format!("birdc {} at {node}", args.join(" ")),
            detail: l.to_owned(),
        });
    }
    Ok(out)
}

/// `show protocols` of a node's BIRD.
pub fn protocols(state: &LabState, node: &str) -> Result<Vec<Protocol>, LabError> {
    let out = birdc(state, node, &["show", "protocols"])?;
    Ok(parse_protocols(&out))
}

/// Reads `birdc show protocols` output.
pub fn parse_protocols(out: &str) -> Vec<Protocol> {
    let mut v = Vec::new();
    for l in out.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        // name proto table state since(date [time]) info…
        if f.len() < 5 || f[0] == "Name" || f[0] == "BIRD" || l.starts_with(' ') {
            continue;
        }
        let info_start = if f.len() > 5 && f[5].contains(':') {
            6
        } else {
            5
        };
        v.push(Protocol {
            name: f[0].to_owned(),
            proto: f[1].to_owned(),
            state: f[3].to_owned(),
            info: f.get(info_start..).map(|x| x.join(" ")).unwrap_or_default(),
        });
    }
    v
}

/// Starts `program args…` in the node's namespace, in its own process group, stdout and stderr
/// to `log`; returns its pid. An error if it exits within the first 50 ms (with its log).
pub fn spawn(
    state: &LabState,
    node: &str,
    program: &Path,
    args: &[std::ffi::OsString],
    log: &Path,
) -> Result<u32, LabError> {
    use std::os::unix::process::CommandExt;
    if let Some(d) = log.parent() {
        std::fs::create_dir_all(d).map_err(|e| LabError::io(d, e))?;
    }
    let out = std::fs::File::create(log).map_err(|e| LabError::io(log, e))?;
    let err = out.try_clone().map_err(|e| LabError::io(log, e))?;
    let ns = state.ns(node);
    let what = || {
        format!(
            "{} {} in {ns}",
            program.display(),
            args.first()
                .map(|a| a.to_string_lossy().into_owned())
                .unwrap_or_default()
        )
    };
    let child = netns::command(&ns, program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .map_err(|e| LabError::Command {
            command: what(),
            detail: e.to_string(),
        })?;
    let pid = child.id();
    std::thread::sleep(Duration::from_millis(50));
    if !netns::alive(pid) {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        return Err(LabError::Command {
            command: what(),
            detail: format!("exited at once: {}", text.trim()),
        });
    }
    Ok(pid)
}

/// Starts the lab's whoami endpoints for a site in its namespace: `<exe> lab serve …`.
pub fn start_whoami(
    state: &LabState,
    node: &str,
    exe: &Path,
    site: &str,
    code: Option<&str>,
    addrs: &[IpAddr],
) -> Result<u32, LabError> {
    use std::os::unix::process::CommandExt;
    let logp = state.dir.join(format!("{node}-whoami.log"));
    let log = std::fs::File::create(&logp).map_err(|e| LabError::io(&logp, e))?;
    let log2 = log.try_clone().map_err(|e| LabError::io(&logp, e))?;
    let ns = state.ns(node);
    let mut c = netns::command(&ns, exe);
    c.args(["lab", "serve", "--site", site]);
    if let Some(code) = code {
        c.args(["--code", code]);
    }
    for a in addrs {
        c.arg("--addr").arg(a.to_string());
    }
    let child = c
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .process_group(0)
        .spawn()
        .map_err(|e| LabError::Command {
            command: format!("{} lab serve in {ns}", exe.display()),
            detail: e.to_string(),
        })?;
    let pid = child.id();
    std::thread::sleep(Duration::from_millis(50));
    if !netns::alive(pid) {
        let text = std::fs::read_to_string(&logp).unwrap_or_default();
        return Err(LabError::Command {
            command: format!("{} lab serve in {ns}", exe.display()),
            detail: format!("exited at once: {}", text.trim()),
        });
    }
    Ok(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_show_protocols() {
        let out = "BIRD 2.0.12 ready.\nName       Proto      Table      State  Since         Info\n\
                   device1    Device     ---        up     22:01:02.123  \n\
                   n_cogent_eu BGP        ---        up     22:01:03.456  Established   \n\
                   vultr6     BGP        ---        start  2026-11-25 22:01:03  Active        Socket: Connection refused\n";
        let p = parse_protocols(out);
        assert_eq!(p.len(), 3);
        assert_eq!(p[1].name, "n_cogent_eu");
        assert_eq!(
            (p[1].state.as_str(), p[1].info.as_str()),
            ("up", "Established")
        );
        assert_eq!(p[2].state, "start");
        assert!(p[2].info.starts_with("Active"), "{}", p[2].info);
    }
}
