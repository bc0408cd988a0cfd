//! The canonical request, the per-request proof of possession (`tc_proof`) and its transports.

use std::ffi::c_char;
use std::sync::OnceLock;

use trustcore_core::{make_proof, proof_from_headers, proof_from_query, Error, ErrorCode, Request, WorkerProof};

use crate::boundary::{clear, free, guard, put, run, Result};
use crate::error::{tc_error, tc_status};
use crate::input::{bytes, handle, pairs, tc_pair, tc_str, text};
use crate::keys::tc_worker_key;
use crate::output::{clear_len, to_buffer, Text, EMPTY};

/// One request as the proof binds it: method, path (with its query string) and the exact body
/// bytes. Borrowed for the duration of a call.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tc_request {
    pub method: *const c_char,
    pub method_len: usize,
    pub path: *const c_char,
    pub path_len: usize,
    pub body: *const u8,
    pub body_len: usize,
}

/// Borrow a `tc_request`'s parts.
///
/// # Safety
/// `request` is NULL or readable, and its parts as documented on `tc_request`.
pub(crate) unsafe fn request<'a>(request: *const tc_request) -> Result<Request<'a>> {
    // SAFETY: the caller's contract
    unsafe {
        let r = handle(request, "request")?;
        Ok(Request::new(
            text(r.method, r.method_len, "request method")?,
            text(r.path, r.path_len, "request path")?,
            bytes(r.body, r.body_len, "request body")?,
        ))
    }
}

/// What a holder attaches to a request: token, signature (hex), timestamp and nonce, all as sent.
/// Immutable: safe to share between threads.
#[allow(non_camel_case_types)]
pub struct tc_proof {
    pub(crate) proof: WorkerProof,
    parts: [Text; 4],
    /// the four headers and the four query parameters, formatted by core on first use
    headers: OnceLock<[(Text, Text); 4]>,
    query: OnceLock<[(Text, Text); 4]>,
}

fn texts(pairs: [(&'static str, String); 4]) -> [(Text, Text); 4] {
    pairs.map(|(n, v)| (Text::new(n.as_bytes()), Text::new(v)))
}

impl From<WorkerProof> for tc_proof {
    fn from(proof: WorkerProof) -> Self {
        let parts = [&proof.token, &proof.signature, &proof.timestamp, &proof.nonce].map(|s| Text::new(s.as_bytes()));
        tc_proof { proof, parts, headers: OnceLock::new(), query: OnceLock::new() }
    }
}

/// The canonical request (the bytes a holder signs: method, path, hex(sha256(body)), timestamp and
/// nonce joined by "\n") into a caller buffer. MALFORMED_INPUT when a part holds CR or LF.
///
/// # Safety
/// `request` is readable with valid parts; `timestamp` and `nonce` are NULL (length 0) or readable;
/// `buf` is NULL (with `buf_len` 0) or writable for `buf_len` bytes; `out_len` is writable; `err` is
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_canonical_request(
    request: *const tc_request,
    timestamp: *const c_char,
    timestamp_len: usize,
    nonce: *const c_char,
    nonce_len: usize,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear_len(out_len);
        let canonical = crate::proof::request(request)?
            .canonical(text(timestamp, timestamp_len, "timestamp")?, text(nonce, nonce_len, "nonce")?)?;
        to_buffer(&canonical, buf, buf_len, out_len)
    })
}

/// Sign `request` with the holder's key at `timestamp` (decimal seconds) with `nonce`: the proof to
/// send with `token`. The caller picks timestamp and nonce, so what is signed is what is sent.
///
/// # Safety
/// `worker` is a live handle; strings are NULL (length 0) or readable; `request` is readable with
/// valid parts; `out` is writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_make_proof(
    worker: *const tc_worker_key,
    token: *const c_char,
    token_len: usize,
    request: *const tc_request,
    timestamp: *const c_char,
    timestamp_len: usize,
    nonce: *const c_char,
    nonce_len: usize,
    out: *mut *mut tc_proof,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear(out);
        let proof = make_proof(
            &handle(worker, "worker")?.key,
            text(token, token_len, "token")?,
            &crate::proof::request(request)?,
            text(timestamp, timestamp_len, "timestamp")?,
            text(nonce, nonce_len, "nonce")?,
        )?;
        put(out, tc_proof::from(proof))
    })
}

/// A proof from its four parts as received by other means (no check here: `tc_authenticate` checks).
///
/// # Safety
/// Strings are NULL (length 0) or readable; `out` is writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_proof_new(
    token: *const c_char,
    token_len: usize,
    signature: *const c_char,
    signature_len: usize,
    timestamp: *const c_char,
    timestamp_len: usize,
    nonce: *const c_char,
    nonce_len: usize,
    out: *mut *mut tc_proof,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear(out);
        let proof = WorkerProof {
            token: text(token, token_len, "token")?.to_owned(),
            signature: text(signature, signature_len, "signature")?.to_owned(),
            timestamp: text(timestamp, timestamp_len, "timestamp")?.to_owned(),
            nonce: text(nonce, nonce_len, "nonce")?.to_owned(),
        };
        put(out, tc_proof::from(proof))
    })
}

/// Read a proof from HTTP headers (`Authorization: Biscuit <token>`, `X-EP-Signature`,
/// `X-EP-Timestamp`, `X-EP-Nonce`): names match case-insensitively, values are trimmed; a missing,
/// blank or repeated header is MALFORMED_INPUT. Other headers are ignored, so pass them all.
///
/// # Safety
/// `headers` is NULL (count 0) or points at `count` pairs of readable strings; `out` is writable;
/// `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_proof_from_headers(
    headers: *const tc_pair,
    count: usize,
    out: *mut *mut tc_proof,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear(out);
        put(out, tc_proof::from(proof_from_headers(pairs(headers, count, "header")?)?))
    })
}

/// Read a proof from query parameters `token`, `sig`, `ts`, `nonce` (names match exactly; the same
/// refusals as the header form).
///
/// # Safety
/// As `tc_proof_from_headers`.
#[no_mangle]
pub unsafe extern "C" fn tc_proof_from_query(
    query: *const tc_pair,
    count: usize,
    out: *mut *mut tc_proof,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear(out);
        put(out, tc_proof::from(proof_from_query(pairs(query, count, "query parameter")?)?))
    })
}

fn part(proof: *const tc_proof, index: usize) -> tc_str {
    // SAFETY: the callers' contract: NULL or a live handle
    guard(EMPTY, || unsafe { proof.as_ref() }.map_or(EMPTY, |p| p.parts[index].as_tc_str()))
}

/// The token (base64). Borrowed: valid until `tc_proof_free`; NUL-terminated. Empty for NULL.
///
/// # Safety
/// `proof` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn tc_proof_token(proof: *const tc_proof) -> tc_str {
    part(proof, 0)
}

/// The signature (hex). Borrowed as `tc_proof_token`.
///
/// # Safety
/// `proof` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn tc_proof_signature(proof: *const tc_proof) -> tc_str {
    part(proof, 1)
}

/// The timestamp. Borrowed as `tc_proof_token`.
///
/// # Safety
/// `proof` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn tc_proof_timestamp(proof: *const tc_proof) -> tc_str {
    part(proof, 2)
}

/// The nonce. Borrowed as `tc_proof_token`.
///
/// # Safety
/// `proof` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn tc_proof_nonce(proof: *const tc_proof) -> tc_str {
    part(proof, 3)
}

/// Header `index` (0 to `TC_PROOF_PARTS` - 1) that carries this proof: its name and value, borrowed
/// until `tc_proof_free`. MALFORMED_INPUT for an index out of range.
///
/// # Safety
/// `proof` is a live handle; `name` and `value` are writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_proof_header(
    proof: *const tc_proof,
    index: usize,
    name: *mut tc_str,
    value: *mut tc_str,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        let proof = handle(proof, "proof")?;
        let headers = proof.headers.get_or_init(|| texts(proof.proof.headers()));
        let (n, v) = headers.get(index).ok_or_else(out_of_range)?;
        write_pair(name, value, n.as_tc_str(), v.as_tc_str())
    })
}

/// Query parameter `index` (0 to `TC_PROOF_PARTS` - 1) that carries this proof (`token`, `sig`,
/// `ts`, `nonce`), borrowed until `tc_proof_free`. MALFORMED_INPUT for an index out of range.
///
/// # Safety
/// As `tc_proof_header`.
#[no_mangle]
pub unsafe extern "C" fn tc_proof_query_param(
    proof: *const tc_proof,
    index: usize,
    name: *mut tc_str,
    value: *mut tc_str,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        let proof = handle(proof, "proof")?;
        let query = proof.query.get_or_init(|| texts(proof.proof.query()));
        let (n, v) = query.get(index).ok_or_else(out_of_range)?;
        write_pair(name, value, n.as_tc_str(), v.as_tc_str())
    })
}

fn out_of_range() -> Error {
    Error::new(ErrorCode::MalformedInput, "index out of range")
}

/// # Safety
/// `name` and `value` are NULL or writable.
unsafe fn write_pair(name: *mut tc_str, value: *mut tc_str, n: tc_str, v: tc_str) -> Result<()> {
    if name.is_null() || value.is_null() {
        return Err(Error::new(ErrorCode::MalformedInput, "name or value is NULL"));
    }
    // SAFETY: checked non-NULL; writable per the caller's contract
    unsafe {
        name.write(n);
        value.write(v);
    }
    Ok(())
}

/// Release a proof. NULL is accepted and ignored.
///
/// # Safety
/// `proof` is NULL or a handle not yet freed; it is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn tc_proof_free(proof: *mut tc_proof) {
    unsafe { free(proof) }
}
