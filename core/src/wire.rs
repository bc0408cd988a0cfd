//! Wire frames: a 4-byte big-endian length, then a JSON object written as JCS.
//!
//! The reader refuses, with FRAME_INVALID: a length over [`MAX_FRAME`] (on the length alone, before
//! reading the body), a stream that ends or times out mid-frame, and a body that is not a JSON object.

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::error::{Error, ErrorCode, Result};

/// The largest body a frame may carry: 1 MiB.
pub const MAX_FRAME: usize = 1 << 20;

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::FrameInvalid, message)
}

/// Encode one frame (header + JCS body).
pub fn encode_frame(object: &Map<String, Value>) -> Result<Vec<u8>> {
    // JCS writes recursively: a body deeper than any JSON text may be is refused before
    crate::json::check_depth(object, ErrorCode::MalformedInput)?;
    let body = serde_jcs::to_vec(object).map_err(|_| invalid("frame body cannot be encoded"))?;
    if body.len() > MAX_FRAME {
        return Err(invalid("signer frame too large"));
    }
    let mut frame = Vec::with_capacity(4 + body.len());
    frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
    frame.extend_from_slice(&body);
    Ok(frame)
}

/// Decode exactly one frame from `bytes`; bytes after it are refused.
pub fn decode_frame(bytes: &[u8]) -> Result<Map<String, Value>> {
    let mut reader = bytes;
    let object = read_frame(&mut reader)?;
    if !reader.is_empty() {
        return Err(invalid("bytes after the frame"));
    }
    Ok(object)
}

/// The body length a 4-byte frame header announces; over [`MAX_FRAME`] is refused on the length alone.
/// For bindings that read from their own sockets: header → `frame_body_length` → read → `decode_frame_body`.
pub fn frame_body_length(header: &[u8]) -> Result<usize> {
    let header: [u8; 4] = header.try_into().map_err(|_| invalid("signer connection closed mid-frame"))?;
    let length = u32::from_be_bytes(header) as usize;
    if length > MAX_FRAME {
        return Err(invalid("signer frame too large"));
    }
    Ok(length)
}

/// Parse a frame body: it must be a JSON object.
/// A key given twice is refused (crate::json): one reading for every reader.
pub fn decode_frame_body(body: &[u8]) -> Result<Map<String, Value>> {
    crate::json::parse_object(body, ErrorCode::FrameInvalid)
}

fn read_exact_or_invalid(reader: &mut impl Read, buf: &mut [u8]) -> Result<()> {
    reader.read_exact(buf).map_err(|e| match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => invalid("signer connection timed out mid-frame"),
        io::ErrorKind::UnexpectedEof => invalid("signer connection closed mid-frame"),
        _ => invalid("signer connection failed mid-frame"),
    })
}

/// Read one frame from any reader. Refuses an oversize length before reading the body.
pub fn read_frame(reader: &mut impl Read) -> Result<Map<String, Value>> {
    let mut header = [0u8; 4];
    read_exact_or_invalid(reader, &mut header)?;
    read_frame_rest(reader, header)
}

fn read_frame_rest(reader: &mut impl Read, header: [u8; 4]) -> Result<Map<String, Value>> {
    decode_frame_body(&read_body(reader, header, MAX_FRAME)?)
}

/// The body a header announces, refused on the length alone when it is over `max_len`.
fn read_body(reader: &mut impl Read, header: [u8; 4], max_len: usize) -> Result<Vec<u8>> {
    let length = frame_body_length(&header)?;
    if length > max_len {
        return Err(invalid(format!("signer frame of {length} bytes is over the limit of {max_len}")));
    }
    // grown as bytes arrive, not allocated from the header: a peer announcing 1 MiB and sending
    // nothing costs nothing
    let mut body = Vec::with_capacity(length.min(64 * 1024));
    reader.take(length as u64).read_to_end(&mut body).map_err(|e| match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => invalid("signer connection timed out mid-frame"),
        _ => invalid("signer connection failed mid-frame"),
    })?;
    if body.len() != length {
        return Err(invalid("signer connection closed mid-frame"));
    }
    Ok(body)
}

/// Write one frame to any writer.
pub fn write_frame(writer: &mut impl Write, object: &Map<String, Value>) -> Result<()> {
    let frame = encode_frame(object)?;
    writer.write_all(&frame).and_then(|_| writer.flush()).map_err(|_| invalid("signer connection failed while writing"))
}

/// A stream whose reads can be bounded in time (sockets).
pub trait SetReadTimeout {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
}

impl SetReadTimeout for std::net::TcpStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        std::net::TcpStream::set_read_timeout(self, timeout)
    }
}

#[cfg(unix)]
impl SetReadTimeout for std::os::unix::net::UnixStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        std::os::unix::net::UnixStream::set_read_timeout(self, timeout)
    }
}

/// Read one frame, giving a slow peer at most `timeout` per read; a timeout is FRAME_INVALID.
pub fn read_frame_timeout<S: Read + SetReadTimeout>(stream: &mut S, timeout: Duration) -> Result<Map<String, Value>> {
    stream.set_read_timeout(Some(timeout)).map_err(|_| invalid("cannot set the read timeout"))?;
    read_frame(stream)
}

/// Reads that give up at a deadline: each read waits at most for the time left, so a peer sending a
/// byte a second cannot hold the reader past the deadline.
struct DeadlineReader<'a, S> {
    stream: &'a mut S,
    deadline: Instant,
}

impl<S: Read + SetReadTimeout> Read for DeadlineReader<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        self.stream.set_read_timeout(Some(left))?;
        self.stream.read(buf)
    }
}

/// Read one frame that must arrive whole by `deadline`; later is FRAME_INVALID.
pub fn read_frame_by<S: Read + SetReadTimeout>(stream: &mut S, deadline: Instant) -> Result<Map<String, Value>> {
    read_frame(&mut DeadlineReader { stream, deadline })
}

/// What a server finds when it waits for a peer's next frame.
#[derive(Debug, PartialEq)]
pub enum NextFrame {
    Frame(Map<String, Value>),
    /// The peer closed the connection between frames.
    Closed,
    /// Nothing arrived within the idle time.
    Idle,
}

/// Wait up to `idle` for a frame to start, then give the whole frame `frame_time` from its first
/// byte. A closed or silent peer between frames is not an error; anything wrong mid-frame is.
pub fn read_next_frame<S: Read + SetReadTimeout>(
    stream: &mut S,
    idle: Duration,
    frame_time: Duration,
) -> Result<NextFrame> {
    Ok(match read_next_body(stream, idle, frame_time, MAX_FRAME)? {
        NextBody::Body(body) => NextFrame::Frame(decode_frame_body(&body)?),
        NextBody::Closed => NextFrame::Closed,
        NextBody::Idle => NextFrame::Idle,
    })
}

/// What [`read_next_body`] finds: a frame's body not yet parsed (a server checks its size and
/// shape on the raw bytes first), or the peer's silence.
#[derive(Debug, PartialEq)]
pub enum NextBody {
    Body(Vec<u8>),
    Closed,
    Idle,
}

/// [`read_next_frame`] without the parse, for frames of at most `max_len` bytes (refused on the
/// length alone).
pub fn read_next_body<S: Read + SetReadTimeout>(
    stream: &mut S,
    idle: Duration,
    frame_time: Duration,
    max_len: usize,
) -> Result<NextBody> {
    let mut first = [0u8; 1];
    stream
        .set_read_timeout(Some(idle.max(Duration::from_millis(1))))
        .map_err(|_| invalid("cannot set the read timeout"))?;
    loop {
        match stream.read(&mut first) {
            Ok(0) => return Ok(NextBody::Closed),
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                return Ok(NextBody::Idle)
            }
            Err(_) => return Ok(NextBody::Closed), // reset by the peer
        }
    }
    let mut reader = DeadlineReader { stream, deadline: Instant::now() + frame_time };
    let mut header = [first[0], 0, 0, 0];
    read_exact_or_invalid(&mut reader, &mut header[1..])?;
    read_body(&mut reader, header, max_len).map(NextBody::Body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_orders_keys() {
        let mut object = Map::new();
        object.insert("op".into(), Value::from("mint"));
        object.insert("n".into(), Value::from(1));
        let frame = encode_frame(&object).unwrap();
        assert_eq!(&frame[4..], br#"{"n":1,"op":"mint"}"#);
        assert_eq!(decode_frame(&frame).unwrap(), object);
    }

    #[test]
    fn oversize_length_is_refused_before_the_body() {
        // a reader that would fail the test if the body were read
        struct HeaderOnly(Vec<u8>);
        impl Read for HeaderOnly {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                assert!(!self.0.is_empty(), "read past the header");
                let n = buf.len().min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0.drain(..n);
                Ok(n)
            }
        }
        let err = read_frame(&mut HeaderOnly(((MAX_FRAME + 1) as u32).to_be_bytes().to_vec())).unwrap_err();
        assert_eq!(err.code(), ErrorCode::FrameInvalid);
    }

    #[test]
    fn a_slow_peer_times_out() {
        let (mut a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        (&b).write_all(&[0, 0, 0, 9, b'{']).unwrap(); // then silence
        let err = read_frame_timeout(&mut a, Duration::from_millis(50)).unwrap_err();
        assert_eq!(err.code(), ErrorCode::FrameInvalid);
        drop(b);
    }

    #[test]
    fn a_peer_dripping_bytes_is_cut_off_at_the_deadline() {
        let (mut a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let drip = std::thread::spawn(move || {
            for byte in [0u8, 0, 0, 9, b'{', b'"', b'a', b'"', b':'] {
                if (&b).write_all(&[byte]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(40));
            }
        });
        let started = Instant::now();
        let err = read_frame_by(&mut a, started + Duration::from_millis(100)).unwrap_err();
        assert_eq!(err.code(), ErrorCode::FrameInvalid);
        assert!(started.elapsed() < Duration::from_millis(300));
        drop(a);
        drip.join().unwrap();
    }

    #[test]
    fn next_frame_tells_closed_idle_and_frames_apart() {
        let (mut a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let idle = Duration::from_millis(30);
        assert_eq!(read_next_frame(&mut a, idle, idle).unwrap(), NextFrame::Idle);
        let mut object = Map::new();
        object.insert("op".into(), Value::from("health"));
        (&b).write_all(&encode_frame(&object).unwrap()).unwrap();
        assert_eq!(read_next_frame(&mut a, idle, idle).unwrap(), NextFrame::Frame(object));
        (&b).write_all(&[0, 0]).unwrap();
        assert_eq!(read_next_frame(&mut a, idle, idle).unwrap_err().code(), ErrorCode::FrameInvalid);
        drop(b);
        assert_eq!(read_next_frame(&mut a, idle, idle).unwrap(), NextFrame::Closed);
    }
}
