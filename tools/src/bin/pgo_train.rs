//! The training run of the profile-guided build (docs/performance.md, "Profile-guided
//! optimization"; mk/pgo.mk): what a service and its clients do with the core, in the mix of a
//! busy fleet, so that the optimizer lays out and inlines for the paths taken on every request.
//! Built instrumented, run once, its counts merged into the profile every release build uses.
//!
//! It is not the bench's fixture (bench/rust): its own keys, tokens, routes and bodies, so the bench
//! measures the profile on requests it was not trained on. It exits non-zero when a decision is not
//! the one expected: a profile of refusals alone would optimize the wrong paths.
//!
//! usage: pgo_train [ROUNDS]   (default 600)

use std::collections::BTreeMap;

use trustcore_core::http::{sign_request, HttpPolicy, HttpProfile, HttpRequest, SignRequest};
use trustcore_core::*;

const AUTHORITY: &str = "api.example";
/// A fixed clock and fixed nonces: the same requests on every run. mk/pgo.mk runs it with the system
/// clock, getrandom and address layout fixed too (tools/pgo/fixed_clock_and_random.c), so that every
/// run counts the same branches and the release builds reproduce.
const NOW: f64 = 1_800_000_000.0;
const ROUTES: &str = r#"{"max_body_bytes": 4096, "routes": [
  {"method": "POST", "path": "/lease/{lane}", "allow": "allow if right(\"lease\"), req_param_lane($l), lane($l)"},
  {"method": "GET", "path": "/jobs/{id}/status", "allow": "allow if right(\"read\")"},
  {"method": "GET", "path": "/admin", "allow": "allow if right(\"admin\")"},
  {"method": "GET", "path": "/health", "public": true}]}"#;

type Res<T> = std::result::Result<T, Box<dyn std::error::Error>>;

struct Holder {
    key: WorkerKey,
    token: String,
}

fn mint_request(key: &WorkerKey, id: &str, facts: &[(&str, &[&str])]) -> MintRequest {
    MintRequest {
        public_hex: key.public_hex(),
        holder_id: id.into(),
        facts: facts
            .iter()
            .map(|(name, values)| ((*name).into(), values.iter().map(|v| (*v).into()).collect()))
            .collect(),
        revocation_id: Some(format!("rev-{id}")),
        expires_at: NOW + 3600.0,
        root_key_id: None,
        delegation_depth: 1,
    }
}

/// One signed request as the header lines a server hands the core (Host first).
fn signed(
    holder: &Holder,
    method: &str,
    target: &str,
    body: &[u8],
    profile: HttpProfile,
    nonce: &str,
) -> Result<Vec<(String, String)>> {
    let host = [("Host", AUTHORITY), ("Content-Type", "application/json")];
    let request = SignRequest {
        method,
        url: target,
        headers: &host,
        body,
        profile,
        created: Some(NOW as i64),
        nonce: Some(nonce),
    };
    let mut lines: Vec<(String, String)> = host.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect();
    lines.extend(sign_request(&holder.key, &holder.token, &request)?);
    Ok(lines)
}

fn main() -> Res<()> {
    let rounds: usize = std::env::args().nth(1).map(|n| n.parse()).transpose()?.unwrap_or(600);
    let issuer = IssuerKey::from_secret_hex(&"a1".repeat(32))?;
    let keys: Vec<WorkerKey> = ["b2", "c3", "d4", "e5"]
        .iter()
        .map(|hex| WorkerKey::from_secret_hex(&hex.repeat(32)))
        .collect::<Result<_>>()?;
    let grants: [&[(&str, &[&str])]; 3] = [
        &[("right", &["lease", "read"]), ("lane", &["gpu", "cpu"])],
        &[("right", &["lease"]), ("lane", &["cpu"])],
        &[("right", &["read", "admin"])],
    ];
    let mut holders = Vec::new();
    for (i, grant) in grants.iter().enumerate() {
        let request = mint_request(&keys[i], &format!("svc-{i}"), grant);
        let token = mint_biscuit_reproducible(&issuer, &request, &[i as u8 + 1; 32])?;
        holders.push(Holder { token, key: keys[i].clone() });
    }
    // the first holder hands its token on, narrowed to one lane
    let delegated = delegate_reproducible(
        &holders[0].token,
        &holders[0].key,
        &DelegateRequest {
            to_public_hex: keys[3].public_hex(),
            to_holder_id: "batch-1".into(),
            checks: "check if req_param_lane(\"gpu\");".into(),
            expires_at: NOW + 1800.0,
        },
        &[9; 32],
    )?;
    holders.push(Holder { key: keys[3].clone(), token: delegated });

    let policy = HttpPolicy::from_json(ROUTES.as_bytes())?;
    let mut config = VerifierConfig::new(IssuerKeys::one(issuer.public_key()));
    config.authorities = vec![AUTHORITY.to_owned()];
    config.replay_capacity = rounds * 16 + 1000;
    config.replay_capacity_per_holder = Some(config.replay_capacity);
    let verifier = Verifier::new(config.clone())?;
    let mut uncached_config = config;
    uncached_config.token_cache_capacity = 0;
    let uncached = Verifier::new(uncached_config)?;

    let bodies: [Vec<u8>; 3] = [b"{}".to_vec(), br#"{"episode":"e1","steps":12}"#.to_vec(), vec![b'x'; 900]];
    let mut seen: BTreeMap<(&str, u16), usize> = BTreeMap::new();
    let mut decide = |what: &'static str,
                      v: &Verifier,
                      method: &str,
                      target: &str,
                      lines: &[(String, String)],
                      body: &[u8],
                      expect: u16|
     -> Res<()> {
        let pairs: Vec<(&str, &str)> = lines.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let decision = v.decide(&HttpRequest::new(method, target, &pairs, body), &policy, &[], Some(NOW))?;
        if decision.status != expect {
            return Err(format!(
                "{what}: {method} {target} answered {} ({}), expected {expect}",
                decision.status, decision.message
            )
            .into());
        }
        *seen.entry((what, expect)).or_default() += 1;
        Ok(())
    };
    for round in 0..rounds {
        let body = &bodies[round % bodies.len()];
        let holder = &holders[round % 2];
        let lane = if round % 2 == 0 { "gpu" } else { "cpu" };
        let target = format!("/lease/{lane}?attempt={}", round % 7);
        // the common case: a granted request in the standard profile, then in the legacy one
        let lines = signed(holder, "POST", &target, body, HttpProfile::Rfc9421, &format!("a-{round}"))?;
        decide("rfc9421", &verifier, "POST", &target, &lines, body, 200)?;
        if round % 4 == 0 {
            let lines = signed(holder, "POST", &target, body, HttpProfile::Legacy, &format!("b-{round}"))?;
            decide("legacy", &verifier, "POST", &target, &lines, body, 200)?;
        }
        let status = format!("/jobs/j-{round}/status");
        let lines = signed(&holders[2], "GET", &status, b"", HttpProfile::Rfc9421, &format!("c-{round}"))?;
        decide("read", &verifier, "GET", &status, &lines, b"", 200)?;
        let lines = signed(&holders[3], "POST", "/lease/gpu", body, HttpProfile::Rfc9421, &format!("d-{round}"))?;
        decide("delegated", &verifier, "POST", "/lease/gpu", &lines, body, 200)?;
        decide("public", &verifier, "GET", "/health", &[("Host".into(), AUTHORITY.into())], b"", 200)?;
        // the refusals a service sees every day: ungranted, replayed, forged, missing, unrouted
        if round % 3 == 0 {
            let lines = signed(&holders[1], "POST", "/lease/gpu", body, HttpProfile::Rfc9421, &format!("e-{round}"))?;
            decide("ungranted", &verifier, "POST", "/lease/gpu", &lines, body, 403)?;
            decide("replayed", &verifier, "POST", "/lease/gpu", &lines, body, 401)?;
            let lines = signed(holder, "GET", "/admin", b"", HttpProfile::Rfc9421, &format!("f-{round}"))?;
            decide("admin", &verifier, "GET", "/admin", &lines, b"", 403)?;
        }
        if round % 5 == 0 {
            let lines = signed(holder, "POST", &target, body, HttpProfile::Rfc9421, &format!("g-{round}"))?;
            decide("forged", &verifier, "POST", &target, &lines, b"{\"other\":1}", 401)?;
            decide("no proof", &verifier, "POST", &target, &[("Host".into(), AUTHORITY.into())], body, 401)?;
            decide("no route", &verifier, "DELETE", "/lease/gpu", &[("Host".into(), AUTHORITY.into())], b"", 403)?;
        }
        // a token seen for the first time: parsed and its signatures checked
        if round % 10 == 0 {
            let lines = signed(holder, "POST", &target, body, HttpProfile::Rfc9421, &format!("h-{round}"))?;
            decide("uncached", &uncached, "POST", &target, &lines, body, 200)?;
        }
        // the library calls of issue 1's API: a proof and its policy check, authorizer code, minting
        if round % 2 == 0 {
            let request = Request::new("POST", "/lease", body);
            let proof =
                make_proof(&holder.key, &holder.token, &request, &format!("{}", NOW as i64), &format!("p-{round}"))?;
            let verified = verifier.authenticate(&proof, &request, Some(NOW))?;
            verifier.check_policy(
                &verified.token,
                [("req_operation", "lease")],
                "allow if req_operation(\"lease\"), right(\"lease\")",
                Some(NOW),
            )?;
            if round % 20 == 0 {
                verifier.authorize(&verified.token, "allow if right(\"lease\"), lane(\"cpu\");", Some(NOW), &[])?;
            }
        }
        if round % 25 == 0 {
            mint_biscuit(&issuer, &mint_request(&keys[round % 3], "svc-new", grants[round % 3]))?;
        }
    }
    let total: usize = seen.values().sum();
    let kinds: Vec<String> = seen.iter().map(|((what, status), count)| format!("{what} {status} ×{count}")).collect();
    eprintln!("pgo_train: {total} decisions as expected ({})", kinds.join(", "));
    Ok(())
}
