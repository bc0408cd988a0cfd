//! `tc_authenticate`: parse → identity → revocation → freshness → proof of possession (docs/DESIGN.md §3).

use trustcore_core::{authenticate, AuthenticateOptions, DenyList};

use crate::boundary::{clear, put_optional, run};
use crate::error::{tc_error, tc_status};
use crate::identity::tc_identity;
use crate::input::{handle, strs, tc_str};
use crate::issuer::tc_issuer_keys;
use crate::policy::tc_limits;
use crate::proof::{tc_proof, tc_request};
use crate::token::tc_token;

/// The verifier's settings for one request: its clock (`now`, seconds since the epoch), the allowed
/// clock skew either way, and the limits (authenticate applies `max_token_bytes`, before decoding;
/// it runs no Datalog: the identity and the expiry are read from the authority block).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tc_authenticate_options {
    pub now: f64,
    pub max_skew_seconds: f64,
    pub limits: tc_limits,
}

/// Authenticate one request, cheapest check first, failing closed: the token must verify against
/// `issuer` (TOKEN_INVALID), bind exactly one holder key and revocation id (TOKEN_UNBOUND), no
/// revocation id of it may be in `revoked_ids` (REVOKED), the timestamp must be within the skew
/// (STALE_REQUEST), the issuer's expiry must not have passed at `now` (TOKEN_INVALID) and the
/// signature must verify (POP_FAILED). A token longer than `limits.max_token_bytes` is
/// LIMIT_EXCEEDED before it is decoded. Nothing a holder appended is evaluated here: it runs,
/// within the limits, in `tc_check_policy`. On TC_OK, `*token_out` and
/// `*identity_out` receive new handles when those pointers are not NULL (pass the token on to
/// `tc_check_policy`); on failure they are set to NULL.
///
/// `revoked_ids` is read by core (`DenyList::new`) before anything else, each id in its one spelling:
/// an id made only of hex digits is the same id in upper or lower case (a block id copied in upper
/// case still matches); an empty id, one holding whitespace or a control character, or hex behind
/// `0x` is MALFORMED_INPUT for the whole call (never kept unmatched). Pass ids exactly as issued or
/// as read from `tc_token_revocation_id`, without trimming or prefixes.
///
/// # Safety
/// `issuer`, `proof` are live handles; `request` and `options` are readable (with valid parts);
/// `revoked_ids` is NULL (count 0) or points at `revoked_count` readable strings; `token_out`,
/// `identity_out` and `err` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_authenticate(
    issuer: *const tc_issuer_keys,
    proof: *const tc_proof,
    request: *const tc_request,
    revoked_ids: *const tc_str,
    revoked_count: usize,
    options: *const tc_authenticate_options,
    token_out: *mut *mut tc_token,
    identity_out: *mut *mut tc_identity,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear(token_out);
        clear(identity_out);
        let issuer = handle(issuer, "issuer")?;
        let proof = handle(proof, "proof")?;
        let request = crate::proof::request(request)?;
        let revoked = DenyList::new(strs(revoked_ids, revoked_count, "revoked id")?)?;
        let options = handle(options, "options")?;
        let options = AuthenticateOptions {
            now: options.now,
            max_skew_seconds: options.max_skew_seconds,
            limits: options.limits.into(),
        };
        let (token, identity) = authenticate(&issuer.keys, &proof.proof, &request, &revoked, &options)?;
        put_optional(token_out, tc_token::owned(token));
        put_optional(identity_out, tc_identity::from(identity));
        Ok(())
    })
}
