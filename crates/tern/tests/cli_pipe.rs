//! Output into a pipe that closes early (`tern … | head`) ends the command quietly, never with a
//! panic.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

#[test]
fn closed_stdout_is_not_a_panic() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(["plan", "2001:db8::/32", "--split", "64"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("split into /64"), "{first}");
    // The reader is dropped here: the pipe is closed while tern still has lines to write.
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        out.status.signal() == Some(libc_sigpipe()) || out.status.success(),
        "{:?} {stderr}",
        out.status
    );
}

/// SIGPIPE is 13 on Linux.
fn libc_sigpipe() -> i32 {
    13
}
