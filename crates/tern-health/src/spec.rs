//! Check specifications: what to probe, how often, and how many results flip the state.
//!
//! A [`CheckSpec`] is the validated domain form of one `[[service.check]]` entry of tern.toml
//! (the model crate builds it; its raw serde form lives there). The executors in
//! `tern-edge::probe` run it; [`crate::CheckMachine`] interprets its results.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

/// Default time between the starts of two runs of one check.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(2);
/// Default time a single run may take before it counts as failed.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);
/// Default number of consecutive successes that bring a check Up (HAProxy's and ExaBGP's `rise`).
pub const DEFAULT_RISE: u32 = 3;
/// Default number of consecutive failures that bring a check Down. With the default interval a
/// dead service is detected in 2 × 2 s + 1 s timeout = 5 s at worst.
pub const DEFAULT_FALL: u32 = 2;
/// Default expected HTTP status.
pub const DEFAULT_HTTP_STATUS: u16 = 200;
/// Largest `rise` / `fall` accepted: beyond this a check would take minutes to react.
pub const MAX_RISE_FALL: u32 = 100;

/// One health check of a service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckSpec {
    /// What to probe.
    pub kind: CheckKind,
    /// Time between the starts of two runs.
    pub interval: Duration,
    /// Time one run may take; a slower run fails with "timeout".
    pub timeout: Duration,
    /// Consecutive successes needed to go Up.
    pub rise: u32,
    /// Consecutive failures needed to go Down.
    pub fall: u32,
    /// Flap damping of the re-announcement (see [`crate::machine`]).
    pub damping: Damping,
}

impl CheckSpec {
    /// A check of `kind` with the default timing and damping.
    pub fn new(kind: CheckKind) -> Self {
        CheckSpec {
            kind,
            interval: DEFAULT_INTERVAL,
            timeout: DEFAULT_TIMEOUT,
            rise: DEFAULT_RISE,
            fall: DEFAULT_FALL,
            damping: Damping::default(),
        }
    }

    /// Every problem with this spec, not just the first (STYLE habit 7). Empty means usable.
    pub fn validate(&self) -> Vec<CheckSpecError> {
        let mut errors = Vec::new();
        errors.extend(timing_errors(self.interval, self.timeout, &self.damping));
        for (field, value) in [("rise", self.rise), ("fall", self.fall)] {
            if value == 0 || value > MAX_RISE_FALL {
                errors.push(CheckSpecError::Threshold { field, value });
            }
        }
        match &self.kind {
            CheckKind::Http {
                host,
                path,
                expect_status,
                tls,
                ..
            } => {
                if *tls {
                    errors.push(CheckSpecError::TlsUnsupported);
                }
                if host.is_empty() || host.bytes().any(|b| b.is_ascii_whitespace() || b < 0x21) {
                    errors.push(CheckSpecError::BadHost(host.clone()));
                }
                if !path.starts_with('/') || path.bytes().any(|b| b <= 0x20 || b == 0x7f) {
                    errors.push(CheckSpecError::BadPath(path.clone()));
                }
                if !(100..=599).contains(expect_status) {
                    errors.push(CheckSpecError::BadStatus(*expect_status));
                }
            }
            CheckKind::Tcp { host, .. } => {
                if host.is_empty() {
                    errors.push(CheckSpecError::BadHost(host.clone()));
                }
            }
            CheckKind::Dns { name, .. } => {
                let labels_ok = name
                    .trim_end_matches('.')
                    .split('.')
                    .all(|l| !l.is_empty() && l.len() <= 63);
                if name.len() > 253 || (name != "." && !labels_ok) {
                    errors.push(CheckSpecError::BadDnsName(name.clone()));
                }
            }
            CheckKind::Exec { argv } => {
                if argv.first().is_none_or(|a| a.is_empty()) {
                    errors.push(CheckSpecError::EmptyArgv);
                }
            }
        }
        errors
    }
}

/// What a check probes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckKind {
    /// HTTP/1.1 `GET http://host:port/path`; ok when the status matches and, if given, the body
    /// contains `expect_body`.
    Http {
        /// Host to connect to and to send as `Host:` (name or address literal; IPv6 without brackets).
        host: String,
        /// TCP port.
        port: u16,
        /// Absolute path with optional query, e.g. `/healthz`.
        path: String,
        /// Status that counts as healthy.
        expect_status: u16,
        /// Substring the body must contain.
        expect_body: Option<String>,
        /// HTTPS. Not supported yet: validation refuses it (see [`CheckSpecError::TlsUnsupported`]).
        tls: bool,
    },
    /// TCP connect to `host:port`; ok when the three-way handshake completes.
    Tcp {
        /// Host name or address literal.
        host: String,
        /// TCP port.
        port: u16,
    },
    /// One DNS query over UDP (TCP when the answer is truncated, RFC 7766 §5).
    Dns {
        /// Server to ask.
        server: SocketAddr,
        /// Name to ask for.
        name: String,
        /// Query type as its RFC 1035 §3.2.2 code (1 = A, 28 = AAAA, 16 = TXT, …).
        qtype: u16,
        /// What counts as healthy; `None` = any NOERROR response.
        expect: Option<DnsExpect>,
    },
    /// Run a program; exit status 0 is healthy. Killed at the timeout.
    Exec {
        /// Program and arguments (no shell).
        argv: Vec<String>,
    },
}

impl CheckKind {
    /// An HTTP check from a URL: `http://host[:port][/path]` (`https://` sets `tls`, which
    /// validation then refuses). IPv6 hosts go in brackets, as in a browser.
    pub fn http_from_url(
        url: &str,
        expect_status: u16,
        expect_body: Option<String>,
    ) -> Result<CheckKind, CheckSpecError> {
        let bad = || CheckSpecError::BadUrl(url.to_owned());
        let (tls, rest) = if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else {
            return Err(bad());
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) if rest[i..].starts_with('/') => (&rest[..i], rest[i..].to_owned()),
            Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
            None => (rest, "/".to_owned()),
        };
        let default_port = if tls { 443 } else { 80 };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(bad)?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| bad())?,
                None if after.is_empty() => default_port,
                None => return Err(bad()),
            };
            (host, port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, p.parse().map_err(|_| bad())?),
                None => (authority, default_port),
            }
        };
        if host.is_empty() || authority.contains('@') {
            return Err(bad());
        }
        Ok(CheckKind::Http {
            host: host.to_owned(),
            port,
            path,
            expect_status,
            expect_body,
            tls,
        })
    }
}

impl fmt::Display for CheckKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckKind::Http {
                host,
                port,
                path,
                tls,
                ..
            } => {
                let scheme = if *tls { "https" } else { "http" };
                if host.contains(':') {
                    write!(f, "{scheme}://[{host}]:{port}{path}")
                } else {
                    write!(f, "{scheme}://{host}:{port}{path}")
                }
            }
            CheckKind::Tcp { host, port } => write!(f, "tcp {host} port {port}"),
            CheckKind::Dns {
                server,
                name,
                qtype,
                ..
            } => write!(f, "dns {name} type {qtype} @{server}"),
            CheckKind::Exec { argv } => write!(f, "exec {}", argv.join(" ")),
        }
    }
}

/// What a DNS check expects.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DnsExpect {
    /// This response code (RFC 1035 §4.1.1, e.g. 0 NOERROR, 3 NXDOMAIN).
    Rcode(u8),
    /// NOERROR and at least one answer record whose data, printed (address for A/AAAA, the joined
    /// strings for TXT, the name for NS/CNAME/PTR), contains this text.
    AnswerContains(String),
}

/// Default re-announce hold-down after a check went Down.
pub const DEFAULT_HOLD_DOWN: Duration = Duration::from_secs(10);
/// Default ceiling of the exponentially backed-off hold-down.
pub const DEFAULT_MAX_HOLD_DOWN: Duration = Duration::from_secs(600);
/// Default time a check must stay Up before its flap count resets: one RFC 2439 §4.2 penalty
/// half-life (15 min), so our memory of flaps is about as long as an upstream's.
pub const DEFAULT_RESET_AFTER: Duration = Duration::from_secs(15 * 60);

/// The timing rule of a check, the one both `tern check` (tern-model's validation) and `tern
/// run` ([`CheckSpec::validate`]) apply: interval and timeout above zero, the timeout not above
/// the interval (runs would overlap), the hold-down ceiling not below its start.
pub fn timing_errors(
    interval: Duration,
    timeout: Duration,
    damping: &Damping,
) -> Vec<CheckSpecError> {
    let mut errors = Vec::new();
    if interval.is_zero() {
        errors.push(CheckSpecError::ZeroInterval);
    }
    if timeout.is_zero() {
        errors.push(CheckSpecError::ZeroTimeout);
    }
    if timeout > interval {
        errors.push(CheckSpecError::TimeoutAboveInterval { timeout, interval });
    }
    if damping.max_hold_down < damping.hold_down {
        errors.push(CheckSpecError::HoldDownOrder {
            hold_down: damping.hold_down,
            max_hold_down: damping.max_hold_down,
        });
    }
    errors
}

/// Flap damping parameters (algorithm in [`crate::machine`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Damping {
    /// Hold-down before re-announcing after the first recent flap.
    pub hold_down: Duration,
    /// Ceiling of the backed-off hold-down.
    pub max_hold_down: Duration,
    /// Time Up after which the flap count starts again from zero.
    pub reset_after: Duration,
}

impl Default for Damping {
    fn default() -> Self {
        Damping {
            hold_down: DEFAULT_HOLD_DOWN,
            max_hold_down: DEFAULT_MAX_HOLD_DOWN,
            reset_after: DEFAULT_RESET_AFTER,
        }
    }
}

/// The outcome of one run of a check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckResult {
    /// Healthy?
    pub ok: bool,
    /// Time from start to result (to the timeout for a timed-out run).
    pub latency: Duration,
    /// Human-readable detail: `"HTTP 503"`, `"connection refused"`, `"exit status 1"`, …
    pub detail: String,
}

impl CheckResult {
    /// A success.
    pub fn ok(latency: Duration, detail: impl Into<String>) -> Self {
        CheckResult {
            ok: true,
            latency,
            detail: detail.into(),
        }
    }

    /// A failure.
    pub fn failed(latency: Duration, detail: impl Into<String>) -> Self {
        CheckResult {
            ok: false,
            latency,
            detail: detail.into(),
        }
    }
}

/// A problem with a [`CheckSpec`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckSpecError {
    /// `interval = 0`.
    #[error("interval must be above zero")]
    ZeroInterval,
    /// `timeout = 0`.
    #[error("timeout must be above zero")]
    ZeroTimeout,
    /// A run could still be going when the next one is due.
    #[error(
        "timeout {timeout:?} is longer than interval {interval:?}: lower the timeout or raise the interval"
    )]
    TimeoutAboveInterval {
        /// Configured timeout.
        timeout: Duration,
        /// Configured interval.
        interval: Duration,
    },
    /// `rise`/`fall` out of range.
    #[error("{field} = {value} is out of range: use 1 to {MAX_RISE_FALL}")]
    Threshold {
        /// `"rise"` or `"fall"`.
        field: &'static str,
        /// Configured value.
        value: u32,
    },
    /// Damping ceiling below its start.
    #[error("max_hold_down {max_hold_down:?} is below hold_down {hold_down:?}")]
    HoldDownOrder {
        /// Configured start.
        hold_down: Duration,
        /// Configured ceiling.
        max_hold_down: Duration,
    },
    /// `tls = true` on an HTTP check.
    #[error(
        "https checks are not supported: tern has no TLS client built in (it would add rustls and \
         its crypto backend to every build). Check the service over plain http on its backend \
         address, or use an exec check such as [\"curl\", \"-fsS\", \"https://...\"]"
    )]
    TlsUnsupported,
    /// Not an `http://` or `https://` URL with a host.
    #[error("{0:?} is not an http:// URL (http://host[:port]/path, IPv6 hosts in brackets)")]
    BadUrl(String),
    /// Empty or whitespace host.
    #[error("host {0:?} is not a host name or address")]
    BadHost(String),
    /// HTTP path not starting with `/` or containing spaces/control bytes.
    #[error("path {0:?} must start with '/' and contain no spaces or control characters")]
    BadPath(String),
    /// Status outside 100–599.
    #[error("expected HTTP status {0} is not a status code (100-599)")]
    BadStatus(u16),
    /// DNS name with an empty or over-long label.
    #[error("{0:?} is not a DNS name (labels of 1-63 characters, 253 at most)")]
    BadDnsName(String),
    /// Exec check without a program.
    #[error("exec check needs a program: argv is empty")]
    EmptyArgv,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate() {
        let spec = CheckSpec::new(CheckKind::Tcp {
            host: "127.0.0.1".into(),
            port: 80,
        });
        assert!(spec.validate().is_empty());
    }

    #[test]
    fn collects_every_problem() {
        let mut spec = CheckSpec::new(CheckKind::Http {
            host: String::new(),
            port: 443,
            path: "healthz".into(),
            expect_status: 99,
            expect_body: None,
            tls: true,
        });
        spec.rise = 0;
        spec.timeout = Duration::from_secs(5);
        let errors = spec.validate();
        assert!(errors.contains(&CheckSpecError::TlsUnsupported));
        assert!(errors.contains(&CheckSpecError::BadHost(String::new())));
        assert!(errors.contains(&CheckSpecError::BadPath("healthz".into())));
        assert!(errors.contains(&CheckSpecError::BadStatus(99)));
        assert!(errors.contains(&CheckSpecError::Threshold {
            field: "rise",
            value: 0
        }));
        assert_eq!(errors.len(), 6, "{errors:?}");
        let tls = CheckSpecError::TlsUnsupported.to_string();
        assert!(tls.contains("exec check"), "{tls}");
    }

    #[test]
    fn http_urls() {
        let k =
            CheckKind::http_from_url("http://[2001:db8::1]:8080/healthz?x=1", 200, None).unwrap();
        assert_eq!(k.to_string(), "http://[2001:db8::1]:8080/healthz?x=1");
        let k = CheckKind::http_from_url("http://192.0.2.1", 204, None).unwrap();
        assert_eq!(k.to_string(), "http://192.0.2.1:80/");
        let k = CheckKind::http_from_url("https://example.com?q", 200, None).unwrap();
        assert_eq!(k.to_string(), "https://example.com:443/?q");
        for bad in [
            "ftp://x/",
            "http://",
            "http://h:99999/",
            "http://[::1/",
            "http://u@h/",
        ] {
            assert!(CheckKind::http_from_url(bad, 200, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn exec_and_dns() {
        let spec = CheckSpec::new(CheckKind::Exec { argv: vec![] });
        assert_eq!(spec.validate(), vec![CheckSpecError::EmptyArgv]);
        let spec = CheckSpec::new(CheckKind::Dns {
            server: "127.0.0.1:53".parse().unwrap(),
            name: "a..example".into(),
            qtype: 1,
            expect: None,
        });
        assert_eq!(spec.validate().len(), 1);
    }
}
