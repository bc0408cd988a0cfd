//! The delegation ops of tests/vectors/delegation.json (tests/vectors/README.md, "Delegation"):
//! `delegate` (the chain of the token it makes) and `delegation_sequence` (one Verifier, each step
//! a holder's request authenticated then authorized).

use serde_json::{json, Value};
use trustcore_core::*;

use super::{f, issuer_keys, s, string_pairs, Outcome};

pub(crate) fn run_op(op: &str, input: &Value) -> Option<Outcome> {
    Some(match op {
        "delegate" => delegate_op(input),
        "delegation_sequence" => sequence(input),
        _ => return None,
    })
}

fn chain_value(chain: &[Holder]) -> Value {
    Value::Array(chain.iter().map(|h| json!([h.holder_id, h.holder_public_hex])).collect())
}

fn delegate_op(input: &Value) -> Outcome {
    let holder = WorkerKey::from_secret_hex(s(input, "holder_secret_hex"))?;
    let request = DelegateRequest {
        to_public_hex: s(input, "to_public_hex").into(),
        to_holder_id: s(input, "to_holder_id").into(),
        checks: s(input, "checks").into(),
        expires_at: f(input, "expires_at"),
    };
    let token = delegate(s(input, "token"), &holder, &request)?;
    let identity = parse_token(&issuer_keys(input)?, &token)?.identity()?;
    Ok(json!({"chain": chain_value(&identity.chain)}))
}

/// One Verifier for all steps; each step signs POST /lease `{}` at `now` with its holder's key,
/// authenticates, then checks the policy. A step's failure does not end the sequence.
fn sequence(input: &Value) -> Outcome {
    let mut config = VerifierConfig::new(issuer_keys(input)?);
    if let Some(ids) = input.get("revoked_ids").and_then(Value::as_array) {
        config.revoked_ids = ids.iter().map(|id| id.as_str().expect("an id").to_owned()).collect();
    }
    let verifier = Verifier::new(config)?;
    let now = f(input, "now");
    let timestamp = format!("{}", now.floor() as i64);
    let mut outcomes = Vec::new();
    for step in input["steps"].as_array().expect("steps") {
        let outcome = (|| -> Result<Value> {
            let key = WorkerKey::from_secret_hex(s(step, "holder_secret_hex"))?;
            let request = Request::new("POST", "/lease", b"{}");
            let proof = make_proof(&key, s(step, "token"), &request, &timestamp, s(step, "nonce"))?;
            let verified = verifier.authenticate(&proof, &request, Some(now))?;
            let facts = string_pairs(step, "request_facts");
            let facts = facts.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            verifier.check_policy(&verified.token, facts, s(step, "allow"), Some(now))?;
            let identity = &verified.identity;
            Ok(json!({"holder_id": identity.holder_id, "chain": chain_value(&identity.chain)}))
        })();
        outcomes.push(outcome.unwrap_or_else(|e| json!({"error": e.code().name()})));
    }
    Ok(json!({"outcomes": outcomes}))
}
