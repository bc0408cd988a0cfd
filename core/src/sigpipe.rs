//! SIGPIPE held back on this thread while a library we do not control writes to a socket (the
//! redis crate writes Unix sockets with write(2), which std's UnixStream uses; its TCP writes
//! already pass MSG_NOSIGNAL). A SIGPIPE raised meanwhile is consumed, never delivered: a
//! Redis restart must be STORE_UNAVAILABLE, not a C or Go host killed by its default action.
//! The technique is OpenSSL's and libcurl's: block, then drain with a zero-timeout sigtimedwait.

pub(crate) struct HeldSigpipe {
    previous: libc::sigset_t,
    /// A SIGPIPE already pending before we blocked it is the host's; leave it alone.
    pending_before: bool,
}

fn sigpipe_set() -> libc::sigset_t {
    // SAFETY: sigemptyset/sigaddset initialise a local set
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        set
    }
}

fn sigpipe_pending() -> bool {
    // SAFETY: sigpending fills a local set
    unsafe {
        let mut pending: libc::sigset_t = std::mem::zeroed();
        libc::sigpending(&mut pending) == 0 && libc::sigismember(&pending, libc::SIGPIPE) == 1
    }
}

impl HeldSigpipe {
    pub(crate) fn new() -> HeldSigpipe {
        let pending_before = sigpipe_pending();
        let set = sigpipe_set();
        // SAFETY: pthread_sigmask reads `set` and writes `previous`, both live locals
        let previous = unsafe {
            let mut previous: libc::sigset_t = std::mem::zeroed();
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut previous);
            previous
        };
        HeldSigpipe { previous, pending_before }
    }
}

impl Drop for HeldSigpipe {
    fn drop(&mut self) {
        let set = sigpipe_set();
        if !self.pending_before {
            let zero = libc::timespec { tv_sec: 0, tv_nsec: 0 };
            while sigpipe_pending() {
                // SAFETY: consumes one pending SIGPIPE of this thread's blocked set, waiting not at all
                if unsafe { libc::sigtimedwait(&set, std::ptr::null_mut(), &zero) } < 0 {
                    break;
                }
            }
        }
        // SAFETY: restores the mask saved in `new`
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &self.previous, std::ptr::null_mut()) };
    }
}
