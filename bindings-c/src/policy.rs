//! Authorization: `tc_check_policy` (one allow policy) and `tc_authorize` (any authorizer code).

use std::ffi::c_char;
use std::time::Duration;

use trustcore_core::{authorize, check_policy, AuthorizeOptions, Limits};

use crate::boundary::run;
use crate::input::{handle, pairs, strs, tc_pair, tc_str, text};
use crate::status::{tc_error, tc_status};
use crate::token::tc_token;

/// The authorizer's run limits; exceeding any is LIMIT_EXCEEDED, never a pass. Start from
/// `tc_limits_default()` (10 ms, 1000 facts, 100 iterations) and change what you need.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct tc_limits {
    pub max_time_ns: u64,
    pub max_facts: u64,
    pub max_iterations: u64,
}

impl From<Limits> for tc_limits {
    fn from(limits: Limits) -> Self {
        tc_limits {
            max_time_ns: u64::try_from(limits.max_time.as_nanos()).unwrap_or(u64::MAX),
            max_facts: limits.max_facts,
            max_iterations: limits.max_iterations,
        }
    }
}

impl From<tc_limits> for Limits {
    fn from(limits: tc_limits) -> Self {
        Limits {
            max_time: Duration::from_nanos(limits.max_time_ns),
            max_facts: limits.max_facts,
            max_iterations: limits.max_iterations,
        }
    }
}

/// The limits at `ptr`, or core's defaults when it is NULL.
///
/// # Safety
/// `ptr` is NULL or readable.
pub(crate) unsafe fn limits_or_default(ptr: *const tc_limits) -> Limits {
    // SAFETY: the caller's contract
    unsafe { ptr.as_ref() }.map_or_else(Limits::default, |l| Limits::from(*l))
}

/// Core's default limits: 10 ms, 1000 facts, 100 iterations.
#[no_mangle]
pub extern "C" fn tc_limits_default() -> tc_limits {
    crate::boundary::guard(tc_limits { max_time_ns: 10_000_000, max_facts: 1000, max_iterations: 100 }, || {
        tc_limits::from(Limits::default())
    })
}

/// One authorization decision: `time(now)`, each request fact `name("value")` in order (names must
/// be identifiers; values are bound, never spliced), the `allow` policy, then `deny if true`.
/// TC_OK when allowed, DENIED otherwise (expiry included), LIMIT_EXCEEDED past `limits` (NULL =
/// defaults), MALFORMED_INPUT for a bad fact name or a policy that does not parse.
///
/// # Safety
/// `token` is a live handle; `facts` is NULL (count 0) or points at `facts_count` pairs of readable
/// strings; `allow` is NULL (length 0) or readable for `allow_len` bytes; `limits` is NULL or
/// readable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_check_policy(
    token: *const tc_token,
    facts: *const tc_pair,
    facts_count: usize,
    allow: *const c_char,
    allow_len: usize,
    now: f64,
    limits: *const tc_limits,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        let token = handle(token, "token")?;
        let facts = pairs(facts, facts_count, "request fact")?;
        let allow = text(allow, allow_len, "allow")?;
        check_policy(token.token(), facts, allow, now, &limits_or_default(limits))
    })
}

/// Run any authorizer code (facts, rules, checks, policies) against the token; on TC_OK stores the
/// index of the allow policy that matched in `*policy_out`. `now` NULL adds no `time` fact; else
/// `time(*now)`. `extern_functions` names Datalog extern functions to enable (known: "test").
///
/// # Safety
/// `token` is a live handle; `code` is NULL (length 0) or readable for `code_len` bytes; `now` and
/// `limits` are NULL or readable; `extern_functions` is NULL (count 0) or points at `extern_count`
/// readable strings; `policy_out` is writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_authorize(
    token: *const tc_token,
    code: *const c_char,
    code_len: usize,
    now: *const f64,
    limits: *const tc_limits,
    extern_functions: *const tc_str,
    extern_count: usize,
    policy_out: *mut usize,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        let token = handle(token, "token")?;
        let code = text(code, code_len, "code")?;
        if policy_out.is_null() {
            return Err(crate::input::malformed_error("policy_out is NULL"));
        }
        let options = AuthorizeOptions {
            limits: limits_or_default(limits),
            extern_functions: strs(extern_functions, extern_count, "extern function")?
                .into_iter()
                .map(str::to_owned)
                .collect(),
        };
        let policy = authorize(token.token(), code, now.as_ref().copied(), &options)?;
        policy_out.write(policy);
        Ok(())
    })
}
