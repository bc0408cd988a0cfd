//! Redis stores, for verifiers on several hosts. One request costs one round trip: after its
//! proof of possession verified, one server-side script checks every revocation id of its token and,
//! only if none is revoked, records its (holder, nonce) pair with `SET key attempt NX PX ttl`, so
//! exactly one verifier anywhere accepts it. Redis unreachable, slow past the request's deadline, or
//! answering oddly is STORE_UNAVAILABLE: never "fresh", never "not revoked".
//!
//! Keys on one Redis: `<prefix>replay:<hex sha256(holder key ‖ nonce)>` and `<prefix>revoked`. On a
//! Redis Cluster every key one script touches must live in one slot, so the revocation set is kept
//! in [`CLUSTER_SHARDS`] copies `<prefix>{sNN}revoked` and each replay key carries the tag of its
//! shard, chosen by its digest: `<prefix>{sNN}replay:<hex>`; `revoke` writes every copy. On a
//! cluster a write is answered only once a replica acknowledged it (`WAIT`, in the same pipeline):
//! a failover keeps every nonce and revocation a request was told about (see [`cluster`]).
//! Connections are opened lazily, kept for reuse, and dropped after any error, so service resumes by
//! itself when Redis (or a promoted replica) answers again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Admission, AdmissionStore, Deadline, ReplayKey, ReplayStore, RevocationStore};
use crate::error::{Error, ErrorCode, Result};
use crate::settings::MAX_SETTING_DURATION;
use crate::signals::HeldSignals;

mod cluster;

/// The copies of the revocation set on a Redis Cluster (and the hash tags replay keys spread over):
/// each copy is one slot, so 16 spread a cluster's replay writes over up to 16 masters, and a
/// revocation costs 16 writes (revocations are rare; requests are not).
pub const CLUSTER_SHARDS: u8 = 16;

/// One request's admission, atomic on the server. KEYS[1] the replay key, KEYS[2] the revocation
/// set (one slot on a Cluster); ARGV[1] this attempt's id, ARGV[2] the TTL in ms, ARGV[3..] the
/// token's revocation ids. Answers 2 (revoked: nothing written), 1 (fresh: recorded) or 0 (replay).
/// Sending it twice (a retry after a lost reply) is safe: the replay key holds the attempt's id, so
/// the attempt that wrote it is told "fresh" again, never its own replay.
const ADMIT_SCRIPT: &str = "\
for i = 3, #ARGV do
  if redis.call('SISMEMBER', KEYS[2], ARGV[i]) == 1 then return 2 end
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
return 0";

/// Take back a write whose replication was not confirmed, if it is still this attempt's: KEYS[1]
/// the replay key, ARGV[1] the attempt id.
const UNDO_SCRIPT: &str = "\
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0";

/// How to reach Redis.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// `redis://[user:password@]host:port[/db]` or `redis+unix:///path/to/redis.sock`; empty when
    /// `cluster` names the seed nodes instead.
    pub url: String,
    /// The seed nodes of a Redis Cluster, `redis://[user:password@]host:port` each (any reachable
    /// one tells the cluster's layout; list several so that one down does not stop a start). Empty
    /// (the default): one Redis at `url`. Set: `url` must be empty, and `key_prefix` must not hold
    /// `{` or `}` (the store's hash tags place keys in slots).
    pub cluster: Vec<String>,
    /// Prepended to every key (default `trustcore:`), so several deployments can share one Redis.
    pub key_prefix: String,
    /// Opening a connection (default 1 s).
    pub connect_timeout: Duration,
    /// One command, sent and answered (default 500 ms).
    pub command_timeout: Duration,
    /// All the Redis work of one request together: its commands, a connection it opens, a retry
    /// (default 1 s). Past it the request is STORE_UNAVAILABLE, so a failing Redis costs a request
    /// this long at most, never connect + command timeouts twice over.
    pub request_timeout: Duration,
    /// Idle connections kept for reuse (default 8).
    pub max_idle: usize,
    /// After a failure, every command fails at once (STORE_UNAVAILABLE) for this long; then one
    /// probe at a time goes to Redis until one succeeds (default 1 s). A Redis that is down or
    /// black-holed costs each request microseconds, not a connect timeout, and is not flooded with
    /// connections when it returns.
    pub retry_interval: Duration,
}

impl RedisConfig {
    pub const DEFAULT_KEY_PREFIX: &'static str = "trustcore:";
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
    pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_millis(500);
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(1);
    pub const DEFAULT_MAX_IDLE: usize = 8;
    pub const DEFAULT_RETRY_INTERVAL: Duration = Duration::from_secs(1);

    /// `url` with the defaults above.
    pub fn new(url: impl Into<String>) -> RedisConfig {
        RedisConfig {
            url: url.into(),
            cluster: Vec::new(),
            key_prefix: Self::DEFAULT_KEY_PREFIX.into(),
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            command_timeout: Self::DEFAULT_COMMAND_TIMEOUT,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            max_idle: Self::DEFAULT_MAX_IDLE,
            retry_interval: Self::DEFAULT_RETRY_INTERVAL,
        }
    }

    /// A Redis Cluster reached through `seeds`, with the defaults above.
    pub fn cluster(seeds: impl IntoIterator<Item = impl Into<String>>) -> RedisConfig {
        RedisConfig { cluster: seeds.into_iter().map(Into::into).collect(), ..RedisConfig::new("") }
    }
}

impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // the URLs may hold a password: never printed
        f.debug_struct("RedisConfig")
            .field("cluster_nodes", &self.cluster.len())
            .field("key_prefix", &self.key_prefix)
            .field("connect_timeout", &self.connect_timeout)
            .field("command_timeout", &self.command_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("max_idle", &self.max_idle)
            .field("retry_interval", &self.retry_interval)
            .finish_non_exhaustive()
    }
}

/// Where the store's connections go.
enum Target {
    /// One Redis. The client opens bare connections: no `CLIENT SETINFO`, no AUTH or SELECT (see
    /// [`RedisStore::connect`]); `setup` is what the URL asks a new connection to do first.
    Node { client: redis::Client, setup: redis::RedisConnectionInfo },
    /// A Redis Cluster, reached through its seed nodes.
    Cluster(cluster::Cluster),
}

struct Inner {
    target: Target,
    config: RedisConfig,
    idle: Mutex<Vec<Pooled>>,
    breaker: Mutex<Breaker>,
    script: redis::Script,
    /// This store's attempt ids: a random prefix, then a counter (unique without a syscall each).
    attempt_prefix: String,
    attempts: AtomicU64,
}

/// The circuit breaker: closed (None), or open until an instant, with at most one probe under way.
#[derive(Default)]
struct Breaker {
    open_until: Option<Instant>,
    probing: bool,
}

/// A connection and the socket timeout it is set to now (shortened near a request's deadline).
struct Pooled {
    connection: redis::Connection,
    timeout: Duration,
}

impl Pooled {
    /// Set the socket timeouts to what the next command may take: `cap`, or less when the
    /// request's deadline is nearer (a syscall only when that changes).
    fn bound(&mut self, cap: Duration, deadline: Deadline) -> redis::RedisResult<()> {
        let wait = deadline.left(cap).ok_or_else(out_of_time)?;
        if wait != self.timeout {
            self.connection.set_read_timeout(Some(wait))?;
            self.connection.set_write_timeout(Some(wait))?;
            self.timeout = wait;
        }
        Ok(())
    }

    /// One command and its reply (a server's error reply is an error).
    fn query(&mut self, command: &redis::Cmd) -> redis::RedisResult<redis::Value> {
        command.query(&mut self.connection)
    }

    /// One reply of a pipeline sent before, waited for at most `cap` and within `deadline`.
    fn recv(&mut self, cap: Duration, deadline: Deadline) -> redis::RedisResult<redis::Value> {
        self.bound(cap, deadline)?;
        self.connection.recv_response()
    }
}

/// A new connection from `client` (opened bare: no `CLIENT SETINFO`), set up as `setup` asks (AUTH,
/// SELECT), each step bounded by the connect timeout and `deadline`, then bounded for a command.
/// The crate would pipeline the setup commands and wait the whole timeout for each reply, even after
/// one timed out: a silent Redis made a connect cost twice its budget.
fn open(
    client: &redis::Client,
    setup: &redis::RedisConnectionInfo,
    config: &RedisConfig,
    deadline: Deadline,
) -> redis::RedisResult<Pooled> {
    let wait = deadline.left(config.connect_timeout).ok_or_else(out_of_time)?;
    let mut pooled = Pooled { connection: client.get_connection_with_timeout(wait)?, timeout: Duration::ZERO };
    let mut setup_command = |command: &redis::Cmd| -> redis::RedisResult<()> {
        pooled.bound(config.connect_timeout, deadline)?;
        match pooled.query(command)? {
            redis::Value::Okay => Ok(()),
            redis::Value::SimpleString(s) if s == "OK" => Ok(()),
            _ => Err(no_answer()),
        }
    };
    if let Some(password) = setup.password() {
        let mut auth = redis::cmd("AUTH");
        if let Some(username) = setup.username() {
            auth.arg(username);
        }
        setup_command(auth.arg(password))?;
    }
    if setup.db() != 0 {
        setup_command(redis::cmd("SELECT").arg(setup.db()))?;
    }
    pooled.bound(config.command_timeout, deadline)?;
    Ok(pooled)
}

/// Both stores on one Redis (clone it for the replay and the revocation side: they share connections).
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore").field("config", &self.inner.config).finish()
    }
}

fn unavailable(what: &str) -> Error {
    Error::new(ErrorCode::StoreUnavailable, format!("{what} store unavailable (redis)"))
}

fn no_answer() -> redis::RedisError {
    redis::RedisError::from((redis::ErrorKind::UnexpectedReturnType, "unexpected reply"))
}

fn out_of_time() -> redis::RedisError {
    redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut))
}

/// No replica acknowledged a write in time (`WAIT`).
fn not_replicated() -> redis::RedisError {
    redis::RedisError::from((redis::ErrorKind::Io, "no replica acknowledged the write"))
}

fn is_noscript(error: &redis::RedisError) -> bool {
    error.code() == Some("NOSCRIPT")
}

/// An admission answer: exactly the integer 0, 1 or 2.
fn admission(value: &redis::Value) -> Option<Admission> {
    match value {
        redis::Value::Int(0) => Some(Admission::Replayed),
        redis::Value::Int(1) => Some(Admission::Fresh),
        redis::Value::Int(2) => Some(Admission::Revoked),
        _ => None,
    }
}

impl RedisStore {
    /// A store for `config`. The URL (or the seed nodes) are checked now; Redis itself is reached
    /// on first use (a verifier may start before Redis does: its requests are STORE_UNAVAILABLE
    /// until then).
    pub fn new(config: RedisConfig) -> Result<RedisStore> {
        let valid = |t: Duration| !t.is_zero() && t <= MAX_SETTING_DURATION;
        let all = [config.connect_timeout, config.command_timeout, config.request_timeout, config.retry_interval];
        if !all.into_iter().all(valid) {
            return Err(Error::malformed("redis timeouts and the retry interval must be positive and at most a day"));
        }
        use redis::IntoConnectionInfo;
        let target = if config.cluster.is_empty() {
            let info =
                config.url.as_str().into_connection_info().map_err(|_| Error::malformed("redis URL is not valid"))?;
            let setup = info.redis_settings().clone();
            // the crate pipelines its setup commands and waits the whole timeout for each reply, even
            // after one timed out: a silent Redis made a connect cost twice its budget. Connections are
            // opened bare and set up here, one bounded command at a time
            let bare = redis::RedisConnectionInfo::default().set_skip_set_lib_name().set_protocol(setup.protocol());
            let client = redis::Client::open(info.set_redis_settings(bare))
                .map_err(|_| Error::malformed("redis URL is not valid"))?;
            Target::Node { client, setup }
        } else {
            if !config.url.is_empty() {
                return Err(Error::malformed("redis: set either a URL or cluster seed nodes, not both"));
            }
            if config.key_prefix.contains(['{', '}']) {
                return Err(Error::malformed("redis cluster: the key prefix must not hold { or } (hash tags)"));
            }
            let seeds = config
                .cluster
                .iter()
                .map(|url| {
                    let info = url.as_str().into_connection_info().ok().filter(|info| {
                        matches!(info.addr(), redis::ConnectionAddr::Tcp(..)) && info.redis_settings().db() == 0
                    });
                    info.ok_or_else(|| Error::malformed("redis cluster seed node is not a redis://host:port URL"))
                })
                .collect::<Result<Vec<_>>>()?;
            // the cluster client takes its credentials from the first seed: the others must agree
            let credentials = |info: &redis::ConnectionInfo| {
                (
                    info.redis_settings().username().map(str::to_owned),
                    info.redis_settings().password().map(str::to_owned),
                )
            };
            if seeds.iter().any(|seed| credentials(seed) != credentials(&seeds[0])) {
                return Err(Error::malformed("redis cluster seed nodes must all carry the same credentials"));
            }
            Target::Cluster(cluster::Cluster::new(&seeds))
        };
        let mut random = [0u8; 8];
        getrandom::getrandom(&mut random).map_err(|_| Error::new(ErrorCode::Internal, "no randomness"))?;
        Ok(RedisStore {
            inner: Arc::new(Inner {
                target,
                config,
                idle: Mutex::new(Vec::new()),
                breaker: Mutex::new(Breaker::default()),
                script: redis::Script::new(ADMIT_SCRIPT),
                attempt_prefix: hex::encode(random),
                attempts: AtomicU64::new(0),
            }),
        })
    }

    /// Run `call` behind the circuit breaker: refused at once while it is open, and its outcome
    /// closes or opens it. Signals are held meanwhile (see [`HeldSignals`]).
    fn guarded<T>(&self, what: &str, deadline: Deadline, call: impl FnOnce() -> Result<T>) -> Result<T> {
        // a request whose time is up sends nothing (and tells the breaker nothing about Redis)
        deadline.left(Duration::MAX).ok_or_else(|| unavailable(what))?;
        self.admit_probe(what)?;
        let outcome = {
            let _held = HeldSignals::new();
            call()
        };
        let mut breaker = self.inner.breaker.lock().unwrap_or_else(|p| p.into_inner());
        breaker.probing = false;
        breaker.open_until = match outcome {
            Ok(_) => None,
            Err(_) => Some(Instant::now() + self.inner.config.retry_interval),
        };
        outcome
    }

    /// Fail at once while the breaker is open; past its interval let one probe through at a time.
    fn admit_probe(&self, what: &str) -> Result<()> {
        let mut breaker = self.inner.breaker.lock().unwrap_or_else(|p| p.into_inner());
        match breaker.open_until {
            None => Ok(()),
            Some(until) if Instant::now() < until || breaker.probing => Err(unavailable(what)),
            Some(_) => {
                breaker.probing = true;
                Ok(())
            }
        }
    }

    /// Convert a reply that must be exactly of one shape (anything else: STORE_UNAVAILABLE).
    fn reply<T>(value: redis::Value, read: impl FnOnce(&redis::Value) -> Option<T>) -> redis::RedisResult<T> {
        read(&value).ok_or_else(no_answer)
    }

    /// Run `command` on a pooled (or new) connection to one Redis. A failure drops that connection
    /// and every idle one (after a Redis restart they are all stale); an `idempotent` command that
    /// failed on a pooled connection is tried once more on a fresh one.
    fn with_connection<T>(
        &self,
        what: &str,
        idempotent: bool,
        deadline: Deadline,
        command: impl Fn(&mut Pooled) -> redis::RedisResult<T>,
    ) -> Result<T> {
        self.guarded(what, deadline, || self.run(what, idempotent, deadline, command))
    }

    /// A new connection to the one Redis.
    fn connect(&self, what: &str, deadline: Deadline) -> Result<Pooled> {
        let Target::Node { client, setup } = &self.inner.target else { return Err(unavailable(what)) };
        open(client, setup, &self.inner.config, deadline).map_err(|_| unavailable(what))
    }

    fn run<T>(
        &self,
        what: &str,
        idempotent: bool,
        deadline: Deadline,
        command: impl Fn(&mut Pooled) -> redis::RedisResult<T>,
    ) -> Result<T> {
        let inner = &self.inner;
        let pooled = inner.idle.lock().ok().and_then(|mut idle| idle.pop());
        let reused = pooled.is_some();
        let mut pooled = match pooled {
            Some(mut pooled) => {
                pooled.bound(inner.config.command_timeout, deadline).map_err(|_| unavailable(what))?;
                pooled
            }
            None => self.connect(what, deadline)?,
        };
        let value = match command(&mut pooled) {
            Ok(value) => value,
            Err(_) => {
                if let Ok(mut idle) = inner.idle.lock() {
                    idle.clear();
                }
                if !(reused && idempotent) {
                    return Err(unavailable(what));
                }
                pooled = self.connect(what, deadline)?;
                command(&mut pooled).map_err(|_| unavailable(what))?
            }
        };
        if let Ok(mut idle) = inner.idle.lock() {
            if idle.len() < inner.config.max_idle {
                idle.push(pooled);
            }
        }
        Ok(value)
    }

    /// The deadline of one call made outside a request (ping, revoke): the request timeout.
    fn own_deadline(&self) -> Deadline {
        Deadline::after(self.inner.config.request_timeout)
    }

    /// PING: whether Redis answers now (on a cluster: one node).
    pub fn ping(&self) -> Result<()> {
        self.ping_by(self.own_deadline())
    }

    /// [`RedisStore::ping`] over by `deadline`: one round trip, what the benchmarks compare with.
    pub fn ping_by(&self, deadline: Deadline) -> Result<()> {
        let pong = |v: &redis::Value| match v {
            redis::Value::SimpleString(s) if s == "PONG" => Some(()),
            _ => None,
        };
        if self.cluster() {
            // the master of the first shard
            let key = self.revoked_keys().swap_remove(0);
            return self.with_cluster("replay", deadline, |cluster| {
                let outcome = cluster.exec(&[&key], &[redis::cmd("PING")], false, &self.inner.config, deadline)?;
                Self::reply(outcome.values.into_iter().next().unwrap_or(redis::Value::Nil), pong)
            });
        }
        self.with_connection("replay", true, deadline, |c| Self::reply(c.query(&redis::cmd("PING"))?, pong))
    }

    /// Run `call` on the cluster behind the breaker. A call that failed on a connection closed or
    /// refused (a restart, a failover) goes once more with what is left of the deadline: every call
    /// sent here is idempotent; one that timed out does not (its time is spent).
    fn with_cluster<T>(
        &self,
        what: &str,
        deadline: Deadline,
        call: impl Fn(&cluster::Cluster) -> redis::RedisResult<T>,
    ) -> Result<T> {
        let Target::Cluster(cluster) = &self.inner.target else { return Err(unavailable(what)) };
        self.guarded(what, deadline, || {
            match call(cluster) {
                Err(e) if (e.is_connection_dropped() || e.is_connection_refusal()) && !e.is_timeout() => call(cluster),
                other => other,
            }
            .map_err(|_| unavailable(what))
        })
    }

    fn cluster(&self) -> bool {
        matches!(self.inner.target, Target::Cluster(_))
    }

    /// The hash tag of a replay key's shard on a cluster (`{s07}`), nothing on one Redis.
    fn tag(&self, key: &ReplayKey) -> String {
        match self.cluster() {
            true => shard_tag(key.digest()[0] % CLUSTER_SHARDS),
            false => String::new(),
        }
    }

    fn replay_key(&self, key: &ReplayKey) -> String {
        format!("{}{}replay:{}", self.inner.config.key_prefix, self.tag(key), hex::encode(key.digest()))
    }

    /// The revocation set a replay key's script reads: its shard's copy on a cluster.
    fn revoked_key_for(&self, key: &ReplayKey) -> String {
        format!("{}{}revoked", self.inner.config.key_prefix, self.tag(key))
    }

    /// Every copy of the revocation set (one on one Redis).
    fn revoked_keys(&self) -> Vec<String> {
        let prefix = &self.inner.config.key_prefix;
        match self.cluster() {
            true => (0..CLUSTER_SHARDS).map(|s| format!("{prefix}{}revoked", shard_tag(s))).collect(),
            false => vec![format!("{prefix}revoked")],
        }
    }

    /// The script's keys and arguments for one request (a new attempt id each call).
    fn admission_args(&self, key: &ReplayKey, ids: &[String], ttl_ms: u64) -> (Vec<String>, Vec<String>) {
        let attempt = self.inner.attempts.fetch_add(1, Ordering::Relaxed);
        let keys = vec![self.replay_key(key), self.revoked_key_for(key)];
        let mut args = Vec::with_capacity(ids.len() + 2);
        args.push(format!("{}{attempt:x}", self.inner.attempt_prefix));
        args.push(ttl_ms.to_string());
        args.extend(ids.iter().cloned());
        (keys, args)
    }

    /// `EVALSHA` of the script, or `EVAL` of its text (`full`).
    fn script_command(&self, full: bool, keys: &[String], args: &[String]) -> redis::Cmd {
        let mut command = match full {
            true => redis::cmd("EVAL").arg(ADMIT_SCRIPT).to_owned(),
            false => redis::cmd("EVALSHA").arg(self.inner.script.get_hash()).to_owned(),
        };
        command.arg(keys.len()).arg(keys).arg(args);
        command
    }

    /// Send `commands` as one pipeline to the one Redis and read one reply each, every wait bounded
    /// by what is left of `deadline` (the crate's pipeline reading would wait the whole socket
    /// timeout for each reply, even after one timed out).
    fn pipeline(
        &self,
        pooled: &mut Pooled,
        commands: &[redis::Cmd],
        deadline: Deadline,
    ) -> redis::RedisResult<Vec<redis::Value>> {
        let mut packed = Vec::new();
        for command in commands {
            command.write_packed_command(&mut packed);
        }
        pooled.connection.send_packed_command(&packed)?;
        commands.iter().map(|_| pooled.recv(self.inner.config.command_timeout, deadline)).collect()
    }

    /// Run the script for every item in one pipeline; a NOSCRIPT anywhere (a Redis restarted or
    /// flushed since it was loaded) sends them all again with the script's text (safe: an attempt
    /// that ran answers the same again).
    fn admit_pipelined(&self, args: &[(Vec<String>, Vec<String>)], deadline: Deadline) -> Result<Vec<Admission>> {
        if self.cluster() {
            return self.admit_on_cluster(args, deadline);
        }
        self.with_connection("replay", true, deadline, |c| {
            let send = |c: &mut Pooled, full: bool| {
                let commands: Vec<redis::Cmd> =
                    args.iter().map(|(keys, args)| self.script_command(full, keys, args)).collect();
                self.pipeline(c, &commands, deadline)
            };
            let noscript = |replies: &redis::RedisResult<Vec<redis::Value>>| match replies {
                Ok(values) => {
                    values.iter().any(|v| matches!(v, redis::Value::ServerError(e) if e.code() == "NOSCRIPT"))
                }
                Err(error) => is_noscript(error),
            };
            let mut replies = send(c, false);
            if noscript(&replies) {
                replies = send(c, true);
            }
            let replies = replies?;
            if replies.len() != args.len() {
                return Err(no_answer());
            }
            replies.iter().map(|v| admission(v).ok_or_else(no_answer)).collect()
        })
    }

    /// [`RedisStore::admit_pipelined`] on a cluster: one pipeline per master, each ending with
    /// `WAIT 1` when the master has a replica. Writes no replica confirmed are refused
    /// (STORE_UNAVAILABLE) and taken back: a failover could lose them and let the nonce pass again
    /// elsewhere, and taken back, a client's retry of the refused request is not its own replay.
    fn admit_on_cluster(&self, args: &[(Vec<String>, Vec<String>)], deadline: Deadline) -> Result<Vec<Admission>> {
        let config = &self.inner.config;
        let keys: Vec<&str> = args.iter().map(|(keys, _)| keys[0].as_str()).collect();
        self.with_cluster("replay", deadline, |cluster| {
            let send = |full: bool| {
                let commands: Vec<redis::Cmd> =
                    args.iter().map(|(keys, args)| self.script_command(full, keys, args)).collect();
                cluster.exec(&keys, &commands, true, config, deadline)
            };
            let mut outcome = send(false)?;
            if outcome.values.iter().any(|v| matches!(v, redis::Value::ServerError(e) if e.code() == "NOSCRIPT")) {
                outcome = send(true)?;
            }
            let admissions = outcome.values.iter().map(admission).collect::<Option<Vec<_>>>().ok_or_else(no_answer)?;
            if !outcome.replicated {
                let undo: Vec<redis::Cmd> = args
                    .iter()
                    .map(|(keys, args)| {
                        redis::cmd("EVAL").arg(UNDO_SCRIPT).arg(1).arg(&keys[0]).arg(&args[0]).to_owned()
                    })
                    .collect();
                let _ = cluster.exec(&keys, &undo, false, config, deadline);
                return Err(not_replicated());
            }
            Ok(admissions)
        })
    }
}

/// `{sNN}`: the hash tag of shard `n`.
fn shard_tag(n: u8) -> String {
    format!("{{s{n:02}}}")
}

fn ttl_ms(ttl_seconds: f64) -> Result<u64> {
    if !(ttl_seconds.is_finite() && ttl_seconds >= 0.0) {
        return Err(Error::malformed("replay ttl must be a finite number, not negative"));
    }
    // Redis counts the TTL on its own clock, so the window is the same on every verifier; a key
    // lives through its last millisecond (Redis expires it only after), and never less than 1 ms
    Ok(((ttl_seconds * 1000.0).ceil() as u64).max(1))
}

impl AdmissionStore for RedisStore {
    fn admit(&self, key: &ReplayKey, ids: &[String], ttl_seconds: f64, deadline: Deadline) -> Result<Admission> {
        let (keys, args) = self.admission_args(key, ids, ttl_ms(ttl_seconds)?);
        // idempotent (the attempt id): a try that failed on a stale pooled connection goes again
        if self.cluster() {
            return self
                .admit_on_cluster(&[(keys, args)], deadline)?
                .into_iter()
                .next()
                .ok_or_else(|| unavailable("replay"));
        }
        self.with_connection("replay", true, deadline, |c| {
            let reply = match c.query(&self.script_command(false, &keys, &args)) {
                Err(error) if is_noscript(&error) => c.query(&self.script_command(true, &keys, &args))?,
                other => other?,
            };
            Self::reply(reply, admission)
        })
    }

    fn admit_all(
        &self,
        items: &[(ReplayKey, &[String])],
        ttl_seconds: f64,
        deadline: Deadline,
    ) -> Result<Vec<Admission>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let ttl = ttl_ms(ttl_seconds)?;
        let args: Vec<_> = items.iter().map(|(key, ids)| self.admission_args(key, ids, ttl)).collect();
        self.admit_pipelined(&args, deadline)
    }
}

impl ReplayStore for RedisStore {
    fn record(&self, key: &ReplayKey, now: f64, ttl_seconds: f64) -> Result<bool> {
        self.record_by(key, now, ttl_seconds, self.own_deadline())
    }

    /// The script with no revocation id: a single-use job's nonce.
    fn record_by(&self, key: &ReplayKey, _now: f64, ttl_seconds: f64, deadline: Deadline) -> Result<bool> {
        match self.admit(key, &[], ttl_seconds, deadline)? {
            Admission::Fresh => Ok(true),
            Admission::Replayed => Ok(false),
            Admission::Revoked => Err(unavailable("replay")),
        }
    }
}

/// A set-membership answer: the integer 0 or 1, nothing else.
fn member(value: &redis::Value) -> Option<bool> {
    match value {
        redis::Value::Int(0) => Some(false),
        redis::Value::Int(1) => Some(true),
        _ => None,
    }
}

impl RevocationStore for RedisStore {
    fn is_revoked(&self, id: &str) -> Result<bool> {
        self.any_revoked(&[id.to_owned()], self.own_deadline())
    }

    /// One round trip for all of a token's ids (SMISMEMBER, Redis 6.2+), on the first copy of the
    /// set (every copy holds every id `revoke` returned from).
    fn any_revoked(&self, ids: &[String], deadline: Deadline) -> Result<bool> {
        if ids.is_empty() {
            return Ok(false);
        }
        let set = self.revoked_keys().swap_remove(0);
        let command = redis::cmd("SMISMEMBER").arg(&set).arg(ids).to_owned();
        // exactly an array of one 0 or 1 per id: nils, strings or a short array are no answer
        let read = |v: &redis::Value| match v {
            redis::Value::Array(items) if items.len() == ids.len() => items.iter().map(member).collect(),
            _ => None,
        };
        let found: Vec<bool> = match self.cluster() {
            true => self.with_cluster("revocation", deadline, |cluster| {
                let outcome =
                    cluster.exec(&[&set], std::slice::from_ref(&command), false, &self.inner.config, deadline)?;
                Self::reply(outcome.values.into_iter().next().unwrap_or(redis::Value::Nil), read)
            })?,
            false => self.with_connection("revocation", true, deadline, |c| Self::reply(c.query(&command)?, read))?,
        };
        Ok(found.into_iter().any(|revoked| revoked))
    }

    /// SADD to every copy of the set, in one pipeline (one per master on a cluster, where a replica
    /// must acknowledge it too): an error if any copy did not take it (the caller retries; `revoke`
    /// is idempotent).
    fn revoke(&self, id: &str) -> Result<()> {
        let deadline = self.own_deadline();
        let sets = self.revoked_keys();
        let commands: Vec<redis::Cmd> = sets.iter().map(|set| redis::cmd("SADD").arg(set).arg(id).to_owned()).collect();
        let taken = |replies: &[redis::Value]| {
            let all = replies.len() == commands.len() && replies.iter().all(|v| matches!(v, redis::Value::Int(0 | 1)));
            all.then_some(()).ok_or_else(no_answer)
        };
        if self.cluster() {
            let keys: Vec<&str> = sets.iter().map(String::as_str).collect();
            return self.with_cluster("revocation", deadline, |cluster| {
                let outcome = cluster.exec(&keys, &commands, true, &self.inner.config, deadline)?;
                taken(&outcome.values)?;
                outcome.replicated.then_some(()).ok_or_else(not_replicated)
            });
        }
        self.with_connection("revocation", true, deadline, |c| taken(&self.pipeline(c, &commands, deadline)?))
    }
}
