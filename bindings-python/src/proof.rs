//! The canonical request, the holder's proof and its two transports, and the small helpers.
//! Flat functions: the package's `RequestParts` / `WorkerProof` dataclasses call them.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use trustcore_core::{Request, WorkerProof};

use crate::convert::{string_pairs, text, Bytes, Text};
use crate::error::{detached, guarded, type_error};
use crate::keys::WorkerKey;

type ProofTuple = (String, String, String, String);

fn proof_tuple(proof: WorkerProof) -> ProofTuple {
    (proof.token, proof.signature, proof.timestamp, proof.nonce)
}

/// `METHOD \n PATH \n hex(sha256(BODY)) \n TIMESTAMP \n NONCE` as UTF-8 bytes; CR or LF in a part
/// is MALFORMED_INPUT.
#[pyfunction]
pub fn canonical_request<'py>(
    py: Python<'py>,
    method: Text,
    path: Text,
    body: Bytes<'_>,
    timestamp: Text,
    nonce: Text,
) -> PyResult<Bound<'py, PyBytes>> {
    guarded(|| {
        let body = &*body.0;
        let bytes = detached(py, || Request::new(&method.0, &path.0, body).canonical(&timestamp.0, &nonce.0))?;
        Ok(PyBytes::new(py, &bytes))
    })
}

/// Sign the canonical request with the holder's key: `(token, signature_hex, timestamp, nonce)`.
#[pyfunction]
#[allow(clippy::too_many_arguments)] // one per field of the request and the proof
pub fn make_proof(
    py: Python<'_>,
    worker: PyRef<'_, WorkerKey>,
    token: Text,
    method: Text,
    path: Text,
    body: Bytes<'_>,
    timestamp: Text,
    nonce: Text,
) -> PyResult<ProofTuple> {
    guarded(|| {
        let (worker, body) = (&worker.inner, &*body.0);
        let proof = detached(py, || {
            let request = Request::new(&method.0, &path.0, body);
            trustcore_core::make_proof(worker, &token.0, &request, &timestamp.0, &nonce.0)
        })?;
        Ok(proof_tuple(proof))
    })
}

fn proof(token: Text, signature: Text, timestamp: Text, nonce: Text) -> WorkerProof {
    WorkerProof { token: token.0, signature: signature.0, timestamp: timestamp.0, nonce: nonce.0 }
}

/// The four HTTP headers carrying a proof, in trust-core 0.1's order.
#[pyfunction]
pub fn proof_headers(token: Text, signature: Text, timestamp: Text, nonce: Text) -> Vec<(&'static str, String)> {
    proof(token, signature, timestamp, nonce).headers().into()
}

/// The same proof as query parameters (`token`, `sig`, `ts`, `nonce`).
#[pyfunction]
pub fn proof_query(token: Text, signature: Text, timestamp: Text, nonce: Text) -> Vec<(&'static str, String)> {
    proof(token, signature, timestamp, nonce).query().into()
}

/// Read a proof from headers (any mapping, or an object with `.items()`; names in any case).
#[pyfunction]
pub fn proof_from_headers(headers: &Bound<'_, PyAny>) -> PyResult<ProofTuple> {
    guarded(|| {
        let pairs = string_pairs(headers, "headers")?;
        trustcore_core::proof_from_headers(pairs).map(proof_tuple).map_err(crate::error::to_py)
    })
}

/// Read a proof from query parameters `token`, `sig`, `ts`, `nonce`.
#[pyfunction]
pub fn proof_from_query(query: &Bound<'_, PyAny>) -> PyResult<ProofTuple> {
    guarded(|| {
        let pairs = string_pairs(query, "query")?;
        trustcore_core::proof_from_query(pairs).map(proof_tuple).map_err(crate::error::to_py)
    })
}

/// Whether `value` is exactly 64 hex digits (a 32-byte key).
#[pyfunction]
pub fn is_hex_key(value: &Bound<'_, PyAny>) -> PyResult<bool> {
    let string = value.cast::<PyString>().map_err(|_| type_error("value", "str", value))?;
    // a str that is not even UTF-8 is certainly not a hex key
    Ok(string.to_str().map(trustcore_core::is_hex_key).unwrap_or(false))
}

/// Constant-time equality of two str (compared as UTF-8) or two bytes, like `hmac.compare_digest`.
#[pyfunction]
pub fn constant_time_equal(left: &Bound<'_, PyAny>, right: &Bound<'_, PyAny>) -> PyResult<bool> {
    guarded(|| {
        if left.is_instance_of::<PyString>() && right.is_instance_of::<PyString>() {
            let (l, r) = (text(left, "left")?, text(right, "right")?);
            return Ok(trustcore_core::constant_time_equal(l.as_bytes(), r.as_bytes()));
        }
        match (left.extract::<Bytes<'_>>(), right.extract::<Bytes<'_>>()) {
            (Ok(l), Ok(r)) => Ok(trustcore_core::constant_time_equal(&l.0, &r.0)),
            _ => Err(type_error(
                "left and right",
                "both str or both bytes",
                if left.is_instance_of::<PyString>() { right } else { left },
            )),
        }
    })
}
