//! HTTP (core `http`, docs/DESIGN.md §10): the headers a holder adds to a request
//! (`tc_http_sign_request`), an RFC 9421 signature base and its verification with a known key, the
//! route policy (`tc_http_policy`) and one decision per request (`tc_verifier_decide`, `tc_decision`).
//! Every rule (the trustcore profile, the path checks, routing, the status table) is core's: this
//! file converts types only.

use std::ffi::c_char;

use trustcore_core::http::{
    sign_request, signature_base, verify_message_signature, Decision, HttpPolicy, HttpProfile, HttpRequest, SignRequest,
};
use trustcore_core::{ErrorCode, PublicKey};

use crate::boundary::{free, guard, prepare_out, put, run, Result};
use crate::error::{tc_error, tc_status};
use crate::identity::tc_identity;
use crate::input::{bytes, handle, malformed_error, pairs, tc_pair, text};
use crate::keys::tc_worker_key;
use crate::mint::{tc_optional_text, tc_optional_u32};
use crate::output::{tc_bytes, Text, EMPTY};
use crate::verifier::tc_verifier;

/// The RFC 9421 profile: an HTTP message signature (`Signature-Input`, `Signature`) over the
/// method, authority, path, query, `Authorization` and an RFC 9530 `Content-Digest`.
pub const TC_HTTP_PROFILE_RFC9421: u32 = 1;
/// trust-core 0.1's profile: the `X-EP-Signature`, `X-EP-Timestamp`, `X-EP-Nonce` headers (or the
/// `token`, `sig`, `ts`, `nonce` query parameters).
pub const TC_HTTP_PROFILE_LEGACY: u32 = 2;

/// The bit of one profile.
pub(crate) const fn profile_bit(profile: HttpProfile) -> u32 {
    match profile {
        HttpProfile::Rfc9421 => TC_HTTP_PROFILE_RFC9421,
        HttpProfile::Legacy => TC_HTTP_PROFILE_LEGACY,
    }
}

/// The bits of a list of profiles (core's default, for `tc_verifier_options_default`).
pub(crate) const fn profile_bits(profiles: &[HttpProfile]) -> u32 {
    let mut bits = 0;
    let mut i = 0;
    while i < profiles.len() {
        bits |= profile_bit(profiles[i]);
        i += 1;
    }
    bits
}

/// The profiles of a bit set, in core's order. A bit that names no profile is MALFORMED_INPUT (the
/// empty set goes to core, which decides what it accepts).
pub(crate) fn profiles_of(bits: u32) -> Result<Vec<HttpProfile>> {
    let known = profile_bits(&HttpProfile::ALL);
    if bits & !known != 0 {
        return Err(malformed_error("profiles: a bit that is no TC_HTTP_PROFILE_ value"));
    }
    Ok(HttpProfile::ALL.into_iter().filter(|p| bits & profile_bit(*p) != 0).collect())
}

/// The one profile `bits` names: exactly one TC_HTTP_PROFILE_ value, else MALFORMED_INPUT.
fn one_profile(bits: u32) -> Result<HttpProfile> {
    match profiles_of(bits)?.as_slice() {
        [one] => Ok(*one),
        _ => Err(malformed_error("profile must be exactly one TC_HTTP_PROFILE_ value")),
    }
}

/// The TC_HTTP_PROFILE_ value of a profile's name (`"rfc9421"`, `"legacy"`), as core reads names:
/// any other name is MALFORMED_INPUT. For bindings and configuration files that name profiles.
///
/// # Safety
/// `name` is NULL (length 0) or readable for `name_len` bytes; `out` is writable; `err` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn tc_http_profile_from_name(
    name: *const c_char,
    name_len: usize,
    out: *mut u32,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        if out.is_null() {
            return Err(malformed_error("output pointer is NULL"));
        }
        out.write(0);
        let profile = HttpProfile::from_name(text(name, name_len, "profile name")?)?;
        out.write(profile_bit(profile));
        Ok(())
    })
}

/// The name of a TC_HTTP_PROFILE_ value (`"rfc9421"`, `"legacy"`), a static NUL-terminated string;
/// `""` for any other value (0, several bits, an unknown bit).
#[no_mangle]
pub extern "C" fn tc_http_profile_name(profile: u32) -> *const c_char {
    guard(c"".as_ptr(), || match one_profile(profile) {
        Ok(HttpProfile::Rfc9421) => c"rfc9421".as_ptr(),
        Ok(HttpProfile::Legacy) => c"legacy".as_ptr(),
        Err(_) => c"".as_ptr(),
    })
}

/// An optional `int64_t` input: with `has` false it is not set and `value` is not read; with `has`
/// true, `value` is passed to core as it is.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tc_optional_i64 {
    pub has: bool,
    pub value: i64,
}

/// One HTTP request as a server received it, borrowed for the duration of a call: the method, the
/// request target in origin form (`/path?query`, exactly as on the request line, not decoded), the
/// header lines in the order they arrived (names in any case; a field sent on several lines is
/// several pairs, in order; the `Host` header included: most servers hand it over apart from the
/// others) and the body bytes.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tc_http_request {
    pub method: *const c_char,
    pub method_len: usize,
    pub target: *const c_char,
    pub target_len: usize,
    pub headers: *const tc_pair,
    pub headers_count: usize,
    pub body: *const u8,
    pub body_len: usize,
}

/// A `tc_http_request` borrowed as Rust values (its header pairs gathered into one vector).
struct RequestParts<'a> {
    method: &'a str,
    target: &'a str,
    headers: Vec<(&'a str, &'a str)>,
    body: &'a [u8],
}

impl RequestParts<'_> {
    fn view(&self) -> HttpRequest<'_> {
        HttpRequest::new(self.method, self.target, &self.headers, self.body)
    }
}

/// Borrow a `tc_http_request`'s parts.
///
/// # Safety
/// `request` is NULL or readable, its parts as documented on `tc_http_request`.
unsafe fn request_parts<'a>(request: *const tc_http_request) -> Result<RequestParts<'a>> {
    // SAFETY: the caller's contract
    unsafe {
        let r = handle(request, "request")?;
        Ok(RequestParts {
            method: text(r.method, r.method_len, "request method")?,
            target: text(r.target, r.target_len, "request target")?,
            headers: pairs(r.headers, r.headers_count, "header")?,
            body: bytes(r.body, r.body_len, "request body")?,
        })
    }
}

/// What `tc_http_sign_request` signs, and how: the request (`url` a full `http(s)://host[:port]/path?query`
/// URL, or an origin-form target `/path?query` with the authority in a `Host` header of `headers`;
/// `headers` are the request's other headers, read for `Host` only), its body, `profile` (one
/// TC_HTTP_PROFILE_ value), `created` (seconds since the epoch; not set: now) and `nonce` (not set:
/// 128 random bits in hex).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tc_http_sign_params {
    pub method: *const c_char,
    pub method_len: usize,
    pub url: *const c_char,
    pub url_len: usize,
    pub headers: *const tc_pair,
    pub headers_count: usize,
    pub body: *const u8,
    pub body_len: usize,
    pub profile: u32,
    pub created: tc_optional_i64,
    pub nonce: tc_optional_text,
}

/// An owned list of (name, value) pairs: the headers `tc_http_sign_request` made, or (borrowed from
/// a `tc_decision`) a decision's headers and facts. Immutable: safe to share between threads.
#[allow(non_camel_case_types)]
pub struct tc_pair_list {
    items: Vec<(Text, Text)>,
}

impl tc_pair_list {
    fn new(items: impl IntoIterator<Item = (String, String)>) -> tc_pair_list {
        tc_pair_list { items: items.into_iter().map(|(n, v)| (Text::new(n), Text::new(v))).collect() }
    }
}

/// The number of pairs in `list`; 0 when `list` is NULL.
///
/// # Safety
/// `list` is NULL or a live `tc_pair_list` (owned, or borrowed from a live `tc_decision`).
#[no_mangle]
pub unsafe extern "C" fn tc_pair_list_count(list: *const tc_pair_list) -> usize {
    guard(0, || unsafe { list.as_ref() }.map_or(0, |l| l.items.len()))
}

/// Pair `index` of `list`, borrowed: valid until the list (or the decision it came from) is freed;
/// each string is followed by a NUL not counted in its length. An empty pair (both strings empty)
/// when `list` is NULL or `index` is not below `tc_pair_list_count`.
///
/// # Safety
/// `list` is NULL or a live `tc_pair_list` (owned, or borrowed from a live `tc_decision`).
#[no_mangle]
pub unsafe extern "C" fn tc_pair_list_get(list: *const tc_pair_list, index: usize) -> tc_pair {
    let empty = tc_pair { name: EMPTY.ptr, name_len: 0, value: EMPTY.ptr, value_len: 0 };
    guard(empty, || match unsafe { list.as_ref() }.and_then(|l| l.items.get(index)) {
        Some((name, value)) => {
            let (name, value) = (name.as_tc_str(), value.as_tc_str());
            tc_pair { name: name.ptr, name_len: name.len, value: value.ptr, value_len: value.len }
        }
        None => empty,
    })
}

/// Release a list `tc_http_sign_request` made. NULL is accepted and ignored. Never pass it a list
/// borrowed from a decision (`tc_decision_headers`, `tc_decision_facts`).
///
/// # Safety
/// `list` is NULL or an owned `tc_pair_list` not yet freed; it is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn tc_pair_list_free(list: *mut tc_pair_list) {
    unsafe { free(list) }
}

/// The headers to add to a request so that it carries `token` and the holder's proof, in
/// `params->profile`: `Authorization`, `Content-Digest`, `Signature-Input`, `Signature` (RFC 9421,
/// labelled `tc`, tagged `trustcore`, `keyid` the key's RFC 7638 thumbprint), or `Authorization`
/// and the three `X-EP-*` headers (legacy), in that order, into `*out` (release it with
/// `tc_pair_list_free`). MALFORMED_INPUT (from core) for a URL that is not http(s) or carries user
/// info, an origin-form target without a `Host` header (RFC 9421), a token that is not one word of
/// visible ASCII, a nonce that is not printable ASCII, CR or LF in a part; MALFORMED_INPUT for a
/// `profile` that is not exactly one TC_HTTP_PROFILE_ value.
///
/// # Safety
/// `key` is a live handle; `token` is NULL (length 0) or readable; `params` is readable, its
/// strings, headers and body NULL (length or count 0) or readable; `out` is writable; `err` is NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_http_sign_request(
    key: *const tc_worker_key,
    token: *const c_char,
    token_len: usize,
    params: *const tc_http_sign_params,
    out: *mut *mut tc_pair_list,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        prepare_out(out)?;
        let key = &handle(key, "key")?.key;
        let token = text(token, token_len, "token")?;
        let p = handle(params, "params")?;
        let headers = pairs(p.headers, p.headers_count, "header")?;
        let nonce = if p.nonce.has { Some(text(p.nonce.value, p.nonce.len, "nonce")?) } else { None };
        let request = SignRequest {
            method: text(p.method, p.method_len, "method")?,
            url: text(p.url, p.url_len, "url")?,
            headers: &headers,
            body: bytes(p.body, p.body_len, "body")?,
            profile: one_profile(p.profile)?,
            created: p.created.has.then_some(p.created.value),
            nonce,
        };
        put(out, tc_pair_list::new(sign_request(key, token, &request)?))
    })
}

/// The RFC 9421 signature base of the signature labelled `label` on `request` (its
/// `Signature-Input` names the covered components), as core builds it to verify: for debugging a
/// client. Into `*out`, an owned buffer (`tc_bytes_free`). MALFORMED_INPUT when the request has no
/// such signature, a covered component is missing or not supported, or a field does not parse.
///
/// # Safety
/// `request` is readable, its parts as documented on `tc_http_request`; `label` is NULL (length 0)
/// or readable; `out` is writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_http_signature_base(
    request: *const tc_http_request,
    label: *const c_char,
    label_len: usize,
    out: *mut *mut tc_bytes,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        prepare_out(out)?;
        let request = request_parts(request)?;
        put(out, tc_bytes::new(signature_base(&request.view(), text(label, label_len, "label")?)?))
    })
}

/// Verify the RFC 9421 signature labelled `label` on `request` with the Ed25519 public key
/// `public_hex` (64 hex digits), strictly, and nothing else: no profile, no clock, no replay, no
/// token. TC_OK when it verifies; POP_FAILED when it does not; MALFORMED_INPUT when the request
/// cannot be read (no such signature, a missing component, a bad key).
///
/// # Safety
/// `request` is readable, its parts as documented on `tc_http_request`; `label` and `public_hex`
/// are NULL (length 0) or readable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_http_verify_signature(
    request: *const tc_http_request,
    label: *const c_char,
    label_len: usize,
    public_hex: *const c_char,
    public_hex_len: usize,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        let request = request_parts(request)?;
        let key = PublicKey::from_hex(text(public_hex, public_hex_len, "public_hex")?)?;
        verify_message_signature(&request.view(), text(label, label_len, "label")?, &key)
    })
}

/// A route policy (core `HttpPolicy`, docs/DESIGN.md §10.2): routes by method and path template,
/// each public or guarded by an allow policy, and the largest body a request may carry. Checked
/// whole when read; immutable: safe to share between threads (one policy serves every request).
#[allow(non_camel_case_types)]
pub struct tc_http_policy {
    policy: HttpPolicy,
}

/// Read a route policy from its JSON text (`{"routes": [{"method", "path", "allow" | "public":
/// true}, …], "max_body_bytes": n}`), through core's one JSON reader: a key given twice, an unknown
/// key, a bad template, an allow policy that does not parse, a route given twice, more than core's
/// bounds: MALFORMED_INPUT, and no policy is made.
///
/// # Safety
/// `json` is NULL (length 0) or readable for `json_len` bytes; `out` is writable; `err` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn tc_http_policy_from_json(
    json: *const c_char,
    json_len: usize,
    out: *mut *mut tc_http_policy,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        prepare_out(out)?;
        let policy = HttpPolicy::from_json(bytes(json.cast(), json_len, "policy")?)?;
        put(out, tc_http_policy { policy })
    })
}

/// Read a route policy from the file at `path` (UTF-8), as `tc_http_policy_from_json`; a file that
/// cannot be read is MALFORMED_INPUT too.
///
/// # Safety
/// `path` is NULL (length 0) or readable for `path_len` bytes; `out` is writable; `err` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn tc_http_policy_from_file(
    path: *const c_char,
    path_len: usize,
    out: *mut *mut tc_http_policy,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        prepare_out(out)?;
        let policy = HttpPolicy::from_file(text(path, path_len, "path")?)?;
        put(out, tc_http_policy { policy })
    })
}

/// The largest body a request may carry under `policy` (a bigger one is refused, status 413): read
/// no more than this from a client. 0 when `policy` is NULL.
///
/// # Safety
/// `policy` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn tc_http_policy_max_body_bytes(policy: *const tc_http_policy) -> u64 {
    guard(0, || unsafe { policy.as_ref() }.map_or(0, |p| p.policy.max_body_bytes()))
}

/// The refusal (413, LIMIT_EXCEEDED) of a body of `length` bytes under `policy`: the first step of
/// `tc_verifier_decide` on its own. A server asks it with a request's announced Content-Length and
/// answers the refusal before reading the body.
///
/// TC_OK with `*out` a new decision (read and free it as `tc_verifier_decide`'s) when the policy
/// refuses that length, or with `*out` NULL when it allows it. MALFORMED_INPUT for a NULL `policy`
/// or `out`.
///
/// # Safety
/// `policy` is NULL or a live handle; `out` is writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_http_policy_body_length_refusal(
    policy: *const tc_http_policy,
    length: u64,
    out: *mut *mut tc_decision,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        prepare_out(out)?;
        match handle(policy, "policy")?.policy.body_length_refusal(length) {
            Some(refusal) => put(out, tc_decision::from(refusal)),
            None => Ok(()),
        }
    })
}

/// The number of routes in `policy`; 0 when `policy` is NULL.
///
/// # Safety
/// `policy` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn tc_http_policy_route_count(policy: *const tc_http_policy) -> usize {
    guard(0, || unsafe { policy.as_ref() }.map_or(0, |p| p.policy.routes().len()))
}

/// Release a policy. NULL is accepted and ignored.
///
/// # Safety
/// `policy` is NULL or a handle not yet freed, used by no other thread; it is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn tc_http_policy_free(policy: *mut tc_http_policy) {
    unsafe { free(policy) }
}

/// What to do with one request (core `Decision`): serve it (allowed), or answer with its status,
/// headers and body. Read it with the `tc_decision_` getters; everything they return is borrowed
/// from it. Immutable: safe to share between threads. Release it with `tc_decision_free`.
#[allow(non_camel_case_types)]
pub struct tc_decision {
    allowed: bool,
    status: u16,
    code: Option<ErrorCode>,
    message: Text,
    headers: tc_pair_list,
    body: Text,
    identity: Option<tc_identity>,
    facts: tc_pair_list,
    route: Option<Text>,
    profile: Option<HttpProfile>,
}

impl From<Decision> for tc_decision {
    fn from(d: Decision) -> Self {
        tc_decision {
            allowed: d.allowed,
            status: d.status,
            code: d.code,
            message: Text::new(d.message),
            headers: tc_pair_list::new(d.headers),
            body: Text::new(d.body),
            identity: d.identity.map(tc_identity::from),
            facts: tc_pair_list::new(d.facts),
            route: d.route.map(Text::new),
            profile: d.profile,
        }
    }
}

/// Decide one HTTP request under `policy` with `verifier`'s stores, cache and settings (its
/// `authorities` and `profiles`): body cap, request shape, route, credentials in either accepted
/// profile (cache, revocation, freshness, proof, replay), then the route's allow policy over the
/// request facts core derives (`req_method`, `req_path`, `req_route`, `req_authority`,
/// `req_param_<name>`, `req_query_<name>`) followed by `facts` (the application's own, named
/// `req_…` and none of core's). `now` NULL is the system clock.
///
/// TC_OK with `*out` a new decision for everything a client can send, allowed or refused (read
/// `tc_decision_allowed`, `tc_decision_status`…). A failed call (no decision) is the caller's
/// mistake: MALFORMED_INPUT for a bad application fact, a NULL handle or `out`, a request part NULL
/// with a length or not UTF-8. May be called from any thread at once on one verifier and policy.
///
/// # Safety
/// `verifier` and `policy` are live handles; `request` is readable, its parts as documented on
/// `tc_http_request`; `facts` is NULL (count 0) or points at `facts_count` pairs of readable strings;
/// `now` is NULL or readable; `out` is writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_verifier_decide(
    verifier: *const tc_verifier,
    request: *const tc_http_request,
    policy: *const tc_http_policy,
    facts: *const tc_pair,
    facts_count: usize,
    now: *const f64,
    out: *mut *mut tc_decision,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        prepare_out(out)?;
        let verifier = &handle(verifier, "verifier")?.verifier;
        let policy = &handle(policy, "policy")?.policy;
        let request = request_parts(request)?;
        let facts = pairs(facts, facts_count, "request fact")?;
        let decision = verifier.decide(&request.view(), policy, &facts, now.as_ref().copied())?;
        put(out, tc_decision::from(decision))
    })
}

/// Whether the request may be served; false when `decision` is NULL.
///
/// # Safety
/// `decision` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn tc_decision_allowed(decision: *const tc_decision) -> bool {
    guard(false, || unsafe { decision.as_ref() }.is_some_and(|d| d.allowed))
}

/// The HTTP status to answer: 200 when allowed; else the refusal's (400 a request core cannot read,
/// 401 an authentication failure, 403 DENIED or LIMIT_EXCEEDED, 413 a body over the policy's cap,
/// 503 STORE_UNAVAILABLE, 500 INTERNAL). 500 when `decision` is NULL.
///
/// # Safety
/// `decision` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn tc_decision_status(decision: *const tc_decision) -> u16 {
    guard(500, || unsafe { decision.as_ref() }.map_or(500, |d| d.status))
}

/// The refusal's code; TC_OK when the request is allowed (TC_MALFORMED_INPUT when `decision` is
/// NULL).
///
/// # Safety
/// `decision` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn tc_decision_code(decision: *const tc_decision) -> tc_status {
    guard(tc_status::TC_INTERNAL, || match unsafe { decision.as_ref() } {
        None => tc_status::TC_MALFORMED_INPUT,
        Some(d) => d.code.map_or(tc_status::TC_OK, tc_status::from),
    })
}

/// For operators: which check refused and why (`"allowed"` when allowed); never a secret. Borrowed:
/// valid until `tc_decision_free`; NUL-terminated. Empty when `decision` is NULL.
///
/// # Safety
/// `decision` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn tc_decision_message(decision: *const tc_decision) -> crate::input::tc_str {
    guard(EMPTY, || unsafe { decision.as_ref() }.map_or(EMPTY, |d| d.message.as_tc_str()))
}

/// The headers to answer a refusal with (`Content-Type`, and `WWW-Authenticate: Biscuit
/// error="<CODE>"` on a 401, `Retry-After` on a 503), in order; none when allowed. Borrowed: valid
/// until `tc_decision_free` (read it with `tc_pair_list_count` and `tc_pair_list_get`; never pass it
/// to `tc_pair_list_free`). NULL when `decision` is NULL.
///
/// # Safety
/// `decision` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn tc_decision_headers(decision: *const tc_decision) -> *const tc_pair_list {
    guard(std::ptr::null(), || unsafe { decision.as_ref() }.map_or(std::ptr::null(), |d| &d.headers as *const _))
}

/// The refusal's body, JSON text `{"error": "<CODE>", "message": "…"}`; empty when allowed.
/// Borrowed as `tc_decision_message`.
///
/// # Safety
/// `decision` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn tc_decision_body(decision: *const tc_decision) -> crate::input::tc_str {
    guard(EMPTY, || unsafe { decision.as_ref() }.map_or(EMPTY, |d| d.body.as_tc_str()))
}

/// Who sent the request, when it was allowed with credentials; NULL on a public route, a refusal,
/// or when `decision` is NULL. Borrowed: valid until `tc_decision_free` (read it with the
/// `tc_identity_` getters; never pass it to `tc_identity_free`).
///
/// # Safety
/// `decision` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn tc_decision_identity(decision: *const tc_decision) -> *const tc_identity {
    guard(std::ptr::null(), || match unsafe { decision.as_ref() }.and_then(|d| d.identity.as_ref()) {
        Some(identity) => identity as *const tc_identity,
        None => std::ptr::null(),
    })
}

/// The request facts the allow policy saw (core's, then the application's), in order; none on a
/// refusal. Borrowed as `tc_decision_headers`.
///
/// # Safety
/// `decision` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn tc_decision_facts(decision: *const tc_decision) -> *const tc_pair_list {
    guard(std::ptr::null(), || unsafe { decision.as_ref() }.map_or(std::ptr::null(), |d| &d.facts as *const _))
}

/// The route template that matched (`/lease/{lane}`): `has` true with the template, borrowed as
/// `tc_decision_message`; `has` false when no route matched (or `decision` is NULL).
///
/// # Safety
/// `decision` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn tc_decision_route(decision: *const tc_decision) -> tc_optional_text {
    let none = tc_optional_text { has: false, value: EMPTY.ptr, len: 0 };
    guard(none, || match unsafe { decision.as_ref() }.and_then(|d| d.route.as_ref()) {
        Some(route) => {
            let s = route.as_tc_str();
            tc_optional_text { has: true, value: s.ptr, len: s.len }
        }
        None => none,
    })
}

/// How the credentials came: `has` true with a TC_HTTP_PROFILE_ value; `has` false on a public
/// route, when none were read (a refusal before them, or credentials that could not be read), or
/// when `decision` is NULL.
///
/// # Safety
/// `decision` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn tc_decision_profile(decision: *const tc_decision) -> tc_optional_u32 {
    let none = tc_optional_u32 { has: false, value: 0 };
    guard(none, || match unsafe { decision.as_ref() }.and_then(|d| d.profile) {
        Some(profile) => tc_optional_u32 { has: true, value: profile_bit(profile) },
        None => none,
    })
}

/// Release a decision (and everything borrowed from it). NULL is accepted and ignored.
///
/// # Safety
/// `decision` is NULL or a handle not yet freed, used by no other thread; it is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn tc_decision_free(decision: *mut tc_decision) {
    unsafe { free(decision) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_bits_follow_core() {
        assert_eq!(profiles_of(0).unwrap(), Vec::<HttpProfile>::new());
        assert_eq!(profiles_of(TC_HTTP_PROFILE_RFC9421 | TC_HTTP_PROFILE_LEGACY).unwrap(), HttpProfile::ALL.to_vec());
        assert!(profiles_of(4).is_err());
        assert!(one_profile(0).is_err() && one_profile(3).is_err());
        for profile in HttpProfile::ALL {
            let name = unsafe { std::ffi::CStr::from_ptr(tc_http_profile_name(profile_bit(profile))) };
            assert_eq!(name.to_str().unwrap(), profile.name());
        }
    }
}
