//! The TCP accept loop both "which site" servers share (DNS over TCP, HTTP): a connection limit
//! checked at accept, one tracked task per connection, and structured shutdown (STYLE habits 4
//! and 5): on cancellation the loop stops accepting and drops the open connections.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Accept on `listener` until `shutdown` is cancelled, running `connection` for each stream,
/// at most `max_connections` at once (further ones are closed at accept). `server` names the
/// server in logs (`dns tcp`, `http`).
pub(crate) async fn serve_connections<F, Fut>(
    listener: TcpListener,
    max_connections: usize,
    server: &'static str,
    shutdown: CancellationToken,
    connection: F,
) -> io::Result<()>
where
    F: Fn(TcpStream, SocketAddr) -> Fut,
    Fut: Future<Output = io::Result<()>> + Send + 'static,
{
    let mut conns = JoinSet::new();
    loop {
        while conns.try_join_next().is_some() {}
        let (stream, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "{server} accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        if conns.len() >= max_connections {
            tracing::debug!(%peer, "{server} connection limit reached, closing");
            continue;
        }
        let shutdown = shutdown.clone();
        let conn = connection(stream, peer);
        conns.spawn(async move {
            tokio::select! {
                () = shutdown.cancelled() => {}
                r = conn => {
                    if let Err(e) = r {
                        tracing::debug!(%peer, error = %e, "{server} connection ended");
                    }
                }
            }
        });
    }
    conns.shutdown().await;
    Ok(())
}
