//! Minting: the issuer's authority block that binds a holder key and carries the app's facts.

use biscuit_auth::builder::{self, Check};
use biscuit_auth::Biscuit;

use crate::biscuit::{authorizer_error, check_identifier, REQUEST_FACT_PREFIX, RESERVED_PREDICATES};
use crate::error::{Error, Result};
use crate::keys::{IssuerKey, PublicKey};
use crate::timestamp::to_system_time;
use crate::token::MAX_DELEGATION_DEPTH;

/// What to mint, in process (`mint_biscuit`) or through the signer (`SignerClient::mint`): one type
/// for both. `facts` keeps the caller's predicate order; values are sorted within a predicate.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MintRequest {
    pub public_hex: String,
    pub holder_id: String,
    pub facts: Vec<(String, Vec<String>)>,
    /// The id a deny-list refuses the token by, in its one spelling; `None`: 128 random bits in hex.
    pub revocation_id: Option<String>,
    /// Seconds since the epoch; cut to whole seconds.
    pub expires_at: f64,
    /// Root key id, for issuer key rotation. Through the signer it is the signer's (`--key-id`):
    /// a request naming one is MALFORMED_INPUT.
    pub root_key_id: Option<u32>,
    /// How many times the token may be delegated (docs/DESIGN.md §3.13): 0 (the default) writes
    /// nothing and the token is not delegable; at most [`MAX_DELEGATION_DEPTH`].
    pub delegation_depth: u32,
}

/// A minted token and the revocation id it carries (the caller's, or the one picked for it).
pub(crate) struct Minted {
    pub token: String,
    pub revocation_id: String,
}

/// Mint a token. Authority block, in order: `worker_key`, `worker_id`, each app fact, `revocation`,
/// `delegation_depth` (when above 0), then `check if time($t), $t <= <expires_at>`. Values are bound as terms, never spliced into text.
pub fn mint_biscuit(issuer: &IssuerKey, request: &MintRequest) -> Result<String> {
    Ok(mint(issuer, request)?.token)
}

/// [`mint_biscuit`], with the revocation id it carries.
pub(crate) fn mint(issuer: &IssuerKey, request: &MintRequest) -> Result<Minted> {
    let revocation_id = match &request.revocation_id {
        Some(id) => id.clone(),
        None => random_revocation_id()?,
    };
    let token = to_base64(mint_token(issuer, request, &revocation_id, None)?)?;
    Ok(Minted { token, revocation_id })
}

/// 128 random bits, hex: a revocation id nobody chose.
fn random_revocation_id() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes)
        .map_err(|_| Error::new(crate::ErrorCode::Internal, "the operating system's random source failed"))?;
    Ok(hex::encode(bytes))
}

/// [`mint_biscuit`] with the token's next-block key made from `next_key_seed` instead of the system's
/// random generator, so the same request gives the same token: for the conformance vectors' generators
/// (regenerating them must reproduce the committed files), never for a real token (whoever knows the
/// seed can append blocks as if they held the token's next key, which any holder can anyway).
#[doc(hidden)]
pub fn mint_biscuit_reproducible(
    issuer: &IssuerKey,
    request: &MintRequest,
    next_key_seed: &[u8; 32],
) -> Result<String> {
    let revocation_id = request
        .revocation_id
        .as_deref()
        .ok_or_else(|| Error::malformed("a reproducible token names its revocation id"))?;
    to_base64(mint_token(issuer, request, revocation_id, Some(next_key_seed))?)
}

fn to_base64(token: Biscuit) -> Result<String> {
    token.to_base64().map_err(|_| Error::new(crate::ErrorCode::Internal, "token could not be serialized"))
}

fn mint_token(
    issuer: &IssuerKey,
    request: &MintRequest,
    revocation_id: &str,
    next_key_seed: Option<&[u8; 32]>,
) -> Result<Biscuit> {
    let holder_key = PublicKey::from_hex(&request.public_hex)?;
    if revocation_id.is_empty() {
        return Err(Error::malformed("revocation id must not be empty"));
    }
    // written in its one spelling, so a deny-list entry for it always matches
    if crate::revocation::canonical_revocation_id(revocation_id)? != revocation_id {
        return Err(Error::malformed("revocation id must be written in its canonical form (hex in lower case)"));
    }
    let expires = to_system_time(request.expires_at, "expires_at")?;
    if request.delegation_depth > MAX_DELEGATION_DEPTH {
        return Err(Error::malformed(format!("delegation_depth is at most {MAX_DELEGATION_DEPTH}")));
    }
    for (i, (predicate, _)) in request.facts.iter().enumerate() {
        check_identifier(predicate, "fact predicate")?;
        if RESERVED_PREDICATES.contains(&predicate.as_str()) || predicate.starts_with(REQUEST_FACT_PREFIX) {
            return Err(Error::malformed(format!("fact predicate {predicate:?} is reserved")));
        }
        if request.facts[..i].iter().any(|(p, _)| p == predicate) {
            return Err(Error::malformed(format!("fact predicate {predicate:?} given twice")));
        }
    }

    let string_fact = |name: &str, value: &str| builder::fact(name, &[builder::string(value)]);
    let mut block = Biscuit::builder()
        .fact(string_fact("worker_key", &holder_key.to_hex()))
        .and_then(|b| b.fact(string_fact("worker_id", &request.holder_id)))
        .map_err(authorizer_error)?;
    for (predicate, values) in &request.facts {
        let mut sorted: Vec<&String> = values.iter().collect();
        sorted.sort();
        for value in sorted {
            block = block.fact(string_fact(predicate, value)).map_err(authorizer_error)?;
        }
    }
    let mut expiry = Check::try_from("check if time($t), $t <= {expires_at}").map_err(authorizer_error)?;
    expiry.set("expires_at", builder::date(&expires)).map_err(authorizer_error)?;
    block = block.fact(string_fact("revocation", revocation_id)).map_err(authorizer_error)?;
    if request.delegation_depth > 0 {
        let depth = builder::fact("delegation_depth", &[builder::int(i64::from(request.delegation_depth))]);
        block = block.fact(depth).map_err(authorizer_error)?;
    }
    block = block.check(expiry).map_err(authorizer_error)?;
    if let Some(id) = request.root_key_id {
        block = block.root_key_id(id);
    }
    let root = issuer.biscuit_keypair()?;
    match next_key_seed {
        None => block.build(root),
        Some(seed) => {
            let next = biscuit_auth::PrivateKey::from_bytes(seed, biscuit_auth::builder::Algorithm::Ed25519)
                .map_err(|_| Error::new(crate::ErrorCode::Internal, "next key seed refused"))?;
            block.build_with_key_pair(root, Default::default(), &biscuit_auth::KeyPair::from(&next))
        }
    }
    .map_err(authorizer_error)
}
