//! `trustcore demo`: the whole flow in one process, narrated. Every step checks its own outcome, so the
//! demo fails loudly (exit 1) if the library ever behaves differently from what it narrates.

use trustcore_core::*;

const ALLOW: &str = "allow if req_right($r), right($r), req_lane($l), lane($l)";

struct Scene {
    issuer_public: IssuerKeys,
    revoked: Vec<String>,
    now: f64,
}

impl Scene {
    /// authenticate + check_policy, as a service would on every request.
    fn serve(&self, proof: &WorkerProof, request: &Request<'_>, right: &str) -> Result<VerifiedIdentity> {
        let options = AuthenticateOptions::new(self.now, 300.0);
        let (token, identity) = authenticate(&self.issuer_public, proof, request, &self.revoked, &options)?;
        check_policy(&token, [("req_right", right), ("req_lane", "transcribe")], ALLOW, self.now, &options.limits)?;
        Ok(identity)
    }
}

fn expect_refusal(step: &str, outcome: Result<VerifiedIdentity>, code: ErrorCode) -> Result<()> {
    match outcome {
        Err(e) if e.code() == code => {
            println!("   refused: {} ({})", e.code(), e.message());
            Ok(())
        }
        Err(e) => Err(Error::new(ErrorCode::Internal, format!("demo step {step:?}: expected {code}, got {e}"))),
        Ok(_) => Err(Error::new(ErrorCode::Internal, format!("demo step {step:?}: expected {code}, but it passed"))),
    }
}

fn short(hex: &str) -> String {
    format!("{}…", &hex[..16.min(hex.len())])
}

pub fn run() -> Result<()> {
    let now = now_seconds().floor();
    let timestamp = format!("{now}");
    println!("trustcore demo: one issuer, one holder, one service, in one process\n");

    let issuer = IssuerKey::generate()?;
    println!("1. The issuer generates its key. Only the signer process holds the private half.");
    println!("   issuer public key {}", short(&issuer.public_hex()));
    let holder = WorkerKey::generate()?;
    println!("2. The holder generates its own key and sends the issuer only the public half.");
    println!("   holder public key {}", short(&holder.public_hex()));

    let mint_request = MintRequest {
        public_hex: holder.public_hex(),
        holder_id: "gpu-1".into(),
        facts: vec![("right".into(), vec!["lease".into()]), ("lane".into(), vec!["transcribe".into()])],
        revocation_id: Some("rev-demo-1".into()),
        expires_at: now + 3600.0,
        root_key_id: None,
        delegation_depth: 0,
    };
    let token = mint_biscuit(&issuer, &mint_request)?;
    let scene = Scene { issuer_public: IssuerKeys::one(issuer.public_key()), revoked: Vec::new(), now };
    println!("3. The issuer mints a token binding the holder's key, valid for one hour:");
    for line in parse_token(&scene.issuer_public, &token)?.block_source(0)?.lines() {
        println!("     {line}");
    }

    let body = br#"{"episode":"e1"}"#;
    let request = Request::new("POST", "/lease", body);
    let proof = make_proof(&holder, &token, &request, &timestamp, "nonce-1")?;
    println!(
        "4. The holder signs its request, POST /lease {}, and sends these headers:",
        String::from_utf8_lossy(body)
    );
    for (name, value) in proof.headers() {
        let shown = if value.len() > 40 { format!("{}…", &value[..40]) } else { value };
        println!("     {name}: {shown}");
    }

    let identity = scene.serve(&proof, &request, "lease")?;
    println!("5. The service authenticates (issuer signature, binding, revocation, freshness, proof of possession)");
    println!("   and authorizes with `{ALLOW}`:");
    println!("   allowed: holder {} (revocation id {})\n", identity.holder_id, identity.revocation_id);

    println!("Now five requests that must be refused:");
    println!("a. Someone changes the body in flight.");
    let tampered = Request::new("POST", "/lease", br#"{"episode":"e2"}"#);
    expect_refusal("changed body", scene.serve(&proof, &tampered, "lease"), ErrorCode::PopFailed)?;

    println!("b. A thief steals the token and signs with its own key.");
    let thief = WorkerKey::generate()?;
    let stolen = make_proof(&thief, &token, &request, &timestamp, "nonce-2")?;
    expect_refusal("stolen token", scene.serve(&stolen, &request, "lease"), ErrorCode::PopFailed)?;

    println!("c. The issuer revokes the token.");
    let revoked_scene = Scene {
        revoked: vec!["rev-demo-1".into()],
        ..Scene { issuer_public: scene.issuer_public.clone(), revoked: Vec::new(), now }
    };
    expect_refusal("revoked token", revoked_scene.serve(&proof, &request, "lease"), ErrorCode::Revoked)?;

    println!("d. A token that expired a minute ago.");
    let expired = mint_biscuit(
        &issuer,
        &MintRequest { expires_at: now - 60.0, revocation_id: Some("rev-demo-2".into()), ..mint_request.clone() },
    )?;
    let expired_proof = make_proof(&holder, &expired, &request, &timestamp, "nonce-3")?;
    expect_refusal("expired token", scene.serve(&expired_proof, &request, "lease"), ErrorCode::TokenInvalid)?;

    println!("e. The holder asks for a right the issuer never granted (complete).");
    let complete = Request::new("POST", "/complete", body);
    let complete_proof = make_proof(&holder, &token, &complete, &timestamp, "nonce-4")?;
    expect_refusal("ungranted right", scene.serve(&complete_proof, &complete, "complete"), ErrorCode::Denied)?;

    println!("\nEvery outcome matched. The same checks run byte for byte in Python, Node, C and Go.");
    Ok(())
}
