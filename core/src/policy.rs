//! Authorization: one allow policy over a token (`check_policy`), or any authorizer code (`authorize`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use biscuit_auth::builder::{self, Policy};
use biscuit_auth::datalog::ExternFunc;
use biscuit_auth::{error, AuthorizerBuilder};

use crate::biscuit::{authorizer_error, authorizer_limits, check_identifier, REQUEST_FACT_PREFIX, RESERVED_PREDICATES};
use crate::budget::Extra;
use crate::error::{Error, ErrorCode, Result};
use crate::limits::Limits;
use crate::timestamp::to_system_time;
use crate::token::Token;

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

/// One authorization decision: `time(now)`, each request fact `name(value)` (an identifier starting
/// with [`REQUEST_FACT_PREFIX`], not one of [`RESERVED_PREDICATES`]; the value bound as a term, so it can never inject Datalog), the caller's `allow` policy, then `deny if true`.
/// Facts a holder appended sit outside the authorizer's default trust scope: attenuation only
/// restricts. Ok(()) on allow, DENIED otherwise, LIMIT_EXCEEDED past the budget or the limits.
pub fn check_policy<'a, I>(token: &Token, request_facts: I, allow: &str, now: f64, limits: &Limits) -> Result<()>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    check_policy_parsed(token, request_facts, &parse_policy(allow)?, now, limits)
}

/// An allow policy's text, parsed (MALFORMED_INPUT when it nests too deep or does not parse).
fn parse_policy(allow: &str) -> Result<Policy> {
    check_nesting(allow)?;
    Policy::try_from(allow).map_err(|_| Error::malformed("allow policy does not parse"))
}

/// `deny if true`, parsed once.
static DENY_ALL: std::sync::LazyLock<std::result::Result<Policy, error::Token>> =
    std::sync::LazyLock::new(|| Policy::try_from("deny if true"));

/// [`check_policy`] with the allow policy parsed already (a route policy parses its policies once,
/// when it is loaded).
pub(crate) fn check_policy_parsed<'a, I>(
    token: &Token,
    request_facts: I,
    allow: &Policy,
    now: f64,
    limits: &Limits,
) -> Result<()>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    limits.check()?;
    let when = to_system_time(now, "now")?;
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    let mut extra = Extra::default();
    extra.fact("time", 1);
    for (name, value) in request_facts {
        check_identifier(name, "request fact name")?;
        if RESERVED_PREDICATES.contains(&name) {
            return Err(Error::malformed(format!("request fact name {name:?} is reserved")));
        }
        // a token can never carry a `req_` fact, so a request fact can never stand in for a grant
        if !name.starts_with(REQUEST_FACT_PREFIX) {
            return Err(Error::malformed(format!(
                "request fact name {name:?} must start with {REQUEST_FACT_PREFIX:?}"
            )));
        }
        extra.fact(name, 1);
        pairs.push((name, value));
    }
    allow.queries.iter().for_each(|query| extra.query(query));
    // a delegated token's holders, in the authorizer's own scope: `holder_chain(position, id, key)`
    let chain = token.delegation_chain()?.unwrap_or_default();
    chain.iter().for_each(|_| extra.fact("holder_chain", 3));
    token.check_budget(limits, &extra)?;
    run_bounded(limits, |run_limits| {
        let mut authorizer = AuthorizerBuilder::new()
            .set_limits(authorizer_limits(run_limits))
            .fact(builder::fact("time", &[builder::date(&when)]))?;
        for (name, value) in &pairs {
            authorizer = authorizer.fact(builder::fact(name, &[builder::string(value)]))?;
        }
        for (position, holder) in chain.iter().enumerate() {
            let terms = [
                builder::int(position as i64),
                builder::string(&holder.holder_id),
                builder::string(&holder.holder_public_hex),
            ];
            authorizer = authorizer.fact(builder::fact("holder_chain", &terms))?;
        }
        authorizer.policy(allow.clone())?.policy(DENY_ALL.clone()?)?.build(token.biscuit())?.authorize()
    })
    .map(|_| ())
}

/// `allow` parsed, when it is one allow policy (checked once, when a route policy is loaded, rather
/// than on the first request that reaches it); MALFORMED_INPUT otherwise.
pub(crate) fn parse_allow_policy(allow: &str) -> Result<Policy> {
    let policy = parse_policy(allow)?;
    if policy.kind != builder::PolicyKind::Allow {
        return Err(Error::malformed("a route's policy must be an allow policy"));
    }
    Ok(policy)
}

/// Run any authorizer code (facts, rules, checks, policies) against the token and return the index
/// of the allow policy that matched. `now`, when given, adds `time(now)`.
pub fn authorize(token: &Token, code: &str, now: Option<f64>, options: &AuthorizeOptions) -> Result<usize> {
    options.limits.check()?;
    check_nesting(code)?;
    let mut externs = HashMap::new();
    for name in &options.extern_functions {
        let func =
            extern_function(name).ok_or_else(|| Error::malformed(format!("unknown extern function {name:?}")))?;
        externs.insert(name.clone(), func);
    }
    let when = now.map(|now| to_system_time(now, "now")).transpose()?;
    let make = |externs: HashMap<String, ExternFunc>,
                limits: &Limits|
     -> std::result::Result<AuthorizerBuilder, error::Token> {
        let authorizer =
            AuthorizerBuilder::new().set_limits(authorizer_limits(limits)).set_extern_funcs(externs).code(code)?;
        match when {
            Some(when) => authorizer.fact(builder::fact("time", &[builder::date(&when)])),
            None => Ok(authorizer),
        }
    };
    // parse errors are the caller's, and said so before anything runs
    let first = make(externs.clone(), &options.limits).map_err(|e| match e {
        error::Token::Language(_) => Error::malformed("authorizer code does not parse"),
        other => authorizer_error(other),
    })?;
    // what the code adds, read from an authorizer built without the token (nothing runs)
    let (facts, rules, checks, policies) = first.clone().build_unauthenticated().map_err(authorizer_error)?.dump();
    let mut extra = Extra::default();
    facts.iter().for_each(|fact| extra.fact(&fact.predicate.name, fact.predicate.terms.len()));
    rules.iter().for_each(|rule| extra.rule(rule));
    checks.iter().flat_map(|check| &check.queries).for_each(|query| extra.query(query));
    policies.iter().flat_map(|policy| &policy.queries).for_each(|query| extra.query(query));
    token.check_budget(&options.limits, &extra)?;
    let mut first = Some(first);
    run_bounded(&options.limits, |run_limits| {
        let authorizer = match first.take() {
            Some(authorizer) => authorizer.set_limits(authorizer_limits(run_limits)),
            None => make(externs.clone(), run_limits)?,
        };
        authorizer.build(token.biscuit())?.authorize()
    })
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

/// Run an authorization within `max_time`, and map its outcome to the error table.
///
/// biscuit-auth times a run on the wall clock and checks it only between iterations, so a run can
/// end Ok after its time, and a thread descheduled mid-run on a busy machine times out having done
/// almost nothing. The first run is timed on the wall clock (cheap); when it overran or timed out,
/// it is run once more with this thread's CPU clock read around it (a system call, so only then)
/// and twice the wall-clock allowance for preemption: that run decides. It is LIMIT_EXCEEDED when it
/// spent `max_time` of CPU or timed out; otherwise its answer stands. So a token never buys more
/// than about three times `max_time` (plus one iteration, which the budget bounds), and a valid
/// request is not refused because the machine was busy once. Fact and iteration limits are final at
/// once; so is a zero `max_time`.
pub(crate) fn run_bounded<T>(
    limits: &Limits,
    mut run: impl FnMut(&Limits) -> std::result::Result<T, error::Token>,
) -> Result<T> {
    let timed_out = |outcome: &std::result::Result<T, error::Token>| {
        matches!(outcome, Err(error::Token::RunLimit(error::RunLimit::Timeout)))
    };
    let started = std::time::Instant::now();
    let outcome = run(limits);
    let overran = started.elapsed() > limits.max_time;
    if !(overran && (outcome.is_ok() || timed_out(&outcome))) || limits.max_time.is_zero() {
        return outcome.map_err(authorizer_error);
    }
    let patient = Limits { max_time: limits.max_time.saturating_mul(2), ..*limits };
    let cpu_start = thread_cpu_time();
    let outcome = run(&patient);
    let spent = match (cpu_start, thread_cpu_time()) {
        (Some(start), Some(end)) => end.saturating_sub(start),
        _ => Duration::MAX, // no clock: the overrun stands
    };
    if spent >= limits.max_time || timed_out(&outcome) {
        return Err(Error::new(
            ErrorCode::LimitExceeded,
            format!("authorization ran past its time limit of {:?}", limits.max_time),
        ));
    }
    outcome.map_err(authorizer_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeout<T>() -> std::result::Result<T, error::Token> {
        Err(error::Token::RunLimit(error::RunLimit::Timeout))
    }

    fn spin(duration: Duration) {
        let start = thread_cpu_time().unwrap();
        while thread_cpu_time().unwrap() - start < duration {
            std::hint::black_box(0u64);
        }
    }

    #[test]
    fn a_run_is_bounded_by_its_cpu_time_and_retried_at_most_once() {
        let limits = Limits { max_time: Duration::from_millis(20), ..Limits::default() };
        let code = |r: Result<i32>| r.map_err(|e| e.code());
        // descheduled: the wall clock ran out, this thread's CPU did not; the rerun decides
        let mut runs = 0;
        let outcome = run_bounded(&limits, |_| {
            runs += 1;
            if runs == 1 {
                std::thread::sleep(Duration::from_millis(30));
                timeout()
            } else {
                Ok(7)
            }
        });
        assert_eq!((code(outcome), runs), (Ok(7), 2));
        // the rerun gets twice the wall-clock allowance
        let mut allowed = Vec::new();
        let _ = run_bounded(&limits, |l| {
            allowed.push(l.max_time);
            std::thread::sleep(l.max_time);
            timeout::<()>()
        });
        assert_eq!(allowed, [Duration::from_millis(20), Duration::from_millis(40)]);
        // a run that ended Ok after spending more than its time is LIMIT_EXCEEDED
        let mut runs = 0;
        let outcome = run_bounded(&limits, |_| {
            runs += 1;
            spin(Duration::from_millis(25));
            Ok(1)
        });
        assert_eq!((code(outcome), runs), (Err(ErrorCode::LimitExceeded), 2));
        // never more than two runs, whatever the outcome
        let mut runs = 0;
        let outcome = run_bounded(&limits, |l| {
            runs += 1;
            std::thread::sleep(l.max_time);
            timeout::<i32>()
        });
        assert_eq!((code(outcome), runs), (Err(ErrorCode::LimitExceeded), 2));
        // a quick run is not rerun; a zero budget and the other limits are final at once
        let mut runs = 0;
        assert_eq!(
            code(run_bounded(&limits, |_| {
                runs += 1;
                Ok(3)
            })),
            Ok(3)
        );
        assert_eq!(runs, 1);
        let zero = Limits { max_time: Duration::ZERO, ..Limits::default() };
        let mut runs = 0;
        let _ = run_bounded(&zero, |_| {
            runs += 1;
            timeout::<()>()
        });
        assert_eq!(runs, 1);
        let mut runs = 0;
        let outcome = run_bounded(&limits, |_| {
            runs += 1;
            Err::<i32, _>(error::Token::RunLimit(error::RunLimit::TooManyFacts))
        });
        assert_eq!((code(outcome), runs), (Err(ErrorCode::LimitExceeded), 1));
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
