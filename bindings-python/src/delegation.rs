//! Delegation, the holder's side (core's `delegate`, docs/DESIGN.md §3.13), and a chain of holders
//! as Python sees it: `trustcore.Holder` values (a `NamedTuple` of the package, so it pickles and
//! type-checks like the other value objects).

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyList, PyType};
use trustcore_core::{DelegateRequest, Holder, VerifiedIdentity};

use crate::convert::{Seconds, Text};
use crate::error::{detached, guarded};
use crate::keys::WorkerKey;
use crate::token::Token;

/// Flat form of `trustcore.delegate` (the package gives `checks` its default and makes
/// `expires_at` a keyword): `token` delegated by `holder_key`, its current holder, to the key
/// `to_public_hex` named `to_holder_id`, with the narrowing `checks` and an expiry no later than the
/// token's. Signs (a third-party block), so the GIL is released.
#[pyfunction]
pub fn delegate(
    py: Python<'_>,
    token: Text,
    holder_key: PyRef<'_, WorkerKey>,
    to_public_hex: Text,
    to_holder_id: Text,
    checks: Text,
    expires_at: Seconds,
) -> PyResult<String> {
    guarded(|| {
        let request = DelegateRequest {
            to_public_hex: to_public_hex.0,
            to_holder_id: to_holder_id.0,
            checks: checks.0,
            expires_at: expires_at.0,
        };
        let holder = &holder_key.inner;
        detached(py, || trustcore_core::delegate(&token.0, holder, &request))
    })
}

/// An identity as the package's `VerifiedIdentity` takes it: holder id, holder key, revocation id,
/// and the chain as `(holder_id, holder_public_hex)` pairs (the package makes them `Holder`s).
pub type IdentityTuple = (String, String, String, Vec<(String, String)>);

pub fn identity_tuple(identity: VerifiedIdentity) -> IdentityTuple {
    let VerifiedIdentity { holder_id, holder_public_hex, revocation_id, chain } = identity;
    (holder_id, holder_public_hex, revocation_id, pairs(chain))
}

/// An authenticated request as the package unpacks it: the token, then the identity's fields.
pub type Authenticated = (Token, String, String, String, Vec<(String, String)>);

pub fn authenticated(token: Token, identity: VerifiedIdentity) -> Authenticated {
    let (holder_id, holder_public_hex, revocation_id, chain) = identity_tuple(identity);
    (token, holder_id, holder_public_hex, revocation_id, chain)
}

fn pairs(chain: Vec<Holder>) -> Vec<(String, String)> {
    chain.into_iter().map(|h| (h.holder_id, h.holder_public_hex)).collect()
}

/// `chain` as a list of `trustcore.Holder` (resolved once, on first use, from the package).
pub fn holders<'py>(py: Python<'py>, chain: Vec<Holder>) -> PyResult<Bound<'py, PyList>> {
    static HOLDER: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    let class = HOLDER.import(py, "trustcore.engine", "Holder")?;
    let items = pairs(chain).into_iter().map(|pair| class.call1(pair)).collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, items)
}
