//! Writes tests/vectors/identifiers.json: one spelling for every identifier and separate namespaces
//! for token and request facts (format: tests/vectors/README.md). Expected codes are written by hand;
//! tokens come from running the core, reproducibly (next-block keys from named seeds). Run:
//! `cargo run -p trustcore-tools --bin make_identifier_vectors`, then review the diff.
//!
//! What it pins: a revocation id spelled in upper case is the same id, one with spaces or `0x` is
//! refused (never stored unmatched), in the Verifier and in stateless deny-lists; revoking a whole
//! token; the replay store keys on the holder key's bytes, so a token that writes the key in upper
//! case cannot replay a request made with another token; request facts live in the `req_` namespace
//! that no token may carry; mint writes revocation ids in their canonical form only.

use biscuit_auth::builder::{self, Check};
use biscuit_auth::Biscuit;
use serde_json::{json, Value};
use trustcore_core::*;
use trustcore_tools::{err, seed_hex as seed, NextKeys, Suite};

const NOW: f64 = 1_700_000_000.0;
const EXPIRES: u64 = 1_700_003_600;
const ALLOW: &str = "allow if req_right($r), right($r)";

fn main() {
    let issuer = IssuerKey::from_secret_hex(&seed("issuer")).unwrap();
    let holder = WorkerKey::from_secret_hex(&seed("worker")).unwrap();
    let next = NextKeys::new(env!("CARGO_BIN_NAME"));
    let mint = |revocation_id: &str, facts: Vec<(String, Vec<String>)>| {
        mint_biscuit_reproducible(
            &issuer,
            &MintRequest {
                public_hex: holder.public_hex(),
                holder_id: "gpu-1".into(),
                facts,
                revocation_id: Some(revocation_id.into()),
                expires_at: EXPIRES as f64,
                root_key_id: None,
                delegation_depth: 0,
            },
            &next.next_seed(),
        )
    };
    let right = || vec![("right".to_owned(), vec!["lease".to_owned()])];
    let token = mint("rev-1", right()).unwrap();
    let issuer_keys = IssuerKeys::one(issuer.public_key());
    let block_id = parse_token(&issuer_keys, &token).unwrap().revocation_ids()[0].clone();
    // the same holder, its key written in upper case (as trust-core 0.1 writes what it is given)
    let upper = {
        let private =
            biscuit_auth::PrivateKey::from_bytes(&*issuer.seed_bytes(), biscuit_auth::Algorithm::Ed25519).unwrap();
        let mut expiry = Check::try_from("check if time($t), $t <= {e}").unwrap();
        expiry.set("e", builder::date(&(std::time::UNIX_EPOCH + std::time::Duration::from_secs(EXPIRES)))).unwrap();
        Biscuit::builder()
            .fact(builder::fact("worker_key", &[builder::string(&holder.public_hex().to_uppercase())]))
            .unwrap()
            .fact(builder::fact("worker_id", &[builder::string("gpu-1")]))
            .unwrap()
            .fact(builder::fact("right", &[builder::string("lease")]))
            .unwrap()
            .fact(builder::fact("revocation", &[builder::string("rev-9")]))
            .unwrap()
            .check(expiry)
            .unwrap()
            .build_with_key_pair(&biscuit_auth::KeyPair::from(&private), Default::default(), &next.next_key_pair())
            .unwrap()
            .to_base64()
            .unwrap()
    };
    let proof = |token: &str, nonce: &str| {
        let p = make_proof(&holder, token, &Request::new("POST", "/lease", b"{}"), "1700000000", nonce).unwrap();
        json!({"token": p.token, "signature": p.signature, "timestamp": p.timestamp, "nonce": p.nonce})
    };
    let auth = |token: &str, nonce: &str| json!({"authenticate": {"proof": proof(token, nonce), "request": {"method": "POST", "path": "/lease", "body_hex": "7b7d"}, "now": NOW}});
    let stateless = |revoked: Value| {
        json!({
            "issuer_public_hex": issuer.public_hex(), "proof": proof(&token, "n1"),
            "request": {"method": "POST", "path": "/lease", "body_hex": "7b7d"},
            "now": NOW, "revoked_ids": revoked, "max_skew_seconds": 300.0,
        })
    };
    let sequence = |steps: Vec<Value>| json!({"issuer_public_hex": issuer.public_hex(), "max_skew_seconds": 300.0, "steps": steps});
    let identity =
        json!({"identity": {"holder_id": "gpu-1", "holder_public_hex": holder.public_hex(), "revocation_id": "rev-1"}});
    let mut s = Suite::new("identifiers", env!("CARGO_BIN_NAME"));

    s.case(
        "a block id in upper case on a stateless deny-list is the same id",
        "authenticate",
        stateless(json!([block_id.to_uppercase()])),
        err("REVOKED"),
    );
    s.case(
        "a deny-list entry with surrounding spaces is refused, not kept unmatched",
        "authenticate",
        stateless(json!([" rev-1"])),
        err("MALFORMED_INPUT"),
    );
    s.case(
        "a deny-list entry with a 0x prefix is refused",
        "authenticate",
        stateless(json!([format!("0x{block_id}")])),
        err("MALFORMED_INPUT"),
    );
    s.case("a deny-list of other ids lets the token pass", "authenticate", stateless(json!(["rev-2"])), identity);
    s.case(
        "Verifier.revoke takes a block id in upper case as the same id",
        "verifier_sequence",
        sequence(vec![json!({"revoke": block_id.to_uppercase()}), auth(&token, "n-1")]),
        json!({"outcomes": ["OK", "REVOKED"]}),
    );
    s.case(
        "Verifier.revoke refuses ids it could never match",
        "verifier_sequence",
        sequence(vec![
            json!({"revoke": "rev-1 "}),
            json!({"revoke": format!("0X{block_id}")}),
            json!({"revoke": ""}),
            auth(&token, "n-1"),
        ]),
        json!({"outcomes": ["MALFORMED_INPUT", "MALFORMED_INPUT", "MALFORMED_INPUT", "OK"]}),
    );
    let mut config = json!({"revoked_ids": [block_id.to_uppercase()]});
    config["issuer_public_hex"] = json!(issuer.public_hex());
    config["max_skew_seconds"] = json!(300.0);
    config["steps"] = json!([auth(&token, "n-1")]);
    s.case(
        "a Verifier's initial deny-list takes ids in upper case",
        "verifier_sequence",
        config,
        json!({"outcomes": ["REVOKED"]}),
    );
    s.case(
        "one captured request cannot pass twice through two tokens that spell the holder key differently",
        "verifier_sequence",
        sequence(vec![auth(&token, "n-1"), auth(&upper, "n-1"), auth(&upper, "n-2")]),
        json!({"outcomes": ["OK", "REPLAYED", "OK"]}),
    );
    s.case(
        "revoke_token revokes every id of a token",
        "verifier_sequence",
        sequence(vec![json!({"revoke_token": token}), auth(&token, "n-1")]),
        json!({"outcomes": ["OK", "REVOKED"]}),
    );
    let policy = |facts: Value| {
        json!({"issuer_public_hex": issuer.public_hex(), "token": token, "request_facts": facts,
               "allow": ALLOW, "now": NOW})
    };
    s.case(
        "a request fact named like a token fact is refused: a request cannot grant itself a right",
        "check_policy",
        {
            let mut input = policy(json!({"right": "admin"}));
            input["allow"] = json!("allow if right(\"admin\")");
            input
        },
        err("MALFORMED_INPUT"),
    );
    s.case(
        "request facts must be in the req_ namespace",
        "check_policy",
        policy(json!({"operation": "lease"})),
        err("MALFORMED_INPUT"),
    );
    s.case(
        "a req_ request fact is accepted",
        "check_policy",
        policy(json!({"req_right": "lease"})),
        json!({"ok": true}),
    );
    let mint_input = |revocation_id: &str, facts: Value| {
        json!({"issuer_seed_hex": seed("issuer"), "public_hex": holder.public_hex(), "holder_id": "gpu-1",
               "facts": facts, "revocation_id": revocation_id, "expires_at": EXPIRES as f64})
    };
    s.case(
        "mint refuses a token fact in the request namespace",
        "mint",
        mint_input("rev-1", json!({"req_right": ["lease"]})),
        err("MALFORMED_INPUT"),
    );
    s.case(
        "mint refuses a revocation id not in its canonical form (hex in upper case)",
        "mint",
        mint_input("ABCDEF", json!({"right": ["lease"]})),
        err("MALFORMED_INPUT"),
    );
    s.case(
        "mint refuses a revocation id with spaces",
        "mint",
        mint_input("rev 1", json!({"right": ["lease"]})),
        err("MALFORMED_INPUT"),
    );
    assert!(mint("ABCDEF", right()).is_err());

    s.write(
        "one spelling for every identifier (revocation ids, holder keys) and separate namespaces for token and request facts",
        None,
    );
}
