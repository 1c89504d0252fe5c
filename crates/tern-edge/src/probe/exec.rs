//! The exec check: run a program (no shell); exit status 0 is healthy.
//!
//! The program gets no stdin and its output is discarded (a chatty check cannot fill a pipe and
//! hang; a grandchild keeping a pipe open cannot block us). It runs in its own process group;
//! at the timeout the whole group gets SIGKILL (via `kill -KILL -- -PGID`, since the workspace
//! forbids `unsafe` and std has no `killpg`), then the child itself is killed and reaped, so a
//! timed-out `sh -c 'sleep 100'` leaves nothing behind.

use std::process::Stdio;
use std::time::{Duration, Instant};

use tern_health::CheckResult;
use tokio::process::Command;

/// Run `argv` with `timeout`.
pub async fn run(argv: &[String], timeout: Duration) -> CheckResult {
    let start = Instant::now();
    let Some((program, args)) = argv.split_first() else {
        return CheckResult::failed(Duration::ZERO, "exec check without a program");
    };
    let mut child = match Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            return CheckResult::failed(start.elapsed(), format!("cannot run {program}: {e}"));
        }
    };
    match tokio::time::timeout(timeout, child.wait()).await {
        Ok(Ok(status)) if status.success() => CheckResult::ok(start.elapsed(), "exit status 0"),
        Ok(Ok(status)) => {
            let detail = match status.code() {
                Some(code) => format!("exit status {code}"),
                None => format!("{status}"),
            };
            CheckResult::failed(start.elapsed(), detail)
        }
        Ok(Err(e)) => CheckResult::failed(start.elapsed(), format!("wait for {program}: {e}")),
        Err(_) => {
            if let Some(pid) = child.id() {
                // Best effort: the group may already be gone.
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{pid}")])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .await;
            }
            let _ = child.kill().await;
            CheckResult::failed(
                timeout,
                format!("timeout after {} ms, killed", timeout.as_millis()),
            )
        }
    }
}
