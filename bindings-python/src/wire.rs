//! Wire frames over a Python stream socket: core encodes, checks the length before reading a
//! body, and decodes; the socket's own `recv` / `sendall` move the bytes (its timeout applies).

use std::io::{self, Read, Write};

use pyo3::exceptions::{PyBlockingIOError, PyOSError, PyTimeoutError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use trustcore_core::ErrorCode;

use crate::convert::Bytes;
use crate::error::{guarded, to_py, type_error};
use crate::json::{object_to_python, to_object};

/// One frame: 4-byte big-endian length, then the object as JCS. Over `MAX_FRAME` is FRAME_INVALID.
#[pyfunction]
pub fn encode_frame<'py>(py: Python<'py>, payload: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    guarded(|| {
        // a payload that cannot be a JSON object (too deep included) is the caller's mistake, as in core
        let object = to_object(payload, ErrorCode::MalformedInput, "payload")?;
        Ok(PyBytes::new(py, &trustcore_core::encode_frame(&object).map_err(to_py)?))
    })
}

/// Decode exactly one frame; a bad length, trailing bytes, or a body that is not a JSON object is
/// FRAME_INVALID.
#[pyfunction]
pub fn decode_frame<'py>(py: Python<'py>, frame: Bytes<'_>) -> PyResult<Bound<'py, PyDict>> {
    guarded(|| object_to_python(py, &trustcore_core::decode_frame(&frame.0).map_err(to_py)?))
}

/// Send `payload` as one frame with `sock.sendall`.
#[pyfunction]
pub fn send_frame(sock: &Bound<'_, PyAny>, payload: &Bound<'_, PyAny>) -> PyResult<()> {
    guarded(|| {
        // a payload that cannot be a JSON object (too deep included) is the caller's mistake, as in core
        let object = to_object(payload, ErrorCode::MalformedInput, "payload")?;
        let mut socket = PySocket::new(sock)?;
        let result = trustcore_core::write_frame(&mut socket, &object);
        socket.finish(result)
    })
}

/// Read one frame with `sock.recv`: the length is refused before any body byte is read, a peer
/// that closes or times out mid-frame is FRAME_INVALID (set a timeout on the socket to bound it).
#[pyfunction]
pub fn recv_frame<'py>(py: Python<'py>, sock: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyDict>> {
    guarded(|| {
        let mut socket = PySocket::new(sock)?;
        let result = trustcore_core::read_frame(&mut socket);
        object_to_python(py, &socket.finish(result)?)
    })
}

/// A Python socket as `Read` / `Write`. An OSError becomes an io::Error for core to classify
/// (timeout → timed out mid-frame, …) and is kept as the `__cause__`; anything else (a
/// KeyboardInterrupt, an object that is no socket) is re-raised as it is.
struct PySocket<'py> {
    sock: Bound<'py, PyAny>,
    failure: Option<PyErr>,
}

impl<'py> PySocket<'py> {
    fn new(sock: &Bound<'py, PyAny>) -> PyResult<Self> {
        if !sock.hasattr("recv")? || !sock.hasattr("sendall")? {
            return Err(type_error("sock", "a stream socket", sock));
        }
        Ok(PySocket { sock: sock.clone(), failure: None })
    }

    fn io_error(&mut self, err: PyErr) -> io::Error {
        let py = self.sock.py();
        let kind = if err.is_instance_of::<PyTimeoutError>(py) {
            io::ErrorKind::TimedOut
        } else if err.is_instance_of::<PyBlockingIOError>(py) {
            io::ErrorKind::WouldBlock
        } else {
            io::ErrorKind::Other
        };
        self.failure = Some(err);
        io::Error::new(kind, "socket error")
    }

    fn finish<T>(self, result: trustcore_core::Result<T>) -> PyResult<T> {
        let py = self.sock.py();
        match (result, self.failure) {
            (Ok(value), _) => Ok(value),
            (Err(_), Some(failure)) if !failure.is_instance_of::<PyOSError>(py) => Err(failure),
            (Err(err), failure) => {
                let err = to_py(err);
                err.set_cause(py, failure);
                Err(err)
            }
        }
    }
}

impl Read for PySocket<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let chunk = match self.sock.call_method1("recv", (buf.len(),)) {
            Ok(chunk) => chunk,
            Err(err) => return Err(self.io_error(err)),
        };
        let Ok(bytes) = chunk.cast::<PyBytes>() else {
            return Err(self.io_error(type_error("sock.recv()", "bytes", &chunk)));
        };
        let bytes = bytes.as_bytes();
        let n = bytes.len().min(buf.len());
        buf[..n].copy_from_slice(&bytes[..n]);
        Ok(n)
    }
}

impl Write for PySocket<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.sock.call_method1("sendall", (PyBytes::new(self.sock.py(), buf),)) {
            Ok(_) => Ok(buf.len()),
            Err(err) => Err(self.io_error(err)),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
