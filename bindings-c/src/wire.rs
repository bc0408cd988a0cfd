//! Wire frames (the signer's protocol): a 4-byte big-endian length, then a JCS JSON object body.

use std::ffi::c_char;

use trustcore_core::{decode_frame, decode_frame_body, encode_frame, frame_body_length, Error, ErrorCode};

use crate::boundary::{clear, put, run, Result};
use crate::error::{tc_error, tc_status};
use crate::input::{bytes, json_object, text};
use crate::output::tc_bytes;

/// The largest frame body, in bytes (1 MiB).
pub const TC_MAX_FRAME: usize = 1048576;
const _: () = assert!(TC_MAX_FRAME == trustcore_core::MAX_FRAME);

fn json_text(object: &serde_json::Map<String, serde_json::Value>) -> Result<tc_bytes> {
    serde_json::to_vec(object)
        .map(tc_bytes::new)
        .map_err(|_| Error::new(ErrorCode::Internal, "frame object cannot be written as JSON"))
}

/// Encode one frame from `object_json` (UTF-8 JSON text of an object): header + JCS body, as an owned
/// buffer. MALFORMED_INPUT when the text is not a JSON object or holds a key twice (at any depth);
/// FRAME_INVALID when the body would exceed `TC_MAX_FRAME`.
///
/// # Safety
/// `object_json` is NULL (length 0) or readable; `out` is writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_frame_encode(
    object_json: *const c_char,
    object_json_len: usize,
    out: *mut *mut tc_bytes,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear(out);
        let object = json_object(text(object_json, object_json_len, "object")?, ErrorCode::MalformedInput)?;
        put(out, tc_bytes::new(encode_frame(&object)?))
    })
}

/// Decode exactly one frame (trailing bytes are refused) into its object as JSON text (an owned
/// buffer). FRAME_INVALID for an oversize length, a cut frame, or a body that is not a JSON object or
/// holds a key twice (at any depth).
///
/// # Safety
/// `frame` is NULL (length 0) or readable for `frame_len` bytes; `out` is writable; `err` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn tc_frame_decode(
    frame: *const u8,
    frame_len: usize,
    out: *mut *mut tc_bytes,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear(out);
        put(out, json_text(&decode_frame(bytes(frame, frame_len, "frame")?)?)?)
    })
}

/// For callers that read their own sockets: the body length a 4-byte header announces, refused
/// (FRAME_INVALID) over `TC_MAX_FRAME` before any body is read. Then read that many bytes and call
/// `tc_frame_decode_body`.
///
/// # Safety
/// `header` is NULL (length 0) or readable for `header_len` bytes; `length_out` is writable; `err`
/// is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_frame_body_length(
    header: *const u8,
    header_len: usize,
    length_out: *mut usize,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        let length = frame_body_length(bytes(header, header_len, "header")?)?;
        if length_out.is_null() {
            return Err(crate::input::malformed_error("length_out is NULL"));
        }
        length_out.write(length);
        Ok(())
    })
}

/// Parse a frame body (it must be a JSON object without a duplicated key, else FRAME_INVALID) into JSON
/// text (an owned buffer).
///
/// # Safety
/// `body` is NULL (length 0) or readable for `body_len` bytes; `out` is writable; `err` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn tc_frame_decode_body(
    body: *const u8,
    body_len: usize,
    out: *mut *mut tc_bytes,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear(out);
        put(out, json_text(&decode_frame_body(bytes(body, body_len, "body")?)?)?)
    })
}
