//! Authorization: one allow policy over a token (core's `check_policy`), with a Promise form that runs
//! on the libuv pool. The general authorizer is `Token#authorize` (token.rs).

use napi::bindgen_prelude::AsyncTask;
use napi::bindgen_prelude::Unknown;
use trustcore_core as core;

use crate::convert::{limits, named_values, AuthorizerLimits};
use crate::error::{guard, trust, Result, Work};
use crate::token::Token;

/// One allow policy against a token: `time(now)`, the request facts (values bound as parameters),
/// `allow`, then `deny if true`.
#[napi(object, object_to_js = false)]
pub struct PolicyOptions<'env> {
    /// Facts about this request, `name(value)`, in order, e.g. `{ req_operation: 'lease' }`. Every
    /// name starts with `req_` (MALFORMED_INPUT otherwise): a token never carries such a fact.
    #[napi(ts_type = "Record<string, string>")]
    pub request_facts: Unknown<'env>,
    /// One Biscuit policy, e.g. `allow if right($op), req_operation($op)`.
    pub allow: String,
    /// The authorizer's clock, seconds since the epoch (`Date.now() / 1000`).
    pub now: f64,
    pub limits: Option<AuthorizerLimits>,
}

/// `requestFacts` as JS gives them, `{ name: value }`, in order (which names are acceptable is core's call).
pub fn request_facts(value: &Unknown) -> Result<Vec<(String, String)>> {
    named_values(Some(value), "requestFacts", false)
}

struct Policy {
    facts: Vec<(String, String)>,
    allow: String,
    now: f64,
    limits: core::Limits,
}

impl Policy {
    fn from_options(options: PolicyOptions) -> Result<Policy> {
        let facts = request_facts(&options.request_facts)?;
        Ok(Policy { facts, allow: options.allow, now: options.now, limits: limits(&options.limits)? })
    }

    fn check(&self, token: &core::Token) -> core::Result<()> {
        let facts = self.facts.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        core::check_policy(token, facts, &self.allow, self.now, &self.limits)
    }
}

/// Authorize: returns nothing when the policy allows, throws DENIED (or LIMIT_EXCEEDED) otherwise.
#[napi(catch_unwind)]
pub fn check_policy(token: &Token, options: PolicyOptions) -> Result<()> {
    guard(|| Policy::from_options(options)?.check(&token.inner).map_err(trust))
}

/// `checkPolicy` on the libuv thread pool.
#[napi(catch_unwind, ts_return_type = "Promise<void>")]
pub fn check_policy_async(token: &Token, options: PolicyOptions) -> Result<AsyncTask<Work<()>>> {
    guard(|| {
        let (policy, token) = (Policy::from_options(options)?, token.inner.clone());
        Ok(AsyncTask::new(Work::new(move || policy.check(&token))))
    })
}
