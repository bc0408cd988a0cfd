//! Minting in process (core's `mint_biscuit`); the signer daemon mints through `SignerClient`.

use napi::bindgen_prelude::AsyncTask;
use serde_json::Value;
use trustcore_core as core;

use crate::convert::{fact_lists, whole_u32};
use crate::error::{guard, trust, Result, Work};
use crate::keys::IssuerKey;

/// What to mint. `facts` maps each app predicate to its values, predicates in the order given.
#[napi(object, object_to_js = false)]
pub struct MintOptions {
    pub public_hex: String,
    pub holder_id: String,
    #[napi(ts_type = "Record<string, string[]>")]
    pub facts: Option<Value>,
    pub revocation_id: String,
    /// Seconds since the epoch; cut to whole seconds.
    pub expires_at: f64,
    pub root_key_id: Option<f64>,
    /// How many delegation links (`delegate`) the token allows, at most 8 (else MALFORMED_INPUT);
    /// 0, the default, writes nothing: the token cannot be delegated.
    pub delegation_depth: Option<f64>,
}

fn mint_request(options: MintOptions) -> Result<core::MintRequest> {
    Ok(core::MintRequest {
        public_hex: options.public_hex,
        holder_id: options.holder_id,
        facts: fact_lists(options.facts)?,
        revocation_id: Some(options.revocation_id),
        expires_at: options.expires_at,
        root_key_id: options.root_key_id.map(|id| whole_u32(id, "rootKeyId")).transpose()?,
        delegation_depth: options
            .delegation_depth
            .map(|depth| whole_u32(depth, "delegationDepth"))
            .transpose()?
            .unwrap_or(0),
    })
}

/// Mint a token bound to the holder's public key; returns it as base64.
#[napi(catch_unwind)]
pub fn mint_biscuit(issuer: &IssuerKey, options: MintOptions) -> Result<String> {
    guard(|| core::mint_biscuit(&issuer.inner, &mint_request(options)?).map_err(trust))
}

/// `mintBiscuit` on the libuv thread pool.
#[napi(catch_unwind, ts_return_type = "Promise<string>")]
pub fn mint_biscuit_async(issuer: &IssuerKey, options: MintOptions) -> Result<AsyncTask<Work<String>>> {
    guard(|| {
        let (issuer, request) = (issuer.inner.clone(), mint_request(options)?);
        Ok(AsyncTask::new(Work::new(move || core::mint_biscuit(&issuer, &request))))
    })
}
