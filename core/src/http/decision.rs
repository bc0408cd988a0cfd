//! One decision per HTTP request (docs/DESIGN.md §10.3): body cap → request shape (method, header
//! lines, target, path) → route →
//! credentials (either profile, through the Verifier: cache, revocation, freshness, proof,
//! replay) → the route's allow policy over the request's facts. The status table lives here and
//! nowhere else: every binding and middleware returns what the decision says.

use crate::biscuit::{check_identifier, REQUEST_FACT_PREFIX};
use crate::error::{Error, ErrorCode, Result};
use crate::http::legacy::query_pairs;
use crate::http::message::HttpRequest;
use crate::http::route::{check_path, Access, HttpPolicy};
use crate::http::sign::HttpProfile;
use crate::policy::check_policy_parsed;
use crate::timestamp::now_seconds;
use crate::token::VerifiedIdentity;
use crate::verifier::{Carrier, Verifier};

/// The facts core derives from a request; an application's own facts may not use these names.
pub const REQUEST_FACTS: [&str; 4] = ["req_method", "req_path", "req_route", "req_authority"];
/// Each path parameter `name` becomes the fact `req_param_<name>`.
pub const PATH_PARAMETER_PREFIX: &str = "req_param_";
/// Each query parameter `name` (an identifier) becomes the fact `req_query_<name>`.
pub const QUERY_PARAMETER_PREFIX: &str = "req_query_";

/// What to do with a request: serve it, or answer `status` with `headers` and `body`.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub allowed: bool,
    /// 200 when allowed; else the refusal's status.
    pub status: u16,
    /// None when allowed.
    pub code: Option<ErrorCode>,
    /// For operators: which check refused and why ("allowed" when allowed). Never a secret.
    pub message: String,
    /// Headers of the refusal (`Content-Type`, `WWW-Authenticate`, `Retry-After`); none when allowed.
    pub headers: Vec<(String, String)>,
    /// The refusal's JSON body `{"error": CODE, "message": …}`; empty when allowed.
    pub body: String,
    /// Who sent the request; None on a public route or a refusal.
    pub identity: Option<VerifiedIdentity>,
    /// The request facts the policy saw (core's, then the application's), in that order.
    pub facts: Vec<(String, String)>,
    /// The route template that matched (None when none did).
    pub route: Option<String>,
    /// How the credentials came (None on a public route, or when none were read).
    pub profile: Option<HttpProfile>,
}

/// The status of a refusal with `code` (outside the two request-shape cases: 400 and 413).
pub fn status_for(code: ErrorCode) -> u16 {
    match code {
        ErrorCode::MalformedInput
        | ErrorCode::TokenInvalid
        | ErrorCode::TokenUnbound
        | ErrorCode::Revoked
        | ErrorCode::StaleRequest
        | ErrorCode::Replayed
        | ErrorCode::PopFailed
        | ErrorCode::WrongAudience
        | ErrorCode::DelegationInvalid => 401,
        ErrorCode::Denied | ErrorCode::LimitExceeded => 403,
        ErrorCode::StoreUnavailable => 503,
        _ => 500,
    }
}

impl Decision {
    fn allowed(
        identity: Option<VerifiedIdentity>,
        facts: Vec<(String, String)>,
        route: &str,
        profile: Option<HttpProfile>,
    ) -> Self {
        Decision {
            allowed: true,
            status: 200,
            code: None,
            message: "allowed".to_owned(),
            headers: Vec::new(),
            body: String::new(),
            identity,
            facts,
            route: Some(route.to_owned()),
            profile,
        }
    }

    /// A refusal with the status of [`status_for`], or `status` when given.
    fn refused(error: &Error, status: Option<u16>, route: Option<&str>, profile: Option<HttpProfile>) -> Self {
        let code = error.code();
        let status = status.unwrap_or_else(|| status_for(code));
        let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
        match status {
            401 => headers.push(("WWW-Authenticate".to_owned(), format!("Biscuit error=\"{}\"", code.name()))),
            503 => headers.push(("Retry-After".to_owned(), "1".to_owned())),
            _ => {}
        }
        let body = serde_json::json!({"error": code.name(), "message": error.message()}).to_string();
        Decision {
            allowed: false,
            status,
            code: Some(code),
            message: error.message().to_owned(),
            headers,
            body,
            identity: None,
            facts: Vec::new(),
            route: route.map(str::to_owned),
            profile,
        }
    }
}

impl HttpPolicy {
    /// The refusal (413, LIMIT_EXCEEDED) of a body of `length` bytes, or None when the policy's
    /// `max_body_bytes` allows it: [`Verifier::decide`]'s first check. A server asks it with a
    /// request's announced `Content-Length` before reading the body, and answers the refusal
    /// without reading anything.
    pub fn body_length_refusal(&self, length: u64) -> Option<Decision> {
        (length > self.max_body_bytes()).then(|| {
            let error = Error::new(
                ErrorCode::LimitExceeded,
                format!("the body is over the route policy's {} bytes", self.max_body_bytes()),
            );
            Decision::refused(&error, Some(413), None, None)
        })
    }
}

/// MALFORMED_INPUT unless every application fact is a `req_` identifier outside core's own names.
fn check_app_facts(facts: &[(&str, &str)]) -> Result<()> {
    for (name, _) in facts {
        check_identifier(name, "request fact name")?;
        let core_owned = REQUEST_FACTS.contains(name)
            || name.starts_with(PATH_PARAMETER_PREFIX)
            || name.starts_with(QUERY_PARAMETER_PREFIX);
        if !name.starts_with(REQUEST_FACT_PREFIX) || core_owned {
            return Err(Error::malformed(format!(
                "application fact {name:?} must start with {REQUEST_FACT_PREFIX:?} and not be one core derives"
            )));
        }
    }
    Ok(())
}

impl Verifier {
    /// Decide one request under `policy`. `app_facts` are the application's own request facts (named
    /// `req_…`, never one of core's); `now` defaults to the system clock. Err only for a caller's
    /// mistake (a bad application fact); everything a client sends ends in a [`Decision`].
    pub fn decide(
        &self,
        request: &HttpRequest<'_>,
        policy: &HttpPolicy,
        app_facts: &[(&str, &str)],
        now: Option<f64>,
    ) -> Result<Decision> {
        check_app_facts(app_facts)?;
        let now = now.unwrap_or_else(now_seconds);
        if let Some(refusal) = policy.body_length_refusal(request.body.len() as u64) {
            return Ok(refusal);
        }
        let shape = request.checked_method().and_then(|method| {
            request.check_headers()?;
            let (path, query) = request.path_and_query()?;
            check_path(path)?;
            Ok((method, path, query))
        });
        let (method, path, query) = match shape {
            Ok(shape) => shape,
            Err(error) => return Ok(Decision::refused(&error, Some(400), None, None)),
        };
        let Some(matched) = policy.route(method, path) else {
            let error = Error::new(ErrorCode::Denied, format!("no route matches {method} {path}"));
            return Ok(Decision::refused(&error, None, None, None));
        };
        let route = matched.route.path.as_str();
        let mut facts: Vec<(String, String)> = vec![
            ("req_method".to_owned(), method.to_owned()),
            ("req_path".to_owned(), path.to_owned()),
            ("req_route".to_owned(), route.to_owned()),
        ];
        for (name, value) in &matched.parameters {
            facts.push((format!("{PATH_PARAMETER_PREFIX}{name}"), (*value).to_owned()));
        }
        let (allow_text, allow) = match (&matched.route.access, matched.route.parsed_allow()) {
            (Access::Public, _) => {
                push_query_facts(&mut facts, query, false);
                return Ok(Decision::allowed(None, facts, route, None));
            }
            (Access::Allow(text), Some(parsed)) => (text, parsed),
            (Access::Allow(_), None) => {
                let error = Error::new(ErrorCode::Internal, "a route's allow policy was not parsed");
                return Ok(Decision::refused(&error, None, Some(route), None));
            }
        };
        let (verified, carrier) = match self.authenticate_carried(request, Some(now)) {
            Ok(found) => found,
            Err(error) => return Ok(Decision::refused(&error, None, Some(route), None)),
        };
        let profile = Some(carrier.profile());
        push_query_facts(&mut facts, query, carrier == Carrier::LegacyQuery);
        if carrier == Carrier::Rfc9421 {
            // signed (@authority is covered); the legacy proof does not cover the host
            facts.push(("req_authority".to_owned(), request.authority()?));
        }
        facts.extend(app_facts.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())));
        // only the facts the route's policy or the token's Datalog may name reach the authorizer (a
        // fact nothing names changes no outcome); the decision lists them all
        let pairs = facts
            .iter()
            .filter(|(name, _)| allow_text.contains(name.as_str()) || verified.may_mention(name))
            .map(|(name, value)| (name.as_str(), value.as_str()));
        match check_policy_parsed(&verified.token, pairs, allow, now, &self.config().limits) {
            Ok(()) => Ok(Decision::allowed(Some(verified.identity.clone()), facts, route, profile)),
            Err(error) => Ok(Decision::refused(&error, None, Some(route), profile)),
        }
    }
}

/// `req_query_<name>` for each query parameter whose name is an identifier of at most 64 bytes
/// (others cannot be named by a policy), values as sent; the legacy proof's own parameters are
/// left out when they carried the proof.
fn push_query_facts(facts: &mut Vec<(String, String)>, query: Option<&str>, without_proof: bool) {
    for (name, value) in query.map(query_pairs).unwrap_or_default() {
        if without_proof && ["token", "sig", "ts", "nonce"].contains(&name) {
            continue;
        }
        if name.len() <= 64 && check_identifier(name, "query parameter").is_ok() {
            facts.push((format!("{QUERY_PARAMETER_PREFIX}{name}"), value.to_owned()));
        }
    }
}
