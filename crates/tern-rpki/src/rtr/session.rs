//! The router side of an RTR session as a sans-IO state machine (RFC 8210 §8 protocol
//! sequences, §7 version negotiation). Feed it the bytes the cache sent with
//! [`RtrClient::handle_input`]; send what [`RtrClient::poll_transmit`] returns; read what happened
//! from [`RtrClient::poll_event`]. It owns no socket and no clock: the driver decides when to
//! [`refresh`](RtrClient::refresh) (using [`RtrClient::timing`]) and when to give up.
//!
//! Any malformed or out-of-sequence PDU is a fatal error: the client queues an Error Report for
//! the cache (RFC 8210 §5.11, never in reply to an Error Report), enters the failed state and
//! returns the error. It never panics on any input.

use std::collections::{BTreeSet, VecDeque};

use crate::rtr::pdu::{self, DecodeError, ErrorCode, Pdu, Timing};
use crate::vrp::{Vrp, VrpSet};

/// Highest protocol version this client speaks (RFC 8210). ASPA (version 2) is not implemented.
pub const MAX_VERSION: u8 = 1;

/// Something the session reports to its driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// An End of Data committed a full (after Reset Query) or incremental update.
    Synced {
        /// Cache session.
        session_id: u16,
        /// Serial of the data now held.
        serial: u32,
        /// VRPs now held.
        vrps: usize,
    },
    /// The cache has newer data (Serial Notify, §5.2): call [`RtrClient::refresh`].
    Notified {
        /// The cache's serial.
        serial: u32,
    },
    /// The cache has no data yet (Error Report code 2, not fatal): retry after the Retry
    /// Interval.
    NoData,
}

/// Why a session ended.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The cache sent bytes that are not a valid PDU; we reported it.
    #[error("malformed PDU from the cache: {0}")]
    Decode(#[from] DecodeError),
    /// The cache broke the protocol (out-of-sequence PDU, duplicate announcement, …); we
    /// reported `code`.
    #[error("protocol error, reported to the cache as {code}: {detail}")]
    Protocol {
        /// The code we sent.
        code: ErrorCode,
        /// What happened.
        detail: String,
    },
    /// The cache sent an Error Report.
    #[error("the cache reported {code}{}", if text.is_empty() { String::new() } else { format!(": {text}") })]
    CacheError {
        /// Its error code.
        code: ErrorCode,
        /// Its diagnostic text.
        text: String,
    },
    /// The cache does not speak our version (RFC 8210 §7); a new connection with `cache`
    /// may work.
    #[error("the cache does not support RTR version {ours} (it speaks version {cache})")]
    UnsupportedVersion {
        /// What we proposed.
        ours: u8,
        /// The version of the cache's Error Report.
        cache: u8,
    },
    /// Input after the session failed.
    #[error("the session has already failed")]
    Failed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Synced (or not yet asked); nothing outstanding.
    Idle,
    /// Query sent; waiting for Cache Response (or Cache Reset after a Serial Query).
    Awaiting { reset: bool },
    /// Between Cache Response and End of Data.
    Receiving { reset: bool },
    /// A fatal error happened.
    Failed,
}

/// The router end of one RTR transport connection.
#[derive(Debug)]
pub struct RtrClient {
    version: u8,
    negotiated: bool,
    state: State,
    current: BTreeSet<Vrp>,
    working: BTreeSet<Vrp>,
    session_id: Option<u16>,
    serial: Option<u32>,
    timing: Option<Timing>,
    rx: Vec<u8>,
    tx: VecDeque<Vec<u8>>,
    events: VecDeque<Event>,
}

impl RtrClient {
    /// A session that opens with a Reset Query in `version` (0 or 1; higher is clamped to
    /// [`MAX_VERSION`]).
    pub fn new(version: u8) -> RtrClient {
        let mut c = RtrClient {
            version: version.min(MAX_VERSION),
            negotiated: false,
            state: State::Idle,
            current: BTreeSet::new(),
            working: BTreeSet::new(),
            session_id: None,
            serial: None,
            timing: None,
            rx: Vec::new(),
            tx: VecDeque::new(),
            events: VecDeque::new(),
        };
        c.send_query(true);
        c
    }

    /// Asks for changes since the last End of Data (Serial Query), or for everything (Reset
    /// Query) when nothing was received yet. Does nothing while a query is outstanding.
    pub fn refresh(&mut self) {
        if self.state == State::Idle {
            let reset = self.session_id.is_none() || self.serial.is_none();
            self.send_query(reset);
        }
    }

    fn send_query(&mut self, reset: bool) {
        let q = match (reset, self.session_id, self.serial) {
            (false, Some(session_id), Some(serial)) => Pdu::SerialQuery { session_id, serial },
            _ => Pdu::ResetQuery,
        };
        let reset = matches!(q, Pdu::ResetQuery);
        self.tx.push_back(pdu::encode(self.version, &q));
        self.state = State::Awaiting { reset };
    }

    /// Bytes to send to the cache, in order.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.tx.pop_front()
    }

    /// What happened, in order.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The protocol version in use (after a downgrade, the cache's).
    pub fn version(&self) -> u8 {
        self.version
    }

    /// The cache's session ID, once a Cache Response arrived.
    pub fn session_id(&self) -> Option<u16> {
        self.session_id
    }

    /// Serial of the data held, after the first End of Data.
    pub fn serial(&self) -> Option<u32> {
        self.serial
    }

    /// Timers from the last End of Data (version 1 only).
    pub fn timing(&self) -> Option<Timing> {
        self.timing
    }

    /// The session hit a fatal error; drop the connection.
    pub fn is_failed(&self) -> bool {
        self.state == State::Failed
    }

    /// The VRPs committed by the last End of Data.
    pub fn vrps(&self) -> VrpSet {
        VrpSet::from_vrps(self.current.iter().copied())
    }

    /// Feeds bytes received from the cache. Returns the fatal error, if one occurred; the
    /// Error Report for the cache is then waiting in [`poll_transmit`](Self::poll_transmit).
    pub fn handle_input(&mut self, data: &[u8]) -> Result<(), SessionError> {
        if self.state == State::Failed {
            return Err(SessionError::Failed);
        }
        self.rx.extend_from_slice(data);
        let mut used = 0;
        let result = loop {
            let buf = &self.rx[used..];
            match pdu::decode(buf) {
                Ok(None) => break Ok(()),
                Ok(Some(d)) => {
                    let raw = buf[..d.len].to_vec();
                    used += d.len;
                    if let Err(e) = self.process(d.version, d.pdu, &raw) {
                        break Err(e);
                    }
                }
                Err(e) => {
                    let raw = buf[..buf.len().min(64)].to_vec();
                    let version = self.version;
                    self.report(version, e.code(), raw, &e.to_string());
                    break Err(SessionError::Decode(e));
                }
            }
        };
        self.rx.drain(..used);
        if result.is_err() {
            self.state = State::Failed;
            self.rx.clear();
        }
        result
    }

    /// Queues an Error Report.
    fn report(&mut self, version: u8, code: ErrorCode, pdu: Vec<u8>, text: &str) {
        let e = Pdu::ErrorReport {
            code,
            pdu,
            text: text.to_owned(),
        };
        self.tx.push_back(pdu::encode(version, &e));
    }

    /// Reports `code` to the cache and returns the matching error.
    fn fail(&mut self, code: ErrorCode, raw: &[u8], detail: String) -> SessionError {
        let version = self.version;
        self.report(version, code, raw.to_vec(), &detail);
        SessionError::Protocol { code, detail }
    }

    fn process(&mut self, version: u8, pdu: Pdu, raw: &[u8]) -> Result<(), SessionError> {
        // RFC 8210 §7: Serial Notify is ignored until the version is settled.
        if !self.negotiated && matches!(pdu, Pdu::SerialNotify { .. }) {
            return Ok(());
        }
        if let Pdu::ErrorReport { code, text, .. } = &pdu {
            if code == &ErrorCode::UNSUPPORTED_PROTOCOL_VERSION
                && !self.negotiated
                && version < self.version
            {
                return Err(SessionError::UnsupportedVersion {
                    ours: self.version,
                    cache: version,
                });
            }
            if *code == ErrorCode::NO_DATA_AVAILABLE {
                self.state = State::Idle;
                self.events.push_back(Event::NoData);
                return Ok(());
            }
            return Err(SessionError::CacheError {
                code: *code,
                text: text.clone(),
            });
        }
        if version != self.version {
            if !self.negotiated && version < self.version {
                // §7: a version-0 cache answered our version-1 query; downgrade.
                self.version = version;
            } else if !self.negotiated {
                return Err(self.fail(
                    ErrorCode::UNSUPPORTED_PROTOCOL_VERSION,
                    raw,
                    format!(
                        "version {version} PDU in reply to a version {} query",
                        self.version
                    ),
                ));
            } else {
                return Err(self.fail(
                    ErrorCode::UNEXPECTED_PROTOCOL_VERSION,
                    raw,
                    format!(
                        "version {version} PDU in a version {} session",
                        self.version
                    ),
                ));
            }
        }
        self.negotiated = true;
        match (pdu, self.state) {
            (Pdu::SerialNotify { serial, .. }, _) => {
                if self.serial != Some(serial) {
                    self.events.push_back(Event::Notified { serial });
                }
                Ok(())
            }
            (Pdu::CacheResponse { session_id }, State::Awaiting { reset }) => {
                if reset {
                    self.working.clear();
                    self.session_id = Some(session_id);
                } else if self.session_id != Some(session_id) {
                    return Err(self.fail(
                        ErrorCode::CORRUPT_DATA,
                        raw,
                        format!(
                            "Cache Response for session {session_id}, expected {:?}",
                            self.session_id
                        ),
                    ));
                } else {
                    self.working = self.current.clone();
                }
                self.state = State::Receiving { reset };
                Ok(())
            }
            (Pdu::CacheReset, State::Awaiting { reset: false }) => {
                // §8.3: the cache cannot serve our serial; start over.
                self.send_query(true);
                Ok(())
            }
            (Pdu::Prefix { announce, vrp }, State::Receiving { .. }) => {
                if announce && !self.working.insert(vrp) {
                    return Err(self.fail(
                        ErrorCode::DUPLICATE_ANNOUNCEMENT,
                        raw,
                        format!("{vrp} announced twice"),
                    ));
                }
                if !announce && !self.working.remove(&vrp) {
                    return Err(self.fail(
                        ErrorCode::WITHDRAWAL_OF_UNKNOWN_RECORD,
                        raw,
                        format!("withdrawal of {vrp}, which was never announced"),
                    ));
                }
                Ok(())
            }
            // BGPsec router keys are not used by tern; accepted and dropped.
            (Pdu::RouterKey { .. }, State::Receiving { .. }) => Ok(()),
            (
                Pdu::EndOfData {
                    session_id,
                    serial,
                    timing,
                },
                State::Receiving { .. },
            ) => {
                if self.session_id != Some(session_id) {
                    return Err(self.fail(
                        ErrorCode::CORRUPT_DATA,
                        raw,
                        format!(
                            "End of Data for session {session_id}, expected {:?}",
                            self.session_id
                        ),
                    ));
                }
                self.current = std::mem::take(&mut self.working);
                self.serial = Some(serial);
                self.timing = timing;
                self.state = State::Idle;
                self.events.push_back(Event::Synced {
                    session_id,
                    serial,
                    vrps: self.current.len(),
                });
                Ok(())
            }
            (p @ (Pdu::SerialQuery { .. } | Pdu::ResetQuery), _) => Err(self.fail(
                ErrorCode::UNSUPPORTED_PDU_TYPE,
                raw,
                format!("{} is sent by routers, not caches", pdu_name(&p)),
            )),
            (p, state) => Err(self.fail(
                ErrorCode::CORRUPT_DATA,
                raw,
                format!("unexpected {} while {}", pdu_name(&p), state_name(state)),
            )),
        }
    }
}

fn pdu_name(p: &Pdu) -> &'static str {
    match p {
        Pdu::SerialNotify { .. } => "Serial Notify",
        Pdu::SerialQuery { .. } => "Serial Query",
        Pdu::ResetQuery => "Reset Query",
        Pdu::CacheResponse { .. } => "Cache Response",
        Pdu::Prefix { .. } => "Prefix PDU",
        Pdu::EndOfData { .. } => "End of Data",
        Pdu::CacheReset => "Cache Reset",
        Pdu::RouterKey { .. } => "Router Key",
        Pdu::ErrorReport { .. } => "Error Report",
    }
}

fn state_name(s: State) -> &'static str {
    match s {
        State::Idle => "no query is outstanding",
        State::Awaiting { .. } => "waiting for a Cache Response",
        State::Receiving { .. } => "receiving data",
        State::Failed => "failed",
    }
}
