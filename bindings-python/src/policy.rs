//! Authorization: one allow policy over a token (core's `check_policy`), without the GIL. The general
//! authorizer is `Token.authorize` (token.rs).

use pyo3::prelude::*;

use crate::convert::{string_pairs, Seconds, Text};
use crate::error::{detached, guarded};
use crate::limits::{or_default, Limits};
use crate::token::Token;

/// One authorization decision: `time(now)`, the request facts (values bound, never spliced), the
/// `allow` policy, then `deny if true`. None on allow; DENIED, or LIMIT_EXCEEDED past the limits.
#[pyfunction]
#[pyo3(signature = (token, *, request_facts, allow, now, limits=None))]
pub fn check_policy(
    py: Python<'_>,
    token: PyRef<'_, Token>,
    request_facts: &Bound<'_, PyAny>,
    allow: Text,
    now: Seconds,
    limits: Option<PyRef<'_, Limits>>,
) -> PyResult<()> {
    guarded(|| {
        let facts = string_pairs(request_facts, "request_facts")?;
        let limits = or_default(limits);
        let token = token.core();
        detached(py, || {
            let facts = facts.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            trustcore_core::check_policy(token, facts, &allow.0, now.0, &limits)
        })
    })
}
