//! The lab's "which site am I hitting" endpoints: with the BIRD stand-in they answer the
//! probes at every site; with `tern run` (which answers them itself) the same server is the
//! site's small service on 127.0.0.1:8080 that the health check watches. HTTP `GET /cdn-cgi/trace` (key=value lines in the style of Cloudflare's, with
//! `site=` and `colo=`) and DNS CHAOS TXT `id.server` / `hostname.bind` (RFC 4892).
//!
//! Blocking std sockets and one thread per listener: it serves a handful of probes. It binds
//! the site's service addresses one by one (not the wildcard) so that UDP answers leave from the
//! anycast address the probe asked. Bad requests get 400 / FORMERR or are dropped; nothing a
//! client sends can stop it.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::Duration;

use tern_types::SiteId;

use crate::dns;
use crate::error::LabError;

/// Who answers.
#[derive(Clone, Debug)]
pub struct Identity {
    /// Site id (`ams`).
    pub site: SiteId,
    /// IATA-like code (`AMS`).
    pub code: Option<String>,
}

/// Binds HTTP (`http_port`) and DNS (`dns_port`) on every address and serves until killed.
pub fn serve(
    id: &Identity,
    addrs: &[IpAddr],
    http_port: u16,
    dns_port: u16,
) -> Result<(), LabError> {
    let mut threads = Vec::new();
    for a in addrs {
        let http = SocketAddr::new(*a, http_port);
        let l = TcpListener::bind(http).map_err(|e| LabError::Command {
            command: format!("bind tcp {http}"),
            detail: e.to_string(),
        })?;
        let dnsa = SocketAddr::new(*a, dns_port);
        let u = UdpSocket::bind(dnsa).map_err(|e| LabError::Command {
            command: format!("bind udp {dnsa}"),
            detail: e.to_string(),
        })?;
        let idh = id.clone();
        threads.push(std::thread::spawn(move || http_loop(&l, &idh)));
        let idd = id.clone();
        threads.push(std::thread::spawn(move || dns_loop(&u, &idd)));
    }
    for t in threads {
        let _ = t.join();
    }
    Ok(())
}

fn http_loop(l: &TcpListener, id: &Identity) {
    for s in l.incoming().flatten() {
        let _ = http_conn(s, id);
    }
}

fn http_conn(mut s: TcpStream, id: &Identity) -> std::io::Result<()> {
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 8192 {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&buf);
    let mut lines = text.split("\r\n");
    let req: Vec<&str> = lines.next().unwrap_or("").split(' ').collect();
    let header = |name: &str| {
        text.split("\r\n")
            .skip(1)
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_owned())
            })
            .unwrap_or_default()
    };
    let (status, body) = match req.as_slice() {
        ["GET", path, version] if path.starts_with("/cdn-cgi/trace") => {
            let ip = s
                .peer_addr()
                .map(|a| a.ip().to_string())
                .unwrap_or_default();
            let ts = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| format!("{:.3}", d.as_secs_f64()))
                .unwrap_or_default();
            let colo = id
                .code
                .clone()
                .unwrap_or_else(|| id.site.as_str().to_uppercase());
            let body = format!(
                "fl=tern-lab\nh={}\nip={ip}\nts={ts}\nvisit_scheme=http\nuag={}\ncolo={colo}\nsite={}\nhttp={}\ntls=off\n",
                header("host"),
                header("user-agent"),
                id.site,
                version.to_ascii_lowercase()
            );
            ("200 OK", body)
        }
        ["GET", _, _] => ("404 Not Found", "not found\n".to_owned()),
        _ => ("400 Bad Request", "bad request\n".to_owned()),
    };
    let resp = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(resp.as_bytes())
}

fn dns_loop(u: &UdpSocket, id: &Identity) {
    let mut buf = [0u8; 1500];
    loop {
        let Ok((n, from)) = u.recv_from(&mut buf) else {
            continue;
        };
        if let Some(a) = respond(&buf[..n], id) {
            let _ = u.send_to(&a, from);
        }
    }
}

/// The answer to one DNS message, if any (responses and unreadable headers are dropped).
pub fn respond(raw: &[u8], id: &Identity) -> Option<Vec<u8>> {
    let q = match dns::parse_query(raw) {
        Ok(q) => q,
        Err(_) => {
            // FORMERR when at least a query header is there (RFC 1035 §4.1.1), else silence.
            let h = tern_dns::Header::parse(raw).filter(|h| !h.is_response())?;
            let mut r = tern_dns::Message::response(&h);
            r.header.flags |= dns::rcode::FORMERR;
            return Some(r.to_bytes());
        }
    };
    let ok = q.question.qclass == dns::CLASS_CH
        && q.question.qtype == dns::TYPE_TXT
        && (q.question.name.eq_text("id.server") || q.question.name.eq_text("hostname.bind"));
    Some(if ok {
        dns::answer(&q, Some(id.site.as_str()), dns::rcode::NOERROR)
    } else {
        dns::answer(&q, None, dns::rcode::REFUSED)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_id_server_and_refuses_the_rest() {
        let id = Identity {
            site: "ams".parse().unwrap(),
            code: Some("AMS".into()),
        };
        let q = dns::query(7, "ID.SERVER", dns::TYPE_TXT, dns::CLASS_CH).unwrap();
        let r = dns::parse_reply(&respond(&q, &id).unwrap()).unwrap();
        assert_eq!(r.txt, vec!["ams".to_string()]);
        let q = dns::query(8, "example.com", 1, 1).unwrap();
        let r = dns::parse_reply(&respond(&q, &id).unwrap()).unwrap();
        assert_eq!(r.rcode, dns::rcode::REFUSED);
        // A header with a question count but no question: FORMERR.
        let r = respond(&[0, 9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0], &id).unwrap();
        assert_eq!(u16::from(r[3] & 0x0f), dns::rcode::FORMERR);
        assert!(respond(&[1, 2, 3], &id).is_none());
    }

    #[test]
    fn query_and_watch_over_loopback() {
        let id = Identity {
            site: "fra".parse().unwrap(),
            code: None,
        };
        let u = UdpSocket::bind("[::1]:0").unwrap();
        let server = u.local_addr().unwrap();
        std::thread::spawn(move || dns_loop(&u, &id));
        let x = dns::chaos(server, "hostname.bind", Duration::from_secs(2)).unwrap();
        assert_eq!(x.reply.txt, vec!["fra".to_string()]);
        assert!(x.rt_ms >= 0.0 && x.abuf.len() > 12);
        let mut answers = Vec::new();
        dns::watch(
            server,
            Duration::from_millis(5),
            Duration::from_millis(200),
            &mut |sent, txt| {
                answers.push((sent, txt));
                answers.len() < 10
            },
        )
        .unwrap();
        assert_eq!(answers.len(), 10);
        assert!(answers.iter().all(|(_, t)| t == &vec!["fra".to_string()]));
        assert!(answers.windows(2).all(|w| w[0].0 <= w[1].0 + 0.5));
    }
}
