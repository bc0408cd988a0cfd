//! The Rust core's harness for `make bench` (impl `rust`): the fixture, operations and timing loop
//! of bench/README.md, one JSON line per figure, so every binding's figures compare with these.
//!
//! usage: bench OUT.jsonl   (`-` for standard output; progress on standard error)
//! The signer op starts `$TRUSTCORE_BIN signer serve` (target/release/trustcore by default); the
//! Redis op starts a redis-server on a free loopback port. Both are killed at the end.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use trustcore_core::http::{sign_request, HttpPolicy, HttpProfile, HttpRequest, SignRequest};
use trustcore_core::signer::{protocol::request_frame, Op};
use trustcore_core::signer::{Peer, SignerPolicy, SignerService};
use trustcore_core::*;
use trustcore_tools::testenv::{RedisCluster, RedisServer, Signer};

const NOW: f64 = 1_700_000_000.0;
const TIMESTAMP: &str = "1700000000";
const SAMPLES: usize = 21;
const ALLOW: &str = "allow if req_operation(\"lease\"), lane(\"transcribe\")";
const FACTS: [(&str, &str); 1] = [("req_operation", "lease")];
const HTTP_AUTHORITY: &str = "bench.example";
/// The route policy of the HTTP ops: the fixture's allow policy on `POST /lease`.
const HTTP_POLICY: &str = r#"{"routes": [{"method": "POST", "path": "/lease", "allow": "allow if req_operation(\"lease\"), lane(\"transcribe\")"}]}"#;

type Res<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

struct Out(Box<dyn Write>);

impl Out {
    fn line(&mut self, value: Value) -> Res<()> {
        writeln!(self.0, "{value}")?;
        self.0.flush()?;
        Ok(())
    }

    /// bench/README.md's loop: warm up 0.2 s, `k` calls per ~10 ms sample, 21 samples; `pool` caps
    /// the calls when each consumes a proof made before timing.
    fn measure(&mut self, op: &str, pool: Option<usize>, per: usize, call: impl FnMut() -> Res<()>) -> Res<()> {
        self.measure_together(vec![(op, pool, per, Box::new(call))])
    }

    /// The same loop for several ops at once, their samples taken in turn: ratios between them (the
    /// floor goal) then compare figures from the same moments of a machine whose speed drifts.
    fn measure_together(&mut self, ops: Vec<Timed<'_>>) -> Res<()> {
        self.measure_together_noting(ops, &[])
    }

    /// [`Out::measure_together`], the row of op `i` carrying the fields of `notes[i]` too (what the
    /// figure was measured on, e.g. a token's length).
    fn measure_together_noting(&mut self, mut ops: Vec<Timed<'_>>, notes: &[Map<String, Value>]) -> Res<()> {
        let mut ks = Vec::new();
        for (_, pool, _, call) in &mut ops {
            let warm_cap = pool.map_or(usize::MAX, |p| p / 5);
            let start = Instant::now();
            let mut calls = 0usize;
            while calls < 3 || (start.elapsed() < Duration::from_millis(200) && calls < warm_cap) {
                call()?;
                calls += 1;
            }
            let per_call = start.elapsed().as_secs_f64() / calls as f64;
            let mut k = ((0.010 / per_call).round() as usize).max(1);
            if let Some(pool) = pool {
                k = k.min((*pool - calls) / SAMPLES).max(1);
            }
            ks.push(k);
        }
        let mut times = vec![Vec::with_capacity(SAMPLES); ops.len()];
        for _ in 0..SAMPLES {
            for (i, (_, _, per, call)) in ops.iter_mut().enumerate() {
                let t = Instant::now();
                for _ in 0..ks[i] {
                    call()?;
                }
                times[i].push(t.elapsed().as_nanos() as f64 / (ks[i] * *per) as f64);
            }
        }
        for (i, ((op, ..), (mut times, k))) in ops.iter().zip(times.into_iter().zip(ks)).enumerate() {
            times.sort_by(f64::total_cmp);
            eprintln!("rust {op}: {:.1} us", times[SAMPLES / 2] / 1000.0);
            let mut row = json!({"impl": "rust", "op": op, "unit": "ns", "median": times[SAMPLES / 2], "min": times[0],
                "max": times[SAMPLES - 1], "samples": SAMPLES, "k": k});
            if let (Value::Object(row), Some(note)) = (&mut row, notes.get(i)) {
                row.extend(note.clone());
            }
            self.line(row)?;
        }
        Ok(())
    }
}

/// One op of [`Out::measure_together`]: name, proof pool, requests per call, the call.
type Timed<'a> = (&'a str, Option<usize>, usize, Box<dyn FnMut() -> Res<()> + 'a>);

/// The cached per-request path as a timed call (every `per_request_*` op): the next proof of
/// `proofs`, each used once, through `verifier`'s authenticate, then its check_policy.
fn per_request<'a>(
    verifier: &'a Verifier,
    proofs: &'a [WorkerProof],
    request: &'a Request<'a>,
) -> Box<dyn FnMut() -> Res<()> + 'a> {
    let mut next = proofs.iter();
    Box::new(move || {
        let verified = verifier.authenticate(next.next().ok_or("proof pool exhausted")?, request, Some(NOW))?;
        Ok(verifier.check_policy(&verified.token, FACTS, ALLOW, Some(NOW))?)
    })
}

struct Fixture {
    issuer: IssuerKey,
    holder: WorkerKey,
    trusted: IssuerKeys,
    mint: MintRequest,
    token: String,
    bodies: Vec<(&'static str, Vec<u8>)>,
}

impl Fixture {
    fn new() -> Res<Self> {
        let issuer = IssuerKey::from_secret_hex(&"11".repeat(32))?;
        let holder = WorkerKey::from_secret_hex(&"22".repeat(32))?;
        let mint = MintRequest {
            public_hex: holder.public_hex(),
            holder_id: "gpu-1".into(),
            facts: vec![("lane".into(), vec!["transcribe".into(), "gpu".into()])],
            revocation_id: Some("rev-1".into()),
            expires_at: NOW + 3600.0,
            root_key_id: None,
            delegation_depth: 0,
        };
        let token = mint_biscuit(&issuer, &mint)?;
        let bodies = vec![("2B", b"{}".to_vec()), ("1KiB", vec![b'x'; 1024]), ("1MiB", vec![b'x'; 1 << 20])];
        Ok(Fixture { trusted: IssuerKeys::one(issuer.public_key()), issuer, holder, mint, token, bodies })
    }

    /// Proofs with nonces of their own (a Verifier accepts each once), made before timing.
    fn proofs(&self, body: &[u8], count: usize, tag: &str) -> Res<Vec<WorkerProof>> {
        let request = Request::new("POST", "/lease", body);
        Ok((0..count)
            .map(|i| make_proof(&self.holder, &self.token, &request, TIMESTAMP, &format!("{tag}-{i}")))
            .collect::<Result<_>>()?)
    }

    /// Signed HTTP requests (`POST /lease` to `bench.example`, 1 KiB body) in `profile`, each with a
    /// nonce of its own, as header lines (the Host line first).
    fn http_requests(&self, profile: HttpProfile, count: usize, tag: &str) -> Res<Vec<Vec<(String, String)>>> {
        let body = vec![b'x'; 1024];
        let host = [("Host", HTTP_AUTHORITY)];
        (0..count)
            .map(|i| {
                let nonce = format!("{tag}-{i}");
                let request = SignRequest {
                    method: "POST",
                    url: "/lease",
                    headers: &host,
                    body: &body,
                    profile,
                    created: Some(NOW as i64),
                    nonce: Some(&nonce),
                };
                let mut lines = vec![("Host".to_owned(), HTTP_AUTHORITY.to_owned())];
                lines.extend(sign_request(&self.holder, &self.token, &request)?);
                Ok(lines)
            })
            .collect()
    }

    fn verifier(&self, pool: usize, redis: Option<RedisConfig>) -> Res<Verifier> {
        let mut config = VerifierConfig::new(self.trusted.clone());
        config.authorities = vec![HTTP_AUTHORITY.to_owned()];
        config.replay_capacity = pool.max(1000);
        // one holder sends every request of the fixture: its share is the whole store
        config.replay_capacity_per_holder = Some(config.replay_capacity);
        config.redis = redis;
        Ok(Verifier::new(config)?)
    }
}

fn pool_for(body: &str) -> usize {
    if body == "1MiB" {
        600
    } else {
        10_000
    }
}

fn main() -> Res<()> {
    let target = std::env::args().nth(1).ok_or("usage: bench OUT.jsonl (or -)")?;
    let mut out =
        Out(if target == "-" { Box::new(std::io::stdout()) } else { Box::new(std::fs::File::create(target)?) });
    let f = Fixture::new()?;
    // `BENCH_ONLY=hostile` / `delegation` / `redis`: those figures alone (a quick look; make bench runs all)
    match std::env::var("BENCH_ONLY").as_deref() {
        Ok("hostile") => return hostile_ops(&mut out, &f),
        Ok("delegation") => return delegation_ops(&mut out, &f),
        Ok("redis") => return redis_ops(&mut out, &f),
        _ => {}
    }
    let options = AuthenticateOptions::new(NOW, 300.0);
    let revoked: Vec<String> = Vec::new();
    let small = Request::new("POST", "/lease", b"{}");

    out.measure("mint", None, 1, || {
        mint_biscuit(&f.issuer, &f.mint)?;
        Ok(())
    })?;
    out.measure("make_proof", None, 1, || {
        make_proof(&f.holder, &f.token, &small, TIMESTAMP, "n-1")?;
        Ok(())
    })?;
    for (name, body) in &f.bodies {
        let request = Request::new("POST", "/lease", body);
        let proof = make_proof(&f.holder, &f.token, &request, TIMESTAMP, "n-1")?;
        out.measure(&format!("authenticate_uncached_{name}"), None, 1, || {
            authenticate(&f.trusted, &proof, &request, &revoked, &options)?;
            Ok(())
        })?;
    }
    for (name, body) in &f.bodies {
        let request = Request::new("POST", "/lease", body);
        let pool = pool_for(name);
        let proofs = f.proofs(body, pool, &format!("c{name}"))?;
        let verifier = f.verifier(pool, None)?;
        verifier.authenticate(&f.proofs(body, 1, "warm")?[0], &request, Some(NOW))?;
        let mut next = proofs.iter();
        out.measure(&format!("authenticate_cached_{name}"), Some(pool), 1, || {
            verifier.authenticate(next.next().ok_or("proof pool exhausted")?, &request, Some(NOW))?;
            Ok(())
        })?;
    }
    let proof = make_proof(&f.holder, &f.token, &small, TIMESTAMP, "n-1")?;
    let (parsed, _) = authenticate(&f.trusted, &proof, &small, &revoked, &options)?;
    out.measure("per_request_uncached", None, 1, || {
        let (token, _) = authenticate(&f.trusted, &proof, &small, &revoked, &options)?;
        Ok(check_policy(&token, FACTS, ALLOW, NOW, &options.limits)?)
    })?;

    // the floor goal's three figures, sample by sample in turn: per_request_cached over
    // floor_verify_strict + check_policy
    let key = f.holder.public_key();
    let message = small.canonical(TIMESTAMP, "n-1")?;
    let signature: [u8; 64] = hex::decode(&proof.signature)?.try_into().map_err(|_| "signature length")?;
    let proofs = f.proofs(b"{}", 10_000, "per_request_cached")?;
    let verifier = f.verifier(10_000, None)?;
    verifier.authenticate(&f.proofs(b"{}", 1, "per_request_cached-warm")?[0], &small, Some(NOW))?;
    // the HTTP decision in both profiles, sampled with per_request_cached for the HTTP goal's ratio
    let policy = HttpPolicy::from_json(HTTP_POLICY.as_bytes())?;
    let kilobyte = vec![b'x'; 1024];
    let decide = |verifier: &Verifier, lines: &[(String, String)]| -> Res<()> {
        let pairs: Vec<(&str, &str)> = lines.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let decision =
            verifier.decide(&HttpRequest::new("POST", "/lease", &pairs, &kilobyte), &policy, &FACTS, Some(NOW))?;
        if decision.allowed {
            Ok(())
        } else {
            Err(format!("refused: {:?} {}", decision.code, decision.message).into())
        }
    };
    let mut http = Vec::new();
    for (op, profile) in [("http_rfc9421_cached", HttpProfile::Rfc9421), ("http_legacy_cached", HttpProfile::Legacy)] {
        let verifier = f.verifier(10_000, None)?;
        decide(&verifier, &f.http_requests(profile, 1, &format!("{op}-warm"))?[0])?;
        http.push((op, verifier, f.http_requests(profile, 10_000, op)?));
    }
    let [(rfc_op, rfc_verifier, rfc_requests), (legacy_op, legacy_verifier, legacy_requests)] =
        <[_; 2]>::try_from(http).map_err(|_| "two profiles")?;
    let (mut next_rfc, mut next_legacy) = (rfc_requests.iter(), legacy_requests.iter());
    out.measure_together(vec![
        (rfc_op, Some(10_000), 1, Box::new(|| decide(&rfc_verifier, next_rfc.next().ok_or("request pool exhausted")?))),
        (
            legacy_op,
            Some(10_000),
            1,
            Box::new(|| decide(&legacy_verifier, next_legacy.next().ok_or("request pool exhausted")?)),
        ),
        ("check_policy", None, 1, Box::new(|| Ok(check_policy(&parsed, FACTS, ALLOW, NOW, &options.limits)?))),
        (
            "floor_verify_strict",
            None,
            1,
            Box::new(
                || if key.verify_strict(&message, &signature) { Ok(()) } else { Err("floor verify failed".into()) },
            ),
        ),
        ("per_request_cached", Some(10_000), 1, per_request(&verifier, &proofs, &small)),
    ])?;

    redis_ops(&mut out, &f)?;
    cluster_ops(&mut out, &f)?;
    delegation_ops(&mut out, &f)?;

    let job: Map<String, Value> =
        serde_json::from_str(r#"{"id":"job-1","kind":"transcribe","n":3,"url":"https://example.invalid/a.mp3"}"#)?;
    let sig = sign_job(&f.issuer, &job, "gpu-1")?;
    let mut signed = job.clone();
    signed.insert("sig".into(), Value::String(sig));
    let issuer_public = f.issuer.public_hex();
    out.measure("sign_job", None, 1, || {
        sign_job(&f.issuer, &job, "gpu-1")?;
        Ok(())
    })?;
    out.measure("verify_job", None, 1, || Ok(verify_job(&issuer_public, &signed, "gpu-1", None)?))?;

    signer_ops(&mut out, &f)?;
    hostile_ops(&mut out, &f)?;
    batch_ops(&mut out, &f)?;
    throughput(&mut out, &f)?;
    Ok(())
}

/// The per-request path (as `per_request_uncached` / `per_request_cached`: authenticate, then
/// check_policy) on the fixture token minted delegable twice, with 0, 1 and 2 delegation links
/// (docs/delegation.md): each link a third-party block signed by the holder before it, naming the
/// next key (seeds `44…44`, then `55…55`), with one narrowing check and an expiry 30 minutes before
/// the token's; the proof is the last holder's. The six are sampled in turn, so the differences
/// per link compare the same moments; each row carries `links` and `token_chars` (the token's
/// base64 length).
fn delegation_ops(out: &mut Out, f: &Fixture) -> Res<()> {
    const POOL: usize = 10_000;
    let small = Request::new("POST", "/lease", b"{}");
    let options = AuthenticateOptions::new(NOW, 300.0);
    let revoked: Vec<String> = Vec::new();
    let mut holders = vec![f.holder.clone()];
    let mut tokens = vec![mint_biscuit(&f.issuer, &MintRequest { delegation_depth: 2, ..f.mint.clone() })?];
    for (link, seed) in ["44", "55"].into_iter().enumerate() {
        let next = WorkerKey::from_secret_hex(&seed.repeat(32))?;
        let request = DelegateRequest {
            to_public_hex: next.public_hex(),
            to_holder_id: format!("agent-{}", link + 1),
            checks: "check if req_operation(\"lease\");".into(),
            expires_at: NOW + 1800.0,
        };
        tokens.push(delegate(&tokens[link], &holders[link], &request)?);
        holders.push(next);
    }
    let proofs = |links: usize, count: usize, tag: &str| -> Res<Vec<WorkerProof>> {
        Ok((0..count)
            .map(|i| make_proof(&holders[links], &tokens[links], &small, TIMESTAMP, &format!("{tag}-{i}")))
            .collect::<Result<_>>()?)
    };
    let mut uncached = Vec::new();
    let mut cached = Vec::new();
    for links in 0..tokens.len() {
        let proof = proofs(links, 1, "delegated-uncached")?.remove(0);
        // a refusal here (a chain the verifier does not accept) fails the harness before timing
        let (token, identity) = authenticate(&f.trusted, &proof, &small, &revoked, &options)?;
        check_policy(&token, FACTS, ALLOW, NOW, &options.limits)?;
        if identity.chain.len() != links + 1 {
            return Err(format!("{links} link(s), a chain of {}", identity.chain.len()).into());
        }
        uncached.push(proof);
        let verifier = f.verifier(POOL, None)?;
        verifier.authenticate(&proofs(links, 1, "delegated-warm")?[0], &small, Some(NOW))?;
        cached.push((verifier, proofs(links, POOL, &format!("delegated-{links}"))?));
    }
    let names: Vec<[String; 2]> =
        (0..tokens.len()).map(|n| [format!("delegated_{n}_cached"), format!("delegated_{n}_uncached")]).collect();
    let mut ops: Vec<Timed<'_>> = Vec::new();
    let mut notes = Vec::new();
    for (links, ((verifier, pool), proof)) in cached.iter().zip(&uncached).enumerate() {
        ops.push((&names[links][0], Some(POOL), 1, per_request(verifier, pool, &small)));
        ops.push((
            &names[links][1],
            None,
            1,
            Box::new(|| {
                let (token, _) = authenticate(&f.trusted, proof, &small, &revoked, &options)?;
                Ok(check_policy(&token, FACTS, ALLOW, NOW, &options.limits)?)
            }),
        ));
        let note = json!({"links": links, "token_chars": tokens[links].len()});
        notes.extend([note.clone(), note].into_iter().filter_map(|n| n.as_object().cloned()));
    }
    out.measure_together_noting(ops, &notes)
}

/// One mint over the daemon's socket, and the same frame through the daemon's dispatch in process.
fn signer_ops(out: &mut Out, f: &Fixture) -> Res<()> {
    let expires_at = now_seconds() + 3600.0;
    let service = SignerService::new(f.issuer.clone(), None, SignerPolicy::default(), None);
    let frame = request_frame(
        1,
        Op::Mint,
        json!({"public_hex": f.holder.public_hex(), "holder_id": "gpu-1", "facts": [["lane", ["gpu", "transcribe"]]],
               "revocation_id": "rev-1", "expires_at": expires_at})
        .as_object()
        .ok_or("mint args")?
        .clone(),
    );
    out.measure("signer_mint_in_process", None, 1, || {
        let answer = service.answer(&frame, &Peer::InProcess, now_seconds());
        answer.error.map_or(Ok(()), |e| Err(format!("signer refused: {e:?}").into()))
    })?;
    // $TRUSTCORE_BIN (the Makefile's release build), else the workspace's
    let bin = std::env::var_os("TRUSTCORE_BIN").unwrap_or_else(|| "target/release/trustcore".into());
    let daemon = Signer::start(bin.as_ref(), f.issuer.secret_hex().as_str(), false, &[])?;
    let client = SignerClient::new(SignerAddress::parse(&daemon.address())?, SignerClientOptions::default())?;
    let args = MintRequest {
        public_hex: f.holder.public_hex(),
        holder_id: "gpu-1".into(),
        facts: f.mint.facts.clone(),
        revocation_id: Some("rev-1".into()),
        root_key_id: None,
        expires_at,
        delegation_depth: 0,
    };
    out.measure("signer_mint_socket", None, 1, || {
        client.mint(&args)?;
        Ok(())
    })
}

/// Hostile tokens (bench/README.md): the keyless join bomb (20 facts, one rule joining five of them)
/// appended to a revoked token with a garbage proof, stateless and through a Verifier; the same block
/// on a valid token, authorized; a pathological regular expression over 900 facts, authorized. Each
/// is sampled in turn with a valid request (authenticate + check_policy, uncached), so the report's
/// ratios compare figures from the same moments. Then the memory that 1,000 refused 17 KB tokens
/// leave behind in a Verifier.
fn hostile_ops(out: &mut Out, f: &Fixture) -> Res<()> {
    let small = Request::new("POST", "/lease", b"{}");
    let options = AuthenticateOptions::new(NOW, 300.0);
    let none: Vec<String> = Vec::new();
    let revoked = vec!["rev-1".to_owned()];
    let thief = WorkerKey::from_secret_hex(&"33".repeat(32))?;
    let append = |code: String| -> Res<String> {
        let key =
            biscuit_auth::PublicKey::from_bytes(f.issuer.public_key().as_bytes(), biscuit_auth::Algorithm::Ed25519)?;
        let block = biscuit_auth::BlockBuilder::new().code(code)?;
        Ok(biscuit_auth::Biscuit::from_base64(&f.token, key)?.append(block)?.to_base64()?)
    };
    let facts: String = (0..20).map(|i| format!("f({i});")).collect();
    let bomb = append(format!("{facts} g($a) <- f($a), f($b), f($c), f($d), f($e), $a + $b + $c + $d + $e == -1;"))?;
    let strings: String = (0..900).map(|i| format!("s(\"a{i}\");")).collect();
    let regex = append(format!("{strings} check if s($x), $x.matches(\"(\\\\w{{200}}){{5}}\");"))?;
    let garbage = make_proof(&thief, &bomb, &small, TIMESTAMP, "n-1")?;
    let valid = make_proof(&f.holder, &f.token, &small, TIMESTAMP, "n-1")?;
    let (bomb_token, _) =
        authenticate(&f.trusted, &make_proof(&f.holder, &bomb, &small, TIMESTAMP, "n-1")?, &small, &none, &options)?;
    let (regex_token, _) =
        authenticate(&f.trusted, &make_proof(&f.holder, &regex, &small, TIMESTAMP, "n-1")?, &small, &none, &options)?;
    let mut config = VerifierConfig::new(f.trusted.clone());
    config.revoked_ids = revoked.clone();
    let verifier = Verifier::new(config)?;
    let expect = |outcome: Result<()>, code: ErrorCode| -> Res<()> {
        match outcome {
            Err(e) if e.code() == code => Ok(()),
            other => Err(format!("expected {code:?}, got {other:?}").into()),
        }
    };
    out.measure_together(vec![
        (
            "hostile_valid_reference",
            None,
            1,
            Box::new(|| {
                let (token, _) = authenticate(&f.trusted, &valid, &small, &none, &options)?;
                Ok(check_policy(&token, FACTS, ALLOW, NOW, &options.limits)?)
            }),
        ),
        (
            "hostile_token_refusal",
            None,
            1,
            Box::new(|| {
                expect(authenticate(&f.trusted, &garbage, &small, &revoked, &options).map(|_| ()), ErrorCode::Revoked)
            }),
        ),
        (
            "hostile_token_refusal_verifier",
            None,
            1,
            Box::new(|| expect(verifier.authenticate(&garbage, &small, Some(NOW)).map(|_| ()), ErrorCode::Revoked)),
        ),
        (
            "hostile_token_authorize",
            None,
            1,
            Box::new(|| {
                expect(check_policy(&bomb_token, FACTS, ALLOW, NOW, &options.limits), ErrorCode::LimitExceeded)
            }),
        ),
        (
            "hostile_regex_authorize",
            None,
            1,
            Box::new(|| {
                expect(check_policy(&regex_token, FACTS, ALLOW, NOW, &options.limits), ErrorCode::LimitExceeded)
            }),
        ),
    ])?;

    // 1,000 distinct revoked 17 KB tokens with garbage proofs through one Verifier
    let mut config = VerifierConfig::new(f.trusted.clone());
    config.revoked_ids = (0..1000).map(|i| format!("big-{i}")).collect();
    let verifier = Verifier::new(config)?;
    let tokens: Vec<WorkerProof> = (0..1000)
        .map(|i| {
            let mint = MintRequest {
                facts: vec![("pad".into(), vec!["p".repeat(12_500)])],
                revocation_id: Some(format!("big-{i}")),
                ..f.mint.clone()
            };
            make_proof(&thief, &mint_biscuit(&f.issuer, &mint)?, &small, TIMESTAMP, "n-1")
        })
        .collect::<Result<_>>()?;
    if tokens[0].token.len() < 17_000 {
        return Err(format!("hostile tokens of {} bytes, not 17 KB", tokens[0].token.len()).into());
    }
    let before = rss_kib()?;
    for proof in &tokens {
        expect(verifier.authenticate(proof, &small, Some(NOW)).map(|_| ()), ErrorCode::Revoked)?;
    }
    let grown = rss_kib()?.saturating_sub(before);
    eprintln!("rust hostile_refused_tokens_rss_growth: {grown} KiB");
    out.line(json!({"impl": "rust", "op": "hostile_refused_tokens_rss_growth", "unit": "KiB", "value": grown,
        "tokens": tokens.len(), "token_bytes": tokens[0].token.len()}))
}

/// This process's resident memory (VmRSS), KiB.
fn rss_kib() -> Res<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).ok_or("no VmRSS")?;
    Ok(line.split_whitespace().nth(1).ok_or("VmRSS")?.parse()?)
}

/// 64 requests one by one, then 64 as one batch, each on a Verifier of its own; per request.
fn batch_ops(out: &mut Out, f: &Fixture) -> Res<()> {
    batch_ops_on(out, f, None, "")
}

/// The cached per-request path on one Redis (a redis-server on a free loopback port), sampled in
/// turn with one PING, the store's script alone and the in-memory path; then batches on Redis.
fn redis_ops(out: &mut Out, f: &Fixture) -> Res<()> {
    let small = Request::new("POST", "/lease", b"{}");
    let redis = RedisServer::start()?;
    let mut redis_config = RedisConfig::new(redis.url());
    redis_config.key_prefix = "bench-rust:".into();
    let proofs = f.proofs(b"{}", 10_000, "per_request_cached_redis")?;
    let verifier = f.verifier(10_000, Some(redis_config.clone()))?;
    verifier.authenticate(&f.proofs(b"{}", 1, "per_request_cached_redis-warm")?[0], &small, Some(NOW))?;
    // the Redis path beside one round trip (a PING through the same store code) and the in-memory
    // path, sampled in turn: its goal is in-memory + 1.3 × the round trip
    let memory_proofs = f.proofs(b"{}", 10_000, "per_request_cached_beside_redis")?;
    let memory = f.verifier(10_000, None)?;
    memory.authenticate(&f.proofs(b"{}", 1, "per_request_cached_beside_redis-warm")?[0], &small, Some(NOW))?;
    let ping = RedisStore::new(redis_config.clone())?;
    let probe_counter = std::sync::atomic::AtomicU64::new(0);
    out.measure_together(vec![
        ("per_request_cached_redis", Some(10_000), 1, per_request(&verifier, &proofs, &small)),
        ("redis_ping", None, 1, Box::new(|| Ok(ping.ping()?))),
        (
            "redis_admission",
            None,
            1,
            Box::new(|| {
                let n = probe_counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let key = ReplayKey::new(&f.holder.public_key(), &format!("probe-{n}"));
                let ids =
                    ["0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".to_owned(), "rev-1".to_owned()];
                ping.admit(&key, &ids, 601.0, Deadline::after(std::time::Duration::from_secs(1)))?;
                Ok(())
            }),
        ),
        ("per_request_cached_beside_redis", Some(10_000), 1, per_request(&memory, &memory_proofs, &small)),
    ])?;
    batch_ops_on(out, f, Some(&redis_config), "_redis")?;
    drop(redis);
    Ok(())
}

/// The cached per-request path on a Redis Cluster (3 masters with a replica each, on this machine):
/// its script then `WAIT 1` in one pipeline, beside a PING to a master through the same store code.
/// What the replica's acknowledgement costs is the difference from `per_request_cached_redis`
/// minus one PING's difference.
fn cluster_ops(out: &mut Out, f: &Fixture) -> Res<()> {
    let small = Request::new("POST", "/lease", b"{}");
    let cluster = RedisCluster::start(3)?;
    let mut config = RedisConfig::cluster(cluster.urls());
    config.key_prefix = "bench-rust-cluster:".into();
    let proofs = f.proofs(b"{}", 10_000, "per_request_cached_redis_cluster")?;
    let verifier = f.verifier(10_000, Some(config.clone()))?;
    verifier.authenticate(&f.proofs(b"{}", 1, "per_request_cached_redis_cluster-warm")?[0], &small, Some(NOW))?;
    let ping = RedisStore::new(config)?;
    out.measure_together(vec![
        ("per_request_cached_redis_cluster", Some(10_000), 1, per_request(&verifier, &proofs, &small)),
        ("redis_cluster_ping", None, 1, Box::new(|| Ok(ping.ping()?))),
    ])
}

/// [`batch_ops`] on the stores of `redis` (None: in memory), the ops named with `suffix`: on
/// Redis, 64 round trips one by one against one pipeline.
fn batch_ops_on(out: &mut Out, f: &Fixture, redis: Option<&RedisConfig>, suffix: &str) -> Res<()> {
    const BATCH: usize = 64;
    let small = Request::new("POST", "/lease", b"{}");
    // on Redis fewer groups: each costs 64 round trips one by one
    let pool = if redis.is_some() { 100 * BATCH } else { 400 * BATCH };
    for (op, batched) in [("batch64_one_by_one", false), ("batch64", true)] {
        let op = format!("{op}{suffix}");
        let op = op.as_str();
        let proofs = f.proofs(b"{}", pool, op)?;
        let verifier = f.verifier(pool, redis.cloned())?;
        let mut groups = proofs.chunks(BATCH);
        out.measure(op, Some(pool / BATCH), BATCH, || {
            let group = groups.next().ok_or("proof pool exhausted")?;
            if batched {
                let batch: Vec<(&WorkerProof, Request)> = group.iter().map(|p| (p, small)).collect();
                for result in verifier.authenticate_batch(&batch, Some(NOW))? {
                    result?;
                }
            } else {
                for proof in group {
                    verifier.authenticate(proof, &small, Some(NOW))?;
                }
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// The per-request path on 1 and 2 threads for about a second each: requests per second.
fn throughput(out: &mut Out, f: &Fixture) -> Res<()> {
    let small = Request::new("POST", "/lease", b"{}");
    let options = AuthenticateOptions::new(NOW, 300.0);
    let proof = make_proof(&f.holder, &f.token, &small, TIMESTAMP, "n-1")?;
    for threads in [1usize, 2] {
        let (requests, seconds) = run_threads(threads, |_, deadline| {
            let revoked: Vec<String> = Vec::new();
            let mut n = 0;
            while Instant::now() < deadline {
                let (token, _) = authenticate(&f.trusted, &proof, &small, &revoked, &options)?;
                check_policy(&token, FACTS, ALLOW, NOW, &options.limits)?;
                n += 1;
            }
            Ok(n)
        })?;
        out.throughput("throughput_uncached", threads, requests, seconds)?;
    }
    for threads in [1usize, 2] {
        let per_thread = 40_000;
        let pools: Vec<Vec<WorkerProof>> =
            (0..threads).map(|t| f.proofs(b"{}", per_thread, &format!("t{threads}-{t}"))).collect::<Res<_>>()?;
        let verifier = Arc::new(f.verifier(threads * per_thread, None)?);
        verifier.authenticate(&f.proofs(b"{}", 1, &format!("t{threads}-warm"))?[0], &small, Some(NOW))?;
        let (requests, seconds) = run_threads(threads, |t, deadline| {
            for (n, proof) in pools[t].iter().enumerate() {
                if Instant::now() >= deadline {
                    return Ok(n as u64);
                }
                let verified = verifier.authenticate(proof, &small, Some(NOW))?;
                verifier.check_policy(&verified.token, FACTS, ALLOW, Some(NOW))?;
            }
            Err("throughput proof pool exhausted".into())
        })?;
        out.throughput("throughput_cached", threads, requests, seconds)?;
    }
    Ok(())
}

fn run_threads(threads: usize, work: impl Fn(usize, Instant) -> Res<u64> + Sync) -> Res<(u64, f64)> {
    let start = Instant::now();
    let deadline = start + Duration::from_secs(1);
    let counts: Vec<Res<u64>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn({
                    let work = &work;
                    move || work(t, deadline)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("thread panicked".into()))).collect()
    });
    let seconds = start.elapsed().as_secs_f64();
    Ok((counts.into_iter().sum::<Res<u64>>()?, seconds))
}

impl Out {
    fn throughput(&mut self, op: &str, threads: usize, requests: u64, seconds: f64) -> Res<()> {
        let value = requests as f64 / seconds;
        eprintln!("rust {op} x{threads}: {value:.0} req/s");
        self.line(json!({"impl": "rust", "op": op, "threads": threads, "unit": "req/s", "value": value,
            "requests": requests, "seconds": seconds}))
    }
}
