//! The stateful Verifier with its in-memory stores and token cache.

use std::sync::Arc;

use trustcore_core::*;

const NOW: f64 = 1_700_000_000.0;

struct Fx {
    issuer: IssuerKey,
    holder: WorkerKey,
    token: String,
}

fn fx() -> Fx {
    let issuer = IssuerKey::generate().unwrap();
    let holder = WorkerKey::generate().unwrap();
    let token = mint_biscuit(
        &issuer,
        &MintRequest {
            public_hex: holder.public_hex(),
            holder_id: "gpu-1".into(),
            facts: vec![("right".into(), vec!["lease".into()])],
            revocation_id: Some("rev-1".into()),
            expires_at: NOW + 3600.0,
            root_key_id: None,
            delegation_depth: 0,
        },
    )
    .unwrap();
    Fx { issuer, holder, token }
}

fn verifier(fx: &Fx) -> Verifier {
    Verifier::new(VerifierConfig::new(IssuerKeys::one(fx.issuer.public_key()))).unwrap()
}

fn proof(fx: &Fx, timestamp: &str, nonce: &str) -> WorkerProof {
    make_proof(&fx.holder, &fx.token, &Request::new("POST", "/lease", b"{}"), timestamp, nonce).unwrap()
}

fn code(result: Result<Arc<VerifiedToken>>) -> Option<ErrorCode> {
    result.err().map(|e| e.code())
}

const REQUEST: Request<'static> = Request { method: "POST", path: "/lease", body: b"{}" };

#[test]
fn a_nonce_is_accepted_once() {
    let fx = fx();
    let v = verifier(&fx);
    let p = proof(&fx, "1700000000", "n1");
    let verified = v.authenticate(&p, &REQUEST, Some(NOW)).unwrap();
    assert_eq!(verified.identity.holder_id, "gpu-1");
    assert_eq!(code(v.authenticate(&p, &REQUEST, Some(NOW + 1.0))), Some(ErrorCode::Replayed));
    assert!(v.authenticate(&proof(&fx, "1700000000", "n2"), &REQUEST, Some(NOW)).is_ok());
}

#[test]
fn a_forged_request_does_not_burn_the_nonce() {
    let fx = fx();
    let v = verifier(&fx);
    let mut forged = proof(&fx, "1700000000", "n1");
    forged.signature = hex::encode([7u8; 64]);
    assert_eq!(code(v.authenticate(&forged, &REQUEST, Some(NOW))), Some(ErrorCode::PopFailed));
    assert!(v.authenticate(&proof(&fx, "1700000000", "n1"), &REQUEST, Some(NOW)).is_ok());
}

#[test]
fn the_cache_serves_repeated_tokens_and_every_check_still_runs() {
    let fx = fx();
    let v = verifier(&fx);
    v.authenticate(&proof(&fx, "1700000000", "a"), &REQUEST, Some(NOW)).unwrap();
    v.authenticate(&proof(&fx, "1700000000", "b"), &REQUEST, Some(NOW)).unwrap();
    assert_eq!((v.cache_stats().hits, v.cache_stats().misses), (1, 1));
    // a cached token: freshness, proof of possession and revocation are still checked
    assert_eq!(
        code(v.authenticate(&proof(&fx, "1699990000", "c"), &REQUEST, Some(NOW))),
        Some(ErrorCode::StaleRequest)
    );
    let other_body = Request::new("POST", "/lease", b"{\"x\":1}");
    assert_eq!(
        code(v.authenticate(&proof(&fx, "1700000000", "d"), &other_body, Some(NOW))),
        Some(ErrorCode::PopFailed)
    );
    v.revoke("rev-1").unwrap();
    assert_eq!(code(v.authenticate(&proof(&fx, "1700000000", "e"), &REQUEST, Some(NOW))), Some(ErrorCode::Revoked));
    assert_eq!(v.cache_stats().hits, 4);
}

#[test]
fn a_cached_token_still_expires() {
    let fx = fx();
    let v = verifier(&fx);
    let verified = v.authenticate(&proof(&fx, "1700000000", "a"), &REQUEST, Some(NOW)).unwrap();
    let allow = "allow if req_right($r), right($r)";
    v.check_policy(&verified.token, [("req_right", "lease")], allow, Some(NOW)).unwrap();
    // past the expiry: authenticate refuses the cached token, and check_policy on the token kept
    // from before denies it too
    let later = NOW + 7200.0;
    let again = v.authenticate(&proof(&fx, "1700007200", "b"), &REQUEST, Some(later)).unwrap_err();
    assert_eq!(again.code(), ErrorCode::TokenInvalid);
    let err = v.check_policy(&verified.token, [("req_right", "lease")], allow, Some(later)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Denied);
}

#[test]
fn a_block_revocation_id_revokes_too() {
    let fx = fx();
    let v = verifier(&fx);
    let block0 = parse_token(&IssuerKeys::one(fx.issuer.public_key()), &fx.token).unwrap().revocation_ids()[0].clone();
    v.revoke(&block0).unwrap();
    assert_eq!(code(v.authenticate(&proof(&fx, "1700000000", "a"), &REQUEST, Some(NOW))), Some(ErrorCode::Revoked));
}

#[test]
fn the_replay_store_full_refuses() {
    let fx = fx();
    let v = Verifier::with_stores(
        VerifierConfig::new(IssuerKeys::one(fx.issuer.public_key())),
        Box::new(MemoryReplayStore::with_holder_share(2, 3)),
        Box::new(MemoryRevocationStore::default()),
    );
    v.authenticate(&proof(&fx, "1700000000", "a"), &REQUEST, Some(NOW)).unwrap();
    v.authenticate(&proof(&fx, "1700000000", "b"), &REQUEST, Some(NOW)).unwrap();
    assert_eq!(
        code(v.authenticate(&proof(&fx, "1700000000", "c"), &REQUEST, Some(NOW))),
        Some(ErrorCode::StoreUnavailable)
    );
}

#[test]
fn threads_racing_one_nonce_admit_exactly_one() {
    let fx = Arc::new(fx());
    let v = Arc::new(verifier(&fx));
    let p = Arc::new(proof(&fx, "1700000000", "race"));
    let outcomes: Vec<Option<ErrorCode>> = (0..8)
        .map(|_| {
            let (v, p) = (v.clone(), p.clone());
            std::thread::spawn(move || code(v.authenticate(&p, &REQUEST, Some(NOW))))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    assert_eq!(outcomes.iter().filter(|c| c.is_none()).count(), 1, "{outcomes:?}");
    assert!(outcomes.iter().flatten().all(|c| *c == ErrorCode::Replayed));
}

#[test]
fn rotation_selects_the_key_by_id() {
    let fx = fx();
    let rotated = mint_biscuit(
        &fx.issuer,
        &MintRequest {
            public_hex: fx.holder.public_hex(),
            holder_id: "gpu-1".into(),
            facts: vec![],
            revocation_id: Some("rev-2".into()),
            expires_at: NOW + 60.0,
            root_key_id: Some(2),
            delegation_depth: 0,
        },
    )
    .unwrap();
    let old = IssuerKey::generate().unwrap();
    let v = Verifier::new(VerifierConfig::new(
        IssuerKeys::by_key_id([(1, old.public_key()), (2, fx.issuer.public_key())]).unwrap(),
    ))
    .unwrap();
    let p = make_proof(&fx.holder, &rotated, &REQUEST, "1700000000", "a").unwrap();
    assert!(v.authenticate(&p, &REQUEST, Some(NOW)).is_ok());
    let unnamed = proof(&fx, "1700000000", "b"); // minted without a root key id
    assert_eq!(code(v.authenticate(&unnamed, &REQUEST, Some(NOW))), Some(ErrorCode::TokenInvalid));
}

#[test]
fn a_huge_cache_capacity_allocates_nothing_up_front_and_the_cache_stays_bounded() {
    let fx = fx();
    let mut config = VerifierConfig::new(IssuerKeys::one(fx.issuer.public_key()));
    config.token_cache_capacity = usize::MAX;
    let v = Verifier::new(config).unwrap();
    assert!(v.authenticate(&proof(&fx, "1700000000", "a"), &REQUEST, Some(NOW)).is_ok());

    let mut config = VerifierConfig::new(IssuerKeys::one(fx.issuer.public_key()));
    config.token_cache_capacity = 1;
    let v = Verifier::new(config).unwrap();
    let other = mint_biscuit(
        &fx.issuer,
        &MintRequest {
            public_hex: fx.holder.public_hex(),
            holder_id: "gpu-1".into(),
            facts: vec![],
            revocation_id: Some("rev-2".into()),
            expires_at: NOW + 60.0,
            root_key_id: None,
            delegation_depth: 0,
        },
    )
    .unwrap();
    v.authenticate(&proof(&fx, "1700000000", "b"), &REQUEST, Some(NOW)).unwrap(); // miss
    v.authenticate(&make_proof(&fx.holder, &other, &REQUEST, "1700000000", "c").unwrap(), &REQUEST, Some(NOW)).unwrap(); // miss, evicts
    v.authenticate(&proof(&fx, "1700000000", "d"), &REQUEST, Some(NOW)).unwrap(); // miss again
    assert_eq!((v.cache_stats().hits, v.cache_stats().misses), (0, 3));
}

#[test]
fn a_batch_gives_each_request_the_code_it_would_get_alone() {
    let fx = fx();
    let thief = WorkerKey::generate().unwrap();
    let request = Request::new("POST", "/lease", b"{}");
    let now = NOW.to_string();
    let mut proofs: Vec<WorkerProof> = (0..40).map(|i| proof(&fx, &now, &format!("n-{i}"))).collect();
    proofs[3] = make_proof(&thief, &fx.token, &request, &now, "n-3").unwrap(); // forged
    proofs[7].timestamp = (NOW - 1000.0).to_string(); // stale (its signature no longer matters)
    proofs[11] = proof(&fx, &now, "n-10"); // the nonce of request 10 again
    proofs[13].token = "not a token".into();
    proofs[17].signature = "zz".into();
    let expected: Vec<String> = {
        let alone = verifier(&fx);
        proofs.iter().map(|p| name(alone.authenticate(p, &request, Some(NOW)))).collect()
    };
    assert_eq!(expected[3], "POP_FAILED");
    assert_eq!(expected[7], "STALE_REQUEST");
    assert_eq!(expected[11], "REPLAYED");
    assert_eq!(expected[13], "TOKEN_INVALID");
    assert_eq!(expected[17], "MALFORMED_INPUT");
    let batched = verifier(&fx);
    let batch: Vec<(&WorkerProof, Request)> = proofs.iter().map(|p| (p, request)).collect();
    let got: Vec<String> = batched.authenticate_batch(&batch, Some(NOW)).unwrap().into_iter().map(name).collect();
    assert_eq!(got, expected);
    // and the nonces it accepted are spent
    assert_eq!(name(batched.authenticate(&proofs[0], &request, Some(NOW))), "REPLAYED");
}

#[test]
fn a_batch_of_valid_requests_is_accepted_whole() {
    let fx = fx();
    let request = Request::new("POST", "/lease", b"{}");
    let proofs: Vec<WorkerProof> = (0..64).map(|i| proof(&fx, &NOW.to_string(), &format!("b-{i}"))).collect();
    let batch: Vec<(&WorkerProof, Request)> = proofs.iter().map(|p| (p, request)).collect();
    let v = verifier(&fx);
    assert!(v.authenticate_batch(&batch, Some(NOW)).unwrap().iter().all(|r| r.is_ok()));
    assert!(v
        .authenticate_batch(&batch, Some(NOW))
        .unwrap()
        .iter()
        .all(|r| r.as_ref().unwrap_err().code() == ErrorCode::Replayed));
    assert!(v.authenticate_batch(&[], Some(NOW)).unwrap().is_empty());
}

fn name(outcome: Result<Arc<VerifiedToken>>) -> String {
    code(outcome).map_or("OK", ErrorCode::name).to_owned()
}

#[test]
fn clock_jumps_never_let_a_request_pass_wrongly() {
    let fx = fx();
    let v = verifier(&fx);
    let first = proof(&fx, "1700000000", "n1");
    let verified = v.authenticate(&first, &REQUEST, Some(NOW)).unwrap();
    // the verifier's clock far ahead or behind: every request is stale, none accepted, no nonce burnt
    for jump in [301.0, -301.0, 86_400.0, -86_400.0, 1e9, -1e9] {
        let jumped = proof(&fx, "1700000000", "n-jump");
        assert_eq!(code(v.authenticate(&jumped, &REQUEST, Some(NOW + jump))), Some(ErrorCode::StaleRequest), "{jump}");
    }
    for broken in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert_eq!(
            code(v.authenticate(&proof(&fx, "1700000000", "n-nan"), &REQUEST, Some(broken))),
            Some(ErrorCode::MalformedInput)
        );
    }
    // back at the right time: the jump dropped nothing, the first request is still a replay and the
    // nonce the stale requests carried is still fresh
    assert_eq!(code(v.authenticate(&first, &REQUEST, Some(NOW))), Some(ErrorCode::Replayed));
    assert!(v.authenticate(&proof(&fx, "1700000000", "n-jump"), &REQUEST, Some(NOW)).is_ok());
    // a clock far ahead also meets the token's own expiry
    let denied =
        v.check_policy(&verified.token, [("req_right", "lease")], "allow if req_right($r), right($r)", Some(NOW + 1e6));
    assert_eq!(denied.unwrap_err().code(), ErrorCode::Denied);
}

#[test]
fn limits_are_bounded_in_core() {
    let fx = fx();
    let mut config = VerifierConfig::new(IssuerKeys::one(fx.issuer.public_key()));
    config.limits.max_time = std::time::Duration::from_secs(86_401);
    assert_eq!(Verifier::new(config).err().map(|e| e.code()), Some(ErrorCode::MalformedInput));
    let token = parse_token(&IssuerKeys::one(fx.issuer.public_key()), &fx.token).unwrap();
    let limits = Limits { max_time: std::time::Duration::from_secs(86_401), ..Limits::DEFAULT };
    assert_eq!(check_policy(&token, [], "allow if true", NOW, &limits).unwrap_err().code(), ErrorCode::MalformedInput);
}
