//! The transitions of the RFC 4271 §8.2.2 FSM, per connection, with §6.8 collision detection.
//!
//! A session has zero, one or (during a collision) two TCP connections. Each connection is in
//! one of Connect (outgoing, not yet up), OpenSent, OpenConfirm or Established; the session's
//! [`State`] is that of its most advanced connection, or Idle / Active when it has none
//! (Idle: stopped, or waiting out the back-off after an error; Active: waiting for the peer or
//! for the ConnectRetryTimer).

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use tern_types::{Afi, Prefix};

use super::negotiate::{Negotiated, local_open, negotiate};
use super::{
    Backoff, ConnId, DownReason, Event, Input, Output, SessionConfig, State, Stats, Transition,
};
use crate::rib::{AdjRibIn, AdjRibOut, Export, ExportContext, RouteAttrs, afi_safi, family};
use crate::wire::{
    self, Codec, DecodeErrorKind, ErrorAction, ErrorCode, Message, Notification, Open,
    RouteRefresh, RouteRefreshSubtype, Update, subcode,
};

/// Most transitions kept for [`Session::take_transitions`] between two drains.
const LOG_CAP: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Connect,
    OpenSent,
    OpenConfirm,
    Established,
}

#[derive(Debug)]
struct Conn {
    id: ConnId,
    inbound: bool,
    phase: Phase,
    rx: Vec<u8>,
    hold_at: Option<Instant>,
    keepalive_at: Option<Instant>,
    negotiated: Option<Negotiated>,
    codec: Codec,
}

/// The BGP session with one peer. See the [module docs](super).
#[derive(Debug)]
pub struct Session {
    cfg: SessionConfig,
    open: Open,
    started: bool,
    idle_until: Option<Instant>,
    connect_retry_at: Option<Instant>,
    backoff: Backoff,
    /// Idle wait after an error (`error_wait`).
    error_backoff: Backoff,
    conns: Vec<Conn>,
    next_id: u64,
    out: VecDeque<Output>,
    log: VecDeque<Transition>,
    last_state: State,
    rib_out: AdjRibOut,
    rib_in: Option<AdjRibIn>,
    stats: Stats,
    last_down: Option<DownReason>,
    local_v4: Option<Ipv4Addr>,
    local_v6: Option<Ipv6Addr>,
}

impl Session {
    /// A session in Idle. Nothing happens until [`Input::Start`].
    pub fn new(cfg: SessionConfig) -> Self {
        let open = local_open(&cfg);
        let backoff = Backoff::new(cfg.connect_retry, cfg.connect_retry_max, cfg.jitter_seed);
        let (wait, wait_max) = cfg
            .error_wait
            .unwrap_or((cfg.connect_retry, cfg.connect_retry_max));
        let error_backoff = Backoff::new(wait, wait_max, cfg.jitter_seed.wrapping_add(1));
        let rib_in = cfg.adj_rib_in.then(|| AdjRibIn::new(cfg.max_prefixes));
        Session {
            cfg,
            open,
            started: false,
            idle_until: None,
            connect_retry_at: None,
            backoff,
            error_backoff,
            conns: Vec::new(),
            next_id: 0,
            out: VecDeque::new(),
            log: VecDeque::new(),
            last_state: State::Idle,
            rib_out: AdjRibOut::new(),
            rib_in,
            stats: Stats::default(),
            last_down: None,
            local_v4: None,
            local_v6: None,
        }
    }

    // ----- public interface ------------------------------------------------------------------

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.cfg
    }

    /// The RFC 4271 state (of the most advanced connection).
    pub fn state(&self) -> State {
        match self.conns.iter().map(|c| c.phase).max() {
            Some(Phase::Established) => State::Established,
            Some(Phase::OpenConfirm) => State::OpenConfirm,
            Some(Phase::OpenSent) => State::OpenSent,
            Some(Phase::Connect) => State::Connect,
            None if !self.started || self.idle_until.is_some() => State::Idle,
            None => State::Active,
        }
    }

    /// A fresh id for a connection the driver accepted, to pass in [`Input::Accepted`].
    pub fn next_conn_id(&mut self) -> ConnId {
        self.next_id += 1;
        ConnId(self.next_id)
    }

    /// Tell the session the local address of a connection: it becomes the default next hop of
    /// its family unless one is configured.
    pub fn set_local_addr(&mut self, addr: IpAddr) {
        match addr {
            IpAddr::V4(v4) => self.local_v4 = Some(v4),
            IpAddr::V6(v6) if !v6.is_unspecified() => {
                if let Some(v4) = v6.to_ipv4_mapped() {
                    self.local_v4 = Some(v4);
                } else {
                    self.local_v6 = Some(v6);
                }
            }
            IpAddr::V6(_) => {}
        }
    }

    /// What was negotiated, while Established.
    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.established()
            .and_then(|i| self.conns[i].negotiated.as_ref())
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Why the session last went down.
    pub fn last_down(&self) -> Option<&DownReason> {
        self.last_down.as_ref()
    }

    /// Our routes towards this peer.
    pub fn rib_out(&self) -> &AdjRibOut {
        &self.rib_out
    }

    /// The peer's routes, when [`SessionConfig::adj_rib_in`] is on.
    pub fn rib_in(&self) -> Option<&AdjRibIn> {
        self.rib_in.as_ref()
    }

    /// The FSM transitions since the last call (the event log).
    pub fn take_transitions(&mut self) -> Vec<Transition> {
        self.log.drain(..).collect()
    }

    /// Next thing for the driver to do.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When [`Session::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let conn_timers = self
            .conns
            .iter()
            .flat_map(|c| [c.hold_at, c.keepalive_at])
            .flatten();
        [self.idle_until, self.connect_retry_at]
            .into_iter()
            .flatten()
            .chain(conn_timers)
            .min()
    }

    /// Announce one of our routes (sent at once while Established). Returns whether it changed.
    pub fn announce(&mut self, prefix: Prefix, attrs: RouteAttrs) -> bool {
        let changed = self.rib_out.announce(prefix, attrs);
        self.flush();
        changed
    }

    /// Withdraw one of our routes. Returns whether it was announced.
    pub fn withdraw(&mut self, prefix: Prefix) -> bool {
        let changed = self.rib_out.withdraw(prefix);
        self.flush();
        changed
    }

    /// Make our announced set exactly `routes`; only the difference goes out.
    pub fn replace_all(&mut self, routes: impl IntoIterator<Item = (Prefix, RouteAttrs)>) -> usize {
        let n = self.rib_out.replace_all(routes);
        self.flush();
        n
    }

    /// Send every route again (all families), framed by BoRR/EoRR when enhanced route refresh
    /// was negotiated.
    pub fn refresh(&mut self) {
        let Some(i) = self.established() else { return };
        let fams = self.conns[i]
            .negotiated
            .as_ref()
            .map(|n| n.families.clone())
            .unwrap_or_default();
        for f in fams {
            self.send_refresh(i, f);
        }
    }

    /// Feed one input.
    pub fn handle_input(&mut self, input: Input<'_>, now: Instant) {
        match input {
            Input::Start => {
                if self.started {
                    return;
                }
                self.started = true;
                self.idle_until = None;
                self.backoff.reset();
                self.error_backoff.reset();
                self.begin(now);
                self.note(if self.cfg.passive {
                    Event::ManualStartWithPassiveTcpEstablishment
                } else {
                    Event::ManualStart
                });
            }
            Input::Stop { message } => self.stop(&message),
            Input::Connected(id) => self.connected(id, now),
            Input::ConnectFailed(id) | Input::Closed(id) => self.closed(id, now),
            Input::Accepted(id) => self.accept(id, now),
            Input::Received(id, bytes) => self.receive(id, bytes, now),
        }
    }

    /// Run the timers that are due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.idle_until.is_some_and(|t| t <= now) {
            // §8.2.2 Idle, Event 3: AutomaticStart after the back-off.
            self.idle_until = None;
            self.begin(now);
            self.note(Event::AutomaticStart);
        }
        if self.connect_retry_at.is_some_and(|t| t <= now) {
            self.connect_retry_at = None;
            if let Some(i) = self.conns.iter().position(|c| c.phase == Phase::Connect) {
                // §8.2.2 Connect, Event 9: drop the attempt; we wait (Active) and retry.
                let id = self.conns.remove(i).id;
                self.out.push_back(Output::Close(id));
                self.connect_retry_at = Some(now + self.backoff.next_delay());
            } else if self.started && !self.cfg.passive && self.conns.is_empty() {
                // §8.2.2 Active, Event 9: initiate a connection.
                self.connect_out(now);
            }
            self.note(Event::ConnectRetryTimerExpires);
        }
        let ids: Vec<ConnId> = self.conns.iter().map(|c| c.id).collect();
        for id in ids {
            let Some(i) = self.index(id) else { continue };
            if self.conns[i].hold_at.is_some_and(|t| t <= now) {
                // §8.2.2, Event 10 in OpenSent / OpenConfirm / Established.
                let n = Notification::hold_timer_expired();
                self.fail(i, Some(n.clone()), DownReason::NotificationSent(n), now);
                self.note(Event::HoldTimerExpires);
            } else if self.conns[i].keepalive_at.is_some_and(|t| t <= now) {
                // Event 11: send KEEPALIVE, restart the timer.
                self.send(i, &Message::Keepalive);
                self.arm_keepalive(i, now);
                self.note(Event::KeepaliveTimerExpires);
            }
        }
    }

    // ----- transitions -----------------------------------------------------------------------

    fn index(&self, id: ConnId) -> Option<usize> {
        self.conns.iter().position(|c| c.id == id)
    }

    fn established(&self) -> Option<usize> {
        self.conns
            .iter()
            .position(|c| c.phase == Phase::Established)
    }

    fn note(&mut self, event: Event) {
        let to = self.state();
        if self.log.len() >= LOG_CAP {
            self.log.pop_front();
        }
        self.log.push_back(Transition {
            from: self.last_state,
            event,
            to,
        });
        self.last_state = to;
    }

    /// ManualStart / AutomaticStart: connect out, or wait passively (Active).
    fn begin(&mut self, now: Instant) {
        if !self.cfg.passive {
            self.connect_out(now);
        }
    }

    fn connect_out(&mut self, now: Instant) {
        let id = self.next_conn_id();
        self.conns.push(Conn::new(id, false));
        self.out.push_back(Output::Connect(id));
        // §8.2.2 Connect: the ConnectRetryTimer bounds the attempt.
        self.connect_retry_at = Some(now + self.backoff.base());
    }

    fn retry_later(&mut self, now: Instant) {
        if self.started && self.conns.is_empty() && !self.cfg.passive {
            self.connect_retry_at = Some(now + self.backoff.next_delay());
        }
    }

    fn connected(&mut self, id: ConnId, now: Instant) {
        match self.index(id) {
            Some(i) if self.conns[i].phase == Phase::Connect => {
                // §8.2.2 Connect, Event 16: send OPEN, set the hold timer to a large value.
                self.connect_retry_at = None;
                self.send(i, &Message::Open(self.open.clone()));
                let c = &mut self.conns[i];
                c.phase = Phase::OpenSent;
                c.hold_at = Some(now + self.cfg.open_hold_time);
                self.note(Event::TcpCrAcked);
            }
            // An attempt we already abandoned.
            _ => self.out.push_back(Output::Close(id)),
        }
    }

    fn accept(&mut self, id: ConnId, now: Instant) {
        let refuse = !self.started || self.idle_until.is_some() || self.conns.len() >= 2;
        if refuse {
            // §8.2.2 Idle: "refuses all incoming BGP connections".
            self.out.push_back(Output::Close(id));
            return;
        }
        if self.established().is_some() {
            // §6.8: a collision with an Established connection closes the new one.
            let n = Notification::cease(subcode::cease::CONNECTION_COLLISION_RESOLUTION);
            let mut buf = Vec::new();
            if wire::encode(&Message::Notification(n), &Codec::default(), &mut buf).is_ok() {
                self.out.push_back(Output::Transmit(id, buf));
            }
            self.out.push_back(Output::Close(id));
            self.note(Event::OpenCollisionDump);
            return;
        }
        // An outgoing attempt still in progress is abandoned in favour of the live connection.
        if let Some(i) = self.conns.iter().position(|c| c.phase == Phase::Connect) {
            let old = self.conns.remove(i).id;
            self.out.push_back(Output::Close(old));
        }
        self.connect_retry_at = None;
        self.conns.push(Conn::new(id, true));
        let i = self.conns.len() - 1;
        self.send(i, &Message::Open(self.open.clone()));
        let c = &mut self.conns[i];
        c.phase = Phase::OpenSent;
        c.hold_at = Some(now + self.cfg.open_hold_time);
        self.note(Event::TcpConnectionConfirmed);
    }

    fn closed(&mut self, id: ConnId, now: Instant) {
        let Some(i) = self.index(id) else { return };
        let was_established = self.conns[i].phase == Phase::Established;
        self.conns.remove(i);
        if was_established {
            // §8.2.2 Established, Event 18: to Idle; we restart after the back-off.
            self.went_down(DownReason::ConnectionLost, now);
        } else {
            // Connect / OpenSent, Event 18: to Active, retry after the back-off.
            self.retry_later(now);
        }
        self.note(Event::TcpConnectionFails);
    }

    /// Leave Established (or give up a start attempt): report, then Idle with back-off.
    fn went_down(&mut self, reason: DownReason, now: Instant) {
        self.last_down = Some(reason.clone());
        self.out.push_back(Output::Down(reason));
        self.rib_out.discard_pending();
        if let Some(r) = self.rib_in.as_mut() {
            r.clear();
        }
        if self.conns.is_empty() && self.started {
            self.connect_retry_at = None;
            self.idle_until = Some(now + self.error_backoff.next_delay());
        }
    }

    /// Send `n` (if any), close the connection, forget it.
    fn drop_conn(&mut self, i: usize, n: Option<Notification>) {
        if let Some(n) = n {
            self.send(i, &Message::Notification(n));
        }
        let c = self.conns.remove(i);
        self.out.push_back(Output::Close(c.id));
    }

    /// An error on a connection: NOTIFICATION, close, Idle with back-off (§8.2.2).
    fn fail(&mut self, i: usize, n: Option<Notification>, reason: DownReason, now: Instant) {
        self.drop_conn(i, n);
        if self.conns.is_empty() {
            self.went_down(reason, now);
        } else {
            self.last_down = Some(reason);
        }
    }

    fn stop(&mut self, message: &str) {
        if let Some(i) = self.established() {
            // Withdraw first, then Cease: the peer drops our routes at once either way, but an
            // explicit withdraw also reaches peers that keep stale routes (graceful restart).
            let ctx = self.export_context(i);
            let export = self.rib_out.withdraw_everything(&ctx);
            self.send_updates(i, export);
        }
        let was_up = self.established().is_some();
        let n = Notification::administrative_shutdown(message);
        while let Some(c) = self.conns.first() {
            let notify = c.phase != Phase::Connect;
            self.drop_conn(0, notify.then(|| n.clone()));
        }
        self.started = false;
        self.idle_until = None;
        self.connect_retry_at = None;
        self.rib_out.discard_pending();
        if was_up {
            self.last_down = Some(DownReason::Stopped);
            self.out.push_back(Output::Down(DownReason::Stopped));
        }
        self.note(Event::ManualStop);
    }

    fn receive(&mut self, id: ConnId, bytes: &[u8], now: Instant) {
        let Some(i) = self.index(id) else { return };
        self.conns[i].rx.extend_from_slice(bytes);
        let mut pos = 0;
        loop {
            let Some(i) = self.index(id) else { return };
            let c = &self.conns[i];
            match wire::decode(&c.rx[pos..], &c.codec) {
                Ok(None) => break,
                Ok(Some((msg, n))) => {
                    pos += n;
                    self.stats.messages_in += 1;
                    self.on_message(i, msg, now);
                }
                Err(e) => match e.action {
                    ErrorAction::SessionReset(n) => {
                        let event = match e.kind {
                            DecodeErrorKind::BadMarker
                            | DecodeErrorKind::BadLength { .. }
                            | DecodeErrorKind::BadType(_) => Event::BgpHeaderErr,
                            DecodeErrorKind::UnsupportedVersion(_)
                            | DecodeErrorKind::BadBgpId
                            | DecodeErrorKind::UnacceptableHoldTime(_)
                            | DecodeErrorKind::UnsupportedOptionalParameter(_)
                            | DecodeErrorKind::MalformedOpen(_)
                            | DecodeErrorKind::BadPeerAs(_) => Event::BgpOpenMsgErr,
                            _ => Event::UpdateMsgErr,
                        };
                        self.fail(i, Some(n.clone()), DownReason::NotificationSent(n), now);
                        self.note(event);
                        return;
                    }
                    _ if e.consumed == 0 => {
                        // A tolerable error that does not say how to skip it: cannot resync.
                        let n = Notification::new(
                            ErrorCode::Update,
                            subcode::update::MALFORMED_ATTRIBUTE_LIST,
                            Vec::new(),
                        );
                        self.fail(i, Some(n.clone()), DownReason::NotificationSent(n), now);
                        self.note(Event::UpdateMsgErr);
                        return;
                    }
                    ErrorAction::TreatAsWithdraw { withdrawn } => {
                        pos += e.consumed;
                        self.stats.messages_in += 1;
                        self.stats.received.errors_tolerated += 1;
                        self.stats.received.withdrawn += withdrawn.len() as u64;
                        if let Some(r) = self.rib_in.as_mut() {
                            r.withdraw(&withdrawn);
                        }
                        self.restart_hold(i, now);
                    }
                    ErrorAction::AttributeDiscard(update) => {
                        pos += e.consumed;
                        self.stats.messages_in += 1;
                        self.stats.received.errors_tolerated += 1;
                        self.on_message(i, Message::Update(*update), now);
                    }
                },
            }
        }
        if let Some(i) = self.index(id) {
            self.conns[i].rx.drain(..pos);
        }
    }

    fn on_message(&mut self, i: usize, msg: Message, now: Instant) {
        let phase = self.conns[i].phase;
        match (phase, msg) {
            (_, Message::Notification(n)) => {
                // §8.2.2 Event 24 (version error) or 25: close, Idle.
                let event = if n.error_code() == ErrorCode::Open
                    && n.subcode == subcode::open::UNSUPPORTED_VERSION
                {
                    Event::NotifMsgVerErr
                } else {
                    Event::NotifMsg
                };
                self.fail(i, None, DownReason::NotificationReceived(n), now);
                self.note(event);
            }
            (Phase::OpenSent, Message::Open(o)) => self.on_open(i, o, now),
            (Phase::OpenConfirm, Message::Keepalive) => {
                // §8.2.2 OpenConfirm, Event 26: Established.
                self.restart_hold(i, now);
                self.conns[i].phase = Phase::Established;
                self.backoff.reset();
                self.error_backoff.reset();
                self.stats.established_count += 1;
                let neg = self.conns[i].negotiated.clone();
                if let Some(neg) = neg {
                    self.out.push_back(Output::Established(neg));
                }
                self.note(Event::KeepAliveMsg);
                // Everything we have, from scratch.
                self.rib_out.discard_pending();
                let ctx = self.export_context(i);
                let export = self.rib_out.full(&ctx, None);
                self.send_updates(i, export);
            }
            (Phase::Established, Message::Keepalive) => self.restart_hold(i, now),
            (Phase::Established, Message::Update(u)) => {
                self.restart_hold(i, now);
                self.on_update(i, &u, now);
            }
            (Phase::Established, Message::RouteRefresh(r)) => {
                self.restart_hold(i, now);
                self.on_route_refresh(i, r);
            }
            (phase, _) => {
                // RFC 6608: unexpected message for the state.
                let sub = match phase {
                    Phase::OpenSent => subcode::fsm::UNEXPECTED_IN_OPEN_SENT,
                    Phase::OpenConfirm => subcode::fsm::UNEXPECTED_IN_OPEN_CONFIRM,
                    Phase::Established => subcode::fsm::UNEXPECTED_IN_ESTABLISHED,
                    Phase::Connect => subcode::fsm::UNSPECIFIED,
                };
                let n = Notification::new(ErrorCode::Fsm, sub, Vec::new());
                self.fail(i, Some(n.clone()), DownReason::NotificationSent(n), now);
                self.note(Event::BgpHeaderErr);
            }
        }
    }

    fn on_open(&mut self, i: usize, remote: Open, now: Instant) {
        let neg = match negotiate(&self.cfg, &self.open, &remote) {
            Ok(n) => n,
            Err(n) => {
                self.fail(i, Some(n.clone()), DownReason::NotificationSent(n), now);
                self.note(Event::BgpOpenMsgErr);
                return;
            }
        };
        let id = self.conns[i].id;
        // §6.8 collision detection against the other connection, if it got this far.
        if let Some(j) = self
            .conns
            .iter()
            .position(|c| c.id != id && c.phase >= Phase::OpenConfirm)
        {
            let victim = if self.conns[j].phase == Phase::Established {
                id
            } else {
                // "If the value of the local BGP Identifier is less than the remote one, close
                // the connection that was initiated by the local system", else the other one.
                // RFC 6286 §2.3: with equal identifiers (eBGP only), the larger AS number wins.
                let close_local_initiated = (u32::from(self.cfg.bgp_id), self.cfg.local_as)
                    < (u32::from(remote.bgp_id), self.cfg.peer_as);
                let this_is_local = !self.conns[i].inbound;
                let other_is_local = !self.conns[j].inbound;
                if this_is_local == other_is_local {
                    self.conns[j].id // same direction twice: keep the newer one
                } else if this_is_local == close_local_initiated {
                    id
                } else {
                    self.conns[j].id
                }
            };
            let n = Notification::cease(subcode::cease::CONNECTION_COLLISION_RESOLUTION);
            if let Some(v) = self.index(victim) {
                self.drop_conn(v, Some(n));
            }
            self.note(Event::OpenCollisionDump);
            if victim == id {
                return;
            }
        }
        let Some(i) = self.index(id) else { return };
        // §8.2.2 OpenSent, Event 19: send KEEPALIVE, go to OpenConfirm.
        self.conns[i].codec = neg.codec;
        self.conns[i].negotiated = Some(neg);
        self.send(i, &Message::Keepalive);
        self.conns[i].phase = Phase::OpenConfirm;
        self.restart_hold(i, now);
        self.arm_keepalive(i, now);
        self.note(Event::BgpOpen);
    }

    fn on_update(&mut self, i: usize, u: &Update, now: Instant) {
        let r = &mut self.stats.received;
        r.updates += 1;
        r.announced += u.announced().count() as u64;
        r.withdrawn += u.withdrawals().count() as u64;
        if let Some(rib) = self.rib_in.as_mut() {
            if let Err(e) = rib.apply(u) {
                // RFC 4486 §4: data is AFI, SAFI and the upper bound.
                let fam = u.announced().next().map_or(Afi::Ipv4, |p| p.afi());
                let (afi, safi) = afi_safi(fam);
                let mut data = afi.to_be_bytes().to_vec();
                data.push(safi);
                data.extend_from_slice(&u32::try_from(e.limit).unwrap_or(u32::MAX).to_be_bytes());
                let n = Notification::new(ErrorCode::Cease, subcode::cease::MAX_PREFIXES, data);
                self.fail(i, Some(n.clone()), DownReason::NotificationSent(n), now);
                self.note(Event::UpdateMsg);
            }
        }
    }

    fn on_route_refresh(&mut self, i: usize, r: RouteRefresh) {
        // RFC 7313 §4: BoRR/EoRR from the peer concern its routes to us; unknown subtypes are
        // ignored. A family we do not speak is ignored too (RFC 2918 §4).
        if r.subtype != RouteRefreshSubtype::Normal {
            return;
        }
        let Some(f) = family(r.afi, r.safi) else {
            return;
        };
        let negotiated = self.conns[i]
            .negotiated
            .as_ref()
            .is_some_and(|n| n.families.contains(&f));
        if negotiated {
            self.stats.refreshes_answered += 1;
            self.send_refresh(i, f);
        }
    }

    /// Re-send one family, framed by BoRR/EoRR with enhanced route refresh (RFC 7313 §4).
    fn send_refresh(&mut self, i: usize, f: Afi) {
        let enhanced = self.conns[i]
            .negotiated
            .as_ref()
            .is_some_and(|n| n.enhanced_route_refresh);
        let (afi, safi) = afi_safi(f);
        let rr = |subtype| Message::RouteRefresh(RouteRefresh { afi, safi, subtype });
        if enhanced {
            self.send(i, &rr(RouteRefreshSubtype::BeginningOfRefresh));
        }
        let ctx = self.export_context(i);
        let export = self.rib_out.full(&ctx, Some(f));
        self.send_updates(i, export);
        if enhanced {
            self.send(i, &rr(RouteRefreshSubtype::EndOfRefresh));
        }
    }

    // ----- output helpers --------------------------------------------------------------------

    fn export_context(&self, i: usize) -> ExportContext {
        let c = &self.conns[i];
        let neg = c.negotiated.as_ref();
        ExportContext {
            local_as: self.cfg.local_as,
            ibgp: self.cfg.local_as == self.cfg.peer_as,
            next_hop_v4: self.cfg.next_hop_v4.or(self.local_v4),
            next_hop_v6: self.cfg.next_hop_v6.or(self.local_v6),
            families: neg.map(|n| n.families.clone()).unwrap_or_default(),
            max_message_len: c.codec.max_message_len(),
            four_octet_as: c.codec.four_octet_as,
        }
    }

    /// Send the pending RIB changes, if Established.
    fn flush(&mut self) {
        let Some(i) = self.established() else { return };
        let ctx = self.export_context(i);
        let export = self.rib_out.take_changes(&ctx);
        self.send_updates(i, export);
    }

    fn send_updates(&mut self, i: usize, export: Export) {
        self.stats.unsendable = export.unsendable.len() as u64;
        if export.updates.is_empty() {
            return;
        }
        let codec = self.conns[i].codec;
        let mut buf = Vec::new();
        for u in export.updates {
            match wire::encode(&Message::Update(u), &codec, &mut buf) {
                Ok(()) => {
                    self.stats.messages_out += 1;
                    self.stats.updates_out += 1;
                }
                Err(_) => self.stats.unsendable += 1,
            }
        }
        if !buf.is_empty() {
            self.out.push_back(Output::Transmit(self.conns[i].id, buf));
        }
    }

    fn send(&mut self, i: usize, msg: &Message) {
        let mut buf = Vec::new();
        if wire::encode(msg, &self.conns[i].codec, &mut buf).is_ok() {
            self.stats.messages_out += 1;
            self.out.push_back(Output::Transmit(self.conns[i].id, buf));
        }
    }

    fn restart_hold(&mut self, i: usize, now: Instant) {
        let c = &mut self.conns[i];
        c.hold_at = match &c.negotiated {
            Some(n) => n.hold_duration().map(|d| now + d),
            None => c.hold_at,
        };
    }

    fn arm_keepalive(&mut self, i: usize, now: Instant) {
        let c = &mut self.conns[i];
        c.keepalive_at = c
            .negotiated
            .as_ref()
            .and_then(|n| n.keepalive_interval())
            .map(|d| now + d);
    }
}

impl Conn {
    fn new(id: ConnId, inbound: bool) -> Self {
        Conn {
            id,
            inbound,
            phase: Phase::Connect,
            rx: Vec::new(),
            hold_at: None,
            keepalive_at: None,
            negotiated: None,
            codec: Codec::default(),
        }
    }
}
