//! A verified Biscuit and the holder identity bound in its authority block.

use std::sync::Arc;

use biscuit_auth::{error, Biscuit};

use crate::budget::{Extra, Shape};

use crate::error::{Error, ErrorCode, Result};
use crate::issuer::IssuerKeys;
use crate::keys::PublicKey;
use crate::limits::Limits;

/// A token whose signatures verified against a trusted issuer key.
#[derive(Clone)]
pub struct Token {
    biscuit: Biscuit,
    /// What the token brings, read once from its signed blocks (crate::budget).
    shape: Arc<Shape>,
    /// The delegation chain once walked: a cached token's requests do not walk it (and decompress
    /// every link's key) again. Shared by clones.
    chain: Arc<std::sync::OnceLock<Option<Vec<Holder>>>>,
}

/// Who made the request: read from the issuer's authority block, never from anything the holder sent.
/// These are identifiers, not capabilities: what the holder may do is decided by the authorizer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VerifiedIdentity {
    /// The holder the proof of possession must come from: the issuer's, or the last delegate's.
    pub holder_id: String,
    pub holder_public_hex: String,
    /// The app revocation id the issuer wrote.
    pub revocation_id: String,
    /// Every holder in order: the one the issuer bound first, then each delegate (docs/DESIGN.md
    /// §3.13); the last is `holder_id` / `holder_public_hex`. One entry for a token never delegated.
    pub chain: Vec<Holder>,
}

/// One holder of a delegation chain.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Holder {
    pub holder_id: String,
    pub holder_public_hex: String,
}

/// The most links an issuer may allow (`delegation_depth`).
pub const MAX_DELEGATION_DEPTH: u32 = 8;

/// Parse a base64 (URL-safe) token and verify every block's signature against the issuer key(s),
/// with the default size limit.
pub fn parse_token(issuer: &IssuerKeys, token_b64: &str) -> Result<Token> {
    parse_token_limited(issuer, token_b64, &Limits::DEFAULT)
}

/// [`parse_token`] with the caller's limits: a token over `max_token_bytes` is LIMIT_EXCEEDED
/// before it is decoded.
pub fn parse_token_limited(issuer: &IssuerKeys, token_b64: &str, limits: &Limits) -> Result<Token> {
    let text = token_b64.trim();
    limits.check_token_size(text.len())?;
    let biscuit = Biscuit::from_base64(text, |id| root_key(issuer, id)).map_err(token_invalid)?;
    Ok(Token::new(biscuit))
}

/// Parse a token from its raw protobuf bytes (the `.bc` form of the Biscuit samples).
pub fn parse_token_bytes(issuer: &IssuerKeys, token: &[u8]) -> Result<Token> {
    Limits::DEFAULT.check_token_size(token.len())?;
    let biscuit = Biscuit::from(token, |id| root_key(issuer, id)).map_err(token_invalid)?;
    Ok(Token::new(biscuit))
}

fn root_key(issuer: &IssuerKeys, id: Option<u32>) -> std::result::Result<biscuit_auth::PublicKey, error::Format> {
    // biscuit wants its own key type, and converting is a point decompression (~4 µs): a thread
    // remembers the last key it converted (public data only)
    thread_local! {
        static LAST: std::cell::Cell<Option<([u8; 32], biscuit_auth::PublicKey)>> = const { std::cell::Cell::new(None) };
    }
    let key = issuer.select(id).ok_or(error::Format::UnknownPublicKey)?;
    if let Some((bytes, converted)) = LAST.get() {
        if &bytes == key.as_bytes() {
            return Ok(converted);
        }
    }
    let converted = key.to_biscuit().map_err(|_| error::Format::UnknownPublicKey)?;
    LAST.set(Some((*key.as_bytes(), converted)));
    Ok(converted)
}

fn token_invalid(_: error::Token) -> Error {
    Error::new(ErrorCode::TokenInvalid, "biscuit failed verification")
}

impl Token {
    fn new(biscuit: Biscuit) -> Token {
        let shape = Arc::new(Shape::read(&biscuit));
        Token { biscuit, shape, chain: Arc::default() }
    }

    pub fn biscuit(&self) -> &Biscuit {
        &self.biscuit
    }

    /// LIMIT_EXCEEDED unless the token, with what the authorizer adds, fits the budget of `limits`.
    pub(crate) fn check_budget(&self, limits: &Limits, extra: &Extra) -> Result<()> {
        self.shape.check(limits, extra)
    }

    pub fn block_count(&self) -> usize {
        self.biscuit.block_count()
    }

    /// Block `index` as Biscuit prints its Datalog (block 0 is the issuer's authority block).
    pub fn block_source(&self, index: usize) -> Result<String> {
        let missing = || Error::malformed(format!("token has no block {index}"));
        // biscuit-auth 6 panics (index out of bounds) past the last block instead of returning an error
        if index >= self.block_count() {
            return Err(missing());
        }
        self.biscuit.print_block_source(index).map_err(|_| missing())
    }

    /// Every block's revocation id (its signature), hex, in block order.
    pub fn revocation_ids(&self) -> Vec<String> {
        self.biscuit.revocation_identifiers().iter().map(hex::encode).collect()
    }

    pub fn root_key_id(&self) -> Option<u32> {
        self.biscuit.root_key_id()
    }

    /// The expiry the issuer wrote (the earliest `check if time($t), $t <= D` of the authority
    /// block), seconds since the epoch; None when the authority block sets none.
    pub fn expires_at(&self) -> Option<u64> {
        self.shape.expires_at
    }

    /// TOKEN_INVALID when the issuer's expiry has passed at `now` (whole seconds, as the authorizer's
    /// `time` fact): read from the authority block, no Datalog evaluated.
    pub fn check_expiry(&self, now: f64) -> Result<()> {
        if !now.is_finite() {
            return Err(Error::malformed("now must be finite"));
        }
        // a delegation link expires no later than the link before it (walk_chain), so the earliest
        // bound of all is the token's
        match chain_expires_at(&self.shape) {
            Some(bound) if now.floor() > bound as f64 => Err(Error::new(ErrorCode::TokenInvalid, "token expired")),
            _ => Ok(()),
        }
    }

    pub fn to_base64(&self) -> Result<String> {
        self.biscuit.to_base64().map_err(|_| Error::new(ErrorCode::Internal, "token could not be serialized"))
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        self.biscuit.to_vec().map_err(|_| Error::new(ErrorCode::Internal, "token could not be serialized"))
    }

    /// The holder identity from the authority block. Exactly one `worker_key` (a valid Ed25519 key)
    /// and one `revocation` are required, else TOKEN_UNBOUND; `worker_id` is optional (empty if absent)
    /// but may not appear twice. Read from the facts the issuer wrote: no Datalog of any block runs.
    pub fn identity(&self) -> Result<VerifiedIdentity> {
        Ok(self.bound_identity()?.0)
    }

    /// [`Token::identity`] with the bound key already parsed: a verifier checks the proof of
    /// possession with it, so the point is decompressed once per token, not twice.
    pub fn bound_identity(&self) -> Result<(VerifiedIdentity, PublicKey)> {
        bound_identity_of(&self.shape)
    }
}

/// The identity and the current holder's key a token's blocks say (verified or not: a holder reads
/// its own token this way to delegate it).
pub(crate) fn bound_identity_of(shape: &Shape) -> Result<(VerifiedIdentity, PublicKey)> {
    let facts = &shape.identity;
    if let Some(predicate) = facts.not_a_string {
        return Err(unbound(&format!("{predicate} is not a string")));
    }
    let holder_public_hex = match facts.worker_key.as_slice() {
        [key] => key.clone(),
        [] => return Err(unbound("token binds no worker key")),
        _ => return Err(unbound("token binds more than one worker key")),
    };
    let revocation_id = match facts.revocation.as_slice() {
        [id] => id.clone(),
        [] => return Err(unbound("token carries no revocation id")),
        _ => return Err(unbound("token carries more than one revocation id")),
    };
    let holder_id = match facts.worker_id.as_slice() {
        [id] => id.clone(),
        [] => String::new(),
        _ => return Err(unbound("token carries more than one worker id")),
    };
    // a bound key that is no valid Ed25519 key binds nobody
    let key = PublicKey::from_hex(&holder_public_hex).map_err(|_| unbound("token binds an invalid worker key"))?;
    let (chain, key) = walk_chain(shape, Holder { holder_id, holder_public_hex }, key)?;
    let last = chain.last().cloned().unwrap_or_default(); // never empty: it starts with the issuer's holder
    Ok((
        VerifiedIdentity { holder_id: last.holder_id, holder_public_hex: last.holder_public_hex, revocation_id, chain },
        key,
    ))
}

/// The number of delegation links a token allows (its `delegation_depth`, 0 when absent).
pub(crate) fn delegation_depth(shape: &Shape) -> Result<usize> {
    let identity = &shape.identity;
    match (identity.delegation_depth.as_slice(), identity.depth_not_an_integer) {
        (_, true) => Err(delegation("delegation_depth is not an integer")),
        ([], false) => Ok(0),
        ([n], false) if (0..=i64::from(MAX_DELEGATION_DEPTH)).contains(n) => Ok(*n as usize),
        ([_], false) => Err(delegation("delegation_depth is out of range")),
        (_, false) => Err(delegation("delegation_depth is written more than once")),
    }
}

/// The earliest expiry of the token: its authority block's and every delegation link's.
pub(crate) fn chain_expires_at(shape: &Shape) -> Option<u64> {
    let links = shape.links.iter().filter(|link| link.external_key.is_some()).filter_map(|link| link.expires_at);
    shape.expires_at.into_iter().chain(links).min()
}

impl Token {
    /// The delegation chain (docs/DESIGN.md §3.13): from the issuer's holder, each delegation block
    /// (a third-party block) must be signed by the holder of that moment and names the next, at most
    /// `delegation_depth` of them, each expiring no later than the one before; a first-party block
    /// may sit between links but may not write a delegation fact. DELEGATION_INVALID otherwise.
    /// The holders of a delegated token, in order (None for a token with no delegation link, read
    /// without walking anything).
    pub fn delegation_chain(&self) -> Result<Option<Vec<Holder>>> {
        if let Some(chain) = self.chain.get() {
            return Ok(chain.clone());
        }
        let chain = if self.shape.links.iter().any(|link| link.external_key.is_some()) {
            Some(self.bound_identity()?.0.chain)
        } else {
            None
        };
        Ok(self.chain.get_or_init(|| chain).clone())
    }
}

/// The delegation chain (docs/DESIGN.md §3.13): from the issuer's holder, each delegation block (a
/// third-party block) must be signed by the holder of that moment and names the next, at most
/// `delegation_depth` of them, each expiring no later than the one before; a first-party block may
/// sit between links but may not write a delegation fact. DELEGATION_INVALID otherwise.
fn walk_chain(shape: &Shape, first: Holder, first_key: PublicKey) -> Result<(Vec<Holder>, PublicKey)> {
    let depth = delegation_depth(shape)?;
    let (mut chain, mut key, mut expires_at) = (vec![first], first_key, shape.expires_at);
    for (i, link) in shape.links.iter().enumerate() {
        let block = i + 1;
        let Some(signer) = &link.external_key else {
            if !link.delegate_key.is_empty() || !link.delegate_id.is_empty() || link.not_a_string {
                return Err(delegation(&format!("block {block} writes a delegation fact outside a delegation")));
            }
            continue;
        };
        if signer.as_slice() != key.as_bytes() {
            return Err(delegation(&format!("block {block} is not signed by the holder it delegates from")));
        }
        if chain.len() > depth {
            return Err(delegation(&format!("the token allows {depth} delegation link(s)")));
        }
        let (next_hex, next_id) = match (link.delegate_key.as_slice(), link.delegate_id.as_slice(), link.not_a_string) {
            ([hex], [id], false) => (hex, id),
            _ => return Err(delegation(&format!("block {block} must name exactly one delegate_key and delegate_id"))),
        };
        let next = PublicKey::from_hex(next_hex)
            .map_err(|_| delegation(&format!("block {block} names an invalid delegate key")))?;
        match (link.expires_at, expires_at) {
            (Some(own), Some(before)) if own <= before => expires_at = Some(own),
            (Some(own), None) => expires_at = Some(own),
            _ => return Err(delegation(&format!("block {block} must expire, and no later than the link before"))),
        }
        chain.push(Holder { holder_id: next_id.clone(), holder_public_hex: next.to_hex() });
        key = next;
    }
    Ok((chain, key))
}

/// What a token says, block by block: for display (the CLI's `inspect`), never for decisions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenSummary {
    /// Whether the signatures were checked against an issuer key.
    pub verified: bool,
    pub root_key_id: Option<u32>,
    /// Each block's Datalog as Biscuit prints it; block 0 is the authority block.
    pub blocks: Vec<String>,
    /// Each block's revocation id, hex.
    pub revocation_ids: Vec<String>,
}

impl Token {
    pub fn summary(&self) -> Result<TokenSummary> {
        Ok(TokenSummary {
            verified: true,
            root_key_id: self.root_key_id(),
            blocks: (0..self.block_count()).map(|i| self.block_source(i)).collect::<Result<_>>()?,
            revocation_ids: self.revocation_ids(),
        })
    }
}

/// Read a token WITHOUT checking its signatures, to show what it claims. Nothing read this way may
/// be trusted: authenticate with `parse_token` for that.
pub fn inspect_unverified(token_b64: &str) -> Result<TokenSummary> {
    let token = biscuit_auth::UnverifiedBiscuit::from_base64(token_b64.trim())
        .map_err(|_| Error::new(ErrorCode::TokenInvalid, "token does not parse"))?;
    let blocks = (0..token.block_count())
        .map(|i| token.print_block_source(i).map_err(|_| Error::new(ErrorCode::TokenInvalid, "token does not parse")))
        .collect::<Result<_>>()?;
    Ok(TokenSummary {
        verified: false,
        root_key_id: token.root_key_id(),
        blocks,
        revocation_ids: token.revocation_identifiers().iter().map(hex::encode).collect(),
    })
}

fn unbound(message: &str) -> Error {
    Error::new(ErrorCode::TokenUnbound, message)
}

fn delegation(message: &str) -> Error {
    Error::new(ErrorCode::DelegationInvalid, message)
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // a token is a bearer credential (half of one): show its shape, not its bytes
        f.debug_struct("Token").field("blocks", &self.block_count()).field("root_key_id", &self.root_key_id()).finish()
    }
}
