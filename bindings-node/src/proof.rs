//! The request a proof binds, the proof itself, and its two transports (headers, query).

use napi::bindgen_prelude::{AsyncTask, Buffer, Object};
use serde_json::{Map, Value};
use trustcore_core as core;

use crate::convert::{body_bytes, string_pairs, Body};
use crate::error::{guard, trust, Result, Work};
use crate::keys::WorkerKey;

/// One HTTP request as the proof binds it. `path` includes the query string (`req.originalUrl`);
/// `body` is the exact bytes received (a string is taken as UTF-8; absent means empty).
#[napi(object, object_to_js = false)]
pub struct HttpRequest {
    pub method: String,
    pub path: String,
    #[napi(ts_type = "Buffer | Uint8Array | string")]
    pub body: Option<Body>,
}

impl HttpRequest {
    pub fn core(&self) -> core::Request<'_> {
        core::Request::new(&self.method, &self.path, body_bytes(&self.body))
    }
}

/// What a holder attaches to a request: token (base64), signature (hex), timestamp and nonce, as sent.
#[napi(object)]
#[derive(Clone)]
pub struct WorkerProof {
    pub token: String,
    pub signature: String,
    pub timestamp: String,
    pub nonce: String,
}

impl From<core::WorkerProof> for WorkerProof {
    fn from(p: core::WorkerProof) -> Self {
        WorkerProof { token: p.token, signature: p.signature, timestamp: p.timestamp, nonce: p.nonce }
    }
}

impl From<WorkerProof> for core::WorkerProof {
    fn from(p: WorkerProof) -> Self {
        core::WorkerProof { token: p.token, signature: p.signature, timestamp: p.timestamp, nonce: p.nonce }
    }
}

/// The bytes a holder signs: method, path, hex(sha256(body)), timestamp and nonce, one per line.
#[napi(catch_unwind)]
pub fn canonical_request(request: HttpRequest, timestamp: String, nonce: String) -> Result<Buffer> {
    guard(|| Ok(request.core().canonical(&timestamp, &nonce).map_err(trust)?.into()))
}

/// Sign `request` with the holder's key; the caller picks timestamp and nonce.
#[napi(catch_unwind)]
pub fn make_proof(
    worker: &WorkerKey,
    token: String,
    request: HttpRequest,
    timestamp: String,
    nonce: String,
) -> Result<WorkerProof> {
    guard(|| {
        let proof = core::make_proof(&worker.inner, &token, &request.core(), &timestamp, &nonce).map_err(trust)?;
        Ok(proof.into())
    })
}

/// `makeProof` on the libuv thread pool.
#[napi(catch_unwind, ts_return_type = "Promise<WorkerProof>")]
pub fn make_proof_async(
    worker: &WorkerKey,
    token: String,
    request: HttpRequest,
    timestamp: String,
    nonce: String,
) -> Result<AsyncTask<Work<WorkerProof>>> {
    guard(|| {
        let worker = worker.inner.clone();
        let (method, path, body) = (request.method.clone(), request.path.clone(), body_bytes(&request.body).to_vec());
        Ok(AsyncTask::new(Work::new(move || {
            let request = core::Request::new(&method, &path, &body);
            core::make_proof(&worker, &token, &request, &timestamp, &nonce).map(WorkerProof::from)
        })))
    })
}

/// Read a proof from HTTP headers: Node's `req.headers` (lower-cased names), a fetch `Headers`, or
/// `[name, value]` pairs. Names match case-insensitively; values are trimmed.
#[napi(
    catch_unwind,
    ts_args_type = "headers: Record<string, string | string[] | undefined> | Iterable<[string, string]>"
)]
pub fn proof_from_headers(headers: Object) -> Result<WorkerProof> {
    guard(|| Ok(core::proof_from_headers(string_pairs(&headers)?).map_err(trust)?.into()))
}

/// Read a proof from query parameters `token`, `sig`, `ts`, `nonce` (`req.query`, a
/// `URLSearchParams`, or pairs).
#[napi(
    catch_unwind,
    ts_args_type = "query: Record<string, string | string[] | undefined> | Iterable<[string, string]>"
)]
pub fn proof_from_query(query: Object) -> Result<WorkerProof> {
    guard(|| Ok(core::proof_from_query(string_pairs(&query)?).map_err(trust)?.into()))
}

/// The four headers that carry `proof` (`Authorization: Biscuit …`, `X-EP-Signature`, …).
#[napi(catch_unwind, ts_return_type = "Record<string, string>")]
pub fn proof_headers(proof: WorkerProof) -> Result<Map<String, Value>> {
    guard(|| Ok(pairs_of(core::WorkerProof::from(proof).headers())))
}

/// The same proof as query parameters (`token`, `sig`, `ts`, `nonce`).
#[napi(catch_unwind, ts_return_type = "Record<string, string>")]
pub fn proof_query(proof: WorkerProof) -> Result<Map<String, Value>> {
    guard(|| Ok(pairs_of(core::WorkerProof::from(proof).query())))
}

/// An object in the order core gives (the order trust-core 0.1 wrote them).
fn pairs_of(pairs: [(&'static str, String); 4]) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), Value::String(v))).collect()
}
