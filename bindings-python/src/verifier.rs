//! The stateful verifier (core `Verifier`, in-memory stores): issuer key(s), skew, limits, a
//! replay store, a revocation store and a cache of verified tokens, so a holder's repeated
//! requests pay one signature check instead of two. Flat methods: `trustcore.Verifier` (Python)
//! unpacks its value objects.

use pyo3::prelude::*;
use trustcore_core::{MemoryReplayStore, MemoryRevocationStore, Request, VerifierConfig, WorkerProof};

use crate::convert::{issuer_keys, string_pairs, strings, Bytes, Count, Seconds, Text};
use crate::errors::{detached, guarded, to_py};
use crate::limits::Limits;
use crate::token::Token;

#[pyclass(module = "trustcore._trustcore", frozen)]
pub struct NativeVerifier {
    inner: trustcore_core::Verifier,
}

#[pymethods]
impl NativeVerifier {
    /// Settings left as None keep core's defaults (`VerifierConfig::new`, `DEFAULT_REPLAY_CAPACITY`).
    /// The token cache keeps core's capacity: core allocates a cache of the size asked for up
    /// front, so a caller's huge number would abort the process rather than raise.
    #[new]
    #[pyo3(signature = (issuer_public_hex, *, max_skew_seconds=None, limits=None, replay_capacity=None, revoked_ids=None))]
    fn new(
        issuer_public_hex: &Bound<'_, PyAny>,
        max_skew_seconds: Option<Seconds>,
        limits: Option<PyRef<'_, Limits>>,
        replay_capacity: Option<Count>,
        revoked_ids: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        guarded(|| {
            let mut config = VerifierConfig::new(issuer_keys(issuer_public_hex)?);
            if let Some(Seconds(skew)) = max_skew_seconds {
                config.max_skew_seconds = skew;
            }
            if let Some(limits) = limits {
                config.limits = limits.inner;
            }
            let replay_capacity = match replay_capacity {
                Some(capacity) => usize::try_from(capacity.0).unwrap_or(usize::MAX),
                None => trustcore_core::DEFAULT_REPLAY_CAPACITY,
            };
            let revoked = match revoked_ids {
                Some(ids) => strings(ids, "revoked_ids")?,
                None => Vec::new(),
            };
            let inner = trustcore_core::Verifier::with_stores(
                config,
                Box::new(MemoryReplayStore::new(replay_capacity)),
                Box::new(MemoryRevocationStore::new(revoked)),
            );
            Ok(NativeVerifier { inner })
        })
    }

    /// `(token, holder_id, holder_public_hex, revocation_id)`; `now` None is the system clock.
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
    ) -> PyResult<(Token, String, String, String)> {
        guarded(|| {
            let proof = WorkerProof { token: token.0, signature: signature.0, timestamp: timestamp.0, nonce: nonce.0 };
            let (method, path, body) = (method.0, path.0, &*body.0);
            let verifier = &self.inner;
            let verified =
                detached(py, || verifier.authenticate(&proof, &Request::new(&method, &path, body), now.map(|s| s.0)))?;
            let identity = verified.identity.clone();
            Ok((Token::shared(verified), identity.holder_id, identity.holder_public_hex, identity.revocation_id))
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

    /// Revoke an id (an app revocation id, or a block's revocation id in hex).
    fn revoke(&self, revocation_id: Text) -> PyResult<()> {
        guarded(|| self.inner.revoke(&revocation_id.0).map_err(to_py))
    }

    /// `(hits, misses)` of the token cache.
    fn cache_stats(&self) -> (u64, u64) {
        let stats = self.inner.cache_stats();
        (stats.hits, stats.misses)
    }

    fn __repr__(&self) -> String {
        let config = self.inner.config();
        format!(
            "Verifier(max_skew_seconds={:?}, token_cache_capacity={})",
            config.max_skew_seconds, config.token_cache_capacity
        )
    }
}
