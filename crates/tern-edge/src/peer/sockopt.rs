//! The two Linux socket options that socket2 does not wrap: TCP-MD5 signatures (RFC 2385,
//! `TCP_MD5SIG`) and GTSM's minimum TTL (RFC 5082, `IP_MINTTL` / `IPV6_MINHOPCOUNT`).
//!
//! This is the only module of tern-edge allowed `unsafe`: each block is a single `setsockopt(2)`
//! on a descriptor we own, with a value whose size we pass alongside. Everything else about the
//! sockets (TTL, hop limit, bind, listen, non-blocking) goes through socket2's safe API.
#![allow(unsafe_code)]

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;

/// Longest TCP-MD5 key Linux accepts (`TCP_MD5SIG_MAXKEYLEN`).
pub const MD5_MAX_KEY_LEN: usize = 80;

/// `struct tcp_md5sig` from `<linux/tcp.h>` (libc does not export it).
#[repr(C)]
struct TcpMd5Sig {
    addr: libc::sockaddr_storage,
    flags: u8,
    prefixlen: u8,
    keylen: u16,
    ifindex: libc::c_int,
    key: [u8; MD5_MAX_KEY_LEN],
}

/// Install (or, with an empty key, remove) the TCP-MD5 key for segments to and from `peer` on
/// `sock`. Set it on the listening socket before the peer connects and on an outgoing socket
/// before `connect`. The kernel matches on the exact address, so the listener must use the same
/// family as the peer (an IPv4 peer on an IPv6 dual-stack socket would need the mapped address).
pub fn set_tcp_md5<S: AsRawFd>(sock: &S, peer: IpAddr, key: &[u8]) -> io::Result<()> {
    if key.len() > MD5_MAX_KEY_LEN {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "TCP-MD5 key is {} bytes, Linux allows at most {MD5_MAX_KEY_LEN}",
                key.len()
            ),
        ));
    }
    let sa: socket2::SockAddr = SocketAddr::new(peer, 0).into();
    // SAFETY: all-zero is a valid bit pattern for this plain C struct of integers and arrays.
    let mut sig: TcpMd5Sig = unsafe { std::mem::zeroed() };
    let len = (sa.len() as usize).min(std::mem::size_of::<libc::sockaddr_storage>());
    // SAFETY: `sa.as_ptr()` points to `sa.len()` initialised bytes of a sockaddr; we copy at most
    // the size of `sig.addr`, and the two regions cannot overlap (one is on our stack frame).
    unsafe {
        std::ptr::copy_nonoverlapping(
            sa.as_ptr().cast::<u8>(),
            (&mut sig.addr as *mut libc::sockaddr_storage).cast::<u8>(),
            len,
        );
    }
    sig.keylen = key.len() as u16;
    sig.key[..key.len()].copy_from_slice(key);
    setsockopt(sock, libc::IPPROTO_TCP, libc::TCP_MD5SIG, &sig)
}

/// GTSM (RFC 5082): drop segments that arrive with a TTL (hop limit) below `min`. For a directly
/// connected peer sending with TTL 255, `min = 255` means "at most zero hops away".
pub fn set_min_ttl<S: AsRawFd>(sock: &S, ipv6: bool, min: u8) -> io::Result<()> {
    let v = libc::c_int::from(min);
    if ipv6 {
        setsockopt(sock, libc::IPPROTO_IPV6, libc::IPV6_MINHOPCOUNT, &v)
    } else {
        setsockopt(sock, libc::IPPROTO_IP, libc::IP_MINTTL, &v)
    }
}

fn setsockopt<S: AsRawFd, T>(
    sock: &S,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
) -> io::Result<()> {
    // SAFETY: `value` is a live reference to a `T` for the duration of the call and we pass its
    // exact size; the descriptor is borrowed from an owned socket, so it is open.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            level,
            name,
            (value as *const T).cast::<libc::c_void>(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn struct_layout_matches_linux() {
        // <linux/tcp.h>: 128 (sockaddr_storage) + 1 + 1 + 2 + 4 + 80.
        assert_eq!(std::mem::size_of::<TcpMd5Sig>(), 216);
    }

    #[test]
    fn md5_and_minttl_accepted_by_the_kernel() {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("socket");
        set_tcp_md5(&s, "127.0.0.1".parse().expect("ip"), b"secret").expect("md5");
        set_min_ttl(&s, false, 255).expect("minttl");
        let too_long = [b'x'; 81];
        let err = set_tcp_md5(&s, "127.0.0.1".parse().expect("ip"), &too_long).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let s6 = socket2::Socket::new(socket2::Domain::IPV6, socket2::Type::STREAM, None)
            .expect("socket");
        set_tcp_md5(&s6, "::1".parse().expect("ip"), b"secret").expect("md5 v6");
        set_min_ttl(&s6, true, 255).expect("minhopcount");
    }
}
