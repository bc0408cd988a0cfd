//! Tokens: mint, parse and inspect, and the general authorizer.

use std::sync::Arc;

use napi::bindgen_prelude::{AsyncTask, Buffer, Either, Null, Uint8Array};
use trustcore_core as core;

use crate::authenticate::Identity;
use crate::convert::{issuer_keys, limits, AuthorizerLimits, IssuerArg};
use crate::error::{guard, trust, Result, Work};

/// A token whose signatures verified against a trusted issuer key. Shows its shape, never its bytes.
#[napi]
pub struct Token {
    pub(crate) inner: SharedToken,
}

/// A token parsed on its own, or one a `Verifier` holds in its cache (shared, never copied per
/// request). Cheap to clone, for the thread pool.
#[derive(Clone)]
pub enum SharedToken {
    Owned(Arc<core::Token>),
    Verified(Arc<core::VerifiedToken>),
}

impl std::ops::Deref for SharedToken {
    type Target = core::Token;

    fn deref(&self) -> &core::Token {
        match self {
            SharedToken::Owned(token) => token,
            SharedToken::Verified(verified) => &verified.token,
        }
    }
}

impl Token {
    pub fn new(token: core::Token) -> Self {
        Token { inner: SharedToken::Owned(Arc::new(token)) }
    }

    /// A token from a verifier's cache.
    pub fn verified(verified: Arc<core::VerifiedToken>) -> Self {
        Token { inner: SharedToken::Verified(verified) }
    }
}

/// Options of `Token#authorize`. `now` adds `time(now)` when given (seconds since the epoch).
#[napi(object, object_to_js = false)]
#[derive(Clone, Default)]
pub struct AuthorizeOptions {
    #[napi(ts_type = "number | null")]
    pub now: Option<Either<f64, Null>>,
    pub limits: Option<AuthorizerLimits>,
    /// Extern functions to enable by name (core's list: `test`).
    pub extern_functions: Option<Vec<String>>,
}

fn authorize_inputs(options: Option<AuthorizeOptions>) -> Result<(Option<f64>, core::AuthorizeOptions)> {
    let options = options.unwrap_or_default();
    let core_options = core::AuthorizeOptions {
        limits: limits(&options.limits)?,
        extern_functions: options.extern_functions.unwrap_or_default(),
    };
    let now = match options.now {
        Some(Either::A(now)) => Some(now),
        Some(Either::B(_)) | None => None,
    };
    Ok((now, core_options))
}

#[napi]
impl Token {
    /// How many blocks: 1 for a token as minted, more once a holder attenuates it.
    #[napi(getter, catch_unwind)]
    pub fn block_count(&self) -> Result<u32> {
        guard(|| Ok(self.inner.block_count() as u32))
    }

    /// Every block's revocation id (hex), in block order.
    #[napi(getter, catch_unwind)]
    pub fn revocation_ids(&self) -> Result<Vec<String>> {
        guard(|| Ok(self.inner.revocation_ids()))
    }

    /// The root key id the issuer set (key rotation), or null.
    #[napi(getter, catch_unwind)]
    pub fn root_key_id(&self) -> Result<Option<u32>> {
        guard(|| Ok(self.inner.root_key_id()))
    }

    /// The holder the token binds, read from its signed blocks (no Datalog runs): for a delegated
    /// token the last holder, and `chain` every holder in order (docs/DESIGN.md §3.13).
    /// TOKEN_UNBOUND when the authority block binds no holder, DELEGATION_INVALID when the chain is
    /// broken.
    #[napi(catch_unwind)]
    pub fn identity(&self) -> Result<Identity> {
        guard(|| Ok(self.inner.identity().map_err(trust)?.into()))
    }

    /// Block `index` as Biscuit prints its Datalog (block 0 is the issuer's authority block).
    #[napi(catch_unwind)]
    pub fn block_source(&self, index: u32) -> Result<String> {
        guard(|| self.inner.block_source(index as usize).map_err(trust))
    }

    #[napi(js_name = "toBase64", catch_unwind)]
    pub fn to_base64(&self) -> Result<String> {
        guard(|| self.inner.to_base64().map_err(trust))
    }

    #[napi(catch_unwind)]
    pub fn to_bytes(&self) -> Result<Buffer> {
        guard(|| Ok(self.inner.to_bytes().map_err(trust)?.into()))
    }

    #[napi(js_name = "toString", catch_unwind)]
    pub fn to_display(&self) -> Result<String> {
        guard(|| Ok(format!("Token(blocks={})", self.inner.block_count())))
    }

    /// Run any authorizer code (facts, rules, checks, policies) against this token; returns the
    /// index of the allow policy that matched, or throws DENIED / LIMIT_EXCEEDED.
    #[napi(catch_unwind)]
    pub fn authorize(&self, code: String, options: Option<AuthorizeOptions>) -> Result<u32> {
        guard(|| {
            let (now, options) = authorize_inputs(options)?;
            Ok(core::authorize(&self.inner, &code, now, &options).map_err(trust)? as u32)
        })
    }

    /// `authorize` on the libuv thread pool.
    #[napi(catch_unwind, ts_return_type = "Promise<number>")]
    pub fn authorize_async(&self, code: String, options: Option<AuthorizeOptions>) -> Result<AsyncTask<Work<u32>>> {
        guard(|| {
            let (now, options) = authorize_inputs(options)?;
            let token = self.inner.clone();
            Ok(AsyncTask::new(Work::new(move || core::authorize(&token, &code, now, &options).map(|i| i as u32))))
        })
    }
}

/// A token as base64 (what travels in headers) or as its raw bytes.
pub type TokenArg = Either<String, Uint8Array>;

fn parse(issuer: &core::IssuerKeys, token: &TokenArg) -> core::Result<core::Token> {
    match token {
        Either::A(b64) => core::parse_token(issuer, b64),
        Either::B(bytes) => core::parse_token_bytes(issuer, bytes),
    }
}

/// A token argument copied out of JS, for the thread pool (JS may change a buffer meanwhile).
enum OwnedToken {
    Base64(String),
    Bytes(Vec<u8>),
}

impl OwnedToken {
    fn parse(&self, issuer: &core::IssuerKeys) -> core::Result<core::Token> {
        match self {
            OwnedToken::Base64(b64) => core::parse_token(issuer, b64),
            OwnedToken::Bytes(bytes) => core::parse_token_bytes(issuer, bytes),
        }
    }
}

/// Parse a token and verify every block's signature against the issuer key(s). A token over
/// core's default size limit is LIMIT_EXCEEDED before it is decoded.
#[napi(catch_unwind, ts_args_type = "issuer: string | Record<string, string>, token: string | Buffer | Uint8Array")]
pub fn parse_token(issuer: IssuerArg, token: TokenArg) -> Result<Token> {
    guard(|| Ok(Token::new(parse(&issuer_keys(&issuer)?, &token).map_err(trust)?)))
}

/// `parseToken` on the libuv thread pool.
#[napi(
    catch_unwind,
    ts_args_type = "issuer: string | Record<string, string>, token: string | Buffer | Uint8Array",
    ts_return_type = "Promise<Token>"
)]
pub fn parse_token_async(issuer: IssuerArg, token: TokenArg) -> Result<AsyncTask<Work<Token>>> {
    guard(|| {
        let issuer = issuer_keys(&issuer)?;
        let token = match token {
            Either::A(b64) => OwnedToken::Base64(b64),
            Either::B(bytes) => OwnedToken::Bytes(bytes.to_vec()),
        };
        Ok(AsyncTask::new(Work::new(move || token.parse(&issuer).map(Token::new))))
    })
}
