//! The stateful verifier (core `Verifier`): issuer key(s), skew, limits, a replay store, a
//! revocation store and a cache of verified tokens, so a holder's repeated requests pay one
//! signature check instead of two. Core builds the stores its `VerifierConfig` names: in memory,
//! or on Redis (shared by verifiers on several hosts). With Redis every request may wait on the
//! network, so authenticate, revoke and construction run without the GIL. Flat methods:
//! `trustcore.Verifier` (Python) unpacks its value objects (`RedisOptions` included). Core bounds
//! the token cache (entries and bytes) and a batch (requests and body bytes); a batch is measured
//! here, with core's `check_batch_size`, before anything is copied out of its Python objects.

use std::borrow::Cow;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyList, PyString, PyTuple};
use trustcore_core::{Error, ErrorCode, RedisConfig, Request, VerifiedToken, VerifierConfig, WorkerProof};

use crate::convert::{
    issuer_keys, not_utf8, seconds_value, string_pairs, strings, text, timeout, Bytes, Count, Seconds, Text,
};
use crate::delegation::{authenticated, Authenticated};
use crate::error::{detached, guarded, panic_error, to_py, type_error};
use crate::http::{borrowed, decision_tuple, header_pairs, profiles as http_profiles, DecisionTuple, HttpPolicy};
use crate::json::to_object;
use crate::limits::Limits;
use crate::revocation::read_ids;
use crate::token::Token;

#[pyclass(module = "trustcore._trustcore", frozen)]
pub struct NativeVerifier {
    inner: trustcore_core::Verifier,
}

/// A count (`Count`), with a TypeError that names the argument.
fn count(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<usize> {
    Ok(usize::try_from(count_u64(obj, what)?).unwrap_or(usize::MAX))
}

/// `count` for a u64 setting (bytes).
fn count_u64(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<u64> {
    let Count(n) = obj.extract::<Count>().map_err(|e| named(obj, e, what, "an int"))?;
    Ok(n)
}

/// A timeout in seconds (`Seconds`, then positive and finite), with a TypeError that names it.
fn seconds(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<std::time::Duration> {
    let value = obj.extract::<Seconds>().map_err(|e| named(obj, e, what, "a number of seconds"))?;
    timeout(value, what)
}

fn named(obj: &Bound<'_, PyAny>, err: PyErr, what: &str, expected: &str) -> PyErr {
    if err.is_instance_of::<PyTypeError>(obj.py()) {
        type_error(what, expected, obj)
    } else {
        err
    }
}

/// The Redis settings, or None for the in-memory stores. A setting left as None keeps core's
/// default (`RedisConfig::new`: prefix `trustcore:`, 1 s to connect, 500 ms a command, 1 s for all
/// of a request's Redis work, 8 idle connections, 1 s of failing fast after a failure); core checks the URL and the bounds of the
/// timeouts and of the retry interval. `cluster` (seed node URLs) asks for a Redis Cluster; core
/// checks it too (and that the URL is then empty).
#[allow(clippy::too_many_arguments)] // keyword settings, one per field of the config
fn redis_config(
    url: Option<&Bound<'_, PyAny>>,
    cluster: Option<&Bound<'_, PyAny>>,
    key_prefix: Option<&Bound<'_, PyAny>>,
    connect_timeout: Option<&Bound<'_, PyAny>>,
    command_timeout: Option<&Bound<'_, PyAny>>,
    request_timeout: Option<&Bound<'_, PyAny>>,
    max_idle: Option<&Bound<'_, PyAny>>,
    retry_interval: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<RedisConfig>> {
    if url.is_none() && cluster.is_none() {
        let settings = [key_prefix, connect_timeout, command_timeout, request_timeout, max_idle, retry_interval];
        if settings.iter().any(Option::is_some) {
            return Err(to_py(Error::malformed("redis settings are set without redis_url")));
        }
        return Ok(None);
    }
    let mut config = RedisConfig::new(match url {
        Some(url) => text(url, "redis url")?,
        None => String::new(),
    });
    if let Some(seeds) = cluster {
        config.cluster = strings(seeds, "redis cluster")?;
    }
    if let Some(prefix) = key_prefix {
        config.key_prefix = text(prefix, "redis key_prefix")?;
    }
    if let Some(value) = connect_timeout {
        config.connect_timeout = seconds(value, "redis connect_timeout")?;
    }
    if let Some(value) = command_timeout {
        config.command_timeout = seconds(value, "redis command_timeout")?;
    }
    if let Some(value) = request_timeout {
        config.request_timeout = seconds(value, "redis request_timeout")?;
    }
    if let Some(value) = max_idle {
        config.max_idle = count(value, "redis max_idle")?;
    }
    if let Some(value) = retry_interval {
        config.retry_interval = seconds(value, "redis retry_interval")?;
    }
    Ok(Some(config))
}

/// One request of a batch, converted: the proof's strings copied (core's `WorkerProof` owns them),
/// the method, path and a `bytes` body borrowed from the request's tuple (a `bytearray` is copied,
/// as another thread could change it while the GIL is released).
struct BatchItem<'a> {
    proof: WorkerProof,
    method: &'a str,
    path: &'a str,
    body: Cow<'a, [u8]>,
}

/// The fields of a batch's request tuple, in order (the last, the body, is bytes), as messages
/// name them.
const BATCH_FIELDS: [&str; 7] = [
    "proof.token",
    "proof.signature",
    "proof.timestamp",
    "proof.nonce",
    "request.method",
    "request.path",
    "request.body",
];

/// A `str` field of request `index`: a TypeError (raised, for the whole batch) when it is not a
/// str; a str Rust cannot hold (a lone surrogate) is that request's MALFORMED_INPUT, as it would
/// be for `authenticate`.
fn batch_str<'a>(field: Borrowed<'a, '_, PyAny>, index: usize, name: &str) -> PyResult<Result<&'a str, Error>> {
    if !field.is_instance_of::<PyString>() {
        return Err(type_error(&format!("requests[{index}] {name}"), "str", &field));
    }
    Ok(<&str>::extract(field).map_err(|_| not_utf8(name)))
}

/// The length of request `index`'s body (the tuple's last field), read without copying it: a
/// TypeError when it is neither bytes nor bytearray.
fn batch_body_length(tuple: &Bound<'_, PyTuple>, index: usize) -> PyResult<u64> {
    let body = tuple.get_borrowed_item(BATCH_FIELDS.len() - 1)?;
    if let Ok(bytes) = body.cast::<PyBytes>() {
        return Ok(bytes.as_bytes().len() as u64);
    }
    if let Ok(array) = body.cast::<PyByteArray>() {
        return Ok(array.len() as u64);
    }
    Err(type_error(&format!("requests[{index}] {}", BATCH_FIELDS[6]), "bytes", &body))
}

/// Request `index` of a batch, a tuple of `BATCH_FIELDS`. The outer error (a TypeError) fails the
/// call before anything runs; the inner one is this request's outcome.
fn batch_item<'a>(tuple: &'a Bound<'_, PyTuple>, index: usize) -> PyResult<Result<BatchItem<'a>, Error>> {
    let mut texts: [&str; 6] = [""; 6];
    let mut refused = None;
    for (n, slot) in texts.iter_mut().enumerate() {
        match batch_str(tuple.get_borrowed_item(n)?, index, BATCH_FIELDS[n])? {
            Ok(value) => *slot = value,
            Err(err) => refused = refused.or(Some(err)),
        }
    }
    let body = tuple.get_borrowed_item(6)?;
    let Ok(Bytes(body)) = body.extract::<Bytes<'a>>() else {
        return Err(type_error(&format!("requests[{index}] {}", BATCH_FIELDS[6]), "bytes", &body));
    };
    if let Some(err) = refused {
        return Ok(Err(err));
    }
    let [token, signature, timestamp, nonce, method, path] = texts;
    let proof = WorkerProof {
        token: token.to_owned(),
        signature: signature.to_owned(),
        timestamp: timestamp.to_owned(),
        nonce: nonce.to_owned(),
    };
    Ok(Ok(BatchItem { proof, method, path, body }))
}

/// The Python value of one request's outcome: `(token, holder_id, holder_public_hex,
/// revocation_id, chain)`, or the TrustError instance (not raised).
fn batch_outcome(py: Python<'_>, outcome: Result<Arc<VerifiedToken>, Error>) -> PyResult<Py<PyAny>> {
    match outcome {
        Ok(verified) => {
            let identity = verified.identity.clone();
            let fields = authenticated(Token::shared(verified), identity);
            Ok(fields.into_pyobject(py)?.into_any().unbind())
        }
        Err(err) => Ok(to_py(err).into_value(py).into_any()),
    }
}

#[pymethods]
impl NativeVerifier {
    /// Settings left as None keep core's defaults (`VerifierConfig::new`); `redis_url` None keeps
    /// the stores in memory. Core builds the stores (`Verifier::new`); with Redis it writes
    /// `revoked_ids` to the shared set now, off the GIL (STORE_UNAVAILABLE if Redis cannot take them).
    #[new]
    #[pyo3(signature = (
        issuer_public_hex, *, max_skew_seconds=None, limits=None, replay_capacity=None,
        replay_capacity_per_holder=None, revoked_ids=None, token_cache_capacity=None, token_cache_max_bytes=None,
        max_batch_requests=None, max_batch_body_bytes=None,
        redis_url=None, redis_key_prefix=None, redis_connect_timeout=None, redis_command_timeout=None,
        redis_request_timeout=None, redis_max_idle=None, redis_retry_interval=None, authorities=None, profiles=None,
        redis_cluster=None,
    ))]
    #[allow(clippy::too_many_arguments)] // keyword settings, one per field of the config
    fn new(
        py: Python<'_>,
        issuer_public_hex: &Bound<'_, PyAny>,
        max_skew_seconds: Option<Seconds>,
        limits: Option<PyRef<'_, Limits>>,
        replay_capacity: Option<&Bound<'_, PyAny>>,
        replay_capacity_per_holder: Option<&Bound<'_, PyAny>>,
        revoked_ids: Option<&Bound<'_, PyAny>>,
        token_cache_capacity: Option<&Bound<'_, PyAny>>,
        token_cache_max_bytes: Option<&Bound<'_, PyAny>>,
        max_batch_requests: Option<&Bound<'_, PyAny>>,
        max_batch_body_bytes: Option<&Bound<'_, PyAny>>,
        redis_url: Option<&Bound<'_, PyAny>>,
        redis_key_prefix: Option<&Bound<'_, PyAny>>,
        redis_connect_timeout: Option<&Bound<'_, PyAny>>,
        redis_command_timeout: Option<&Bound<'_, PyAny>>,
        redis_request_timeout: Option<&Bound<'_, PyAny>>,
        redis_max_idle: Option<&Bound<'_, PyAny>>,
        redis_retry_interval: Option<&Bound<'_, PyAny>>,
        authorities: Option<&Bound<'_, PyAny>>,
        profiles: Option<&Bound<'_, PyAny>>,
        redis_cluster: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        guarded(|| {
            let mut config = VerifierConfig::new(issuer_keys(issuer_public_hex)?);
            if let Some(Seconds(skew)) = max_skew_seconds {
                config.max_skew_seconds = skew;
            }
            if let Some(limits) = limits {
                config.limits = limits.inner;
            }
            if let Some(capacity) = replay_capacity {
                config.replay_capacity = count(capacity, "replay_capacity")?;
            }
            if let Some(share) = replay_capacity_per_holder {
                config.replay_capacity_per_holder = Some(count(share, "replay_capacity_per_holder")?);
            }
            // read once, every entry a str; core puts each in its one spelling (or refuses it)
            if let Some(ids) = revoked_ids {
                config.revoked_ids = read_ids(ids)?;
            }
            // core's cache grows on demand up to this bound, so a huge number costs nothing up front
            if let Some(capacity) = token_cache_capacity {
                config.token_cache_capacity = count(capacity, "token_cache_capacity")?;
            }
            if let Some(bytes) = token_cache_max_bytes {
                config.token_cache_max_bytes = count_u64(bytes, "token_cache_max_bytes")?;
            }
            if let Some(n) = max_batch_requests {
                config.max_batch_requests = count(n, "max_batch_requests")?;
            }
            if let Some(bytes) = max_batch_body_bytes {
                config.max_batch_body_bytes = count_u64(bytes, "max_batch_body_bytes")?;
            }
            // core checks each authority and lower-cases it, and refuses an empty list of profiles
            if let Some(names) = authorities {
                config.authorities = strings(names, "authorities")?;
            }
            if let Some(names) = profiles {
                config.profiles = http_profiles(strings(names, "profiles")?)?;
            }
            config.redis = redis_config(
                redis_url,
                redis_cluster,
                redis_key_prefix,
                redis_connect_timeout,
                redis_command_timeout,
                redis_request_timeout,
                redis_max_idle,
                redis_retry_interval,
            )?;
            let inner = detached(py, move || trustcore_core::Verifier::new(config))?;
            Ok(NativeVerifier { inner })
        })
    }

    /// `(token, holder_id, holder_public_hex, revocation_id, chain)`; `now` None is the system clock.
    #[pyo3(signature = (token, signature, timestamp, nonce, method, path, body, now=None))]
    #[allow(clippy::too_many_arguments)] // one per field of the proof and the request
    fn authenticate(
        &self,
        py: Python<'_>,
        token: Text,
        signature: Text,
        timestamp: Text,
        nonce: Text,
        method: Text,
        path: Text,
        body: Bytes<'_>,
        now: Option<Seconds>,
    ) -> PyResult<Authenticated> {
        guarded(|| {
            let proof = WorkerProof { token: token.0, signature: signature.0, timestamp: timestamp.0, nonce: nonce.0 };
            let (method, path, body) = (method.0, path.0, &*body.0);
            let verifier = &self.inner;
            let verified =
                detached(py, || verifier.authenticate(&proof, &Request::new(&method, &path, body), now.map(|s| s.0)))?;
            let identity = verified.identity.clone();
            Ok(authenticated(Token::shared(verified), identity))
        })
    }

    /// Many requests at once (core `Verifier::authenticate_batch`: one Ed25519 batch verification
    /// for the proofs that reach that step): one result per request, in order, either
    /// `(token, holder_id, holder_public_hex, revocation_id, chain)` or the request's TrustError,
    /// returned rather than raised. `requests` is a list of `(token, signature, timestamp, nonce,
    /// method, path, body)` tuples. A batch over the verifier's bounds (requests, body bytes) raises
    /// LIMIT_EXCEEDED, measured before any field or body is copied. A value of the wrong type
    /// anywhere is a TypeError before anything runs; a value of the right type that Rust cannot
    /// hold (a lone surrogate, `now` out of range) is MALFORMED_INPUT for the requests it concerns,
    /// as `authenticate` would raise. The whole batch runs in core without the GIL; `bytes` bodies
    /// are borrowed, not copied (a `bytearray` is copied once).
    #[pyo3(signature = (requests, now=None))]
    fn authenticate_batch(
        &self,
        py: Python<'_>,
        requests: &Bound<'_, PyAny>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<Py<PyAny>>> {
        guarded(|| {
            let list = requests.cast::<PyList>().map_err(|_| type_error("requests", "a list", requests))?;
            let verifier = &self.inner;
            // too many requests: refused before a single one is looked at
            verifier.check_batch_size(list.len(), std::iter::empty()).map_err(to_py)?;
            // strong references to the tuples, which keep the borrowed strs and bodies alive (and
            // unchanged: tuples, strs and bytes are immutable) while the GIL is released
            let mut tuples = Vec::with_capacity(list.len());
            let mut body_lengths = Vec::with_capacity(list.len());
            for (index, item) in list.iter().enumerate() {
                match item.cast::<PyTuple>() {
                    Ok(tuple) if tuple.len() == BATCH_FIELDS.len() => {
                        body_lengths.push(batch_body_length(tuple, index)?);
                        tuples.push(tuple.clone());
                    }
                    _ => return Err(type_error(&format!("requests[{index}]"), "a tuple of 7 fields", &item)),
                }
            }
            // the bodies' total, measured in place: nothing has been copied yet
            verifier.check_batch_size(tuples.len(), body_lengths).map_err(to_py)?;
            let items = tuples
                .iter()
                .enumerate()
                .map(|(index, tuple)| batch_item(tuple, index))
                .collect::<PyResult<Vec<_>>>()?;
            let now = match now {
                Some(now) => seconds_value(now, "now")?.map(Some),
                None => Ok(None),
            };
            let outcomes: Vec<Result<Arc<VerifiedToken>, Error>> = match now {
                // as `authenticate` with this `now`: refused before anything runs
                Err(err) => items.iter().map(|_| Err(err.clone())).collect(),
                Ok(now) => {
                    let batch: Vec<Result<(&WorkerProof, Request<'_>), Error>> = items
                        .iter()
                        .map(|item| match item {
                            Ok(item) => Ok((&item.proof, Request::new(item.method, item.path, &item.body))),
                            Err(err) => Err(err.clone()),
                        })
                        .collect();
                    let verified = py.detach(|| {
                        catch_unwind(AssertUnwindSafe(|| verifier.authenticate_batch_converted(&batch, now)))
                            .unwrap_or_else(|_| Ok(vec![Err(panic_error()); batch.len()]))
                    });
                    // a batch refused whole (core measures it again) fails the call
                    verified.map_err(to_py)?
                }
            };
            outcomes.into_iter().map(|outcome| batch_outcome(py, outcome)).collect()
        })
    }

    /// One HTTP request decided under `policy` (core `Verifier::decide`): body cap, request shape,
    /// route, credentials in either accepted profile (cache, revocation, freshness, proof, replay),
    /// the route's allow policy over core's request facts and the application's `facts`. Every
    /// refusal is a decision (its status, headers and body are core's); only a bad application
    /// fact raises (MALFORMED_INPUT). `headers` are the request's lines in order (a mapping, or an
    /// iterable of pairs); `now` None is the system clock. Runs without the GIL.
    #[pyo3(signature = (method, target, headers, body, policy, facts=None, now=None))]
    #[allow(clippy::too_many_arguments)] // the request's parts, the policy, the app's facts, the clock
    fn decide(
        &self,
        py: Python<'_>,
        method: Text,
        target: Text,
        headers: &Bound<'_, PyAny>,
        body: Bytes<'_>,
        policy: PyRef<'_, HttpPolicy>,
        facts: Option<&Bound<'_, PyAny>>,
        now: Option<Seconds>,
    ) -> PyResult<DecisionTuple> {
        guarded(|| {
            let pairs = header_pairs(Some(headers), "headers")?;
            let app_facts = header_pairs(facts, "facts")?;
            let (verifier, policy, body) = (&self.inner, &policy.inner, &*body.0);
            let decision = detached(py, || {
                let headers = borrowed(&pairs);
                let request = trustcore_core::http::HttpRequest::new(&method.0, &target.0, &headers, body);
                verifier.decide(&request, policy, &borrowed(&app_facts), now.map(|s| s.0))
            })?;
            Ok(decision_tuple(decision))
        })
    }

    /// Core's `check_batch_size` for a batch of `count` requests, bodies not counted:
    /// LIMIT_EXCEEDED when that is over `max_batch_requests`. `trustcore.Verifier` calls it before
    /// it looks at the requests; `authenticate_batch` measures the bodies too.
    fn check_batch_size(&self, count: Count) -> PyResult<()> {
        guarded(|| {
            let count = usize::try_from(count.0).unwrap_or(usize::MAX);
            self.inner.check_batch_size(count, std::iter::empty()).map_err(to_py)
        })
    }

    #[pyo3(signature = (token, request_facts, allow, now=None))]
    fn check_policy(
        &self,
        py: Python<'_>,
        token: PyRef<'_, Token>,
        request_facts: &Bound<'_, PyAny>,
        allow: Text,
        now: Option<Seconds>,
    ) -> PyResult<()> {
        guarded(|| {
            let facts = string_pairs(request_facts, "request_facts")?;
            let (verifier, token) = (&self.inner, token.core());
            detached(py, || {
                let facts = facts.iter().map(|(k, v)| (k.as_str(), v.as_str()));
                verifier.check_policy(token, facts, &allow.0, now.map(|s| s.0))
            })
        })
    }

    #[pyo3(signature = (token, datalog, now=None, extern_functions=None))]
    fn authorize(
        &self,
        py: Python<'_>,
        token: PyRef<'_, Token>,
        datalog: Text,
        now: Option<Seconds>,
        extern_functions: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<usize> {
        guarded(|| {
            let externs = match extern_functions {
                Some(names) => strings(names, "extern_functions")?,
                None => Vec::new(),
            };
            let (verifier, token) = (&self.inner, token.core());
            detached(py, || verifier.authorize(token, &datalog.0, now.map(|s| s.0), &externs))
        })
    }

    /// Core `Verifier::verify_job`: the signature, the expiry, and a single-use job's nonce used up
    /// (with Redis, a round trip off the GIL).
    #[pyo3(signature = (job, *, worker_id, now=None))]
    fn verify_job(
        &self,
        py: Python<'_>,
        job: &Bound<'_, PyAny>,
        worker_id: Text,
        now: Option<Seconds>,
    ) -> PyResult<()> {
        guarded(|| {
            let job = to_object(job, ErrorCode::JobInvalid, "job")?;
            let verifier = &self.inner;
            detached(py, || verifier.verify_job(&job, &worker_id.0, now.map(|s| s.0)))
        })
    }

    /// Trust these issuer key(s) from now on (core `Verifier::set_issuer`: key rotation; the
    /// token cache is emptied).
    fn set_issuer(&self, issuer_public_hex: &Bound<'_, PyAny>) -> PyResult<()> {
        guarded(|| {
            self.inner.set_issuer(issuer_keys(issuer_public_hex)?);
            Ok(())
        })
    }

    /// Revoke an id (an app revocation id, or a block's revocation id in hex); with Redis, a round
    /// trip to the shared set, off the GIL.
    fn revoke(&self, py: Python<'_>, revocation_id: Text) -> PyResult<()> {
        guarded(|| {
            let verifier = &self.inner;
            detached(py, || verifier.revoke(&revocation_id.0))
        })
    }

    /// Revoke a whole token (core `Verifier::revoke_token`: its app revocation id and every block's
    /// id): a `Token`, or a token as base64, parsed with this verifier's issuer key(s) and limits.
    fn revoke_token(&self, py: Python<'_>, token: &Bound<'_, PyAny>) -> PyResult<()> {
        guarded(|| {
            let verifier = &self.inner;
            if let Ok(token) = token.cast::<Token>() {
                let token = token.get().core();
                return detached(py, || verifier.revoke_token(token));
            }
            if token.is_instance_of::<PyString>() {
                let token = text(token, "token")?;
                return detached(py, || verifier.revoke_token(&verifier.parse_token(&token)?));
            }
            Err(type_error("token", "a Token or a str (base64)", token))
        })
    }

    /// Whether a call may wait on the network (core `may_wait_on_network`: the stores are on
    /// Redis). The ASGI middleware decides inline on the event loop when it cannot.
    #[getter]
    fn may_wait_on_network(&self) -> bool {
        self.inner.may_wait_on_network()
    }

    /// `(hits, misses)` of the token cache.
    fn cache_stats(&self) -> (u64, u64) {
        let stats = self.inner.cache_stats();
        (stats.hits, stats.misses)
    }

    /// `(entries, bytes)`: the tokens the cache holds now, and their cost as counted against
    /// `token_cache_max_bytes`.
    fn cache_usage(&self) -> (u64, u64) {
        let stats = self.inner.cache_stats();
        (stats.entries, stats.bytes)
    }

    /// The settings, and which stores: never the Redis URL (it may hold a password).
    fn __repr__(&self) -> String {
        self.inner.to_string()
    }
}
