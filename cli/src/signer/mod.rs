//! `trustcore signer serve`: the issuer key in its own process. This module only moves frames;
//! what a request means (policy, signing, audit) is `trustcore_core::signer::SignerService`.

mod listen;
mod log;
mod peer;
mod server;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use trustcore_core::signer::{AuditLog, SignerPolicy, SignerService};
use trustcore_core::*;

use crate::keyfile;

#[derive(Subcommand)]
pub enum SignerCommand {
    /// Serve mint / sign_job / public_key / health over a Unix socket (or loopback TCP).
    Serve(Serve),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("listen").required(true).args(["socket", "tcp"])))]
pub struct Serve {
    /// The issuer's key file (hex seed; refused if group or others can read it).
    #[arg(long, value_name = "FILE")]
    key_file: PathBuf,
    /// Listen on this Unix socket (created 0600; a stale one is replaced, a live one refused).
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Listen on loopback TCP instead (tests, containers): any local user can then connect and mint,
    /// there is no peer check, so it must be asked for with --tcp-without-peer-check; any
    /// non-loopback address is refused.
    #[arg(long, value_name = "IP:PORT", conflicts_with_all = ["group", "allow_uid"], requires = "tcp_without_peer_check")]
    tcp: Option<SocketAddr>,
    /// Say that --tcp serves every local user (TCP carries no peer credentials).
    #[arg(long, requires = "tcp")]
    tcp_without_peer_check: bool,
    /// Let this group use the socket too (mode 0660): a group name or number.
    #[arg(long, value_name = "GROUP")]
    group: Option<String>,
    /// Serve only peers with this uid (SO_PEERCRED); repeat for several. Others get SIGNER_REFUSED.
    #[arg(long = "allow-uid", value_name = "UID")]
    allow_uid: Vec<u32>,
    /// Refuse to mint a token that expires more than this many seconds from now.
    #[arg(long, value_name = "SECONDS", default_value_t = 86_400.0)]
    max_ttl: f64,
    /// Grant only these fact predicates; repeat for several (default: any predicate).
    #[arg(long = "allow-predicate", value_name = "NAME")]
    allow_predicate: Vec<String>,
    /// Sign jobs only for this worker id; repeat for several (default: any worker).
    #[arg(long = "allow-job-worker", value_name = "ID")]
    allow_job_worker: Vec<String>,
    /// Sign only jobs whose "kind" is this; repeat for several (default: any job).
    #[arg(long = "allow-job-kind", value_name = "KIND")]
    allow_job_kind: Vec<String>,
    /// The highest delegation depth a minted token may allow (docs/DESIGN.md §3.13); 0, the
    /// default, mints no delegable token.
    #[arg(long, value_name = "N", default_value_t = 0)]
    max_delegation_depth: u32,
    /// Root key id written into minted tokens (for key rotation).
    #[arg(long, value_name = "N")]
    key_id: Option<u32>,
    /// Append every answer to this audit log (JSON lines, hash-chained, signed, fsync'd).
    #[arg(long, value_name = "FILE")]
    audit_log: Option<PathBuf>,
    /// One log line per request on standard error, as text or JSON.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Connections served at once; more are answered SIGNER_UNAVAILABLE and closed.
    #[arg(long, value_name = "N", default_value_t = 256)]
    max_connections: usize,
    /// Connections one peer (a uid; an address over TCP) may hold at once; more are answered
    /// SIGNER_UNAVAILABLE and closed, so one peer cannot take every slot.
    #[arg(long, value_name = "N", default_value_t = 32)]
    max_connections_per_peer: usize,
    /// A new connection's first request must arrive whole within this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    first_frame_timeout: f64,
    /// A frame must arrive whole within this many seconds of its first byte.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    read_timeout: f64,
    /// A connection with no request for this many seconds is closed.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    idle_timeout: f64,
}

/// Where the daemon listens.
pub enum Listen {
    Unix { path: PathBuf, group: Option<String> },
    Tcp(SocketAddr),
}

/// The daemon's settings once checked.
pub struct Settings {
    pub listen: Listen,
    pub log_format: LogFormat,
    pub max_connections: usize,
    pub max_connections_per_peer: usize,
    pub read_timeout: Duration,
    pub idle_timeout: Duration,
    pub first_frame_timeout: Duration,
}

fn seconds(value: f64, flag: &str) -> Result<Duration> {
    if !(value.is_finite() && value > 0.0 && value <= 86_400.0) {
        return Err(Error::malformed(format!("{flag} must be a positive number of seconds (at most 86400)")));
    }
    Ok(Duration::from_secs_f64(value))
}

pub fn run(command: &SignerCommand) -> Result<()> {
    match command {
        SignerCommand::Serve(args) => serve(args),
    }
}

/// Before the key is read: no core dump of this process (the seed would be in it), and no other
/// process of the same user may attach to it or read its memory.
fn protect_process() -> Result<()> {
    let no_core = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: setrlimit and prctl with plain values; their results are checked
    let (limited, undumpable) =
        unsafe { (libc::setrlimit(libc::RLIMIT_CORE, &no_core), libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0)) };
    if limited != 0 || undumpable != 0 {
        return Err(Error::new(ErrorCode::Internal, "cannot make the signer non-dumpable"));
    }
    Ok(())
}

fn serve(args: &Serve) -> Result<()> {
    protect_process()?;
    let key = IssuerKey::from_secret_hex(&keyfile::read_secret(&args.key_file)?)?;
    if !(args.max_ttl.is_finite() && args.max_ttl > 0.0) {
        return Err(Error::malformed("--max-ttl must be a positive number of seconds"));
    }
    for predicate in &args.allow_predicate {
        if predicate.is_empty() || !predicate.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(Error::malformed(format!("--allow-predicate {predicate:?} is not an identifier")));
        }
    }
    if args.max_connections_per_peer == 0 {
        return Err(Error::malformed("--max-connections-per-peer must be at least 1"));
    }
    if args.max_connections == 0 {
        return Err(Error::malformed("--max-connections must be at least 1"));
    }
    let policy = SignerPolicy {
        max_ttl_seconds: Some(args.max_ttl),
        allowed_predicates: (!args.allow_predicate.is_empty())
            .then(|| args.allow_predicate.iter().cloned().collect::<BTreeSet<_>>()),
        allowed_uids: (!args.allow_uid.is_empty()).then(|| args.allow_uid.iter().copied().collect()),
        allowed_job_workers: (!args.allow_job_worker.is_empty())
            .then(|| args.allow_job_worker.iter().cloned().collect()),
        allowed_job_kinds: (!args.allow_job_kind.is_empty()).then(|| args.allow_job_kind.iter().cloned().collect()),
        max_delegation_depth: args.max_delegation_depth,
    };
    if args.max_delegation_depth > trustcore_core::MAX_DELEGATION_DEPTH {
        return Err(Error::malformed(format!(
            "--max-delegation-depth is at most {}",
            trustcore_core::MAX_DELEGATION_DEPTH
        )));
    }
    let audit = args.audit_log.as_deref().map(|path| AuditLog::open(path, &key)).transpose()?;
    let listen = match (&args.socket, args.tcp) {
        (Some(path), None) => Listen::Unix { path: path.clone(), group: args.group.clone() },
        (None, Some(address)) if address.ip().is_loopback() => Listen::Tcp(address),
        (None, Some(address)) => {
            return Err(Error::malformed(format!(
                "--tcp {address} is not a loopback address: frames are not encrypted"
            )))
        }
        _ => return Err(Error::malformed("give exactly one of --socket and --tcp")),
    };
    let settings = Settings {
        listen,
        log_format: args.log_format,
        max_connections: args.max_connections,
        max_connections_per_peer: args.max_connections_per_peer,
        read_timeout: seconds(args.read_timeout, "--read-timeout")?,
        idle_timeout: seconds(args.idle_timeout, "--idle-timeout")?,
        first_frame_timeout: seconds(args.first_frame_timeout, "--first-frame-timeout")?,
    };
    let service = SignerService::new(key, args.key_id, policy, audit);
    server::run(service, settings)
}
