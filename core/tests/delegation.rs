//! Delegation (docs/DESIGN.md §3.13): a holder hands a narrowed token to another key; the verifier
//! walks the chain. Links built by `delegate` and, where `delegate` would refuse, by hand with
//! biscuit-auth, as an attacker would.

use biscuit_auth::builder::BlockBuilder;
use biscuit_auth::UnverifiedBiscuit;
use trustcore_core::*;

const NOW: f64 = 1_700_000_000.0;
const EXPIRES: f64 = NOW + 3600.0;

struct Fx {
    issuer: IssuerKey,
    a: WorkerKey,
    b: WorkerKey,
    c: WorkerKey,
}

fn fx() -> Fx {
    let key = || WorkerKey::generate().unwrap();
    Fx { issuer: IssuerKey::generate().unwrap(), a: key(), b: key(), c: key() }
}

impl Fx {
    fn mint(&self, depth: u32) -> String {
        mint_biscuit(
            &self.issuer,
            &MintRequest {
                public_hex: self.a.public_hex(),
                holder_id: "a".into(),
                facts: vec![("right".into(), vec!["lease".into(), "read".into()])],
                revocation_id: Some("rev-a".into()),
                expires_at: EXPIRES,
                root_key_id: None,
                delegation_depth: depth,
            },
        )
        .unwrap()
    }

    fn verifier(&self) -> Verifier {
        Verifier::new(VerifierConfig::new(IssuerKeys::one(self.issuer.public_key()))).unwrap()
    }
}

fn to(key: &WorkerKey, id: &str, checks: &str) -> DelegateRequest {
    DelegateRequest {
        to_public_hex: key.public_hex(),
        to_holder_id: id.into(),
        checks: checks.into(),
        expires_at: NOW + 600.0,
    }
}

/// A third-party block written by hand and signed by `signer`, appended to `token`.
fn link_by_hand(token: &str, signer: &WorkerKey, code: &str) -> String {
    let unverified = UnverifiedBiscuit::from_base64(token).unwrap();
    let private =
        biscuit_auth::PrivateKey::from_bytes(&*signer.seed_bytes(), biscuit_auth::builder::Algorithm::Ed25519).unwrap();
    let block = unverified
        .third_party_request()
        .unwrap()
        .create_block(&private, BlockBuilder::new().code(code).unwrap())
        .unwrap()
        .serialize()
        .unwrap();
    unverified.append_third_party(&block).unwrap().to_base64().unwrap()
}

fn until(seconds: f64) -> String {
    let date = std::time::UNIX_EPOCH + std::time::Duration::from_secs_f64(seconds);
    let mut check = biscuit_auth::builder::Check::try_from("check if time($t), $t <= {d}").unwrap();
    check.set("d", biscuit_auth::builder::date(&date)).unwrap();
    format!("{check};")
}

/// Authenticate a POST /lease signed by `key` for `token`, then (when it passes) `allow`.
fn request(verifier: &Verifier, token: &str, key: &WorkerKey, nonce: &str, allow: &str) -> Result<VerifiedIdentity> {
    let req = Request::new("POST", "/lease", b"{}");
    let proof = make_proof(key, token, &req, "1700000000", nonce)?;
    let verified = verifier.authenticate(&proof, &req, Some(NOW))?;
    verifier.check_policy(&verified.token, [("req_right", "lease")], allow, Some(NOW))?;
    Ok(verified.identity.clone())
}

const ALLOW: &str = "allow if req_right($r), right($r)";

fn code<T: std::fmt::Debug>(outcome: Result<T>) -> ErrorCode {
    outcome.unwrap_err().code()
}

#[test]
fn one_and_two_links_name_the_last_holder_and_the_chain() {
    let fx = fx();
    let v = fx.verifier();
    let ab = delegate(&fx.mint(2), &fx.a, &to(&fx.b, "b", "")).unwrap();
    let identity = request(&v, &ab, &fx.b, "n-1", ALLOW).unwrap();
    assert_eq!((identity.holder_id.as_str(), identity.revocation_id.as_str()), ("b", "rev-a"));
    let ids: Vec<&str> = identity.chain.iter().map(|h| h.holder_id.as_str()).collect();
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(identity.chain[1].holder_public_hex, fx.b.public_hex());
    let abc = delegate(&ab, &fx.b, &to(&fx.c, "c", "")).unwrap();
    let identity = request(&v, &abc, &fx.c, "n-1", ALLOW).unwrap();
    let ids: Vec<&str> = identity.chain.iter().map(|h| h.holder_id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    // the policy sees the chain: refuse what b delegated, allow what a did
    let not_from_b = "allow if req_right($r), right($r), holder_chain(1, $id, $k), $id != \"b\"";
    let last = delegate(&fx.mint(2), &fx.a, &to(&fx.c, "c2", "")).unwrap();
    assert!(request(&v, &last, &fx.c, "n-2", not_from_b).is_ok());
    assert_eq!(code(request(&v, &abc, &fx.c, "n-3", not_from_b)), ErrorCode::Denied);
}

#[test]
fn the_proof_must_come_from_the_last_holder() {
    let fx = fx();
    let v = fx.verifier();
    let token = fx.mint(1);
    let ab = delegate(&token, &fx.a, &to(&fx.b, "b", "")).unwrap();
    assert_eq!(code(request(&v, &ab, &fx.a, "n-1", ALLOW)), ErrorCode::PopFailed); // a's key on b's token
    assert!(request(&v, &token, &fx.a, "n-2", ALLOW).is_ok()); // a's own token still works
    assert_eq!(code(request(&v, &token, &fx.b, "n-3", ALLOW)), ErrorCode::PopFailed); // b's key on a's token
                                                                                      // replay is per final holder: the same nonce from a and from b is two holders' first use
    assert!(request(&v, &ab, &fx.b, "n-2", ALLOW).is_ok());
    assert_eq!(code(request(&v, &ab, &fx.b, "n-2", ALLOW)), ErrorCode::Replayed);
}

#[test]
fn depth_is_the_issuers_and_nothing_else_extends_it() {
    let fx = fx();
    let v = fx.verifier();
    assert_eq!(code(delegate(&fx.mint(0), &fx.a, &to(&fx.b, "b", ""))), ErrorCode::DelegationInvalid);
    let ab = delegate(&fx.mint(1), &fx.a, &to(&fx.b, "b", "")).unwrap();
    assert_eq!(code(delegate(&ab, &fx.b, &to(&fx.c, "c", ""))), ErrorCode::DelegationInvalid);
    // built by hand past the depth: the verifier refuses it
    let c = fx.c.public_hex();
    let abc = link_by_hand(&ab, &fx.b, &format!("delegate_key(\"{c}\"); delegate_id(\"c\"); {}", until(NOW + 60.0)));
    assert_eq!(code(request(&v, &abc, &fx.c, "n-1", ALLOW)), ErrorCode::DelegationInvalid);
    let over = MintRequest {
        public_hex: fx.a.public_hex(),
        expires_at: EXPIRES,
        delegation_depth: MAX_DELEGATION_DEPTH + 1,
        ..Default::default()
    };
    assert_eq!(code(mint_biscuit(&fx.issuer, &over)), ErrorCode::MalformedInput);
}

#[test]
fn a_link_must_be_signed_by_the_holder_of_that_moment() {
    let fx = fx();
    let v = fx.verifier();
    let token = fx.mint(2);
    // a thief holding only the token appends a link to itself, signed by its own key
    let thief = fx.c.public_hex();
    let stolen =
        link_by_hand(&token, &fx.c, &format!("delegate_key(\"{thief}\"); delegate_id(\"t\"); {}", until(NOW + 60.0)));
    assert_eq!(code(request(&v, &stolen, &fx.c, "n-1", ALLOW)), ErrorCode::DelegationInvalid);
    // and delegate refuses a key that does not hold the token
    assert_eq!(code(delegate(&token, &fx.b, &to(&fx.c, "c", ""))), ErrorCode::MalformedInput);
    // a third-party block that names no delegate, or two, or a delegation fact in a plain block
    let b = fx.b.public_hex();
    for block in [
        until(NOW + 60.0),
        format!("delegate_key(\"{b}\"); delegate_key(\"{thief}\"); delegate_id(\"b\"); {}", until(NOW + 60.0)),
    ] {
        let odd = link_by_hand(&token, &fx.a, &block);
        assert_eq!(code(request(&v, &odd, &fx.b, "n-2", ALLOW)), ErrorCode::DelegationInvalid, "{block}");
    }
    let parsed = parse_token(&IssuerKeys::one(fx.issuer.public_key()), &token).unwrap();
    let plain =
        parsed.biscuit().append(BlockBuilder::new().code(format!("delegate_key(\"{thief}\");")).unwrap()).unwrap();
    assert_eq!(code(request(&v, &plain.to_base64().unwrap(), &fx.a, "n-3", ALLOW)), ErrorCode::DelegationInvalid);
}

#[test]
fn a_delegate_can_only_narrow_and_never_outlive() {
    let fx = fx();
    let v = fx.verifier();
    let token = fx.mint(2);
    // checks narrow: b may read, not lease
    let narrowed = delegate(&token, &fx.a, &to(&fx.b, "b", "check if req_right(\"read\");")).unwrap();
    assert_eq!(code(request(&v, &narrowed, &fx.b, "n-1", ALLOW)), ErrorCode::Denied);
    // a fact in the delegation block grants nothing (written by hand: delegate refuses facts)
    let b = fx.b.public_hex();
    let widened = link_by_hand(
        &token,
        &fx.a,
        &format!("delegate_key(\"{b}\"); delegate_id(\"b\"); right(\"admin\"); {}", until(NOW + 60.0)),
    );
    assert!(request(&v, &widened, &fx.b, "n-2", ALLOW).is_ok());
    assert_eq!(code(request(&v, &widened, &fx.b, "n-3", "allow if right(\"admin\")")), ErrorCode::Denied);
    assert_eq!(code(delegate(&token, &fx.a, &to(&fx.b, "b", "right(\"admin\");"))), ErrorCode::MalformedInput);
    // an expiry beyond the token's: refused by delegate, and by the verifier when built by hand
    let late = DelegateRequest { expires_at: EXPIRES + 1.0, ..to(&fx.b, "b", "") };
    assert_eq!(code(delegate(&token, &fx.a, &late)), ErrorCode::MalformedInput);
    let outliving =
        link_by_hand(&token, &fx.a, &format!("delegate_key(\"{b}\"); delegate_id(\"b\"); {}", until(EXPIRES + 60.0)));
    assert_eq!(code(request(&v, &outliving, &fx.b, "n-4", ALLOW)), ErrorCode::DelegationInvalid);
    // the delegation's own expiry ends it
    let short = delegate(&token, &fx.a, &DelegateRequest { expires_at: NOW - 1.0, ..to(&fx.b, "b", "") }).unwrap();
    assert_eq!(code(request(&v, &short, &fx.b, "n-5", ALLOW)), ErrorCode::TokenInvalid);
}

#[test]
fn revoking_any_link_refuses_what_was_delegated_from_it() {
    let fx = fx();
    let token = fx.mint(2);
    let ab = delegate(&token, &fx.a, &to(&fx.b, "b", "")).unwrap();
    let abc = delegate(&ab, &fx.b, &to(&fx.c, "c", "")).unwrap();
    let issuer = IssuerKeys::one(fx.issuer.public_key());
    let ids = parse_token(&issuer, &abc).unwrap().revocation_ids();
    for (revoked, name) in [
        ("rev-a".to_owned(), "a's app id"),
        (ids[0].clone(), "a's block"),
        (ids[1].clone(), "the middle link"),
        (ids[2].clone(), "c's link"),
    ] {
        let v = fx.verifier();
        v.revoke(&revoked).unwrap();
        assert_eq!(code(request(&v, &abc, &fx.c, "n-1", ALLOW)), ErrorCode::Revoked, "{name}");
    }
    // revoking b's link leaves a's own token alone
    let v = fx.verifier();
    v.revoke(&ids[1]).unwrap();
    assert!(request(&v, &token, &fx.a, "n-1", ALLOW).is_ok());
}

#[test]
fn a_plain_block_between_links_and_a_chain_through_the_http_decision() {
    let fx = fx();
    let v = fx.verifier();
    let token = fx.mint(2);
    let issuer = IssuerKeys::one(fx.issuer.public_key());
    let narrowed = parse_token(&issuer, &token)
        .unwrap()
        .biscuit()
        .append(BlockBuilder::new().code("check if req_right(\"lease\");").unwrap())
        .unwrap();
    let ab = delegate(&narrowed.to_base64().unwrap(), &fx.a, &to(&fx.b, "b", "")).unwrap();
    assert_eq!(request(&v, &ab, &fx.b, "n-1", ALLOW).unwrap().holder_id, "b");
    // the HTTP decision on a delegated token: b signs, the policy sees the chain
    let mut config = VerifierConfig::new(issuer);
    config.authorities = vec!["api.example".into()];
    let v = Verifier::new(config).unwrap();
    let policy = http::HttpPolicy::from_json(br#"{"routes": [{"method": "POST", "path": "/lease", "allow": "allow if right(\"lease\"), holder_chain(0, \"a\", $k)"}]}"#).unwrap();
    let host = [("Host", "api.example")];
    let signed = http::sign_request(
        &fx.b,
        &ab,
        &http::SignRequest {
            method: "POST",
            url: "/lease",
            headers: &host,
            body: b"{}",
            profile: http::HttpProfile::Rfc9421,
            created: Some(NOW as i64),
            nonce: Some("h-1"),
        },
    )
    .unwrap();
    let mut lines: Vec<(&str, &str)> = vec![("Host", "api.example")];
    lines.extend(signed.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    let decision = v
        .decide(&http::HttpRequest::new("POST", "/lease", &lines, b"{}"), &policy, &[("req_right", "lease")], Some(NOW))
        .unwrap();
    assert!(decision.allowed, "{}", decision.message);
    assert_eq!(decision.identity.unwrap().holder_id, "b");
}

#[test]
fn the_signer_mints_delegable_tokens_only_under_its_ceiling() {
    let fx = fx();
    let mut policy = signer::SignerPolicy::default();
    let service = |policy: signer::SignerPolicy| signer::SignerService::new(fx.issuer.clone(), None, policy, None);
    let frame = |depth: u64| {
        signer::protocol::request_frame(
            1,
            signer::Op::Mint,
            serde_json::json!({"public_hex": fx.a.public_hex(), "holder_id": "a", "facts": [], "expires_at": EXPIRES, "delegation_depth": depth})
                .as_object()
                .unwrap()
                .clone(),
        )
    };
    let answer = service(policy.clone()).answer(&frame(1), &signer::Peer::InProcess, NOW);
    assert_eq!(answer.error, Some(ErrorCode::SignerRefused));
    policy.max_delegation_depth = 2;
    let answer = service(policy).answer(&frame(2), &signer::Peer::InProcess, NOW);
    assert_eq!(answer.error, None, "{:?}", answer.response);
}
