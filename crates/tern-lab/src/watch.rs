//! Failover timing: one long-running DNS watcher per probe namespace (`tern lab dns-watch`,
//! a CHAOS `id.server` query every few milliseconds without waiting for answers, one JSON line
//! per answer with the time its query left the probe), started *before* the change, so that
//! neither process start-up, polling rounds nor a query lost in the transition blur the figure.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::error::LabError;
use crate::interrupt::Interrupt;
use crate::netns;
use crate::state::LabState;
use crate::topology::NodeKind;

/// Watchers of every probe; killed on drop.
#[derive(Debug)]
pub struct Watch {
    children: Vec<Child>,
    rx: Receiver<(String, f64, Option<String>)>,
    probes: Vec<String>,
}

#[derive(Deserialize)]
struct Line {
    sent: f64,
    #[serde(default)]
    txt: Vec<String>,
}

/// Starts a watcher in every probe namespace: a query every `interval`.
pub fn start(st: &LabState, exe: &Path, interval: Duration) -> Result<Watch, LabError> {
    let topo = st.topo()?;
    let (tx, rx) = channel();
    let mut children = Vec::new();
    let mut probes = Vec::new();
    let target = topo.target.to_string();
    let iv = interval.as_millis().to_string();
    for i in topo.of_kind(NodeKind::Probe) {
        let name = topo.nodes[i].name.clone();
        let mut child = netns::command(&st.ns(&name), exe)
            .args(["lab", "dns-watch", "--server", &target])
            .args(["--interval-ms", &iv])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| LabError::Command {
                command: format!("{} lab dns-watch in {name}", exe.display()),
                detail: e.to_string(),
            })?;
        if let Some(out) = child.stdout.take() {
            let tx = tx.clone();
            let probe = name.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    if let Ok(l) = serde_json::from_str::<Line>(&line) {
                        if tx
                            .send((probe.clone(), l.sent, l.txt.into_iter().next()))
                            .is_err()
                        {
                            break;
                        }
                    }
                }
            });
        }
        children.push(child);
        probes.push(name);
    }
    Ok(Watch {
        children,
        rx,
        probes,
    })
}

impl Watch {
    /// Waits until every probe's latest answer satisfies `want(probe, site)`. Returns the time
    /// from `start` (Unix seconds) to the first query of the last probe to get there that was
    /// answered to its satisfaction, and the sites then.
    pub fn until(
        &self,
        start: f64,
        timeout: Duration,
        stop: &Interrupt,
        want: &dyn Fn(&str, Option<&str>) -> bool,
    ) -> Result<(Duration, BTreeMap<String, Option<String>>), LabError> {
        let t = Instant::now();
        let mut latest: BTreeMap<String, Option<String>> = BTreeMap::new();
        let mut since: BTreeMap<String, f64> = BTreeMap::new();
        loop {
            stop.check()?;
            match self.rx.recv_timeout(Duration::from_millis(100)) {
                Ok((p, sent, site)) => {
                    if sent >= start && want(&p, site.as_deref()) {
                        since.entry(p.clone()).or_insert(sent);
                    } else {
                        since.remove(&p);
                    }
                    latest.insert(p, site);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(LabError::Command {
                        command: "tern lab dns-watch".into(),
                        detail: "every watcher stopped".into(),
                    });
                }
            }
            if self.probes.iter().all(|p| since.contains_key(p)) {
                let last = since.values().copied().fold(start, f64::max);
                return Ok((Duration::from_secs_f64((last - start).max(0.0)), latest));
            }
            if t.elapsed() > timeout {
                return Err(LabError::Timeout {
                    what: format!("every probe to move (latest answers: {latest:?})"),
                    seconds: timeout.as_secs(),
                });
            }
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
