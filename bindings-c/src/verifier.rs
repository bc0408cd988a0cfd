//! `tc_verifier`: the stateful verifier (core `Verifier`, built by `Verifier::new` from a
//! `VerifierConfig`): replay protection, a revocation list that can grow, and a cache of verified
//! tokens. Its stores live in this process (the default) or on Redis, shared by every verifier that
//! names the same Redis and key prefix.

use std::ffi::c_char;
use std::sync::Arc;
use std::time::Duration;

use trustcore_core::http::HttpProfile;
use trustcore_core::{
    Error, ErrorCode, RedisConfig, Request, VerifiedToken, Verifier, VerifierConfig, WorkerProof,
    DEFAULT_MAX_BATCH_BODY_BYTES, DEFAULT_MAX_BATCH_REQUESTS, DEFAULT_MAX_SKEW_SECONDS, DEFAULT_REPLAY_CAPACITY,
    DEFAULT_TOKEN_CACHE_CAPACITY, DEFAULT_TOKEN_CACHE_MAX_BYTES,
};

use crate::boundary::{clear, free, guard, prepare_out, put, put_optional, run, Result};
use crate::error::{tc_error, tc_error_code, tc_error_message, tc_status};
use crate::identity::tc_identity;
use crate::input::{array, handle, malformed_error, pairs, strs, tc_pair, tc_str, text};
use crate::issuer::tc_issuer_keys;
use crate::policy::tc_limits;
use crate::proof::{tc_proof, tc_request};
use crate::token::tc_token;

/// A stateful verifier. Thread-safe: one verifier serves every thread of a service (its stores and
/// cache lock internally).
#[allow(non_camel_case_types)]
pub struct tc_verifier {
    pub(crate) verifier: Verifier,
}

/// An optional `size_t` setting: with `has` false the setting is not set (core's default applies)
/// and `value` is not read; with `has` true, `value` is the setting, passed to core as it is (0
/// included: core decides whether it accepts it).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tc_optional_usize {
    pub has: bool,
    pub value: usize,
}

/// How a verifier reaches Redis, for `tc_verifier_options.redis`. Make one with
/// `tc_redis_options_default()` (core's defaults, which `tc_verifier_options_default()` also puts in
/// `redis.value`), then set `url` and whatever else you need. Every value goes to core as it is;
/// core refuses what it cannot use (MALFORMED_INPUT), the binding only converts types.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tc_redis_options {
    /// `redis://[user:password@]host:port[/db]` or `redis+unix:///path/to/redis.sock`. The default is
    /// empty (NULL, length 0), which core refuses: a URL that does not parse, an empty one included,
    /// is MALFORMED_INPUT. A password in it never appears in an error message.
    pub url: *const c_char,
    pub url_len: usize,
    /// Prepended to every Redis key, so several deployments can share one Redis. The default points
    /// at core's prefix, static text: `trustcore:`, length 10 (a NUL follows it, not counted). Set
    /// your own to change it; like every (pointer, length) input, NULL with length 0 is the empty
    /// text: no prefix at all, never "the default".
    pub key_prefix: *const c_char,
    pub key_prefix_len: usize,
    /// Opening a connection, milliseconds (default 1000).
    pub connect_timeout_ms: u32,
    /// One command, sent and answered, milliseconds (default 500).
    pub command_timeout_ms: u32,
    /// All the Redis work of one request together (its commands, a connection it opens, a retry),
    /// milliseconds (default 1000): past it the request is STORE_UNAVAILABLE.
    pub request_timeout_ms: u32,
    /// The circuit breaker, milliseconds (default 1000): after a Redis failure every request is
    /// STORE_UNAVAILABLE at once, without touching Redis, for this long; then one request at a time
    /// probes Redis, and the first that succeeds closes the breaker.
    pub retry_interval_ms: u32,
    /// Idle connections kept for reuse (default 8; 0 opens one per command).
    pub max_idle: usize,
    /// The seed nodes of a Redis Cluster, `redis://[user:password@]host:port` each (any reachable
    /// one tells the cluster's layout). The default is none (NULL, count 0): one Redis at `url`.
    /// Given, `url` must be empty and `key_prefix` must not hold `{` or `}`: else MALFORMED_INPUT,
    /// from core.
    pub cluster: *const tc_str,
    pub cluster_count: usize,
}

/// Optional Redis stores: with `has` false (the default) the replay and revocation stores live in
/// this process and `value` is not read (a URL set there without `has` is ignored); with `has` true
/// they live on the Redis `value` describes.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tc_optional_redis_options {
    pub has: bool,
    pub value: tc_redis_options,
}

/// A verifier's settings. Always make one with `tc_verifier_options_default()` and then change the
/// fields you need; never fill one in from scratch (or with `= {...}` / `memset`). Fields are only
/// ever added at the end, and a program written that way keeps compiling with core's defaults for
/// whatever a later version adds. (The struct's size is part of the ABI, like every struct here: a
/// version that grows it changes the library's SONAME.)
///
/// A setting that may be absent is a `tc_optional_…` struct, `{ bool has; value; }`: `has` false
/// means "not set" (core's default or behaviour applies, `value` is not read), never a NULL pointer
/// or a zero standing for "unset". Every value is handed to core as it is, and core refuses what it
/// cannot use with MALFORMED_INPUT (a zero Redis timeout, one over a day, a negative skew…).
///
/// The stores: with `redis.has` false (the default) the replay and revocation stores live in this
/// process; with Redis they live on that Redis, shared by every verifier (in any process, on any
/// host) using the same URL and key prefix: a (holder, nonce) pair is accepted by exactly one of
/// them, and a revocation by one is seen by all from their next request. A Redis that cannot be
/// reached, or does not answer in time, makes requests STORE_UNAVAILABLE, never a pass; service
/// resumes by itself when Redis returns. Nothing connects in `tc_verifier_new` unless there are
/// initial revoked ids to write. A Redis command waits in a socket read bounded by the command
/// timeout, which a signal handled on the calling thread cuts short (even with SA_RESTART): that
/// request is STORE_UNAVAILABLE, so block such signals around the calls on request threads.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tc_verifier_options {
    /// Allowed clock skew either way, seconds (default 300; 0 is no skew at all); a replay entry
    /// lives `2 × skew + 1` s (the whole window in which its timestamp is fresh, plus a timestamp's
    /// resolution). Finite, not negative and at most a day, else MALFORMED_INPUT.
    pub max_skew_seconds: f64,
    /// The limits: `max_token_bytes` for every request's token (checked before decoding), all of them
    /// in `tc_verifier_check_policy` and `tc_verifier_authorize`.
    pub limits: tc_limits,
    /// The most (holder, nonce) pairs the in-process replay store remembers (default 100 000); when
    /// full and none expired, requests are refused (STORE_UNAVAILABLE) rather than a nonce
    /// forgotten. Each holder may hold only its share of it (`replay_capacity_per_holder`). Not used
    /// with Redis.
    pub replay_capacity: usize,
    /// The most (holder, nonce) pairs one holder may hold in the in-process replay store. Not set
    /// (the default): core's share, a quarter of `replay_capacity` (at least 1). Set: at least 1
    /// (core refuses 0 with MALFORMED_INPUT). Past its share a holder's requests are LIMIT_EXCEEDED
    /// until its entries expire, while other holders are served. Size it at the requests one holder
    /// sends in `2 × max_skew_seconds + 1` s. Not used with Redis.
    pub replay_capacity_per_holder: tc_optional_usize,
    /// Verified tokens kept in the cache (default 10 000, least recently used dropped first); 0
    /// turns the cache off (every request verifies its token's signatures). A token enters the cache
    /// only once a request's proof of possession with it verified.
    pub token_cache_capacity: usize,
    /// Memory the token cache may hold, bytes (default 64 MiB; each entry counts as 4096 + 4 times
    /// its token's length); the least recently used entries leave first. 0 turns the cache off.
    pub token_cache_max_bytes: u64,
    /// Requests one `tc_verifier_authenticate_batch` takes (default 1024); a larger batch is
    /// refused whole, LIMIT_EXCEEDED.
    pub max_batch_requests: usize,
    /// Body bytes of all the requests of one batch together (default 64 MiB); more is refused
    /// whole, LIMIT_EXCEEDED.
    pub max_batch_body_bytes: u64,
    /// Redis for the replay and revocation stores (default: not set, the stores in this process;
    /// `redis.value` already holds `tc_redis_options_default()`, so set `redis.has`, `redis.value.url`
    /// and `redis.value.url_len`, and change only what else you need).
    pub redis: tc_optional_redis_options,
    /// The authorities (`host[:port]`, any case: core lower-cases them) this service answers to, for
    /// `tc_verifier_decide`: an RFC 9421 signature made for another (its covered `@authority`, the
    /// request's `Host`) is WRONG_AUDIENCE. The default is none (NULL, count 0), and then every RFC
    /// 9421 request is WRONG_AUDIENCE (the legacy profile does not sign the host). An authority
    /// that is not `host[:port]` is MALFORMED_INPUT from `tc_verifier_new`.
    pub authorities: *const tc_str,
    pub authorities_count: usize,
    /// The HTTP profiles `tc_verifier_decide` accepts, a bit set of TC_HTTP_PROFILE_RFC9421 and
    /// TC_HTTP_PROFILE_LEGACY (default: both). Credentials in another profile are MALFORMED_INPUT
    /// (a refusal, status 401). 0 (no profile) is MALFORMED_INPUT from `tc_verifier_new`, from core;
    /// a bit that names no profile is MALFORMED_INPUT too.
    pub profiles: u32,
}

/// Core's Redis defaults (`RedisConfig`): no URL (set one), the key prefix `trustcore:`, 1000 ms to
/// connect, 500 ms per command, 1000 ms for all of a request's Redis work, a 1000 ms retry interval
/// after a failure, 8 idle connections.
#[no_mangle]
pub extern "C" fn tc_redis_options_default() -> tc_redis_options {
    guard(REDIS_DEFAULT, || REDIS_DEFAULT)
}

/// Core's defaults: 300 s skew, default limits, 100 000 replay entries (each holder a quarter of
/// them: `replay_capacity_per_holder` not set), a 10 000-token cache of at most 64 MiB, batches of at
/// most 1024 requests and 64 MiB of bodies, the stores in this process (`redis` not set, its value
/// `tc_redis_options_default()`), no authorities, both HTTP profiles.
#[no_mangle]
pub extern "C" fn tc_verifier_options_default() -> tc_verifier_options {
    guard(VERIFIER_DEFAULT, || VERIFIER_DEFAULT)
}

/// A duration as whole milliseconds (core's defaults are whole milliseconds, far below `u32::MAX`).
const fn millis(d: Duration) -> u32 {
    d.as_millis() as u32
}

/// Core's default key prefix followed by a NUL (not counted in the length), so that C may also
/// print it as a string.
const DEFAULT_KEY_PREFIX: &[u8; RedisConfig::DEFAULT_KEY_PREFIX.len() + 1] = &{
    let prefix = RedisConfig::DEFAULT_KEY_PREFIX.as_bytes();
    let mut out = [0u8; RedisConfig::DEFAULT_KEY_PREFIX.len() + 1];
    let mut i = 0;
    while i < prefix.len() {
        out[i] = prefix[i];
        i += 1;
    }
    out
};

/// Core's consts, read at compile time: nothing is built to read them, so nothing here can fail.
const REDIS_DEFAULT: tc_redis_options = tc_redis_options {
    url: std::ptr::null(),
    url_len: 0,
    key_prefix: DEFAULT_KEY_PREFIX.as_ptr().cast(),
    key_prefix_len: RedisConfig::DEFAULT_KEY_PREFIX.len(),
    connect_timeout_ms: millis(RedisConfig::DEFAULT_CONNECT_TIMEOUT),
    command_timeout_ms: millis(RedisConfig::DEFAULT_COMMAND_TIMEOUT),
    request_timeout_ms: millis(RedisConfig::DEFAULT_REQUEST_TIMEOUT),
    retry_interval_ms: millis(RedisConfig::DEFAULT_RETRY_INTERVAL),
    max_idle: RedisConfig::DEFAULT_MAX_IDLE,
    cluster: std::ptr::null(),
    cluster_count: 0,
};

const VERIFIER_DEFAULT: tc_verifier_options = tc_verifier_options {
    max_skew_seconds: DEFAULT_MAX_SKEW_SECONDS,
    limits: tc_limits::DEFAULT,
    replay_capacity: DEFAULT_REPLAY_CAPACITY,
    // not set: core gives each holder its share of replay_capacity
    replay_capacity_per_holder: tc_optional_usize { has: false, value: 0 },
    token_cache_capacity: DEFAULT_TOKEN_CACHE_CAPACITY,
    token_cache_max_bytes: DEFAULT_TOKEN_CACHE_MAX_BYTES,
    max_batch_requests: DEFAULT_MAX_BATCH_REQUESTS,
    max_batch_body_bytes: DEFAULT_MAX_BATCH_BODY_BYTES,
    redis: tc_optional_redis_options { has: false, value: REDIS_DEFAULT },
    authorities: std::ptr::null(),
    authorities_count: 0,
    // core's default list (VerifierConfig::new: every profile), as bits
    profiles: crate::http::profile_bits(&HttpProfile::ALL),
};

/// The Redis settings, converted for core (types only: core checks every value).
///
/// # Safety
/// The options' string pointers are NULL or readable for their lengths; `cluster` is NULL (count 0)
/// or points at `cluster_count` readable strings.
unsafe fn redis_config(options: &tc_redis_options) -> Result<RedisConfig> {
    // SAFETY: forwarded contract
    let url = unsafe { text(options.url, options.url_len, "redis url")? };
    let mut config = RedisConfig::new(url);
    // SAFETY: forwarded contract
    config.key_prefix = unsafe { text(options.key_prefix, options.key_prefix_len, "redis key_prefix")? }.to_owned();
    config.connect_timeout = Duration::from_millis(u64::from(options.connect_timeout_ms));
    config.command_timeout = Duration::from_millis(u64::from(options.command_timeout_ms));
    config.request_timeout = Duration::from_millis(u64::from(options.request_timeout_ms));
    config.retry_interval = Duration::from_millis(u64::from(options.retry_interval_ms));
    config.max_idle = options.max_idle;
    // SAFETY: forwarded contract
    config.cluster = unsafe { strs(options.cluster, options.cluster_count, "redis cluster seed node")? }
        .into_iter()
        .map(str::to_owned)
        .collect();
    Ok(config)
}

/// A verifier trusting `issuer`, with `options` (NULL = `tc_verifier_options_default()`) and an
/// initial revocation list. MALFORMED_INPUT, from core, for options it cannot use (a skew negative,
/// not finite or over a day; `replay_capacity_per_holder` set to 0; with `redis.has`, a URL that
/// does not parse, a Redis timeout or retry interval of 0 or over a day; an authority that is not
/// `host[:port]`; no HTTP profile; `profiles` naming an unknown bit). Core takes each
/// initial id in its one spelling, as `tc_verifier_revoke` does (hex in upper case is the same
/// id); an id that has none (empty, whitespace or a control character in it, hex behind `0x`) is
/// MALFORMED_INPUT and no verifier is made. With Redis the initial revoked ids are added to the shared set now:
/// STORE_UNAVAILABLE when Redis cannot take them. Without them, an unreachable Redis is not an
/// error here: each request is STORE_UNAVAILABLE until it answers.
///
/// # Safety
/// `issuer` is a live handle; `options` is NULL or readable, and when `options->redis.has`, the
/// string pointers of `options->redis.value` are NULL or readable for their lengths (its `cluster`
/// NULL, count 0, or `cluster_count` readable strings);
/// `options->authorities` is NULL (count 0) or points at `authorities_count` readable strings;
/// `revoked_ids` is NULL (count 0) or points at `revoked_count` readable strings; `out` is writable;
/// `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_verifier_new(
    issuer: *const tc_issuer_keys,
    options: *const tc_verifier_options,
    revoked_ids: *const tc_str,
    revoked_count: usize,
    out: *mut *mut tc_verifier,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        prepare_out(out)?;
        let issuer = handle(issuer, "issuer")?;
        let options = options.as_ref().copied().unwrap_or_else(|| tc_verifier_options_default());
        let mut config = VerifierConfig::new(issuer.keys.clone());
        config.max_skew_seconds = options.max_skew_seconds;
        config.limits = options.limits.into();
        config.replay_capacity = options.replay_capacity;
        config.token_cache_capacity = options.token_cache_capacity;
        config.token_cache_max_bytes = options.token_cache_max_bytes;
        config.max_batch_requests = options.max_batch_requests;
        config.max_batch_body_bytes = options.max_batch_body_bytes;
        let share = options.replay_capacity_per_holder;
        config.replay_capacity_per_holder = share.has.then_some(share.value);
        config.revoked_ids = strs(revoked_ids, revoked_count, "revoked id")?.into_iter().map(str::to_owned).collect();
        config.redis = if options.redis.has { Some(redis_config(&options.redis.value)?) } else { None };
        config.authorities =
            strs(options.authorities, options.authorities_count, "authority")?.into_iter().map(str::to_owned).collect();
        config.profiles = crate::http::profiles_of(options.profiles)?;
        put(out, tc_verifier { verifier: Verifier::new(config)? })
    })
}

/// Authenticate one request as `tc_authenticate` does, plus: the token comes from the cache when it
/// was seen before, the revocation list is the verifier's, and a (holder, nonce) pair seen again
/// inside the window is REPLAYED (recorded only after the proof verified). `now` NULL is the system
/// clock. The token handle shares the cached token (no copy); a token is cached only once a request's
/// proof with it verified.
///
/// # Safety
/// `verifier` and `proof` are live handles; `request` is readable with valid parts; `now` is NULL or
/// readable; `token_out`, `identity_out` and `err` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_verifier_authenticate(
    verifier: *const tc_verifier,
    proof: *const tc_proof,
    request: *const tc_request,
    now: *const f64,
    token_out: *mut *mut tc_token,
    identity_out: *mut *mut tc_identity,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear(token_out);
        clear(identity_out);
        let verifier = &handle(verifier, "verifier")?.verifier;
        let proof = handle(proof, "proof")?;
        let request = crate::proof::request(request)?;
        let verified = verifier.authenticate(&proof.proof, &request, now.as_ref().copied())?;
        put_optional(identity_out, tc_identity::from(verified.identity.clone()));
        put_optional(token_out, tc_token::shared(verified));
        Ok(())
    })
}

/// The outcomes of `tc_verifier_authenticate_batch`, one per request, in order. Owned by the
/// caller: release it with `tc_batch_result_free`. Immutable: safe to share between threads.
#[allow(non_camel_case_types)]
pub struct tc_batch_result {
    items: Vec<std::result::Result<Accepted, tc_error>>,
}

/// An accepted request: its token (shared with the verifier's cache) and its identity.
struct Accepted {
    verified: Arc<VerifiedToken>,
    identity: tc_identity,
}

/// Authenticate `count` requests at once: request i is `requests[i]` with the proof `proofs[i]`.
/// Every request goes through the checks of `tc_verifier_authenticate`, and gets the status it would
/// get there alone, read with `tc_batch_result_status(*out, i)`; the proofs of those that reach that
/// step are checked together with one Ed25519 batch verification (about half the cost of checking
/// them one by one), and when that fails each is checked on its own (strict) to name the failing
/// ones. Nonces are recorded in order, so a (holder, nonce) pair used twice in one batch is REPLAYED
/// the second time, before any signature work. `now` NULL is the system clock, read once for the
/// whole batch.
///
/// Batch verification is not strict verification: it accepts a signature that strict checking
/// refuses only when the holder built it with small-order components, which needs the holder's own
/// key (no one else can forge one). Where that matters, use `tc_verifier_authenticate`.
///
/// The call itself returns TC_OK, with `*out` a new result (count 0 included), unless its
/// arguments are bad or the batch is too large; `*out` is then NULL and no request is
/// authenticated (no nonce spent). `verifier` NULL, `proofs` or `requests` NULL with `count` > 0,
/// or `out` NULL are MALFORMED_INPUT (TC_INTERNAL for a caught panic). More than the verifier's
/// `max_batch_requests` requests, or bodies (their `body_len`, added up) over its
/// `max_batch_body_bytes`, are LIMIT_EXCEEDED, decided before any body is read. A NULL entry of
/// `proofs` or a request with bad parts (NULL with a length, invalid UTF-8) is that request's
/// MALFORMED_INPUT only: the others are still authenticated.
///
/// # Safety
/// `verifier` is NULL or a live handle; `proofs` is NULL (count 0) or points at `count` pointers,
/// each NULL or a live `tc_proof`; `requests` is NULL (count 0) or points at `count` readable
/// `tc_request`s, their parts as documented on `tc_request`; `now` is NULL or readable; `out` is
/// NULL or writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_verifier_authenticate_batch(
    verifier: *const tc_verifier,
    proofs: *const *const tc_proof,
    requests: *const tc_request,
    count: usize,
    now: *const f64,
    out: *mut *mut tc_batch_result,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        prepare_out(out)?;
        let verifier = &handle(verifier, "verifier")?.verifier;
        let proofs = array(proofs, count, "proofs")?;
        let requests = array(requests, count, "requests")?;
        // an oversized batch is refused whole before any body is read (bodies are borrowed, never copied)
        verifier.check_batch_size(count, requests.iter().map(|r| r.body_len as u64))?;
        // a request whose inputs do not convert is refused on its own, as it would be alone
        let inputs: Vec<Result<(&WorkerProof, Request<'_>)>> = proofs
            .iter()
            .zip(requests)
            .map(|(proof, request)| Ok((&handle(*proof, "proof")?.proof, crate::proof::request(request)?)))
            .collect();
        let items = verifier
            .authenticate_batch_converted(&inputs, now.as_ref().copied())?
            .into_iter()
            .map(|outcome| match outcome {
                Ok(verified) => Ok(Accepted { identity: tc_identity::from(verified.identity.clone()), verified }),
                Err(e) => Err(tc_error::new(&e)),
            })
            .collect();
        put(out, tc_batch_result { items })
    })
}

/// The item `index` of `result`, when both exist.
///
/// # Safety
/// `result` is NULL or a live handle.
unsafe fn item<'a>(
    result: *const tc_batch_result,
    index: usize,
) -> Option<&'a std::result::Result<Accepted, tc_error>> {
    // SAFETY: the caller's contract
    unsafe { result.as_ref() }.and_then(|r| r.items.get(index))
}

/// The number of requests in `result` (the batch's `count`); 0 when `result` is NULL.
///
/// # Safety
/// `result` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn tc_batch_result_count(result: *const tc_batch_result) -> usize {
    guard(0, || unsafe { result.as_ref() }.map_or(0, |r| r.items.len()))
}

/// Request `index`'s status: TC_OK when it was accepted, else the code `tc_verifier_authenticate`
/// would have returned for it alone. MALFORMED_INPUT too when `result` is NULL or `index` is not
/// below `tc_batch_result_count` (loop below the count and that never happens).
///
/// # Safety
/// `result` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn tc_batch_result_status(result: *const tc_batch_result, index: usize) -> tc_status {
    guard(tc_status::TC_INTERNAL, || match unsafe { item(result, index) } {
        Some(Ok(_)) => tc_status::TC_OK,
        Some(Err(e)) => unsafe { tc_error_code(e) },
        None => tc_status::TC_MALFORMED_INPUT,
    })
}

/// Request `index`'s error message when it was refused (what `tc_error_message` would say for it
/// alone), NUL-terminated, borrowed: valid until `tc_batch_result_free`. An empty string when it
/// was accepted, `result` is NULL or `index` is out of range.
///
/// # Safety
/// `result` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn tc_batch_result_message(result: *const tc_batch_result, index: usize) -> *const c_char {
    guard(c"".as_ptr(), || match unsafe { item(result, index) } {
        Some(Err(e)) => unsafe { tc_error_message(e) },
        _ => c"".as_ptr(),
    })
}

/// Request `index`'s identity when it was accepted, borrowed: valid until `tc_batch_result_free`
/// (read it with the `tc_identity_` getters; never pass it to `tc_identity_free`). NULL when it was
/// refused, `result` is NULL or `index` is out of range.
///
/// # Safety
/// `result` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn tc_batch_result_identity(result: *const tc_batch_result, index: usize) -> *const tc_identity {
    guard(std::ptr::null(), || match unsafe { item(result, index) } {
        Some(Ok(accepted)) => &accepted.identity as *const tc_identity,
        _ => std::ptr::null(),
    })
}

/// Request `index`'s token when it was accepted: TC_OK and a new handle in `*token_out` (it shares
/// the verifier's cached token, no copy; it outlives `result` and is released with
/// `tc_token_free`; each call makes a new one). When the request was refused, its status and
/// details, as `tc_verifier_authenticate` would have returned them, with `*token_out` NULL.
/// MALFORMED_INPUT when `result` is NULL, `index` is out of range or `token_out` is NULL.
///
/// # Safety
/// `result` is NULL or a live handle; `token_out` is NULL or writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_batch_result_token(
    result: *const tc_batch_result,
    index: usize,
    token_out: *mut *mut tc_token,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        prepare_out(token_out)?;
        let result = handle(result, "result")?;
        match result.items.get(index) {
            None => Err(malformed_error("index out of range")),
            Some(Err(refused)) => Err(refused.to_error()),
            Some(Ok(accepted)) => put(token_out, tc_token::shared(accepted.verified.clone())),
        }
    })
}

/// Release a batch result (tokens taken from it stay valid). NULL is accepted and ignored.
///
/// # Safety
/// `result` is NULL or a handle not yet freed, used by no other thread; it is not used afterwards
/// (nor the identities and messages borrowed from it).
#[no_mangle]
pub unsafe extern "C" fn tc_batch_result_free(result: *mut tc_batch_result) {
    unsafe { free(result) }
}

/// `tc_check_policy` with the verifier's limits; `now` NULL is the system clock.
///
/// # Safety
/// `verifier` and `token` are live handles; `facts` is NULL (count 0) or points at `facts_count`
/// pairs of readable strings; `allow` is NULL (length 0) or readable; `now` is NULL or readable;
/// `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_verifier_check_policy(
    verifier: *const tc_verifier,
    token: *const tc_token,
    facts: *const tc_pair,
    facts_count: usize,
    allow: *const c_char,
    allow_len: usize,
    now: *const f64,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        let verifier = &handle(verifier, "verifier")?.verifier;
        let token = handle(token, "token")?;
        let facts = pairs(facts, facts_count, "request fact")?;
        verifier.check_policy(token.token(), facts, text(allow, allow_len, "allow")?, now.as_ref().copied())
    })
}

/// `tc_authorize` with the verifier's limits; `now` NULL is the system clock (a `time` fact is always
/// added here). On TC_OK, `*policy_out` is the index of the allow policy that matched.
///
/// # Safety
/// `verifier` and `token` are live handles; `code` is NULL (length 0) or readable; `now` is NULL or
/// readable; `extern_functions` is NULL (count 0) or points at `extern_count` readable strings;
/// `policy_out` is writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_verifier_authorize(
    verifier: *const tc_verifier,
    token: *const tc_token,
    code: *const c_char,
    code_len: usize,
    now: *const f64,
    extern_functions: *const tc_str,
    extern_count: usize,
    policy_out: *mut usize,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        let verifier = &handle(verifier, "verifier")?.verifier;
        let token = handle(token, "token")?;
        let code = text(code, code_len, "code")?;
        let externs: Vec<String> =
            strs(extern_functions, extern_count, "extern function")?.into_iter().map(str::to_owned).collect();
        if policy_out.is_null() {
            return Err(Error::new(ErrorCode::MalformedInput, "policy_out is NULL"));
        }
        policy_out.write(verifier.authorize(token.token(), code, now.as_ref().copied(), &externs)?);
        Ok(())
    })
}

/// Revoke an id (an app revocation id, or a block's revocation id in hex): refused from the next
/// request on. Core takes the id in its one spelling (hex in upper case is the same id); an id that
/// has none (empty, whitespace or a control character in it, hex behind `0x`) is MALFORMED_INPUT,
/// never stored unmatched. With Redis, STORE_UNAVAILABLE when Redis cannot take it.
///
/// # Safety
/// `verifier` is a live handle; `revocation_id` is NULL (length 0) or readable; `err` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn tc_verifier_revoke(
    verifier: *const tc_verifier,
    revocation_id: *const c_char,
    revocation_id_len: usize,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        let verifier = &handle(verifier, "verifier")?.verifier;
        verifier.revoke(text(revocation_id, revocation_id_len, "revocation_id")?)
    })
}

/// Trust `issuer` from now on, in place of the keys trusted so far (core's `Verifier::set_issuer`:
/// issuer key rotation, first the old and the new key together, later the new one alone). Cached
/// tokens are dropped, so a token of a key no longer trusted is TOKEN_INVALID from the next request
/// on. The verifier copies the keys: `issuer` may be freed after the call.
///
/// # Safety
/// `verifier` and `issuer` are live handles; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_verifier_set_issuer(
    verifier: *const tc_verifier,
    issuer: *const tc_issuer_keys,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        let verifier = &handle(verifier, "verifier")?.verifier;
        verifier.set_issuer(handle(issuer, "issuer")?.keys.clone());
        Ok(())
    })
}

/// Revoke a whole token: its app revocation id and every block's id (core's `Verifier::revoke_token`),
/// so tokens derived from it (blocks appended) are refused too, and so are other tokens sharing its
/// app id. Refused from the next request on. With Redis, STORE_UNAVAILABLE when Redis cannot take
/// the ids (some may have been stored: call again). `token` is any parsed token (`tc_token_parse`
/// with the issuer key(s), or one a verifier returned).
///
/// # Safety
/// `verifier` and `token` are live handles; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_verifier_revoke_token(
    verifier: *const tc_verifier,
    token: *const tc_token,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        let verifier = &handle(verifier, "verifier")?.verifier;
        verifier.revoke_token(handle(token, "token")?.token())
    })
}

/// The token cache's counters (each out-pointer may be NULL; zeros when `verifier` is NULL): `hits`
/// and `misses` since the verifier was made, `entries` the tokens cached now and `bytes` their cost
/// as counted against `token_cache_max_bytes`.
///
/// # Safety
/// `verifier` is NULL or a live handle; `hits`, `misses`, `entries` and `bytes` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_verifier_cache_stats(
    verifier: *const tc_verifier,
    hits: *mut u64,
    misses: *mut u64,
    entries: *mut u64,
    bytes: *mut u64,
) {
    guard((), || unsafe {
        let stats = verifier.as_ref().map(|v| v.verifier.cache_stats());
        for (out, value) in [
            (hits, stats.map_or(0, |s| s.hits)),
            (misses, stats.map_or(0, |s| s.misses)),
            (entries, stats.map_or(0, |s| s.entries)),
            (bytes, stats.map_or(0, |s| s.bytes)),
        ] {
            if !out.is_null() {
                out.write(value);
            }
        }
    })
}

/// Whether a call on `verifier` may wait on the network: true with its stores on Redis (a round
/// trip per request, up to the request timeout when Redis is slow or gone), false with the stores
/// in memory, where every call is CPU work only (tens of µs). A server on an event loop runs the
/// calls of a verifier that may wait on a worker thread, and those of one that cannot inline.
/// false when `verifier` is NULL.
///
/// # Safety
/// `verifier` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn tc_verifier_may_wait_on_network(verifier: *const tc_verifier) -> bool {
    guard(false, || unsafe { verifier.as_ref() }.is_some_and(|v| v.verifier.may_wait_on_network()))
}

/// Release a verifier. NULL is accepted and ignored.
///
/// # Safety
/// `verifier` is NULL or a handle not yet freed, used by no other thread; it is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn tc_verifier_free(verifier: *mut tc_verifier) {
    unsafe { free(verifier) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trustcore_core::Limits;

    #[test]
    fn defaults_are_cores() {
        let o = tc_verifier_options_default();
        let issuer = trustcore_core::IssuerKey::generate().unwrap().public_key();
        let core = VerifierConfig::new(trustcore_core::IssuerKeys::one(issuer));
        assert_eq!(o.max_skew_seconds, core.max_skew_seconds);
        assert_eq!(Limits::from(o.limits), core.limits);
        assert_eq!(o.replay_capacity, core.replay_capacity);
        assert_eq!(o.replay_capacity_per_holder.has, core.replay_capacity_per_holder.is_some());
        assert_eq!(o.token_cache_capacity, core.token_cache_capacity);
        assert_eq!(o.token_cache_max_bytes, core.token_cache_max_bytes);
        assert_eq!(o.max_batch_requests, core.max_batch_requests);
        assert_eq!(o.max_batch_body_bytes, core.max_batch_body_bytes);
        assert_eq!(o.redis.has, core.redis.is_some());
        assert!(o.authorities.is_null() && o.authorities_count == 0 && core.authorities.is_empty());
        assert_eq!(crate::http::profiles_of(o.profiles).unwrap(), core.profiles);

        // the Redis defaults, converted back, are RedisConfig::new's (the URL aside: there is none)
        let r = tc_redis_options_default();
        assert!(r.url.is_null() && r.url_len == 0);
        assert!(r.cluster.is_null() && r.cluster_count == 0);
        let mut converted = unsafe { redis_config(&r) }.unwrap();
        let core = RedisConfig::new("");
        assert_eq!(converted.key_prefix, core.key_prefix);
        assert_eq!(converted.connect_timeout, core.connect_timeout);
        assert_eq!(converted.command_timeout, core.command_timeout);
        assert_eq!(converted.request_timeout, core.request_timeout);
        assert_eq!(converted.retry_interval, core.retry_interval);
        assert_eq!(converted.max_idle, core.max_idle);
        assert_eq!(converted.cluster, core.cluster);
        converted.url = core.url.clone();
        assert_eq!(format!("{converted:?}"), format!("{core:?}"));
        // the default prefix can be read as a C string too
        let prefix = unsafe { std::ffi::CStr::from_ptr(r.key_prefix) };
        assert_eq!(prefix.to_bytes(), RedisConfig::DEFAULT_KEY_PREFIX.as_bytes());
        assert_eq!(r.key_prefix_len, prefix.to_bytes().len());
        // and it is the one tc_verifier_options_default() holds
        assert_eq!(tc_verifier_options_default().redis.value.key_prefix, r.key_prefix);
    }
}
