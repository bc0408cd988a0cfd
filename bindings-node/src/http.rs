//! HTTP (core `http`, docs/DESIGN.md §10): the headers a client adds to sign a request in either
//! profile, the RFC 9421 pieces on their own (a signature base, one signature verified, a
//! Content-Digest, a key's JWK thumbprint), the route policy, and the Verifier's one decision per
//! request. Conversions only: the profile, the routes, the facts and the status table are core's.

use std::sync::Arc;

use napi::bindgen_prelude::{AsyncTask, Buffer, ClassInstance, ToNapiValue, TypeName, Unknown};
use napi::{sys, ValueType};
use serde_json::{Map, Value};
use trustcore_core as core;
use trustcore_core::http;

use crate::authenticate::Identity;
use crate::convert::{body_bytes, header_lines, integer, named_values, owned_body, Body, BodyBytes, BodyRef};
use crate::error::{guard, malformed, trust, Result, Work};
use crate::keys::{bytes_of, Bytes, WorkerKey};
use crate::offload::Async;
use crate::verifier::Verifier;

/// One HTTP request as a server received it. `target` is the request target in origin form
/// (`/path?query`, Node's `req.url`), `headers` its header lines in the order they came, `body`
/// the exact bytes received (a string is taken as UTF-8; left out, empty).
#[napi(object, object_to_js = false)]
pub struct HttpMessage<'env> {
    pub method: String,
    pub target: String,
    #[napi(ts_type = "import('./trustcore').HeaderLines")]
    pub headers: Unknown<'env>,
    #[napi(ts_type = "Buffer | Uint8Array | string")]
    pub body: Option<BodyRef<'env>>,
}

/// A request read out of JS, owning its parts but the body (read or copied by each call).
struct Message {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
}

impl Message {
    fn read(message: HttpMessage<'_>) -> Result<(Self, Option<BodyRef<'_>>)> {
        let headers = header_lines(&message.headers)?;
        Ok((Message { method: message.method, target: message.target, headers }, message.body))
    }

    /// Run `f` on the request as core sees it.
    fn with<T>(&self, body: &[u8], f: impl FnOnce(&http::HttpRequest<'_>) -> core::Result<T>) -> core::Result<T> {
        let lines = line_refs(&self.headers);
        f(&http::HttpRequest::new(&self.method, &self.target, &lines, body))
    }
}

/// The header lines as core reads them.
fn line_refs(headers: &[(String, String)]) -> Vec<(&str, &str)> {
    headers.iter().map(|(name, value)| (name.as_str(), value.as_str())).collect()
}

/// Run `f` on a request whose body is read in place (the call returns before JS runs again).
fn with_request<T>(request: HttpMessage<'_>, f: impl FnOnce(&http::HttpRequest<'_>) -> core::Result<T>) -> Result<T> {
    let (message, body) = Message::read(request)?;
    let body = BodyBytes::read(body)?;
    message.with(body.as_slice(), f).map_err(trust)
}

/// An object of header name → value, in the order core gives them.
fn header_object(headers: Vec<(String, String)>) -> Map<String, Value> {
    headers.into_iter().map(|(name, value)| (name, Value::String(value))).collect()
}

/// Header lines as a JS object, name → value, in core's order (JS keeps the insertion order of
/// names that are not array indices, as header names never are).
pub struct Headers(Map<String, Value>);

impl TypeName for Headers {
    fn type_name() -> &'static str {
        "Record<string, string>"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for Headers {
    unsafe fn to_napi_value(env: sys::napi_env, value: Self) -> napi::Result<sys::napi_value> {
        // SAFETY: the env napi handed over, passed on as is
        unsafe { Map::to_napi_value(env, value.0) }
    }
}

/// What to sign and how (core `SignRequest`).
#[napi(object, object_to_js = false)]
pub struct SignRequestOptions<'env> {
    pub method: String,
    /// A full `http(s)://host[:port]/path?query` URL, or an origin-form target (`/path?query`)
    /// with the authority in a `Host` header of `headers`.
    pub url: String,
    /// The request's other headers: only `Host` is read, for an origin-form `url`.
    #[napi(ts_type = "import('./trustcore').HeaderLines")]
    pub headers: Option<Unknown<'env>>,
    #[napi(ts_type = "Buffer | Uint8Array | string")]
    pub body: Option<Body>,
    /// `'rfc9421'` (default): `Authorization`, `Content-Digest`, `Signature-Input`, `Signature`;
    /// `'legacy'`: trust-core 0.1's `Authorization` and `X-EP-*` headers.
    #[napi(ts_type = "'rfc9421' | 'legacy'")]
    pub profile: Option<String>,
    /// Seconds since the epoch, a whole number; left out, now.
    pub created: Option<f64>,
    /// Left out: 128 random bits in hex.
    pub nonce: Option<String>,
}

/// `SignRequestOptions` converted, owning everything (for the thread pool too).
struct Signing {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    profile: http::HttpProfile,
    created: Option<i64>,
    nonce: Option<String>,
}

impl Signing {
    fn read(options: &SignRequestOptions<'_>) -> Result<Self> {
        let headers = match &options.headers {
            None => Vec::new(),
            Some(headers) => header_lines(headers)?,
        };
        let profile = match &options.profile {
            None => http::HttpProfile::Rfc9421,
            Some(name) => http::HttpProfile::from_name(name).map_err(trust)?,
        };
        let created = options.created.map(|created| integer(created, "created")).transpose()?;
        Ok(Signing {
            method: options.method.clone(),
            url: options.url.clone(),
            headers,
            profile,
            created,
            nonce: options.nonce.clone(),
        })
    }

    fn sign(&self, key: &core::WorkerKey, token: &str, body: &[u8]) -> core::Result<Headers> {
        let lines = line_refs(&self.headers);
        let request = http::SignRequest {
            method: &self.method,
            url: &self.url,
            headers: &lines,
            body,
            profile: self.profile,
            created: self.created,
            nonce: self.nonce.as_deref(),
        };
        http::sign_request(key, token, &request).map(|headers| Headers(header_object(headers)))
    }
}

/// The headers to add to a request so that it carries `token` and the holder's proof, in core's
/// order: `Authorization`, `Content-Digest`, `Signature-Input`, `Signature` (RFC 9421, the
/// trustcore profile), or `Authorization` and the three `X-EP-*` headers (`profile: 'legacy'`).
#[napi(
    catch_unwind,
    ts_args_type = "key: WorkerKey, token: string, request: SignRequestOptions",
    ts_return_type = "Record<string, string>"
)]
pub fn sign_request(key: &WorkerKey, token: String, request: SignRequestOptions) -> Result<Headers> {
    guard(|| Signing::read(&request)?.sign(&key.inner, &token, body_bytes(&request.body)).map_err(trust))
}

/// `signRequest` on the libuv thread pool (the body is hashed there).
#[napi(
    catch_unwind,
    ts_args_type = "key: WorkerKey, token: string, request: SignRequestOptions",
    ts_return_type = "Promise<Record<string, string>>"
)]
pub fn sign_request_async(
    key: &WorkerKey,
    token: String,
    request: SignRequestOptions,
) -> Result<AsyncTask<Work<Headers>>> {
    guard(|| {
        let (signing, key) = (Signing::read(&request)?, key.inner.clone());
        // copied: the caller's buffer may change while the pool thread reads
        let body = body_bytes(&request.body).to_vec();
        Ok(AsyncTask::new(Work::new(move || signing.sign(&key, &token, &body))))
    })
}

/// The RFC 9421 signature base of the signature labelled `label` on `request`: the exact bytes
/// its signer signed (for debugging a client).
#[napi(catch_unwind)]
pub fn signature_base(request: HttpMessage, label: String) -> Result<Buffer> {
    guard(|| with_request(request, |request| http::signature_base(request, &label)).map(Buffer::from))
}

/// Verify the signature labelled `label` on `request` with an Ed25519 public key (hex), strictly,
/// and nothing else: no profile, no clock, no replay. Returns nothing; throws POP_FAILED when it
/// does not verify, MALFORMED_INPUT when the request cannot be read.
#[napi(catch_unwind)]
pub fn verify_message_signature(request: HttpMessage, label: String, public_hex: String) -> Result<()> {
    guard(|| {
        let key = core::PublicKey::from_hex(&public_hex).map_err(trust)?;
        with_request(request, |request| http::verify_message_signature(request, &label, &key))
    })
}

/// The RFC 9530 `Content-Digest` value a signer sends for `body`: `sha-256=:…:`.
#[napi(catch_unwind, ts_args_type = "body: Buffer | Uint8Array | string")]
pub fn content_digest(body: Bytes) -> Result<String> {
    guard(|| Ok(http::content_digest(bytes_of(&body))))
}

/// The RFC 7638 JWK thumbprint (base64url, no padding) of an Ed25519 public key (hex): the
/// `keyid` of a trustcore signature.
#[napi(catch_unwind)]
pub fn jwk_thumbprint(public_hex: String) -> Result<String> {
    guard(|| Ok(http::jwk_thumbprint(&core::PublicKey::from_hex(&public_hex).map_err(trust)?)))
}

/// A route policy (docs/DESIGN.md §10.2): routes by method and path template, each public or
/// guarded by an allow policy; an unmatched route is refused. Read whole and checked by core when
/// made; shared freely (one per process, or one per set of routes).
#[napi]
pub struct HttpPolicy {
    pub(crate) inner: Arc<http::HttpPolicy>,
}

#[napi]
impl HttpPolicy {
    /// A policy from its JSON text: `{"routes": [{"method", "path", "allow" | "public": true}, …],
    /// "max_body_bytes": n}`. MALFORMED_INPUT for anything core refuses.
    #[napi(factory, catch_unwind, configurable = true, ts_args_type = "text: string | Buffer | Uint8Array")]
    pub fn from_json(text: Bytes) -> Result<HttpPolicy> {
        guard(|| Ok(HttpPolicy { inner: Arc::new(http::HttpPolicy::from_json(bytes_of(&text)).map_err(trust)?) }))
    }

    /// A policy from a JSON file (read synchronously: a start-up call).
    #[napi(factory, catch_unwind, configurable = true)]
    pub fn from_file(path: String) -> Result<HttpPolicy> {
        guard(|| Ok(HttpPolicy { inner: Arc::new(http::HttpPolicy::from_file(&path).map_err(trust)?) }))
    }

    /// The largest body a request may carry (a larger one is refused, status 413): a server reads
    /// no more than this.
    #[napi(getter, catch_unwind)]
    pub fn max_body_bytes(&self) -> Result<f64> {
        guard(|| Ok(self.inner.max_body_bytes() as f64))
    }

    /// The refusal (413, LIMIT_EXCEEDED) of a body of `length` bytes, or null when the policy
    /// allows it: `decide`'s first step on its own. A server asks it with the announced
    /// Content-Length and answers the refusal before reading the body. A length that is not a
    /// finite whole number at least 0 is MALFORMED_INPUT.
    #[napi(catch_unwind)]
    pub fn body_length_refusal(&self, length: f64) -> Result<Option<Decision>> {
        guard(|| {
            // NaN and the infinities fail too: they are not finite
            if !length.is_finite() || length < 0.0 || length.fract() != 0.0 {
                return Err(malformed("length must be a whole number at least 0"));
            }
            // `as` saturates: a length past u64 is u64::MAX, over any cap
            Ok(self.inner.body_length_refusal(length as u64).map(decision))
        })
    }

    /// How many routes the policy holds.
    #[napi(getter, catch_unwind)]
    pub fn route_count(&self) -> Result<u32> {
        guard(|| Ok(self.inner.routes().len() as u32))
    }

    #[napi(js_name = "toString", catch_unwind)]
    pub fn to_display(&self) -> Result<String> {
        guard(|| {
            Ok(format!(
                "HttpPolicy(routes={}, maxBodyBytes={})",
                self.inner.routes().len(),
                self.inner.max_body_bytes()
            ))
        })
    }
}

/// What `decide` needs besides the request.
#[napi(object, object_to_js = false)]
pub struct DecideOptions<'env> {
    #[napi(ts_type = "HttpPolicy")]
    pub policy: ClassInstance<'env, HttpPolicy>,
    /// The application's own facts about this request, each named `req_…` and none of core's
    /// (MALFORMED_INPUT otherwise, thrown): `{ name: value }` or `[[name, value], …]`.
    #[napi(ts_type = "Record<string, string> | Array<[string, string]> | null")]
    pub facts: Option<Unknown<'env>>,
    /// Seconds since the epoch; left out, the system clock.
    pub now: Option<f64>,
}

/// What to do with a request (core `Decision`): serve it (`allowed`), or answer `status` with
/// `headers` and `body`.
// made in JS (shapes.rs), as Identity
#[napi(object, object_from_js = false, object_to_js = false, use_nullable = true)]
pub struct Decision {
    pub allowed: bool,
    /// 200 when allowed; else the refusal's status (400, 401, 403, 413, 500, 503).
    pub status: u32,
    /// null when allowed.
    #[napi(ts_type = "import('./trustcore').ErrorCode")]
    pub code: Option<&'static str>,
    /// For operators: which check refused and why (`'allowed'` when allowed). Never a secret.
    pub message: String,
    /// The refusal's headers (`Content-Type`, `WWW-Authenticate`, `Retry-After`); none when allowed.
    #[napi(ts_type = "Record<string, string>")]
    pub headers: Map<String, Value>,
    /// The refusal's JSON body `{"error": CODE, "message": …}`; empty when allowed.
    pub body: String,
    /// Who sent the request; null on a public route or a refusal.
    pub identity: Option<Identity>,
    /// The request facts the policy saw, core's then the application's, in order.
    #[napi(ts_type = "Array<[string, string]>")]
    pub facts: Vec<[String; 2]>,
    /// The route template that matched; null when none did.
    pub route: Option<String>,
    /// How the credentials came; null on a public route, or when none were read.
    #[napi(ts_type = "'rfc9421' | 'legacy'")]
    pub profile: Option<&'static str>,
}

fn decision(decision: http::Decision) -> Decision {
    Decision {
        allowed: decision.allowed,
        status: u32::from(decision.status),
        code: decision.code.map(|code| code.name()),
        message: decision.message,
        headers: header_object(decision.headers),
        body: decision.body,
        identity: decision.identity.map(Identity::from),
        facts: decision.facts.into_iter().map(|(name, value)| [name, value]).collect(),
        route: decision.route,
        profile: decision.profile.map(|profile| profile.name()),
    }
}

fn decide(
    verifier: &core::Verifier,
    message: &Message,
    body: &[u8],
    policy: &http::HttpPolicy,
    facts: &[(String, String)],
    now: Option<f64>,
) -> core::Result<Decision> {
    message.with(body, |request| verifier.decide(request, policy, &line_refs(facts), now)).map(decision)
}

#[napi]
impl Verifier {
    /// Decide one request under a route policy (docs/DESIGN.md §10.3): body cap → request shape →
    /// route → credentials in either accepted profile (token, revocation, freshness, proof,
    /// replay, as `authenticate`) → the route's allow policy over the request's facts. Every
    /// refusal is a decision (`allowed: false` with its status, headers and body), never thrown;
    /// only a caller's mistake throws (a bad application fact: MALFORMED_INPUT; a wrong JS type: a
    /// TypeError). Runs on the JS thread: a server uses it when `mayWaitOnNetwork` is false (CPU
    /// only), and `decideAsync` with Redis.
    #[napi(catch_unwind, ts_args_type = "request: HttpMessage, options: DecideOptions")]
    pub fn decide(&self, request: HttpMessage, options: DecideOptions) -> Result<Decision> {
        guard(|| {
            let ((message, body), facts) =
                (Message::read(request)?, named_values(options.facts.as_ref(), "facts", true)?);
            let body = BodyBytes::read(body)?;
            decide(&self.inner, &message, body.as_slice(), &options.policy.inner, &facts, options.now).map_err(trust)
        })
    }

    /// `decide` off the JS thread (the libuv pool; with Redis, the addon's own threads, so a slow
    /// Redis never holds the pool): the signature checks and every store round trip. The body is
    /// copied once.
    #[napi(
        catch_unwind,
        ts_args_type = "request: HttpMessage, options: DecideOptions",
        ts_return_type = "Promise<Decision>"
    )]
    pub fn decide_async(&self, request: HttpMessage, options: DecideOptions) -> Result<Async<Decision>> {
        guard(|| {
            let ((message, body), facts) =
                (Message::read(request)?, named_values(options.facts.as_ref(), "facts", true)?);
            let (verifier, policy, now) = (Arc::clone(&self.inner), Arc::clone(&options.policy.inner), options.now);
            // copied: the caller's buffer may change while the pool thread reads
            let body = owned_body(body)?;
            Ok(Async::new(self.on_redis(), move || decide(&verifier, &message, &body, &policy, &facts, now)))
        })
    }
}
