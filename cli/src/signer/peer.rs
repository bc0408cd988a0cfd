//! Who is on the other end of a connection, as the kernel says.

use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;

use trustcore_core::signer::Peer;

/// The peer's uid, gid and pid (SO_PEERCRED), taken when it connected. `None` if the kernel will
/// not say, which the caller treats as a refusal.
pub fn unix_peer(stream: &UnixStream) -> Option<Peer> {
    let mut cred = libc::ucred { pid: 0, uid: 0, gid: 0 };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: `cred` and `len` are live locals of the sizes getsockopt is told
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    (rc == 0 && len as usize == std::mem::size_of::<libc::ucred>()).then_some(Peer::Unix {
        uid: cred.uid,
        gid: cred.gid,
        pid: cred.pid,
    })
}
