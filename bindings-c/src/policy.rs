//! Authorization: `tc_check_policy` (one allow policy) and `tc_authorize` (any authorizer code).

use std::ffi::c_char;
use std::time::Duration;

use trustcore_core::{authorize, check_policy, AuthorizeOptions, Limits};

use crate::boundary::run;
use crate::error::{tc_error, tc_status};
use crate::input::{handle, pairs, strs, tc_pair, tc_str, text};
use crate::token::tc_token;

/// The authorizer's run limits, and the budget a token must fit before any of its Datalog runs
/// (checked by the core: its size, blocks, what each block and body holds, an estimate of the join
/// work); exceeding any is LIMIT_EXCEEDED, never a pass. Start from `tc_limits_default()` and change
/// what you need (never fill one in from scratch: fields are only ever added at the end).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct tc_limits {
    /// Time one authorization may take, nanoseconds (default 10 ms; 0 is always exceeded).
    pub max_time_ns: u64,
    /// Facts the authorizer may hold, derived ones included (default 1000).
    pub max_facts: u64,
    /// Rule-evaluation iterations (default 100).
    pub max_iterations: u64,
    /// Largest token accepted, in bytes of its base64 text, checked before decoding (default 32768).
    pub max_token_bytes: u64,
    /// Blocks in a token, the authority block included (default 32).
    pub max_blocks: u64,
    /// Facts written in one block (default 1000).
    pub max_block_facts: u64,
    /// Rules plus checks written in one block (default 64).
    pub max_block_rules: u64,
    /// Predicates in one rule, check or policy body (default 32).
    pub max_body_atoms: u64,
    /// Expression operations in one body (default 128).
    pub max_body_ops: u64,
    /// The join-size estimate of every body of the token and the authorizer together (default 10000).
    pub max_join_size: u64,
    /// Whether a block a holder appended may use a regular expression (`matches`); default false.
    pub allow_appended_regex: bool,
}

impl tc_limits {
    /// Core's `Limits::DEFAULT`, read at compile time.
    pub(crate) const DEFAULT: tc_limits = tc_limits::from_core(Limits::DEFAULT);

    const fn from_core(limits: Limits) -> Self {
        let nanos = limits.max_time.as_nanos();
        tc_limits {
            max_time_ns: if nanos > u64::MAX as u128 { u64::MAX } else { nanos as u64 },
            max_facts: limits.max_facts,
            max_iterations: limits.max_iterations,
            max_token_bytes: limits.max_token_bytes,
            max_blocks: limits.max_blocks,
            max_block_facts: limits.max_block_facts,
            max_block_rules: limits.max_block_rules,
            max_body_atoms: limits.max_body_atoms,
            max_body_ops: limits.max_body_ops,
            max_join_size: limits.max_join_size,
            allow_appended_regex: limits.allow_appended_regex,
        }
    }
}

impl From<tc_limits> for Limits {
    fn from(limits: tc_limits) -> Self {
        Limits {
            max_time: Duration::from_nanos(limits.max_time_ns),
            max_facts: limits.max_facts,
            max_iterations: limits.max_iterations,
            max_token_bytes: limits.max_token_bytes,
            max_blocks: limits.max_blocks,
            max_block_facts: limits.max_block_facts,
            max_block_rules: limits.max_block_rules,
            max_body_atoms: limits.max_body_atoms,
            max_body_ops: limits.max_body_ops,
            max_join_size: limits.max_join_size,
            allow_appended_regex: limits.allow_appended_regex,
        }
    }
}

/// The limits at `ptr`, or core's defaults when it is NULL.
///
/// # Safety
/// `ptr` is NULL or readable.
pub(crate) unsafe fn limits_or_default(ptr: *const tc_limits) -> Limits {
    // SAFETY: the caller's contract
    unsafe { ptr.as_ref() }.map_or(Limits::DEFAULT, |l| Limits::from(*l))
}

/// Core's default limits (`Limits::DEFAULT`): 10 ms, 1000 facts, 100 iterations; a token of at most
/// 32 KiB and 32 blocks, 1000 facts and 64 rules or checks per block, 32 atoms and 128 operations per
/// body, a join estimate of 10 000, no regular expression in an appended block.
#[no_mangle]
pub extern "C" fn tc_limits_default() -> tc_limits {
    crate::boundary::guard(tc_limits::DEFAULT, || tc_limits::DEFAULT)
}

/// One authorization decision: `time(now)`, each request fact `name("value")` in order (names must
/// be identifiers in the `req_` namespace, `req_operation`, `req_right`…, which no token can carry;
/// values are bound, never spliced), the `allow` policy, then `deny if true`.
/// TC_OK when allowed, DENIED otherwise (expiry included), LIMIT_EXCEEDED when the token (with the
/// request facts and the policy) is over the budget of `limits` (NULL = defaults) or the run is past
/// them, MALFORMED_INPUT for a bad fact name or a policy that does not parse.
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
