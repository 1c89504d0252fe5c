//! The vocabulary of the RFC 4271 §8 finite state machine: its six states and the events that
//! drive it, named as in the RFC so that an event log reads like §8.2.2.
//!
//! The transitions themselves live in [`super::Session`]; this module only names things.

use std::fmt;

/// The session states of RFC 4271 §8.2.2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum State {
    /// §8.2.2 Idle: refuses connections; waits for a start (manual, or automatic after back-off).
    Idle,
    /// §8.2.2 Connect: an outgoing TCP connection is being set up.
    Connect,
    /// §8.2.2 Active: waiting for the peer to connect, or for the ConnectRetryTimer to try again.
    Active,
    /// §8.2.2 OpenSent: our OPEN is sent, waiting for the peer's.
    OpenSent,
    /// §8.2.2 OpenConfirm: OPENs exchanged, waiting for the first KEEPALIVE.
    OpenConfirm,
    /// §8.2.2 Established: UPDATEs flow.
    Established,
}

impl State {
    /// The name as written in RFC 4271.
    pub const fn as_str(self) -> &'static str {
        match self {
            State::Idle => "Idle",
            State::Connect => "Connect",
            State::Active => "Active",
            State::OpenSent => "OpenSent",
            State::OpenConfirm => "OpenConfirm",
            State::Established => "Established",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The FSM events of RFC 4271 §8.1, with their event numbers. Only the events this speaker
/// can observe are listed (no DelayOpen, no IdleHold optional session attributes beyond the
/// back-off, which stands in for §8.1.1 DampPeerOscillations).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Event {
    /// Event 1 (§8.1.2): ManualStart.
    ManualStart,
    /// Event 2 (§8.1.2): ManualStop.
    ManualStop,
    /// Event 3 (§8.1.2): AutomaticStart (after the back-off in Idle).
    AutomaticStart,
    /// Event 5 (§8.1.2): ManualStart_with_PassiveTcpEstablishment.
    ManualStartWithPassiveTcpEstablishment,
    /// Event 9 (§8.1.3): ConnectRetryTimer_Expires.
    ConnectRetryTimerExpires,
    /// Event 10 (§8.1.3): HoldTimer_Expires.
    HoldTimerExpires,
    /// Event 11 (§8.1.3): KeepaliveTimer_Expires.
    KeepaliveTimerExpires,
    /// Event 16 (§8.1.4): Tcp_CR_Acked, our outgoing connection is up.
    TcpCrAcked,
    /// Event 17 (§8.1.4): TcpConnectionConfirmed, the peer's incoming connection is up.
    TcpConnectionConfirmed,
    /// Event 18 (§8.1.4): TcpConnectionFails.
    TcpConnectionFails,
    /// Event 19 (§8.1.5): BGPOpen, a valid OPEN was received.
    BgpOpen,
    /// Event 21 (§8.1.5): BGPHeaderErr.
    BgpHeaderErr,
    /// Event 22 (§8.1.5): BGPOpenMsgErr.
    BgpOpenMsgErr,
    /// Event 23 (§8.1.5): OpenCollisionDump (§6.8 collision resolution closed a connection).
    OpenCollisionDump,
    /// Event 24 (§8.1.5): NotifMsgVerErr.
    NotifMsgVerErr,
    /// Event 25 (§8.1.5): NotifMsg.
    NotifMsg,
    /// Event 26 (§8.1.5): KeepAliveMsg.
    KeepAliveMsg,
    /// Event 27 (§8.1.5): UpdateMsg.
    UpdateMsg,
    /// Event 28 (§8.1.5): UpdateMsgErr.
    UpdateMsgErr,
}

impl Event {
    /// The event number in RFC 4271 §8.1.
    pub const fn number(self) -> u8 {
        match self {
            Event::ManualStart => 1,
            Event::ManualStop => 2,
            Event::AutomaticStart => 3,
            Event::ManualStartWithPassiveTcpEstablishment => 5,
            Event::ConnectRetryTimerExpires => 9,
            Event::HoldTimerExpires => 10,
            Event::KeepaliveTimerExpires => 11,
            Event::TcpCrAcked => 16,
            Event::TcpConnectionConfirmed => 17,
            Event::TcpConnectionFails => 18,
            Event::BgpOpen => 19,
            Event::BgpHeaderErr => 21,
            Event::BgpOpenMsgErr => 22,
            Event::OpenCollisionDump => 23,
            Event::NotifMsgVerErr => 24,
            Event::NotifMsg => 25,
            Event::KeepAliveMsg => 26,
            Event::UpdateMsg => 27,
            Event::UpdateMsgErr => 28,
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} (event {})", self, self.number())
    }
}
