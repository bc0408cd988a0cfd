//! The Rust conformance runner: every case of every vector source, with counts checked against the
//! files' `numberOfTests` (and the Biscuit samples' validations), so no case can be skipped silently.
//! Codes are compared, never messages. Ops and fields: tests/vectors/README.md.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Map, Value};
use trustcore_core::*;

#[path = "conformance/delegation.rs"]
mod delegation;
#[path = "conformance/http.rs"]
mod http;
#[path = "conformance/signer.rs"]
mod signer;

type Outcome = std::result::Result<Value, Error>;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("cli/ sits in the repo").to_path_buf()
}

fn shared_dir() -> PathBuf {
    match std::env::var_os("TRUSTCORE_SHARED") {
        Some(dir) => PathBuf::from(dir),
        None => repo_root().join("..").join("shared"),
    }
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn vector_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no vector files in {}", dir.display());
    files
}

// ---- field access ---------------------------------------------------------------------------------

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("field {key} is not a string in {v}"))
}

fn f(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("field {key} is not a number"))
}

fn bytes(v: &Value, key: &str) -> Vec<u8> {
    hex::decode(s(v, key)).expect("vector hex")
}

fn obj(v: &Value, key: &str) -> Map<String, Value> {
    v[key].as_object().unwrap_or_else(|| panic!("field {key} is not an object")).clone()
}

fn string_pairs(v: &Value, key: &str) -> Vec<(String, String)> {
    obj(v, key).into_iter().map(|(k, v)| (k, v.as_str().expect("string value").to_owned())).collect()
}

fn limits(input: &Value) -> Limits {
    let mut limits = Limits::default();
    if let Some(l) = input.get("limits").and_then(Value::as_object) {
        if let Some(ms) = l.get("max_time_ms").and_then(Value::as_f64) {
            limits.max_time = Duration::from_secs_f64(ms / 1000.0);
        }
        if let Some(n) = l.get("max_facts").and_then(Value::as_u64) {
            limits.max_facts = n;
        }
        if let Some(n) = l.get("max_iterations").and_then(Value::as_u64) {
            limits.max_iterations = n;
        }
        let budget: [(&str, &mut u64); 7] = [
            ("max_token_bytes", &mut limits.max_token_bytes),
            ("max_blocks", &mut limits.max_blocks),
            ("max_block_facts", &mut limits.max_block_facts),
            ("max_block_rules", &mut limits.max_block_rules),
            ("max_body_atoms", &mut limits.max_body_atoms),
            ("max_body_ops", &mut limits.max_body_ops),
            ("max_join_size", &mut limits.max_join_size),
        ];
        for (name, field) in budget {
            if let Some(n) = l.get(name).and_then(Value::as_u64) {
                *field = n;
            }
        }
        if let Some(allow) = l.get("allow_appended_regex").and_then(Value::as_bool) {
            limits.allow_appended_regex = allow;
        }
    }
    limits
}

fn issuer_keys(input: &Value) -> Result<IssuerKeys> {
    match input.get("issuer_keys").and_then(Value::as_object) {
        Some(keys) => {
            let mut pairs = Vec::new();
            for (id, hex) in keys {
                pairs.push((IssuerKeys::parse_key_id(id)?, hex.as_str().expect("hex")));
            }
            IssuerKeys::from_hex_by_key_id(pairs)
        }
        None => IssuerKeys::from_hex(s(input, "issuer_public_hex")),
    }
}

fn proof_value(p: &WorkerProof) -> Value {
    json!({"token": p.token, "signature": p.signature, "timestamp": p.timestamp, "nonce": p.nonce})
}

// ---- ops ------------------------------------------------------------------------------------------

fn run_op(op: &str, input: &Value) -> Outcome {
    if let Some(outcome) = http::run_op(op, input) {
        return outcome;
    }
    if let Some(outcome) = delegation::run_op(op, input) {
        return outcome;
    }
    match op {
        "public_key" => {
            let key = WorkerKey::from_secret_hex(s(input, "seed_hex"))?;
            Ok(json!({"public_hex": key.public_hex()}))
        }
        "canonical_request" => {
            let body = bytes(input, "body_hex");
            let request = Request::new(s(input, "method"), s(input, "path"), &body);
            Ok(json!({"canonical_hex": hex::encode(request.canonical(s(input, "timestamp"), s(input, "nonce"))?)}))
        }
        "make_proof" => {
            let worker = WorkerKey::from_secret_hex(s(input, "worker_seed_hex"))?;
            let body = bytes(input, "body_hex");
            let request = Request::new(s(input, "method"), s(input, "path"), &body);
            let proof = make_proof(&worker, s(input, "token"), &request, s(input, "timestamp"), s(input, "nonce"))?;
            let headers: Map<String, Value> =
                proof.headers().into_iter().map(|(k, v)| (k.to_owned(), Value::String(v))).collect();
            Ok(json!({"signature_hex": proof.signature, "headers": headers}))
        }
        "authenticate" => {
            let issuer = issuer_keys(input)?;
            let proof: WorkerProof = {
                let p = &input["proof"];
                WorkerProof {
                    token: s(p, "token").into(),
                    signature: s(p, "signature").into(),
                    timestamp: s(p, "timestamp").into(),
                    nonce: s(p, "nonce").into(),
                }
            };
            let body = bytes(&input["request"], "body_hex");
            let request = Request::new(s(&input["request"], "method"), s(&input["request"], "path"), &body);
            let revoked: Vec<String> = input["revoked_ids"]
                .as_array()
                .expect("revoked_ids")
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect();
            let options = AuthenticateOptions {
                now: f(input, "now"),
                max_skew_seconds: f(input, "max_skew_seconds"),
                limits: limits(input),
            };
            let (_, identity) = authenticate(&issuer, &proof, &request, &revoked, &options)?;
            Ok(json!({"identity": {
                "holder_id": identity.holder_id,
                "holder_public_hex": identity.holder_public_hex,
                "revocation_id": identity.revocation_id,
            }}))
        }
        "check_policy" => {
            let token = parse_token(&issuer_keys(input)?, s(input, "token"))?;
            let facts = string_pairs(input, "request_facts");
            check_policy(
                &token,
                facts.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                s(input, "allow"),
                f(input, "now"),
                &limits(input),
            )?;
            Ok(json!({"ok": true}))
        }
        "authorize" => {
            let token = parse_token(&issuer_keys(input)?, s(input, "token"))?;
            let externs = input
                .get("extern_functions")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
                .unwrap_or_default();
            let options = AuthorizeOptions { limits: limits(input), extern_functions: externs };
            let policy = authorize(&token, s(input, "code"), input["now"].as_f64(), &options)?;
            Ok(json!({"policy": policy}))
        }
        "inspect" => {
            let token = parse_token(&issuer_keys(input)?, s(input, "token"))?;
            let blocks: Vec<String> = (0..token.block_count()).map(|i| token.block_source(i)).collect::<Result<_>>()?;
            Ok(
                json!({"block_count": token.block_count(), "blocks": blocks, "revocation_ids": token.revocation_ids(), "root_key_id": token.root_key_id()}),
            )
        }
        "mint" => {
            let issuer = IssuerKey::from_secret_hex(s(input, "issuer_seed_hex"))?;
            let facts = obj(input, "facts")
                .into_iter()
                .map(|(k, v)| (k, v.as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_owned()).collect()))
                .collect();
            let request = MintRequest {
                public_hex: s(input, "public_hex").into(),
                holder_id: s(input, "holder_id").into(),
                facts,
                revocation_id: Some(s(input, "revocation_id").into()),
                expires_at: f(input, "expires_at"),
                root_key_id: input.get("root_key_id").and_then(Value::as_u64).map(|id| id as u32),
                delegation_depth: match input.get("delegation_depth") {
                    Some(depth) => u32::try_from(depth.as_u64().expect("delegation_depth is a count"))
                        .map_err(|_| Error::malformed("delegation_depth is out of range"))?,
                    None => 0,
                },
            };
            let token_b64 = mint_biscuit(&issuer, &request)?;
            let token = parse_token(&IssuerKeys::one(issuer.public_key()), &token_b64)?;
            Ok(json!({"authority_source": token.block_source(0)?}))
        }
        "sign_job" => {
            let issuer = IssuerKey::from_secret_hex(s(input, "issuer_seed_hex"))?;
            Ok(json!({"signature_hex": sign_job(&issuer, &obj(input, "job"), s(input, "worker_id"))?}))
        }
        "verify_job" => {
            let now = input.get("now").map(|_| f(input, "now"));
            verify_job(s(input, "issuer_public_hex"), &obj(input, "job"), s(input, "worker_id"), now)?;
            Ok(json!({"ok": true}))
        }
        "frame_encode" => Ok(json!({"frame_hex": hex::encode(encode_frame(&obj(input, "object"))?)})),
        "frame_decode" => Ok(json!({"object": decode_frame(&bytes(input, "frame_hex"))?})),
        "proof_from_headers" => Ok(json!({"proof": proof_value(&proof_from_headers(string_pairs(input, "headers"))?)})),
        "proof_from_query" => Ok(json!({"proof": proof_value(&proof_from_query(string_pairs(input, "query"))?)})),
        "verifier_sequence" => verifier_sequence(input),
        other => panic!("unknown op {other:?}"),
    }
}

/// The stateful Verifier through a sequence of steps; each step's outcome is "OK", a code, or (for
/// `cache_stats`) "hits=H misses=M". A step's failure does not end the sequence.
fn verifier_sequence(input: &Value) -> Outcome {
    let mut config = VerifierConfig::new(issuer_keys(input)?);
    config.max_skew_seconds = f(input, "max_skew_seconds");
    config.limits = limits(input);
    if let Some(capacity) = input.get("replay_capacity").and_then(Value::as_u64) {
        config.replay_capacity = capacity as usize;
    }
    if let Some(n) = input.get("replay_capacity_per_holder").and_then(Value::as_u64) {
        config.replay_capacity_per_holder = Some(n as usize);
    }
    if let Some(n) = input.get("token_cache_max_bytes").and_then(Value::as_u64) {
        config.token_cache_max_bytes = n;
    }
    if let Some(n) = input.get("max_batch_requests").and_then(Value::as_u64) {
        config.max_batch_requests = n as usize;
    }
    if let Some(n) = input.get("max_batch_body_bytes").and_then(Value::as_u64) {
        config.max_batch_body_bytes = n;
    }
    if let Some(ids) = input.get("revoked_ids").and_then(Value::as_array) {
        config.revoked_ids = ids.iter().map(|id| id.as_str().unwrap().to_owned()).collect();
    }
    let verifier = Verifier::new(config)?;
    let mut token: Option<Token> = None;
    let mut outcomes: Vec<Value> = Vec::new();
    for step in input["steps"].as_array().expect("steps") {
        let (action, args) = step.as_object().and_then(|o| o.iter().next()).expect("one action per step");
        if action == "authenticate_batch" {
            outcomes.push(verifier_batch(&verifier, args));
            continue;
        }
        let outcome: Result<String> = match action.as_str() {
            "authenticate" => {
                let p = &args["proof"];
                let proof = WorkerProof {
                    token: s(p, "token").into(),
                    signature: s(p, "signature").into(),
                    timestamp: s(p, "timestamp").into(),
                    nonce: s(p, "nonce").into(),
                };
                let body = bytes(&args["request"], "body_hex");
                let request = Request::new(s(&args["request"], "method"), s(&args["request"], "path"), &body);
                verifier.authenticate(&proof, &request, Some(f(args, "now"))).map(|verified| {
                    token = Some(verified.token.clone());
                    "OK".to_owned()
                })
            }
            "check_policy" => {
                let facts = string_pairs(args, "request_facts");
                let token = token.as_ref().expect("check_policy after an accepted authenticate");
                let facts = facts.iter().map(|(k, v)| (k.as_str(), v.as_str()));
                verifier.check_policy(token, facts, s(args, "allow"), Some(f(args, "now"))).map(|_| "OK".to_owned())
            }
            "revoke" => verifier.revoke(args.as_str().expect("an id")).map(|_| "OK".to_owned()),
            "revoke_token" => parse_token(&issuer_keys(input)?, args.as_str().expect("a token"))
                .and_then(|token| verifier.revoke_token(&token))
                .map(|_| "OK".to_owned()),
            "verify_job" => {
                let job = args["job"].as_object().expect("a job object");
                verifier.verify_job(job, s(args, "worker_id"), Some(f(args, "now"))).map(|_| "OK".to_owned())
            }
            "cache_stats" => {
                let stats = verifier.cache_stats();
                Ok(format!("hits={} misses={}", stats.hits, stats.misses))
            }
            other => panic!("unknown verifier step {other:?}"),
        };
        outcomes.push(json!(outcome.unwrap_or_else(|e| e.code().name().to_owned())));
    }
    Ok(json!({"outcomes": outcomes}))
}

/// An `authenticate_batch` step: one outcome per request, in order, or the one code of a batch
/// refused whole.
fn verifier_batch(verifier: &Verifier, args: &Value) -> Value {
    let requests = args["requests"].as_array().expect("requests");
    let parts: Vec<(WorkerProof, Vec<u8>)> = requests
        .iter()
        .map(|r| {
            let p = &r["proof"];
            let proof = WorkerProof {
                token: s(p, "token").into(),
                signature: s(p, "signature").into(),
                timestamp: s(p, "timestamp").into(),
                nonce: s(p, "nonce").into(),
            };
            (proof, bytes(&r["request"], "body_hex"))
        })
        .collect();
    let batch: Vec<(&WorkerProof, Request)> = parts
        .iter()
        .zip(requests)
        .map(|((proof, body), r)| (proof, Request::new(s(&r["request"], "method"), s(&r["request"], "path"), body)))
        .collect();
    match verifier.authenticate_batch(&batch, Some(f(args, "now"))) {
        Ok(outcomes) => json!(outcomes
            .into_iter()
            .map(|outcome| outcome.map_or_else(|e| e.code().name().to_owned(), |_| "OK".to_owned()))
            .collect::<Vec<_>>()),
        Err(e) => json!(e.code().name()),
    }
}

/// Compare an outcome with `expect`: `{"error": CODE}`, or every expected field equal; for the
/// signer ops `result` is matched field by field and `result_has` names fields that must be present.
fn check(outcome: &Outcome, expect: &Value) -> std::result::Result<(), String> {
    match (outcome, expect.get("error").and_then(Value::as_str)) {
        (Err(e), Some(code)) if e.code().name() == code => Ok(()),
        (Err(e), Some(code)) => Err(format!("expected {code}, got {} ({})", e.code(), e.message())),
        (Err(e), None) => Err(format!("expected success, got {} ({})", e.code(), e.message())),
        (Ok(got), Some(code)) => Err(format!("expected {code}, got success {got}")),
        (Ok(got), None) => {
            for (key, want) in expect.as_object().expect("expect is an object") {
                if key == "result" {
                    for (field, want) in want.as_object().expect("result is an object") {
                        if &got["result"][field] != want {
                            return Err(format!("result.{field}: expected {want}, got {}", got["result"][field]));
                        }
                    }
                } else if key == "result_has" {
                    for field in want.as_array().expect("result_has is a list") {
                        if got["result"].get(field.as_str().unwrap()).is_none() {
                            return Err(format!("result has no {field}"));
                        }
                    }
                } else if &got[key] != want {
                    return Err(format!("{key}: expected {want}, got {}", got[key]));
                }
            }
            Ok(())
        }
    }
}

struct Tally {
    ran: usize,
    failures: Vec<String>,
}

fn run_vector_dir(dir: &Path, tally: &mut Tally) -> (usize, usize) {
    let (mut declared, mut ran) = (0, 0);
    for file in vector_files(dir) {
        let doc = read_json(&file);
        assert_eq!(doc["schema"], "trustcore-vectors/1", "{}", file.display());
        let cases = doc["cases"].as_array().expect("cases");
        declared += doc["numberOfTests"].as_u64().expect("numberOfTests") as usize;
        // a file with `signer` settings runs against a live daemon, started for it and stopped after
        let daemon = doc.get("signer").map(signer::Daemon::start);
        for case in cases {
            ran += 1;
            let id = case["id"].as_str().unwrap_or("?");
            let op = s(case, "op");
            let input = expand(&case["input"]);
            let outcome = match (&daemon, op.starts_with("signer_")) {
                (Some(daemon), true) => daemon.run(op, &input),
                (None, true) => panic!("{}: op {op} needs the file's signer settings", file.display()),
                _ => run_op(op, &input),
            };
            if let Err(why) = check(&outcome, &case["expect"]) {
                tally.failures.push(format!("{}: {id}: {why}", file.file_name().unwrap().to_string_lossy()));
            }
        }
    }
    tally.ran += ran;
    (ran, declared)
}

/// A case's input with its large values written out (tests/vectors/README.md, "Large values"):
/// `{"$repeat": [TEXT, N]}` is TEXT N times, `{"$nest": [KEY, N, LEAF]}` LEAF inside N objects
/// `{KEY: …}`, `{"$nest_list": [N, LEAF]}` LEAF inside N arrays. Built bottom-up, not recursively.
fn expand(value: &Value) -> Value {
    match value {
        Value::Object(map) if map.len() == 1 => {
            let (key, args) = map.iter().next().unwrap();
            let args = args.as_array().map(Vec::as_slice);
            match (key.as_str(), args) {
                ("$repeat", Some([text, n])) => json!(text.as_str().unwrap().repeat(n.as_u64().unwrap() as usize)),
                ("$nest", Some([name, n, leaf])) => {
                    (0..n.as_u64().unwrap()).fold(expand(leaf), |inner, _| json!({ name.as_str().unwrap(): inner }))
                }
                ("$nest_list", Some([n, leaf])) => {
                    (0..n.as_u64().unwrap()).fold(expand(leaf), |inner, _| json!([inner]))
                }
                _ => Value::Object(map.iter().map(|(k, v)| (k.clone(), expand(v))).collect()),
            }
        }
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), expand(v))).collect()),
        Value::Array(items) => Value::Array(items.iter().map(expand).collect()),
        other => other.clone(),
    }
}

/// The Biscuit specification's samples, through `authorize` (no `time` added: each sample's code has
/// its own). Expect the allow-policy index, or the error's kind: Format → TOKEN_INVALID,
/// FailedLogic and Execution → DENIED, RunLimit → LIMIT_EXCEEDED. Revocation ids are compared too.
fn run_biscuit_samples(dir: &Path, tally: &mut Tally) -> (usize, usize) {
    let doc = read_json(&dir.join("samples.json"));
    let root = IssuerKeys::from_hex(s(&doc, "root_public_key")).expect("root key");
    let (mut declared, mut ran) = (0, 0);
    for case in doc["testcases"].as_array().expect("testcases") {
        let file = s(case, "filename");
        let data = std::fs::read(dir.join(file)).expect("sample token");
        let validations: BTreeMap<String, Value> =
            case["validations"].as_object().unwrap().clone().into_iter().collect();
        declared += validations.len();
        for (name, validation) in validations {
            ran += 1;
            let expect = match &validation["result"] {
                Value::Object(r) if r.contains_key("Ok") => json!({"policy": r["Ok"]}),
                Value::Object(r) => {
                    let kind = r["Err"].as_object().and_then(|e| e.keys().next().cloned()).unwrap_or_default();
                    let code = match kind.as_str() {
                        "Format" => "TOKEN_INVALID",
                        "FailedLogic" | "Execution" => "DENIED",
                        "RunLimit" => "LIMIT_EXCEEDED",
                        other => panic!("{file}: unmapped error kind {other:?}"),
                    };
                    json!({"error": code})
                }
                other => panic!("{file}: unexpected result {other}"),
            };
            let options = AuthorizeOptions { limits: Limits::default(), extern_functions: vec!["test".into()] };
            let outcome = parse_token_bytes(&root, &data).and_then(|token| {
                let want_ids = &validation["revocation_ids"];
                if want_ids != &json!(token.revocation_ids()) {
                    return Err(Error::new(ErrorCode::Internal, format!("revocation ids differ: {want_ids}")));
                }
                Ok(json!({"policy": authorize(&token, s(&validation, "authorizer_code"), None, &options)?}))
            });
            if let Err(why) = check(&outcome, &expect) {
                tally.failures.push(format!("biscuit-samples: {file} [{name}]: {why}"));
            }
        }
    }
    tally.ran += ran;
    (ran, declared)
}

fn main() {
    // the hostile vectors hold values nested 10,000 deep: cloning and dropping such a serde_json
    // Value recurses (the core refuses it at depth 128 before anything of its own recurses)
    let runner = std::thread::Builder::new().stack_size(256 << 20).spawn(run_all).expect("runner thread");
    if let Err(panic) = runner.join() {
        std::panic::resume_unwind(panic);
    }
}

fn run_all() {
    let shared = shared_dir();
    assert!(shared.join("vectors").is_dir(), "shared vectors not found at {} (set TRUSTCORE_SHARED)", shared.display());
    let mut tally = Tally { ran: 0, failures: Vec::new() };
    type Source<'a> = (&'a str, Box<dyn Fn(&mut Tally) -> (usize, usize) + 'a>);
    let sources: [Source; 4] = [
        ("trust-core-0.1", Box::new(|t: &mut Tally| run_vector_dir(&shared.join("vectors/trust-core-0.1"), t))),
        ("tests/vectors", Box::new(|t: &mut Tally| run_vector_dir(&repo_root().join("tests/vectors"), t))),
        (
            "biscuit-samples",
            Box::new(|t: &mut Tally| run_biscuit_samples(&shared.join("vectors/biscuit-samples/current"), t)),
        ),
        ("rfc9421", Box::new(|t: &mut Tally| http::run_rfc9421(&shared.join("vectors/rfc9421"), t))),
    ];
    let mut count_errors = Vec::new();
    for (name, run) in &sources {
        let (ran, declared) = run(&mut tally);
        println!("conformance {name}: {ran} cases run, {declared} declared");
        if ran != declared {
            count_errors.push(format!("{name}: ran {ran} cases but the files declare {declared}"));
        }
    }
    for failure in &tally.failures {
        println!("FAILED {failure}");
    }
    for error in &count_errors {
        println!("COUNT MISMATCH {error}");
    }
    let failed = tally.failures.len();
    println!("conformance: {} passed, {} failed", tally.ran - failed, failed);
    if failed > 0 || !count_errors.is_empty() {
        std::process::exit(1);
    }
}
