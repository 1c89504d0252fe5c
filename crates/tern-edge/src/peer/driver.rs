//! The tokio task of one peer: moves bytes, time and commands into the sans-IO session and
//! carries out what it asks (connect, transmit, close). No BGP logic lives here.

use std::collections::HashMap;
use std::time::Instant;

use tern_bgp::session::{ConnId, Input, Output, Session};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, warn};

use super::{Command, PeerConfig, PeerStatus, SHUTDOWN_FLUSH, transport};

/// With a TCP-MD5 key set, after this many failed connection attempts in a row the peer logs a
/// hint (and shows it in its status): a key mismatch looks like silence.
pub const MD5_HINT_AFTER: u32 = 3;
/// Read buffer per connection: a full-table burst arrives in large chunks.
const READ_BUF: usize = 64 * 1024;
/// Reads in flight per connection before the reader waits for the session (back-pressure).
const READ_QUEUE: usize = 16;

enum ConnEvent {
    Connected(ConnId, TcpStream),
    ConnectFailed(ConnId, transport::TransportError),
    Data(ConnId, Vec<u8>),
    Closed(ConnId),
}

struct ConnIo {
    writer: mpsc::UnboundedSender<Vec<u8>>,
    writer_task: JoinHandle<()>,
    reader_task: JoinHandle<()>,
}

pub(super) struct PeerTask {
    cfg: PeerConfig,
    session: Session,
    tracker: TaskTracker,
    cancel: CancellationToken,
    commands: mpsc::Receiver<Command>,
    accepted: mpsc::Receiver<TcpStream>,
    status: watch::Sender<PeerStatus>,
    events_tx: mpsc::Sender<ConnEvent>,
    events_rx: mpsc::Receiver<ConnEvent>,
    conns: HashMap<ConnId, ConnIo>,
    closing: Vec<JoinHandle<()>>,
    connecting: Vec<JoinHandle<()>>,
    established_since: Option<Instant>,
    /// Connection attempts that failed since the session was last Established.
    failed_connects: u32,
    /// The TCP-MD5 hint, once given.
    hint: Option<String>,
}

impl PeerTask {
    pub(super) fn new(
        cfg: PeerConfig,
        tracker: TaskTracker,
        cancel: CancellationToken,
        commands: mpsc::Receiver<Command>,
        accepted: mpsc::Receiver<TcpStream>,
        status: watch::Sender<PeerStatus>,
    ) -> Self {
        let (events_tx, events_rx) = mpsc::channel(READ_QUEUE * 2);
        PeerTask {
            session: Session::new(cfg.session.clone()),
            cfg,
            tracker,
            cancel,
            commands,
            accepted,
            status,
            events_tx,
            events_rx,
            conns: HashMap::new(),
            closing: Vec::new(),
            connecting: Vec::new(),
            established_since: None,
            failed_connects: 0,
            hint: None,
        }
    }

    fn now() -> Instant {
        Instant::now()
    }

    pub(super) async fn run(mut self) {
        self.session.handle_input(Input::Start, Self::now());
        let reason = loop {
            self.process_outputs();
            self.publish(false);
            let deadline = self.session.poll_timeout();
            let sleep = async {
                match deadline {
                    Some(t) => tokio::time::sleep_until(tokio::time::Instant::from_std(t)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                _ = self.cancel.cancelled() => break "tern is shutting down".to_owned(),
                Some(cmd) = self.commands.recv() => match cmd {
                    Command::Announce(p, a) => { self.session.announce(p, a); }
                    Command::Withdraw(p) => { self.session.withdraw(p); }
                    Command::ReplaceAll(r) => { self.session.replace_all(r); }
                    Command::Refresh => self.session.refresh(),
                    Command::Shutdown(msg) => break msg,
                },
                Some(ev) = self.events_rx.recv() => self.on_event(ev),
                Some(stream) = self.accepted.recv() => self.on_accept(stream),
                _ = sleep => self.session.handle_timeout(Self::now()),
            }
        };
        // Structured shutdown: withdraw, Cease, flush within a bound, then end.
        self.session
            .handle_input(Input::Stop { message: reason }, Self::now());
        self.process_outputs();
        for h in self.connecting.drain(..) {
            h.abort();
        }
        let mut pending: Vec<JoinHandle<()>> = self
            .conns
            .drain()
            .map(|(_, io)| {
                io.reader_task.abort();
                drop(io.writer);
                io.writer_task
            })
            .chain(self.closing.drain(..))
            .collect();
        let flush = async {
            for h in pending.iter_mut() {
                let _ = h.await;
            }
        };
        if tokio::time::timeout(SHUTDOWN_FLUSH, flush).await.is_err() {
            warn!("shutdown: could not flush the Cease within {SHUTDOWN_FLUSH:?}");
        }
        // Bounded: whatever is still writing (a peer that stopped reading) is abandoned.
        for h in &pending {
            h.abort();
        }
        self.publish(true);
        info!("peer task finished");
    }

    fn on_event(&mut self, ev: ConnEvent) {
        let now = Self::now();
        match ev {
            ConnEvent::Connected(id, stream) => {
                if let Ok(local) = stream.local_addr() {
                    self.session.set_local_addr(local.ip());
                }
                self.attach(id, stream);
                self.session.handle_input(Input::Connected(id), now);
            }
            ConnEvent::ConnectFailed(id, e) => {
                debug!("connect failed: {e}");
                self.failed_connects += 1;
                if self.cfg.transport.md5_key.is_some()
                    && self.failed_connects == MD5_HINT_AFTER
                    && self.hint.is_none()
                {
                    // The kernel drops segments whose TCP-MD5 signature does not match, without
                    // a word to either side: say what to check.
                    let hint = format!(
                        "no answer from {} after {MD5_HINT_AFTER} attempts: check the TCP-MD5 password and the neighbor address",
                        self.cfg.remote
                    );
                    warn!("{hint}");
                    self.hint = Some(hint);
                }
                self.session.handle_input(Input::ConnectFailed(id), now);
            }
            ConnEvent::Data(id, bytes) => {
                self.session.handle_input(Input::Received(id, &bytes), now)
            }
            ConnEvent::Closed(id) => {
                if let Some(io) = self.conns.remove(&id) {
                    io.reader_task.abort();
                }
                self.session.handle_input(Input::Closed(id), now);
            }
        }
    }

    fn on_accept(&mut self, stream: TcpStream) {
        if let Err(e) = transport::tune_accepted(&stream, &self.cfg.transport) {
            warn!("accepted connection: {e}");
        }
        if let Ok(local) = stream.local_addr() {
            self.session.set_local_addr(local.ip());
        }
        let id = self.session.next_conn_id();
        self.attach(id, stream);
        self.session.handle_input(Input::Accepted(id), Self::now());
    }

    /// Start the reader and writer tasks of a live connection.
    fn attach(&mut self, id: ConnId, stream: TcpStream) {
        let (mut rd, mut wr) = stream.into_split();
        let events = self.events_tx.clone();
        let reader_task = self.tracker.spawn(async move {
            loop {
                let mut buf = vec![0u8; READ_BUF];
                match rd.read(&mut buf).await {
                    Ok(0) | Err(_) => {
                        let _ = events.send(ConnEvent::Closed(id)).await;
                        return;
                    }
                    Ok(n) => {
                        buf.truncate(n);
                        if events.send(ConnEvent::Data(id, buf)).await.is_err() {
                            return;
                        }
                    }
                }
            }
        });
        let (wtx, mut wrx) = mpsc::unbounded_channel::<Vec<u8>>();
        let events = self.events_tx.clone();
        let writer_task = self.tracker.spawn(async move {
            while let Some(bytes) = wrx.recv().await {
                if wr.write_all(&bytes).await.is_err() {
                    let _ = events.send(ConnEvent::Closed(id)).await;
                    return;
                }
            }
            // The session closed the connection: everything queued is written, send FIN.
            let _ = wr.shutdown().await;
        });
        self.conns.insert(
            id,
            ConnIo {
                writer: wtx,
                writer_task,
                reader_task,
            },
        );
    }

    fn process_outputs(&mut self) {
        for t in self.session.take_transitions() {
            info!(from = %t.from, event = %t.event, to = %t.to, "FSM");
        }
        while let Some(out) = self.session.poll_output() {
            match out {
                Output::Connect(id) => {
                    let remote = self.cfg.remote;
                    let tcfg = self.cfg.transport.clone();
                    let timeout = self.cfg.session.connect_retry;
                    let events = self.events_tx.clone();
                    self.connecting.retain(|h| !h.is_finished());
                    self.connecting.push(self.tracker.spawn(async move {
                        let ev = match transport::connect(remote, &tcfg, timeout).await {
                            Ok(s) => ConnEvent::Connected(id, s),
                            Err(e) => ConnEvent::ConnectFailed(id, e),
                        };
                        let _ = events.send(ev).await;
                    }));
                }
                Output::Transmit(id, bytes) => {
                    if let Some(io) = self.conns.get(&id) {
                        let _ = io.writer.send(bytes);
                    }
                }
                Output::Close(id) => {
                    if let Some(io) = self.conns.remove(&id) {
                        io.reader_task.abort();
                        drop(io.writer);
                        self.closing.retain(|h| !h.is_finished());
                        self.closing.push(io.writer_task);
                    }
                }
                Output::Established(n) => {
                    self.established_since = Some(Self::now());
                    self.failed_connects = 0;
                    self.hint = None;
                    info!(
                        peer_as = n.peer_as.0,
                        hold = n.hold_time,
                        "session established"
                    );
                }
                Output::Down(reason) => {
                    self.established_since = None;
                    warn!(%reason, "session down");
                }
            }
        }
        for t in self.session.take_transitions() {
            info!(from = %t.from, event = %t.event, to = %t.to, "FSM");
        }
    }

    fn publish(&self, finished: bool) {
        let s = &self.session;
        let next = PeerStatus {
            state: s.state(),
            negotiated: s.negotiated().cloned(),
            established_since: self.established_since,
            last_down: s.last_down().cloned(),
            stats: s.stats(),
            announced: s.rib_out().len(),
            received_prefixes: s.rib_in().map(|r| r.len()),
            hint: self.hint.clone(),
            finished,
        };
        self.status.send_if_modified(|cur| {
            if *cur == next {
                false
            } else {
                *cur = next;
                true
            }
        });
    }
}
