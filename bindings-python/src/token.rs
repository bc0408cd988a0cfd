//! `Token`: a Biscuit whose signatures verified against a trusted issuer key, and the general
//! authorizer over it.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString};
use trustcore_core::AuthorizeOptions;

use crate::convert::{issuer_keys, strings, text, Count, Seconds, Text};
use crate::delegation::holders;
use crate::error::{detached, guarded, malformed, to_py, type_error};
use crate::limits::{or_default, Limits};

/// A verified token (from `parse_token` or `authenticate`). Its methods follow biscuit-python's
/// `Biscuit`; `repr` shows its shape, never its bytes (it is half a credential).
#[pyclass(module = "trustcore.engine", frozen)]
pub struct Token {
    inner: Held,
}

/// A token parsed here, or one shared with a `Verifier`'s cache (no copy per request).
enum Held {
    Owned(Box<trustcore_core::Token>),
    Shared(std::sync::Arc<trustcore_core::VerifiedToken>),
}

impl Token {
    pub(crate) fn owned(token: trustcore_core::Token) -> Self {
        Token { inner: Held::Owned(Box::new(token)) }
    }

    pub(crate) fn shared(token: std::sync::Arc<trustcore_core::VerifiedToken>) -> Self {
        Token { inner: Held::Shared(token) }
    }

    pub(crate) fn core(&self) -> &trustcore_core::Token {
        match &self.inner {
            Held::Owned(token) => token,
            Held::Shared(verified) => &verified.token,
        }
    }
}

#[pymethods]
impl Token {
    /// The number of blocks (1 + the blocks holders appended).
    fn block_count(&self) -> usize {
        self.core().block_count()
    }

    /// Block `index` as Biscuit prints its Datalog (0 is the issuer's authority block).
    fn block_source(&self, index: Count) -> PyResult<String> {
        guarded(|| {
            let index = usize::try_from(index.0).map_err(|_| malformed("block index is out of range"))?;
            self.core().block_source(index).map_err(to_py)
        })
    }

    /// Every block's revocation id (hex), in block order.
    #[getter]
    fn revocation_ids(&self) -> Vec<String> {
        self.core().revocation_ids()
    }

    /// The root key id the issuer set (key rotation), or None.
    fn root_key_id(&self) -> Option<u32> {
        self.core().root_key_id()
    }

    /// The holders of a delegated token in order, as `Holder`s (the issuer's holder first, the
    /// one who must prove possession last), or None for a token never delegated (docs/DESIGN.md
    /// §3.13). DELEGATION_INVALID when the chain is broken (and TOKEN_UNBOUND when the authority
    /// block binds no holder).
    fn delegation_chain<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyList>>> {
        guarded(|| match self.core().delegation_chain().map_err(to_py)? {
            Some(chain) => Ok(Some(holders(py, chain)?)),
            None => Ok(None),
        })
    }

    /// The token as URL-safe base64 (what `Authorization: Biscuit …` carries).
    fn to_base64(&self) -> PyResult<String> {
        guarded(|| self.core().to_base64().map_err(to_py))
    }

    /// The token's raw bytes.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        guarded(|| Ok(PyBytes::new(py, &self.core().to_bytes().map_err(to_py)?)))
    }

    /// Run any authorizer code (facts, rules, checks, policies) against this token and return
    /// the index of the allow policy that matched. `now` (seconds) adds `time(now)`; None adds
    /// nothing. DENIED when no allow policy matched or a check failed, LIMIT_EXCEEDED past limits.
    #[pyo3(signature = (datalog, now, *, limits=None, extern_functions=None))]
    fn authorize(
        &self,
        py: Python<'_>,
        datalog: Text,
        now: Option<Seconds>,
        limits: Option<PyRef<'_, Limits>>,
        extern_functions: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<usize> {
        guarded(|| {
            let options = AuthorizeOptions {
                limits: or_default(limits),
                extern_functions: match extern_functions {
                    Some(names) => strings(names, "extern_functions")?,
                    None => Vec::new(),
                },
            };
            let token = self.core();
            detached(py, || trustcore_core::authorize(token, &datalog.0, now.map(|s| s.0), &options))
        })
    }

    fn __repr__(&self) -> String {
        match self.core().root_key_id() {
            Some(id) => format!("Token(blocks={}, root_key_id={id})", self.core().block_count()),
            None => format!("Token(blocks={})", self.core().block_count()),
        }
    }
}

/// Parse a token (URL-safe base64 str, or raw bytes) and verify every block's signature against
/// the issuer key: a hex str, or `{root_key_id: hex}` when several keys are trusted.
#[pyfunction]
pub fn parse_token(py: Python<'_>, issuer_public_hex: &Bound<'_, PyAny>, token: &Bound<'_, PyAny>) -> PyResult<Token> {
    guarded(|| {
        let issuer = issuer_keys(issuer_public_hex)?;
        let parsed = if token.is_instance_of::<PyString>() {
            let token = text(token, "token")?;
            detached(py, || trustcore_core::parse_token(&issuer, &token))?
        } else if let Ok(bytes) = token.cast::<PyBytes>() {
            let bytes = bytes.as_bytes();
            detached(py, || trustcore_core::parse_token_bytes(&issuer, bytes))?
        } else {
            return Err(type_error("token", "str (base64) or bytes", token));
        };
        Ok(Token::owned(parsed))
    })
}

/// `token.authorize(datalog, now, …)` as a function (docs/DESIGN.md §3).
#[pyfunction]
#[pyo3(signature = (token, datalog, now, *, limits=None, extern_functions=None))]
pub fn authorize(
    py: Python<'_>,
    token: PyRef<'_, Token>,
    datalog: Text,
    now: Option<Seconds>,
    limits: Option<PyRef<'_, Limits>>,
    extern_functions: Option<&Bound<'_, PyAny>>,
) -> PyResult<usize> {
    token.authorize(py, datalog, now, limits, extern_functions)
}
