//! What the signer does with one request: the policy checks, the signing, and the audit entry,
//! with no sockets involved (the daemon in `trustcore signer serve` only moves frames).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Mutex;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::audit::{AuditLog, AuditRecord};
use super::protocol::{error_response, ok_response, parse_request, request_id, Op};
use crate::error::{Error, ErrorCode, Result};
use crate::jobs::{job_signing_bytes, sign_job};
use crate::keys::IssuerKey;
use crate::mint::{mint, MintRequest};

/// What the signer itself allows, whatever an app asks for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SignerPolicy {
    /// A token may live at most this long from the moment it is minted.
    pub max_ttl_seconds: Option<f64>,
    /// App fact predicates a token may carry; `None` allows any (valid, unreserved) predicate.
    pub allowed_predicates: Option<BTreeSet<String>>,
    /// Unix users allowed to ask (checked against the peer's credentials); `None` allows any peer
    /// that can open the socket.
    pub allowed_uids: Option<BTreeSet<u32>>,
    /// Workers a job may be signed for (`sign_job`'s `worker_id`); `None` allows any.
    pub allowed_job_workers: Option<BTreeSet<String>>,
    /// Job kinds that may be signed (the job's `"kind"`, which must then be a string); `None`
    /// allows any job.
    pub allowed_job_kinds: Option<BTreeSet<String>>,
    /// The highest `delegation_depth` a minted token may allow (docs/DESIGN.md §3.13); 0, the
    /// default, mints no delegable token.
    pub max_delegation_depth: u32,
}

/// Who is asking, as the operating system reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Peer {
    /// A Unix socket peer, from SO_PEERCRED.
    Unix { uid: u32, gid: u32, pid: i32 },
    /// A loopback TCP peer.
    Tcp(SocketAddr),
    /// A caller in the same process (tests, benchmarks).
    InProcess,
}

impl Peer {
    pub fn to_json(&self) -> Value {
        match self {
            Peer::Unix { uid, gid, pid } => serde_json::json!({"uid": uid, "gid": gid, "pid": pid}),
            Peer::Tcp(address) => serde_json::json!({"address": address.to_string()}),
            Peer::InProcess => serde_json::json!({"in_process": true}),
        }
    }
}

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Peer::Unix { uid, pid, .. } => write!(f, "uid={uid} pid={pid}"),
            Peer::Tcp(address) => write!(f, "tcp={address}"),
            Peer::InProcess => f.write_str("in-process"),
        }
    }
}

/// One answer and what the daemon logs about it (no secret, no token).
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub response: Map<String, Value>,
    pub op: Option<Op>,
    /// `None` when the request succeeded.
    pub error: Option<ErrorCode>,
    pub holder_id: Option<String>,
    /// The connection should be closed after this answer: the peer is not allowed, or its frame
    /// could not be read (the stream is out of step).
    pub close: bool,
}

/// What one successful operation leaves for the audit log.
#[derive(Default)]
struct Signed {
    holder_id: Option<String>,
    revocation_id: Option<String>,
    signed_sha256: Option<String>,
}

/// The signer: the issuer key, its policy and its audit log. Shared by every connection.
pub struct SignerService {
    key: IssuerKey,
    key_id: Option<u32>,
    policy: SignerPolicy,
    audit: Option<Mutex<AuditLog>>,
}

impl std::fmt::Debug for SignerService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignerService").field("key", &self.key).field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

fn refused(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::SignerRefused, message)
}

fn args_only(args: &Map<String, Value>, allowed: &[&str]) -> Result<()> {
    match args.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => Err(Error::malformed(format!("unexpected argument {key:?}"))),
        None => Ok(()),
    }
}

fn string_arg<'a>(args: &'a Map<String, Value>, name: &str) -> Result<&'a str> {
    match args.get(name) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(Error::malformed(format!("{name} must be a string"))),
        None => Err(Error::malformed(format!("missing argument {name}"))),
    }
}

/// `facts`: `[[predicate, [value, …]], …]`, an array so the predicates keep their order on the
/// wire (frames are JCS, which sorts object keys).
fn facts_arg(args: &Map<String, Value>) -> Result<Vec<(String, Vec<String>)>> {
    let shape = || Error::malformed("facts must be an array of [predicate, [value, ...]] pairs");
    let Some(facts) = args.get("facts") else { return Ok(Vec::new()) };
    let pairs = facts.as_array().ok_or_else(shape)?;
    pairs
        .iter()
        .map(|pair| match pair.as_array().map(Vec::as_slice) {
            Some([Value::String(predicate), Value::Array(values)]) => {
                let values: Result<Vec<String>> =
                    values.iter().map(|v| v.as_str().map(str::to_owned).ok_or_else(shape)).collect();
                Ok((predicate.clone(), values?))
            }
            _ => Err(shape()),
        })
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl SignerService {
    pub fn new(key: IssuerKey, key_id: Option<u32>, policy: SignerPolicy, audit: Option<AuditLog>) -> Self {
        SignerService { key, key_id, policy, audit: audit.map(Mutex::new) }
    }

    pub fn public_hex(&self) -> String {
        self.key.public_hex()
    }

    pub fn key_id(&self) -> Option<u32> {
        self.key_id
    }

    /// Answer one request frame from `peer` at `now` (seconds). Every answer is audited first; when
    /// the audit log cannot be written the answer is SIGNER_UNAVAILABLE and nothing signed leaves.
    pub fn answer(&self, frame: &Map<String, Value>, peer: &Peer, now: f64) -> Answer {
        let id = request_id(frame);
        // the peer first: someone not allowed learns nothing about what a request should look like
        if let Err(refused) = self.check_peer(peer) {
            let mut answer = self.finish(id, None, Err(refused), peer, now);
            answer.close = true;
            return answer;
        }
        let request = parse_request(frame);
        let op = request.as_ref().ok().map(|r| r.op);
        let outcome = request.and_then(|request| self.dispatch(request.op, &request.args, now));
        self.finish(id, op, outcome, peer, now)
    }

    /// Answer a frame that could not be read (FRAME_INVALID): audited like any other answer.
    pub fn answer_unreadable(&self, error: &Error, peer: &Peer, now: f64) -> Answer {
        let mut answer = self.finish(Value::Null, None, Err(error.clone()), peer, now);
        answer.close = true;
        answer
    }

    fn finish(
        &self,
        id: Value,
        op: Option<Op>,
        outcome: Result<(Map<String, Value>, Signed)>,
        peer: &Peer,
        now: f64,
    ) -> Answer {
        let (error, signed) = match &outcome {
            Ok((_, signed)) => (None, Some(signed)),
            Err(e) => (Some(e.code()), None),
        };
        let holder_id = signed.and_then(|s| s.holder_id.clone());
        let audited = self.audit(op, error, signed, peer, now);
        let (response, error) = match (outcome, audited) {
            (Ok((result, _)), Ok(())) => (ok_response(id, result), None),
            (Err(e), Ok(())) => (error_response(id, &e), Some(e.code())),
            (_, Err(e)) => (error_response(id, &e), Some(e.code())),
        };
        Answer { response, op, error, holder_id, close: false }
    }

    fn audit(
        &self,
        op: Option<Op>,
        error: Option<ErrorCode>,
        signed: Option<&Signed>,
        peer: &Peer,
        now: f64,
    ) -> Result<()> {
        let Some(audit) = &self.audit else { return Ok(()) };
        let record = AuditRecord {
            op: op.map(Op::name),
            peer: peer.to_json(),
            outcome: error.map_or("ok", ErrorCode::name),
            holder_id: signed.and_then(|s| s.holder_id.as_deref()),
            revocation_id: signed.and_then(|s| s.revocation_id.as_deref()),
            signed_sha256: signed.and_then(|s| s.signed_sha256.as_deref()),
            key_id: self.key_id,
        };
        let time_ms = if now.is_finite() && now > 0.0 { (now * 1000.0) as u64 } else { 0 };
        audit
            .lock()
            .map_err(|_| Error::new(ErrorCode::SignerUnavailable, "audit log unavailable"))?
            .append(&record, time_ms)
    }

    /// Whether `peer` may use the signer at all: a server asks when the peer connects, before it
    /// counts against any limit or any byte of it is read.
    pub fn peer_allowed(&self, peer: &Peer) -> bool {
        self.check_peer(peer).is_ok()
    }

    fn check_peer(&self, peer: &Peer) -> Result<()> {
        let Some(uids) = &self.policy.allowed_uids else { return Ok(()) };
        match peer {
            Peer::Unix { uid, .. } if uids.contains(uid) => Ok(()),
            Peer::InProcess => Ok(()),
            _ => Err(refused("this peer is not allowed to use the signer")),
        }
    }

    fn dispatch(&self, op: Op, args: &Map<String, Value>, now: f64) -> Result<(Map<String, Value>, Signed)> {
        match op {
            Op::PublicKey => {
                args_only(args, &[])?;
                let mut result = Map::new();
                result.insert("public_key".into(), self.public_hex().into());
                result.insert("key_id".into(), self.key_id.into());
                Ok((result, Signed::default()))
            }
            Op::Health => {
                args_only(args, &[])?;
                let mut result = Map::new();
                result.insert("status".into(), "ok".into());
                result.insert("public_key".into(), self.public_hex().into());
                result.insert("key_id".into(), self.key_id.into());
                result.insert("version".into(), env!("CARGO_PKG_VERSION").into());
                let audit = match &self.audit {
                    Some(audit) => {
                        let audit = audit
                            .lock()
                            .map_err(|_| Error::new(ErrorCode::SignerUnavailable, "audit log unavailable"))?;
                        serde_json::json!({"entries": audit.entries(), "head": audit.head()})
                    }
                    None => Value::Null,
                };
                result.insert("audit".into(), audit);
                Ok((result, Signed::default()))
            }
            Op::Mint => self.mint(args, now),
            Op::SignJob => {
                args_only(args, &["job", "worker_id"])?;
                let job = match args.get("job") {
                    Some(Value::Object(job)) => job,
                    _ => return Err(Error::malformed("job must be an object")),
                };
                let worker_id = string_arg(args, "worker_id")?;
                if self.policy.allowed_job_workers.as_ref().is_some_and(|workers| !workers.contains(worker_id)) {
                    return Err(refused("jobs for this worker are not signed here"));
                }
                if let Some(kinds) = &self.policy.allowed_job_kinds {
                    match job.get("kind") {
                        Some(Value::String(kind)) if kinds.contains(kind) => {}
                        _ => return Err(refused("jobs of this kind are not signed here")),
                    }
                }
                let bytes = job_signing_bytes(job, worker_id)?;
                let sig = sign_job(&self.key, job, worker_id)?;
                let mut result = Map::new();
                result.insert("sig".into(), sig.into());
                let signed = Signed {
                    holder_id: Some(worker_id.to_owned()),
                    revocation_id: None,
                    signed_sha256: Some(sha256_hex(&bytes)),
                };
                Ok((result, signed))
            }
        }
    }

    fn mint(&self, args: &Map<String, Value>, now: f64) -> Result<(Map<String, Value>, Signed)> {
        args_only(args, &["public_hex", "holder_id", "facts", "revocation_id", "expires_at", "delegation_depth"])?;
        let delegation_depth = match args.get("delegation_depth") {
            None | Some(Value::Null) => 0,
            Some(Value::Number(n)) => n
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| Error::malformed("delegation_depth must be a whole number"))?,
            Some(_) => return Err(Error::malformed("delegation_depth must be a whole number")),
        };
        if delegation_depth > self.policy.max_delegation_depth {
            return Err(refused(format!(
                "delegation_depth {delegation_depth} is beyond the signer's ceiling of {}",
                self.policy.max_delegation_depth
            )));
        }
        let expires_at = match args.get("expires_at") {
            Some(Value::Number(n)) => {
                n.as_f64().filter(|t| t.is_finite()).ok_or_else(|| Error::malformed("bad expires_at"))?
            }
            _ => return Err(Error::malformed("expires_at must be a number (seconds since the epoch)")),
        };
        let facts = facts_arg(args)?;
        if let Some(max_ttl) = self.policy.max_ttl_seconds {
            if expires_at.floor() - now > max_ttl {
                return Err(refused(format!("expiry is beyond the signer's max ttl of {max_ttl} s")));
            }
        }
        if let Some(allowed) = &self.policy.allowed_predicates {
            if let Some((predicate, _)) = facts.iter().find(|(p, _)| !allowed.contains(p)) {
                return Err(refused(format!("the signer does not grant predicate {predicate:?}")));
            }
        }
        let revocation_id = match args.get("revocation_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) => Some(id.clone()),
            Some(_) => return Err(Error::malformed("revocation_id must be a string")),
        };
        let request = MintRequest {
            public_hex: string_arg(args, "public_hex")?.to_owned(),
            holder_id: string_arg(args, "holder_id")?.to_owned(),
            facts,
            revocation_id,
            expires_at,
            root_key_id: self.key_id,
            delegation_depth,
        };
        let minted = mint(&self.key, &request)?;
        let mut result = Map::new();
        result.insert("token".into(), minted.token.clone().into());
        result.insert("revocation_id".into(), minted.revocation_id.clone().into());
        result.insert("expires_at".into(), (expires_at.floor() as u64).into());
        let signed = Signed {
            holder_id: Some(request.holder_id),
            revocation_id: Some(minted.revocation_id),
            signed_sha256: Some(sha256_hex(minted.token.as_bytes())),
        };
        Ok((result, signed))
    }
}
