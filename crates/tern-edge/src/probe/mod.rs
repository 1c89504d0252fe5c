//! Health check executors and the scheduler that feeds `tern-health`'s machines.
//!
//! [`run_check`] runs one [`CheckSpec`] within its timeout and returns a [`CheckResult`] with the
//! latency; the kinds live in [`http`], [`dns`], [`exec`] and here (TCP); a failed run's detail
//! is a [`ProbeError`]. [`scheduler`] runs every check of a site at its interval (with jitter),
//! feeds the results to one [`tern_health::CheckMachine`] each, folds check states into service
//! states and reports them to the announcer, one way (STYLE habit 2: the scheduler is the one
//! writer of check state; the announcer's core owns prefix and drain state).
//!
//! HTTPS is not executed: `CheckSpec::validate` refuses `tls = true` with a hint (use an exec
//! check with curl), so tern does not carry a TLS stack (rustls + a crypto provider is the largest
//! compile cost we could add) for one check kind.

pub mod dns;
pub mod exec;
pub mod http;
pub mod scheduler;

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tern_health::{CheckKind, CheckResult, CheckSpec};
use tokio::net::TcpStream;

/// Why a check run failed: its `detail` in `tern ctl checks` is this error's text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// The TCP connection could not be made.
    #[error("connect {host} port {port}: {source}")]
    Connect {
        /// Host as configured.
        host: String,
        /// Port.
        port: u16,
        /// Why.
        source: std::io::Error,
    },
    /// A socket step failed (`udp send to 192.0.2.1:53`, `read response`, …).
    #[error("{step}: {source}")]
    Io {
        /// Which step, with the peer.
        step: String,
        /// Why.
        source: std::io::Error,
    },
    /// An HTTP answer that is not what the check wants.
    #[error(transparent)]
    Http(#[from] http::HttpFailure),
    /// A DNS answer that is not what the check wants.
    #[error(transparent)]
    Dns(#[from] dns::DnsFailure),
    /// This daemon does not run the check kind.
    #[error("{0}")]
    Unsupported(String),
}

impl ProbeError {
    fn io(step: impl Into<String>) -> impl FnOnce(std::io::Error) -> ProbeError {
        let step = step.into();
        move |source| ProbeError::Io { step, source }
    }
}

/// Run `spec` once, within its timeout. Never panics; every failure is a failed result whose
/// detail says what went wrong.
pub async fn run_check(spec: &CheckSpec) -> CheckResult {
    let start = Instant::now();
    let outcome = match &spec.kind {
        // Exec enforces its own timeout so that it can kill the process.
        CheckKind::Exec { argv } => return exec::run(argv, spec.timeout).await,
        kind => tokio::time::timeout(spec.timeout, run_kind(kind)).await,
    };
    let latency = start.elapsed();
    match outcome {
        Ok(Ok(detail)) => CheckResult::ok(latency, detail),
        Ok(Err(e)) => CheckResult::failed(latency, e.to_string()),
        Err(_) => CheckResult::failed(
            spec.timeout,
            format!("timeout after {} ms", spec.timeout.as_millis()),
        ),
    }
}

/// Ok(detail) when healthy, Err(detail) when not.
async fn run_kind(kind: &CheckKind) -> Result<String, ProbeError> {
    match kind {
        CheckKind::Tcp { host, port } => {
            TcpStream::connect((host.as_str(), *port))
                .await
                .map_err(|source| ProbeError::Connect {
                    host: host.clone(),
                    port: *port,
                    source,
                })?;
            Ok("connected".into())
        }
        CheckKind::Http {
            host,
            port,
            path,
            expect_status,
            expect_body,
            tls,
        } => {
            if *tls {
                return Err(ProbeError::Unsupported(
                    "https checks are not supported (see CheckSpec::validate)".into(),
                ));
            }
            http::get(host, *port, path, *expect_status, expect_body.as_deref()).await
        }
        CheckKind::Dns {
            server,
            name,
            qtype,
            expect,
        } => dns::check(*server, name, *qtype, expect.as_ref()).await,
        CheckKind::Exec { .. } => Err(ProbeError::Unsupported(
            "exec checks run through exec::run".into(),
        )),
        _ => Err(ProbeError::Unsupported(format!(
            "check kind {kind} is not supported by this daemon"
        ))),
    }
}

/// A random number (for DNS ids and jitter) without a dependency: std's per-process random
/// hasher keys applied to a counter. Not for cryptography.
pub(crate) fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let state = RandomState::new();
    state.hash_one(COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// Uniform-ish random duration in `[0, max)`.
pub(crate) fn random_duration(max: Duration) -> Duration {
    let nanos = max.as_nanos().min(u128::from(u64::MAX)) as u64;
    if nanos == 0 {
        return Duration::ZERO;
    }
    Duration::from_nanos(random_u64() % nanos)
}
