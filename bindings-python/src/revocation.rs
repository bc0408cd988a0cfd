//! The caller's deny-list (any container of revocation ids, as trust-core 0.1 took) as core's
//! `RevocationList`, asked while core runs without the GIL.

use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyFrozenSet, PyList, PySet, PyString, PyTuple};
use trustcore_core::{Error, ErrorCode, RevocationList};

use crate::errors::type_error;

/// A small built-in container is copied up front (cheaper than taking the GIL back per id); a
/// large or custom one (a Redis-backed set…) is asked with `in`, taking the GIL back briefly.
const COPY_AT_MOST: usize = 64;

pub enum DenyList {
    Copied(Vec<String>),
    Python { container: Py<PyAny>, failure: Mutex<Option<PyErr>> },
}

impl DenyList {
    pub fn new(container: &Bound<'_, PyAny>) -> PyResult<DenyList> {
        // a str would match substrings; None and other non-containers would fail only later
        let container_like = container.hasattr("__contains__")? || container.hasattr("__iter__")?;
        if !container_like || container.is_instance_of::<PyString>() || container.is_instance_of::<PyBytes>() {
            return Err(type_error("revoked_ids", "a container of str (set, frozenset, list…)", container));
        }
        let builtin = container.is_instance_of::<PyFrozenSet>()
            || container.is_instance_of::<PySet>()
            || container.is_instance_of::<PyList>()
            || container.is_instance_of::<PyTuple>();
        if builtin && container.len()? <= COPY_AT_MOST {
            let mut ids = Vec::new();
            for item in container.try_iter()? {
                let item = item?;
                // only a str can equal a revocation id; an id with lone surrogates equals none
                if let Ok(s) = item.cast::<PyString>() {
                    if let Ok(s) = s.to_str() {
                        ids.push(s.to_owned());
                    }
                }
            }
            return Ok(DenyList::Copied(ids));
        }
        Ok(DenyList::Python { container: container.clone().unbind(), failure: Mutex::new(None) })
    }

    /// The Python exception the container raised, if it did (re-raised instead of core's error).
    pub fn take_failure(&self) -> Option<PyErr> {
        match self {
            DenyList::Copied(_) => None,
            DenyList::Python { failure, .. } => failure.lock().ok().and_then(|mut f| f.take()),
        }
    }
}

impl RevocationList for DenyList {
    fn is_revoked(&self, revocation_id: &str) -> trustcore_core::Result<bool> {
        match self {
            DenyList::Copied(ids) => Ok(ids.iter().any(|id| id == revocation_id)),
            DenyList::Python { container, failure } => Python::attach(|py| {
                container.bind(py).contains(revocation_id).map_err(|err| {
                    if let Ok(mut slot) = failure.lock() {
                        *slot = Some(err);
                    }
                    // fail closed: a deny-list that cannot answer never lets a token through
                    Error::new(ErrorCode::StoreUnavailable, "the revocation list could not be read")
                })
            }),
        }
    }
}
