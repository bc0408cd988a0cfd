//! Writes tests/vectors/cost.json: hostile tokens and batches, and the budget that refuses them
//! (format: tests/vectors/README.md). Expected codes are written by hand; tokens and proofs come from
//! running the core, reproducibly (the tokens' next-block keys are named seeds). Run: `cargo run -p trustcore-tools --bin make_cost_vectors`, then review the diff.
//!
//! What it pins: nothing a holder appends runs before the proof (a keyless CPU bomb on a revoked
//! token with a garbage proof is refused by revocation; on a valid token authenticate does not
//! evaluate it); every part of the budget refuses with LIMIT_EXCEEDED and the same token passes
//! with the defaults when it is honest; regular expressions in appended blocks; the token size;
//! expired tokens; batches over their bounds and a (holder, nonce) repeated inside one; the token
//! cache admitting a token only after its proof verified.

use biscuit_auth::{Biscuit, BlockBuilder};
use serde_json::{json, Value};
use trustcore_core::*;
use trustcore_tools::{err, seed_hex as seed, NextKeys, Suite};

const NOW: f64 = 1_700_000_000.0;
const EXPIRES: f64 = 1_700_003_600.0;
const ALLOW: &str = "allow if req_right($r), right($r)";

struct Fx {
    issuer: IssuerKey,
    holder: WorkerKey,
    thief: WorkerKey,
    token: String,
    next: NextKeys,
}

impl Fx {
    fn issuer_hex(&self) -> String {
        self.issuer.public_hex()
    }

    fn attenuate(&self, code: &str) -> String {
        let key =
            biscuit_auth::PublicKey::from_bytes(self.issuer.public_key().as_bytes(), biscuit_auth::Algorithm::Ed25519)
                .unwrap();
        let parsed = Biscuit::from_base64(&self.token, key).unwrap();
        parsed
            .append_with_keypair(&self.next.next_key_pair(), BlockBuilder::new().code(code).unwrap())
            .unwrap()
            .to_base64()
            .unwrap()
    }

    /// `key` signs POST /lease `{}` for `token` at NOW with `nonce`.
    fn proof(&self, key: &WorkerKey, token: &str, nonce: &str) -> Value {
        let proof = make_proof(key, token, &Request::new("POST", "/lease", b"{}"), "1700000000", nonce).unwrap();
        json!({"token": proof.token, "signature": proof.signature, "timestamp": proof.timestamp, "nonce": proof.nonce})
    }

    fn authenticate(&self, token: &str, key: &WorkerKey, revoked: &[&str], now: f64, limits: Value) -> Value {
        json!({
            "issuer_public_hex": self.issuer_hex(),
            "proof": self.proof(key, token, "n1"),
            "request": {"method": "POST", "path": "/lease", "body_hex": "7b7d"},
            "now": now, "revoked_ids": revoked, "max_skew_seconds": 300.0, "limits": limits,
        })
    }

    fn check_policy(&self, token: &str, limits: Value) -> Value {
        json!({
            "issuer_public_hex": self.issuer_hex(), "token": token, "request_facts": {"req_right": "lease"},
            "allow": ALLOW, "now": NOW, "limits": limits,
        })
    }

    fn step(&self, key: &WorkerKey, token: &str, nonce: &str) -> Value {
        json!({"authenticate": {
            "proof": self.proof(key, token, nonce),
            "request": {"method": "POST", "path": "/lease", "body_hex": "7b7d"},
            "now": NOW,
        }})
    }

    fn batch_request(&self, key: &WorkerKey, token: &str, nonce: &str, body: &[u8]) -> Value {
        let proof = make_proof(key, token, &Request::new("POST", "/lease", body), "1700000000", nonce).unwrap();
        json!({
            "proof": {"token": proof.token, "signature": proof.signature, "timestamp": proof.timestamp, "nonce": proof.nonce},
            "request": {"method": "POST", "path": "/lease", "body_hex": hex::encode(body)},
        })
    }
}

/// `count` facts `name(0)…` (integers) as Datalog.
fn facts(name: &str, count: usize) -> String {
    (0..count).map(|i| format!("{name}({i});\n")).collect()
}

fn main() {
    let holder = WorkerKey::from_secret_hex(&seed("worker")).unwrap();
    let issuer = IssuerKey::from_secret_hex(&seed("issuer")).unwrap();
    let next = NextKeys::new(env!("CARGO_BIN_NAME"));
    let token = mint_biscuit_reproducible(
        &issuer,
        &MintRequest {
            public_hex: holder.public_hex(),
            holder_id: "gpu-1".into(),
            facts: vec![("right".into(), vec!["lease".into()])],
            revocation_id: Some("rev-1".into()),
            expires_at: EXPIRES,
            root_key_id: None,
            delegation_depth: 0,
        },
        &next.next_seed(),
    )
    .unwrap();
    let fx = Fx { issuer, holder, thief: WorkerKey::from_secret_hex(&seed("thief")).unwrap(), token, next };
    let identity = json!({"identity": {"holder_id": "gpu-1", "holder_public_hex": fx.holder.public_hex(), "revocation_id": "rev-1"}});
    let mut s = Suite::new("cost", env!("CARGO_BIN_NAME"));

    // the keyless CPU bomb: 20 facts and one rule joining five of them, never true (20^5 matches)
    let bomb = fx.attenuate(&format!(
        "{}g($a) <- f($a), f($b), f($c), f($d), f($e), $a + $b + $c + $d + $e == -1;",
        facts("f", 20)
    ));
    s.case(
        "an appended join bomb on a revoked token with a garbage proof: refused by revocation, nothing evaluated",
        "authenticate",
        fx.authenticate(&bomb, &fx.thief, &["rev-1"], NOW, json!({})),
        err("REVOKED"),
    );
    s.case(
        "the same bomb, not revoked, with a garbage proof: the proof refuses it, nothing evaluated",
        "authenticate",
        fx.authenticate(&bomb, &fx.thief, &[], NOW, json!({})),
        err("POP_FAILED"),
    );
    s.case(
        "the same bomb with the holder's own proof: authenticate reads the authority block alone",
        "authenticate",
        fx.authenticate(&bomb, &fx.holder, &[], NOW, json!({})),
        identity.clone(),
    );
    s.case(
        "check_policy refuses the bomb by its join-size estimate before any Datalog runs",
        "check_policy",
        fx.check_policy(&bomb, json!({})),
        err("LIMIT_EXCEEDED"),
    );
    s.case(
        "the bomb through the general authorizer: refused the same way",
        "authorize",
        json!({"issuer_public_hex": fx.issuer_hex(), "token": bomb, "code": "allow if true;", "now": NOW, "limits": {}}),
        err("LIMIT_EXCEEDED"),
    );

    // regular expressions in appended blocks
    let strings: String = (0..900).map(|i| format!("s(\"a{i}\");\n")).collect();
    let regex_bomb = fx.attenuate(&format!("{strings}check if s($x), $x.matches(\"(\\\\w{{200}}){{5}}\");"));
    s.case(
        "a pathological regular expression over 900 facts in an appended block: refused by default",
        "check_policy",
        fx.check_policy(&regex_bomb, json!({})),
        err("LIMIT_EXCEEDED"),
    );
    s.case(
        "the same pattern with appended regexes allowed: its compiled size is over the bound",
        "check_policy",
        fx.check_policy(&regex_bomb, json!({"allow_appended_regex": true})),
        err("LIMIT_EXCEEDED"),
    );
    let small_regex = fx.attenuate("s(\"aaa\");\ncheck if s($x), $x.matches(\"^a+$\");");
    s.case(
        "a small appended regular expression is refused by default",
        "check_policy",
        fx.check_policy(&small_regex, json!({})),
        err("LIMIT_EXCEEDED"),
    );
    s.case(
        "and accepted when appended regexes are allowed",
        "check_policy",
        fx.check_policy(&small_regex, json!({"allow_appended_regex": true})),
        json!({"ok": true}),
    );
    let dynamic_regex = fx.attenuate("s(\"aaa\");\np(\"^a+$\");\ncheck if s($x), p($p), $x.matches($p);");
    s.case(
        "an appended pattern that is not a literal is refused even when regexes are allowed",
        "check_policy",
        fx.check_policy(&dynamic_regex, json!({"allow_appended_regex": true})),
        err("LIMIT_EXCEEDED"),
    );
    let honest = fx.attenuate("check if right($r), $r.length() > 0;");
    s.case(
        "an honest appended check passes the default budget",
        "check_policy",
        fx.check_policy(&honest, json!({})),
        json!({"ok": true}),
    );

    // each part of the budget, on honest tokens: refused below it, accepted by default
    let narrowed =
        fx.attenuate(&format!("{}pair($a, $b) <- f($a), f($b);\ncheck if right($r), $r == \"lease\";", facts("f", 10)));
    for (description, limits) in [
        ("max_blocks 1 refuses a token with an appended block", json!({"max_blocks": 1})),
        ("max_block_facts 5 refuses a block of 10 facts", json!({"max_block_facts": 5})),
        ("max_block_rules 1 refuses a block with a rule and a check", json!({"max_block_rules": 1})),
        ("max_body_atoms 1 refuses a rule of two predicates", json!({"max_body_atoms": 1})),
        ("max_body_ops 2 refuses a check of three operations", json!({"max_body_ops": 2})),
        ("max_join_size 50 refuses a 10 x 10 join", json!({"max_join_size": 50})),
    ] {
        s.case(description, "check_policy", fx.check_policy(&narrowed, limits), err("LIMIT_EXCEEDED"));
    }
    s.case(
        "the same token passes the default budget",
        "check_policy",
        fx.check_policy(&narrowed, json!({})),
        json!({"ok": true}),
    );
    s.case(
        "authenticate checks the token size before decoding it",
        "authenticate",
        fx.authenticate(&fx.token, &fx.holder, &[], NOW, json!({"max_token_bytes": 100})),
        err("LIMIT_EXCEEDED"),
    );
    s.case(
        "authenticate refuses a token past the expiry its issuer wrote",
        "authenticate",
        json!({
            "issuer_public_hex": fx.issuer_hex(),
            "proof": {
                "token": fx.token,
                "signature": make_proof(&fx.holder, &fx.token, &Request::new("POST", "/lease", b"{}"), "1700003700", "n1").unwrap().signature,
                "timestamp": "1700003700", "nonce": "n1",
            },
            "request": {"method": "POST", "path": "/lease", "body_hex": "7b7d"},
            "now": EXPIRES + 100.0, "revoked_ids": [], "max_skew_seconds": 300.0,
        }),
        err("TOKEN_INVALID"),
    );
    s.case(
        "and accepts it at the last second of its life",
        "authenticate",
        json!({
            "issuer_public_hex": fx.issuer_hex(),
            "proof": {
                "token": fx.token,
                "signature": make_proof(&fx.holder, &fx.token, &Request::new("POST", "/lease", b"{}"), "1700003600", "n1").unwrap().signature,
                "timestamp": "1700003600", "nonce": "n1",
            },
            "request": {"method": "POST", "path": "/lease", "body_hex": "7b7d"},
            "now": EXPIRES + 0.5, "revoked_ids": [], "max_skew_seconds": 300.0,
        }),
        identity,
    );

    // the stateful verifier: cache admission, batches
    let base = |extra: Value, steps: Vec<Value>| {
        let mut input = json!({"issuer_public_hex": fx.issuer_hex(), "max_skew_seconds": 300.0, "steps": steps});
        for (k, v) in extra.as_object().unwrap() {
            input[k] = v.clone();
        }
        input
    };
    let sequence = |s: &mut Suite, description: &str, input: Value, outcomes: Value| {
        s.case(description, "verifier_sequence", input, json!({"outcomes": outcomes}))
    };
    sequence(
        &mut s,
        "a forged request's token is not cached: only a proven token is",
        base(
            json!({}),
            vec![
                fx.step(&fx.thief, &fx.token, "n-1"),
                json!({"cache_stats": {}}),
                fx.step(&fx.thief, &fx.token, "n-2"),
                json!({"cache_stats": {}}),
                fx.step(&fx.holder, &fx.token, "n-3"),
                fx.step(&fx.holder, &fx.token, "n-4"),
                json!({"cache_stats": {}}),
            ],
        ),
        json!(["POP_FAILED", "hits=0 misses=1", "POP_FAILED", "hits=0 misses=2", "OK", "OK", "hits=1 misses=3"]),
    );
    sequence(
        &mut s,
        "the bomb on a revoked token with a garbage proof, then on a valid one: refused, then accepted, never evaluated",
        base(
            json!({"revoked_ids": []}),
            vec![
                fx.step(&fx.thief, &bomb, "n-1"),
                fx.step(&fx.holder, &bomb, "n-2"),
                json!({"check_policy": {"request_facts": {"req_right": "lease"}, "allow": ALLOW, "now": NOW}}),
                json!({"revoke": "rev-1"}),
                fx.step(&fx.holder, &bomb, "n-3"),
            ],
        ),
        json!(["POP_FAILED", "OK", "LIMIT_EXCEEDED", "OK", "REVOKED"]),
    );
    let request = |nonce: &str| fx.batch_request(&fx.holder, &fx.token, nonce, b"{}");
    let batch = |requests: Vec<Value>| json!({"authenticate_batch": {"requests": requests, "now": NOW}});
    sequence(
        &mut s,
        "a batch over max_batch_requests is refused whole, before any work",
        base(
            json!({"max_batch_requests": 2}),
            vec![
                batch(vec![request("b-1"), request("b-2"), request("b-3")]),
                batch(vec![request("b-1"), request("b-2")]),
            ],
        ),
        json!(["LIMIT_EXCEEDED", ["OK", "OK"]]),
    );
    let big = fx.batch_request(&fx.holder, &fx.token, "big-1", &[b'x'; 600]);
    let big2 = fx.batch_request(&fx.holder, &fx.token, "big-2", &[b'x'; 600]);
    sequence(
        &mut s,
        "a batch whose bodies together are over max_batch_body_bytes is refused whole",
        base(json!({"max_batch_body_bytes": 1000}), vec![batch(vec![big.clone(), big2]), batch(vec![big])]),
        json!(["LIMIT_EXCEEDED", ["OK"]]),
    );
    let mut garbage = request("dup");
    garbage["proof"]["signature"] = json!("00".repeat(64));
    sequence(
        &mut s,
        "a (holder, nonce) repeated inside a batch is REPLAYED before its signature is looked at",
        base(json!({}), vec![batch(vec![request("dup"), garbage, request("other")])]),
        json!([["OK", "REPLAYED", "OK"]]),
    );

    s.write(
        "hostile tokens and batches: nothing appended runs before the proof, the budget on what a token brings, bounded batches and cache",
        None,
    );
}
