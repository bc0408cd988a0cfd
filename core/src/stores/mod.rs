//! The stateful verifier's stores: which (holder, nonce) pairs were seen, and which ids are revoked.
//! A store that cannot answer says STORE_UNAVAILABLE; no store failure is ever read as "fresh" or
//! "not revoked".

pub mod memory;
pub mod redis;

use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::keys::PublicKey;

/// Remembers (holder key, nonce) pairs for a while.
pub trait ReplayStore: Send + Sync {
    /// Record `key` until `now + ttl_seconds`. Ok(true) when it was not seen inside its window (the
    /// request is fresh), Ok(false) when it was (a replay).
    fn record(&self, key: &ReplayKey, now: f64, ttl_seconds: f64) -> Result<bool>;
}

/// A store shared by reference (a test or a monitor keeps a handle on what the verifier uses).
impl<T: ReplayStore + ?Sized> ReplayStore for std::sync::Arc<T> {
    fn record(&self, key: &ReplayKey, now: f64, ttl_seconds: f64) -> Result<bool> {
        (**self).record(key, now, ttl_seconds)
    }
}

/// The set of revoked ids, shared by every request of a verifier.
pub trait RevocationStore: Send + Sync {
    fn is_revoked(&self, id: &str) -> Result<bool>;
    fn revoke(&self, id: &str) -> Result<()>;

    /// Whether any of `ids` is revoked (a token's app id and block ids): a store on the network
    /// answers all of them in one round trip.
    fn any_revoked(&self, ids: &[String]) -> Result<bool> {
        for id in ids {
            if self.is_revoked(id)? {
                return Ok(true);
            }
        }
        Ok(false)
    }
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

    /// What the stores key on: the nonce's text is not kept.
    pub fn digest(&self) -> &[u8; 32] {
        &self.digest
    }

    pub fn holder(&self) -> &[u8; 32] {
        &self.holder
    }
}
