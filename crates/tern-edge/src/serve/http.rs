//! A deliberately tiny HTTP/1.1 server (RFC 9112) with a route table, on [`super::accept`].
//!
//! The daemon serves a handful of small, read-only, GET-only documents — the "which site"
//! `/cdn-cgi/trace` ([`crate::whoami::trace`]) and Prometheus `/metrics` ([`crate::metrics`]),
//! both [`Handler`]s — so instead of hyper
//! (and its dependency tree) this is one request per connection, `Connection: close`, GET and
//! HEAD only, no request bodies. A daemon adds routes with [`Router::route`]; a [`Handler`] is any
//! `Fn(&Request) -> Response` (handlers read shared state, e.g. a `watch` receiver, and render).
//!
//! Limits, so that nothing a client sends can hurt the daemon:
//! - the request head (request line + headers) is at most [`MAX_HEAD_BYTES`] and
//!   [`MAX_HEADERS`] lines (431 otherwise), and must arrive within [`HEAD_TIMEOUT`] (408);
//! - a request with a body (`Content-Length` above 0 or any `Transfer-Encoding`) gets 413;
//! - at most [`MAX_CONNECTIONS`] connections at once; further ones are closed at accept;
//! - anything that does not parse as RFC 9112 §3 gets 400; an HTTP/1.1 request without `Host`
//!   gets 400 (§3.2); a version other than 1.0/1.1 gets 505; a method other than GET/HEAD, 405.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use super::accept::{Limits, serve_connections};

/// Largest request head accepted.
pub const MAX_HEAD_BYTES: usize = 8 * 1024;
/// Most header lines accepted.
pub const MAX_HEADERS: usize = 64;
/// Time a client has to send the whole request head.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed to write the response.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest lingering close (see `connection`).
pub const LINGER_TIMEOUT: Duration = Duration::from_secs(2);
/// Most bytes read and dropped during a lingering close.
pub const LINGER_BYTES: usize = 256 * 1024;
/// Most connections served at once.
pub const MAX_CONNECTIONS: usize = 256;
/// A connection is closed after this long whatever it does (head, write and linger together
/// need at most 22 s).
pub const MAX_LIFETIME: Duration = Duration::from_secs(30);
/// The default limits: [`MAX_CONNECTIONS`], a quarter of them per client, [`MAX_LIFETIME`].
pub const LIMITS: Limits = Limits::new(MAX_CONNECTIONS, MAX_LIFETIME);

/// A parsed request head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// `GET` or `HEAD`.
    pub method: String,
    /// Path part of the target, e.g. `/cdn-cgi/trace`.
    pub path: String,
    /// Query part without `?`, if any.
    pub query: Option<String>,
    /// `HTTP/1.1` or `HTTP/1.0`.
    pub version: String,
    /// Header fields in order, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The client's address.
    pub peer: SocketAddr,
    /// Our address the client connected to (the anycast or unicast address it hit).
    pub local: SocketAddr,
}

impl Request {
    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Value of query parameter `name` (`a=b&c=d`; no percent-decoding).
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.as_deref()?.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k == name).then_some(v)
        })
    }
}

/// A response to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: String,
    /// Extra header fields.
    pub headers: Vec<(String, String)>,
    /// Body (not sent for HEAD).
    pub body: Vec<u8>,
}

impl Response {
    /// A `text/plain` response.
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        Response {
            status,
            content_type: "text/plain; charset=utf-8".into(),
            headers: Vec::new(),
            body: body.into().into_bytes(),
        }
    }

    /// An `application/json` response.
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        let mut body = value.to_string().into_bytes();
        body.push(b'\n');
        Response {
            status,
            content_type: "application/json".into(),
            headers: Vec::new(),
            body,
        }
    }

    /// Add a header field.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    fn to_bytes(&self, head_only: bool) -> Vec<u8> {
        let mut out = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len()
        );
        for (n, v) in &self.headers {
            out.push_str(&format!("{n}: {v}\r\n"));
        }
        out.push_str("\r\n");
        let mut out = out.into_bytes();
        if !head_only {
            out.extend_from_slice(&self.body);
        }
        out
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// Something that answers requests on a route.
pub trait Handler: Send + Sync {
    /// The response to `req`.
    fn handle(&self, req: &Request) -> Response;
}

impl<F: Fn(&Request) -> Response + Send + Sync> Handler for F {
    fn handle(&self, req: &Request) -> Response {
        self(req)
    }
}

/// Exact-path routes.
#[derive(Default)]
pub struct Router {
    routes: BTreeMap<String, Arc<dyn Handler>>,
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.routes.keys()).finish()
    }
}

impl Router {
    /// No routes: every path is 404.
    pub fn new() -> Self {
        Router::default()
    }

    /// Serve `path` (exact match, e.g. `/metrics`) with `handler`; replaces an earlier one.
    pub fn route(mut self, path: &str, handler: impl Handler + 'static) -> Self {
        self.routes.insert(path.to_owned(), Arc::new(handler));
        self
    }

    /// The response to a parsed request.
    pub fn dispatch(&self, req: &Request) -> Response {
        if req.method != "GET" && req.method != "HEAD" {
            return Response::text(405, "only GET and HEAD\n").with_header("Allow", "GET, HEAD");
        }
        match self.routes.get(&req.path) {
            Some(h) => h.handle(req),
            None => Response::text(404, "not found\n"),
        }
    }
}

/// A request head that is not acceptable, as the status to answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// HTTP status.
    pub status: u16,
    /// Short explanation sent as the body.
    pub why: &'static str,
}

fn reject(status: u16, why: &'static str) -> Rejection {
    Rejection { status, why }
}

/// Parse a request head (everything before the empty line, without it). Pure; never panics.
pub fn parse_head(head: &[u8], peer: SocketAddr, local: SocketAddr) -> Result<Request, Rejection> {
    let text = std::str::from_utf8(head).map_err(|_| reject(400, "request head is not UTF-8"))?;
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let line = lines.next().unwrap_or_default();
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(reject(400, "bad request line"));
    };
    if method.is_empty() || !method.bytes().all(is_tchar) {
        return Err(reject(400, "bad method"));
    }
    if !matches!(version, "HTTP/1.1" | "HTTP/1.0") {
        return Err(if version.starts_with("HTTP/") {
            reject(505, "only HTTP/1.0 and HTTP/1.1")
        } else {
            reject(400, "bad HTTP version")
        });
    }
    // origin-form (RFC 9112 §3.2.1), or absolute-form from proxies (§3.2.2).
    let origin = match target.find("://") {
        Some(i) if target[..i].eq_ignore_ascii_case("http") => {
            let rest = &target[i + 3..];
            rest.find('/').map_or("/", |j| &rest[j..])
        }
        _ => target,
    };
    if !origin.starts_with('/') || origin.bytes().any(|b| b <= 0x20 || b == 0x7f) {
        return Err(reject(400, "bad request target"));
    }
    let (path, query) = match origin.split_once('?') {
        Some((p, q)) => (p, Some(q.to_owned())),
        None => (origin, None),
    };
    let mut headers = Vec::new();
    for line in lines {
        if line.is_empty() {
            continue;
        }
        if headers.len() >= MAX_HEADERS {
            return Err(reject(431, "too many header fields"));
        }
        if line.starts_with([' ', '\t']) {
            return Err(reject(400, "obsolete line folding")); // RFC 9112 §5.2
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(reject(400, "header line without ':'"));
        };
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(reject(400, "bad header name"));
        }
        let value = value.trim_matches([' ', '\t']);
        if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            return Err(reject(400, "control character in a header value"));
        }
        headers.push((name.to_ascii_lowercase(), value.to_owned()));
    }
    let req = Request {
        method: method.to_owned(),
        path: path.to_owned(),
        query,
        version: version.to_owned(),
        headers,
        peer,
        local,
    };
    if req.version == "HTTP/1.1" && req.header("host").is_none() {
        return Err(reject(400, "HTTP/1.1 request without Host"));
    }
    if req.header("transfer-encoding").is_some()
        || req
            .header("content-length")
            .is_some_and(|v| v.trim() != "0")
    {
        return Err(reject(413, "request bodies are not accepted"));
    }
    Ok(req)
}

/// RFC 9110 §5.6.2 token characters.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Serve `router` on `listener` with the default [`LIMITS`] until `shutdown` is cancelled; open
/// connections are dropped then.
pub async fn serve(
    listener: TcpListener,
    router: Arc<Router>,
    shutdown: CancellationToken,
) -> io::Result<()> {
    serve_with(listener, router, LIMITS, shutdown).await
}

/// [`serve`] with other limits.
pub async fn serve_with(
    listener: TcpListener,
    router: Arc<Router>,
    limits: Limits,
    shutdown: CancellationToken,
) -> io::Result<()> {
    serve_connections(listener, limits, "http", shutdown, move |stream, peer| {
        let router = router.clone();
        async move { connection(stream, peer, &router).await }
    })
    .await
}

async fn connection(mut stream: TcpStream, peer: SocketAddr, router: &Router) -> io::Result<()> {
    let local = stream.local_addr()?;
    let read = tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut stream)).await;
    let (response, head_only) = match read {
        Err(_) => (Response::text(408, "request head too slow\n"), false),
        Ok(Err(e)) => return Err(e),
        Ok(Ok(None)) => return Ok(()), // closed before a full head
        Ok(Ok(Some(Err(r)))) => (Response::text(r.status, format!("{}\n", r.why)), false),
        Ok(Ok(Some(Ok(head)))) => match parse_head(&head, peer, local) {
            Ok(req) => (router.dispatch(&req), req.method == "HEAD"),
            Err(r) => (Response::text(r.status, format!("{}\n", r.why)), false),
        },
    };
    let bytes = response.to_bytes(head_only);
    tokio::time::timeout(WRITE_TIMEOUT, stream.write_all(&bytes))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "write timeout"))??;
    stream.shutdown().await?;
    // Lingering close (RFC 9112 §9.6): read and drop what the client still sends for a moment,
    // so that closing with unread data (a RST) does not destroy the response in flight.
    let mut sink = [0u8; 4096];
    let mut drained = 0usize;
    let linger = async {
        while drained < LINGER_BYTES {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => drained += n,
            }
        }
    };
    let _ = tokio::time::timeout(LINGER_TIMEOUT, linger).await;
    Ok(())
}

/// Read up to the end of the head (`\r\n\r\n` or `\n\n`). `None` when the client closed first.
async fn read_head(stream: &mut TcpStream) -> io::Result<Option<Result<Vec<u8>, Rejection>>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        let from = buf.len().saturating_sub(3);
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = head_end(&buf, from) {
            buf.truncate(end);
            return Ok(Some(Ok(buf)));
        }
        if buf.len() > MAX_HEAD_BYTES {
            return Ok(Some(Err(reject(431, "request head too large"))));
        }
    }
}

/// Offset of the line break that ends the head: the first `\n` followed by `\n` or `\r\n`.
/// (A `\r` before it stays in the head; the line parser strips it.)
fn head_end(buf: &[u8], from: usize) -> Option<usize> {
    (from..buf.len()).find(|&i| {
        let rest = &buf[i..];
        rest.starts_with(b"\n\n") || rest.starts_with(b"\n\r\n")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr() -> SocketAddr {
        "127.0.0.1:1".parse().unwrap()
    }

    fn parse(s: &str) -> Result<Request, Rejection> {
        parse_head(s.as_bytes(), addr(), addr())
    }

    #[test]
    fn parses_a_curl_request() {
        let r = parse(
            "GET /cdn-cgi/trace?format=json HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/7.88.1\r\nAccept: */*",
        )
        .unwrap();
        assert_eq!(
            (r.method.as_str(), r.path.as_str()),
            ("GET", "/cdn-cgi/trace")
        );
        assert_eq!(r.query_param("format"), Some("json"));
        assert_eq!(r.header("USER-AGENT"), Some("curl/7.88.1"));
        let r = parse("GET http://example.com/x?y HTTP/1.0").unwrap();
        assert_eq!((r.path.as_str(), r.query.as_deref()), ("/x", Some("y")));
    }

    #[test]
    fn rejects() {
        let status = |s: &str| parse(s).err().map(|r| r.status);
        assert_eq!(status("GET / HTTP/1.1"), Some(400)); // no Host
        assert_eq!(status("GET / HTTP/2.0\r\nHost: a"), Some(505));
        assert_eq!(status("GET /  HTTP/1.1\r\nHost: a"), Some(400));
        assert_eq!(status("GET / HTTP/1.1\r\nHost: a\r\n folded"), Some(400));
        assert_eq!(
            status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5"),
            Some(413)
        );
        assert_eq!(status("GET * HTTP/1.1\r\nHost: a"), Some(400));
        assert_eq!(status("G(T / HTTP/1.1\r\nHost: a"), Some(400));
        let many = format!("GET / HTTP/1.1\r\nHost: a{}", "\r\nX: y".repeat(70));
        assert_eq!(status(&many), Some(431));
        assert_eq!(
            parse_head(&[0xff, 0xfe], addr(), addr())
                .err()
                .map(|r| r.status),
            Some(400)
        );
    }

    #[test]
    fn routes() {
        let router = Router::new().route("/x", |_: &Request| Response::text(200, "x"));
        let mut req = parse("GET /x HTTP/1.0").unwrap();
        assert_eq!(router.dispatch(&req).status, 200);
        req.path = "/y".into();
        assert_eq!(router.dispatch(&req).status, 404);
        req.method = "POST".into();
        assert_eq!(router.dispatch(&req).status, 405);
    }
}
