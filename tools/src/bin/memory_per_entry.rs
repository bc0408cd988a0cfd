//! Heap bytes per entry of the Verifier's in-memory state, counted by a global allocator (so the
//! figures are exact for this build, not an RSS estimate). Part of `make bench-rust`.
//!
//! - replay store: one (holder, nonce) pair remembered;
//! - token cache: one verified token kept (the parsed Biscuit, its identity and revocation ids).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use trustcore_core::*;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

fn main() {
    const NOW: f64 = 1_700_000_000.0;
    let holder = WorkerKey::generate().unwrap();
    let holder_key = holder.public_key();
    let holder_hex = holder.public_hex();

    for entries in [10_000usize, 100_000] {
        let before = live();
        // one holder filling the whole store (its share set to all of it)
        let store = MemoryReplayStore::with_holder_share(entries, entries);
        for i in 0..entries {
            assert!(store.record(&ReplayKey::new(&holder_key, &format!("nonce-{i}")), NOW, 600.0).unwrap());
        }
        let bytes = live() - before;
        println!(
            "memory replay store: {entries} entries, {bytes} bytes, {:.1} bytes per entry",
            bytes as f64 / entries as f64
        );
        drop(store);
    }

    let issuer = IssuerKey::generate().unwrap();
    let tokens: Vec<String> = (0..1000)
        .map(|i| {
            mint_biscuit(
                &issuer,
                &MintRequest {
                    public_hex: holder_hex.clone(),
                    holder_id: format!("gpu-{i}"),
                    facts: vec![("right".into(), vec!["lease".into()]), ("lane".into(), vec!["transcribe".into()])],
                    revocation_id: Some(format!("rev-{i}")),
                    expires_at: NOW + 3600.0,
                    root_key_id: None,
                    delegation_depth: 0,
                },
            )
            .unwrap()
        })
        .collect();
    let request = Request::new("POST", "/lease", b"{}");
    let mut config = VerifierConfig::new(IssuerKeys::one(issuer.public_key()));
    config.replay_capacity = 16;
    config.max_skew_seconds = 1e9;
    let verifier = Verifier::new(config).unwrap();
    let proofs: Vec<WorkerProof> =
        tokens.iter().map(|t| make_proof(&holder, t, &request, &format!("{NOW}"), "n").unwrap()).collect();
    let before = live();
    for (i, proof) in proofs.iter().enumerate() {
        // one holder and one nonce throughout: after the first request each is REPLAYED, once its
        // token is cached, so the replay store stays at one entry and only the cache grows
        let _ = verifier.authenticate(proof, &request, Some(NOW + i as f64 * 1e-6));
    }
    let bytes = live() - before;
    assert_eq!(verifier.cache_stats().misses, 1000);
    println!("token cache: 1000 tokens, {bytes} bytes, {:.0} bytes per cached token", bytes as f64 / 1000.0);
}
