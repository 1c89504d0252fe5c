//! A blocking one-shot RTR fetch over TCP: connect, Reset Query, read to End of Data, close.
//! Tries version 1 first and reconnects with version 0 when the cache refuses it (RFC 8210 §7).
//! The protocol logic is all in [`RtrClient`]; this file only moves bytes and keeps the deadline.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::rtr::pdu::Timing;
use crate::rtr::session::{Event, MAX_VERSION, RtrClient, SessionError};
use crate::vrp::VrpSet;

/// What one fetch brought home.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The VRPs.
    pub vrps: VrpSet,
    /// Cache session ID.
    pub session_id: u16,
    /// Serial of the data.
    pub serial: u32,
    /// Protocol version used.
    pub version: u8,
    /// Timers the cache asked for (version 1 only).
    pub timing: Option<Timing>,
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RtrError {
    /// Connecting, reading or writing failed.
    #[error("RTR cache {addr}: {source}")]
    Io {
        /// The cache.
        addr: SocketAddr,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// No End of Data within the time allowed.
    #[error("RTR cache {addr}: no complete answer within {timeout:?}")]
    Timeout {
        /// The cache.
        addr: SocketAddr,
        /// The limit.
        timeout: Duration,
    },
    /// The cache closed the connection before End of Data.
    #[error("RTR cache {addr} closed the connection before End of Data")]
    Closed {
        /// The cache.
        addr: SocketAddr,
    },
    /// The cache has no data yet (Error Report "No Data Available").
    #[error("RTR cache {addr} has no data yet (No Data Available); try again later")]
    NoData {
        /// The cache.
        addr: SocketAddr,
    },
    /// The session failed.
    #[error("RTR cache {addr}: {source}")]
    Session {
        /// The cache.
        addr: SocketAddr,
        /// What went wrong.
        #[source]
        source: SessionError,
    },
}

/// Fetches the full VRP set from the RTR cache at `addr`, giving up after `timeout` overall.
pub fn fetch(addr: SocketAddr, timeout: Duration) -> Result<VrpSet, RtrError> {
    fetch_snapshot(addr, timeout).map(|s| s.vrps)
}

/// Like [`fetch`], with the session ID, serial, version and timers.
pub fn fetch_snapshot(addr: SocketAddr, timeout: Duration) -> Result<Snapshot, RtrError> {
    let deadline = Instant::now() + timeout;
    match fetch_version(addr, timeout, deadline, MAX_VERSION) {
        Ok(s) => Ok(s),
        // RFC 8210 §7: a version-0 cache may refuse with an Error Report or just hang up without
        // a word; the router MAY retry with version 0.
        Err((
            RtrError::Session {
                source: SessionError::UnsupportedVersion { cache: 0, .. },
                ..
            },
            _,
        ))
        | Err((RtrError::Closed { .. }, false))
            if MAX_VERSION > 0 =>
        {
            fetch_version(addr, timeout, deadline, 0).map_err(|(e, _)| e)
        }
        Err((e, _)) => Err(e),
    }
}

fn fetch_version(
    addr: SocketAddr,
    timeout: Duration,
    deadline: Instant,
    version: u8,
) -> Result<Snapshot, (RtrError, bool)> {
    let mut received = false;
    fetch_inner(addr, timeout, deadline, version, &mut received).map_err(|e| (e, received))
}

/// One connection in `version`; `received` tells whether the cache sent anything at all.
fn fetch_inner(
    addr: SocketAddr,
    timeout: Duration,
    deadline: Instant,
    version: u8,
    received: &mut bool,
) -> Result<Snapshot, RtrError> {
    let io = |source| RtrError::Io { addr, source };
    let remaining = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or(RtrError::Timeout { addr, timeout })
    };
    let mut stream = TcpStream::connect_timeout(&addr, remaining()?).map_err(io)?;
    stream.set_nodelay(true).map_err(io)?;
    let mut client = RtrClient::new(version);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        while let Some(out) = client.poll_transmit() {
            stream.set_write_timeout(Some(remaining()?)).map_err(io)?;
            stream.write_all(&out).map_err(io)?;
        }
        while let Some(ev) = client.poll_event() {
            match ev {
                Event::Synced {
                    session_id, serial, ..
                } => {
                    return Ok(Snapshot {
                        vrps: client.vrps(),
                        session_id,
                        serial,
                        version: client.version(),
                        timing: client.timing(),
                    });
                }
                Event::NoData => return Err(RtrError::NoData { addr }),
                Event::Notified { .. } => {}
            }
        }
        stream.set_read_timeout(Some(remaining()?)).map_err(io)?;
        let n = match stream.read(&mut buf) {
            Ok(0) => return Err(RtrError::Closed { addr }),
            Ok(n) => {
                *received = true;
                n
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(RtrError::Timeout { addr, timeout });
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        };
        if let Err(source) = client.handle_input(&buf[..n]) {
            // Best effort: tell the cache why we hang up.
            while let Some(out) = client.poll_transmit() {
                if stream.write_all(&out).is_err() {
                    break;
                }
            }
            return Err(RtrError::Session { addr, source });
        }
    }
}
