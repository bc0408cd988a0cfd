//! A verified Biscuit and the holder identity bound in its authority block.

use biscuit_auth::{error, macros::rule, Biscuit};

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
        Ok(self.bound_identity(limits)?.0)
    }

    /// [`Token::identity`] with the bound key already parsed: a verifier checks the proof of
    /// possession with it, so the point is decompressed once per token, not twice.
    pub fn bound_identity(&self, limits: &Limits) -> Result<(VerifiedIdentity, PublicKey)> {
        let [holder_keys, revocations, holder_ids] = match self.identity_facts_as_written() {
            Some(found) => found,
            None => self.identity_facts_by_datalog(limits)?,
        };
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
        let key = PublicKey::from_hex(&holder_public_hex).map_err(|_| unbound("token binds an invalid worker key"))?;
        Ok((VerifiedIdentity { holder_id, holder_public_hex, revocation_id }, key))
    }
}

/// The identity predicates, in the order [`Token::bound_identity`] reads them.
const IDENTITY_PREDICATES: [&str; 3] = ["worker_key", "revocation", "worker_id"];

/// Where a block's own symbols start in its symbol table (biscuit's default symbols come first).
const BLOCK_SYMBOL_OFFSET: u64 = 1024;

impl Token {
    /// The values of `worker_key($v)`, `revocation($v)` and `worker_id($v)` trusting authority, read
    /// straight from the verified authority block: the same answer as the Datalog queries, for a
    /// tenth of the cost, whenever no block has rules (only rules could derive more facts, or run
    /// into the limits). None when a block has rules or anything is unusual (a term that is not a
    /// string, a symbol not in the table): the Datalog engine answers then, errors included.
    fn identity_facts_as_written(&self) -> Option<[Vec<String>; 3]> {
        use biscuit_auth::datalog::SymbolTable;
        use biscuit_auth::format::schema::{term::Content, Block};
        use prost::Message;

        // the blocks as signed (biscuit-auth keeps its decoded copy private)
        let signed = self.biscuit.container().to_proto();
        let authority = Block::decode(signed.authority.block.as_slice()).ok()?;
        if !authority.rules.is_empty() {
            return None;
        }
        for block in &signed.blocks {
            if !Block::decode(block.block.as_slice()).ok()?.rules.is_empty() {
                return None;
            }
        }
        let defaults = SymbolTable::new();
        let symbol = |i: u64| match i.checked_sub(BLOCK_SYMBOL_OFFSET) {
            Some(own) => authority.symbols.get(usize::try_from(own).ok()?).map(String::as_str),
            None => defaults.get_symbol(i),
        };
        // a set per predicate, as the engine's: a fact written twice is one fact
        let mut found: [std::collections::BTreeSet<&str>; 3] = Default::default();
        for fact in &authority.facts {
            let name = symbol(fact.predicate.name)?;
            let Some(slot) = IDENTITY_PREDICATES.iter().position(|p| *p == name) else { continue };
            // `p($v)` matches one-term facts only
            let [term] = fact.predicate.terms.as_slice() else { continue };
            match term.content {
                Some(Content::String(value)) => found[slot].insert(symbol(value)?),
                _ => return None,
            };
        }
        Some(found.map(|values| values.into_iter().map(str::to_owned).collect()))
    }

    /// The same values from the Datalog engine: an authorizer over the token, three queries.
    fn identity_facts_by_datalog(&self, limits: &Limits) -> Result<[Vec<String>; 3]> {
        let mut authorizer = biscuit_auth::AuthorizerBuilder::new()
            .set_limits(limits.to_biscuit())
            .build(&self.biscuit)
            .map_err(authorizer_error)?;
        // the rules are built at compile time (no Datalog parsing per request); `trusting authority`:
        // only what the issuer wrote counts, never an appended block
        let mut values = |predicate: &str, rule: biscuit_auth::builder::Rule| -> Result<Vec<String>> {
            let facts: Vec<(String,)> =
                retry_preempted(limits, || authorizer.query_with_limits(rule.clone(), limits.to_biscuit())).map_err(
                    |e| match e {
                        error::Token::ConversionError(_) => {
                            Error::new(ErrorCode::TokenUnbound, format!("{predicate} is not a string"))
                        }
                        other => authorizer_error(other),
                    },
                )?;
            Ok(facts.into_iter().map(|(v,)| v).collect())
        };
        Ok([
            values("worker_key", rule!("value($v) <- worker_key($v) trusting authority"))?,
            values("revocation", rule!("value($v) <- revocation($v) trusting authority"))?,
            values("worker_id", rule!("value($v) <- worker_id($v) trusting authority"))?,
        ])
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

#[cfg(test)]
mod tests {
    use super::*;
    use biscuit_auth::{BlockBuilder, KeyPair};

    fn token(authority: &str, appended: Option<&str>) -> Token {
        let mut biscuit = Biscuit::builder().code(authority).unwrap().build(&KeyPair::new()).unwrap();
        if let Some(code) = appended {
            biscuit = biscuit.append(BlockBuilder::new().code(code).unwrap()).unwrap();
        }
        Token { biscuit }
    }

    fn sorted(mut found: [Vec<String>; 3]) -> [Vec<String>; 3] {
        found.iter_mut().for_each(|values| values.sort());
        found
    }

    /// The shortcut gives the engine's answer whenever it answers, and leaves rules to the engine.
    #[test]
    fn identity_read_as_written_matches_the_datalog_engine() {
        let key = crate::keys::WorkerKey::from_secret_hex(&"22".repeat(32)).unwrap().public_hex();
        let limits = Limits::default();
        let cases: [(String, Option<&str>, bool); 11] = [
            (format!(r#"worker_key("{key}"); revocation("r"); worker_id("w");"#), None, true),
            (format!(r#"worker_key("{key}"); worker_key("{key}"); revocation("r");"#), None, true),
            (format!(r#"worker_key("{key}"); worker_key("other"); revocation("r");"#), None, true),
            (r#"revocation("r"); worker_id("w");"#.into(), None, true),
            (format!(r#"worker_key("{key}", "x"); worker_key("{key}"); revocation("r");"#), None, true),
            (format!(r#"worker_key("{key}"); revocation("r"); worker_id("read");"#), None, true),
            (format!(r#"worker_key("{key}"); revocation("r");"#), Some(r#"worker_key("forged");"#), true),
            (format!(r#"worker_key("{key}"); revocation("r"); worker_id(1);"#), None, false),
            (format!(r#"k("{key}"); worker_key($k) <- k($k); revocation("r");"#), None, false),
            (format!(r#"worker_key("{key}"); revocation("r");"#), Some(r#"worker_key("forged") <- true;"#), false),
            (format!(r#"worker_key("{key}"); revocation("r");"#), Some(r#"check if worker_key($k);"#), true),
        ];
        for (authority, appended, shortcut) in cases {
            let token = token(&authority, appended);
            let as_written = token.identity_facts_as_written();
            assert_eq!(as_written.is_some(), shortcut, "{authority} / {appended:?}");
            let by_datalog = token.identity_facts_by_datalog(&limits).map(sorted);
            match (as_written, &by_datalog) {
                (Some(found), Ok(expected)) => assert_eq!(&sorted(found), expected, "{authority} / {appended:?}"),
                (Some(_), Err(e)) => panic!("the engine refused what the shortcut read: {e:?} ({authority})"),
                (None, _) => {}
            }
        }
        // the derived key counts (through the engine), the appended block's never does
        let derived = token(&format!(r#"k("{key}"); worker_key($k) <- k($k); revocation("r");"#), None);
        assert_eq!(derived.identity(&limits).unwrap().holder_public_hex, key);
        let appended = token(&format!(r#"worker_key("{key}"); revocation("r");"#), Some(r#"worker_key("x") <- true;"#));
        assert_eq!(appended.identity(&limits).unwrap().holder_public_hex, key);
        let not_a_string = token(&format!(r#"worker_key("{key}"); revocation(7);"#), None);
        assert_eq!(not_a_string.identity(&limits).unwrap_err().code(), ErrorCode::TokenUnbound);
    }
}
