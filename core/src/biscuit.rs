//! The Biscuit adapter: what trustcore asks of biscuit-auth in one place: its errors mapped to the
//! error table, the run limits handed to its authorizer, the names trustcore reserves and the
//! identifiers it accepts. Minting, tokens and policies all go through here, never around it.

use biscuit_auth::{error, AuthorizerLimits};

use crate::error::{Error, ErrorCode, Result};
use crate::limits::Limits;

/// Predicates trustcore itself writes or reads; an app fact may not use them.
pub const RESERVED_PREDICATES: &[&str] = &[
    "worker_key",
    "worker_id",
    "revocation",
    "time",
    "delegation_depth",
    "delegate_key",
    "delegate_id",
    "holder_chain",
];

/// Request facts, and only they, are named with this prefix (`req_right`, `req_method`…): a token
/// never carries one (mint refuses it) and a request fact must have it, so a request can never
/// satisfy what the token must grant, nor a token what the request must be.
pub const REQUEST_FACT_PREFIX: &str = "req_";

/// A plain identifier: an ASCII letter, then letters, digits or `_` (so the printed Datalog parses).
pub(crate) fn check_identifier(name: &str, what: &str) -> Result<()> {
    let mut bytes = name.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphabetic());
    if !first_ok || name.len() > 128 || !bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(Error::malformed(format!("invalid {what}: {name:?}")));
    }
    Ok(())
}

/// Map a biscuit authorizer failure to the error table. Anything unexpected fails closed.
pub(crate) fn authorizer_error(err: error::Token) -> Error {
    match err {
        error::Token::RunLimit(_) => Error::new(ErrorCode::LimitExceeded, "authorizer run limits exceeded"),
        error::Token::FailedLogic(_) | error::Token::Execution(_) => {
            Error::new(ErrorCode::Denied, "worker not authorized for this operation")
        }
        error::Token::Language(_) => Error::malformed("datalog does not parse"),
        error::Token::Format(_) | error::Token::Base64(_) => {
            Error::new(ErrorCode::TokenInvalid, "biscuit failed verification")
        }
        _ => Error::new(ErrorCode::Internal, "authorizer failed"),
    }
}

/// The run limits biscuit-auth enforces (the rest of [`Limits`] is checked by the budget).
pub(crate) fn authorizer_limits(limits: &Limits) -> AuthorizerLimits {
    AuthorizerLimits { max_time: limits.max_time, max_facts: limits.max_facts, max_iterations: limits.max_iterations }
}
