//! `tc_mint_biscuit`: the issuer mints a token bound to a holder key.

use std::ffi::c_char;

use trustcore_core::{mint_biscuit, MintRequest};

use crate::boundary::{clear, put, run};
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

/// What to mint. Facts keep the given predicate order; values are sorted within a predicate.
/// `expires_at` is seconds since the epoch (cut to whole seconds). Set `has_root_key_id` to name
/// a root key id (key rotation). `revocation_id` must be written in its canonical form (`rev-1`, hex
/// in lower case; no whitespace, control character or `0x`), else MALFORMED_INPUT: a deny-list entry
/// for it then always matches.
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
    pub revocation_id: *const c_char,
    pub revocation_id_len: usize,
    pub expires_at: f64,
    pub has_root_key_id: bool,
    pub root_key_id: u32,
}

/// Mint a token (URL-safe base64, as an owned buffer). Authority block, in order: `worker_key`,
/// `worker_id`, each app fact, `revocation`, then the expiry check.
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
        let r = handle(request, "request")?;
        let mut facts = Vec::with_capacity(r.facts_count);
        for fact in array(r.facts, r.facts_count, "facts")? {
            let predicate = text(fact.predicate, fact.predicate_len, "fact predicate")?.to_owned();
            let values = strs(fact.values, fact.values_count, "fact value")?.into_iter().map(str::to_owned).collect();
            facts.push((predicate, values));
        }
        let request = MintRequest {
            public_hex: text(r.public_hex, r.public_hex_len, "public_hex")?.to_owned(),
            holder_id: text(r.holder_id, r.holder_id_len, "holder_id")?.to_owned(),
            facts,
            revocation_id: Some(text(r.revocation_id, r.revocation_id_len, "revocation_id")?.to_owned()),
            expires_at: r.expires_at,
            root_key_id: r.has_root_key_id.then_some(r.root_key_id),
        };
        put(out, tc_bytes::new(mint_biscuit(&issuer.key, &request)?))
    })
}
