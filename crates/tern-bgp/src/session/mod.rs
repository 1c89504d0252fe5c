//! The BGP session of one peer as a sans-IO state machine (RFC 4271 §8).
//!
//! Shaped like quinn-proto: the driver (tern-edge) feeds it [`Input`]s and timeouts with the
//! current time, and takes [`Output`]s (bytes to send, connects, closes, up/down events) and the
//! next deadline. It never reads the clock and never touches a socket, so the tests in
//! `tests.rs` drive it event by event, including every malformed-input path.
//!
//! It owns the peer's [`AdjRibOut`](crate::rib::AdjRibOut): the announcer's changes
//! ([`Session::announce`], [`Session::withdraw`], …) go out as UPDATEs while Established, the
//! whole table is sent when the session comes up or the peer asks for a refresh, and a stop
//! withdraws everything before the Cease.
//!
//! RFCs: 4271 §8 (FSM), §6.8 (collision detection), §10 (timers and jitter); 5492
//! (capabilities); 4760 (multiprotocol); 6793 (4-octet AS); 2918 and 7313 (route refresh);
//! 9234 (roles); 4486, 8203 and 9003 (Cease subcodes and shutdown communication); 6608 (FSM
//! error subcodes); 7606 (UPDATE error handling).

mod backoff;
mod fsm;
mod machine;
mod negotiate;
#[cfg(test)]
mod tests;

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use tern_types::{Afi, Asn};

pub use backoff::Backoff;
pub use fsm::{Event, State};
pub use machine::Session;
pub use negotiate::{Negotiated, local_open, negotiate};

use crate::wire::{Notification, Role};

/// Default proposed hold time in seconds. Shorter than BIRD's 240 s and GoBGP's 90 s: an
/// anycast origin wants a dead site to vanish quickly (reference/bgp-daemons.md §2 #2).
pub const DEFAULT_HOLD_TIME: u16 = 30;
/// Hold time while waiting for the peer's OPEN (RFC 4271 §8.2.2 suggests 4 minutes).
pub const DEFAULT_OPEN_HOLD_TIME: Duration = Duration::from_secs(240);
/// First ConnectRetry interval; doubles per failure (RFC 4271 §10 suggests 120 s fixed, we
/// start lower and back off instead).
pub const DEFAULT_CONNECT_RETRY: Duration = Duration::from_secs(5);
/// Longest ConnectRetry interval after repeated failures.
pub const DEFAULT_CONNECT_RETRY_MAX: Duration = Duration::from_secs(120);

/// Everything the session needs to know about the peer and itself. Built by the caller from the
/// validated model; [`SessionConfig::new`] gives the defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// Our AS.
    pub local_as: Asn,
    /// The AS the peer must have (RFC 4271 §6.2: otherwise NOTIFICATION Bad Peer AS).
    pub peer_as: Asn,
    /// Our BGP identifier.
    pub bgp_id: Ipv4Addr,
    /// Hold time we propose, 0 or ≥ 3 seconds.
    pub hold_time: u16,
    /// Hold timer while waiting for the peer's OPEN.
    pub open_hold_time: Duration,
    /// First ConnectRetry interval (doubles per failure, with jitter).
    pub connect_retry: Duration,
    /// Longest ConnectRetry interval.
    pub connect_retry_max: Duration,
    /// Wait in Idle after a session error before starting again, first and longest (BIRD's
    /// `error wait time`); doubles per error until Established. `None`: `connect_retry` to
    /// `connect_retry_max`, as the connection attempts.
    pub error_wait: Option<(Duration, Duration)>,
    /// Only wait for the peer to connect (RFC 4271 §8.1.1 PassiveTcpEstablishment). When false
    /// we connect out and also accept the peer's connection (collisions are resolved by §6.8).
    pub passive: bool,
    /// Families we offer (multiprotocol capability, RFC 4760).
    pub families: Vec<Afi>,
    /// Our role (RFC 9234), sent as a capability when set.
    pub role: Option<Role>,
    /// Refuse peers that send no role (RFC 9234 §4.2 strict mode).
    pub strict_role: bool,
    /// Offer enhanced route refresh (RFC 7313).
    pub enhanced_route_refresh: bool,
    /// Seed for ConnectRetry jitter; inject a fixed one in tests.
    pub jitter_seed: u64,
    /// IPv4 next hop for our routes (normally the local address of the TCP connection).
    pub next_hop_v4: Option<Ipv4Addr>,
    /// Global IPv6 next hop for our routes; IPv6 routes are held back without one.
    pub next_hop_v6: Option<Ipv6Addr>,
    /// Keep an Adj-RIB-In (off by default: received routes are only parsed and counted).
    pub adj_rib_in: bool,
    /// With an Adj-RIB-In: Cease 6/1 when the peer sends more prefixes than this.
    pub max_prefixes: Option<usize>,
}

impl SessionConfig {
    /// A config with the defaults: active, IPv4 and IPv6 unicast, enhanced route refresh, no
    /// role, hold time [`DEFAULT_HOLD_TIME`].
    pub fn new(local_as: Asn, peer_as: Asn, bgp_id: Ipv4Addr) -> Self {
        SessionConfig {
            local_as,
            peer_as,
            bgp_id,
            hold_time: DEFAULT_HOLD_TIME,
            open_hold_time: DEFAULT_OPEN_HOLD_TIME,
            connect_retry: DEFAULT_CONNECT_RETRY,
            connect_retry_max: DEFAULT_CONNECT_RETRY_MAX,
            error_wait: None,
            passive: false,
            families: vec![Afi::Ipv4, Afi::Ipv6],
            role: None,
            strict_role: false,
            enhanced_route_refresh: true,
            jitter_seed: 0,
            next_hop_v4: None,
            next_hop_v6: None,
            adj_rib_in: false,
            max_prefixes: None,
        }
    }
}

/// Names one TCP connection of the session. During a collision (§6.8) there are two.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u64);

/// Something that happened outside the session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input<'a> {
    /// Start the session (Event 1 ManualStart, or Event 5 when configured passive).
    Start,
    /// Stop: withdraw our routes, send Cease Administrative Shutdown with this RFC 8203 message,
    /// close, stay Idle (Event 2 ManualStop).
    Stop {
        /// Shutdown communication for the peer's operator (at most 255 octets, RFC 9003).
        message: String,
    },
    /// The outgoing connection asked for by [`Output::Connect`] is up (Event 16).
    Connected(ConnId),
    /// The outgoing connection failed (Event 18 in Connect).
    ConnectFailed(ConnId),
    /// The peer connected to us (Event 17). Its id is chosen by the driver with
    /// [`Session::next_conn_id`].
    Accepted(ConnId),
    /// Bytes arrived on a connection.
    Received(ConnId, &'a [u8]),
    /// The connection was closed or broke (Event 18).
    Closed(ConnId),
}

/// Something the driver must do or report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Open a TCP connection to the peer and report [`Input::Connected`] or
    /// [`Input::ConnectFailed`].
    Connect(ConnId),
    /// Write these bytes to the connection, in order.
    Transmit(ConnId, Vec<u8>),
    /// Close the connection (after writing what was queued) or abandon the connect attempt.
    Close(ConnId),
    /// The session reached Established.
    Established(Negotiated),
    /// The session left Established, or a start attempt ended in an error.
    Down(DownReason),
}

/// Why a session went down (or never came up).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DownReason {
    /// We sent this NOTIFICATION (error in the peer's message, hold timer, max prefixes …).
    NotificationSent(Notification),
    /// The peer sent this NOTIFICATION.
    NotificationReceived(Notification),
    /// TCP closed or failed under us.
    ConnectionLost,
    /// Stopped by us ([`Input::Stop`]).
    Stopped,
}

impl std::fmt::Display for DownReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DownReason::NotificationSent(n) => write!(f, "sent NOTIFICATION {n}"),
            DownReason::NotificationReceived(n) => write!(f, "received NOTIFICATION {n}"),
            DownReason::ConnectionLost => f.write_str("connection lost"),
            DownReason::Stopped => f.write_str("stopped"),
        }
    }
}

/// One FSM transition, for the event log (tracing in the driver, assertions in tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    /// State before.
    pub from: State,
    /// The RFC 4271 §8.1 event.
    pub event: Event,
    /// State after.
    pub to: State,
}

/// Counters for metrics and the control API.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Messages received, all types.
    pub messages_in: u64,
    /// Messages sent, all types.
    pub messages_out: u64,
    /// UPDATEs sent.
    pub updates_out: u64,
    /// What the peer sent (UPDATEs, prefixes).
    pub received: crate::rib::ReceiveCounters,
    /// Times the session reached Established.
    pub established_count: u64,
    /// ROUTE-REFRESH requests answered.
    pub refreshes_answered: u64,
    /// Routes held back (family not negotiated, no next hop), last flush.
    pub unsendable: u64,
}
