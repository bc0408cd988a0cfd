//! `SignerClient`: core's client of the signer daemon (docs/DESIGN.md §4), Promise-based. Every request
//! does socket I/O and may wait up to its timeout, so each one runs on the libuv thread pool and
//! never on the event loop; connecting, timeouts, pooling and error codes are all core's.

use std::sync::Arc;

use napi::bindgen_prelude::{AsyncTask, ToNapiValue, TypeName, Unknown};
use napi::{sys, ValueType};
use serde_json::{Map, Value};
use trustcore_core as core;

use crate::convert::{fact_lists, json_object_arg, millis, whole_u32};
use crate::error::{guard, trust, Result, Work};

/// Time bounds of a client, in milliseconds; a field left out keeps core's default.
#[napi(object, object_to_js = false)]
#[derive(Clone, Default)]
pub struct SignerClientOptions {
    /// Opening a connection (default 1000 ms).
    pub connect_timeout_ms: Option<f64>,
    /// One request, from sending it to the whole answer (default 5000 ms).
    pub request_timeout_ms: Option<f64>,
}

fn client_options(options: Option<SignerClientOptions>) -> Result<core::SignerClientOptions> {
    let options = options.unwrap_or_default();
    let defaults = core::SignerClientOptions::default();
    Ok(core::SignerClientOptions {
        connect_timeout: millis(options.connect_timeout_ms, defaults.connect_timeout, "connectTimeoutMs")?,
        request_timeout: millis(options.request_timeout_ms, defaults.request_timeout, "requestTimeoutMs")?,
    })
}

/// What to ask the signer to mint. `facts` as `mintBiscuit` takes them (predicates in the order
/// given); the signer sets the root key id, and picks a random revocation id when none is given.
#[napi(object, object_to_js = false)]
pub struct SignerMintOptions {
    pub public_hex: String,
    pub holder_id: String,
    #[napi(ts_type = "Record<string, string[]>")]
    pub facts: Option<Value>,
    /// Seconds since the epoch; the signer cuts it to whole seconds and refuses one past its max ttl.
    pub expires_at: f64,
    pub revocation_id: Option<String>,
    /// How many delegation links (`delegate`) the token allows; 0, the default, mints a token that
    /// cannot be delegated. The signer refuses more than its `--max-delegation-depth` (default 0)
    /// with SIGNER_REFUSED.
    pub delegation_depth: Option<f64>,
}

/// A token the signer minted.
#[napi(object, object_from_js = false)]
pub struct SignerMintedToken {
    /// The token, base64.
    pub token: String,
    /// The revocation id in the token (the one given, or the signer's pick).
    pub revocation_id: String,
    /// Whole seconds since the epoch.
    pub expires_at: f64,
}

/// The issuer's public key and the signer's root key id (null when it sets none).
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct SignerPublicKey {
    pub public_key: String,
    pub key_id: Option<u32>,
}

/// A JSON object for a Promise (serde_json's map has no `TypeName`, which AsyncTask needs).
pub struct JsonObject(Map<String, Value>);

impl TypeName for JsonObject {
    fn type_name() -> &'static str {
        "Object"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for JsonObject {
    unsafe fn to_napi_value(env: sys::napi_env, value: Self) -> napi::Result<sys::napi_value> {
        // SAFETY: forwarded as is from napi-rs's own call
        unsafe { Map::to_napi_value(env, value.0) }
    }
}

/// A client of the signer daemon (`trustcore signer serve`). Nothing connects until the first
/// request; the client keeps a few connections open between requests and may be shared freely.
/// Every method answers with a Promise and runs on the libuv thread pool.
#[napi]
pub struct SignerClient {
    inner: Arc<core::SignerClient>,
}

#[napi]
impl SignerClient {
    /// `address`: a socket path, `unix:PATH`, or `tcp:127.0.0.1:PORT` (loopback only: frames are
    /// not encrypted). Throws MALFORMED_INPUT for another address or a timeout that is not positive,
    /// a TypeError for an argument of the wrong type (an `options` that is not an object included).
    #[napi(constructor, strict, catch_unwind)]
    pub fn new(address: String, options: Option<SignerClientOptions>) -> Result<SignerClient> {
        guard(|| {
            let address = core::SignerAddress::parse(&address).map_err(trust)?;
            let client = core::SignerClient::new(address, client_options(options)?).map_err(trust)?;
            Ok(SignerClient { inner: Arc::new(client) })
        })
    }

    /// Where the client connects, as `unix:PATH` or `tcp:IP:PORT`.
    #[napi(getter, catch_unwind)]
    pub fn address(&self) -> Result<String> {
        guard(|| Ok(self.inner.address().to_string()))
    }

    /// The issuer's public key (hex) and the signer's root key id.
    #[napi(catch_unwind, ts_return_type = "Promise<SignerPublicKey>")]
    pub fn public_key(&self) -> Result<AsyncTask<Work<SignerPublicKey>>> {
        guard(|| {
            let client = Arc::clone(&self.inner);
            Ok(AsyncTask::new(Work::new(move || {
                let (public_key, key_id) = client.public_key()?;
                Ok(SignerPublicKey { public_key, key_id })
            })))
        })
    }

    /// Ask the signer to mint a token; SIGNER_REFUSED when its policy (max ttl, granted
    /// predicates, allowed peers) says no.
    #[napi(catch_unwind, ts_return_type = "Promise<SignerMintedToken>")]
    pub fn mint(&self, options: SignerMintOptions) -> Result<AsyncTask<Work<SignerMintedToken>>> {
        guard(|| {
            let args = core::MintRequest {
                public_hex: options.public_hex,
                holder_id: options.holder_id,
                facts: fact_lists(options.facts)?,
                revocation_id: options.revocation_id,
                root_key_id: None,
                expires_at: options.expires_at,
                delegation_depth: options
                    .delegation_depth
                    .map(|depth| whole_u32(depth, "delegationDepth"))
                    .transpose()?
                    .unwrap_or(0),
            };
            let client = Arc::clone(&self.inner);
            Ok(AsyncTask::new(Work::new(move || {
                let minted = client.mint(&args)?;
                Ok(SignerMintedToken {
                    token: minted.token,
                    revocation_id: minted.revocation_id,
                    expires_at: minted.expires_at as f64,
                })
            })))
        })
    }

    /// Ask the signer to sign `job` (its `sig` field left out) for `workerId`; resolves to the
    /// signature (hex) for `job.sig`, which `verifyJob` checks.
    #[napi(
        catch_unwind,
        ts_args_type = "job: Record<string, unknown>, workerId: string",
        ts_return_type = "Promise<string>"
    )]
    pub fn sign_job(&self, job: Unknown<'_>, worker_id: String) -> Result<AsyncTask<Work<String>>> {
        guard(|| {
            let job = json_object_arg(job, "job", trustcore_core::ErrorCode::MalformedInput)?;
            let client = Arc::clone(&self.inner);
            Ok(AsyncTask::new(Work::new(move || client.sign_job(&job, &worker_id))))
        })
    }

    /// The signer's health report as it sends it: `status`, `public_key`, `key_id`, `version`,
    /// `audit` (`{ entries, head }`, or null without an audit log).
    #[napi(catch_unwind, ts_return_type = "Promise<Record<string, unknown>>")]
    pub fn health(&self) -> Result<AsyncTask<Work<JsonObject>>> {
        guard(|| {
            let client = Arc::clone(&self.inner);
            Ok(AsyncTask::new(Work::new(move || client.health().map(JsonObject))))
        })
    }

    #[napi(js_name = "toString", catch_unwind)]
    pub fn to_display(&self) -> Result<String> {
        guard(|| Ok(format!("SignerClient({})", self.inner.address())))
    }
}
