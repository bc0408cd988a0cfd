//! Writes tests/vectors/*.json: trustcore's own conformance vectors (format: tests/vectors/README.md).
//!
//! Every expectation below is written out by hand (the spec), not computed by the code under test;
//! only tokens and signatures come from running the core, reproducibly (Ed25519 is deterministic and
//! the tokens' next-block keys are named seeds). Run: `cargo run -p trustcore-tools --bin make_vectors`, then review the diff.

use biscuit_auth::builder::{self, Check};
use biscuit_auth::{Biscuit, BlockBuilder};
use serde_json::{json, Value};
use trustcore_core::*;
use trustcore_tools::{err, seed_hex as seed, NextKeys, Suite};

const NOW: f64 = 1_700_000_000.0;
const EXPIRES: f64 = 1_700_003_600.0;

/// A suite and what its file says it holds.
struct Described(Suite, &'static str);

impl Described {
    fn new(name: &'static str, description: &'static str) -> Self {
        Described(Suite::new(name, env!("CARGO_BIN_NAME")), description)
    }

    fn case(&mut self, description: &str, op: &str, input: Value, expect: Value) {
        self.0.case(description, op, input, expect)
    }

    fn write(self) {
        self.0.write(self.1, None)
    }
}

struct Fixture {
    issuer: IssuerKey,
    worker: WorkerKey,
    next: NextKeys,
}

impl Fixture {
    fn issuer_hex(&self) -> String {
        self.issuer.public_hex()
    }

    fn mint(&self, facts: &[(&str, &[&str])], root_key_id: Option<u32>) -> String {
        mint_biscuit_reproducible(
            &self.issuer,
            &MintRequest {
                public_hex: self.worker.public_hex(),
                holder_id: "gpu-1".into(),
                facts: facts.iter().map(|(p, v)| (p.to_string(), v.iter().map(|s| s.to_string()).collect())).collect(),
                revocation_id: Some("rev-1".into()),
                expires_at: EXPIRES,
                root_key_id,
                delegation_depth: 0,
            },
            &self.next.next_seed(),
        )
        .unwrap()
    }

    /// A token built by hand, for shapes `mint_biscuit` refuses to make.
    fn raw(&self, facts: &[(&str, &str)]) -> Biscuit {
        let mut b = Biscuit::builder();
        for (p, v) in facts {
            b = b.fact(builder::fact(p, &[builder::string(v)])).unwrap();
        }
        let mut expiry = Check::try_from("check if time($t), $t <= {e}").unwrap();
        expiry
            .set("e", builder::date(&(std::time::UNIX_EPOCH + std::time::Duration::from_secs(EXPIRES as u64))))
            .unwrap();
        let private =
            biscuit_auth::PrivateKey::from_bytes(&*self.issuer.seed_bytes(), biscuit_auth::Algorithm::Ed25519).unwrap();
        b.check(expiry)
            .unwrap()
            .build_with_key_pair(&biscuit_auth::KeyPair::from(&private), Default::default(), &self.next.next_key_pair())
            .unwrap()
    }

    fn attenuate(&self, token: &str, code: &str) -> String {
        let parsed = Biscuit::from_base64(token, self.issuer.public_key_biscuit()).unwrap();
        let block = BlockBuilder::new().code(code).unwrap();
        parsed.append_with_keypair(&self.next.next_key_pair(), block).unwrap().to_base64().unwrap()
    }

    fn signature(&self, body: &[u8], timestamp: &str, nonce: &str) -> String {
        make_proof(&self.worker, "t", &Request::new("POST", "/lease", body), timestamp, nonce).unwrap().signature
    }

    fn authenticate_input(&self, token: &str, signature: &str, revoked: &[&str]) -> Value {
        json!({
            "issuer_public_hex": self.issuer_hex(),
            "proof": {"token": token, "signature": signature, "timestamp": "1700000000", "nonce": "n1"},
            "request": {"method": "POST", "path": "/lease", "body_hex": "7b7d"},
            "now": NOW, "revoked_ids": revoked, "max_skew_seconds": 300.0,
        })
    }

    fn identity(&self) -> Value {
        json!({"identity": {"holder_id": "gpu-1", "holder_public_hex": self.worker.public_hex(), "revocation_id": "rev-1"}})
    }
}

trait BiscuitKey {
    fn public_key_biscuit(&self) -> biscuit_auth::PublicKey;
}

impl BiscuitKey for IssuerKey {
    fn public_key_biscuit(&self) -> biscuit_auth::PublicKey {
        biscuit_auth::PublicKey::from_bytes(self.public_key().as_bytes(), biscuit_auth::Algorithm::Ed25519).unwrap()
    }
}

/// S + l: the same signature with a non-canonical scalar (strict verification must refuse it).
fn non_canonical_s(signature_hex: &str) -> String {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut sig = hex::decode(signature_hex).unwrap();
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = sig[32 + i] as u16 + L[i] as u16 + carry;
        sig[32 + i] = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0);
    hex::encode(sig)
}

/// A non-canonical encoding (y + p) of a point of large order.
fn non_canonical_point() -> String {
    for k in 2u8..19 {
        // p = 2^255 - 19; y = p + k, little-endian
        let mut bytes = [0xffu8; 32];
        bytes[31] = 0x7f;
        bytes[0] = 0xed + k;
        if let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&bytes) {
            if !key.is_weak() && key.to_edwards().compress().to_bytes() != bytes {
                return hex::encode(bytes);
            }
        }
    }
    panic!("no non-canonical point found");
}

/// The identity point: small order.
const SMALL_ORDER_KEY: &str = "0100000000000000000000000000000000000000000000000000000000000000";

fn hardening(fx: &Fixture) {
    let mut s = Described::new(
        "hardening",
        "beyond trust-core 0.1: line breaks, reserved predicates, binding, strict Ed25519, revocation ids, rotation",
    );
    let canonical = |m: &str, p: &str, t: &str, n: &str| json!({"method": m, "path": p, "body_hex": "7b7d", "timestamp": t, "nonce": n});
    s.case(
        "a LF in the method is refused",
        "canonical_request",
        canonical("POST\n", "/lease", "1", "n"),
        err("MALFORMED_INPUT"),
    );
    s.case(
        "a CR in the path is refused",
        "canonical_request",
        canonical("POST", "/lease\r", "1", "n"),
        err("MALFORMED_INPUT"),
    );
    s.case(
        "a LF in the timestamp is refused",
        "canonical_request",
        canonical("POST", "/lease", "1\n2", "n"),
        err("MALFORMED_INPUT"),
    );
    s.case(
        "a CRLF in the nonce is refused",
        "canonical_request",
        canonical("POST", "/lease", "1", "n\r\nx"),
        err("MALFORMED_INPUT"),
    );
    s.case(
        "a line break in the path cannot shift into the method",
        "canonical_request",
        canonical("POST\n/lease", "", "1", "n"),
        err("MALFORMED_INPUT"),
    );
    s.case(
        "make_proof refuses a nonce with a line break",
        "make_proof",
        json!({"worker_seed_hex": seed("worker"), "token": "t", "method": "GET", "path": "/", "body_hex": "", "timestamp": "1", "nonce": "a\nb"}),
        err("MALFORMED_INPUT"),
    );
    let token = fx.mint(&[("right", &["lease"])], None);
    let mut input = fx.authenticate_input(&token, &fx.signature(b"{}", "1700000000", "n1"), &[]);
    input["proof"]["nonce"] = json!("n1\r");
    s.case("authenticate refuses a nonce with a CR", "authenticate", input, err("MALFORMED_INPUT"));

    let mint = |facts: Value, public_hex: &str| json!({"issuer_seed_hex": seed("issuer"), "public_hex": public_hex, "holder_id": "gpu-1", "facts": facts, "revocation_id": "rev-1", "expires_at": EXPIRES});
    let holder = fx.worker.public_hex();
    for reserved in RESERVED_PREDICATES {
        s.case(
            &format!("the reserved predicate {reserved} is refused at mint"),
            "mint",
            mint(json!({*reserved: ["x"]}), &holder),
            err("MALFORMED_INPUT"),
        );
    }
    for bad in ["1right", "", "right-hand", "dro\u{ee}t", "right(\"x\")"] {
        s.case(
            &format!("the predicate {bad:?} is not an identifier"),
            "mint",
            mint(json!({bad: ["x"]}), &holder),
            err("MALFORMED_INPUT"),
        );
    }
    s.case(
        "an empty revocation id is refused",
        "mint",
        {
            let mut m = mint(json!({}), &holder);
            m["revocation_id"] = json!("");
            m
        },
        err("MALFORMED_INPUT"),
    );
    s.case(
        "a holder key of small order is refused at mint",
        "mint",
        mint(json!({}), SMALL_ORDER_KEY),
        err("MALFORMED_INPUT"),
    );
    s.case(
        "a non-canonical holder key is refused at mint",
        "mint",
        mint(json!({}), &non_canonical_point()),
        err("MALFORMED_INPUT"),
    );
    s.case(
        "a holder key that is not hex is refused at mint",
        "mint",
        mint(json!({}), &"zz".repeat(32)),
        err("MALFORMED_INPUT"),
    );
    s.case(
        "a predicate with an underscore and digits is fine",
        "mint",
        mint(json!({"lane_2": ["b", "a"]}), &holder),
        json!({"authority_source": format!("worker_key(\"{holder}\");\nworker_id(\"gpu-1\");\nlane_2(\"a\");\nlane_2(\"b\");\nrevocation(\"rev-1\");\ncheck if time($t), $t <= 2023-11-14T23:13:20Z;\n")}),
    );
    s.case(
        "a root key id is written into the token, not the block",
        "mint",
        {
            let mut m = mint(json!({"right": ["lease"]}), &holder);
            m["root_key_id"] = json!(7);
            m
        },
        json!({"authority_source": format!("worker_key(\"{holder}\");\nworker_id(\"gpu-1\");\nright(\"lease\");\nrevocation(\"rev-1\");\ncheck if time($t), $t <= 2023-11-14T23:13:20Z;\n")}),
    );

    let sig = fx.signature(b"{}", "1700000000", "n1");
    let other = WorkerKey::from_secret_hex(&seed("other-worker")).unwrap().public_hex();
    let two_keys =
        fx.raw(&[("worker_key", &holder), ("worker_key", &other), ("worker_id", "gpu-1"), ("revocation", "rev-1")]);
    s.case(
        "two worker_key facts in the authority block bind nobody",
        "authenticate",
        fx.authenticate_input(&two_keys.to_base64().unwrap(), &sig, &[]),
        err("TOKEN_UNBOUND"),
    );
    let two_revs =
        fx.raw(&[("worker_key", &holder), ("worker_id", "gpu-1"), ("revocation", "rev-1"), ("revocation", "rev-2")]);
    s.case(
        "two revocation facts in the authority block are refused",
        "authenticate",
        fx.authenticate_input(&two_revs.to_base64().unwrap(), &sig, &[]),
        err("TOKEN_UNBOUND"),
    );
    let two_ids =
        fx.raw(&[("worker_key", &holder), ("worker_id", "gpu-1"), ("worker_id", "gpu-2"), ("revocation", "rev-1")]);
    s.case(
        "two worker_id facts in the authority block are refused",
        "authenticate",
        fx.authenticate_input(&two_ids.to_base64().unwrap(), &sig, &[]),
        err("TOKEN_UNBOUND"),
    );
    let weak = fx.raw(&[("worker_key", SMALL_ORDER_KEY), ("worker_id", "gpu-1"), ("revocation", "rev-1")]);
    s.case(
        "a token binding a small-order key binds nobody",
        "authenticate",
        fx.authenticate_input(&weak.to_base64().unwrap(), &non_canonical_s(&"00".repeat(64)), &[]),
        err("TOKEN_UNBOUND"),
    );
    let no_key = fx.raw(&[("worker_id", "gpu-1"), ("revocation", "rev-1")]).to_base64().unwrap();
    let key_in_block = fx.attenuate(&no_key, &format!("worker_key(\"{holder}\");"));
    s.case(
        "a worker_key appended by the holder does not bind",
        "authenticate",
        fx.authenticate_input(&key_in_block, &sig, &[]),
        err("TOKEN_UNBOUND"),
    );
    let same_key_twice =
        fx.raw(&[("worker_key", &holder), ("worker_key", &holder), ("worker_id", "gpu-1"), ("revocation", "rev-1")]);
    s.case(
        "the same worker_key written twice is one fact",
        "authenticate",
        fx.authenticate_input(&same_key_twice.to_base64().unwrap(), &sig, &[]),
        fx.identity(),
    );
    s.case(
        "a signature with a non-canonical S (S + l) fails",
        "authenticate",
        fx.authenticate_input(&token, &non_canonical_s(&sig), &[]),
        err("POP_FAILED"),
    );
    s.case(
        "a signature of 63 bytes is malformed",
        "authenticate",
        fx.authenticate_input(&token, &sig[..126], &[]),
        err("MALFORMED_INPUT"),
    );
    s.case(
        "a fresh request with a well-formed token authenticates",
        "authenticate",
        fx.authenticate_input(&token, &sig, &[]),
        fx.identity(),
    );
    let mut input = fx.authenticate_input(&token, &sig, &[]);
    input["issuer_public_hex"] = json!(SMALL_ORDER_KEY);
    s.case("an issuer key of small order is malformed", "authenticate", input, err("MALFORMED_INPUT"));
    let mut input = fx.authenticate_input(&token, &sig, &[]);
    input["issuer_public_hex"] = json!(non_canonical_point());
    s.case("a non-canonically encoded issuer key is malformed", "authenticate", input, err("MALFORMED_INPUT"));
    let block0 = parse_token(&IssuerKeys::one(fx.issuer.public_key()), &token).unwrap().revocation_ids()[0].clone();
    s.case(
        "the deny-list matches the token's own block revocation id",
        "authenticate",
        fx.authenticate_input(&token, &sig, &[&block0]),
        err("REVOKED"),
    );
    let attenuated = fx.attenuate(&token, "check if req_lane(\"a\");");
    let block1 =
        parse_token(&IssuerKeys::one(fx.issuer.public_key()), &attenuated).unwrap().revocation_ids()[1].clone();
    s.case(
        "the deny-list matches an appended block's revocation id",
        "authenticate",
        fx.authenticate_input(&attenuated, &sig, &[&block1]),
        err("REVOKED"),
    );
    s.case(
        "revoking an appended block leaves the parent token valid",
        "authenticate",
        fx.authenticate_input(&token, &sig, &[&block1]),
        fx.identity(),
    );

    let rotated = fx.mint(&[("right", &["lease"])], Some(7));
    let old = IssuerKey::from_secret_hex(&seed("old-issuer")).unwrap().public_hex();
    let rotation = |keys: Value| {
        let mut input = fx.authenticate_input(&rotated, &sig, &[]);
        input.as_object_mut().unwrap().remove("issuer_public_hex");
        input["issuer_keys"] = keys;
        input
    };
    s.case(
        "the root key id selects the issuer key",
        "authenticate",
        rotation(json!({"3": old, "7": fx.issuer_hex()})),
        fx.identity(),
    );
    s.case(
        "an unknown root key id is refused",
        "authenticate",
        rotation(json!({"3": old, "8": fx.issuer_hex()})),
        err("TOKEN_INVALID"),
    );
    s.case(
        "a root key id naming another key is refused",
        "authenticate",
        rotation(json!({"7": old})),
        err("TOKEN_INVALID"),
    );
    let mut input = fx.authenticate_input(&token, &sig, &[]);
    input.as_object_mut().unwrap().remove("issuer_public_hex");
    input["issuer_keys"] = json!({"7": fx.issuer_hex()});
    s.case(
        "with several issuer keys a token naming no root key id is refused",
        "authenticate",
        input,
        err("TOKEN_INVALID"),
    );

    let job = json!({"request_id": "r1", "op": "transcribe"});
    let job_sig = sign_job(&fx.issuer, job.as_object().unwrap(), "w1").unwrap();
    let mut signed = job.clone();
    signed["sig"] = json!(non_canonical_s(&job_sig));
    s.case(
        "a job signature with a non-canonical S fails",
        "verify_job",
        json!({"issuer_public_hex": fx.issuer_hex(), "job": signed, "worker_id": "w1"}),
        err("JOB_INVALID"),
    );
    let mut signed = job.clone();
    signed["sig"] = json!(job_sig);
    s.case(
        "a job verified against an issuer key that is not hex is malformed",
        "verify_job",
        json!({"issuer_public_hex": "xyz", "job": signed, "worker_id": "w1"}),
        err("MALFORMED_INPUT"),
    );
    s.case(
        "a job signature that is a number fails",
        "verify_job",
        json!({"issuer_public_hex": fx.issuer_hex(), "job": {"request_id": "r1", "sig": 5}, "worker_id": "w1"}),
        err("JOB_INVALID"),
    );

    let headers = |h: Value| json!({"headers": h});
    s.case(
        "Authorization given twice (in two cases) is refused",
        "proof_from_headers",
        headers(json!({"Authorization": "Biscuit a", "authorization": "Biscuit b", "X-EP-Signature": "aa", "X-EP-Timestamp": "1", "X-EP-Nonce": "n"})),
        err("MALFORMED_INPUT"),
    );
    s.case(
        "a tab between scheme and token is refused",
        "proof_from_headers",
        headers(
            json!({"Authorization": "Biscuit\ttok", "X-EP-Signature": "aa", "X-EP-Timestamp": "1", "X-EP-Nonce": "n"}),
        ),
        err("MALFORMED_INPUT"),
    );
    s.case(
        "other headers are ignored",
        "proof_from_headers",
        headers(json!({"host": "x", "authorization": "BISCUIT tok", "x-ep-signature": "aa", "x-ep-timestamp": "1", "x-ep-nonce": "n", "content-type": "a/b"})),
        json!({"proof": {"token": "tok", "signature": "aa", "timestamp": "1", "nonce": "n"}}),
    );
    s.case(
        "a blank query value is refused",
        "proof_from_query",
        json!({"query": {"token": "tok", "sig": "aa", "ts": " ", "nonce": "n"}}),
        err("MALFORMED_INPUT"),
    );
    s.case(
        "query names are matched exactly",
        "proof_from_query",
        json!({"query": {"Token": "tok", "sig": "aa", "ts": "1", "nonce": "n"}}),
        err("MALFORMED_INPUT"),
    );

    let policy = |facts: Value, allow: &str| json!({"issuer_public_hex": fx.issuer_hex(), "token": token, "request_facts": facts, "allow": allow, "now": NOW});
    s.case(
        "a request fact name that is not an identifier is refused",
        "check_policy",
        policy(json!({"req right": "lease"}), "allow if true"),
        err("MALFORMED_INPUT"),
    );
    s.case(
        "an allow policy nested 5,000 deep is refused before the parser",
        "check_policy",
        policy(json!({}), &format!("allow if {}true{}", "[".repeat(5_000), "]".repeat(5_000))),
        err("MALFORMED_INPUT"),
    );
    s.case(
        "an allow policy that does not parse is refused",
        "check_policy",
        policy(json!({}), "allow if ("),
        err("MALFORMED_INPUT"),
    );
    s.case(
        "a request fact may not use a reserved name (time)",
        "check_policy",
        policy(json!({"time": "2000-01-01T00:00:00Z"}), "allow if true"),
        err("MALFORMED_INPUT"),
    );
    s.write();
}

fn authorize_suite(fx: &Fixture) {
    let mut s = Described::new(
        "authorize",
        "the general authorizer over a token: policies, checks, time, extern functions, scope",
    );
    let token = fx.mint(&[("right", &["lease", "complete"]), ("lane", &["a"])], None);
    let attenuated = fx.attenuate(&token, "right(\"admin\");\ncheck if operation(\"read\");");
    let input = |t: &str, code: &str, now: Value| json!({"issuer_public_hex": fx.issuer_hex(), "token": t, "code": code, "now": now});
    s.case(
        "the first allow policy matches",
        "authorize",
        input(&token, "allow if right(\"lease\");", json!(NOW)),
        json!({"policy": 0}),
    );
    s.case(
        "the index of the matching policy is returned",
        "authorize",
        input(&token, "allow if right(\"admin\");\nallow if lane(\"a\");", json!(NOW)),
        json!({"policy": 1}),
    );
    s.case(
        "a matching deny policy refuses",
        "authorize",
        input(&token, "deny if right(\"lease\");\nallow if true;", json!(NOW)),
        err("DENIED"),
    );
    s.case(
        "no matching policy refuses",
        "authorize",
        input(&token, "allow if right(\"admin\");", json!(NOW)),
        err("DENIED"),
    );
    s.case("no policy at all refuses", "authorize", input(&token, "right(\"x\");", json!(NOW)), err("DENIED"));
    s.case(
        "a failing authorizer check refuses",
        "authorize",
        input(&token, "check if lane(\"b\");\nallow if true;", json!(NOW)),
        err("DENIED"),
    );
    s.case(
        "authorizer facts and rules take part",
        "authorize",
        input(
            &token,
            "resource(\"lease\");\ncan($r) <- right($r), resource($r);\nallow if can(\"lease\");",
            json!(NOW),
        ),
        json!({"policy": 0}),
    );
    let deep = format!("allow if {}true{};", "(".repeat(5_000), ")".repeat(5_000));
    s.case(
        "code nested 5,000 deep is refused before the parser",
        "authorize",
        input(&token, &deep, json!(NOW)),
        err("MALFORMED_INPUT"),
    );
    let nested = format!("allow if {}true{};", "(".repeat(64), ")".repeat(64));
    s.case("code nested 64 deep is accepted", "authorize", input(&token, &nested, json!(NOW)), json!({"policy": 0}));
    s.case(
        "code that does not parse is malformed",
        "authorize",
        input(&token, "allow if (((", json!(NOW)),
        err("MALFORMED_INPUT"),
    );
    s.case(
        "now adds time(now)",
        "authorize",
        input(&token, "allow if time($t), $t == 2023-11-14T22:13:20Z;", json!(NOW)),
        json!({"policy": 0}),
    );
    s.case(
        "now is cut to whole seconds",
        "authorize",
        input(&token, "allow if time($t), $t == 2023-11-14T22:13:20Z;", json!(NOW + 0.75)),
        json!({"policy": 0}),
    );
    s.case(
        "without now there is no time fact and the expiry check fails",
        "authorize",
        input(&token, "allow if true;", Value::Null),
        err("DENIED"),
    );
    s.case(
        "without now the caller may give its own time",
        "authorize",
        input(&token, "time(2023-11-14T22:13:20Z);\nallow if true;", Value::Null),
        json!({"policy": 0}),
    );
    s.case(
        "a negative now is malformed",
        "authorize",
        input(&token, "allow if true;", json!(-1.0)),
        err("MALFORMED_INPUT"),
    );
    s.case(
        "an expired token is refused by its own check",
        "authorize",
        input(&token, "allow if true;", json!(EXPIRES + 1.0)),
        err("DENIED"),
    );
    s.case(
        "a token expiring this very second is allowed",
        "authorize",
        input(&token, "allow if true;", json!(EXPIRES)),
        json!({"policy": 0}),
    );
    s.case(
        "a holder's appended fact is outside the authorizer's trust",
        "authorize",
        input(&attenuated, "operation(\"read\");\nallow if right(\"admin\");", json!(NOW)),
        err("DENIED"),
    );
    s.case(
        "a holder's appended check still applies",
        "authorize",
        input(&attenuated, "operation(\"write\");\nallow if true;", json!(NOW)),
        err("DENIED"),
    );
    s.case(
        "the appended check passes when met",
        "authorize",
        input(&attenuated, "operation(\"read\");\nallow if right(\"lease\");", json!(NOW)),
        json!({"policy": 0}),
    );
    let mut with_extern = input(&token, "allow if \"a\".extern::test(\"a\") == \"equal strings\";", json!(NOW));
    with_extern["extern_functions"] = json!(["test"]);
    s.case("an enabled extern function is called", "authorize", with_extern, json!({"policy": 0}));
    s.case(
        "an extern function that is not enabled fails the policy",
        "authorize",
        input(&token, "allow if \"a\".extern::test(\"a\") == \"equal strings\";", json!(NOW)),
        err("DENIED"),
    );
    let mut unknown = input(&token, "allow if true;", json!(NOW));
    unknown["extern_functions"] = json!(["no_such_function"]);
    s.case("an unknown extern function name is malformed", "authorize", unknown, err("MALFORMED_INPUT"));
    s.case(
        "integer overflow in an expression refuses",
        "authorize",
        input(&token, "allow if 9223372036854775807 + 1 > 0;", json!(NOW)),
        err("DENIED"),
    );
    s.case(
        "a token from another issuer is refused at parse",
        "authorize",
        {
            let mut i = input(&token, "allow if true;", json!(NOW));
            i["issuer_public_hex"] = json!(IssuerKey::from_secret_hex(&seed("old-issuer")).unwrap().public_hex());
            i
        },
        err("TOKEN_INVALID"),
    );
    s.write();
}

fn limits_suite(fx: &Fixture) {
    let mut s = Described::new(
        "limits",
        "authorizer run limits, set on the builder: exceeding them is LIMIT_EXCEEDED, never DENIED",
    );
    let token = fx.mint(&[("right", &["lease"])], None);
    let numbers: String = (0..40).map(|i| format!("n({i});\n")).collect();
    let exploding = fx.attenuate(&token, &format!("{numbers}pair($a, $b) <- n($a), n($b);"));
    let deep = fx.attenuate(&token, "edge(0, 1);\nedge(1, 2);\nedge(2, 3);\nedge(3, 4);\nedge(4, 5);\npath($a, $b) <- edge($a, $b);\npath($a, $c) <- path($a, $b), edge($b, $c);");
    let policy = |t: &str, limits: Value| json!({"issuer_public_hex": fx.issuer_hex(), "token": t, "request_facts": {"req_right": "lease"}, "allow": "allow if req_right($r), right($r)", "now": NOW, "limits": limits});
    s.case(
        "an appended block generating 1600 facts exceeds the default 1000",
        "check_policy",
        policy(&exploding, json!({})),
        err("LIMIT_EXCEEDED"),
    );
    s.case(
        "the same block passes with a higher fact limit",
        "check_policy",
        policy(&exploding, json!({"max_facts": 5000, "max_time_ms": 1000})),
        json!({"ok": true}),
    );
    s.case(
        "the fact limit bounds derived facts: stated facts alone never exceed it",
        "check_policy",
        policy(&token, json!({"max_facts": 3})),
        json!({"ok": true}),
    );
    s.case(
        "a recursive rule exceeds an iteration limit of 2",
        "check_policy",
        policy(&deep, json!({"max_iterations": 2})),
        err("LIMIT_EXCEEDED"),
    );
    s.case(
        "the recursive rule passes with the default iterations",
        "check_policy",
        policy(&deep, json!({})),
        json!({"ok": true}),
    );
    s.case(
        "a zero time limit is always exceeded, never a pass",
        "check_policy",
        policy(&token, json!({"max_time_ms": 0})),
        err("LIMIT_EXCEEDED"),
    );
    s.case(
        "a zero time limit is exceeded even where the policy would deny",
        "check_policy",
        {
            let mut p = policy(&token, json!({"max_time_ms": 0}));
            p["request_facts"] = json!({"req_right": "admin"});
            p
        },
        err("LIMIT_EXCEEDED"),
    );
    let authorize = |code: &str, limits: Value| json!({"issuer_public_hex": fx.issuer_hex(), "token": token, "code": code, "now": NOW, "limits": limits});
    let many: String = (0..20).map(|i| format!("f({i});\n")).collect();
    s.case(
        "stated authorizer facts do not count toward the fact limit",
        "authorize",
        authorize(&format!("{many}allow if true;"), json!({"max_facts": 10})),
        json!({"policy": 0}),
    );
    s.case(
        "facts derived from them do",
        "authorize",
        authorize(&format!("{many}g($x) <- f($x);\nallow if true;"), json!({"max_facts": 30})),
        err("LIMIT_EXCEEDED"),
    );
    s.case(
        "the same code passes under the default limits",
        "authorize",
        authorize(&format!("{many}allow if true;"), json!({})),
        json!({"policy": 0}),
    );
    s.case(
        "an authorizer rule that explodes is LIMIT_EXCEEDED",
        "authorize",
        authorize(&format!("{numbers}p($a, $b) <- n($a), n($b);\nallow if true;"), json!({})),
        err("LIMIT_EXCEEDED"),
    );
    s.case(
        "a zero time limit in authorize is LIMIT_EXCEEDED",
        "authorize",
        authorize("allow if true;", json!({"max_time_ms": 0})),
        err("LIMIT_EXCEEDED"),
    );
    let mut auth = fx.authenticate_input(&exploding, &fx.signature(b"{}", "1700000000", "n1"), &[]);
    auth["limits"] = json!({});
    s.case(
        "authenticate reads the identity from the authority block alone: an appended rule does not run",
        "authenticate",
        auth,
        fx.identity(),
    );
    s.write();
}

fn frames_suite() {
    let mut s = Described::new(
        "frames",
        "wire frames beyond trust-core 0.1: JCS order, trailing bytes, nesting, bodies that are not objects",
    );
    let frame = |body: &[u8]| {
        let mut f = (body.len() as u32).to_be_bytes().to_vec();
        f.extend_from_slice(body);
        hex::encode(f)
    };
    s.case(
        "keys are written in JCS order at every depth",
        "frame_encode",
        json!({"object": {"b": 1, "a": {"d": [true, null], "c": "x"}}}),
        json!({"frame_hex": frame(br#"{"a":{"c":"x","d":[true,null]},"b":1}"#)}),
    );
    s.case(
        "non-ASCII strings are written as UTF-8, not escaped",
        "frame_encode",
        json!({"object": {"k": "\u{e9}\u{2713}"}}),
        json!({"frame_hex": frame("{\"k\":\"\u{e9}\u{2713}\"}".as_bytes())}),
    );
    s.case(
        "control characters are escaped",
        "frame_encode",
        json!({"object": {"k": "a\nb\u{1}"}}),
        json!({"frame_hex": frame(br#"{"k":"a\nb\u0001"}"#)}),
    );
    s.case(
        "integers and negative numbers",
        "frame_encode",
        json!({"object": {"n": -7, "m": 0, "big": 9007199254740991_u64}}),
        json!({"frame_hex": frame(br#"{"big":9007199254740991,"m":0,"n":-7}"#)}),
    );
    s.case(
        "bytes after the frame are refused",
        "frame_decode",
        json!({"frame_hex": frame(b"{}") + "00"}),
        err("FRAME_INVALID"),
    );
    s.case("an empty input is refused", "frame_decode", json!({"frame_hex": ""}), err("FRAME_INVALID"));
    s.case("a zero-length body is not JSON", "frame_decode", json!({"frame_hex": "00000000"}), err("FRAME_INVALID"));
    s.case("a null body is refused", "frame_decode", json!({"frame_hex": frame(b"null")}), err("FRAME_INVALID"));
    s.case("a number body is refused", "frame_decode", json!({"frame_hex": frame(b"12")}), err("FRAME_INVALID"));
    s.case(
        "a body that is not UTF-8 is refused",
        "frame_decode",
        json!({"frame_hex": frame(b"{\"a\":\"\xff\"}")}),
        err("FRAME_INVALID"),
    );
    s.case(
        "a length of exactly 1 MiB is read, then found short",
        "frame_decode",
        json!({"frame_hex": "00100000" .to_owned() + &hex::encode(b"{}")}),
        err("FRAME_INVALID"),
    );
    s.case(
        "a length of 4 GiB - 1 is refused on the length alone",
        "frame_decode",
        json!({"frame_hex": "ffffffff"}),
        err("FRAME_INVALID"),
    );
    let deep = "[".repeat(10_000) + &"]".repeat(10_000);
    s.case(
        "nesting 10,000 deep is refused",
        "frame_decode",
        json!({"frame_hex": frame(format!("{{\"a\":{deep}}}").as_bytes())}),
        err("FRAME_INVALID"),
    );
    s.case(
        "trailing garbage inside the body is refused",
        "frame_decode",
        json!({"frame_hex": frame(b"{} x")}),
        err("FRAME_INVALID"),
    );
    s.case(
        "whitespace around the object is accepted",
        "frame_decode",
        json!({"frame_hex": frame(b" {\"a\": [1, 2]} ")}),
        json!({"object": {"a": [1, 2]}}),
    );
    s.case(
        "nested objects decode",
        "frame_decode",
        json!({"frame_hex": frame(br#"{"v":1,"op":"mint","args":{"facts":{"right":["lease"]}}}"#)}),
        json!({"object": {"v": 1, "op": "mint", "args": {"facts": {"right": ["lease"]}}}}),
    );
    s.write();
}

fn inspect_suite(fx: &Fixture) {
    let mut s = Described::new("inspect", "token inspection: block sources, revocation ids, root key id");
    let holder = fx.worker.public_hex();
    let authority = format!("worker_key(\"{holder}\");\nworker_id(\"gpu-1\");\nright(\"lease\");\nrevocation(\"rev-1\");\ncheck if time($t), $t <= 2023-11-14T23:13:20Z;\n");
    let token = fx.mint(&[("right", &["lease"])], None);
    let attenuated = fx.attenuate(&token, "check if req_lane(\"a\");");
    let rotated = fx.mint(&[("right", &["lease"])], Some(7));
    let ids = |t: &str| parse_token(&IssuerKeys::one(fx.issuer.public_key()), t).unwrap().revocation_ids();
    s.case(
        "a minted token",
        "inspect",
        json!({"issuer_public_hex": fx.issuer_hex(), "token": token}),
        json!({"block_count": 1, "blocks": [authority], "revocation_ids": ids(&token), "root_key_id": null}),
    );
    s.case("an attenuated token", "inspect", json!({"issuer_public_hex": fx.issuer_hex(), "token": attenuated}), json!({"block_count": 2, "blocks": [authority, "check if req_lane(\"a\");\n"], "revocation_ids": ids(&attenuated), "root_key_id": null}));
    s.case(
        "a token with a root key id",
        "inspect",
        json!({"issuer_keys": {"7": fx.issuer_hex()}, "token": rotated}),
        json!({"block_count": 1, "root_key_id": 7}),
    );
    s.case("a token from another issuer is refused", "inspect", json!({"issuer_public_hex": IssuerKey::from_secret_hex(&seed("old-issuer")).unwrap().public_hex(), "token": token}), err("TOKEN_INVALID"));
    s.case(
        "base64 padding and URL-safe alphabet: a standard-alphabet token is refused",
        "inspect",
        json!({"issuer_public_hex": fx.issuer_hex(), "token": token.replace('-', "+").replace('_', "/") + "!"}),
        err("TOKEN_INVALID"),
    );
    s.case(
        "an empty token is refused",
        "inspect",
        json!({"issuer_public_hex": fx.issuer_hex(), "token": ""}),
        err("TOKEN_INVALID"),
    );
    s.write();
}

fn main() {
    let fx = Fixture {
        issuer: IssuerKey::from_secret_hex(&seed("issuer")).unwrap(),
        worker: WorkerKey::from_secret_hex(&seed("worker")).unwrap(),
        next: NextKeys::new(env!("CARGO_BIN_NAME")),
    };
    hardening(&fx);
    authorize_suite(&fx);
    limits_suite(&fx);
    frames_suite();
    inspect_suite(&fx);
}
