//! `SignerClient`: how an app reaches the signer daemon. One client is shared by many threads; it
//! keeps a few connections open between requests, bounds connecting and each request in time, and
//! answers with the signer's own error codes. A daemon that is gone is SIGNER_UNAVAILABLE.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use socket2::{Domain, SockAddr, Socket, Type};

use super::protocol::{parse_response, request_frame, Op};
use super::stream::SignerStream;
use crate::error::{Error, ErrorCode, Result};
use crate::mint::MintRequest;
use crate::wire::{decode_frame_body, encode_frame, frame_body_length, SetReadTimeout};

/// Where the signer listens: a Unix socket path, or a loopback TCP address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignerAddress {
    Unix(PathBuf),
    Tcp(SocketAddr),
}

impl SignerAddress {
    /// `unix:PATH` or a path (anything holding a `/`), `tcp:HOST:PORT` or `HOST:PORT` with a
    /// loopback IP. A non-loopback address is refused: frames are not encrypted.
    pub fn parse(text: &str) -> Result<SignerAddress> {
        if let Some(path) = text.strip_prefix("unix:") {
            return SignerAddress::unix(path);
        }
        if let Some(tcp) = text.strip_prefix("tcp:") {
            let address = tcp
                .parse::<SocketAddr>()
                .map_err(|_| Error::malformed(format!("signer address {text:?}: tcp: needs a loopback IP:PORT")))?;
            return SignerAddress::tcp(address);
        }
        match text.parse::<SocketAddr>() {
            Ok(address) => SignerAddress::tcp(address),
            Err(_) if text.contains('/') => SignerAddress::unix(text),
            Err(_) => Err(Error::malformed(format!(
                "signer address {text:?} is neither a socket path nor a loopback IP:PORT"
            ))),
        }
    }

    pub fn unix(path: impl Into<PathBuf>) -> Result<SignerAddress> {
        let path = path.into();
        if path.as_os_str().is_empty() {
            return Err(Error::malformed("signer socket path is empty"));
        }
        // sockaddr_un holds 108 bytes with the terminating NUL; a longer path could never connect
        if SockAddr::unix(&path).is_err() {
            return Err(Error::malformed("signer socket path is too long for a Unix socket (107 bytes at most)"));
        }
        Ok(SignerAddress::Unix(path))
    }

    pub fn tcp(address: SocketAddr) -> Result<SignerAddress> {
        if !address.ip().is_loopback() {
            return Err(Error::malformed(format!("signer address {address} is not a loopback address")));
        }
        Ok(SignerAddress::Tcp(address))
    }
}

impl std::fmt::Display for SignerAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SignerAddress::Unix(path) => write!(f, "unix:{}", path.display()),
            SignerAddress::Tcp(address) => write!(f, "tcp:{address}"),
        }
    }
}

/// Time bounds of a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignerClientOptions {
    /// Opening a connection (default 1 s).
    pub connect_timeout: Duration,
    /// One request, from sending it to the whole answer (default 5 s).
    pub request_timeout: Duration,
}

impl Default for SignerClientOptions {
    fn default() -> Self {
        SignerClientOptions { connect_timeout: Duration::from_secs(1), request_timeout: Duration::from_secs(5) }
    }
}

/// A token minted by the signer.
#[derive(Clone, PartialEq, Eq)]
pub struct MintedToken {
    pub token: String,
    pub revocation_id: String,
    /// Whole seconds since the epoch.
    pub expires_at: u64,
}

impl std::fmt::Debug for MintedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // a token is half a credential: never printed
        f.debug_struct("MintedToken")
            .field("revocation_id", &self.revocation_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl SignerStream {
    fn set_timeouts(&self, left: Duration) -> io::Result<()> {
        self.set_read_timeout(Some(left)).and_then(|_| self.set_write_timeout(Some(left)))
    }
}

/// How one exchange on one connection failed.
enum Failure {
    /// Nothing came back on a connection that had been idle: the signer may have closed it (idle
    /// timeout, restart), so one fresh connection is worth trying.
    Stale(Error),
    Final(Error),
}

/// How long a client polls for an answer before it sleeps in read(2): a little more than the
/// signer's slowest operation (a mint, ~70 µs), so the CPU spent is bounded by the wait it saves.
const ANSWER_SPIN: Duration = Duration::from_micros(200);

/// The most idle connections a client keeps.
const MAX_IDLE: usize = 4;

/// A client of the signer daemon. Cheap to share between threads (`&self` everywhere).
pub struct SignerClient {
    address: SignerAddress,
    options: SignerClientOptions,
    idle: Mutex<Vec<SignerStream>>,
    next_id: AtomicU64,
}

impl std::fmt::Debug for SignerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignerClient").field("address", &self.address).field("options", &self.options).finish()
    }
}

fn unavailable(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::SignerUnavailable, message)
}

fn answer_error(key: &str) -> Error {
    Error::new(ErrorCode::FrameInvalid, format!("signer answer: missing or malformed {key}"))
}

fn string_field(result: &Map<String, Value>, key: &str) -> Result<String> {
    result.get(key).and_then(Value::as_str).map(str::to_owned).ok_or_else(|| answer_error(key))
}

/// Fill `buf`; returns how many bytes arrived before an end of stream or an error.
fn read_full(stream: &mut SignerStream, buf: &mut [u8], deadline: Instant) -> (usize, Option<io::Error>) {
    let mut filled = 0;
    while filled < buf.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (filled, Some(io::ErrorKind::TimedOut.into()));
        }
        if let Err(e) = stream.set_timeouts(left) {
            return (filled, Some(e));
        }
        match stream.read(&mut buf[filled..]) {
            Ok(0) => return (filled, None),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (filled, Some(e)),
        }
    }
    (filled, None)
}

impl SignerClient {
    /// A client for `address`. Nothing is connected yet: the first request connects (and says
    /// SIGNER_UNAVAILABLE if nobody listens). Zero timeouts are refused.
    pub fn new(address: SignerAddress, options: SignerClientOptions) -> Result<SignerClient> {
        // waiting more than a day for a signer is a mistake, not a setting
        let valid = |t: Duration| !t.is_zero() && t <= crate::settings::MAX_SETTING_DURATION;
        if !valid(options.connect_timeout) || !valid(options.request_timeout) {
            return Err(Error::malformed("signer client timeouts must be positive and at most a day"));
        }
        Ok(SignerClient { address, options, idle: Mutex::new(Vec::new()), next_id: AtomicU64::new(1) })
    }

    pub fn address(&self) -> &SignerAddress {
        &self.address
    }

    fn connect(&self) -> Result<SignerStream> {
        let failed = |e: io::Error| unavailable(format!("signer is not reachable at {}: {}", self.address, e.kind()));
        let (domain, address) = match &self.address {
            SignerAddress::Unix(path) => (Domain::UNIX, SockAddr::unix(path).map_err(failed)?),
            SignerAddress::Tcp(address) => (Domain::for_address(*address), SockAddr::from(*address)),
        };
        let socket = Socket::new(domain, Type::STREAM, None).map_err(failed)?;
        socket.connect_timeout(&address, self.options.connect_timeout).map_err(failed)?;
        Ok(match self.address {
            SignerAddress::Unix(_) => SignerStream::Unix(UnixStream::from(std::os::fd::OwnedFd::from(socket))),
            SignerAddress::Tcp(_) => {
                let stream = TcpStream::from(socket);
                let _ = stream.set_nodelay(true); // one small frame each way: never wait for Nagle
                SignerStream::Tcp(stream)
            }
        })
    }

    fn exchange(
        &self,
        stream: &mut SignerStream,
        frame: &[u8],
        deadline: Instant,
        reused: bool,
    ) -> std::result::Result<Map<String, Value>, Failure> {
        let late =
            || Failure::Final(unavailable(format!("signer did not answer within {:?}", self.options.request_timeout)));
        let gone = |e: Error| if reused { Failure::Stale(e) } else { Failure::Final(e) };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(late());
        }
        stream.set_timeouts(left).map_err(|_| gone(unavailable("signer connection failed")))?;
        if let Err(e) = stream.write_all(frame) {
            if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) {
                return Err(late());
            }
            // a signer that refuses a peer answers as it connects and closes: the write may find
            // the socket shut, the answer is waiting to be read
            let mut header = [0u8; 4];
            if let (4, _) = read_full(stream, &mut header, deadline) {
                if let Ok(length) = frame_body_length(&header) {
                    let mut body = vec![0u8; length];
                    if read_full(stream, &mut body, deadline).0 == length {
                        if let Ok(answer) = decode_frame_body(&body) {
                            return Ok(answer);
                        }
                    }
                }
            }
            return Err(gone(unavailable("signer closed the connection")));
        }
        // the answer usually comes within the poll: no sleep, no late wake-up
        stream.wait_readable_spinning(ANSWER_SPIN.min(left));
        let mut header = [0u8; 4];
        match read_full(stream, &mut header, deadline) {
            (4, _) => {}
            (_, Some(e)) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                return Err(late())
            }
            (0, _) => return Err(gone(unavailable("signer closed the connection without answering"))),
            _ => return Err(Failure::Final(unavailable("signer closed the connection mid-answer"))),
        }
        let length = frame_body_length(&header).map_err(Failure::Final)?;
        let mut body = vec![0u8; length];
        match read_full(stream, &mut body, deadline) {
            (n, _) if n == length => {}
            (_, Some(e)) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                return Err(late())
            }
            _ => return Err(Failure::Final(unavailable("signer closed the connection mid-answer"))),
        }
        decode_frame_body(&body).map_err(Failure::Final)
    }

    /// Send one request and wait for its answer: the result object, or the signer's error.
    pub fn call(&self, op: Op, args: Map<String, Value>) -> Result<Map<String, Value>> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let frame = encode_frame(&request_frame(id, op, args))?;
        let deadline = Instant::now() + self.options.request_timeout;
        let reused = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let (stream, answer) = match reused {
            Some(mut stream) => match self.exchange(&mut stream, &frame, deadline, true) {
                Ok(answer) => (stream, answer),
                Err(Failure::Final(e)) => return Err(e),
                Err(Failure::Stale(_)) => self.fresh_exchange(&frame, deadline)?,
            },
            None => self.fresh_exchange(&frame, deadline)?,
        };
        let outcome = parse_response(&answer, id);
        // an answer of the protocol's form leaves the connection in step: keep it for the next request
        let in_step = outcome.as_ref().map_or_else(|e| e.code() != ErrorCode::FrameInvalid, |_| true);
        if in_step {
            if let Ok(mut idle) = self.idle.lock() {
                if idle.len() < MAX_IDLE {
                    idle.push(stream);
                }
            }
        }
        outcome
    }

    fn fresh_exchange(&self, frame: &[u8], deadline: Instant) -> Result<(SignerStream, Map<String, Value>)> {
        let mut stream = self.connect()?;
        match self.exchange(&mut stream, frame, deadline, false) {
            Ok(answer) => Ok((stream, answer)),
            Err(Failure::Final(e) | Failure::Stale(e)) => Err(e),
        }
    }

    /// The issuer's public key (hex) and the signer's root key id.
    pub fn public_key(&self) -> Result<(String, Option<u32>)> {
        let result = self.call(Op::PublicKey, Map::new())?;
        let key_id = match result.get("key_id") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(|| answer_error("key_id"))?),
        };
        Ok((string_field(&result, "public_key")?, key_id))
    }

    /// Ask the signer to mint `args`. The signer sets the root key id (its `--key-id`): a request
    /// naming one is MALFORMED_INPUT; without a revocation id it picks a random one.
    pub fn mint(&self, args: &MintRequest) -> Result<MintedToken> {
        if args.root_key_id.is_some() {
            return Err(Error::malformed("the signer sets the root key id (its --key-id): leave root_key_id unset"));
        }
        let mut request = Map::new();
        request.insert("public_hex".into(), args.public_hex.clone().into());
        request.insert("holder_id".into(), args.holder_id.clone().into());
        let facts = args.facts.iter().map(|(p, values)| serde_json::json!([p, values])).collect();
        request.insert("facts".into(), Value::Array(facts));
        if let Some(id) = &args.revocation_id {
            request.insert("revocation_id".into(), id.clone().into());
        }
        let expires_at = serde_json::Number::from_f64(args.expires_at)
            .ok_or_else(|| Error::malformed("expires_at must be a finite number"))?;
        request.insert("expires_at".into(), Value::Number(expires_at));
        if args.delegation_depth > 0 {
            request.insert("delegation_depth".into(), args.delegation_depth.into());
        }
        let result = self.call(Op::Mint, request)?;
        Ok(MintedToken {
            token: string_field(&result, "token")?,
            revocation_id: string_field(&result, "revocation_id")?,
            expires_at: result.get("expires_at").and_then(Value::as_u64).ok_or_else(|| answer_error("expires_at"))?,
        })
    }

    /// Ask the signer to sign `job` for `worker_id`; returns the signature (hex) for `job["sig"]`.
    pub fn sign_job(&self, job: &Map<String, Value>, worker_id: &str) -> Result<String> {
        let mut request = Map::new();
        request.insert("job".into(), Value::Object(job.clone()));
        request.insert("worker_id".into(), worker_id.into());
        string_field(&self.call(Op::SignJob, request)?, "sig")
    }

    /// The signer's health report (status, public key, key id, audit head).
    pub fn health(&self) -> Result<Map<String, Value>> {
        self.call(Op::Health, Map::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_parsed_strictly() {
        assert_eq!(SignerAddress::parse("/run/s.sock").unwrap(), SignerAddress::Unix("/run/s.sock".into()));
        assert_eq!(SignerAddress::parse("unix:s.sock").unwrap(), SignerAddress::Unix("s.sock".into()));
        assert_eq!(
            SignerAddress::parse("tcp:127.0.0.1:7").unwrap(),
            SignerAddress::Tcp("127.0.0.1:7".parse().unwrap())
        );
        assert_eq!(SignerAddress::parse("[::1]:7").unwrap(), SignerAddress::Tcp("[::1]:7".parse().unwrap()));
        let long = format!("/{}", "d".repeat(200));
        for bad in ["tcp:localhost/x", "tcp:10.0.0.1:7", "192.168.1.1:7", "signer.sock", "unix:", "", long.as_str()] {
            assert_eq!(SignerAddress::parse(bad).unwrap_err().code(), ErrorCode::MalformedInput, "{bad:?}");
        }
    }

    #[test]
    fn timeouts_must_be_positive_and_bounded() {
        let address = SignerAddress::parse("/run/s.sock").unwrap();
        for (connect, request) in [(0, 1), (1, 0), (1, 86_401), (u64::MAX, 1)] {
            let options = SignerClientOptions {
                connect_timeout: Duration::from_secs(connect),
                request_timeout: Duration::from_secs(request),
            };
            assert_eq!(SignerClient::new(address.clone(), options).unwrap_err().code(), ErrorCode::MalformedInput);
        }
    }
}
