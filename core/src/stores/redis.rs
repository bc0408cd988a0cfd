//! Redis stores, for verifiers on several hosts: a (holder, nonce) pair is recorded with one atomic
//! `SET key 1 NX PX ttl`, so exactly one verifier anywhere accepts it; revocations are a Redis set
//! every verifier reads on every request. Redis unreachable, slow past the command timeout, or
//! answering oddly is STORE_UNAVAILABLE: never "fresh", never "not revoked".
//!
//! Keys: `<prefix>replay:<hex sha256(holder key ‖ nonce)>` and `<prefix>revoked`. Connections are
//! opened lazily, kept for reuse, and dropped after any error, so service resumes by itself when
//! Redis returns.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Deadline, ReplayKey, ReplayStore, RevocationStore};
use crate::error::{Error, ErrorCode, Result};
use crate::settings::MAX_SETTING_DURATION;
use crate::signals::HeldSignals;

/// How to reach Redis.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// `redis://[user:password@]host:port[/db]` or `redis+unix:///path/to/redis.sock`.
    pub url: String,
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
            key_prefix: Self::DEFAULT_KEY_PREFIX.into(),
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            command_timeout: Self::DEFAULT_COMMAND_TIMEOUT,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            max_idle: Self::DEFAULT_MAX_IDLE,
            retry_interval: Self::DEFAULT_RETRY_INTERVAL,
        }
    }
}

impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // the URL may hold a password: never printed
        f.debug_struct("RedisConfig")
            .field("key_prefix", &self.key_prefix)
            .field("connect_timeout", &self.connect_timeout)
            .field("command_timeout", &self.command_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("max_idle", &self.max_idle)
            .field("retry_interval", &self.retry_interval)
            .finish_non_exhaustive()
    }
}

struct Inner {
    /// Opens bare connections: no `CLIENT SETINFO`, no AUTH or SELECT (see [`RedisStore::connect`]).
    client: redis::Client,
    /// What the URL asks a new connection to do before its first command: AUTH, SELECT.
    setup: redis::RedisConnectionInfo,
    config: RedisConfig,
    idle: Mutex<Vec<Pooled>>,
    revoked_key: String,
    breaker: Mutex<Breaker>,
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

impl RedisStore {
    /// A store for `config`. The URL is checked now; Redis itself is reached on first use (a
    /// verifier may start before Redis does: its requests are STORE_UNAVAILABLE until then).
    pub fn new(config: RedisConfig) -> Result<RedisStore> {
        let valid = |t: Duration| !t.is_zero() && t <= MAX_SETTING_DURATION;
        let all = [config.connect_timeout, config.command_timeout, config.request_timeout, config.retry_interval];
        if !all.into_iter().all(valid) {
            return Err(Error::malformed("redis timeouts and the retry interval must be positive and at most a day"));
        }
        use redis::IntoConnectionInfo;
        let info =
            config.url.as_str().into_connection_info().map_err(|_| Error::malformed("redis URL is not valid"))?;
        let setup = info.redis_settings().clone();
        // the crate pipelines its setup commands and waits the whole timeout for each reply, even
        // after one timed out: a silent Redis made a connect cost twice its budget. Connections are
        // opened bare and set up here, one bounded command at a time
        let bare = redis::RedisConnectionInfo::default().set_skip_set_lib_name().set_protocol(setup.protocol());
        let client = redis::Client::open(info.set_redis_settings(bare))
            .map_err(|_| Error::malformed("redis URL is not valid"))?;
        let revoked_key = format!("{}revoked", config.key_prefix);
        Ok(RedisStore {
            inner: Arc::new(Inner {
                client,
                setup,
                config,
                idle: Mutex::new(Vec::new()),
                revoked_key,
                breaker: Mutex::new(Breaker::default()),
            }),
        })
    }

    fn connect(&self, what: &str, deadline: Deadline) -> Result<Pooled> {
        let config = &self.inner.config;
        let wait = deadline.left(config.connect_timeout).ok_or_else(|| unavailable(what))?;
        let connection = self.inner.client.get_connection_with_timeout(wait).map_err(|_| unavailable(what))?;
        let mut pooled = Pooled { connection, timeout: Duration::ZERO };
        let setup = &self.inner.setup;
        if let Some(password) = setup.password() {
            let mut auth = redis::cmd("AUTH");
            if let Some(username) = setup.username() {
                auth.arg(username);
            }
            self.setup_command(&mut pooled, what, deadline, auth.arg(password))?;
        }
        if setup.db() != 0 {
            self.setup_command(&mut pooled, what, deadline, redis::cmd("SELECT").arg(setup.db()))?;
        }
        Self::bound(&mut pooled, what, config.command_timeout, deadline)?;
        Ok(pooled)
    }

    /// One setup command (AUTH, SELECT) on a new connection, waiting at most the connect timeout
    /// and inside the request's deadline: it must answer exactly OK.
    fn setup_command(&self, pooled: &mut Pooled, what: &str, deadline: Deadline, command: &redis::Cmd) -> Result<()> {
        Self::bound(pooled, what, self.inner.config.connect_timeout, deadline)?;
        match command.query::<redis::Value>(&mut pooled.connection) {
            Ok(redis::Value::Okay) => Ok(()),
            Ok(redis::Value::SimpleString(s)) if s == "OK" => Ok(()),
            _ => Err(unavailable(what)),
        }
    }

    /// Set the connection's socket timeouts to what the next command may take: the command timeout,
    /// or less when the request's deadline is nearer (a syscall only when that changes).
    fn bound(pooled: &mut Pooled, what: &str, command_timeout: Duration, deadline: Deadline) -> Result<()> {
        let wait = deadline.left(command_timeout).ok_or_else(|| unavailable(what))?;
        if wait != pooled.timeout {
            let connection = &pooled.connection;
            connection
                .set_read_timeout(Some(wait))
                .and_then(|_| connection.set_write_timeout(Some(wait)))
                .map_err(|_| unavailable(what))?;
            pooled.timeout = wait;
        }
        Ok(())
    }

    /// Run `command` on a pooled (or new) connection. A failure drops that connection and every idle
    /// one (after a Redis restart they are all dead); an `idempotent` command that failed on a pooled
    /// connection is tried once more on a fresh one. `SET NX` is not retried: if the first try
    /// reached Redis, a retry would call the request its own replay.
    fn with_connection<T>(
        &self,
        what: &str,
        idempotent: bool,
        deadline: Deadline,
        command: impl Fn(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Result<T> {
        // a request whose time is up sends nothing (and tells the breaker nothing about Redis)
        deadline.left(Duration::MAX).ok_or_else(|| unavailable(what))?;
        self.admit(what)?;
        let outcome = self.run(what, idempotent, deadline, command);
        let mut breaker = self.inner.breaker.lock().unwrap_or_else(|p| p.into_inner());
        breaker.probing = false;
        breaker.open_until = match outcome {
            Ok(_) => None,
            Err(_) => Some(Instant::now() + self.inner.config.retry_interval),
        };
        outcome
    }

    /// Fail at once while the breaker is open; past its interval let one probe through at a time.
    fn admit(&self, what: &str) -> Result<()> {
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
        read(&value)
            .ok_or_else(|| redis::RedisError::from((redis::ErrorKind::UnexpectedReturnType, "unexpected reply")))
    }

    fn run<T>(
        &self,
        what: &str,
        idempotent: bool,
        deadline: Deadline,
        command: impl Fn(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Result<T> {
        let inner = &self.inner;
        let command_timeout = inner.config.command_timeout;
        let _held = HeldSignals::new();
        let pooled = inner.idle.lock().ok().and_then(|mut idle| idle.pop());
        let reused = pooled.is_some();
        let mut pooled = match pooled {
            Some(mut pooled) => {
                Self::bound(&mut pooled, what, command_timeout, deadline)?;
                pooled
            }
            None => self.connect(what, deadline)?,
        };
        let value = match command(&mut pooled.connection) {
            Ok(value) => value,
            Err(_) => {
                if let Ok(mut idle) = inner.idle.lock() {
                    idle.clear();
                }
                if !(reused && idempotent) {
                    return Err(unavailable(what));
                }
                pooled = self.connect(what, deadline)?;
                command(&mut pooled.connection).map_err(|_| unavailable(what))?
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

    /// PING: whether Redis answers now.
    pub fn ping(&self) -> Result<()> {
        self.with_connection("replay", true, self.own_deadline(), |c| {
            Self::reply(redis::cmd("PING").query(c)?, |v| match v {
                redis::Value::SimpleString(s) if s == "PONG" => Some(()),
                _ => None,
            })
        })
    }

    fn replay_key(&self, key: &ReplayKey) -> String {
        format!("{}replay:{}", self.inner.config.key_prefix, hex::encode(key.digest()))
    }
}

impl ReplayStore for RedisStore {
    fn record(&self, key: &ReplayKey, now: f64, ttl_seconds: f64) -> Result<bool> {
        self.record_by(key, now, ttl_seconds, self.own_deadline())
    }

    fn record_by(&self, key: &ReplayKey, _now: f64, ttl_seconds: f64, deadline: Deadline) -> Result<bool> {
        if !(ttl_seconds.is_finite() && ttl_seconds >= 0.0) {
            return Err(Error::malformed("replay ttl must be a finite number, not negative"));
        }
        // Redis counts the TTL on its own clock, so the window is the same on every verifier; a key
        // lives through its last millisecond (Redis expires it only after), and never less than 1 ms
        let ttl_ms = ((ttl_seconds * 1000.0).ceil() as u64).max(1);
        let key = self.replay_key(key);
        // exactly OK (set: fresh) or nil (present: a replay); any other reply is no answer
        self.with_connection("replay", false, deadline, |c| {
            Self::reply(redis::cmd("SET").arg(&key).arg(1).arg("NX").arg("PX").arg(ttl_ms).query(c)?, |v| match v {
                redis::Value::Okay => Some(true),
                redis::Value::SimpleString(s) if s == "OK" => Some(true),
                redis::Value::Nil => Some(false),
                _ => None,
            })
        })
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
        self.with_connection("revocation", true, self.own_deadline(), |c| {
            Self::reply(redis::cmd("SISMEMBER").arg(&self.inner.revoked_key).arg(id).query(c)?, member)
        })
    }

    /// One round trip for all of a token's ids (SMISMEMBER, Redis 6.2+).
    fn any_revoked(&self, ids: &[String], deadline: Deadline) -> Result<bool> {
        if ids.is_empty() {
            return Ok(false);
        }
        // exactly an array of one 0 or 1 per id: nils, strings or a short array are no answer
        let found: Vec<bool> = self.with_connection("revocation", true, deadline, |c| {
            Self::reply(redis::cmd("SMISMEMBER").arg(&self.inner.revoked_key).arg(ids).query(c)?, |v| match v {
                redis::Value::Array(items) if items.len() == ids.len() => items.iter().map(member).collect(),
                _ => None,
            })
        })?;
        Ok(found.into_iter().any(|revoked| revoked))
    }

    fn revoke(&self, id: &str) -> Result<()> {
        self.with_connection("revocation", true, self.own_deadline(), |c| {
            Self::reply(redis::cmd("SADD").arg(&self.inner.revoked_key).arg(id).query(c)?, |v| match v {
                redis::Value::Int(0 | 1) => Some(()),
                _ => None,
            })
        })
    }
}
