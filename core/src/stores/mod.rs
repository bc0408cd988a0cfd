//! The stateful verifier's stores: which (holder, nonce) pairs were seen, and which ids are revoked.
//! A store that cannot answer says STORE_UNAVAILABLE; no store failure is ever read as "fresh" or
//! "not revoked".

pub mod memory;
pub mod redis;

use sha2::{Digest, Sha256};

use crate::error::Result;

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

/// sha256(holder public key || nonce): fixed size, and the nonce's text is not kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReplayKey(pub [u8; 32]);

impl ReplayKey {
    pub fn new(holder_public_hex: &str, nonce: &str) -> Self {
        let mut hasher = Sha256::new();
        // the key is fixed-length hex, so the concatenation is unambiguous
        hasher.update(holder_public_hex.as_bytes());
        hasher.update(nonce.as_bytes());
        ReplayKey(hasher.finalize().into())
    }
}
