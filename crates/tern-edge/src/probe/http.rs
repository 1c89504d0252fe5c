//! The HTTP/1.1 check: a minimal `GET` client over a plain TCP stream (RFC 9112).
//!
//! One request per connection with `Connection: close`; the response is read until the server
//! closes, or its `Content-Length` is reached, at most [`MAX_RESPONSE_BYTES`]. Chunked bodies are
//! decoded for the body match (RFC 9112 §7.1). The caller bounds the time.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::ProbeError;

/// An HTTP response the check does not accept.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpFailure {
    /// Closed before any byte.
    #[error("connection closed without a response")]
    NoResponse,
    /// No end of the header.
    #[error("malformed response: no complete header")]
    NoHeader,
    /// Not `HTTP/1.x NNN …`.
    #[error("malformed status line {0:?}")]
    StatusLine(String),
    /// Another status.
    #[error("HTTP {got}, want {want}")]
    Status {
        /// Received.
        got: u16,
        /// Configured.
        want: u16,
    },
    /// The body lacks the text.
    #[error("HTTP {status} but the body lacks {want:?}")]
    BodyLacks {
        /// Received status.
        status: u16,
        /// The text looked for.
        want: String,
    },
}

/// Most response bytes read; the rest of a larger body is not looked at.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// `User-Agent` of the check.
pub const USER_AGENT: &str = concat!("tern-health/", env!("CARGO_PKG_VERSION"));

/// `GET http://host:port/path`; Ok when the status is `expect_status` and the body contains
/// `expect_body`.
pub async fn get(
    host: &str,
    port: u16,
    path: &str,
    expect_status: u16,
    expect_body: Option<&str>,
) -> Result<String, ProbeError> {
    let buf = fetch(host, port, path).await?;
    Ok(evaluate(&buf, expect_status, expect_body)?)
}

/// `GET http://host:port/path`: the raw response (header and body) as read, for callers that
/// look at the body themselves (the GeoDNS watcher reads `drain=` from the trace); judge it with
/// [`evaluate`] and read the body with [`body`].
pub async fn fetch(host: &str, port: u16, path: &str) -> Result<Vec<u8>, ProbeError> {
    let mut stream =
        TcpStream::connect((host, port))
            .await
            .map_err(|source| ProbeError::Connect {
                host: host.to_owned(),
                port,
                source,
            })?;
    let authority = match (host.contains(':'), port) {
        (true, 80) => format!("[{host}]"),
        (true, _) => format!("[{host}]:{port}"),
        (false, 80) => host.to_owned(),
        (false, _) => format!("{host}:{port}"),
    };
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: {USER_AGENT}\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(ProbeError::io("send request"))?;
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    loop {
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(ProbeError::io("read response"))?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() >= MAX_RESPONSE_BYTES || complete(&buf) {
            break;
        }
    }
    Ok(buf)
}

/// The body of a response read by [`fetch`] (dechunked, cut at `Content-Length`); `None`
/// without a complete header.
pub fn body(buf: &[u8]) -> Option<Vec<u8>> {
    let (head, body) = split_head(buf)?;
    Some(body_of(head, body))
}

fn body_of(head: &str, body: &[u8]) -> Vec<u8> {
    let chunked = header(head, "transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        dechunk(body)
    } else {
        match content_length(head) {
            Some(len) => body.get(..len).unwrap_or(body).to_vec(),
            None => body.to_vec(),
        }
    }
}

/// Is the response complete by its `Content-Length`?
fn complete(buf: &[u8]) -> bool {
    let Some((head, body)) = split_head(buf) else {
        return false;
    };
    content_length(head).is_some_and(|len| body.len() >= len)
}

fn split_head(buf: &[u8]) -> Option<(&str, &[u8])> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    Some((head, &buf[end + 4..]))
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n").skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

fn content_length(head: &str) -> Option<usize> {
    header(head, "content-length")?.parse().ok()
}

/// Judge a raw response. Pure, so it is unit-tested with odd inputs.
pub fn evaluate(
    buf: &[u8],
    expect_status: u16,
    expect_body: Option<&str>,
) -> Result<String, HttpFailure> {
    if buf.is_empty() {
        return Err(HttpFailure::NoResponse);
    }
    let Some((head, body)) = split_head(buf) else {
        return Err(HttpFailure::NoHeader);
    };
    let status_line = head.split("\r\n").next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let (Some(version), Some(code)) = (parts.next(), parts.next()) else {
        return Err(HttpFailure::StatusLine(status_line.to_owned()));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(HttpFailure::StatusLine(status_line.to_owned()));
    }
    let Ok(status) = code.parse::<u16>() else {
        return Err(HttpFailure::StatusLine(status_line.to_owned()));
    };
    if status != expect_status {
        return Err(HttpFailure::Status {
            got: status,
            want: expect_status,
        });
    }
    let Some(want) = expect_body else {
        return Ok(format!("HTTP {status}"));
    };
    let body = body_of(head, body);
    if contains(&body, want.as_bytes()) {
        Ok(format!("HTTP {status}, body has {want:?}"))
    } else {
        Err(HttpFailure::BodyLacks {
            status,
            want: want.to_owned(),
        })
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// Decode a chunked body as far as it goes (a truncated one yields what arrived).
fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = std::str::from_utf8(&b[..eol]).unwrap_or("");
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size_text, 16) else {
            return out;
        };
        if size == 0 {
            return out;
        }
        let data = &b[eol + 2..];
        let take = size.min(data.len());
        out.extend_from_slice(&data[..take]);
        b = data.get(size + 2..).unwrap_or(&[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judges_responses() {
        let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nall ok";
        assert!(evaluate(ok, 200, Some("ok")).is_ok());
        assert_eq!(
            evaluate(ok, 200, Some("bad")).unwrap_err().to_string(),
            "HTTP 200 but the body lacks \"bad\""
        );
        assert_eq!(
            evaluate(ok, 204, None).unwrap_err().to_string(),
            "HTTP 200, want 204"
        );
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhea\r\n5;x=y\r\nlthy!\r\n0\r\n\r\n";
        let (_, body) = split_head(chunked).unwrap();
        assert_eq!(dechunk(body), b"healthy!");
        assert!(evaluate(chunked, 200, Some("healthy")).is_ok());
        for junk in [
            &b""[..],
            b"HTTP/1.1",
            b"SSH-2.0-OpenSSH\r\n\r\n",
            b"HTTP/1.1 abc\r\n\r\n",
        ] {
            assert!(evaluate(junk, 200, None).is_err());
        }
        assert!(complete(ok));
        assert!(!complete(&ok[..ok.len() - 1]));
    }
}
