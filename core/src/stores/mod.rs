//! The stateful verifier's stores: which (holder, nonce) pairs were seen, and which ids are revoked.
//! A store that cannot answer says STORE_UNAVAILABLE; no store failure is ever read as "fresh" or
//! "not revoked".

pub mod memory;
pub mod redis;

use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::keys::PublicKey;

/// When all of one request's store work must be over: the verifier takes one per request and hands
/// it to every store call of that request, so a slow or silent store costs a request at most this
/// long in total, whatever mix of connects, commands and retries it needed. In-memory stores never
/// wait and ignore it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline(Option<Instant>);

impl Deadline {
    /// No deadline: each store bounds its own waits.
    pub const NONE: Deadline = Deadline(None);

    /// `budget` from now.
    pub fn after(budget: Duration) -> Deadline {
        Deadline(Instant::now().checked_add(budget))
    }

    /// The time left (`None` once it has passed), capped at `cap`: what one wait may take.
    pub fn left(&self, cap: Duration) -> Option<Duration> {
        match self.0 {
            None => Some(cap),
            Some(at) => at.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()).map(|d| d.min(cap)),
        }
    }
}

/// Remembers (holder key, nonce) pairs for a while.
pub trait ReplayStore: Send + Sync {
    /// Record `key` until `now + ttl_seconds`. Ok(true) when it was not seen inside its window (the
    /// request is fresh), Ok(false) when it was (a replay).
    fn record(&self, key: &ReplayKey, now: f64, ttl_seconds: f64) -> Result<bool> {
        self.record_by(key, now, ttl_seconds, Deadline::NONE)
    }

    /// [`ReplayStore::record`] over by `deadline` (STORE_UNAVAILABLE past it).
    fn record_by(&self, key: &ReplayKey, now: f64, ttl_seconds: f64, deadline: Deadline) -> Result<bool>;
}

/// A store shared by reference (a test or a monitor keeps a handle on what the verifier uses).
impl<T: ReplayStore + ?Sized> ReplayStore for std::sync::Arc<T> {
    // both forwarded: a store's own `record` (Redis bounds it by its request timeout) stays its own
    fn record(&self, key: &ReplayKey, now: f64, ttl_seconds: f64) -> Result<bool> {
        (**self).record(key, now, ttl_seconds)
    }

    fn record_by(&self, key: &ReplayKey, now: f64, ttl_seconds: f64, deadline: Deadline) -> Result<bool> {
        (**self).record_by(key, now, ttl_seconds, deadline)
    }
}

/// The set of revoked ids, shared by every request of a verifier.
pub trait RevocationStore: Send + Sync {
    fn is_revoked(&self, id: &str) -> Result<bool>;
    fn revoke(&self, id: &str) -> Result<()>;

    /// Whether any of `ids` is revoked (a token's app id and block ids): a store on the network
    /// answers all of them in one round trip, over by `deadline` (STORE_UNAVAILABLE past it).
    fn any_revoked(&self, ids: &[String], _deadline: Deadline) -> Result<bool> {
        for id in ids {
            if self.is_revoked(id)? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// What one request's admission says: the revocation check and the replay record made in one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// No id revoked, and the pair was not seen inside its window: it is recorded now.
    Fresh,
    /// No id revoked, but the pair was seen inside its window.
    Replayed,
    /// An id is revoked: nothing was recorded.
    Revoked,
}

/// A store that checks a request's revocation ids and records its (holder, nonce) pair in one
/// step, atomically (Redis: one script, one round trip). The verifier asks it only after the proof
/// of possession verified, so a forged request burns no nonce.
pub trait AdmissionStore: Send + Sync {
    /// Record `key` for `ttl_seconds` unless one of `ids` is revoked; over by `deadline`.
    fn admit(&self, key: &ReplayKey, ids: &[String], ttl_seconds: f64, deadline: Deadline) -> Result<Admission>;

    /// [`AdmissionStore::admit`] for many requests at once (one pipeline), one outcome each, in
    /// order; the whole call fails when the store cannot answer.
    fn admit_all(
        &self,
        items: &[(ReplayKey, &[String])],
        ttl_seconds: f64,
        deadline: Deadline,
    ) -> Result<Vec<Admission>>;
}

/// One (holder, nonce) pair: sha256(holder public key bytes || nonce), and the holder's key bytes
/// (the in-memory store gives each holder a share). Keyed on the key's bytes, never on how a token
/// spells it: a key written in upper case by one token and lower case by another is one holder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReplayKey {
    digest: [u8; 32],
    holder: [u8; 32],
}

impl ReplayKey {
    pub fn new(holder: &PublicKey, nonce: &str) -> Self {
        let mut hasher = Sha256::new();
        // the key is fixed-length, so the concatenation is unambiguous
        hasher.update(holder.as_bytes());
        hasher.update(nonce.as_bytes());
        ReplayKey { digest: hasher.finalize().into(), holder: *holder.as_bytes() }
    }

    /// A single-use job's nonce, for the issuer key that signed it and the worker it names:
    /// sha256 of a label no holder key can start with (`trustcore-job` and a zero byte are not a
    /// curve point anyone holds the key of), the key, the worker id's length and bytes, and the
    /// nonce. Shares the store with requests; counted against the issuer key's share.
    pub fn for_job(issuer: &PublicKey, worker_id: &str, nonce: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"trustcore-job\0");
        hasher.update(issuer.as_bytes());
        hasher.update((worker_id.len() as u64).to_be_bytes());
        hasher.update(worker_id.as_bytes());
        hasher.update(nonce.as_bytes());
        ReplayKey { digest: hasher.finalize().into(), holder: *issuer.as_bytes() }
    }

    /// What the stores key on: the nonce's text is not kept.
    pub fn digest(&self) -> &[u8; 32] {
        &self.digest
    }

    pub fn holder(&self) -> &[u8; 32] {
        &self.holder
    }
}
