//! Writes tests/vectors/verifier.json: the stateful Verifier, as sequences of steps with the code
//! each step must give (format: tests/vectors/README.md, "The stateful verifier"). Expected codes
//! are written by hand; tokens and proofs come from running the core. Run:
//! `cargo run -p trustcore-tools --bin make_verifier_vectors`, then review the diff.

use serde_json::{json, Value};
use trustcore_core::*;
use trustcore_tools::{seed_hex as seed, NextKeys, Suite};

const NOW: f64 = 1_700_000_000.0;
const EXPIRES: f64 = 1_700_003_600.0;
const ALLOW: &str = "allow if req_right($r), right($r)";

struct Fx {
    issuer: IssuerKey,
    old_issuer: IssuerKey,
    holder: WorkerKey,
    other_holder: WorkerKey,
    thief: WorkerKey,
    next: NextKeys,
}

impl Fx {
    fn mint(&self, issuer: &IssuerKey, holder: &WorkerKey, revocation_id: &str, root_key_id: Option<u32>) -> String {
        mint_biscuit_reproducible(
            issuer,
            &MintRequest {
                public_hex: holder.public_hex(),
                holder_id: "gpu-1".into(),
                facts: vec![("right".into(), vec!["lease".into()])],
                revocation_id: Some(revocation_id.into()),
                expires_at: EXPIRES,
                root_key_id,
                delegation_depth: 0,
            },
            &self.next.next_seed(),
        )
        .unwrap()
    }
}

/// An authenticate step: `key` signs POST /lease `{}` for `token` at `timestamp`, checked at `now`.
fn auth(key: &WorkerKey, token: &str, timestamp: f64, nonce: &str, now: f64) -> Value {
    let timestamp = format!("{timestamp}");
    let proof = make_proof(key, token, &Request::new("POST", "/lease", b"{}"), &timestamp, nonce).unwrap();
    json!({"authenticate": {
        "proof": {"token": proof.token, "signature": proof.signature, "timestamp": proof.timestamp, "nonce": proof.nonce},
        "request": {"method": "POST", "path": "/lease", "body_hex": "7b7d"},
        "now": now,
    }})
}

fn policy(right: &str, now: f64) -> Value {
    json!({"check_policy": {"request_facts": {"req_right": right}, "allow": ALLOW, "now": now}})
}

fn main() {
    let fx = Fx {
        issuer: IssuerKey::from_secret_hex(&seed("issuer")).unwrap(),
        old_issuer: IssuerKey::from_secret_hex(&seed("old-issuer")).unwrap(),
        holder: WorkerKey::from_secret_hex(&seed("worker")).unwrap(),
        other_holder: WorkerKey::from_secret_hex(&seed("other-worker")).unwrap(),
        thief: WorkerKey::from_secret_hex(&seed("thief")).unwrap(),
        next: NextKeys::new(env!("CARGO_BIN_NAME")),
    };
    let token = fx.mint(&fx.issuer, &fx.holder, "rev-1", None);
    let other_token = fx.mint(&fx.issuer, &fx.other_holder, "rev-2", None);
    let block_id = parse_token(&IssuerKeys::one(fx.issuer.public_key()), &token).unwrap().revocation_ids()[0].clone();
    let issuer_hex = fx.issuer.public_hex();
    let base = |steps: Vec<Value>| json!({"issuer_public_hex": issuer_hex, "max_skew_seconds": 300.0, "steps": steps});
    let h = &fx.holder;
    let mut suite = Suite::new("verifier", env!("CARGO_BIN_NAME"));
    let mut case = |description: &str, input: Value, outcomes: Value| {
        suite.case(description, "verifier_sequence", input, json!({"outcomes": outcomes}))
    };

    case(
        "a nonce is accepted once; another nonce is fresh",
        base(vec![
            auth(h, &token, NOW, "n-1", NOW),
            auth(h, &token, NOW, "n-1", NOW),
            auth(h, &token, NOW, "n-2", NOW),
        ]),
        json!(["OK", "REPLAYED", "OK"]),
    );
    case(
        "the same nonce from two holders is not a replay (the key is holder and nonce)",
        base(vec![auth(h, &token, NOW, "n-1", NOW), auth(&fx.other_holder, &other_token, NOW, "n-1", NOW)]),
        json!(["OK", "OK"]),
    );
    case(
        "a forged request does not burn the holder's nonce",
        base(vec![auth(&fx.thief, &token, NOW, "n-1", NOW), auth(h, &token, NOW, "n-1", NOW)]),
        json!(["POP_FAILED", "OK"]),
    );
    case(
        "a stale request is refused and does not burn the nonce",
        base(vec![auth(h, &token, NOW - 1000.0, "n-1", NOW), auth(h, &token, NOW, "n-1", NOW)]),
        json!(["STALE_REQUEST", "OK"]),
    );
    case(
        "the replay window is twice the skew plus a second (a timestamp's resolution): inside it a replay, after it fresh again",
        json!({"issuer_public_hex": issuer_hex, "max_skew_seconds": 10.0, "steps": [
            auth(h, &token, NOW, "n-1", NOW),
            auth(h, &token, NOW + 15.0, "n-1", NOW + 15.0),
            auth(h, &token, NOW + 21.0, "n-1", NOW + 21.0),
            auth(h, &token, NOW + 22.0, "n-1", NOW + 22.0),
        ]}),
        json!(["OK", "REPLAYED", "REPLAYED", "OK"]),
    );
    case(
        "a full replay store refuses (STORE_UNAVAILABLE) rather than forget a live nonce; room returns when entries expire",
        json!({"issuer_public_hex": issuer_hex, "max_skew_seconds": 10.0, "replay_capacity": 2,
               "replay_capacity_per_holder": 2, "steps": [
            auth(h, &token, NOW, "n-1", NOW),
            auth(h, &token, NOW, "n-2", NOW),
            auth(&fx.other_holder, &other_token, NOW, "n-1", NOW),
            auth(h, &token, NOW, "n-1", NOW),
            auth(&fx.other_holder, &other_token, NOW + 22.0, "n-1", NOW + 22.0),
        ]}),
        json!(["OK", "OK", "STORE_UNAVAILABLE", "REPLAYED", "OK"]),
    );
    case(
        "one holder cannot fill the replay store: past its share (a quarter by default) it alone is refused",
        json!({"issuer_public_hex": issuer_hex, "max_skew_seconds": 10.0, "replay_capacity": 8, "steps": [
            auth(h, &token, NOW, "n-1", NOW),
            auth(h, &token, NOW, "n-2", NOW),
            auth(h, &token, NOW, "n-3", NOW),
            auth(&fx.other_holder, &other_token, NOW, "n-1", NOW),
            auth(h, &token, NOW, "n-1", NOW),
            auth(h, &token, NOW + 22.0, "n-3", NOW + 22.0),
        ]}),
        json!(["OK", "OK", "LIMIT_EXCEEDED", "OK", "REPLAYED", "OK"]),
    );
    case(
        "a revocation refuses the cached token on its next request",
        base(vec![auth(h, &token, NOW, "n-1", NOW), json!({"revoke": "rev-1"}), auth(h, &token, NOW, "n-2", NOW)]),
        json!(["OK", "OK", "REVOKED"]),
    );
    case(
        "a block's own revocation id (hex) refuses the token too",
        base(vec![
            json!({"revoke": block_id}),
            auth(h, &token, NOW, "n-1", NOW),
            auth(&fx.other_holder, &other_token, NOW, "n-1", NOW),
        ]),
        json!(["OK", "REVOKED", "OK"]),
    );
    case(
        "ids revoked from the start",
        json!({"issuer_public_hex": issuer_hex, "max_skew_seconds": 300.0, "revoked_ids": ["rev-2"], "steps": [
            auth(h, &token, NOW, "n-1", NOW),
            auth(&fx.other_holder, &other_token, NOW, "n-1", NOW),
        ]}),
        json!(["OK", "REVOKED"]),
    );
    case(
        "revocation is checked before the proof: a revoked token with a forged proof is REVOKED",
        base(vec![json!({"revoke": "rev-1"}), auth(&fx.thief, &token, NOW, "n-1", NOW)]),
        json!(["OK", "REVOKED"]),
    );
    case(
        "a cached token still meets its own expiry: authenticate refuses it (TOKEN_INVALID)",
        base(vec![
            auth(h, &token, NOW, "n-1", NOW),
            policy("lease", NOW),
            auth(h, &token, EXPIRES + 10.0, "n-2", EXPIRES + 10.0),
            policy("lease", EXPIRES + 10.0),
        ]),
        json!(["OK", "OK", "TOKEN_INVALID", "DENIED"]),
    );
    case(
        "check_policy grants only what the token carries",
        base(vec![auth(h, &token, NOW, "n-1", NOW), policy("lease", NOW), policy("admin", NOW)]),
        json!(["OK", "OK", "DENIED"]),
    );
    case(
        "the cache: one parse for a holder's repeated requests",
        base(vec![
            auth(h, &token, NOW, "n-1", NOW),
            auth(h, &token, NOW, "n-2", NOW),
            auth(h, &token, NOW, "n-3", NOW),
            json!({"cache_stats": {}}),
        ]),
        json!(["OK", "OK", "OK", "hits=2 misses=1"]),
    );
    let forged = {
        let mut t = token.clone().into_bytes();
        let i = t.len() / 2;
        t[i] = if t[i] == b'A' { b'B' } else { b'A' };
        String::from_utf8(t).unwrap()
    };
    case(
        "a token that does not verify is never cached",
        base(vec![auth(h, &forged, NOW, "n-1", NOW), auth(h, &forged, NOW, "n-2", NOW), json!({"cache_stats": {}})]),
        json!(["TOKEN_INVALID", "TOKEN_INVALID", "hits=0 misses=2"]),
    );
    let rotated = fx.mint(&fx.issuer, h, "rev-3", Some(2));
    let old = fx.mint(&fx.old_issuer, h, "rev-4", Some(1));
    let unknown_id = fx.mint(&fx.issuer, h, "rev-5", Some(3));
    let no_id = fx.mint(&fx.issuer, h, "rev-6", None);
    let mislabelled = fx.mint(&fx.old_issuer, h, "rev-7", Some(2));
    case(
        "key rotation: each token verified by the key its root key id names; an unknown or missing id is TOKEN_INVALID",
        json!({"issuer_keys": {"1": fx.old_issuer.public_hex(), "2": issuer_hex}, "max_skew_seconds": 300.0, "steps": [
            auth(h, &rotated, NOW, "n-1", NOW),
            auth(h, &old, NOW, "n-2", NOW),
            auth(h, &unknown_id, NOW, "n-3", NOW),
            auth(h, &no_id, NOW, "n-4", NOW),
            auth(h, &mislabelled, NOW, "n-5", NOW),
        ]}),
        json!(["OK", "OK", "TOKEN_INVALID", "TOKEN_INVALID", "TOKEN_INVALID"]),
    );

    let batch = |requests: Vec<Value>, now: f64| {
        let requests: Vec<Value> = requests.into_iter().map(|step| step["authenticate"].clone()).collect();
        json!({"authenticate_batch": {"requests": requests, "now": now}})
    };
    case(
        "a batch gives each request the code it would get alone; its accepted nonces are spent",
        base(vec![
            batch(
                vec![
                    auth(h, &token, NOW, "n-1", NOW),
                    auth(&fx.thief, &token, NOW, "n-2", NOW),
                    auth(h, &token, NOW, "n-1", NOW),
                    auth(h, &token, NOW - 1000.0, "n-3", NOW),
                    auth(h, &forged, NOW, "n-4", NOW),
                    auth(&fx.other_holder, &other_token, NOW, "n-1", NOW),
                ],
                NOW,
            ),
            auth(h, &token, NOW, "n-2", NOW),
            auth(&fx.other_holder, &other_token, NOW, "n-1", NOW),
        ]),
        json!([["OK", "POP_FAILED", "REPLAYED", "STALE_REQUEST", "TOKEN_INVALID", "OK"], "OK", "REPLAYED"]),
    );
    case(
        "a batch of valid requests is accepted whole, and refused whole when sent again",
        base(vec![
            batch((0..8).map(|i| auth(h, &token, NOW, &format!("b-{i}"), NOW)).collect(), NOW),
            batch((0..8).map(|i| auth(h, &token, NOW, &format!("b-{i}"), NOW)).collect(), NOW),
            batch(vec![], NOW),
        ]),
        json!([vec!["OK"; 8], vec!["REPLAYED"; 8], Vec::<&str>::new()]),
    );

    suite
        .write("the stateful Verifier: replay store, revocation store and token cache, as sequences of requests", None);
}
