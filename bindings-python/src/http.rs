//! HTTP (core `http`): the headers a holder adds to sign a request (RFC 9421 or the legacy
//! `X-EP-*`), the generic RFC 9421 signature base and verification, the route policy, and the
//! Verifier's decision for one request (in verifier.rs, as a method). Conversions only: every rule,
//! status and header is core's. Signing, verifying and reading a policy run without the GIL.

use std::path::PathBuf;

use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyList, PyString, PyTuple, PyType};
use trustcore_core::http::{self as core_http, Access, Decision, HttpProfile, HttpRequest, SignRequest};
use trustcore_core::{Error, PublicKey};

use crate::convert::{items, text, Bytes, Text};
use crate::delegation::{identity_tuple, IdentityTuple};
use crate::error::{detached, guarded, malformed, to_py, type_error};
use crate::keys::WorkerKey;

/// Header lines as `(name, value)` str pairs, in order: a mapping (or any object with `.items()`,
/// such as Starlette's or Werkzeug's headers, whose items repeat a name given twice), or an
/// iterable of 2-tuples or 2-lists. None is no header.
pub fn header_pairs(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Vec<(String, String)>> {
    let Some(obj) = obj else { return Ok(Vec::new()) };
    if obj.is_none() {
        return Ok(Vec::new());
    }
    if obj.is_instance_of::<PyString>() || obj.is_instance_of::<PyBytes>() {
        return Err(type_error(what, "a mapping or an iterable of (name, value) pairs", obj));
    }
    // a list or tuple of pairs (what servers hand over) skips the `.items()` look-up: on a list
    // it fails by raising AttributeError inside Python, ~1.5 us a request
    let pairs_given = obj.is_exact_instance_of::<PyList>() || obj.is_exact_instance_of::<PyTuple>();
    if !pairs_given && obj.hasattr("items")? {
        return items(obj, what)?.iter().map(|(k, v)| Ok((text(k, what)?, text(v, what)?))).collect();
    }
    let iter = obj.try_iter().map_err(|_| type_error(what, "a mapping or an iterable of (name, value) pairs", obj))?;
    let mut pairs = Vec::new();
    for item in iter {
        let item = item?;
        let pair: Option<(Bound<'_, PyAny>, Bound<'_, PyAny>)> = if let Ok(tuple) = item.cast::<PyTuple>() {
            (tuple.len() == 2).then(|| Ok::<_, PyErr>((tuple.get_item(0)?, tuple.get_item(1)?))).transpose()?
        } else if let Ok(list) = item.cast::<PyList>() {
            (list.len() == 2).then(|| Ok::<_, PyErr>((list.get_item(0)?, list.get_item(1)?))).transpose()?
        } else {
            None
        };
        let (name, value) =
            pair.ok_or_else(|| type_error(&format!("each of {what}"), "a (name, value) pair", &item))?;
        pairs.push((text(&name, what)?, text(&value, what)?));
    }
    Ok(pairs)
}

/// Borrowed views of owned pairs, as core's `HttpRequest` takes them.
pub fn borrowed(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    pairs.iter().map(|(name, value)| (name.as_str(), value.as_str())).collect()
}

/// An int of seconds since the epoch (`created`): a TypeError for another type, MALFORMED_INPUT
/// past i64.
fn whole_seconds(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<i64> {
    if obj.is_instance_of::<PyString>() {
        return Err(type_error(what, "an int", obj));
    }
    obj.extract::<i64>().map_err(|err| {
        if err.is_instance_of::<PyOverflowError>(obj.py()) {
            malformed(format!("{what} is out of range"))
        } else if err.is_instance_of::<PyTypeError>(obj.py()) {
            type_error(what, "an int", obj)
        } else {
            err
        }
    })
}

/// The headers that carry `token` and the holder's proof on a request (core `sign_request`), in
/// core's order: `Authorization`, `Content-Digest`, `Signature-Input`, `Signature` (profile
/// `rfc9421`) or `Authorization` and the three `X-EP-*` (profile `legacy`). `url` is a full URL or
/// an origin-form target with the authority in a `Host` header of `headers`.
#[pyfunction]
#[pyo3(signature = (key, token, method, url, headers, body, profile, created=None, nonce=None))]
#[allow(clippy::too_many_arguments)] // one per field of core's SignRequest
pub fn sign_request(
    py: Python<'_>,
    key: PyRef<'_, WorkerKey>,
    token: Text,
    method: Text,
    url: Text,
    headers: Option<&Bound<'_, PyAny>>,
    body: Bytes<'_>,
    profile: Text,
    created: Option<&Bound<'_, PyAny>>,
    nonce: Option<Text>,
) -> PyResult<Vec<(String, String)>> {
    guarded(|| {
        let pairs = header_pairs(headers, "headers")?;
        let created = created.filter(|c| !c.is_none()).map(|c| whole_seconds(c, "created")).transpose()?;
        let (key, body) = (&key.inner, &*body.0);
        detached(py, || {
            let headers = borrowed(&pairs);
            let request = SignRequest {
                method: &method.0,
                url: &url.0,
                headers: &headers,
                body,
                profile: HttpProfile::from_name(&profile.0)?,
                created,
                nonce: nonce.as_ref().map(|n| n.0.as_str()),
            };
            core_http::sign_request(key, &token.0, &request)
        })
    })
}

/// The RFC 9421 signature base of the signature labelled `label` on a request (core
/// `signature_base`), as bytes.
#[pyfunction]
#[pyo3(signature = (method, target, headers, label, body))]
pub fn signature_base<'py>(
    py: Python<'py>,
    method: Text,
    target: Text,
    headers: &Bound<'_, PyAny>,
    label: Text,
    body: Bytes<'_>,
) -> PyResult<Bound<'py, PyBytes>> {
    guarded(|| {
        let pairs = header_pairs(Some(headers), "headers")?;
        let body = &*body.0;
        let base = detached(py, || {
            let headers = borrowed(&pairs);
            core_http::signature_base(&HttpRequest::new(&method.0, &target.0, &headers, body), &label.0)
        })?;
        Ok(PyBytes::new(py, &base))
    })
}

/// Verify the signature labelled `label` on a request with an Ed25519 public key, strictly, and
/// nothing else (core `verify_message_signature`): POP_FAILED when it does not verify.
#[pyfunction]
#[pyo3(signature = (method, target, headers, label, public_hex, body))]
pub fn verify_message_signature(
    py: Python<'_>,
    method: Text,
    target: Text,
    headers: &Bound<'_, PyAny>,
    label: Text,
    public_hex: Text,
    body: Bytes<'_>,
) -> PyResult<()> {
    guarded(|| {
        let pairs = header_pairs(Some(headers), "headers")?;
        let body = &*body.0;
        detached(py, || {
            let key = PublicKey::from_hex(&public_hex.0)?;
            let headers = borrowed(&pairs);
            core_http::verify_message_signature(&HttpRequest::new(&method.0, &target.0, &headers, body), &label.0, &key)
        })
    })
}

/// The RFC 9530 `Content-Digest` value of a body (its SHA-256).
#[pyfunction]
pub fn content_digest(py: Python<'_>, body: Bytes<'_>) -> PyResult<String> {
    guarded(|| {
        let body = &*body.0;
        detached(py, || Ok(core_http::content_digest(body)))
    })
}

/// The RFC 7638 JWK thumbprint of an Ed25519 public key (hex): the `keyid` of a trustcore signature.
#[pyfunction]
pub fn jwk_thumbprint(public_hex: Text) -> PyResult<String> {
    guarded(|| PublicKey::from_hex(&public_hex.0).map(|key| core_http::jwk_thumbprint(&key)).map_err(to_py))
}

/// A route policy (core `HttpPolicy`), checked whole when it is read.
#[pyclass(module = "trustcore.http", frozen)]
pub struct HttpPolicy {
    pub(crate) inner: core_http::HttpPolicy,
}

#[pymethods]
impl HttpPolicy {
    /// Read a policy document, JSON as `str` or `bytes`; anything core refuses is MALFORMED_INPUT.
    #[classmethod]
    fn from_json(_cls: &Bound<'_, PyType>, py: Python<'_>, text: &Bound<'_, PyAny>) -> PyResult<Self> {
        guarded(|| {
            let bytes: Vec<u8> = if text.is_instance_of::<PyString>() {
                crate::convert::text(text, "policy")?.into_bytes()
            } else if let Ok(Bytes(bytes)) = text.extract::<Bytes<'_>>() {
                bytes.into_owned()
            } else {
                return Err(type_error("policy", "a str or bytes (JSON text)", text));
            };
            let inner = detached(py, || core_http::HttpPolicy::from_json(&bytes))?;
            Ok(HttpPolicy { inner })
        })
    }

    /// Read a policy file (a `str` or `os.PathLike` path); a file that cannot be read is
    /// MALFORMED_INPUT, as core says.
    #[classmethod]
    fn from_file(_cls: &Bound<'_, PyType>, py: Python<'_>, path: &Bound<'_, PyAny>) -> PyResult<Self> {
        guarded(|| {
            if path.is_instance_of::<PyBytes>() {
                return Err(type_error("path", "a str or os.PathLike", path));
            }
            let path: PathBuf = path.extract().map_err(|_| type_error("path", "a str or os.PathLike", path))?;
            let inner = detached(py, || core_http::HttpPolicy::from_file(&path))?;
            Ok(HttpPolicy { inner })
        })
    }

    /// The largest body a request may carry (bytes).
    #[getter]
    fn max_body_bytes(&self) -> u64 {
        self.inner.max_body_bytes()
    }

    /// The refusal (413) of a body of `length` bytes (core `body_length_refusal`), as the package's
    /// `trustcore.http.Decision`, or None when the policy allows that length: a server asks it with
    /// the announced Content-Length before reading the body.
    fn body_length_refusal<'py>(
        &self,
        py: Python<'py>,
        length: &Bound<'py, PyAny>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        guarded(|| {
            if length.is_instance_of::<PyBool>() {
                return Err(type_error("length", "an int", length));
            }
            let length: u64 = match length.extract::<u64>() {
                Ok(length) => length,
                // a length past u64 is over any cap; a negative one is no length at all
                Err(err) if err.is_instance_of::<PyOverflowError>(py) && length.gt(0)? => u64::MAX,
                Err(err) if err.is_instance_of::<PyOverflowError>(py) => {
                    return Err(malformed("length must not be negative"))
                }
                Err(_) => return Err(type_error("length", "an int", length)),
            };
            let Some(refusal) = self.inner.body_length_refusal(length) else { return Ok(None) };
            let make = py.import(intern!(py, "trustcore.http"))?.getattr(intern!(py, "_decision"))?;
            make.call1((decision_tuple(refusal),)).map(Some)
        })
    }

    /// The routes in document order: `(method, path template, allow policy or None when public)`.
    #[getter]
    fn routes(&self) -> Vec<(String, String, Option<String>)> {
        self.inner
            .routes()
            .iter()
            .map(|route| {
                let allow = match &route.access {
                    Access::Public => None,
                    Access::Allow(allow) => Some(allow.clone()),
                };
                (route.method.clone(), route.path.clone(), allow)
            })
            .collect()
    }

    fn __len__(&self) -> usize {
        self.inner.routes().len()
    }

    fn __repr__(&self) -> String {
        format!("HttpPolicy(routes={}, max_body_bytes={})", self.inner.routes().len(), self.inner.max_body_bytes())
    }
}

/// A decision as the package's `Decision` dataclass takes it: allowed, status, code, message,
/// headers, body, identity `(holder_id, holder_public_hex, revocation_id, chain)`, facts, route,
/// profile.
pub type DecisionTuple = (
    bool,
    u16,
    Option<&'static str>,
    String,
    Vec<(String, String)>,
    String,
    Option<IdentityTuple>,
    Vec<(String, String)>,
    Option<String>,
    Option<&'static str>,
);

pub fn decision_tuple(decision: Decision) -> DecisionTuple {
    let Decision { allowed, status, code, message, headers, body, identity, facts, route, profile } = decision;
    (
        allowed,
        status,
        code.map(|code| code.name()),
        message,
        headers,
        body,
        identity.map(identity_tuple),
        facts,
        route,
        profile.map(HttpProfile::name),
    )
}

/// The profiles a Verifier accepts, by name (core's names; another is MALFORMED_INPUT).
pub fn profiles(names: Vec<String>) -> PyResult<Vec<HttpProfile>> {
    names.iter().map(|name| HttpProfile::from_name(name)).collect::<Result<_, Error>>().map_err(to_py)
}
