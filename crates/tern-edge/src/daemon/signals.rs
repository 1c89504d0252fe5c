//! Unix signals as [`Control`] messages: SIGTERM and SIGINT stop the daemon (withdraw, Cease,
//! exit 0), SIGHUP reloads tern.toml. Handlers are installed before any session starts, so a
//! SIGTERM during start-up is never the default action (an abrupt exit).

use std::io;

use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::announcer::Control;

pub(super) struct Signals {
    term: Signal,
    int: Signal,
    hup: Signal,
}

impl Signals {
    pub(super) fn install() -> io::Result<Self> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    pub(super) async fn run(mut self, control: mpsc::Sender<Control>, cancel: CancellationToken) {
        loop {
            let msg = tokio::select! {
                () = cancel.cancelled() => return,
                _ = self.term.recv() => { info!("SIGTERM: shutting down"); Control::Shutdown }
                _ = self.int.recv() => { info!("SIGINT: shutting down"); Control::Shutdown }
                _ = self.hup.recv() => { info!("SIGHUP: reloading"); Control::Reload { reply: None } }
            };
            if control.send(msg).await.is_err() {
                return;
            }
        }
    }
}
