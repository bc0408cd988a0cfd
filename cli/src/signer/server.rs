//! The daemon's loop: accept connections, serve each on its own thread (at most
//! `--max-connections` at once), and on SIGTERM or SIGINT stop accepting, let in-flight requests
//! finish, remove the socket and return.
//!
//! A slow or hostile peer holds only its own thread: a frame must arrive whole within the read
//! timeout of its first byte, a silent connection is closed after the idle timeout, and writes are
//! bounded too, so a peer that never reads cannot pin a thread either.

use std::collections::HashMap;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use trustcore_core::signer::protocol::error_response;
use trustcore_core::signer::SignerStream;
use trustcore_core::*;

use super::listen::{self, Listener};
use super::log::Log;
use super::{peer, Settings};

struct Shared {
    service: SignerService,
    log: Log,
    read_timeout: Duration,
    idle_timeout: Duration,
    stopping: AtomicBool,
    active: AtomicUsize,
    /// A handle on every open connection, to wake its reader at shutdown.
    open: Mutex<HashMap<u64, SignerStream>>,
}

/// Counts a connection in `active` and `open` for exactly as long as its thread runs, panics included.
struct Registration {
    shared: Arc<Shared>,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Ok(mut open) = self.shared.open.lock() {
            open.remove(&self.id);
        }
        self.shared.active.fetch_sub(1, Ordering::SeqCst);
    }
}

fn io_failed(what: &str, e: io::Error) -> Error {
    Error::new(ErrorCode::Internal, format!("{what}: {e}"))
}

/// Answer with an error frame before any request was read (busy, unknown peer), then close.
fn refuse_early(mut conn: SignerStream, error: &Error) {
    let _ = conn.set_write_timeout(Some(Duration::from_millis(200)));
    if let Ok(frame) = encode_frame(&error_response(Value::Null, error)) {
        let _ = conn.write_all(&frame);
    }
}

pub fn run(service: SignerService, settings: Settings) -> Result<()> {
    let log = Log { format: settings.log_format };
    let listener = listen::open(&settings.listen)?;
    let served = serve(&listener, service, &settings, log);
    listener.remove();
    match &served {
        Ok(()) => log.event("stopped", &[]),
        Err(e) => log.event("failed", &[("error", e.to_string().into())]),
    }
    served
}

fn serve(listener: &Listener, service: SignerService, settings: &Settings, log: Log) -> Result<()> {
    // SIGTERM / SIGINT write a byte to `wake`, which the accept loop polls beside the listener
    let (wake, wake_writer) = UnixStream::pair().map_err(|e| io_failed("cannot make the signal pipe", e))?;
    wake.set_nonblocking(true).map_err(|e| io_failed("cannot make the signal pipe", e))?;
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        let writer = wake_writer.try_clone().map_err(|e| io_failed("cannot make the signal pipe", e))?;
        signal_hook::low_level::pipe::register(signal, writer).map_err(|e| io_failed("cannot handle signals", e))?;
    }
    match listener {
        Listener::Unix { listener, .. } => listener.set_nonblocking(true),
        Listener::Tcp(listener) => listener.set_nonblocking(true),
    }
    .map_err(|e| io_failed("cannot set up the listener", e))?;

    let shared = Arc::new(Shared {
        log,
        read_timeout: settings.read_timeout,
        idle_timeout: settings.idle_timeout,
        stopping: AtomicBool::new(false),
        active: AtomicUsize::new(0),
        open: Mutex::new(HashMap::new()),
        service,
    });
    log.event(
        "listening",
        &[
            ("address", listener.describe().into()),
            ("public_key", shared.service.public_hex().into()),
            ("key_id", shared.service.key_id().into()),
            ("pid", std::process::id().into()),
        ],
    );
    let next_id = AtomicU64::new(1);
    loop {
        let mut fds = [
            libc::pollfd { fd: listener.raw_fd(), events: libc::POLLIN, revents: 0 },
            libc::pollfd { fd: wake.as_raw_fd(), events: libc::POLLIN, revents: 0 },
        ];
        // SAFETY: `fds` is a live array of two pollfd and its length is passed with it
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
        if ready < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(io_failed("poll failed", e));
        }
        if fds[1].revents != 0 {
            break;
        }
        if fds[0].revents == 0 {
            continue;
        }
        let accepted = match listener {
            Listener::Unix { listener, .. } => listener.accept().map(|(s, _)| SignerStream::Unix(s)),
            Listener::Tcp(listener) => listener.accept().map(|(s, _)| SignerStream::Tcp(s)),
        };
        match accepted {
            Ok(conn) => admit(&shared, conn, next_id.fetch_add(1, Ordering::Relaxed), settings.max_connections),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => {}
            Err(e) => {
                // out of file descriptors and the like: wait a little instead of spinning
                log.event("accept_failed", &[("error", e.to_string().into())]);
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
    drain(&shared, listener);
    Ok(())
}

/// Stop: no new connections (the socket goes first), readers woken, in-flight requests answered.
fn drain(shared: &Arc<Shared>, listener: &Listener) {
    shared.stopping.store(true, Ordering::SeqCst);
    listener.remove();
    let in_flight = shared.active.load(Ordering::SeqCst);
    shared.log.event("stopping", &[("connections", in_flight.into())]);
    if let Ok(open) = shared.open.lock() {
        for conn in open.values() {
            conn.shutdown_read(); // a blocked read returns at once; an answer being written still goes out
        }
    }
    let deadline = Instant::now() + shared.read_timeout + Duration::from_secs(5);
    while shared.active.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn admit(shared: &Arc<Shared>, conn: SignerStream, id: u64, max_connections: usize) {
    if shared.active.load(Ordering::SeqCst) >= max_connections {
        shared.log.event("busy", &[("connections", max_connections.into())]);
        refuse_early(conn, &Error::new(ErrorCode::SignerUnavailable, "signer is at its connection limit; try again"));
        return;
    }
    let peer = match &conn {
        SignerStream::Unix(stream) => peer::unix_peer(stream),
        SignerStream::Tcp(stream) => stream.peer_addr().ok().map(Peer::Tcp),
    };
    let Some(peer) = peer else {
        refuse_early(conn, &Error::new(ErrorCode::SignerRefused, "the peer's credentials are unknown"));
        return;
    };
    let Ok(handle) = conn.try_clone() else { return };
    shared.active.fetch_add(1, Ordering::SeqCst);
    if let Ok(mut open) = shared.open.lock() {
        open.insert(id, handle);
    }
    let registration = Registration { shared: shared.clone(), id };
    let spawned = std::thread::Builder::new()
        .name(format!("signer-conn-{id}"))
        .stack_size(256 * 1024)
        .spawn(move || serve_connection(&registration.shared, conn, &peer));
    if let Err(e) = spawned {
        // the closure (and the registration in it) was dropped: the counts are already undone
        shared.log.event("spawn_failed", &[("error", e.to_string().into())]);
    }
}

/// How long a connection's thread polls for the next request before it sleeps: long enough for a
/// client's back-to-back request, short enough that an idle connection costs nothing to speak of.
const NEXT_REQUEST_SPIN: std::time::Duration = std::time::Duration::from_micros(50);

fn serve_connection(shared: &Shared, mut conn: SignerStream, peer: &Peer) {
    let peer_text = peer.to_string();
    if conn.set_write_timeout(Some(shared.read_timeout)).is_err() {
        return;
    }
    while !shared.stopping.load(Ordering::SeqCst) {
        // a client sending requests back to back has its next one here within microseconds:
        // polling briefly spares it the late wake-up of a sleeping reader (see SignerStream)
        conn.wait_readable_spinning(NEXT_REQUEST_SPIN);
        let next = read_next_frame(&mut conn, shared.idle_timeout, shared.read_timeout);
        let started = Instant::now();
        let answer = match next {
            Ok(NextFrame::Frame(frame)) => shared.service.answer(&frame, peer, now_seconds()),
            Ok(NextFrame::Closed | NextFrame::Idle) => return,
            Err(e) => shared.service.answer_unreadable(&e, peer, now_seconds()),
        };
        let outcome = answer.error.map_or("ok", ErrorCode::name);
        shared.log.request(
            answer.op.map(|op| op.name()),
            outcome,
            &peer_text,
            answer.holder_id.as_deref(),
            started.elapsed(),
        );
        let written = encode_frame(&answer.response).and_then(|frame| {
            conn.write_all(&frame).map_err(|_| Error::new(ErrorCode::FrameInvalid, "peer stopped reading"))
        });
        if written.is_err() || answer.close {
            return;
        }
    }
}
