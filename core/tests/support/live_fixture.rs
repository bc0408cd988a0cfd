//! A holder with a token that is valid now (real clock), and proofs for `POST /lease {}` made now:
//! for tests against servers whose clocks are real (Redis).

use trustcore_core::*;

pub struct Fx {
    pub issuer: IssuerKey,
    pub holder: WorkerKey,
    pub token: String,
}

pub fn fx() -> Fx {
    let issuer = IssuerKey::generate().unwrap();
    let holder = WorkerKey::generate().unwrap();
    let token = mint_biscuit(
        &issuer,
        &MintRequest {
            public_hex: holder.public_hex(),
            holder_id: "gpu-1".into(),
            facts: vec![("right".into(), vec!["lease".into()])],
            revocation_id: Some("rev-1".into()),
            expires_at: now_seconds() + 3600.0,
            root_key_id: None,
            delegation_depth: 0,
        },
    )
    .unwrap();
    Fx { issuer, holder, token }
}

pub const REQUEST: Request<'static> = Request { method: "POST", path: "/lease", body: b"{}" };

/// The holder's proof for REQUEST, timestamped now.
pub fn proof(fx: &Fx, nonce: &str) -> WorkerProof {
    make_proof(&fx.holder, &fx.token, &REQUEST, &format!("{}", now_seconds().floor()), nonce).unwrap()
}
