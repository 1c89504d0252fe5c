//! The drain file: while it exists the site is drained. Empty (or a line `all`): every prefix;
//! otherwise the prefixes it lists, one per line (`#` starts a comment). It is polled every
//! [`DRAIN_POLL`] (no inotify dependency; a drain is an operator action, a second is fine) and
//! only changes are sent to the announcer.

use std::path::PathBuf;
use std::time::Duration;

use tern_types::Prefix;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use crate::announcer::Control;

/// How often the drain file is looked at.
pub const DRAIN_POLL: Duration = Duration::from_millis(500);

/// What a drain file's text asks for: `None` = all prefixes. Lines that are not prefixes are
/// returned as errors (and ignored by the daemon, which logs them).
pub fn parse_drain_file(text: &str) -> (Vec<Option<Prefix>>, Vec<String>) {
    let mut set = Vec::new();
    let mut bad = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if line.eq_ignore_ascii_case("all") {
            set.push(None);
            continue;
        }
        match line.parse::<Prefix>() {
            Ok(p) => set.push(Some(p)),
            Err(e) => bad.push(format!("{line:?}: {e}")),
        }
    }
    if set.is_empty() {
        set.push(None);
    }
    (set, bad)
}

pub(super) async fn watch(
    path: PathBuf,
    control: mpsc::Sender<Control>,
    cancel: CancellationToken,
) {
    let mut last: Option<Vec<Option<Prefix>>> = None;
    let mut last_bad = Vec::new();
    loop {
        let now = match tokio::fs::read_to_string(&path).await {
            Ok(text) => {
                let (set, bad) = parse_drain_file(&text);
                if !bad.is_empty() && bad != last_bad {
                    warn!(file = %path.display(), lines = ?bad, "drain file: lines ignored");
                }
                last_bad = bad;
                set
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                warn!(file = %path.display(), error = %e, "drain file unreadable: treated as draining everything");
                vec![None]
            }
        };
        if last.as_ref() != Some(&now) {
            if control.send(Control::DrainFile(now.clone())).await.is_err() {
                return;
            }
            last = Some(now);
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(DRAIN_POLL) => {}
        }
    }
}
