//! Reload as a diff (STYLE habit 9; issue 5 §4): old vs new [`SiteConfig`] becomes the
//! smallest set of changes. What each kind of change does to a running daemon:
//!
//! | change in tern.toml | effect |
//! |---|---|
//! | intents, communities, large communities, prepends of an upstream | UPDATEs on the open session (only the routes whose attributes differ) |
//! | a prefix added to / removed from the site | announced (after its checks pass `rise` times) / withdrawn, by UPDATE |
//! | services, checks, `on_failure`, drain action | the health loop reloads; kept checks keep their state; resulting prefix changes go out as UPDATEs |
//! | neighbor, port, remote AS, our AS, router ID, hold time, MD5 key, source address, multihop TTL, `connect_retry`, `error_wait` | **that session only** is reset: Cease (RFC 8203 message "tern: configuration changed"), new connection with the new parameters |
//! | an upstream added / removed | session started (sends the routes when Established) / stopped with Cease |
//! | `[site.NAME.edge]` listen addresses, control socket, drain file path | not applied: reported, effective at the next restart |
//!
//! Transport and OPEN parameters cannot change on a live BGP session (RFC 4271 §4.2 fixes AS,
//! hold time and identifier at OPEN; MD5, TTL and source are properties of the TCP connection),
//! everything else can, so only those reset. A refused new configuration changes nothing.

use std::collections::BTreeSet;

use tern_types::Prefix;

use super::{SiteConfig, UpstreamConfig};

/// What happens to one upstream on reload.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpstreamChange {
    /// Nothing changed.
    Unchanged,
    /// Only export attributes changed: UPDATEs on the open session.
    Attributes,
    /// Transport or OPEN parameters changed: the session is reset. Lists what changed.
    Reset(Vec<&'static str>),
    /// New session.
    Added,
    /// Session removed.
    Removed,
}

/// The changes between two configurations of one site.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diff {
    /// Per upstream name, what happens, in new-config order then removed ones.
    pub upstreams: Vec<(String, UpstreamChange)>,
    /// Prefixes the site now announces and did not before.
    pub prefixes_added: Vec<Prefix>,
    /// Prefixes the site no longer announces.
    pub prefixes_removed: Vec<Prefix>,
    /// Services, checks or policies changed (the health loop reloads in any case, as a diff).
    pub health_changed: bool,
    /// Settings that only take effect at the next restart.
    pub needs_restart: Vec<&'static str>,
}

impl Diff {
    /// Nothing at all to do?
    pub fn is_empty(&self) -> bool {
        self.upstreams
            .iter()
            .all(|(_, c)| *c == UpstreamChange::Unchanged)
            && self.prefixes_added.is_empty()
            && self.prefixes_removed.is_empty()
            && !self.health_changed
            && self.needs_restart.is_empty()
    }

    /// One line per change, for logs and `tern ctl reload`.
    pub fn summary(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (name, c) in &self.upstreams {
            match c {
                UpstreamChange::Unchanged => {}
                UpstreamChange::Attributes => out.push(format!(
                    "upstream {name}: export attributes changed (UPDATEs, session kept)"
                )),
                UpstreamChange::Reset(why) => out.push(format!(
                    "upstream {name}: {} changed (session reset)",
                    why.join(", ")
                )),
                UpstreamChange::Added => out.push(format!("upstream {name}: added")),
                UpstreamChange::Removed => out.push(format!("upstream {name}: removed")),
            }
        }
        for p in &self.prefixes_added {
            out.push(format!("prefix {p}: added"));
        }
        for p in &self.prefixes_removed {
            out.push(format!("prefix {p}: removed (withdrawn)"));
        }
        if self.health_changed {
            out.push("services or checks changed (health loop reloaded)".to_owned());
        }
        for s in &self.needs_restart {
            out.push(format!("{s} changed: takes effect at the next restart"));
        }
        if out.is_empty() {
            out.push("no changes".to_owned());
        }
        out
    }
}

/// What changed in the transport or OPEN of a session (empty: nothing that needs a reset).
pub fn reset_reasons(old: &UpstreamConfig, new: &UpstreamConfig) -> Vec<&'static str> {
    let (o, n) = (&old.peer, &new.peer);
    let mut why = Vec::new();
    let mut check = |changed: bool, what: &'static str| {
        if changed {
            why.push(what);
        }
    };
    check(o.remote.ip() != n.remote.ip(), "neighbor");
    check(o.remote.port() != n.remote.port(), "port");
    check(o.session.peer_as != n.session.peer_as, "remote AS");
    check(o.session.local_as != n.session.local_as, "local AS");
    check(o.session.bgp_id != n.session.bgp_id, "router ID");
    check(o.session.hold_time != n.session.hold_time, "hold time");
    // Timers of the session's state machine, fixed when it is built.
    check(
        o.session.connect_retry != n.session.connect_retry
            || o.session.error_wait != n.session.error_wait,
        "connect retry / error wait",
    );
    check(o.session.families != n.session.families, "families");
    check(o.transport.md5_key != n.transport.md5_key, "password");
    check(o.transport.local_addr != n.transport.local_addr, "source");
    check(o.transport.ttl != n.transport.ttl, "multihop");
    check(
        o.transport.gtsm_hops != n.transport.gtsm_hops,
        "ttl security",
    );
    // Whatever else a future SessionConfig field adds: reset rather than run stale.
    if why.is_empty() && (o.session != n.session || o.transport != n.transport) {
        why.push("session parameters");
    }
    why
}

/// Compare two configurations of the same site.
pub fn diff(old: &SiteConfig, new: &SiteConfig) -> Diff {
    let mut d = Diff::default();
    for n in &new.upstreams {
        let change = match old.upstreams.iter().find(|o| o.name == n.name) {
            None => UpstreamChange::Added,
            Some(o) => {
                let why = reset_reasons(o, n);
                if !why.is_empty() {
                    UpstreamChange::Reset(why)
                } else if o.export != n.export || o.afi != n.afi {
                    UpstreamChange::Attributes
                } else {
                    UpstreamChange::Unchanged
                }
            }
        };
        d.upstreams.push((n.name.clone(), change));
    }
    for o in &old.upstreams {
        if !new.upstreams.iter().any(|n| n.name == o.name) {
            d.upstreams.push((o.name.clone(), UpstreamChange::Removed));
        }
    }
    let old_p: BTreeSet<Prefix> = old.prefixes.iter().map(|p| p.prefix).collect();
    let new_p: BTreeSet<Prefix> = new.prefixes.iter().map(|p| p.prefix).collect();
    d.prefixes_added = new_p.difference(&old_p).copied().collect();
    d.prefixes_removed = old_p.difference(&new_p).copied().collect();
    d.health_changed = old.checks != new.checks || old.prefixes != new.prefixes;
    let (oe, ne) = (&old.edge, &new.edge);
    if oe.ctl_socket != ne.ctl_socket {
        d.needs_restart.push("ctl_socket");
    }
    if oe.drain_file != ne.drain_file {
        d.needs_restart.push("drain_file");
    }
    if oe.dns_listen != ne.dns_listen {
        d.needs_restart.push("dns_listen");
    }
    if oe.http_listen != ne.http_listen {
        d.needs_restart.push("http_listen");
    }
    if oe.metrics_listen != ne.metrics_listen {
        d.needs_restart.push("metrics_listen");
    }
    if old.identity != new.identity {
        d.needs_restart.push("site code");
    }
    d
}
