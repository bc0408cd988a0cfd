//! Writes tests/vectors/http.json: HTTP requests and the decision each must get (format:
//! tests/vectors/README.md, "HTTP"). Expected decisions are written by hand; signatures and tokens
//! come from running the core. Run: `cargo run -p trustcore-tools --bin make_http_vectors`, then
//! review the diff.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use trustcore_core::http::{
    content_digest, jwk_thumbprint, sign_request, signature_base, HttpProfile, HttpRequest, SignRequest,
};
use trustcore_core::*;
use trustcore_tools::{err, seed_hex as seed, NextKeys, Suite};

const NOW: f64 = 1_700_000_000.0;
const CREATED: i64 = 1_700_000_000;
const HOST: &str = "api.example.com";

const POLICY: &str = r#"{
  "max_body_bytes": 4096,
  "routes": [
    {"method": "POST", "path": "/lease/{lane}", "allow": "allow if right(\"lease\"), req_param_lane($l), lane($l)"},
    {"method": "GET", "path": "/health", "public": true},
    {"method": "GET", "path": "/admin", "allow": "allow if right(\"admin\")"},
    {"method": "GET", "path": "/jobs", "allow": "allow if right(\"lease\"), req_query_tier(\"gold\")"},
    {"method": "POST", "path": "/audited", "allow": "allow if right(\"lease\"), req_team(\"blue\")"},
    {"method": "GET", "path": "/host", "allow": "allow if right(\"lease\"), req_authority(\"api.example.com\")"}
  ]
}"#;

/// A request as the vectors write it.
#[derive(Clone)]
struct Req {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Req {
    fn new(method: &str, target: &str, body: &[u8]) -> Req {
        Req {
            method: method.into(),
            target: target.into(),
            headers: vec![("Host".into(), HOST.into())],
            body: body.into(),
        }
    }

    fn header(mut self, name: &str, value: &str) -> Req {
        self.headers.push((name.into(), value.into()));
        self
    }

    fn without(mut self, name: &str) -> Req {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    fn replace(self, name: &str, value: &str) -> Req {
        self.without(name).header(name, value)
    }

    fn json(&self) -> Value {
        let headers: Vec<Value> = self.headers.iter().map(|(n, v)| json!([n, v])).collect();
        json!({"method": self.method, "target": self.target, "headers": headers, "body_hex": hex::encode(&self.body)})
    }

    fn with_pairs<T>(&self, f: impl FnOnce(&HttpRequest<'_>) -> T) -> T {
        let pairs: Vec<(&str, &str)> = self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        f(&HttpRequest::new(&self.method, &self.target, &pairs, &self.body))
    }
}

struct Fx {
    issuer: IssuerKey,
    holder: WorkerKey,
    token: String,
}

impl Fx {
    /// `req` signed by core's own signer in `profile` (created = CREATED unless given).
    fn signed(&self, req: Req, profile: HttpProfile, nonce: &str) -> Req {
        self.signed_at(req, profile, nonce, CREATED)
    }

    fn signed_at(&self, req: Req, profile: HttpProfile, nonce: &str, created: i64) -> Req {
        let pairs: Vec<(&str, &str)> = req.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let request = SignRequest {
            method: &req.method,
            url: &req.target,
            headers: &pairs,
            body: &req.body,
            profile,
            created: Some(created),
            nonce: Some(nonce),
        };
        let added = sign_request(&self.holder, &self.token, &request).unwrap();
        added.into_iter().fold(req.clone(), |req, (name, value)| req.header(&name, &value))
    }

    /// A trustcore-profile signature written by hand: `components` covered, `params` the text after
    /// the inner list (`;created=…;…`), signed with `key`; Authorization and Content-Digest added.
    fn hand_signed(&self, req: Req, key: &WorkerKey, label: &str, components: &[&str], params: &str) -> Req {
        let digest = content_digest(&req.body);
        let req = req.header("Authorization", &format!("Biscuit {}", self.token)).header("Content-Digest", &digest);
        let list: Vec<String> = components.iter().map(|c| format!("\"{c}\"")).collect();
        let input = format!("{label}=({}){params}", list.join(" "));
        let req = req.header("Signature-Input", &input);
        let base = req.with_pairs(|r| signature_base(r, label)).unwrap();
        let signature = STANDARD.encode(key.sign(&base));
        req.header("Signature", &format!("{label}=:{signature}:"))
    }

    fn keyid(&self) -> String {
        jwk_thumbprint(&self.holder.public_key())
    }

    fn params(&self, nonce: &str) -> String {
        format!(";created={CREATED};keyid=\"{}\";nonce=\"{nonce}\";tag=\"trustcore\"", self.keyid())
    }
}

const ALL: [&str; 6] = ["@method", "@authority", "@path", "@query", "authorization", "content-digest"];

fn step(req: &Req) -> Value {
    json!({"request": req.json(), "now": NOW})
}

fn step_facts(req: &Req, facts: &[(&str, &str)]) -> Value {
    let facts: Vec<Value> = facts.iter().map(|(n, v)| json!([n, v])).collect();
    json!({"request": req.json(), "now": NOW, "facts": facts})
}

fn allowed(route: &str, profile: Option<&str>, holder: Option<&str>, facts: &[(&str, &str)]) -> Value {
    let facts: Vec<Value> = facts.iter().map(|(n, v)| json!([n, v])).collect();
    json!({"allowed": true, "status": 200, "code": null, "route": route, "profile": profile, "holder_id": holder,
           "facts": facts, "headers": []})
}

fn refused(status: u16, code: &str, route: Option<&str>, profile: Option<&str>) -> Value {
    let mut headers = vec![json!(["Content-Type", "application/json"])];
    match status {
        401 => headers.push(json!(["WWW-Authenticate", format!("Biscuit error=\"{code}\"")])),
        503 => headers.push(json!(["Retry-After", "1"])),
        _ => {}
    }
    json!({"allowed": false, "status": status, "code": code, "route": route, "profile": profile, "holder_id": null,
           "facts": [], "headers": headers})
}

fn main() {
    let next = NextKeys::new(env!("CARGO_BIN_NAME"));
    let issuer = IssuerKey::from_secret_hex(&seed("issuer")).unwrap();
    let holder = WorkerKey::from_secret_hex(&seed("worker")).unwrap();
    let thief = WorkerKey::from_secret_hex(&seed("thief")).unwrap();
    let stranger = IssuerKey::from_secret_hex(&seed("other-issuer")).unwrap();
    let mint = |issuer: &IssuerKey, revocation_id: &str| {
        mint_biscuit_reproducible(
            issuer,
            &MintRequest {
                public_hex: holder.public_hex(),
                holder_id: "gpu-1".into(),
                facts: vec![("right".into(), vec!["lease".into()]), ("lane".into(), vec!["a".into()])],
                revocation_id: Some(revocation_id.into()),
                expires_at: NOW + 3600.0,
                root_key_id: None,
                delegation_depth: 0,
            },
            &next.next_seed(),
        )
        .unwrap()
    };
    let (token, foreign_token) = (mint(&issuer, "rev-http-1"), mint(&stranger, "rev-http-2"));
    let foreign = Fx { token: foreign_token, issuer: stranger, holder: holder.clone() };
    let fx = Fx { token, issuer, holder };
    let verifier = |profiles: &[&str]| {
        json!({"issuer_public_hex": fx.issuer.public_hex(), "max_skew_seconds": 300.0,
               "authorities": [HOST, "api.example.com:8443"], "profiles": profiles})
    };
    let both = verifier(&["rfc9421", "legacy"]);
    let mut suite = Suite::new("http", env!("CARGO_BIN_NAME"));
    let mut decide = |description: &str, verifier: &Value, steps: Vec<Value>, decisions: Vec<Value>| {
        suite.case(
            description,
            "http_decide",
            json!({"verifier": verifier, "policy": POLICY, "steps": steps}),
            json!({"decisions": decisions}),
        )
    };
    use HttpProfile::{Legacy, Rfc9421};
    let lease = || Req::new("POST", "/lease/a", br#"{"episode":"e1"}"#);
    let lease_facts: &[(&str, &str)] =
        &[("req_method", "POST"), ("req_path", "/lease/a"), ("req_route", "/lease/{lane}"), ("req_param_lane", "a")];
    let mut with_authority = lease_facts.to_vec();
    with_authority.push(("req_authority", HOST));
    let ok_rfc = allowed("/lease/{lane}", Some("rfc9421"), Some("gpu-1"), &with_authority);
    let ok_legacy = allowed("/lease/{lane}", Some("legacy"), Some("gpu-1"), lease_facts);
    let route = Some("/lease/{lane}");
    let auth = |code: &str| refused(401, code, route, None);

    // the two profiles
    decide(
        "RFC 9421: a request signed by core's signer is allowed, with its facts",
        &both,
        vec![step(&fx.signed(lease(), Rfc9421, "n-1"))],
        vec![ok_rfc.clone()],
    );
    decide(
        "legacy X-EP-* headers (trust-core 0.1) are allowed; the host is not a fact (not signed)",
        &both,
        vec![step(&fx.signed(lease(), Legacy, "n-1"))],
        vec![ok_legacy.clone()],
    );
    let query_signed = fx.signed(Req::new("GET", "/jobs?tier=gold", b""), Legacy, "n-q");
    let proof = proof_from_headers(query_signed.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()))).unwrap();
    let query_target = format!(
        "/jobs?tier=gold&token={}&sig={}&ts={}&nonce={}",
        proof.token, proof.signature, proof.timestamp, proof.nonce
    );
    decide(
        "legacy query parameters: the holder signed the target without them; they are not facts",
        &both,
        vec![step(&Req::new("GET", &query_target, b""))],
        vec![allowed(
            "/jobs",
            Some("legacy"),
            Some("gpu-1"),
            &[("req_method", "GET"), ("req_path", "/jobs"), ("req_route", "/jobs"), ("req_query_tier", "gold")],
        )],
    );
    decide(
        "a verifier that takes only RFC 9421 refuses the legacy headers",
        &verifier(&["rfc9421"]),
        vec![step(&fx.signed(lease(), Legacy, "n-1"))],
        vec![auth("MALFORMED_INPUT")],
    );
    decide(
        "a verifier that takes only the legacy profile refuses an RFC 9421 signature",
        &verifier(&["legacy"]),
        vec![step(&fx.signed(lease(), Rfc9421, "n-1"))],
        vec![auth("MALFORMED_INPUT")],
    );
    decide(
        "a signature with alg=\"ed25519\" (optional) is allowed",
        &both,
        vec![step(&fx.hand_signed(
            lease(),
            &fx.holder,
            "sig1",
            &ALL,
            &format!("{};alg=\"ed25519\"", fx.params("n-1")),
        ))],
        vec![ok_rfc.clone()],
    );
    decide(
        "a signature under another label, with more components than required, is allowed",
        &both,
        vec![step(&fx.hand_signed(
            lease().header("Content-Type", "application/json"),
            &fx.holder,
            "mine",
            &["content-type", "@query", "@path", "@authority", "@method", "content-digest", "authorization"],
            &fx.params("n-1"),
        ))],
        vec![ok_rfc.clone()],
    );

    // replay: one nonce per holder, across profiles
    let once = fx.signed(lease(), Rfc9421, "n-1");
    decide(
        "the same signed request twice: the second is REPLAYED",
        &both,
        vec![step(&once), step(&once)],
        vec![ok_rfc.clone(), auth("REPLAYED")],
    );
    decide(
        "a nonce used with the legacy profile is spent for RFC 9421 too",
        &both,
        vec![step(&fx.signed(lease(), Legacy, "n-1")), step(&fx.signed(lease(), Rfc9421, "n-1"))],
        vec![ok_legacy.clone(), auth("REPLAYED")],
    );

    // each required component and parameter missing in turn
    for missing in ALL {
        let covered: Vec<&str> = ALL.iter().copied().filter(|c| *c != missing).collect();
        decide(
            &format!("a trustcore signature that does not cover {missing} is refused"),
            &both,
            vec![step(&fx.hand_signed(lease(), &fx.holder, "tc", &covered, &fx.params("n-1")))],
            vec![auth("MALFORMED_INPUT")],
        );
    }
    let keyid = fx.keyid();
    for (missing, params) in [
        ("created", format!(";keyid=\"{keyid}\";nonce=\"n-1\";tag=\"trustcore\"")),
        ("nonce", format!(";created={CREATED};keyid=\"{keyid}\";tag=\"trustcore\"")),
        ("keyid", format!(";created={CREATED};nonce=\"n-1\";tag=\"trustcore\"")),
        (
            "tag (then there is no trustcore signature and no legacy header)",
            format!(";created={CREATED};keyid=\"{keyid}\";nonce=\"n-1\""),
        ),
    ] {
        decide(
            &format!("a signature without {missing} is refused"),
            &both,
            vec![step(&fx.hand_signed(lease(), &fx.holder, "tc", &ALL, &params))],
            vec![auth("MALFORMED_INPUT")],
        );
    }
    decide(
        "alg other than ed25519 is refused",
        &both,
        vec![step(&fx.hand_signed(
            lease(),
            &fx.holder,
            "tc",
            &ALL,
            &format!("{};alg=\"rsa-pss-sha512\"", fx.params("n-1")),
        ))],
        vec![auth("MALFORMED_INPUT")],
    );
    decide(
        "created written as a string is refused",
        &both,
        vec![step(&fx.hand_signed(
            lease(),
            &fx.holder,
            "tc",
            &ALL,
            &format!(";created=\"{CREATED}\";keyid=\"{keyid}\";nonce=\"n-1\";tag=\"trustcore\""),
        ))],
        vec![auth("MALFORMED_INPUT")],
    );

    // audience, key, digest, clock
    decide(
        "a signature made for another authority is WRONG_AUDIENCE",
        &both,
        vec![step(&fx.signed(lease().replace("Host", "billing.example.com"), Rfc9421, "n-1"))],
        vec![auth("WRONG_AUDIENCE")],
    );
    decide(
        "an authority is compared in lower case; a port names another authority",
        &both,
        vec![
            step(&fx.signed(lease().replace("Host", "API.Example.com:8443"), Rfc9421, "n-1")),
            step(&fx.signed(lease().replace("Host", "api.example.com:9000"), Rfc9421, "n-2")),
        ],
        vec![
            {
                let mut facts = lease_facts.to_vec();
                facts.push(("req_authority", "api.example.com:8443"));
                allowed("/lease/{lane}", Some("rfc9421"), Some("gpu-1"), &facts)
            },
            auth("WRONG_AUDIENCE"),
        ],
    );
    let thief_keyid = jwk_thumbprint(&thief.public_key());
    decide(
        "a keyid that is not the thumbprint of the bound key is POP_FAILED",
        &both,
        vec![step(&fx.hand_signed(
            lease(),
            &fx.holder,
            "tc",
            &ALL,
            &format!(";created={CREATED};keyid=\"{thief_keyid}\";nonce=\"n-1\";tag=\"trustcore\""),
        ))],
        vec![auth("POP_FAILED")],
    );
    decide(
        "a signature by another key (naming the bound key) is POP_FAILED",
        &both,
        vec![step(&fx.hand_signed(lease(), &thief, "tc", &ALL, &fx.params("n-1")))],
        vec![auth("POP_FAILED")],
    );
    let mut tampered = fx.signed(lease(), Rfc9421, "n-1");
    tampered.body = br#"{"episode":"e2"}"#.to_vec();
    decide(
        "a body that does not match the signed Content-Digest is POP_FAILED",
        &both,
        vec![step(&tampered)],
        vec![auth("POP_FAILED")],
    );
    let sha512 = "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:";
    let hello = || Req::new("POST", "/lease/a", br#"{"hello": "world"}"#);
    let with_512 = {
        let req = hello().header("Authorization", &format!("Biscuit {}", fx.token)).header("Content-Digest", sha512);
        let req = req.header(
            "Signature-Input",
            &format!(
                "tc=(\"@method\" \"@authority\" \"@path\" \"@query\" \"authorization\" \"content-digest\"){}",
                fx.params("n-1")
            ),
        );
        let base = req.with_pairs(|r| signature_base(r, "tc")).unwrap();
        req.header("Signature", &format!("tc=:{}:", STANDARD.encode(fx.holder.sign(&base))))
    };
    decide("a sha-512 Content-Digest is checked and accepted", &both, vec![step(&with_512)], vec![ok_rfc.clone()]);
    decide(
        "an empty body still needs its Content-Digest (covered and checked)",
        &both,
        vec![
            step(&fx.signed(Req::new("POST", "/lease/a", b""), Rfc9421, "n-1")),
            step(&fx.signed(Req::new("POST", "/lease/a", b""), Rfc9421, "n-2").without("Content-Digest")),
        ],
        vec![ok_rfc.clone(), auth("MALFORMED_INPUT")],
    );
    decide(
        "a signature created past the skew is STALE_REQUEST",
        &both,
        vec![
            step(&fx.signed_at(lease(), Rfc9421, "n-1", CREATED - 301)),
            step(&fx.signed_at(lease(), Rfc9421, "n-2", CREATED + 301)),
        ],
        vec![auth("STALE_REQUEST"), auth("STALE_REQUEST")],
    );
    let expired =
        format!(";created={};keyid=\"{keyid}\";nonce=\"n-1\";tag=\"trustcore\";expires={}", CREATED - 100, CREATED - 1);
    decide(
        "an expired signature (expires before now, created within the skew) is STALE_REQUEST",
        &both,
        vec![step(&fx.hand_signed(lease(), &fx.holder, "tc", &ALL, &expired))],
        vec![auth("STALE_REQUEST")],
    );
    let backwards =
        format!(";created={CREATED};keyid=\"{keyid}\";nonce=\"n-1\";tag=\"trustcore\";expires={}", CREATED - 1);
    decide(
        "a signature that expires before it was created is refused",
        &both,
        vec![step(&fx.hand_signed(lease(), &fx.holder, "tc", &ALL, &backwards))],
        vec![auth("MALFORMED_INPUT")],
    );
    decide(
        "a signature whose expires is still ahead is allowed",
        &both,
        vec![step(&fx.hand_signed(
            lease(),
            &fx.holder,
            "tc",
            &ALL,
            &format!("{};expires={}", fx.params("n-1"), CREATED + 60),
        ))],
        vec![ok_rfc.clone()],
    );
    let mut moved = fx.signed(lease(), Rfc9421, "n-1");
    moved.target = "/lease/b".into();
    decide(
        "a request signed for /lease/a sent to /lease/b is POP_FAILED",
        &both,
        vec![step(&moved)],
        vec![auth("POP_FAILED")],
    );
    let mut requery = fx.signed(Req::new("GET", "/jobs?tier=gold", b""), Rfc9421, "n-1");
    requery.target = "/jobs?tier=gold&x=1".into();
    decide(
        "a query parameter added after signing is POP_FAILED",
        &both,
        vec![step(&requery)],
        vec![refused(401, "POP_FAILED", Some("/jobs"), None)],
    );

    // several signatures
    let gateway = WorkerKey::from_secret_hex(&seed("gateway")).unwrap();
    let two = {
        let req = fx.signed(lease(), Rfc9421, "n-1");
        let req = req.header("Signature-Input", "gw=(\"@method\" \"@path\");created=1700000000;keyid=\"gateway\"");
        let base = req.with_pairs(|r| signature_base(r, "gw")).unwrap();
        req.header("Signature", &format!("gw=:{}:", STANDARD.encode(gateway.sign(&base))))
    };
    decide("a gateway's signature beside the trustcore one is ignored", &both, vec![step(&two)], vec![ok_rfc.clone()]);
    let twice = {
        let req = fx.hand_signed(lease(), &fx.holder, "a", &ALL, &fx.params("n-1"));
        let req = req.header(
            "Signature-Input",
            &format!(
                "b=(\"@method\" \"@authority\" \"@path\" \"@query\" \"authorization\" \"content-digest\"){}",
                fx.params("n-2")
            ),
        );
        let base = req.with_pairs(|r| signature_base(r, "b")).unwrap();
        req.header("Signature", &format!("b=:{}:", STANDARD.encode(fx.holder.sign(&base))))
    };
    decide("two signatures tagged trustcore are refused", &both, vec![step(&twice)], vec![auth("MALFORMED_INPUT")]);
    decide(
        "no credentials on a guarded route is MALFORMED_INPUT (401)",
        &both,
        vec![step(&lease())],
        vec![auth("MALFORMED_INPUT")],
    );
    decide(
        "two Authorization headers are refused",
        &both,
        vec![step(&fx.signed(lease(), Rfc9421, "n-1").header("Authorization", "Biscuit x"))],
        vec![auth("MALFORMED_INPUT")],
    );
    decide(
        "a header value holding CR LF, NUL, or a name that is not a token, is refused (400), covered or not",
        &both,
        vec![
            step(&fx.signed(lease(), Rfc9421, "n-1").header("X-Note", "a\r\nAuthorization: Biscuit x")),
            step(&fx.signed(lease(), Rfc9421, "n-2").header("X-Note", "a\u{0}b")),
            step(&fx.signed(lease(), Rfc9421, "n-3").header("X Note", "a")),
        ],
        vec![
            refused(400, "MALFORMED_INPUT", None, None),
            refused(400, "MALFORMED_INPUT", None, None),
            refused(400, "MALFORMED_INPUT", None, None),
        ],
    );
    decide(
        "a Content-Length that is not the body's length (cut short, running long, not decimal) is refused (400); the right one is allowed",
        &both,
        vec![
            step(&fx.signed(lease(), Rfc9421, "n-1").header("Content-Length", "40")),
            step(&fx.signed(lease(), Rfc9421, "n-2").header("Content-Length", "1")),
            step(&fx.signed(lease(), Rfc9421, "n-3").header("Content-Length", "+16")),
            step(&{
                let signed = fx.signed(lease(), Rfc9421, "n-4");
                let length = signed.body.len().to_string();
                signed.header("Content-Length", &length)
            }),
        ],
        vec![
            refused(400, "MALFORMED_INPUT", None, None),
            refused(400, "MALFORMED_INPUT", None, None),
            refused(400, "MALFORMED_INPUT", None, None),
            ok_rfc.clone(),
        ],
    );

    // tokens
    decide(
        "a token of another issuer is TOKEN_INVALID",
        &both,
        vec![step(&foreign.signed(lease(), Rfc9421, "n-1"))],
        vec![auth("TOKEN_INVALID")],
    );
    let mut revoked = both.clone();
    revoked["revoked_ids"] = json!(["rev-http-1"]);
    decide(
        "a revoked token is REVOKED, in both profiles",
        &revoked,
        vec![step(&fx.signed(lease(), Rfc9421, "n-1")), step(&fx.signed(lease(), Legacy, "n-2"))],
        vec![auth("REVOKED"), auth("REVOKED")],
    );

    // routes, facts and policies
    decide(
        "a public route needs no credentials and gets its facts",
        &both,
        vec![step(&Req::new("GET", "/health?verbose=1", b""))],
        vec![allowed(
            "/health",
            None,
            None,
            &[("req_method", "GET"), ("req_path", "/health"), ("req_route", "/health"), ("req_query_verbose", "1")],
        )],
    );
    decide(
        "an unmatched route is DENIED (403), credentials unread",
        &both,
        vec![
            step(&Req::new("GET", "/nowhere", b"")),
            step(&fx.signed(Req::new("DELETE", "/lease/a", b""), Rfc9421, "n-1")),
        ],
        vec![refused(403, "DENIED", None, None), refused(403, "DENIED", None, None)],
    );
    decide(
        "methods are case-sensitive: get matches no GET route",
        &both,
        vec![step(&Req::new("get", "/health", b""))],
        vec![refused(403, "DENIED", None, None)],
    );
    decide(
        "a valid holder without the right is DENIED by the route's policy",
        &both,
        vec![step(&fx.signed(Req::new("GET", "/admin", b""), Rfc9421, "n-1"))],
        vec![refused(403, "DENIED", Some("/admin"), Some("rfc9421"))],
    );
    decide(
        "a path parameter the token does not grant is DENIED",
        &both,
        vec![step(&fx.signed(Req::new("POST", "/lease/b", b"{}"), Rfc9421, "n-1"))],
        vec![refused(403, "DENIED", Some("/lease/{lane}"), Some("rfc9421"))],
    );
    decide(
        "query parameters become req_query_ facts (values as sent)",
        &both,
        vec![
            step(&fx.signed(Req::new("GET", "/jobs?tier=gold&bad-name=1", b""), Rfc9421, "n-1")),
            step(&fx.signed(Req::new("GET", "/jobs?tier=silver", b""), Rfc9421, "n-2")),
        ],
        vec![
            allowed(
                "/jobs",
                Some("rfc9421"),
                Some("gpu-1"),
                &[
                    ("req_method", "GET"),
                    ("req_path", "/jobs"),
                    ("req_route", "/jobs"),
                    ("req_query_tier", "gold"),
                    ("req_authority", HOST),
                ],
            ),
            refused(403, "DENIED", Some("/jobs"), Some("rfc9421")),
        ],
    );
    let audited = || fx.signed(Req::new("POST", "/audited", b"{}"), Rfc9421, "n-1");
    decide(
        "the application's facts reach the policy",
        &both,
        vec![step_facts(&audited(), &[("req_team", "blue")])],
        vec![allowed(
            "/audited",
            Some("rfc9421"),
            Some("gpu-1"),
            &[
                ("req_method", "POST"),
                ("req_path", "/audited"),
                ("req_route", "/audited"),
                ("req_authority", HOST),
                ("req_team", "blue"),
            ],
        )],
    );
    decide(
        "an application fact that is not granted is DENIED",
        &both,
        vec![step_facts(&audited(), &[("req_team", "red")])],
        vec![refused(403, "DENIED", Some("/audited"), Some("rfc9421"))],
    );
    decide(
        "an application fact may not take a name core derives (the call fails)",
        &both,
        vec![step_facts(&audited(), &[("req_method", "GET")]), step_facts(&audited(), &[("team", "blue")])],
        vec![err("MALFORMED_INPUT"), err("MALFORMED_INPUT")],
    );
    decide(
        "req_authority exists only when signed: RFC 9421 allowed, legacy DENIED",
        &both,
        vec![
            step(&fx.signed(Req::new("GET", "/host", b""), Rfc9421, "n-1")),
            step(&fx.signed(Req::new("GET", "/host", b""), Legacy, "n-2")),
        ],
        vec![
            allowed(
                "/host",
                Some("rfc9421"),
                Some("gpu-1"),
                &[("req_method", "GET"), ("req_path", "/host"), ("req_route", "/host"), ("req_authority", HOST)],
            ),
            refused(403, "DENIED", Some("/host"), Some("legacy")),
        ],
    );
    decide(
        "a body over the policy's max_body_bytes is 413, before anything else",
        &both,
        vec![step(&fx.signed(Req::new("POST", "/lease/a", &[b'x'; 4097]), Rfc9421, "n-1"))],
        vec![refused(413, "LIMIT_EXCEEDED", None, None)],
    );

    // paths two routers could read apart: each refused (400) before any route, signed or not
    for path in [
        "/lease/../admin",
        "/lease/%2e%2e/admin",
        "/lease/%2E%2E/admin",
        "//admin",
        "/lease/a%2Fb",
        "/lease/a%2fb",
        "/lease/./a",
        "/lease/a/",
        "/lease/a;x",
        "/lease/a%5Cb",
        "/lease/a\\b",
        "/lease/a%00",
        "/lease/a%252e",
        "/lease/%zz",
    ] {
        decide(
            &format!("the path {path} is refused (400)"),
            &both,
            vec![step(&fx.signed(Req::new("POST", path, b"{}"), Legacy, "n-1"))],
            vec![refused(400, "MALFORMED_INPUT", None, None)],
        );
    }
    for target in ["*", "http://api.example.com/lease/a", "lease/a"] {
        decide(
            &format!("the target {target} (not origin form) is refused (400)"),
            &both,
            vec![step(&Req::new("POST", target, b"{}"))],
            vec![refused(400, "MALFORMED_INPUT", None, None)],
        );
    }
    decide(
        "Host with the default port :443 (or :80) is the same authority (RFC 9421 §2.2.3)",
        &both,
        vec![
            step(&fx.signed(lease().replace("Host", "api.example.com:443"), Rfc9421, "n-1")),
            step(&fx.signed(lease().replace("Host", "API.example.com:80"), Rfc9421, "n-2")),
        ],
        vec![ok_rfc.clone(), ok_rfc.clone()],
    );
    decide(
        "a percent-escape of an ordinary byte is kept as sent and matched on those bytes",
        &both,
        vec![step(&fx.signed(Req::new("POST", "/lease/%61", b"{}"), Rfc9421, "n-1"))],
        vec![refused(403, "DENIED", Some("/lease/{lane}"), Some("rfc9421"))],
    );

    // a check the holder appended names a request fact the route's policy does not: it still holds
    let narrowed = {
        let key =
            biscuit_auth::PublicKey::from_bytes(fx.issuer.public_key().as_bytes(), biscuit_auth::Algorithm::Ed25519)
                .unwrap();
        let block = biscuit_auth::BlockBuilder::new().code("check if req_path(\"/jobs\")").unwrap();
        let parsed = biscuit_auth::Biscuit::from_base64(&fx.token, key).unwrap();
        parsed.append_with_keypair(&next.next_key_pair(), block).unwrap().to_base64().unwrap()
    };
    let narrowed = Fx { token: narrowed, issuer: fx.issuer.clone(), holder: fx.holder.clone() };
    decide(
        "an appended check on req_path (a fact the route's policy does not name) narrows the token",
        &both,
        vec![
            step(&narrowed.signed(lease(), Rfc9421, "n-1")),
            step(&narrowed.signed(Req::new("GET", "/jobs?tier=gold", b""), Rfc9421, "n-2")),
        ],
        vec![
            refused(403, "DENIED", Some("/lease/{lane}"), Some("rfc9421")),
            allowed(
                "/jobs",
                Some("rfc9421"),
                Some("gpu-1"),
                &[
                    ("req_method", "GET"),
                    ("req_path", "/jobs"),
                    ("req_route", "/jobs"),
                    ("req_query_tier", "gold"),
                    ("req_authority", HOST),
                ],
            ),
        ],
    );

    // the route policy document
    for (description, policy, expect) in [
        ("the sample policy reads", POLICY.to_owned(), json!({"routes": 6, "max_body_bytes": 4096})),
        ("max_body_bytes defaults to 1 MiB", r#"{"routes": []}"#.to_owned(), json!({"routes": 0, "max_body_bytes": 1048576})),
        ("an unknown key is refused", r#"{"routes": [{"method": "GET", "path": "/a", "public": true, "alow": "x"}]}"#.to_owned(), err("MALFORMED_INPUT")),
        ("a route with neither allow nor public is refused", r#"{"routes": [{"method": "GET", "path": "/a"}]}"#.to_owned(), err("MALFORMED_INPUT")),
        ("an allow policy that does not parse is refused", r#"{"routes": [{"method": "GET", "path": "/a", "allow": "allow if ("}]}"#.to_owned(), err("MALFORMED_INPUT")),
        ("a template with a dot segment is refused", r#"{"routes": [{"method": "GET", "path": "/a/../b", "public": true}]}"#.to_owned(), err("MALFORMED_INPUT")),
        ("a route given twice is refused", r#"{"routes": [{"method": "GET", "path": "/{x}", "public": true}, {"method": "GET", "path": "/{y}", "public": true}]}"#.to_owned(), err("MALFORMED_INPUT")),
        ("a lower-case method is refused", r#"{"routes": [{"method": "get", "path": "/a", "public": true}]}"#.to_owned(), err("MALFORMED_INPUT")),
        ("a repeated key is refused", r#"{"routes": [], "routes": []}"#.to_owned(), err("MALFORMED_INPUT")),
    ] {
        suite.case(description, "http_policy", json!({"policy": policy}), expect);
    }

    // the signing side: Ed25519 is deterministic, so the headers are fixed bytes
    let sign_case = |suite: &mut Suite,
                     description: &str,
                     url: &str,
                     headers: &[(&str, &str)],
                     profile: HttpProfile| {
        let request = SignRequest {
            method: "POST",
            url,
            headers,
            body: b"{}",
            profile,
            created: Some(CREATED),
            nonce: Some("n-sign"),
        };
        let added = sign_request(&fx.holder, &fx.token, &request).unwrap();
        let pairs: Vec<Value> = headers.iter().map(|(n, v)| json!([n, v])).collect();
        let added: Vec<Value> = added.iter().map(|(n, v)| json!([n, v])).collect();
        suite.case(description, "http_sign",
            json!({"holder_secret_hex": seed("worker"), "token": fx.token, "method": "POST", "url": url, "headers": pairs,
                   "body_hex": "7b7d", "profile": profile.name(), "created": CREATED, "nonce": "n-sign"}),
            json!({"headers": added}));
    };
    sign_case(
        &mut suite,
        "RFC 9421 headers for a full URL (default port dropped, host lower-cased)",
        "https://API.example.com:443/lease/a?x=1",
        &[],
        Rfc9421,
    );
    sign_case(
        &mut suite,
        "RFC 9421 headers for an origin-form target and its Host",
        "/lease/a",
        &[("Host", "api.example.com:8443")],
        Rfc9421,
    );
    sign_case(
        &mut suite,
        "legacy headers sign the target with its query",
        "http://api.example.com/lease/a?x=1",
        &[],
        Legacy,
    );
    sign_case(
        &mut suite,
        "a URL's path and query are signed as written (no WHATWG rewriting of quotes or escapes)",
        "https://api.example.com/lease/a?q=it's&r=\"x\"&s=%7e",
        &[],
        Rfc9421,
    );
    let bad = json!({"holder_secret_hex": seed("worker"), "token": fx.token, "method": "POST", "url": "/lease/a", "headers": [],
        "body_hex": "", "profile": "rfc9421", "created": CREATED, "nonce": "n-sign"});
    suite.case(
        "an origin-form target without Host cannot be signed for RFC 9421",
        "http_sign",
        bad.clone(),
        err("MALFORMED_INPUT"),
    );
    let mut unknown = bad.clone();
    unknown["profile"] = json!("dpop");
    unknown["url"] = json!("https://api.example.com/lease/a");
    suite.case("an unknown profile is refused", "http_sign", unknown, err("MALFORMED_INPUT"));
    let mut userinfo = bad;
    userinfo["url"] = json!("https://user:pw@api.example.com/lease/a");
    suite.case("a URL with user info is refused", "http_sign", userinfo, err("MALFORMED_INPUT"));

    // the generic RFC 9421 functions on a trustcore request
    let signed = fx.signed(lease(), Rfc9421, "n-1");
    let base = signed.with_pairs(|r| signature_base(r, "tc")).unwrap();
    suite.case(
        "the signature base of a trustcore request",
        "http_signature_base",
        json!({"request": signed.json(), "label": "tc"}),
        json!({"base": String::from_utf8(base).unwrap()}),
    );
    suite.case(
        "the signature base of a label that is not there",
        "http_signature_base",
        json!({"request": signed.json(), "label": "nope"}),
        err("MALFORMED_INPUT"),
    );
    suite.case(
        "verify a trustcore signature with the holder key",
        "http_verify_signature",
        json!({"request": signed.json(), "label": "tc", "public_hex": fx.holder.public_hex()}),
        json!({}),
    );
    suite.case(
        "the same with another key is POP_FAILED",
        "http_verify_signature",
        json!({"request": signed.json(), "label": "tc", "public_hex": thief.public_hex()}),
        err("POP_FAILED"),
    );

    suite.write(
        "HTTP: RFC 9421 and legacy proofs through the decision function, the route policy, the path tricks, signing",
        None,
    );
}
