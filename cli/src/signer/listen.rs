//! Opening the daemon's socket: a Unix socket created 0600 (0660 with a group) that replaces a
//! stale socket but never a live signer's, or a loopback TCP port.

use std::ffi::CString;
use std::fs;
use std::io::ErrorKind;
use std::net::TcpListener;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use trustcore_core::{Error, Result};

use super::Listen;

pub enum Listener {
    Unix { listener: UnixListener, path: PathBuf, inode: u64 },
    Tcp(TcpListener),
}

fn failed(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::malformed(format!("{what} {}: {e}", path.display()))
}

/// A group name or number → gid.
fn group_id(group: &str) -> Result<u32> {
    if let Ok(gid) = group.parse::<u32>() {
        return Ok(gid);
    }
    let name = CString::new(group).map_err(|_| Error::malformed("--group holds a NUL byte"))?;
    let mut entry: libc::group = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::group = std::ptr::null_mut();
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: every pointer refers to a live local of the right type and `buf.len()` is its size
    let rc = unsafe { libc::getgrnam_r(name.as_ptr(), &mut entry, buf.as_mut_ptr(), buf.len(), &mut found) };
    if rc != 0 || found.is_null() {
        return Err(Error::malformed(format!("--group {group:?}: no such group")));
    }
    Ok(entry.gr_gid)
}

/// A socket file at `path`: refuse a live signer's, remove a stale one, refuse anything else.
fn clear_stale(path: &Path) -> Result<()> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(failed("cannot inspect", path, e)),
    };
    if !meta.file_type().is_socket() {
        return Err(Error::malformed(format!("{} exists and is not a socket; refusing to replace it", path.display())));
    }
    match UnixStream::connect(path) {
        Ok(_) => Err(Error::malformed(format!("a signer is already listening on {}", path.display()))),
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
            fs::remove_file(path).map_err(|e| failed("cannot remove the stale socket", path, e))
        }
        Err(e) => Err(failed("cannot check the existing socket", path, e)),
    }
}

pub fn open(listen: &Listen) -> Result<Listener> {
    match listen {
        Listen::Tcp(address) => {
            let listener =
                TcpListener::bind(address).map_err(|e| Error::malformed(format!("cannot listen on {address}: {e}")))?;
            Ok(Listener::Tcp(listener))
        }
        Listen::Unix { path, group } => {
            let gid = group.as_deref().map(group_id).transpose()?;
            clear_stale(path)?;
            // bind under umask 0177 so the socket is never, even for an instant, open to others
            // SAFETY: umask only swaps the process's file mode mask
            let previous = unsafe { libc::umask(0o177) };
            let bound = UnixListener::bind(path);
            unsafe { libc::umask(previous) };
            let listener = bound.map_err(|e| failed("cannot listen on", path, e))?;
            if let Some(gid) = gid {
                std::os::unix::fs::chown(path, None, Some(gid))
                    .map_err(|e| failed("cannot give the group", path, e))?;
                fs::set_permissions(path, fs::Permissions::from_mode(0o660))
                    .map_err(|e| failed("cannot set the mode of", path, e))?;
            }
            let inode = fs::symlink_metadata(path).map_err(|e| failed("cannot inspect", path, e))?.ino();
            Ok(Listener::Unix { listener, path: path.clone(), inode })
        }
    }
}

impl Listener {
    pub fn raw_fd(&self) -> RawFd {
        match self {
            Listener::Unix { listener, .. } => listener.as_raw_fd(),
            Listener::Tcp(listener) => listener.as_raw_fd(),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Listener::Unix { path, .. } => format!("unix:{}", path.display()),
            Listener::Tcp(listener) => listener.local_addr().map(|a| format!("tcp:{a}")).unwrap_or_default(),
        }
    }

    /// Remove the socket file, if it is still the one this process made (a successor's is kept).
    pub fn remove(&self) {
        if let Listener::Unix { path, inode, .. } = self {
            if fs::symlink_metadata(path).map(|m| m.ino() == *inode).unwrap_or(false) {
                let _ = fs::remove_file(path);
            }
        }
    }
}
