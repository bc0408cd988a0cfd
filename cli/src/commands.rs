//! keygen, mint, inspect, proof, verify: each a thin shell over trustcore-core.

use std::io::Read;
use std::path::PathBuf;

use clap::Args;
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
    /// Path with its query string, e.g. /lease?x=1.
    #[arg(long)]
    path: String,
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
    /// Print `-H 'Name: value'` arguments for curl instead of header lines.
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
    /// A request header, `Name: value`; the four proof headers are needed.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// The allow policy, e.g. 'allow if req_right($r), right($r)'.
    #[arg(long)]
    allow: String,
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
    let request = Request::new(&args.request.method, &args.request.path, &body);
    let timestamp = args.timestamp.clone().unwrap_or_else(|| format!("{}", now_seconds().floor()));
    let nonce = match &args.nonce {
        Some(n) => n.clone(),
        None => random_hex()?,
    };
    let proof = make_proof(&worker, args.token.trim(), &request, &timestamp, &nonce)?;
    for (name, value) in proof.headers() {
        if args.curl {
            println!("-H '{name}: {value}'");
        } else {
            println!("{name}: {value}");
        }
    }
    Ok(())
}

pub fn verify(args: &Verify) -> Result<()> {
    let issuer = IssuerKeys::from_hex(&args.issuer_public)?;
    let headers = args.headers.iter().map(|h| split_pair(h, ':', "--header")).collect::<Result<Vec<_>>>()?;
    let proof = proof_from_headers(headers)?;
    let body = read_body(&args.request)?;
    let request = Request::new(&args.request.method, &args.request.path, &body);
    let options = AuthenticateOptions::new(args.now.unwrap_or_else(now_seconds), args.max_skew);
    let (token, identity) = authenticate(&issuer, &proof, &request, &args.revoked, &options)?;
    let facts = args.facts.iter().map(|f| split_pair(f, '=', "--fact")).collect::<Result<Vec<_>>>()?;
    check_policy(&token, facts, &args.allow, options.now, &options.limits)?;
    println!(
        "OK holder_id={} holder_public={} revocation_id={}",
        identity.holder_id, identity.holder_public_hex, identity.revocation_id
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
