//! `tc_mint_biscuit`: the issuer mints a token bound to a holder key.

use std::ffi::c_char;

use trustcore_core::{mint_biscuit, MintRequest};

use crate::boundary::{clear, put, run, Result};
use crate::error::{tc_error, tc_status};
use crate::input::{array, handle, strs, tc_str, text};
use crate::keys::tc_issuer_key;
use crate::output::tc_bytes;

/// One app fact predicate and its values (`lane("a")`, `lane("b")`, …). The predicate must be a
/// plain identifier, not a reserved name and not in the `req_` namespace (request facts' own).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tc_mint_fact {
    pub predicate: *const c_char,
    pub predicate_len: usize,
    pub values: *const tc_str,
    pub values_count: usize,
}

/// An optional text input: with `has` false it is not set and `value`/`len` are not read; with
/// `has` true it is the `len` bytes of UTF-8 at `value` (NULL only with `len` 0), passed to core as
/// it is (the empty text included: core decides whether it accepts it). As a result (a getter such
/// as `tc_decision_route`): `has` false when there is none; the text is borrowed from the handle and
/// a NUL follows it.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tc_optional_text {
    pub has: bool,
    pub value: *const c_char,
    pub len: usize,
}

/// An optional `uint32_t` input: with `has` false it is not set and `value` is not read; with `has`
/// true, `value` is passed to core as it is. As a result (`tc_decision_profile`): `has` false when
/// there is none.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tc_optional_u32 {
    pub has: bool,
    pub value: u32,
}

/// What to mint, in process (`tc_mint_biscuit`) or through the signer (`tc_signer_client_mint`):
/// one struct for both. Facts keep the given predicate order; values are sorted within a predicate.
/// `expires_at` is seconds since the epoch (cut to whole seconds; the signer refuses one past its
/// `--max-ttl` with SIGNER_REFUSED, as it refuses a predicate outside its `--allow-predicate` list).
///
/// `revocation_id`: with `has` true, the id to mint, which must be written in its canonical form
/// (`rev-1`, hex in lower case; no whitespace, control character or `0x`; not empty), else
/// MALFORMED_INPUT: a deny-list entry for it then always matches. With `has` false, 128 random
/// bits in hex are picked (by this library in process, by the signer through it);
/// `tc_signer_client_mint` returns the id, `tc_token_revocation_id` reads it from a token.
///
/// `root_key_id`: with `has` true, the root key id the token names (issuer key rotation). Only for
/// `tc_mint_biscuit`: the signer writes its own (`--key-id`), so `tc_signer_client_mint` refuses a
/// request with `root_key_id.has` true (MALFORMED_INPUT).
///
/// `delegation_depth`: how many delegation links (`tc_delegate`, docs/DESIGN.md §3.13) the token
/// allows, at most 8 (else MALFORMED_INPUT); 0, the default, writes nothing: the token cannot be
/// delegated. The signer mints a delegable token only up to its `--max-delegation-depth` (default
/// 0), else SIGNER_REFUSED. It is the last member, so an initializer that names the others (or a
/// zeroed struct) leaves it 0.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tc_mint_request {
    pub public_hex: *const c_char,
    pub public_hex_len: usize,
    pub holder_id: *const c_char,
    pub holder_id_len: usize,
    pub facts: *const tc_mint_fact,
    pub facts_count: usize,
    pub revocation_id: tc_optional_text,
    pub expires_at: f64,
    pub root_key_id: tc_optional_u32,
    pub delegation_depth: u32,
}

/// Borrow a `tc_mint_request` as core's `MintRequest`: types only, core validates.
///
/// # Safety
/// `request` is NULL or readable, with strings and arrays as documented on `tc_mint_request`.
pub(crate) unsafe fn mint_request(request: *const tc_mint_request) -> Result<MintRequest> {
    // SAFETY: the caller's contract
    unsafe {
        let r = handle(request, "request")?;
        let mut facts = Vec::with_capacity(r.facts_count.min(1024));
        for fact in array(r.facts, r.facts_count, "facts")? {
            let predicate = text(fact.predicate, fact.predicate_len, "fact predicate")?.to_owned();
            let values = strs(fact.values, fact.values_count, "fact value")?.into_iter().map(str::to_owned).collect();
            facts.push((predicate, values));
        }
        let revocation_id = match r.revocation_id {
            tc_optional_text { has: true, value, len } => Some(text(value, len, "revocation_id")?.to_owned()),
            tc_optional_text { has: false, .. } => None,
        };
        Ok(MintRequest {
            public_hex: text(r.public_hex, r.public_hex_len, "public_hex")?.to_owned(),
            holder_id: text(r.holder_id, r.holder_id_len, "holder_id")?.to_owned(),
            facts,
            revocation_id,
            expires_at: r.expires_at,
            root_key_id: r.root_key_id.has.then_some(r.root_key_id.value),
            delegation_depth: r.delegation_depth,
        })
    }
}

/// Mint a token (URL-safe base64, as an owned buffer). Authority block, in order: `worker_key`,
/// `worker_id`, each app fact, `revocation`, `delegation_depth` (when above 0), then the expiry
/// check. Without `revocation_id.has` the token carries 128 random bits in hex (read them back
/// with `tc_token_revocation_id`).
///
/// # Safety
/// `issuer` is a live handle; `request` is readable and its strings and arrays as documented on
/// `tc_mint_request`; `out` is writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_mint_biscuit(
    issuer: *const tc_issuer_key,
    request: *const tc_mint_request,
    out: *mut *mut tc_bytes,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear(out);
        let issuer = handle(issuer, "issuer")?;
        let request = mint_request(request)?;
        put(out, tc_bytes::new(mint_biscuit(&issuer.key, &request)?))
    })
}
