//! A verified Biscuit and the holder identity bound in its authority block.

use biscuit_auth::{error, Biscuit};

use crate::error::{Error, ErrorCode, Result};
use crate::issuer::IssuerKeys;
use crate::keys::PublicKey;
use crate::policy::{authorizer_error, retry_preempted, Limits};

/// A token whose signatures verified against a trusted issuer key.
#[derive(Clone)]
pub struct Token {
    biscuit: Biscuit,
}

/// Who made the request: read from the issuer's authority block, never from anything the holder sent.
/// These are identifiers, not capabilities: what the holder may do is decided by the authorizer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VerifiedIdentity {
    pub holder_id: String,
    pub holder_public_hex: String,
    pub revocation_id: String,
}

/// Parse a base64 (URL-safe) token and verify every block's signature against the issuer key(s).
pub fn parse_token(issuer: &IssuerKeys, token_b64: &str) -> Result<Token> {
    let biscuit = Biscuit::from_base64(token_b64.trim(), |id| root_key(issuer, id)).map_err(token_invalid)?;
    Ok(Token { biscuit })
}

/// Parse a token from its raw protobuf bytes (the `.bc` form of the Biscuit samples).
pub fn parse_token_bytes(issuer: &IssuerKeys, token: &[u8]) -> Result<Token> {
    let biscuit = Biscuit::from(token, |id| root_key(issuer, id)).map_err(token_invalid)?;
    Ok(Token { biscuit })
}

fn root_key(issuer: &IssuerKeys, id: Option<u32>) -> std::result::Result<biscuit_auth::PublicKey, error::Format> {
    let key = issuer.select(id).ok_or(error::Format::UnknownPublicKey)?;
    key.to_biscuit().map_err(|_| error::Format::UnknownPublicKey)
}

fn token_invalid(_: error::Token) -> Error {
    Error::new(ErrorCode::TokenInvalid, "biscuit failed verification")
}

impl Token {
    pub fn biscuit(&self) -> &Biscuit {
        &self.biscuit
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

    pub fn to_base64(&self) -> Result<String> {
        self.biscuit.to_base64().map_err(|_| Error::new(ErrorCode::Internal, "token could not be serialized"))
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        self.biscuit.to_vec().map_err(|_| Error::new(ErrorCode::Internal, "token could not be serialized"))
    }

    /// The holder identity from the authority block. Exactly one `worker_key` (a valid Ed25519 key)
    /// and one `revocation` are required, else TOKEN_UNBOUND; `worker_id` is optional (empty if absent)
    /// but may not appear twice.
    pub fn identity(&self, limits: &Limits) -> Result<VerifiedIdentity> {
        let mut authorizer = biscuit_auth::AuthorizerBuilder::new()
            .set_limits(limits.to_biscuit())
            .build(&self.biscuit)
            .map_err(authorizer_error)?;
        let mut values = |predicate: &str| -> Result<Vec<String>> {
            // `trusting authority`: only what the issuer wrote counts, never an appended block
            let rule = format!("value($v) <- {predicate}($v) trusting authority");
            let facts: Vec<(String,)> =
                retry_preempted(limits, || authorizer.query_with_limits(rule.as_str(), limits.to_biscuit())).map_err(
                    |e| match e {
                        error::Token::ConversionError(_) => {
                            Error::new(ErrorCode::TokenUnbound, format!("{predicate} is not a string"))
                        }
                        other => authorizer_error(other),
                    },
                )?;
            Ok(facts.into_iter().map(|(v,)| v).collect())
        };
        let holder_keys = values("worker_key")?;
        let revocations = values("revocation")?;
        let holder_ids = values("worker_id")?;
        let holder_public_hex = match holder_keys.as_slice() {
            [key] => key.clone(),
            [] => return Err(unbound("token binds no worker key")),
            _ => return Err(unbound("token binds more than one worker key")),
        };
        let revocation_id = match revocations.as_slice() {
            [id] => id.clone(),
            [] => return Err(unbound("token carries no revocation id")),
            _ => return Err(unbound("token carries more than one revocation id")),
        };
        let holder_id = match holder_ids.as_slice() {
            [id] => id.clone(),
            [] => String::new(),
            _ => return Err(unbound("token carries more than one worker id")),
        };
        // a bound key that is no valid Ed25519 key binds nobody
        PublicKey::from_hex(&holder_public_hex).map_err(|_| unbound("token binds an invalid worker key"))?;
        Ok(VerifiedIdentity { holder_id, holder_public_hex, revocation_id })
    }
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

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // a token is a bearer credential (half of one): show its shape, not its bytes
        f.debug_struct("Token").field("blocks", &self.block_count()).field("root_key_id", &self.root_key_id()).finish()
    }
}
