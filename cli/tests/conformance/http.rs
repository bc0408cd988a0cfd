//! The HTTP ops of tests/vectors/http.json and the RFC 9421 examples read in place
//! (tests/vectors/README.md, "HTTP").

use std::path::Path;

use serde_json::{json, Value};
use trustcore_core::http::{
    sign_request, signature_base, verify_message_signature, HttpPolicy, HttpProfile, HttpRequest, SignRequest,
};
use trustcore_core::*;

use super::{bytes, f, issuer_keys, read_json, s, Outcome, Tally};

/// A vector request: method, target, header pairs, body.
struct Req {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Req {
    fn from(v: &Value) -> Req {
        Req {
            method: s(v, "method").into(),
            target: s(v, "target").into(),
            headers: pairs(&v["headers"]),
            body: bytes(v, "body_hex"),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&HttpRequest<'_>) -> T) -> T {
        let headers: Vec<(&str, &str)> = self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        f(&HttpRequest::new(&self.method, &self.target, &headers, &self.body))
    }
}

fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .expect("a list of pairs")
        .iter()
        .map(|pair| (pair[0].as_str().unwrap().to_owned(), pair[1].as_str().unwrap().to_owned()))
        .collect()
}

fn pairs_value(pairs: &[(String, String)]) -> Value {
    Value::Array(pairs.iter().map(|(n, v)| json!([n, v])).collect())
}

pub(crate) fn run_op(op: &str, input: &Value) -> Option<Outcome> {
    Some(match op {
        "http_decide" => decide(input),
        "http_policy" => HttpPolicy::from_json(s(input, "policy").as_bytes())
            .map(|p| json!({"routes": p.routes().len(), "max_body_bytes": p.max_body_bytes()})),
        "http_sign" => sign(input),
        "http_signature_base" => Req::from(&input["request"])
            .with(|r| signature_base(r, s(input, "label")))
            .map(|base| json!({"base": String::from_utf8(base).unwrap()})),
        "http_verify_signature" => verify(&Req::from(&input["request"]), s(input, "label"), s(input, "public_hex")),
        _ => return None,
    })
}

fn verify(request: &Req, label: &str, public_hex: &str) -> Outcome {
    let key = PublicKey::from_hex(public_hex)?;
    request.with(|r| verify_message_signature(r, label, &key)).map(|_| json!({}))
}

fn sign(input: &Value) -> Outcome {
    let key = WorkerKey::from_secret_hex(s(input, "holder_secret_hex"))?;
    let headers = pairs(&input["headers"]);
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let body = bytes(input, "body_hex");
    let request = SignRequest {
        method: s(input, "method"),
        url: s(input, "url"),
        headers: &headers,
        body: &body,
        profile: HttpProfile::from_name(s(input, "profile"))?,
        created: input["created"].as_i64(),
        nonce: input["nonce"].as_str(),
    };
    Ok(json!({"headers": pairs_value(&sign_request(&key, s(input, "token"), &request)?)}))
}

fn decide(input: &Value) -> Outcome {
    let v = &input["verifier"];
    let mut config = VerifierConfig::new(issuer_keys(v)?);
    config.max_skew_seconds = f(v, "max_skew_seconds");
    config.authorities = v["authorities"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_owned()).collect();
    config.profiles = v["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| HttpProfile::from_name(p.as_str().unwrap()))
        .collect::<Result<_>>()?;
    if let Some(ids) = v.get("revoked_ids").and_then(Value::as_array) {
        config.revoked_ids = ids.iter().map(|id| id.as_str().unwrap().to_owned()).collect();
    }
    let verifier = Verifier::new(config)?;
    let policy = HttpPolicy::from_json(s(input, "policy").as_bytes())?;
    let mut decisions = Vec::new();
    for step in input["steps"].as_array().expect("steps") {
        let request = Req::from(&step["request"]);
        let facts = step.get("facts").map(pairs).unwrap_or_default();
        let facts: Vec<(&str, &str)> = facts.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let decision = request.with(|r| verifier.decide(r, &policy, &facts, Some(f(step, "now"))));
        decisions.push(match decision {
            Ok(d) => json!({
                "allowed": d.allowed,
                "status": d.status,
                "code": d.code.map(|c| c.name()),
                "route": d.route,
                "profile": d.profile.map(|p| p.name()),
                "holder_id": d.identity.map(|i| i.holder_id),
                "facts": pairs_value(&d.facts),
                "headers": pairs_value(&d.headers),
            }),
            Err(e) => json!({"error": e.code().name()}),
        });
    }
    Ok(json!({"decisions": decisions}))
}

/// RFC 9421 B.2.6 (the signature base, then the signature) and each B.4 message, read in place.
pub(crate) fn run_rfc9421(dir: &Path, tally: &mut Tally) -> (usize, usize) {
    let doc = read_json(&dir.join("ed25519.json"));
    let messages = doc["appendix_b4_transform"]["messages"].as_array().expect("B.4 messages");
    let declared = 2 + messages.len();
    let public_hex = s(&doc["key"], "public_raw_hex");
    let r = &doc["request"];
    let mut request = Req {
        method: s(r, "method").into(),
        target: s(r, "target").into(),
        headers: pairs(&r["headers"]),
        body: s(r, "body").as_bytes().to_vec(),
    };
    request.headers.push(("Signature-Input".into(), s(&doc, "signature_input").into()));
    let mut outcomes: Vec<(String, std::result::Result<(), String>)> = Vec::new();
    let base = request.with(|q| signature_base(q, s(&doc, "label")));
    outcomes.push((
        "B.2.6 signature base".into(),
        match base {
            Ok(base) if base == s(&doc, "signature_base").as_bytes() => Ok(()),
            Ok(base) => Err(format!("got {:?}", String::from_utf8_lossy(&base))),
            Err(e) => Err(e.to_string()),
        },
    ));
    request.headers.push(("Signature".into(), s(&doc, "signature").into()));
    outcomes.push((
        "B.2.6 signature".into(),
        verify(&request, s(&doc, "label"), public_hex).map(|_| ()).map_err(|e| e.to_string()),
    ));
    for (i, message) in messages.iter().enumerate() {
        let text = s(message, "message");
        let mut lines = text.split('\n');
        let start: Vec<&str> = lines.next().unwrap().split(' ').collect();
        let headers = lines
            .map(|l| l.split_once(": ").expect("Name: value"))
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect();
        let request = Req { method: start[0].into(), target: start[1].into(), headers, body: Vec::new() };
        let outcome = verify(&request, "transform", public_hex);
        let want = message["expect_valid"].as_bool().unwrap();
        outcomes.push((
            format!("B.4 message {}", i + 1),
            match (outcome, want) {
                (Ok(_), true) => Ok(()),
                (Err(e), false) if e.code() == ErrorCode::PopFailed => Ok(()),
                (other, _) => Err(format!("expected {}, got {other:?}", if want { "valid" } else { "POP_FAILED" })),
            },
        ));
    }
    let ran = outcomes.len();
    tally.ran += ran;
    for (name, outcome) in outcomes {
        if let Err(why) = outcome {
            tally.failures.push(format!("rfc9421: {name}: {why}"));
        }
    }
    (ran, declared)
}
