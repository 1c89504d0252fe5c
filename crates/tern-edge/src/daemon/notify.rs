//! systemd readiness (`Type=notify`, sd_notify(3)): one datagram `READY=1` to `$NOTIFY_SOCKET`
//! once the daemon is started, `STOPPING=1` when it stops. Without the variable (not under
//! systemd, or `Type=simple`) nothing happens. Abstract socket names (`@…`) are supported.

use std::os::unix::net::UnixDatagram;

/// Send `state` to systemd if it listens; failures are only logged (readiness is a courtesy,
/// never a reason to stop announcing).
pub fn notify(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let sent = (|| -> std::io::Result<()> {
        let sock = UnixDatagram::unbound()?;
        let bytes = path.as_encoded_bytes();
        if let Some(name) = bytes.strip_prefix(b"@") {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
            sock.send_to_addr(state.as_bytes(), &addr)?;
        } else {
            sock.send_to(state.as_bytes(), &path)?;
        }
        Ok(())
    })();
    if let Err(e) = sent {
        tracing::warn!(error = %e, "cannot notify systemd");
    }
}
