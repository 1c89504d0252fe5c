//! The control socket on disk: one daemon per socket, and a live socket is never unlinked
//! (issue 16 §3).
//!
//! [`bind`] first takes an exclusive `flock(2)` on `SOCKET.lock` next to the socket (0600, our
//! pid written in it), non-blocking: a second `tern run` for the same site (started by mistake,
//! failing on a port in use) is refused there, before it touches anything, and the running
//! daemon's socket stays. Holding the lock, a socket file left by a dead daemon (kill -9, OOM,
//! power loss: the kernel drops the lock with the process) is stale by definition and replaced.
//! As a second guard, a socket that still accepts a connection is never unlinked (a daemon of an
//! older version that took no lock).
//!
//! The socket's directory, when we create it, is 0750 whatever the umask; the socket is 0660.

#![allow(unsafe_code)]

use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tokio::net::UnixListener;

/// Mode of a directory we create for the socket.
pub const DIR_MODE: u32 = 0o750;
/// Mode of the socket.
pub const SOCKET_MODE: u32 = 0o660;

/// Why the control socket cannot be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SocketError {
    /// Another daemon holds the lock.
    #[error(
        "another tern run{} holds {lock}: it serves {socket}; stop it first (tern ctl --socket {socket} status)",
        .pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
    )]
    Locked {
        /// The lock file.
        lock: PathBuf,
        /// The socket.
        socket: PathBuf,
        /// The holder's pid, as written in the lock file.
        pid: Option<u32>,
    },
    /// A socket file that still answers (a daemon without the lock).
    #[error("{0} is live (a daemon answers on it): not replacing it")]
    Live(PathBuf),
    /// A file operation failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// On which path.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// The lock of one control socket, held while this value lives (the kernel drops it when the
/// process dies).
#[derive(Debug)]
pub struct SocketLock {
    _file: File,
    path: PathBuf,
}

impl SocketLock {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The lock file of `socket`: `SOCKET.lock`.
pub fn lock_path(socket: &Path) -> PathBuf {
    let mut p = socket.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

fn io_err<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> SocketError + 'a {
    move |source| SocketError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// Take the lock of `socket` (creating its directory 0750 if missing), or say who holds it.
pub fn lock(socket: &Path) -> Result<SocketLock, SocketError> {
    if let Some(dir) = socket.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(DIR_MODE)
                .create(dir)
                .map_err(io_err("cannot create", dir))?;
            // The umask may have taken bits away (or a 0777 one left them): exactly 0750.
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(DIR_MODE))
                .map_err(io_err("cannot set the mode of", dir))?;
        }
    }
    let path = lock_path(socket);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(io_err("cannot open", &path))?;
    // SAFETY: flock on a file descriptor we own and keep open; no memory is passed.
    let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if r != 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
            let pid = std::fs::read_to_string(&path)
                .ok()
                .and_then(|s| s.trim().parse().ok());
            return Err(SocketError::Locked {
                lock: path,
                socket: socket.to_path_buf(),
                pid,
            });
        }
        return Err(SocketError::Io {
            what: "cannot lock",
            path,
            source: e,
        });
    }
    file.set_len(0).map_err(io_err("cannot write", &path))?;
    writeln!(file, "{}", std::process::id()).map_err(io_err("cannot write", &path))?;
    Ok(SocketLock { _file: file, path })
}

/// Take the lock, then bind the control socket at `path`, replacing a stale socket file (never a
/// live one). Keep the [`SocketLock`] as long as the socket is served.
pub fn bind(path: &Path) -> Result<(UnixListener, SocketLock), SocketError> {
    let lock = lock(path)?;
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(SocketError::Live(path.to_path_buf()));
        }
        match std::fs::remove_file(path) {
            Ok(()) => tracing::info!(socket = %path.display(), "replaced a stale control socket"),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err("cannot remove the stale", path)(e)),
        }
    }
    let l = UnixListener::bind(path).map_err(io_err("cannot bind", path))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(SOCKET_MODE))
        .map_err(io_err("cannot set the mode of", path))?;
    Ok((l, lock))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("tern-sock-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[tokio::test]
    async fn second_lock_is_refused_and_the_live_socket_stays() {
        let dir = tmp("lock");
        let sock = dir.join("sub").join("ctl.sock");
        let old = unsafe_umask(0o077);
        let (l, lock1) = bind(&sock).unwrap();
        unsafe_umask(old);
        let mode = std::fs::metadata(sock.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, DIR_MODE, "{mode:o}");
        let e = bind(&sock).unwrap_err();
        assert!(
            matches!(&e, SocketError::Locked { pid: Some(p), .. } if *p == std::process::id()),
            "{e}"
        );
        assert!(sock.exists(), "the live socket must stay");
        drop(lock1);
        // Lock free but the socket answers: still not replaced.
        let e = bind(&sock).unwrap_err();
        assert!(matches!(e, SocketError::Live(_)), "{e}");
        drop(l);
        // Stale (nobody listens): replaced.
        let (_l, _lock) = bind(&sock).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn unsafe_umask(m: u32) -> u32 {
        // SAFETY: umask only swaps the process's file mode mask.
        unsafe { libc::umask(m as libc::mode_t) as u32 }
    }
}
