//! The per-request path's first half: authenticate (token, identity, revocation, freshness, proof of
//! possession), with a Promise form that runs on the libuv pool.

use napi::bindgen_prelude::AsyncTask;
use trustcore_core as core;

use crate::convert::{body_bytes, issuer_keys, limits, AuthorizerLimits, IssuerArg, RevocationIds};
use crate::error::{guard, trust, Result, Work};
use crate::proof::{HttpRequest, WorkerProof};
use crate::token::Token;

/// The verifier's settings for one request.
#[napi(object, object_to_js = false)]
pub struct AuthenticateOptions {
    /// The verifier's clock, seconds since the epoch (`Date.now() / 1000`).
    pub now: f64,
    /// The deny-list: revocation ids that must not pass (app ids, and block ids in hex, which match
    /// in upper case too). An id with whitespace, a `0x` prefix, or empty is MALFORMED_INPUT.
    #[napi(ts_type = "string[] | Set<string>")]
    pub revoked_ids: RevocationIds,
    pub max_skew_seconds: f64,
    pub limits: Option<AuthorizerLimits>,
}

/// Who made the request, from the issuer's authority block: identifiers, never capabilities. For a
/// delegated token (`delegate`) `holderId` and `holderPublicHex` name the last holder, the one whose
/// key proved possession.
// made in JS (shapes.rs): `object_to_js = false` keeps the TypeScript type, not napi's conversion
#[napi(object, object_from_js = false, object_to_js = false)]
pub struct Identity {
    pub holder_id: String,
    pub holder_public_hex: String,
    pub revocation_id: String,
    /// Every holder in order (docs/DESIGN.md §3.13): the one the issuer bound first, then each
    /// delegate; the last is `holderId` / `holderPublicHex`. One entry for a token never delegated.
    pub chain: Vec<Holder>,
}

/// One holder of a delegation chain (`Identity#chain`).
#[napi(object, object_from_js = false)]
pub struct Holder {
    pub holder_id: String,
    pub holder_public_hex: String,
}

impl From<core::VerifiedIdentity> for Identity {
    fn from(identity: core::VerifiedIdentity) -> Self {
        let core::VerifiedIdentity { holder_id, holder_public_hex, revocation_id, chain } = identity;
        let chain = chain
            .into_iter()
            .map(|holder| Holder { holder_id: holder.holder_id, holder_public_hex: holder.holder_public_hex })
            .collect();
        Identity { holder_id, holder_public_hex, revocation_id, chain }
    }
}

// made in JS (shapes.rs), as Identity
#[napi(object, object_from_js = false, object_to_js = false)]
pub struct Authenticated {
    pub token: Token,
    pub identity: Identity,
}

struct Inputs {
    issuer: core::IssuerKeys,
    proof: core::WorkerProof,
    revoked: core::DenyList,
    options: core::AuthenticateOptions,
}

fn inputs(issuer: &IssuerArg, proof: WorkerProof, options: AuthenticateOptions) -> Result<Inputs> {
    Ok(Inputs {
        issuer: issuer_keys(issuer)?,
        proof: proof.into(),
        // each id in its one spelling, or MALFORMED_INPUT (core's rule)
        revoked: core::DenyList::new(options.revoked_ids.0).map_err(trust)?,
        options: core::AuthenticateOptions {
            now: options.now,
            max_skew_seconds: options.max_skew_seconds,
            limits: limits(&options.limits)?,
        },
    })
}

fn run(inputs: &Inputs, request: &core::Request<'_>) -> core::Result<Authenticated> {
    let (token, identity) =
        core::authenticate(&inputs.issuer, &inputs.proof, request, &inputs.revoked, &inputs.options)?;
    Ok(Authenticated { token: Token::new(token), identity: identity.into() })
}

/// Authenticate one request, cheapest check first, fail closed. Returns the verified token and the
/// holder's identity; run `checkPolicy` for what the holder may do.
#[napi(
    catch_unwind,
    ts_args_type = "issuer: string | Record<string, string>, proof: WorkerProof, request: HttpRequest, options: AuthenticateOptions"
)]
pub fn authenticate(
    issuer: IssuerArg,
    proof: WorkerProof,
    request: HttpRequest,
    options: AuthenticateOptions,
) -> Result<Authenticated> {
    guard(|| run(&inputs(&issuer, proof, options)?, &request.core()).map_err(trust))
}

/// `authenticate` on the libuv thread pool: the signature checks never block the event loop.
#[napi(
    catch_unwind,
    ts_args_type = "issuer: string | Record<string, string>, proof: WorkerProof, request: HttpRequest, options: AuthenticateOptions",
    ts_return_type = "Promise<Authenticated>"
)]
pub fn authenticate_async(
    issuer: IssuerArg,
    proof: WorkerProof,
    request: HttpRequest,
    options: AuthenticateOptions,
) -> Result<AsyncTask<Work<Authenticated>>> {
    guard(|| {
        let inputs = inputs(&issuer, proof, options)?;
        // copied: the caller's buffer may change while the pool thread reads
        let (method, path, body) = (request.method, request.path, body_bytes(&request.body).to_vec());
        Ok(AsyncTask::new(Work::new(move || run(&inputs, &core::Request::new(&method, &path, &body)))))
    })
}
