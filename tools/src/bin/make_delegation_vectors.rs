//! Writes tests/vectors/delegation.json: delegation chains (docs/DESIGN.md §3.13), as the two ops
//! of tests/vectors/README.md ("Delegation"): `delegate` (the holder's side: the chain of the token it
//! makes, or the code it refuses with) and `delegation_sequence` (the verifier's side: one Verifier,
//! each step a holder's request on a token, authenticated then authorized), and `mint` with a
//! delegation depth. Expected outcomes are written by hand; tokens and proofs come from running the
//! core, reproducibly (named seeds for every key, the tokens' next-block keys included). Links the
//! core's `delegate` would refuse are built by hand with biscuit-auth, as an attacker would. Run:
//! `cargo run -p trustcore-tools --bin make_delegation_vectors`, then review the diff.

use biscuit_auth::builder::{Algorithm, BlockBuilder, Check};
use biscuit_auth::UnverifiedBiscuit;
use serde_json::{json, Value};
use trustcore_core::*;
use trustcore_tools::{err, seed_hex as seed, NextKeys, Suite};

const NOW: f64 = 1_700_000_000.0;
const EXPIRES: f64 = NOW + 3600.0;
const LINK_EXPIRES: f64 = NOW + 600.0;
const ALLOW: &str = "allow if req_right($r), right($r)";

struct Fx {
    issuer: IssuerKey,
    a: WorkerKey,
    b: WorkerKey,
    c: WorkerKey,
    thief: WorkerKey,
    next: NextKeys,
}

impl Fx {
    /// A's token: `right(lease)`, `right(read)` and `more_rights`, delegable `depth` times.
    fn mint(&self, depth: u32, revocation_id: &str, more_rights: &[&str]) -> String {
        let mut rights: Vec<String> = vec!["lease".into(), "read".into()];
        rights.extend(more_rights.iter().map(|r| r.to_string()));
        mint_biscuit_reproducible(
            &self.issuer,
            &MintRequest {
                public_hex: self.a.public_hex(),
                holder_id: "a".into(),
                facts: vec![("right".into(), rights)],
                revocation_id: Some(revocation_id.into()),
                expires_at: EXPIRES,
                root_key_id: None,
                delegation_depth: depth,
            },
            &self.next.next_seed(),
        )
        .unwrap()
    }

    /// `holder` delegates `token` to `to` (named `id`) with `checks`, until `expires_at`.
    fn delegate(
        &self,
        token: &str,
        holder: &WorkerKey,
        to: &WorkerKey,
        id: &str,
        checks: &str,
        expires_at: f64,
    ) -> String {
        let request = DelegateRequest {
            to_public_hex: to.public_hex(),
            to_holder_id: id.into(),
            checks: checks.into(),
            expires_at,
        };
        delegate_reproducible(token, holder, &request, &self.next.next_seed()).unwrap()
    }

    /// A third-party block written by hand (`code`), signed by `signer`, appended to `token`.
    fn link_by_hand(&self, token: &str, signer: &WorkerKey, code: &str) -> String {
        let unverified = UnverifiedBiscuit::from_base64(token).unwrap();
        let private = biscuit_auth::PrivateKey::from_bytes(&*signer.seed_bytes(), Algorithm::Ed25519).unwrap();
        let block = unverified
            .third_party_request()
            .unwrap()
            .create_block(&private, BlockBuilder::new().code(code).unwrap())
            .unwrap()
            .serialize()
            .unwrap();
        unverified.append_third_party_with_keypair(&block, self.next.next_key_pair()).unwrap().to_base64().unwrap()
    }

    /// A first-party block (`code`) appended to `token`, as any holder can.
    fn plain_block(&self, token: &str, code: &str) -> String {
        let unverified = UnverifiedBiscuit::from_base64(token).unwrap();
        unverified
            .append_with_keypair(&self.next.next_key_pair(), BlockBuilder::new().code(code).unwrap())
            .unwrap()
            .to_base64()
            .unwrap()
    }

    fn issuer_hex(&self) -> String {
        self.issuer.public_hex()
    }

    /// A `delegate` case's input.
    fn delegate_input(
        &self,
        token: &str,
        holder: &WorkerKey,
        to_public_hex: &str,
        id: &str,
        checks: &str,
        expires_at: f64,
    ) -> Value {
        json!({
            "issuer_public_hex": self.issuer_hex(), "token": token, "holder_secret_hex": *holder.secret_hex(),
            "to_public_hex": to_public_hex, "to_holder_id": id, "checks": checks, "expires_at": expires_at,
        })
    }

    /// A `delegation_sequence` case's input: one Verifier at NOW, `revoked` from the start.
    fn sequence(&self, revoked: &[&str], steps: Vec<Value>) -> Value {
        json!({"issuer_public_hex": self.issuer_hex(), "now": NOW, "revoked_ids": revoked, "steps": steps})
    }
}

/// A step: `key` signs POST /lease `{}` for `token` with `nonce`; the request asks for `right`.
fn step(token: &str, key: &WorkerKey, nonce: &str, allow: &str, right: &str) -> Value {
    json!({"token": token, "holder_secret_hex": *key.secret_hex(), "nonce": nonce, "allow": allow,
           "request_facts": {"req_right": right}})
}

/// An accepted step's outcome: the last holder and the chain.
fn ok(chain: &[(&str, &WorkerKey)]) -> Value {
    let last = chain.last().unwrap().0;
    json!({"holder_id": last, "chain": chain_value(chain)})
}

fn chain_value(chain: &[(&str, &WorkerKey)]) -> Value {
    Value::Array(chain.iter().map(|(id, key)| json!([id, key.public_hex()])).collect())
}

fn refused(code: &str) -> Value {
    json!({"error": code})
}

/// `check if time($t), $t <= <seconds>;` as Biscuit writes a date.
fn until(seconds: f64) -> String {
    let date = std::time::UNIX_EPOCH + std::time::Duration::from_secs_f64(seconds);
    let mut check = Check::try_from("check if time($t), $t <= {d}").unwrap();
    check.set("d", biscuit_auth::builder::date(&date)).unwrap();
    format!("{check};")
}

/// A delegation block's Datalog, written by hand: the next key and id, `more`, and an expiry.
fn link_code(to: &str, id: &str, more: &str, expires_at: f64) -> String {
    format!("delegate_key(\"{to}\");\ndelegate_id(\"{id}\");\n{more}{}", until(expires_at))
}

fn main() {
    let fx = Fx {
        issuer: IssuerKey::from_secret_hex(&seed("issuer")).unwrap(),
        a: WorkerKey::from_secret_hex(&seed("holder-a")).unwrap(),
        b: WorkerKey::from_secret_hex(&seed("holder-b")).unwrap(),
        c: WorkerKey::from_secret_hex(&seed("holder-c")).unwrap(),
        thief: WorkerKey::from_secret_hex(&seed("thief")).unwrap(),
        next: NextKeys::new(env!("CARGO_BIN_NAME")),
    };
    let (a, b, c, thief) = (&fx.a, &fx.b, &fx.c, &fx.thief);
    let mut s = Suite::new("delegation", env!("CARGO_BIN_NAME"));

    // ---- minting a delegable token ------------------------------------------------------------------
    let mint = |depth: Option<u32>| {
        let mut input = json!({
            "issuer_seed_hex": seed("issuer"), "public_hex": a.public_hex(), "holder_id": "a",
            "facts": {"right": ["lease"]}, "revocation_id": "rev-a", "expires_at": EXPIRES,
        });
        if let Some(depth) = depth {
            input["delegation_depth"] = json!(depth);
        }
        input
    };
    let authority = |depth: &str| {
        format!(
            "worker_key(\"{}\");\nworker_id(\"a\");\nright(\"lease\");\nrevocation(\"rev-a\");\n{depth}{}\n",
            a.public_hex(),
            until(EXPIRES)
        )
    };
    s.case(
        "mint with a delegation depth writes delegation_depth(n) after the revocation id",
        "mint",
        mint(Some(2)),
        json!({"authority_source": authority("delegation_depth(2);\n")}),
    );
    s.case(
        "mint with the most links an issuer may allow (8)",
        "mint",
        mint(Some(8)),
        json!({"authority_source": authority("delegation_depth(8);\n")}),
    );
    s.case(
        "delegation depth 0 (the default, given) writes nothing: the token is not delegable",
        "mint",
        mint(Some(0)),
        json!({"authority_source": authority("")}),
    );
    s.case(
        "no delegation depth given: nothing written",
        "mint",
        mint(None),
        json!({"authority_source": authority("")}),
    );
    s.case("a delegation depth over 8 is refused at mint", "mint", mint(Some(9)), err("MALFORMED_INPUT"));

    // ---- the holder's side: delegate ------------------------------------------------------------------
    let token = fx.mint(2, "rev-a", &[]);
    let ab = fx.delegate(&token, a, b, "b", "", LINK_EXPIRES);
    let abc = fx.delegate(&ab, b, c, "c", "", LINK_EXPIRES);
    let shallow = fx.mint(1, "rev-shallow", &[]);
    let shallow_ab = fx.delegate(&shallow, a, b, "b", "", LINK_EXPIRES);
    let undelegable = fx.mint(0, "rev-undelegable", &[]);
    let (b_hex, c_hex) = (b.public_hex(), c.public_hex());

    s.case(
        "A delegates to B: the new token's chain names A (the issuer's holder), then B",
        "delegate",
        fx.delegate_input(&token, a, &b_hex, "b", "", LINK_EXPIRES),
        json!({"chain": chain_value(&[("a", a), ("b", b)])}),
    );
    s.case(
        "B delegates A's delegation on to C: two links",
        "delegate",
        fx.delegate_input(&ab, b, &c_hex, "c", "", LINK_EXPIRES),
        json!({"chain": chain_value(&[("a", a), ("b", b), ("c", c)])}),
    );
    s.case(
        "a delegation with narrowing checks",
        "delegate",
        fx.delegate_input(
            &token,
            a,
            &b_hex,
            "b",
            "check if req_right(\"read\");\ncheck if req_right($r), $r != \"admin\";",
            LINK_EXPIRES,
        ),
        json!({"chain": chain_value(&[("a", a), ("b", b)])}),
    );
    s.case(
        "a delegation that expires when the token does (no later) is fine",
        "delegate",
        fx.delegate_input(&token, a, &b_hex, "b", "", EXPIRES),
        json!({"chain": chain_value(&[("a", a), ("b", b)])}),
    );
    s.case(
        "depth exceeded: a token allowing one link, delegated once, cannot be delegated again",
        "delegate",
        fx.delegate_input(&shallow_ab, b, &c_hex, "c", "", LINK_EXPIRES),
        err("DELEGATION_INVALID"),
    );
    s.case(
        "a token minted without a delegation depth is not delegable",
        "delegate",
        fx.delegate_input(&undelegable, a, &b_hex, "b", "", LINK_EXPIRES),
        err("DELEGATION_INVALID"),
    );
    s.case(
        "a key that is not the token's current holder cannot delegate it (B's key on A's token)",
        "delegate",
        fx.delegate_input(&token, b, &c_hex, "c", "", LINK_EXPIRES),
        err("MALFORMED_INPUT"),
    );
    s.case(
        "nor can the previous holder once it has delegated (A's key on B's token)",
        "delegate",
        fx.delegate_input(&ab, a, &c_hex, "c", "", LINK_EXPIRES),
        err("MALFORMED_INPUT"),
    );
    s.case(
        "an expiry beyond A's token is refused",
        "delegate",
        fx.delegate_input(&token, a, &b_hex, "b", "", EXPIRES + 1.0),
        err("MALFORMED_INPUT"),
    );
    s.case(
        "an expiry beyond the link before is refused (the token's expiry is the chain's earliest)",
        "delegate",
        fx.delegate_input(&ab, b, &c_hex, "c", "", LINK_EXPIRES + 1.0),
        err("MALFORMED_INPUT"),
    );
    s.case(
        "a fact in the checks is refused: a delegation carries checks only",
        "delegate",
        fx.delegate_input(&token, a, &b_hex, "b", "right(\"admin\");", LINK_EXPIRES),
        err("MALFORMED_INPUT"),
    );
    s.case(
        "a rule in the checks is refused",
        "delegate",
        fx.delegate_input(&token, a, &b_hex, "b", "right($r) <- req_right($r);", LINK_EXPIRES),
        err("MALFORMED_INPUT"),
    );
    s.case(
        "checks that do not parse are refused",
        "delegate",
        fx.delegate_input(&token, a, &b_hex, "b", "check if", LINK_EXPIRES),
        err("MALFORMED_INPUT"),
    );
    s.case(
        "a next key that is not a key is refused",
        "delegate",
        fx.delegate_input(&token, a, &"zz".repeat(32), "b", "", LINK_EXPIRES),
        err("MALFORMED_INPUT"),
    );
    s.case(
        "a token that does not parse is TOKEN_INVALID",
        "delegate",
        fx.delegate_input("not-a-token", a, &b_hex, "b", "", LINK_EXPIRES),
        err("TOKEN_INVALID"),
    );
    let narrowed_first = fx.plain_block(&token, "check if req_right(\"lease\");");
    s.case(
        "a token with a plain appended block is delegated all the same",
        "delegate",
        fx.delegate_input(&narrowed_first, a, &b_hex, "b", "", LINK_EXPIRES),
        json!({"chain": chain_value(&[("a", a), ("b", b)])}),
    );

    // ---- the verifier's side ---------------------------------------------------------------------
    let sequence = |s: &mut Suite, description: &str, input: Value, outcomes: Value| {
        s.case(description, "delegation_sequence", input, json!({"outcomes": outcomes}))
    };

    sequence(
        &mut s,
        "one and two links: the last holder proves, the identity names it and the chain",
        fx.sequence(
            &[],
            vec![
                step(&token, a, "n-1", ALLOW, "lease"),
                step(&ab, b, "n-1", ALLOW, "lease"),
                step(&abc, c, "n-1", ALLOW, "lease"),
            ],
        ),
        json!([ok(&[("a", a)]), ok(&[("a", a), ("b", b)]), ok(&[("a", a), ("b", b), ("c", c)])]),
    );
    let over = fx.link_by_hand(&shallow_ab, b, &link_code(&c_hex, "c", "", NOW + 60.0));
    sequence(
        &mut s,
        "depth exceeded: a link built by hand past the issuer's depth is refused",
        fx.sequence(&[], vec![step(&shallow_ab, b, "n-1", ALLOW, "lease"), step(&over, c, "n-1", ALLOW, "lease")]),
        json!([ok(&[("a", a), ("b", b)]), refused("DELEGATION_INVALID")]),
    );
    let thief_hex = thief.public_hex();
    let stolen = fx.link_by_hand(&token, thief, &link_code(&thief_hex, "t", "", NOW + 60.0));
    let stolen_ab = fx.link_by_hand(&ab, thief, &link_code(&thief_hex, "t", "", NOW + 60.0));
    let stolen_by_a = fx.link_by_hand(&ab, a, &link_code(&thief_hex, "t", "", NOW + 60.0));
    sequence(
        &mut s,
        "a link signed by the wrong key: a thief holding only the token appends a link to itself",
        fx.sequence(
            &[],
            vec![
                step(&stolen, thief, "n-1", ALLOW, "lease"),
                step(&stolen_ab, thief, "n-2", ALLOW, "lease"),
                step(&stolen_by_a, thief, "n-3", ALLOW, "lease"),
            ],
        ),
        json!([refused("DELEGATION_INVALID"), refused("DELEGATION_INVALID"), refused("DELEGATION_INVALID")]),
    );
    let no_delegate = fx.link_by_hand(&token, a, &until(NOW + 60.0));
    let two_keys =
        fx.link_by_hand(&token, a, &link_code(&b_hex, "b", &format!("delegate_key(\"{thief_hex}\");\n"), NOW + 60.0));
    let in_plain_block = fx.plain_block(&token, &format!("delegate_key(\"{b_hex}\");\ndelegate_id(\"b\");"));
    sequence(
        &mut s,
        "a third-party block naming no delegate or two, and a delegation fact in a plain block, are refused",
        fx.sequence(
            &[],
            vec![
                step(&no_delegate, b, "n-1", ALLOW, "lease"),
                step(&two_keys, b, "n-2", ALLOW, "lease"),
                step(&in_plain_block, b, "n-3", ALLOW, "lease"),
                step(&in_plain_block, a, "n-4", ALLOW, "lease"),
            ],
        ),
        json!([
            refused("DELEGATION_INVALID"),
            refused("DELEGATION_INVALID"),
            refused("DELEGATION_INVALID"),
            refused("DELEGATION_INVALID")
        ]),
    );
    sequence(
        &mut s,
        "the proof must come from the last holder: B's proof with A's key, A's proof on B's token",
        fx.sequence(
            &[],
            vec![
                step(&ab, a, "n-1", ALLOW, "lease"),
                step(&token, b, "n-2", ALLOW, "lease"),
                step(&abc, b, "n-3", ALLOW, "lease"),
                step(&ab, b, "n-4", ALLOW, "lease"),
                step(&token, a, "n-5", ALLOW, "lease"),
            ],
        ),
        json!([
            refused("POP_FAILED"),
            refused("POP_FAILED"),
            refused("POP_FAILED"),
            ok(&[("a", a), ("b", b)]),
            ok(&[("a", a)])
        ]),
    );
    let narrowed = fx.delegate(&token, a, b, "b", "check if req_right(\"read\");", LINK_EXPIRES);
    sequence(
        &mut s,
        "a delegate's checks narrow: B may read, not lease",
        fx.sequence(&[], vec![step(&narrowed, b, "n-1", ALLOW, "lease"), step(&narrowed, b, "n-2", ALLOW, "read")]),
        json!([refused("DENIED"), ok(&[("a", a), ("b", b)])]),
    );
    let widened = fx.link_by_hand(&token, a, &link_code(&b_hex, "b", "right(\"admin\");\n", NOW + 60.0));
    let widened_later = fx.link_by_hand(&ab, b, &link_code(&c_hex, "c", "right(\"admin\");\n", NOW + 60.0));
    sequence(
        &mut s,
        "B widening: a fact in a delegation block grants nothing (allowed for the real right, DENIED for the widened one)",
        fx.sequence(
            &[],
            vec![
                step(&widened, b, "n-1", ALLOW, "lease"),
                step(&widened, b, "n-2", ALLOW, "admin"),
                step(&widened, b, "n-3", "allow if right(\"admin\")", "lease"),
                step(&widened_later, c, "n-1", ALLOW, "lease"),
                step(&widened_later, c, "n-2", ALLOW, "admin"),
            ],
        ),
        json!([
            ok(&[("a", a), ("b", b)]),
            refused("DENIED"),
            refused("DENIED"),
            ok(&[("a", a), ("b", b), ("c", c)]),
            refused("DENIED")
        ]),
    );
    let outliving = fx.link_by_hand(&token, a, &link_code(&b_hex, "b", "", EXPIRES + 60.0));
    let outliving_link = fx.link_by_hand(&ab, b, &link_code(&c_hex, "c", "", LINK_EXPIRES + 60.0));
    let no_expiry = fx.link_by_hand(
        &token,
        a,
        &format!("delegate_key(\"{b_hex}\");\ndelegate_id(\"b\");\ncheck if req_right(\"lease\");"),
    );
    let expired = fx.delegate(&token, a, b, "b", "", NOW - 1.0);
    sequence(
        &mut s,
        "an expiry beyond A's (or beyond the link before, or none) built by hand is refused; a link's own expiry ends it",
        fx.sequence(
            &[],
            vec![
                step(&outliving, b, "n-1", ALLOW, "lease"),
                step(&outliving_link, c, "n-1", ALLOW, "lease"),
                step(&no_expiry, b, "n-2", ALLOW, "lease"),
                step(&expired, b, "n-3", ALLOW, "lease"),
            ],
        ),
        json!([
            refused("DELEGATION_INVALID"),
            refused("DELEGATION_INVALID"),
            refused("DELEGATION_INVALID"),
            refused("TOKEN_INVALID")
        ]),
    );

    // revocation: every block's id is on the deny-list check
    let ids = parse_token(&IssuerKeys::one(fx.issuer.public_key()), &abc).unwrap().revocation_ids();
    let revoked_steps = || {
        vec![
            step(&token, a, "n-1", ALLOW, "lease"),
            step(&ab, b, "n-1", ALLOW, "lease"),
            step(&abc, c, "n-1", ALLOW, "lease"),
        ]
    };
    sequence(
        &mut s,
        "A revoked by its app id: every token delegated from it is refused",
        fx.sequence(&["rev-a"], revoked_steps()),
        json!([refused("REVOKED"), refused("REVOKED"), refused("REVOKED")]),
    );
    sequence(
        &mut s,
        "A revoked by its authority block's id: the same",
        fx.sequence(&[ids[0].as_str()], revoked_steps()),
        json!([refused("REVOKED"), refused("REVOKED"), refused("REVOKED")]),
    );
    sequence(
        &mut s,
        "B's link (A to B, the middle link of A to B to C) revoked: what was delegated from it on is refused, A's own token is not",
        fx.sequence(&[ids[1].as_str()], revoked_steps()),
        json!([ok(&[("a", a)]), refused("REVOKED"), refused("REVOKED")]),
    );
    sequence(
        &mut s,
        "the last link (B to C) revoked: only C's token is refused",
        fx.sequence(&[ids[2].as_str()], revoked_steps()),
        json!([ok(&[("a", a)]), ok(&[("a", a), ("b", b)]), refused("REVOKED")]),
    );
    sequence(
        &mut s,
        "a revocation id in upper case is the same id",
        fx.sequence(&[&ids[1].to_uppercase()], vec![step(&abc, c, "n-1", ALLOW, "lease")]),
        json!([refused("REVOKED")]),
    );

    // a plain appended block between links
    let between = fx.plain_block(&ab, "check if req_right($r), $r != \"admin\";");
    let through = fx.delegate(&between, b, c, "c", "", LINK_EXPIRES);
    let after = fx.plain_block(&through, "check if req_right(\"lease\");");
    let first_then = fx.delegate(&narrowed_first, a, b, "b", "", LINK_EXPIRES);
    sequence(
        &mut s,
        "plain appended blocks before, between and after links: allowed, and their checks hold",
        fx.sequence(
            &[],
            vec![
                step(&first_then, b, "n-1", ALLOW, "lease"),
                step(&first_then, b, "n-2", ALLOW, "read"),
                step(&between, b, "n-3", ALLOW, "lease"),
                step(&through, c, "n-1", ALLOW, "lease"),
                step(&after, c, "n-2", ALLOW, "lease"),
                step(&after, c, "n-3", ALLOW, "read"),
            ],
        ),
        json!([
            ok(&[("a", a), ("b", b)]),
            refused("DENIED"),
            ok(&[("a", a), ("b", b)]),
            ok(&[("a", a), ("b", b), ("c", c)]),
            ok(&[("a", a), ("b", b), ("c", c)]),
            refused("DENIED")
        ]),
    );

    // replay across holders: the replay store is keyed by the last holder
    sequence(
        &mut s,
        "replay across holders: the same nonce from A and from B is each one's first use; again from B is a replay",
        fx.sequence(
            &[],
            vec![
                step(&token, a, "n-1", ALLOW, "lease"),
                step(&ab, b, "n-1", ALLOW, "lease"),
                step(&ab, b, "n-1", ALLOW, "lease"),
                step(&abc, c, "n-1", ALLOW, "lease"),
                step(&token, a, "n-1", ALLOW, "lease"),
            ],
        ),
        json!([
            ok(&[("a", a)]),
            ok(&[("a", a), ("b", b)]),
            refused("REPLAYED"),
            ok(&[("a", a), ("b", b), ("c", c)]),
            refused("REPLAYED")
        ]),
    );

    // run limits: what a link brings is in the budget before any Datalog runs
    let many: Vec<String> = (0..12).map(|i| format!("r{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let wide = fx.mint(2, "rev-wide", &many);
    let joining = fx.delegate(
        &wide,
        a,
        b,
        "b",
        "check if right($a), right($b), right($c), right($d), $a != $b, $b != $c, $c != $d;",
        LINK_EXPIRES,
    );
    let honest = fx.delegate(&wide, a, b, "b", "check if right($r), req_right($r);", LINK_EXPIRES);
    let f: String = (0..20).map(|i| format!("f({i});\n")).collect();
    let bomb = fx.link_by_hand(
        &token,
        a,
        &link_code(
            &b_hex,
            "b",
            &format!("{f}g($a) <- f($a), f($b), f($c), f($d), f($e), $a + $b + $c + $d + $e == -1;\n"),
            NOW + 60.0,
        ),
    );
    sequence(
        &mut s,
        "run limits: a link whose checks join many facts, or that derives facts by a join, is LIMIT_EXCEEDED before it runs; an honest link passes",
        fx.sequence(
            &[],
            vec![
                step(&joining, b, "n-1", ALLOW, "lease"),
                step(&bomb, b, "n-2", ALLOW, "lease"),
                step(&honest, b, "n-3", ALLOW, "lease"),
            ],
        ),
        json!([refused("LIMIT_EXCEEDED"), refused("LIMIT_EXCEEDED"), ok(&[("a", a), ("b", b)])]),
    );

    // the identity chain and the facts the policy sees
    let ac = fx.delegate(&token, a, c, "c", "", LINK_EXPIRES);
    let not_from_b = "allow if req_right($r), right($r), holder_chain(1, $id, $k), $id != \"b\"";
    let b_then_c = format!(
        "allow if req_right($r), right($r), holder_chain(0, \"a\", \"{}\"), holder_chain(1, \"b\", \"{b_hex}\"), holder_chain(2, \"c\", \"{c_hex}\")",
        a.public_hex()
    );
    let delegated_only = "allow if req_right($r), right($r), holder_chain(0, $id, $k)";
    sequence(
        &mut s,
        "the policy sees holder_chain(position, id, key) for each holder: refuse what B delegated, allow what A did",
        fx.sequence(
            &[],
            vec![
                step(&ac, c, "n-1", not_from_b, "lease"),
                step(&abc, c, "n-2", not_from_b, "lease"),
                step(&abc, c, "n-3", &b_then_c, "lease"),
                step(&ac, c, "n-4", &b_then_c, "lease"),
                step(&ab, b, "n-1", delegated_only, "lease"),
                step(&token, a, "n-1", delegated_only, "lease"),
            ],
        ),
        json!([
            ok(&[("a", a), ("c", c)]),
            refused("DENIED"),
            ok(&[("a", a), ("b", b), ("c", c)]),
            refused("DENIED"),
            ok(&[("a", a), ("b", b)]),
            refused("DENIED")
        ]),
    );

    s.write(
        "delegation chains (docs/DESIGN.md §3.13): minting a delegable token, delegating (the chain made, or the refusal), and the verifier walking the chain: depth, signers, proof of possession, narrowing, expiry, revocation, plain blocks between links, replay per last holder, run limits and holder_chain facts",
        None,
    );
}
