//! In-process stores: bounded, TTL-evicting, thread-safe. When the replay store is full and nothing
//! in it has expired it refuses (STORE_UNAVAILABLE) rather than forget a nonce that is still live.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Mutex, RwLock};

use super::{Deadline, ReplayKey, ReplayStore, RevocationStore};
use crate::error::{Error, ErrorCode, Result};

fn poisoned() -> Error {
    Error::new(ErrorCode::StoreUnavailable, "store lock poisoned")
}

/// Replay entries in memory: at most `capacity` of them, and at most `per_holder` for any one holder,
/// so a holder that sends nonces as fast as it can fills its own share, never the others' room.
pub struct MemoryReplayStore {
    capacity: usize,
    per_holder: usize,
    state: Mutex<ReplayState>,
}

#[derive(Default)]
struct ReplayState {
    /// digest → expiry (seconds since the epoch)
    entries: HashMap<[u8; 32], f64>,
    /// holder → its live entries (expiry, digest) in the order recorded: the TTL is the verifier's,
    /// so the oldest expire first and a holder's expired entries leave from the front
    holders: HashMap<[u8; 32], VecDeque<(f64, [u8; 32])>>,
}

impl ReplayState {
    /// Drop `holder`'s entries that expired before `now` (and return how many it still has).
    fn expire_holder(&mut self, holder: &[u8; 32], now: f64) -> usize {
        let Some(queue) = self.holders.get_mut(holder) else { return 0 };
        while let Some(&(expiry, digest)) = queue.front() {
            if expiry >= now {
                break;
            }
            queue.pop_front();
            if self.entries.get(&digest) == Some(&expiry) {
                self.entries.remove(&digest);
            }
        }
        let left = queue.len();
        if left == 0 {
            self.holders.remove(holder);
        }
        left
    }

    /// Drop every expired entry (when the store is full: once per `capacity` inserts at most).
    fn sweep(&mut self, now: f64) {
        self.entries.retain(|_, expiry| *expiry >= now);
        self.holders.retain(|_, queue| {
            queue.retain(|(expiry, _)| *expiry >= now);
            !queue.is_empty()
        });
    }
}

impl MemoryReplayStore {
    /// A store of `capacity` pairs, each holder at most a quarter of it (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self::with_holder_share(capacity, default_holder_share(capacity))
    }

    /// A store of `capacity` pairs, each holder at most `per_holder` of them.
    pub fn with_holder_share(capacity: usize, per_holder: usize) -> Self {
        MemoryReplayStore { capacity, per_holder, state: Mutex::new(ReplayState::default()) }
    }

    pub fn len(&self) -> usize {
        self.state.lock().map(|s| s.entries.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The default share of one holder: a quarter of the store, at least one pair.
pub fn default_holder_share(capacity: usize) -> usize {
    capacity.div_ceil(4).max(1)
}

impl ReplayStore for MemoryReplayStore {
    fn record_by(&self, key: &ReplayKey, now: f64, ttl_seconds: f64, _deadline: Deadline) -> Result<bool> {
        let mut state = self.state.lock().map_err(|_| poisoned())?;
        if let Some(&expiry) = state.entries.get(key.digest()) {
            // live through its last instant: a request fresh at ts - skew is still fresh at ts + skew,
            // exactly 2 × skew later, and must be a replay then
            if expiry >= now {
                return Ok(false);
            }
        }
        if state.expire_holder(key.holder(), now) >= self.per_holder {
            return Err(Error::new(
                ErrorCode::LimitExceeded,
                "this holder has used its share of the replay store (too many nonces inside the window)",
            ));
        }
        if state.entries.len() >= self.capacity && !state.entries.contains_key(key.digest()) {
            state.sweep(now);
            if state.entries.len() >= self.capacity {
                return Err(Error::new(ErrorCode::StoreUnavailable, "replay store is full"));
            }
        }
        let expiry = now + ttl_seconds;
        state.entries.insert(*key.digest(), expiry);
        state.holders.entry(*key.holder()).or_default().push_back((expiry, *key.digest()));
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

    fn holder(n: u8) -> crate::keys::PublicKey {
        crate::keys::WorkerKey::from_secret_hex(&hex::encode([n; 32])).unwrap().public_key()
    }

    /// Nonce `n` of holder 1.
    fn key(n: u8) -> ReplayKey {
        ReplayKey::new(&holder(1), &n.to_string())
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
    fn one_holder_cannot_take_the_room_of_others() {
        let store = MemoryReplayStore::new(8); // two pairs a holder
        assert!(store.record(&key(1), 100.0, 60.0).unwrap());
        assert!(store.record(&key(2), 100.0, 60.0).unwrap());
        assert_eq!(store.record(&key(3), 100.0, 60.0).unwrap_err().code(), ErrorCode::LimitExceeded);
        // the holder's own replays are still replays, and others are served
        assert!(!store.record(&key(1), 100.0, 60.0).unwrap());
        assert!(store.record(&ReplayKey::new(&holder(2), "1"), 100.0, 60.0).unwrap());
        // its share frees as its entries expire
        assert!(store.record(&key(3), 161.0, 60.0).unwrap());
        // four holders at their share fill the store: then it is full for everyone
        let full = MemoryReplayStore::with_holder_share(4, 2);
        for h in [3, 4] {
            for n in ["a", "b"] {
                assert!(full.record(&ReplayKey::new(&holder(h), n), 100.0, 60.0).unwrap());
            }
        }
        let err = full.record(&ReplayKey::new(&holder(5), "a"), 100.0, 60.0).unwrap_err();
        assert_eq!(err.code(), ErrorCode::StoreUnavailable);
    }

    #[test]
    fn full_with_nothing_expired_refuses_rather_than_forgets() {
        let store = MemoryReplayStore::with_holder_share(2, 3);
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
