//! Asynchronous signals held back on this thread while a library we do not control waits on a
//! socket (the redis crate). A socket read with a timeout is interrupted by any handled signal even
//! with SA_RESTART (signal(7)), and the redis crate turns that EINTR into an error: a Go host's
//! SIGURG preemption, a profiler's SIGPROF or a SIGCHLD would fail a valid request as
//! STORE_UNAVAILABLE, or worse, after `SET NX` reached Redis, make its retry a REPLAYED. Held, they
//! arrive when the call returns (at most a command timeout later). SIGPIPE raised meanwhile is
//! consumed, never delivered: a Redis restart must be STORE_UNAVAILABLE, not a C or Go host killed
//! by SIGPIPE's default action. Faults (SIGSEGV and the like) are never held.

pub(crate) struct HeldSignals {
    previous: libc::sigset_t,
    /// A SIGPIPE already pending before we blocked it is the host's; leave it alone.
    pipe_pending_before: bool,
}

/// Signals a fault raises synchronously: blocking them would turn a crash into a hang.
const SYNCHRONOUS: [libc::c_int; 7] =
    [libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL, libc::SIGTRAP, libc::SIGSYS, libc::SIGABRT];

fn only(signal: libc::c_int) -> libc::sigset_t {
    // SAFETY: sigemptyset/sigaddset initialise a local set
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, signal);
        set
    }
}

fn pipe_pending() -> bool {
    // SAFETY: sigpending fills a local set
    unsafe {
        let mut pending: libc::sigset_t = std::mem::zeroed();
        libc::sigpending(&mut pending) == 0 && libc::sigismember(&pending, libc::SIGPIPE) == 1
    }
}

impl HeldSignals {
    pub(crate) fn new() -> HeldSignals {
        let pipe_pending_before = pipe_pending();
        // SAFETY: the set and `previous` are live locals; pthread_sigmask only changes this thread
        let previous = unsafe {
            let mut held: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut held);
            for signal in SYNCHRONOUS {
                libc::sigdelset(&mut held, signal);
            }
            let mut previous: libc::sigset_t = std::mem::zeroed();
            libc::pthread_sigmask(libc::SIG_BLOCK, &held, &mut previous);
            previous
        };
        HeldSignals { previous, pipe_pending_before }
    }
}

impl Drop for HeldSignals {
    fn drop(&mut self) {
        if !self.pipe_pending_before {
            let set = only(libc::SIGPIPE);
            let zero = libc::timespec { tv_sec: 0, tv_nsec: 0 };
            while pipe_pending() {
                // SAFETY: consumes one pending SIGPIPE of this thread's blocked set, waiting not at all
                if unsafe { libc::sigtimedwait(&set, std::ptr::null_mut(), &zero) } < 0 {
                    break;
                }
            }
        }
        // SAFETY: restores the mask saved in `new`; held signals are delivered now
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &self.previous, std::ptr::null_mut()) };
    }
}
