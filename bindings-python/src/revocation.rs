//! The caller's deny-list as core's `RevocationList`, checked while core runs without the GIL.
//!
//! Two forms, never a guess in between:
//! - read once: an exact `set`, `frozenset`, `list` or `tuple`, and any iterable without a
//!   `__contains__` of its own (an iterator, a generator, a `map`), is read entry by entry before
//!   any check, into core's `DenyList` (every id in its one spelling, MALFORMED_INPUT for an entry
//!   that has none). An iterator asked with `in` would be used up by the first id and leave the
//!   next ones checked against nothing.
//! - asked: any other object with its own `__contains__` (a subclass of a built-in container, a
//!   mapping, the app's store) is asked `id in container` with each canonical id, never copied.
//!
//! An entry read is a `str` or a TypeError (bytes from a Redis client, an int): never dropped.

use std::sync::Mutex;

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyFrozenSet, PyList, PySet, PyString, PyTuple};
use trustcore_core::{Error, ErrorCode, RevocationList};

use crate::convert::text;
use crate::error::{to_py, type_error};

const EXPECTED: &str = "a container or an iterable of str (set, frozenset, list…)";

pub enum DenyList {
    /// Read once, in core's canonical form.
    Copied(trustcore_core::DenyList),
    /// The caller's own container, asked with `in` (the GIL taken back briefly per id).
    Asked { container: Py<PyAny>, failure: Mutex<Option<PyErr>> },
}

impl DenyList {
    pub fn new(container: &Bound<'_, PyAny>) -> PyResult<DenyList> {
        // a str would match substrings, bytes hold no str
        if is_text(container) {
            return Err(type_error("revoked_ids", EXPECTED, container));
        }
        if !is_exact_builtin(container) && has_own_contains(container)? {
            return Ok(DenyList::Asked { container: container.clone().unbind(), failure: Mutex::new(None) });
        }
        let ids = read_ids(container)?;
        trustcore_core::DenyList::new(&ids).map(DenyList::Copied).map_err(to_py)
    }

    /// The Python exception the container raised, if it did (re-raised instead of core's error).
    pub fn take_failure(&self) -> Option<PyErr> {
        match self {
            DenyList::Copied(_) => None,
            DenyList::Asked { failure, .. } => failure.lock().ok().and_then(|mut f| f.take()),
        }
    }
}

/// Every entry of an iterable of revocation ids, read once: a `str` each (a TypeError otherwise;
/// MALFORMED_INPUT for one UTF-8 cannot hold). A str or bytes itself is a TypeError. The ids are as
/// given: core puts them in their one spelling (`DenyList::new`, `Verifier::new`).
pub fn read_ids(container: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if is_text(container) {
        return Err(type_error("revoked_ids", EXPECTED, container));
    }
    let entries = container.try_iter().map_err(|_| type_error("revoked_ids", EXPECTED, container))?;
    entries.map(|entry| text(&entry?, "a revoked_ids entry")).collect()
}

fn is_text(obj: &Bound<'_, PyAny>) -> bool {
    obj.is_instance_of::<PyString>() || obj.is_instance_of::<PyBytes>() || obj.is_instance_of::<PyByteArray>()
}

/// Exactly a built-in set, frozenset, list or tuple (not a subclass, which may answer otherwise).
fn is_exact_builtin(obj: &Bound<'_, PyAny>) -> bool {
    obj.is_exact_instance_of::<PySet>()
        || obj.is_exact_instance_of::<PyFrozenSet>()
        || obj.is_exact_instance_of::<PyList>()
        || obj.is_exact_instance_of::<PyTuple>()
}

/// Whether `in` asks the object's type (a `__contains__` in its MRO, not set to None) rather than
/// iterating it.
fn has_own_contains(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    let py = obj.py();
    for class in obj.get_type().mro().iter() {
        let namespace = class.getattr(intern!(py, "__dict__"))?;
        if let Ok(method) = namespace.get_item(intern!(py, "__contains__")) {
            return Ok(!method.is_none());
        }
    }
    Ok(false)
}

impl RevocationList for DenyList {
    fn is_revoked(&self, revocation_id: &str) -> trustcore_core::Result<bool> {
        match self {
            DenyList::Copied(ids) => ids.is_revoked(revocation_id),
            DenyList::Asked { container, failure } => Python::attach(|py| {
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
