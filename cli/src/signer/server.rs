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
use trustcore_core::signer::protocol::{check_request_shape, error_response, max_request_frame, MAX_REQUEST_FRAME};
use trustcore_core::signer::Op;
use trustcore_core::signer::{Peer, SignerService, SignerStream};
use trustcore_core::*;

use super::listen::{self, Listener};
use super::log::Log;
use super::{peer, Settings};

struct Shared {
    service: SignerService,
    log: Log,
    read_timeout: Duration,
    idle_timeout: Duration,
    first_frame_timeout: Duration,
    max_connections_per_peer: usize,
    /// Connections held by each peer now.
    per_peer: Mutex<HashMap<PeerKey, usize>>,
    /// Peers refused since the last time that was logged (logged at most once a second).
    refusals: Mutex<(u64, Option<Instant>)>,
    stopping: AtomicBool,
    active: AtomicUsize,
    /// A handle on every open connection, to wake its reader at shutdown.
    open: Mutex<HashMap<u64, SignerStream>>,
}

/// Who a connection counts against: a uid over a Unix socket, an address over TCP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum PeerKey {
    Uid(u32),
    Address(std::net::IpAddr),
    Other,
}

impl PeerKey {
    fn of(peer: &Peer) -> PeerKey {
        match peer {
            Peer::Unix { uid, .. } => PeerKey::Uid(*uid),
            Peer::Tcp(address) => PeerKey::Address(address.ip()),
            _ => PeerKey::Other,
        }
    }
}

/// Counts a connection in `active`, `open` and its peer's share for exactly as long as its thread
/// runs, panics included.
struct Registration {
    shared: Arc<Shared>,
    id: u64,
    peer: PeerKey,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Ok(mut open) = self.shared.open.lock() {
            open.remove(&self.id);
        }
        if let Ok(mut per_peer) = self.shared.per_peer.lock() {
            if let Some(count) = per_peer.get_mut(&self.peer) {
                *count -= 1;
                if *count == 0 {
                    per_peer.remove(&self.peer);
                }
            }
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
        first_frame_timeout: settings.first_frame_timeout,
        max_connections_per_peer: settings.max_connections_per_peer,
        per_peer: Mutex::new(HashMap::new()),
        refusals: Mutex::new((0, None)),
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
            // SAFETY: prctl(PR_GET_DUMPABLE) only reads this process's flag
            ("dumpable", (unsafe { libc::prctl(libc::PR_GET_DUMPABLE) } != 0).into()),
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

/// Admit a connection: the peer is checked first (a refused peer is closed before it counts against
/// any limit or a byte of it is read, and leaves no audit entry), then the total and per-peer caps.
fn admit(shared: &Arc<Shared>, conn: SignerStream, id: u64, max_connections: usize) {
    let peer = match &conn {
        SignerStream::Unix(stream) => peer::unix_peer(stream),
        SignerStream::Tcp(stream) => stream.peer_addr().ok().map(Peer::Tcp),
    };
    let Some(peer) = peer else {
        refuse_early(conn, &Error::new(ErrorCode::SignerRefused, "the peer's credentials are unknown"));
        return;
    };
    if !shared.service.peer_allowed(&peer) {
        note_refusal(shared, &peer);
        refuse_early(conn, &Error::new(ErrorCode::SignerRefused, "this peer is not allowed to use the signer"));
        return;
    }
    if shared.active.load(Ordering::SeqCst) >= max_connections {
        shared.log.event("busy", &[("connections", max_connections.into())]);
        refuse_early(conn, &Error::new(ErrorCode::SignerUnavailable, "signer is at its connection limit; try again"));
        return;
    }
    let key = PeerKey::of(&peer);
    {
        let Ok(mut per_peer) = shared.per_peer.lock() else { return };
        let held = per_peer.entry(key).or_default();
        if *held >= shared.max_connections_per_peer {
            drop(per_peer);
            shared.log.event("busy_peer", &[("peer", peer.to_string().into())]);
            refuse_early(
                conn,
                &Error::new(ErrorCode::SignerUnavailable, "this peer is at its connection limit; try again"),
            );
            return;
        }
        *held += 1;
    }
    shared.active.fetch_add(1, Ordering::SeqCst);
    // from here the registration undoes every count, whatever happens
    let registration = Registration { shared: shared.clone(), id, peer: key };
    let Ok(handle) = conn.try_clone() else { return };
    if let Ok(mut open) = shared.open.lock() {
        open.insert(id, handle);
    }
    let spawned = std::thread::Builder::new()
        .name(format!("signer-conn-{id}"))
        .stack_size(256 * 1024)
        .spawn(move || serve_connection(&registration.shared, conn, &peer));
    if let Err(e) = spawned {
        // the closure (and the registration in it) was dropped: the counts are already undone
        shared.log.event("spawn_failed", &[("error", e.to_string().into())]);
    }
}

/// Count a refused peer; log the count at most once a second (a refused peer must not be able to
/// fill the disk through the log either).
fn note_refusal(shared: &Shared, peer: &Peer) {
    let Ok(mut refusals) = shared.refusals.lock() else { return };
    refusals.0 += 1;
    let due = refusals.1.is_none_or(|last| last.elapsed() >= Duration::from_secs(1));
    if due {
        shared.log.event("refused", &[("peer", peer.to_string().into()), ("refusals", refusals.0.into())]);
        *refusals = (0, Some(Instant::now()));
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
    // a new connection must say what it wants soon: a silent one holds its slot for the short
    // first-frame deadline, not the idle timeout
    let mut wait = shared.first_frame_timeout;
    let mut frame_time = shared.read_timeout.min(shared.first_frame_timeout);
    while !shared.stopping.load(Ordering::SeqCst) {
        // a client sending requests back to back has its next one here within microseconds:
        // polling briefly spares it the late wake-up of a sleeping reader (see SignerStream)
        conn.wait_readable_spinning(NEXT_REQUEST_SPIN);
        let next = read_next_body(&mut conn, wait, frame_time, MAX_REQUEST_FRAME);
        (wait, frame_time) = (shared.idle_timeout, shared.read_timeout);
        let started = Instant::now();
        let answer = match next.and_then(request) {
            Ok(Some(frame)) => shared.service.answer(&frame, peer, now_seconds()),
            Ok(None) => return,
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

/// A request frame from its raw body: its shape checked before any tree is built, then parsed,
/// then held to its op's size. None when the peer closed or went silent.
fn request(next: NextBody) -> Result<Option<serde_json::Map<String, Value>>> {
    let body = match next {
        NextBody::Body(body) => body,
        NextBody::Closed | NextBody::Idle => return Ok(None),
    };
    check_request_shape(&body)?;
    let frame = decode_frame_body(&body)?;
    if let Some(op) = frame.get("op").and_then(Value::as_str).and_then(Op::from_name) {
        if body.len() > max_request_frame(op) {
            return Err(Error::new(
                ErrorCode::FrameInvalid,
                format!("a {} frame of {} bytes is over its limit of {}", op.name(), body.len(), max_request_frame(op)),
            ));
        }
    }
    Ok(Some(frame))
}
