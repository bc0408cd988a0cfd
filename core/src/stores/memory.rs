//! In-process stores: bounded, TTL-evicting, thread-safe. When the replay store is full and nothing
//! in it has expired it refuses (STORE_UNAVAILABLE) rather than forget a nonce that is still live.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, RwLock};

use super::{ReplayKey, ReplayStore, RevocationStore};
use crate::error::{Error, ErrorCode, Result};

fn poisoned() -> Error {
    Error::new(ErrorCode::StoreUnavailable, "store lock poisoned")
}

/// Replay entries in memory, at most `capacity` of them.
pub struct MemoryReplayStore {
    capacity: usize,
    entries: Mutex<HashMap<ReplayKey, f64>>, // key → expiry (seconds since the epoch)
}

impl MemoryReplayStore {
    pub fn new(capacity: usize) -> Self {
        MemoryReplayStore { capacity, entries: Mutex::new(HashMap::with_capacity(capacity.min(1 << 16))) }
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl ReplayStore for MemoryReplayStore {
    fn record(&self, key: &ReplayKey, now: f64, ttl_seconds: f64) -> Result<bool> {
        let mut entries = self.entries.lock().map_err(|_| poisoned())?;
        if let Some(&expiry) = entries.get(key) {
            // live through its last instant: a request fresh at ts - skew is still fresh at ts + skew,
            // exactly 2 × skew later, and must be a replay then
            if expiry >= now {
                return Ok(false);
            }
        }
        if entries.len() >= self.capacity && !entries.contains_key(key) {
            // sweep only when full: the cost is paid once per `capacity` inserts at most
            entries.retain(|_, expiry| *expiry >= now);
            if entries.len() >= self.capacity {
                return Err(Error::new(ErrorCode::StoreUnavailable, "replay store is full"));
            }
        }
        entries.insert(*key, now + ttl_seconds);
        Ok(true)
    }
}

/// Revoked ids in memory (unbounded: revocations are few and must never be dropped).
#[derive(Default)]
pub struct MemoryRevocationStore {
    ids: RwLock<HashSet<String>>,
}

impl MemoryRevocationStore {
    pub fn new(ids: impl IntoIterator<Item = String>) -> Self {
        MemoryRevocationStore { ids: RwLock::new(ids.into_iter().collect()) }
    }
}

impl RevocationStore for MemoryRevocationStore {
    fn is_revoked(&self, id: &str) -> Result<bool> {
        Ok(self.ids.read().map_err(|_| poisoned())?.contains(id))
    }

    fn revoke(&self, id: &str) -> Result<()> {
        self.ids.write().map_err(|_| poisoned())?.insert(id.to_owned());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> ReplayKey {
        ReplayKey([n; 32])
    }

    #[test]
    fn a_key_seen_inside_its_window_is_a_replay() {
        let store = MemoryReplayStore::new(10);
        assert!(store.record(&key(1), 100.0, 60.0).unwrap());
        assert!(!store.record(&key(1), 159.0, 60.0).unwrap());
        assert!(!store.record(&key(1), 160.0, 60.0).unwrap(), "live through the window's last instant");
        assert!(store.record(&key(1), 161.0, 60.0).unwrap(), "expired entries may be reused");
    }

    #[test]
    fn full_with_nothing_expired_refuses_rather_than_forgets() {
        let store = MemoryReplayStore::new(2);
        assert!(store.record(&key(1), 100.0, 60.0).unwrap());
        assert!(store.record(&key(2), 100.0, 60.0).unwrap());
        let err = store.record(&key(3), 101.0, 60.0).unwrap_err();
        assert_eq!(err.code(), ErrorCode::StoreUnavailable);
        assert!(!store.record(&key(1), 101.0, 60.0).unwrap(), "a refusal must not evict live entries");
        // once the window has passed, the sweep makes room
        assert!(store.record(&key(3), 200.0, 60.0).unwrap());
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn concurrent_records_of_one_key_admit_exactly_one() {
        let store = std::sync::Arc::new(MemoryReplayStore::new(100));
        let fresh: usize = (0..8)
            .map(|_| {
                let store = store.clone();
                std::thread::spawn(move || store.record(&key(9), 100.0, 60.0).unwrap() as usize)
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum();
        assert_eq!(fresh, 1);
    }

    #[test]
    fn revocations_are_visible_at_once() {
        let store = MemoryRevocationStore::default();
        assert!(!store.is_revoked("rev-1").unwrap());
        store.revoke("rev-1").unwrap();
        assert!(store.is_revoked("rev-1").unwrap());
    }
}
