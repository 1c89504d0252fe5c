//! Peer drivers: one tokio task per BGP peer feeding the sans-IO [`Session`] of tern-bgp.
//!
//! ```text
//!   announcer ──Command──▶ peer task ──▶ Session (tern-bgp, sans-IO)
//!                            ▲   │ Output::Connect/Transmit/Close
//!   Listener ──TcpStream─────┘   ▼
//!                          per-connection reader + writer tasks ◀──▶ TCP (MD5, TTL, GTSM)
//!   control API / metrics ◀──watch<PeerStatus>── peer task
//! ```
//!
//! The task owns the session alone (one writer per piece of state); everybody else sends it
//! typed [`Command`]s and reads [`PeerStatus`] from a `watch` channel. Every task it starts is
//! on the caller's `TaskTracker`; cancelling the token (SIGTERM) makes it withdraw our routes,
//! send a Cease with a shutdown message, flush within a bounded time and return.

mod driver;
pub use driver::MD5_HINT_AFTER;
mod listener;
pub mod sockopt;
pub mod transport;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tern_bgp::rib::RouteAttrs;
use tern_bgp::session::{DownReason, Negotiated, SessionConfig, State, Stats};
use tern_types::Prefix;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

pub use listener::Listener;
pub use transport::{TransportConfig, TransportError};

/// How long a stopping peer waits for its last UPDATEs and the Cease to be written.
pub const SHUTDOWN_FLUSH: Duration = Duration::from_secs(2);

/// Everything needed to run one peer.
#[derive(Clone, Debug)]
pub struct PeerConfig {
    /// Name for logs (the upstream's name).
    pub name: String,
    /// The peer's address and BGP port (179 in production).
    pub remote: SocketAddr,
    /// TCP options: MD5, TTL, GTSM, source address.
    pub transport: TransportConfig,
    /// The BGP session.
    pub session: SessionConfig,
}

/// What other tasks may ask of a peer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// Announce (or change) one of our routes.
    Announce(Prefix, RouteAttrs),
    /// Withdraw one of our routes.
    Withdraw(Prefix),
    /// Make our routes exactly these.
    ReplaceAll(Vec<(Prefix, RouteAttrs)>),
    /// Send every route again.
    Refresh,
    /// Withdraw everything, send Cease with this message, close and end the task.
    Shutdown(String),
}

/// What a peer looks like from outside; published on a `watch` channel after every step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerStatus {
    /// RFC 4271 state.
    pub state: State,
    /// What was negotiated, while Established.
    pub negotiated: Option<Negotiated>,
    /// Since when the session is Established.
    pub established_since: Option<Instant>,
    /// Why it last went down.
    pub last_down: Option<DownReason>,
    /// Counters.
    pub stats: Stats,
    /// Number of our routes in the Adj-RIB-Out.
    pub announced: usize,
    /// Prefixes in the Adj-RIB-In (when enabled).
    pub received_prefixes: Option<usize>,
    /// A hint for the operator when the session does not come up (TCP-MD5 set and no answer
    /// after [`MD5_HINT_AFTER`] attempts).
    pub hint: Option<String>,
    /// The task has ended (shutdown).
    pub finished: bool,
}

impl Default for PeerStatus {
    fn default() -> Self {
        PeerStatus {
            state: State::Idle,
            negotiated: None,
            established_since: None,
            last_down: None,
            stats: Stats::default(),
            announced: 0,
            received_prefixes: None,
            hint: None,
            finished: false,
        }
    }
}

/// The handle to a running peer task.
#[derive(Debug, Clone)]
pub struct PeerHandle {
    /// Send commands here.
    pub commands: mpsc::Sender<Command>,
    /// Latest status.
    pub status: watch::Receiver<PeerStatus>,
    accepted: mpsc::Sender<TcpStream>,
}

impl PeerHandle {
    /// The channel a [`Listener`] hands this peer's incoming connections to.
    pub fn accept_sender(&self) -> mpsc::Sender<TcpStream> {
        self.accepted.clone()
    }
}

/// Start the task for one peer on `tracker`. It runs until `cancel` fires or it receives
/// [`Command::Shutdown`]; either way it withdraws, sends Cease and closes first.
pub fn spawn_peer(cfg: PeerConfig, tracker: &TaskTracker, cancel: CancellationToken) -> PeerHandle {
    let (cmd_tx, cmd_rx) = mpsc::channel(256);
    let (acc_tx, acc_rx) = mpsc::channel(4);
    let (status_tx, status_rx) = watch::channel(PeerStatus::default());
    let (cfg_name, cfg_remote) = (cfg.name.clone(), cfg.remote);
    let task = driver::PeerTask::new(cfg, tracker.clone(), cancel, cmd_rx, acc_rx, status_tx);
    let span = tracing::info_span!("peer", name = %cfg_name, remote = %cfg_remote);
    tracker.spawn(task.run().instrument(span));
    PeerHandle {
        commands: cmd_tx,
        status: status_rx,
        accepted: acc_tx,
    }
}
