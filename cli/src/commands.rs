//! keygen, mint, inspect, proof, verify: each a thin shell over trustcore-core.

use std::io::Read;
use std::path::PathBuf;

use clap::Args;
use trustcore_core::http::{sign_request, HttpPolicy, HttpProfile, HttpRequest, SignRequest};
use trustcore_core::*;

use crate::keyfile;

#[derive(Args)]
pub struct Keygen {
    /// Where to write the seed (created with mode 0600).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
pub struct Mint {
    /// The issuer's key file (from `trustcore keygen`).
    #[arg(long, value_name = "FILE")]
    key_file: PathBuf,
    /// The holder's public key, hex.
    #[arg(long, value_name = "HEX")]
    holder_public: String,
    /// The holder's id (written as worker_id).
    #[arg(long, value_name = "ID")]
    holder_id: String,
    /// An app fact, `predicate=value`; repeat for more (e.g. --fact right=lease --fact lane=a).
    #[arg(long = "fact", value_name = "NAME=VALUE")]
    facts: Vec<String>,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 3600.0, value_name = "SECONDS")]
    ttl: f64,
    /// The revocation id (default: 128 random bits, hex).
    #[arg(long, value_name = "ID")]
    revocation_id: Option<String>,
    /// Root key id, for issuer key rotation.
    #[arg(long, value_name = "N")]
    root_key_id: Option<u32>,
}

#[derive(Args)]
pub struct Inspect {
    /// The token (base64), or `-` to read it from standard input.
    token: String,
    /// Verify the signatures against this issuer public key (hex); without it nothing shown is verified.
    #[arg(long, value_name = "HEX")]
    issuer_public: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct RequestArgs {
    /// HTTP method, e.g. POST.
    #[arg(long)]
    method: String,
    /// Path with its query string, e.g. /lease?x=1 (with `proof`, or give --url instead).
    #[arg(long, required_unless_present = "url")]
    path: Option<String>,
    /// The full URL, e.g. https://api.example.com/lease?x=1 (`proof` only; needed with --rfc9421).
    #[arg(long, conflicts_with = "path")]
    url: Option<String>,
    /// The request body as text.
    #[arg(long, conflicts_with = "body_file")]
    body: Option<String>,
    /// Read the request body from a file (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    body_file: Option<PathBuf>,
}

#[derive(Args)]
pub struct Proof {
    /// The holder's key file.
    #[arg(long, value_name = "FILE")]
    key_file: PathBuf,
    /// The holder's token (base64).
    #[arg(long)]
    token: String,
    #[command(flatten)]
    request: RequestArgs,
    /// Timestamp to sign (default: now, in whole seconds).
    #[arg(long)]
    timestamp: Option<String>,
    /// Nonce to sign (default: 128 random bits, hex).
    #[arg(long)]
    nonce: Option<String>,
    /// Sign with RFC 9421 message signatures (the trustcore profile) instead of the X-EP-* headers.
    #[arg(long, requires = "url")]
    rfc9421: bool,
    /// Print a whole curl command (method, headers, body, URL; shell-quoted) with --url, or
    /// `-H 'Name: value'` arguments with --path.
    #[arg(long)]
    curl: bool,
}

#[derive(Args)]
pub struct Verify {
    /// The issuer public key (hex) tokens must be signed by.
    #[arg(long, value_name = "HEX")]
    issuer_public: String,
    #[command(flatten)]
    request: RequestArgs,
    /// A request header, `Name: value`, as the server received it: the proof's headers (either
    /// profile) and, for RFC 9421, `Host`.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// The allow policy, e.g. 'allow if req_right($r), right($r)'.
    #[arg(long, required_unless_present = "policy", conflicts_with = "policy")]
    allow: Option<String>,
    /// A route policy file: decide the request as a server would (status, code, route, facts).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// An authority (host[:port]) this service answers to, for RFC 9421 signatures; repeat for more.
    #[arg(long = "authority", value_name = "HOST[:PORT]")]
    authorities: Vec<String>,
    /// A request fact, `name=value` (e.g. req_right=lease); repeat for more.
    #[arg(long = "fact", value_name = "NAME=VALUE")]
    facts: Vec<String>,
    /// The verifier's clock, seconds since the epoch (default: now).
    #[arg(long)]
    now: Option<f64>,
    /// Allowed clock skew in seconds.
    #[arg(long, default_value_t = 300.0)]
    max_skew: f64,
    /// A revoked id; repeat for more.
    #[arg(long = "revoked", value_name = "ID")]
    revoked: Vec<String>,
}

fn random_hex() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).map_err(|_| Error::new(ErrorCode::Internal, "the random source failed"))?;
    Ok(hex::encode(bytes))
}

fn split_pair<'a>(text: &'a str, sep: char, what: &str) -> Result<(&'a str, &'a str)> {
    text.split_once(sep).ok_or_else(|| Error::malformed(format!("{what} must look like NAME{sep}VALUE: {text:?}")))
}

fn read_body(args: &RequestArgs) -> Result<Vec<u8>> {
    let read_error = |e: std::io::Error| Error::malformed(format!("cannot read the body: {e}"));
    match (&args.body, &args.body_file) {
        (Some(text), _) => Ok(text.as_bytes().to_vec()),
        (None, Some(path)) if path.as_os_str() == "-" => {
            let mut body = Vec::new();
            std::io::stdin().read_to_end(&mut body).map_err(read_error)?;
            Ok(body)
        }
        (None, Some(path)) => std::fs::read(path).map_err(read_error),
        (None, None) => Ok(Vec::new()),
    }
}

pub fn keygen(args: &Keygen) -> Result<()> {
    let key = IssuerKey::generate()?; // issuer and holder keys are both one Ed25519 seed
    keyfile::write_secret(&args.out, &key.secret_hex(), args.force)?;
    println!("{}", key.public_hex());
    Ok(())
}

pub fn mint(args: &Mint) -> Result<()> {
    let issuer = IssuerKey::from_secret_hex(&keyfile::read_secret(&args.key_file)?)?;
    let mut facts: Vec<(String, Vec<String>)> = Vec::new();
    for fact in &args.facts {
        let (name, value) = split_pair(fact, '=', "--fact")?;
        match facts.iter_mut().find(|(n, _)| n == name) {
            Some((_, values)) => values.push(value.to_owned()),
            None => facts.push((name.to_owned(), vec![value.to_owned()])),
        }
    }
    if !args.ttl.is_finite() || args.ttl <= 0.0 {
        return Err(Error::malformed("--ttl must be a positive number of seconds"));
    }
    let request = MintRequest {
        public_hex: args.holder_public.clone(),
        holder_id: args.holder_id.clone(),
        facts,
        // none given: core picks 128 random bits
        revocation_id: args.revocation_id.clone(),
        expires_at: now_seconds() + args.ttl,
        root_key_id: args.root_key_id,
        delegation_depth: 0,
    };
    println!("{}", mint_biscuit(&issuer, &request)?);
    Ok(())
}

pub fn inspect(args: &Inspect) -> Result<()> {
    let token = if args.token == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Error::malformed(format!("cannot read the token: {e}")))?;
        text
    } else {
        args.token.clone()
    };
    let summary = match &args.issuer_public {
        Some(issuer) => parse_token(&IssuerKeys::from_hex(issuer)?, &token)?.summary()?,
        None => inspect_unverified(&token)?,
    };
    if args.json {
        let value = serde_json::json!({
            "verified": summary.verified,
            "root_key_id": summary.root_key_id,
            "blocks": summary.blocks,
            "revocation_ids": summary.revocation_ids,
        });
        println!("{}", serde_json::to_string_pretty(&value).unwrap_or_default());
        return Ok(());
    }
    if summary.verified {
        println!("signatures: verified against the issuer key");
    } else {
        println!("signatures: NOT verified (give --issuer-public): nothing below can be trusted");
    }
    match summary.root_key_id {
        Some(id) => println!("root key id: {id}"),
        None => println!("root key id: none"),
    }
    for (i, (source, revocation)) in summary.blocks.iter().zip(&summary.revocation_ids).enumerate() {
        let label =
            if i == 0 { "authority, written by the issuer" } else { "appended by a holder: it can only restrict" };
        println!("\nblock {i} ({label}), revocation id {revocation}:");
        // every line carries its block's number in a gutter, and control characters are escaped:
        // a holder's string holding a newline or a terminal escape cannot fake a header or hide lines
        for line in source.lines() {
            println!("  {i}| {}", escape_controls(line));
        }
    }
    Ok(())
}

/// Control characters (terminal escapes, carriage returns) and bidirectional overrides as `\u{…}`.
fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let bidi = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if c.is_control() || bidi {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

pub fn proof(args: &Proof) -> Result<()> {
    let worker = WorkerKey::from_secret_hex(&keyfile::read_secret(&args.key_file)?)?;
    let body = read_body(&args.request)?;
    let nonce = match &args.nonce {
        Some(n) => n.clone(),
        None => random_hex()?,
    };
    let headers: Vec<(String, String)> = match (&args.request.url, &args.request.path) {
        (Some(url), _) => {
            let created = match &args.timestamp {
                Some(t) => Some(t.parse::<i64>().map_err(|_| Error::malformed("--timestamp must be whole seconds"))?),
                None => None,
            };
            let profile = if args.rfc9421 { HttpProfile::Rfc9421 } else { HttpProfile::Legacy };
            let request = SignRequest {
                method: &args.request.method,
                url,
                headers: &[],
                body: &body,
                profile,
                created,
                nonce: Some(&nonce),
            };
            sign_request(&worker, args.token.trim(), &request)?
        }
        (None, Some(path)) => {
            let request = Request::new(&args.request.method, path, &body);
            let timestamp = args.timestamp.clone().unwrap_or_else(|| format!("{}", now_seconds().floor()));
            let proof = make_proof(&worker, args.token.trim(), &request, &timestamp, &nonce)?;
            proof.headers().into_iter().map(|(name, value)| (name.to_owned(), value)).collect()
        }
        (None, None) => return Err(Error::malformed("give --url or --path")),
    };
    match (&args.request.url, args.curl) {
        (Some(url), true) => {
            let mut words = vec!["curl".to_owned(), "-X".to_owned(), shell_quote(&args.request.method)];
            for (name, value) in &headers {
                words.extend(["-H".to_owned(), shell_quote(&format!("{name}: {value}"))]);
            }
            match (&args.request.body, &args.request.body_file) {
                (Some(text), _) => words.extend(["--data-binary".to_owned(), shell_quote(text)]),
                (None, Some(path)) if path.as_os_str() != "-" => {
                    words.extend(["--data-binary".to_owned(), shell_quote(&format!("@{}", path.display()))])
                }
                _ => {}
            }
            words.push(shell_quote(url));
            println!("{}", words.join(" "));
        }
        (None, true) => {
            headers.iter().for_each(|(name, value)| println!("-H {}", shell_quote(&format!("{name}: {value}"))))
        }
        (_, false) => headers.iter().for_each(|(name, value)| println!("{name}: {value}")),
    }
    Ok(())
}

/// One shell word: single-quoted, a quote inside written as '\''.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// Either profile through a Verifier (in memory): the headers decide which.
pub fn verify(args: &Verify) -> Result<()> {
    let mut config = VerifierConfig::new(IssuerKeys::from_hex(&args.issuer_public)?);
    config.max_skew_seconds = args.max_skew;
    config.revoked_ids = args.revoked.clone();
    config.authorities = args.authorities.clone();
    let verifier = Verifier::new(config)?;
    let headers = args.headers.iter().map(|h| split_pair(h, ':', "--header")).collect::<Result<Vec<_>>>()?;
    let headers: Vec<(&str, &str)> = headers.into_iter().map(|(name, value)| (name.trim(), value.trim())).collect();
    let body = read_body(&args.request)?;
    let path =
        args.request.path.as_deref().ok_or_else(|| Error::malformed("verify takes --path (the request target)"))?;
    let request = HttpRequest::new(&args.request.method, path, &headers, &body);
    let facts = args.facts.iter().map(|f| split_pair(f, '=', "--fact")).collect::<Result<Vec<_>>>()?;
    let now = args.now.unwrap_or_else(now_seconds);
    if let Some(policy) = &args.policy {
        let decision = verifier.decide(&request, &HttpPolicy::from_file(policy)?, &facts, Some(now))?;
        let route = decision.route.as_deref().unwrap_or("-");
        if decision.allowed {
            let holder = decision.identity.map(|i| i.holder_id).unwrap_or_else(|| "-".to_owned());
            println!("ALLOWED {} route={route} holder_id={holder}", decision.status);
            for (name, value) in &decision.facts {
                println!("  {name}({value:?})");
            }
            return Ok(());
        }
        let code = decision.code.map(|c| c.name()).unwrap_or("?");
        println!("REFUSED {} {code} route={route}: {}", decision.status, decision.message);
        return Err(Error::new(decision.code.unwrap_or(ErrorCode::Internal), decision.message));
    }
    let (verified, profile) = verifier.authenticate_http(&request, Some(now))?;
    verifier.check_policy(&verified.token, facts, args.allow.as_deref().unwrap_or_default(), Some(now))?;
    let identity = &verified.identity;
    println!(
        "OK profile={} holder_id={} holder_public={} revocation_id={}",
        profile.name(),
        identity.holder_id,
        identity.holder_public_hex,
        identity.revocation_id
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::escape_controls;

    #[test]
    fn control_characters_and_bidi_overrides_are_escaped() {
        assert_eq!(escape_controls("right(\"lease\");"), "right(\"lease\");");
        assert_eq!(escape_controls("a\u{1b}[2Jb\rc\u{202e}d"), "a\\u{1b}[2Jb\\u{d}c\\u{202e}d");
    }
}
