//! Authorization: one allow policy over a token (`check_policy`), or any authorizer code (`authorize`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use biscuit_auth::builder::{self, Policy};
use biscuit_auth::datalog::ExternFunc;
use biscuit_auth::{error, AuthorizerBuilder, AuthorizerLimits};

use crate::error::{Error, ErrorCode, Result};
use crate::mint::{check_identifier, RESERVED_PREDICATES};
use crate::timestamp::to_system_time;
use crate::token::Token;

/// Run limits of one authorization. Set on the authorizer builder, the only place biscuit-auth 6
/// enforces them; exceeding any is LIMIT_EXCEEDED, never DENIED and never a pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_time: Duration,
    pub max_facts: u64,
    pub max_iterations: u64,
}

impl Default for Limits {
    /// 10 ms, 1000 facts, 100 iterations. (biscuit-auth's own 1 ms default refuses valid requests
    /// when the CPU is busy.)
    fn default() -> Self {
        Limits { max_time: Duration::from_millis(10), max_facts: 1000, max_iterations: 100 }
    }
}

impl Limits {
    pub(crate) fn to_biscuit(self) -> AuthorizerLimits {
        AuthorizerLimits { max_time: self.max_time, max_facts: self.max_facts, max_iterations: self.max_iterations }
    }
}

/// Options of the general `authorize`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthorizeOptions {
    pub limits: Limits,
    /// Extern functions to make available to the Datalog, by name, from [`EXTERN_FUNCTIONS`].
    pub extern_functions: Vec<String>,
}

/// The extern functions a caller may enable by name. `test` is the Biscuit specification's
/// conformance function (sample test035): one operand returns it; two equal strings give
/// "equal strings", two different strings "different strings"; anything else is an error.
pub const EXTERN_FUNCTIONS: &[&str] = &["test"];

fn extern_function(name: &str) -> Option<ExternFunc> {
    match name {
        "test" => Some(ExternFunc::new(Arc::new(|left, right| match (left, right) {
            (term, None) => Ok(term),
            (builder::Term::Str(l), Some(builder::Term::Str(r))) if l == r => {
                Ok(builder::Term::Str("equal strings".to_owned()))
            }
            (builder::Term::Str(_), Some(builder::Term::Str(_))) => {
                Ok(builder::Term::Str("different strings".to_owned()))
            }
            _ => Err("unsupported operands".to_owned()),
        }))),
        _ => None,
    }
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

/// One authorization decision: `time(now)`, each request fact `name(value)` (an identifier, not one of
/// [`RESERVED_PREDICATES`]; the value bound as a term, so it can never inject Datalog), the caller's `allow` policy, then `deny if true`.
/// Facts a holder appended sit outside the authorizer's default trust scope: attenuation only
/// restricts. Ok(()) on allow, DENIED otherwise, LIMIT_EXCEEDED past the limits.
pub fn check_policy<'a, I>(token: &Token, request_facts: I, allow: &str, now: f64, limits: &Limits) -> Result<()>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let when = to_system_time(now, "now")?;
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for (name, value) in request_facts {
        check_identifier(name, "request fact name")?;
        if RESERVED_PREDICATES.contains(&name) {
            return Err(Error::malformed(format!("request fact name {name:?} is reserved")));
        }
        pairs.push((name, value));
    }
    check_nesting(allow)?;
    let parsed = Policy::try_from(allow).map_err(|_| Error::malformed("allow policy does not parse"))?;
    // the first run takes the parsed policy; a rerun after preemption (rare) parses it again
    let mut first = Some(parsed);
    retry_preempted(limits, || {
        let allow = match first.take() {
            Some(parsed) => parsed,
            None => Policy::try_from(allow)?,
        };
        let mut authorizer = AuthorizerBuilder::new()
            .set_limits(limits.to_biscuit())
            .fact(builder::fact("time", &[builder::date(&when)]))?;
        for (name, value) in &pairs {
            authorizer = authorizer.fact(builder::fact(name, &[builder::string(value)]))?;
        }
        authorizer.policy(allow)?.policy(Policy::try_from("deny if true")?)?.build(token.biscuit())?.authorize()
    })
    .map(|_| ())
    .map_err(authorizer_error)
}

/// Run any authorizer code (facts, rules, checks, policies) against the token and return the index
/// of the allow policy that matched. `now`, when given, adds `time(now)`.
pub fn authorize(token: &Token, code: &str, now: Option<f64>, options: &AuthorizeOptions) -> Result<usize> {
    check_nesting(code)?;
    let mut externs = HashMap::new();
    for name in &options.extern_functions {
        let func =
            extern_function(name).ok_or_else(|| Error::malformed(format!("unknown extern function {name:?}")))?;
        externs.insert(name.clone(), func);
    }
    let when = now.map(|now| to_system_time(now, "now")).transpose()?;
    let make = |externs: HashMap<String, ExternFunc>| -> std::result::Result<AuthorizerBuilder, error::Token> {
        let authorizer =
            AuthorizerBuilder::new().set_limits(options.limits.to_biscuit()).set_extern_funcs(externs).code(code)?;
        match when {
            Some(when) => authorizer.fact(builder::fact("time", &[builder::date(&when)])),
            None => Ok(authorizer),
        }
    };
    // parse errors are the caller's, and said so before anything runs
    let mut first = Some(make(externs.clone()).map_err(|e| match e {
        error::Token::Language(_) => Error::malformed("authorizer code does not parse"),
        other => authorizer_error(other),
    })?);
    retry_preempted(&options.limits, || {
        let authorizer = match first.take() {
            Some(authorizer) => authorizer,
            None => make(externs.clone())?,
        };
        authorizer.build(token.biscuit())?.authorize()
    })
    .map_err(authorizer_error)
}

/// Deepest bracket nesting accepted in caller Datalog. biscuit-parser recurses per level and overflows
/// the stack (the process dies) somewhere past a thousand; real policies nest a handful.
pub const MAX_DATALOG_NESTING: usize = 64;

/// Refuse Datalog nested deeper than [`MAX_DATALOG_NESTING`] before it reaches the parser.
pub(crate) fn check_nesting(code: &str) -> Result<()> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for c in code.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_DATALOG_NESTING {
                    return Err(Error::malformed(format!("datalog nested deeper than {MAX_DATALOG_NESTING}")));
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// This thread's CPU time (None if the clock cannot be read).
fn thread_cpu_time() -> Option<Duration> {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime fills a live local timespec
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    (rc == 0).then(|| Duration::new(now.tv_sec as u64, now.tv_nsec as u32))
}

/// biscuit-auth times a run on the wall clock, so a thread descheduled mid-run on a busy machine
/// passes `max_time` having done almost nothing, and a valid request is refused. A timeout counts
/// only when this thread really spent `max_time` of CPU in a run. Reading that clock is a system
/// call (about a microsecond, on every request), so the first run is not measured: its timeout
/// earns a measured rerun, and a measured run that timed out on its own CPU time is final (three
/// runs at most). Fact and iteration limits are final at once; so is a zero `max_time`.
pub(crate) fn retry_preempted<T>(
    limits: &Limits,
    mut run: impl FnMut() -> std::result::Result<T, error::Token>,
) -> std::result::Result<T, error::Token> {
    let timed_out = |outcome: &std::result::Result<T, error::Token>| {
        matches!(outcome, Err(error::Token::RunLimit(error::RunLimit::Timeout)))
    };
    let mut outcome = run();
    let mut tries = 1;
    while tries < 3 && timed_out(&outcome) && !limits.max_time.is_zero() {
        let started = thread_cpu_time();
        outcome = run();
        tries += 1;
        let spent_its_time = match (started, thread_cpu_time()) {
            (Some(start), Some(end)) => end.saturating_sub(start) >= limits.max_time,
            _ => true, // no clock: the timeout stands
        };
        if spent_its_time {
            break;
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeout<T>() -> std::result::Result<T, error::Token> {
        Err(error::Token::RunLimit(error::RunLimit::Timeout))
    }

    #[test]
    fn a_timeout_without_the_cpu_time_behind_it_is_run_again() {
        let limits = Limits { max_time: Duration::from_millis(50), ..Limits::default() };
        // descheduled: the wall clock ran out, this thread's CPU did not
        let mut runs = 0;
        let outcome = retry_preempted(&limits, || {
            runs += 1;
            if runs == 1 {
                timeout()
            } else {
                Ok(7)
            }
        });
        assert_eq!((outcome.unwrap(), runs), (7, 2));
        // never more than three runs
        let mut runs = 0;
        assert!(retry_preempted(&limits, || {
            runs += 1;
            timeout::<()>()
        })
        .is_err());
        assert_eq!(runs, 3);
        // a measured run that really spent its CPU time is final: the second
        let mut runs = 0;
        let outcome = retry_preempted(&limits, || {
            runs += 1;
            let start = thread_cpu_time().unwrap();
            while thread_cpu_time().unwrap() - start < Duration::from_millis(60) {
                std::hint::black_box(0u64);
            }
            timeout::<()>()
        });
        assert!(matches!(outcome, Err(error::Token::RunLimit(error::RunLimit::Timeout))));
        assert_eq!(runs, 2);
        // as is a zero budget, and any other limit
        let zero = Limits { max_time: Duration::ZERO, ..Limits::default() };
        let mut runs = 0;
        let _ = retry_preempted(&zero, || {
            runs += 1;
            timeout::<()>()
        });
        assert_eq!(runs, 1);
        let mut runs = 0;
        let _ = retry_preempted(&limits, || {
            runs += 1;
            Err::<(), _>(error::Token::RunLimit(error::RunLimit::TooManyFacts))
        });
        assert_eq!(runs, 1);
    }

    #[test]
    fn nesting_is_bounded_outside_strings_only() {
        assert!(check_nesting(&format!("allow if {}true{}", "(".repeat(64), ")".repeat(64))).is_ok());
        let deep = format!("allow if {}true{}", "(".repeat(10_000), ")".repeat(10_000));
        assert_eq!(check_nesting(&deep).unwrap_err().code(), ErrorCode::MalformedInput);
        assert!(check_nesting(&format!("allow if x(\"{}\")", "(".repeat(500))).is_ok());
        assert!(check_nesting("allow if x(\"a\\\"(\")").is_ok());
    }
}
