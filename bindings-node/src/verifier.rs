//! The stateful verifier (core `Verifier`, docs/DESIGN.md §3): issuer key(s), skew, limits, a replay
//! store, a revocation store and a cache of verified tokens, so a holder's repeated requests pay
//! one signature check, not two. The stores live in this process (memory) or on Redis, shared by
//! every verifier that names the same Redis and key prefix. Each call has a sync form and a
//! Promise form; with Redis every call may wait on the network, so a server uses the Promise forms
//! there, and those of the calls that reach Redis run on the addon's own threads (`offload`), not
//! the libuv pool.

use std::sync::Arc;

use napi::bindgen_prelude::{Array, AsyncTask, Either, Object, Unknown};
use napi::{JsValue, ValueType};
use trustcore_core as core;

use crate::authenticate::{Authenticated, Identity};
use crate::convert::{
    body_bytes, body_ref_len, issuer_keys, json_object_arg, limits, millis, owned_body, whole, whole_usize,
    AuthorizerLimits, BodyBytes, BodyRef, IssuerArg, RevocationIds,
};
use crate::error::{guard, napi_type_error, trust, type_error, Failure, Result, Work};
use crate::offload::Async;
use crate::policy::request_facts;
use crate::proof::{HttpRequest, WorkerProof};
use crate::token::Token;

/// Where the replay and revocation stores live when several verifiers share them.
#[napi(object, object_to_js = false)]
pub struct RedisOptions {
    /// `redis://[user:password@]host:port[/db]` or `redis+unix:///path/to/redis.sock`; left out
    /// when `cluster` names the seed nodes of a Redis Cluster.
    pub url: Option<String>,
    /// The seed nodes of a Redis Cluster, `redis://[user:password@]host:port` each (any reachable
    /// one tells the cluster's layout); `url` is then left out and `keyPrefix` holds no `{` or `}`.
    pub cluster: Option<Vec<String>>,
    /// Prepended to every key (default `trustcore:`), so several deployments can share one Redis.
    pub key_prefix: Option<String>,
    /// Opening a connection (default 1000 ms).
    pub connect_timeout_ms: Option<f64>,
    /// One command, sent and answered (default 500 ms).
    pub command_timeout_ms: Option<f64>,
    /// All the Redis work of one request together: its commands, a connection it opens, a retry
    /// (default 1000 ms). Past it the request is STORE_UNAVAILABLE.
    pub request_timeout_ms: Option<f64>,
    /// Idle connections kept for reuse (default 8; 0 opens one per command).
    pub max_idle: Option<f64>,
    /// After Redis fails, every call fails at once (STORE_UNAVAILABLE) for this long, then one
    /// probe at a time goes to Redis until one succeeds (default 1000 ms; at most a day).
    pub retry_interval_ms: Option<f64>,
}

/// A verifier's settings; a field left out keeps core's default.
#[napi(object, object_to_js = false)]
pub struct VerifierOptions {
    /// How far a request's timestamp may be from the verifier's clock (default 300). A nonce is
    /// remembered for twice this plus a second.
    pub max_skew_seconds: Option<f64>,
    /// The run limits of `checkPolicy` and `authorize`, and the budget a token must fit (its size
    /// is checked by `authenticate` too, before it is decoded). A field left out keeps core's default.
    pub limits: Option<AuthorizerLimits>,
    /// (holder, nonce) pairs the in-memory replay store holds (default 100000); full with nothing
    /// expired, it refuses requests (STORE_UNAVAILABLE) rather than forget one. Unused with Redis.
    pub replay_capacity: Option<f64>,
    /// The most pairs one holder may hold in the in-memory replay store (default a quarter of
    /// `replayCapacity`); past it that holder alone is refused (LIMIT_EXCEEDED) until its entries
    /// expire. Unused with Redis.
    pub replay_capacity_per_holder: Option<f64>,
    /// Revocation ids refused from the start (with Redis: added to the shared set now). Block ids
    /// in hex match in upper case too; an id with whitespace, a `0x` prefix, or empty is
    /// MALFORMED_INPUT.
    #[napi(ts_type = "string[] | Set<string>")]
    pub revoked_ids: Option<RevocationIds>,
    /// Verified tokens kept (LRU, default 10000); 0 turns the cache off.
    pub token_cache_capacity: Option<f64>,
    /// Memory the token cache may hold, in bytes, each token counted as core estimates it (default
    /// 64 MiB); the least recently used leave first, and 0 turns the cache off.
    pub token_cache_max_bytes: Option<f64>,
    /// Requests one `authenticateBatch` takes (default 1024); a larger batch is refused whole
    /// (LIMIT_EXCEEDED).
    pub max_batch_requests: Option<f64>,
    /// Body bytes of one `authenticateBatch`'s requests together (default 64 MiB); more is refused
    /// whole (LIMIT_EXCEEDED) before any body is copied.
    pub max_batch_body_bytes: Option<f64>,
    /// Share the replay and revocation stores through Redis; left out, they live in this process.
    pub redis: Option<RedisOptions>,
    /// The authorities (`host[:port]`) this service answers to, for `decide`: an RFC 9421
    /// signature made for any other is WRONG_AUDIENCE. None given: every RFC 9421 request is
    /// WRONG_AUDIENCE (the legacy profile does not sign the host). Core checks and lower-cases them.
    pub authorities: Option<Vec<String>>,
    /// The HTTP profiles `decide` accepts, `'rfc9421'` and / or `'legacy'` (default: both).
    #[napi(ts_type = "Array<'rfc9421' | 'legacy'>")]
    pub profiles: Option<Vec<String>>,
}

/// The clock of one call: seconds since the epoch (`Date.now() / 1000`); left out, the system clock.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct VerifierClock {
    pub now: Option<f64>,
}

/// One allow policy, run with the verifier's limits: `time(now)`, the request facts (values bound
/// as parameters), `allow`, then `deny if true`.
#[napi(object, object_to_js = false)]
pub struct VerifierPolicyOptions<'env> {
    /// Facts about this request, `name(value)`, in order, e.g. `{ req_operation: 'lease' }`. Every
    /// name starts with `req_` (MALFORMED_INPUT otherwise): a token never carries such a fact.
    #[napi(ts_type = "Record<string, string>")]
    pub request_facts: Unknown<'env>,
    /// One Biscuit policy, e.g. `allow if right($op), req_operation($op)`.
    pub allow: String,
    /// Seconds since the epoch; left out, the system clock.
    pub now: Option<f64>,
}

/// Options of `Verifier#authorize`: `time(now)` is always added (the system clock when left out).
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct VerifierAuthorizeOptions {
    pub now: Option<f64>,
    /// Extern functions to enable by name (core's list: `test`).
    pub extern_functions: Option<Vec<String>>,
}

/// The token cache's counters since the verifier was made, and what it holds now.
#[napi(object, object_from_js = false)]
pub struct CacheStats {
    /// Requests whose token was found in the cache (no signature check of the token).
    pub hits: f64,
    /// Requests whose token was parsed and verified (and cached, when it verified).
    pub misses: f64,
    /// Tokens cached now.
    pub entries: f64,
    /// Their cost in bytes, as counted against `tokenCacheMaxBytes`.
    pub bytes: f64,
}

/// One request of `authenticateBatch`: the proof it carries and the request as received.
#[napi(object, object_to_js = false)]
pub struct BatchRequest<'env> {
    pub proof: WorkerProof,
    // read field by field (batch_requests): the body is measured before it is copied
    #[napi(ts_type = "HttpRequest")]
    pub request: Unknown<'env>,
}

/// A request of a batch as read from JS: proof, method and path converted, the body measured
/// but still where JS holds it.
struct BatchEntry<'env> {
    proof: core::WorkerProof,
    method: String,
    path: String,
    body: Option<BodyRef<'env>>,
}

/// A request of a batch that passed every check: what `authenticate` returns.
#[napi(object, object_from_js = false)]
pub struct BatchAccepted {
    #[napi(ts_type = "true")]
    pub ok: bool,
    pub token: Token,
    pub identity: Identity,
}

/// A request of a batch that was refused: the error `authenticate` would have thrown for it.
#[napi(object, object_from_js = false)]
pub struct BatchRefused {
    #[napi(ts_type = "false")]
    pub ok: bool,
    #[napi(ts_type = "import('./trustcore').TrustError")]
    pub error: Failure,
}

/// The outcome of one request of a batch; `ok` tells which.
#[napi]
pub type BatchResult = Either<BatchAccepted, BatchRefused>;

fn redis_config(options: RedisOptions) -> Result<core::RedisConfig> {
    // core checks the URL, the seed nodes, and that only one of them is given
    let mut config = core::RedisConfig::new(options.url.unwrap_or_default());
    config.cluster = options.cluster.unwrap_or_default();
    if let Some(prefix) = options.key_prefix {
        config.key_prefix = prefix;
    }
    config.connect_timeout = millis(options.connect_timeout_ms, config.connect_timeout, "connectTimeoutMs")?;
    config.command_timeout = millis(options.command_timeout_ms, config.command_timeout, "commandTimeoutMs")?;
    config.request_timeout = millis(options.request_timeout_ms, config.request_timeout, "requestTimeoutMs")?;
    if let Some(idle) = options.max_idle {
        config.max_idle = whole_usize(idle, "maxIdle")?;
    }
    config.retry_interval = millis(options.retry_interval_ms, config.retry_interval, "retryIntervalMs")?;
    Ok(config)
}

fn config(issuer: &IssuerArg, options: Option<VerifierOptions>) -> Result<core::VerifierConfig> {
    let mut config = core::VerifierConfig::new(issuer_keys(issuer)?);
    let Some(options) = options else { return Ok(config) };
    if let Some(skew) = options.max_skew_seconds {
        config.max_skew_seconds = skew;
    }
    if options.limits.is_some() {
        config.limits = limits(&options.limits)?;
    }
    if let Some(capacity) = options.replay_capacity {
        config.replay_capacity = whole_usize(capacity, "replayCapacity")?;
    }
    if let Some(share) = options.replay_capacity_per_holder {
        config.replay_capacity_per_holder = Some(whole_usize(share, "replayCapacityPerHolder")?);
    }
    if let Some(capacity) = options.token_cache_capacity {
        config.token_cache_capacity = whole_usize(capacity, "tokenCacheCapacity")?;
    }
    if let Some(bytes) = options.token_cache_max_bytes {
        config.token_cache_max_bytes = whole(bytes, "tokenCacheMaxBytes")?;
    }
    if let Some(count) = options.max_batch_requests {
        config.max_batch_requests = whole_usize(count, "maxBatchRequests")?;
    }
    if let Some(bytes) = options.max_batch_body_bytes {
        config.max_batch_body_bytes = whole(bytes, "maxBatchBodyBytes")?;
    }
    // as given: core's Verifier::new takes each in its one spelling or refuses it (MALFORMED_INPUT)
    config.revoked_ids = options.revoked_ids.map(|ids| ids.0).unwrap_or_default();
    config.redis = options.redis.map(redis_config).transpose()?;
    if let Some(authorities) = options.authorities {
        // as given: core's Verifier::new checks each and lower-cases it (MALFORMED_INPUT otherwise)
        config.authorities = authorities;
    }
    if let Some(profiles) = options.profiles {
        // an unknown name is core's refusal; so is an empty list, at Verifier::new
        config.profiles = profiles
            .iter()
            .map(|name| core::http::HttpProfile::from_name(name))
            .collect::<core::Result<_>>()
            .map_err(trust)?;
    }
    Ok(config)
}

fn authenticated(verified: Arc<core::VerifiedToken>) -> Authenticated {
    let identity = Identity::from(verified.identity.clone());
    Authenticated { token: Token::verified(verified), identity }
}

fn batch_result(outcome: core::Result<Arc<core::VerifiedToken>>) -> BatchResult {
    match outcome {
        Ok(verified) => {
            let Authenticated { token, identity } = authenticated(verified);
            Either::A(BatchAccepted { ok: true, token, identity })
        }
        Err(err) => Either::B(BatchRefused { ok: false, error: trust(err) }),
    }
}

/// The requests of a batch, within the verifier's batch bounds, each body still where JS holds it.
/// The number of requests is checked before any entry is read, the bodies' total before any body
/// is copied (core's `check_batch_size`: LIMIT_EXCEEDED). Entries are converted one at a time: a
/// huge sparse array fails at its first hole instead of reserving room for all of it. A type error
/// names the entry (the wrapper keeps napi's message, minus any value it quotes).
fn batch_requests<'env>(verifier: &core::Verifier, requests: &Unknown<'env>) -> Result<Vec<BatchEntry<'env>>> {
    if !requests.is_array().map_err(napi_type_error)? {
        return Err(type_error("requests must be an array of { proof, request }"));
    }
    // SAFETY: checked to be an array just above
    let requests: Array = unsafe { requests.cast() }.map_err(napi_type_error)?;
    let count = requests.len() as usize;
    verifier.check_batch_size(count, []).map_err(trust)?;
    let mut entries = Vec::new();
    for i in 0..requests.len() {
        let entry = requests.get::<Unknown>(i).map_err(napi_type_error)?;
        let entry = entry.filter(|e| e.get_type().is_ok_and(|t| t == ValueType::Object));
        let entry = entry.ok_or_else(|| type_error(format!("requests[{i}] must be an object {{ proof, request }}")))?;
        let named = |err: napi::Error| type_error(format!("{} (requests[{i}])", err.reason));
        // SAFETY: an object; BatchRequest's conversion checks its fields
        let BatchRequest { proof, request } = unsafe { entry.cast::<BatchRequest>() }.map_err(named)?;
        if request.get_type().map_err(napi_type_error)? != ValueType::Object {
            return Err(type_error(format!("requests[{i}].request must be an object {{ method, path, body? }}")));
        }
        // SAFETY: checked to be an object just above
        let request: Object = unsafe { request.cast() }.map_err(napi_type_error)?;
        let field = |name: &'static str| {
            move |err: napi::Error| type_error(format!("{} (requests[{i}].request.{name})", err.reason))
        };
        let missing = |name: &str| type_error(format!("Missing field `{name}` (requests[{i}].request)"));
        let method = request.get::<String>("method").map_err(field("method"))?.ok_or_else(|| missing("method"))?;
        let path = request.get::<String>("path").map_err(field("path"))?.ok_or_else(|| missing("path"))?;
        // null or left out is an empty body, as for HttpRequest
        let body = request.get::<Option<BodyRef>>("body").map_err(field("body"))?.flatten();
        entries.push(BatchEntry { proof: proof.into(), method, path, body });
    }
    let lengths = entries.iter().map(|entry| body_ref_len(&entry.body)).collect::<Result<Vec<u64>>>()?;
    verifier.check_batch_size(count, lengths).map_err(trust)?;
    Ok(entries)
}

fn externs(options: &Option<VerifierAuthorizeOptions>) -> Vec<String> {
    options.as_ref().and_then(|o| o.extern_functions.clone()).unwrap_or_default()
}

/// A stateful verifier: `authenticate` refuses a (holder, nonce) pair seen inside the replay window
/// and any revoked id, and caches verified tokens; `checkPolicy` and `authorize` run with its
/// limits. One verifier serves a whole process and may be shared freely.
#[napi]
pub struct Verifier {
    pub(crate) inner: Arc<core::Verifier>,
}

impl Verifier {
    /// Whether its calls may wait on the network (core's rule): then their Promise forms run on
    /// the addon's own threads (`offload`), not the libuv pool.
    pub(crate) fn on_redis(&self) -> bool {
        self.inner.may_wait_on_network()
    }
}

#[napi]
impl Verifier {
    /// `issuer`: one public key in hex, or `{ [rootKeyId]: publicHex }` during a key rotation.
    /// With `redis`, `revokedIds` are written to the shared set now (STORE_UNAVAILABLE when Redis
    /// cannot take them); otherwise nothing connects before the first request. Throws
    /// MALFORMED_INPUT for a bad key, URL, skew, capacity or timeout, a TypeError for an argument
    /// of the wrong type.
    #[napi(
        constructor,
        strict,
        catch_unwind,
        ts_args_type = "issuer: string | Record<string, string>, options?: VerifierOptions | undefined | null"
    )]
    pub fn new(issuer: IssuerArg, options: Option<VerifierOptions>) -> Result<Verifier> {
        guard(|| {
            let verifier = core::Verifier::new(config(&issuer, options)?).map_err(trust)?;
            Ok(Verifier { inner: Arc::new(verifier) })
        })
    }

    /// Authenticate one request: token (within `limits.maxTokenBytes`; verified once, and cached
    /// once a request's proof with it verified) → identity → revocation → freshness and the token's
    /// expiry → proof of possession → replay. No Datalog runs here. Returns the verified token and
    /// the holder's identity; throws REPLAYED for a nonce seen inside the window, STORE_UNAVAILABLE
    /// when a store cannot answer.
    #[napi(catch_unwind)]
    pub fn authenticate(
        &self,
        proof: WorkerProof,
        request: HttpRequest,
        options: Option<VerifierClock>,
    ) -> Result<Authenticated> {
        guard(|| {
            let now = options.unwrap_or_default().now;
            let verified = self.inner.authenticate(&proof.into(), &request.core(), now).map_err(trust)?;
            Ok(authenticated(verified))
        })
    }

    /// `authenticate` off the JS thread (the libuv pool; with Redis, the addon's own threads, so a
    /// slow Redis never holds the pool the host's `fs`/`crypto`/`dns` calls need): signature
    /// checks and store round trips never block the event loop.
    #[napi(catch_unwind, ts_return_type = "Promise<Authenticated>")]
    pub fn authenticate_async(
        &self,
        proof: WorkerProof,
        request: HttpRequest,
        options: Option<VerifierClock>,
    ) -> Result<Async<Authenticated>> {
        guard(|| {
            let (verifier, now, proof) = (Arc::clone(&self.inner), options.unwrap_or_default().now, proof.into());
            // copied: the caller's buffer may change while the pool thread reads
            let (method, path, body) = (request.method, request.path, body_bytes(&request.body).to_vec());
            Ok(Async::new(self.on_redis(), move || {
                let request = core::Request::new(&method, &path, &body);
                verifier.authenticate(&proof, &request, now).map(authenticated)
            }))
        })
    }

    /// Authenticate many requests at once: an array of `{ ok: true, token, identity }` or
    /// `{ ok: false, error }`, one per request, in order. Each request goes through the checks of
    /// `authenticate` and gets the outcome it would get alone, except that a (holder, nonce)
    /// repeated in one batch is REPLAYED after its first use, whatever became of that one; a
    /// refusal is an entry, never thrown. A batch over
    /// `maxBatchRequests` requests or `maxBatchBodyBytes` of bodies is refused whole: it throws
    /// LIMIT_EXCEEDED before any body is copied. The proofs of the requests
    /// that reach that step are checked with one Ed25519 batch verification, about half the cost of
    /// checking them one by one; when it fails each is checked on its own to name the failures.
    /// Batch verification is not strict verification: it accepts a signature that strict checking
    /// refuses only when the holder built it with small-order components, which needs the holder's
    /// own key (no one else can forge one). Use `authenticate` where that matters. A value of the
    /// wrong JS type anywhere in the batch throws a TypeError before any request is checked.
    #[napi(
        catch_unwind,
        ts_args_type = "requests: Array<BatchRequest>, options?: VerifierClock | undefined | null",
        ts_return_type = "Array<BatchResult>"
    )]
    pub fn authenticate_batch(&self, requests: Unknown, options: Option<VerifierClock>) -> Result<Vec<BatchResult>> {
        guard(|| {
            let now = options.unwrap_or_default().now;
            // byte bodies are read where they are (the call returns before JS runs again), strings
            // copied once as their UTF-8 bytes
            let parts = batch_requests(&self.inner, &requests)?
                .into_iter()
                .map(|BatchEntry { proof, method, path, body }| Ok((proof, method, path, BodyBytes::read(body)?)))
                .collect::<Result<Vec<_>>>()?;
            let batch: Vec<(&core::WorkerProof, core::Request<'_>)> = parts
                .iter()
                .map(|(proof, method, path, body)| (proof, core::Request::new(method, path, body.as_slice())))
                .collect();
            let outcomes = self.inner.authenticate_batch(&batch, now).map_err(trust)?;
            Ok(outcomes.into_iter().map(batch_result).collect())
        })
    }

    /// `authenticateBatch` off the JS thread, as `authenticateAsync` (a batch of 64 is about a
    /// millisecond of CPU).
    #[napi(
        catch_unwind,
        ts_args_type = "requests: Array<BatchRequest>, options?: VerifierClock | undefined | null",
        ts_return_type = "Promise<Array<BatchResult>>"
    )]
    pub fn authenticate_batch_async(
        &self,
        requests: Unknown,
        options: Option<VerifierClock>,
    ) -> Result<Async<Vec<BatchResult>>> {
        guard(|| {
            let (verifier, now) = (Arc::clone(&self.inner), options.unwrap_or_default().now);
            // each body copied once, once the batch is known to be within its bounds (the caller's
            // buffer may change while the pool thread reads)
            let parts = batch_requests(&verifier, &requests)?
                .into_iter()
                .map(|BatchEntry { proof, method, path, body }| Ok((proof, method, path, owned_body(body)?)))
                .collect::<Result<Vec<_>>>()?;
            Ok(Async::new(self.on_redis(), move || {
                let batch: Vec<(&core::WorkerProof, core::Request<'_>)> = parts
                    .iter()
                    .map(|(proof, method, path, body)| (proof, core::Request::new(method, path, body)))
                    .collect();
                // a batch refused whole rejects the Promise; a request refused is an entry
                Ok(verifier.authenticate_batch(&batch, now)?.into_iter().map(batch_result).collect())
            }))
        })
    }

    /// Authorize with the verifier's limits: returns nothing when the policy allows, throws DENIED
    /// (or LIMIT_EXCEEDED) otherwise.
    #[napi(catch_unwind)]
    pub fn check_policy(&self, token: &Token, options: VerifierPolicyOptions) -> Result<()> {
        guard(|| {
            let facts = request_facts(&options.request_facts)?;
            let facts = facts.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            self.inner.check_policy(&token.inner, facts, &options.allow, options.now).map_err(trust)
        })
    }

    /// `checkPolicy` on the libuv thread pool.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn check_policy_async(&self, token: &Token, options: VerifierPolicyOptions) -> Result<AsyncTask<Work<()>>> {
        guard(|| {
            let (verifier, token) = (Arc::clone(&self.inner), token.inner.clone());
            let (facts, allow, now) = (request_facts(&options.request_facts)?, options.allow, options.now);
            Ok(AsyncTask::new(Work::new(move || {
                let facts = facts.iter().map(|(k, v)| (k.as_str(), v.as_str()));
                verifier.check_policy(&token, facts, &allow, now)
            })))
        })
    }

    /// Run any authorizer code against `token` with the verifier's limits; returns the index of
    /// the allow policy that matched, or throws DENIED / LIMIT_EXCEEDED.
    #[napi(catch_unwind)]
    pub fn authorize(&self, token: &Token, code: String, options: Option<VerifierAuthorizeOptions>) -> Result<u32> {
        guard(|| {
            let (now, externs) = (options.as_ref().and_then(|o| o.now), externs(&options));
            Ok(self.inner.authorize(&token.inner, &code, now, &externs).map_err(trust)? as u32)
        })
    }

    /// `authorize` on the libuv thread pool.
    #[napi(catch_unwind, ts_return_type = "Promise<number>")]
    pub fn authorize_async(
        &self,
        token: &Token,
        code: String,
        options: Option<VerifierAuthorizeOptions>,
    ) -> Result<AsyncTask<Work<u32>>> {
        guard(|| {
            let (verifier, token) = (Arc::clone(&self.inner), token.inner.clone());
            let (now, externs) = (options.as_ref().and_then(|o| o.now), externs(&options));
            Ok(AsyncTask::new(Work::new(move || verifier.authorize(&token, &code, now, &externs).map(|i| i as u32))))
        })
    }

    /// Verify a job as `verifyJob` does (the signature against this verifier's issuer key(s), the
    /// worker, `expires_at`) and use up a single-use job: one with a `nonce` is accepted once, then
    /// REPLAYED, here and on every verifier sharing its Redis. The nonce is recorded only after the
    /// signature and expiry pass, and kept until the job expires (at most a day ahead, else
    /// JOB_INVALID).
    #[napi(catch_unwind, ts_args_type = "job: Record<string, unknown>, workerId: string, options?: VerifierClock")]
    pub fn verify_job(&self, job: Unknown<'_>, worker_id: String, options: Option<VerifierClock>) -> Result<()> {
        guard(|| {
            let now = options.unwrap_or_default().now;
            self.inner
                .verify_job(&json_object_arg(job, "job", core::ErrorCode::JobInvalid)?, &worker_id, now)
                .map_err(trust)
        })
    }

    /// `verifyJob` off the JS thread, as `authenticateAsync`.
    #[napi(
        catch_unwind,
        ts_args_type = "job: Record<string, unknown>, workerId: string, options?: VerifierClock",
        ts_return_type = "Promise<void>"
    )]
    pub fn verify_job_async(
        &self,
        job: Unknown<'_>,
        worker_id: String,
        options: Option<VerifierClock>,
    ) -> Result<Async<()>> {
        guard(|| {
            let (verifier, job, now) = (
                Arc::clone(&self.inner),
                json_object_arg(job, "job", core::ErrorCode::JobInvalid)?,
                options.unwrap_or_default().now,
            );
            Ok(Async::new(self.on_redis(), move || verifier.verify_job(&job, &worker_id, now)))
        })
    }

    /// Trust these issuer key(s) from now on, in place of those trusted so far (issuer key
    /// rotation: first the old and the new key, `{1: old, 2: new}`, later the new one alone). Cached
    /// tokens are dropped, so a token of a key no longer trusted is TOKEN_INVALID from the next
    /// request on. Checked as the constructor's (MALFORMED_INPUT).
    #[napi(catch_unwind, ts_args_type = "issuer: string | Record<string, string>")]
    pub fn set_issuer(&self, issuer: IssuerArg) -> Result<()> {
        guard(|| {
            self.inner.set_issuer(issuer_keys(&issuer)?);
            Ok(())
        })
    }

    /// Revoke an id (an app revocation id, or a block's revocation id in hex): every request that
    /// carries it is refused (REVOKED) from the next one on, cached tokens included; with Redis, on
    /// every verifier sharing the store. Hex in upper case is the same id; an id with whitespace, a
    /// `0x` prefix, or empty is MALFORMED_INPUT (it could never match).
    #[napi(catch_unwind)]
    pub fn revoke(&self, id: String) -> Result<()> {
        guard(|| self.inner.revoke(&id).map_err(trust))
    }

    /// `revoke` off the JS thread, as `authenticateAsync`.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn revoke_async(&self, id: String) -> Result<Async<()>> {
        guard(|| {
            let verifier = Arc::clone(&self.inner);
            Ok(Async::new(self.on_redis(), move || verifier.revoke(&id)))
        })
    }

    /// Revoke a whole token (a `Token`, from `authenticate` or `parseToken`): its app revocation id
    /// and every block's id, so tokens derived from it are refused too, and other tokens that share
    /// its app id as well.
    #[napi(catch_unwind)]
    pub fn revoke_token(&self, token: &Token) -> Result<()> {
        guard(|| self.inner.revoke_token(&token.inner).map_err(trust))
    }

    /// `revokeToken` off the JS thread, as `authenticateAsync`.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn revoke_token_async(&self, token: &Token) -> Result<Async<()>> {
        guard(|| {
            let (verifier, token) = (Arc::clone(&self.inner), token.inner.clone());
            Ok(Async::new(self.on_redis(), move || verifier.revoke_token(&token)))
        })
    }

    /// Whether a call may wait on the network: true with the stores on Redis (a round trip per
    /// request, up to the request timeout when Redis is slow or gone), false with the stores in
    /// memory, where every call is CPU work only (tens of µs). On the event loop, use the Promise
    /// forms (`decideAsync`…) of a verifier that may wait; the plain forms of one that cannot cost
    /// less than the hop to a thread (trustcore/express and trustcore/fastify choose so).
    #[napi(getter, catch_unwind)]
    pub fn may_wait_on_network(&self) -> Result<bool> {
        guard(|| Ok(self.inner.may_wait_on_network()))
    }

    /// The token cache's counters (kept in this process: no I/O).
    #[napi(catch_unwind)]
    pub fn cache_stats(&self) -> Result<CacheStats> {
        guard(|| {
            let stats = self.inner.cache_stats();
            Ok(CacheStats {
                hits: stats.hits as f64,
                misses: stats.misses as f64,
                entries: stats.entries as f64,
                bytes: stats.bytes as f64,
            })
        })
    }

    /// Its settings, never the Redis URL (it may hold a password).
    #[napi(js_name = "toString", catch_unwind)]
    pub fn to_display(&self) -> Result<String> {
        guard(|| Ok(self.inner.to_string()))
    }
}
