//! The stateful verifier: issuer key(s), skew, limits, a replay store, a revocation store and a cache
//! of verified tokens. Checks run in docs/DESIGN.md §3's order; the replay entry is written only after the
//! proof of possession verifies, so forged requests cannot burn a holder's nonces. On Redis the
//! revocation check moves after the proof, into the one script that records the nonce (one round
//! trip a request); a request refused before that step still gets REVOKED when its token is revoked,
//! as with the in-memory stores.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use lru::LruCache;
use sha2::{Digest, Sha256};

use crate::authenticate::pop_message;
use crate::canonical::Request;
use crate::error::{Error, ErrorCode, Result};
use crate::http::{
    check_content_digest, jwk_thumbprint, normalize_authority, read_http_proof, read_legacy_proof, HttpProfile,
    HttpProof, HttpRequest,
};
use crate::issuer::IssuerKeys;
use crate::keys::PublicKey;
use crate::limits::Limits;
use crate::policy::{authorize, check_policy, AuthorizeOptions};
use crate::proof::WorkerProof;
use crate::revocation::{app_id_for_lookup, canonical_revocation_id};
use crate::settings::MAX_SKEW_SECONDS;
use crate::stores::memory::{default_holder_share, MemoryReplayStore, MemoryRevocationStore};
use crate::stores::redis::{RedisConfig, RedisStore};
use crate::stores::{Admission, AdmissionStore, Deadline, ReplayKey, ReplayStore, RevocationStore};
use crate::timestamp::{check_freshness, now_seconds};
use crate::token::{parse_token_limited, Token, VerifiedIdentity};

/// A verifier's settings.
#[derive(Clone, Debug)]
pub struct VerifierConfig {
    /// The issuer keys trusted when the verifier is made ([`Verifier::set_issuer`] replaces them
    /// later; this field keeps the first set).
    pub issuer: IssuerKeys,
    pub max_skew_seconds: f64,
    pub limits: Limits,
    /// Verified tokens kept (LRU); 0 turns the cache off.
    pub token_cache_capacity: usize,
    /// Memory the token cache may hold, in bytes (each entry counted as [`cache_entry_bytes`] of
    /// its token's length); the least recently used entries leave first.
    pub token_cache_max_bytes: u64,
    /// Requests one `authenticate_batch` takes; more is LIMIT_EXCEEDED for the whole batch.
    pub max_batch_requests: usize,
    /// Body bytes of all requests of one `authenticate_batch` together; more is LIMIT_EXCEEDED.
    pub max_batch_body_bytes: u64,
    /// (holder, nonce) pairs the in-memory replay store holds (unused with Redis).
    pub replay_capacity: usize,
    /// The most pairs one holder may hold in the in-memory store (None: a quarter of
    /// `replay_capacity`). Past it that holder is LIMIT_EXCEEDED until its entries expire; the others
    /// are served. Size it at the requests one holder sends in `2 × max_skew_seconds + 1`.
    pub replay_capacity_per_holder: Option<usize>,
    /// Revocation ids refused from the start (with Redis: added to the shared set at construction).
    pub revoked_ids: Vec<String>,
    /// Share the replay and revocation stores with other verifiers through Redis; `None` keeps them
    /// in this process.
    pub redis: Option<RedisConfig>,
    /// The authorities (host[:port]) this service answers to: an RFC 9421 signature made for
    /// another is WRONG_AUDIENCE. Lower-cased when the verifier is built. None configured: every
    /// RFC 9421 request is WRONG_AUDIENCE (the legacy profile does not sign the host).
    pub authorities: Vec<String>,
    /// The HTTP profiles [`Verifier::decide`] accepts (default: both).
    pub profiles: Vec<HttpProfile>,
}

impl VerifierConfig {
    pub fn new(issuer: IssuerKeys) -> Self {
        VerifierConfig {
            issuer,
            max_skew_seconds: DEFAULT_MAX_SKEW_SECONDS,
            limits: Limits::DEFAULT,
            token_cache_capacity: DEFAULT_TOKEN_CACHE_CAPACITY,
            token_cache_max_bytes: DEFAULT_TOKEN_CACHE_MAX_BYTES,
            max_batch_requests: DEFAULT_MAX_BATCH_REQUESTS,
            max_batch_body_bytes: DEFAULT_MAX_BATCH_BODY_BYTES,
            replay_capacity: DEFAULT_REPLAY_CAPACITY,
            replay_capacity_per_holder: None,
            revoked_ids: Vec::new(),
            redis: None,
            authorities: Vec::new(),
            profiles: HttpProfile::ALL.to_vec(),
        }
    }
}

/// A parsed, bound token with what every request re-uses (the parsed holder key, the hex revocation
/// ids), shared between the cache and the requests that use it.
#[derive(Debug)]
pub struct VerifiedToken {
    pub token: Token,
    pub identity: VerifiedIdentity,
    holder_key: PublicKey,
    /// The holder key's RFC 7638 thumbprint: what an RFC 9421 signature's `keyid` must be.
    holder_thumbprint: String,
    revocation_ids: Vec<String>, // the app id first, then each block's
    /// Every block's Datalog as printed, joined: made on the first HTTP decision that needs it.
    datalog: std::sync::OnceLock<Option<String>>,
    /// The verifier's issuer keys it was verified under ([`Verifier::set_issuer`] counts them): a
    /// token verified under keys since replaced is never admitted to the cache.
    issuer_generation: u64,
}

impl VerifiedToken {
    /// Whether `name` may occur in the token's Datalog (false only when it surely does not): a
    /// request fact no rule, check or policy names cannot change a decision, so the HTTP decision
    /// leaves such facts out of the authorizer (each costs a symbol and a conversion there).
    pub(crate) fn may_mention(&self, name: &str) -> bool {
        let datalog = self.datalog.get_or_init(|| {
            (0..self.token.block_count())
                .map(|i| self.token.block_source(i))
                .collect::<Result<Vec<_>>>()
                .ok()
                .map(|b| b.join("\n"))
        });
        datalog.as_ref().is_none_or(|text| text.contains(name))
    }
}

/// How a request presents its proof of possession.
#[derive(Clone, Copy)]
enum Presented<'a> {
    /// trust-core 0.1's proof over the canonical request.
    Legacy { proof: &'a WorkerProof, request: &'a Request<'a> },
    /// An RFC 9421 signature of the trustcore profile.
    Http { proof: &'a HttpProof, request: &'a HttpRequest<'a> },
}

impl Presented<'_> {
    fn token(&self) -> &str {
        match self {
            Presented::Legacy { proof, .. } => &proof.token,
            Presented::Http { proof, .. } => &proof.token,
        }
    }

    fn nonce(&self) -> &str {
        match self {
            Presented::Legacy { proof, .. } => &proof.nonce,
            Presented::Http { proof, .. } => &proof.nonce,
        }
    }
}

/// Where an HTTP request carried its credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Carrier {
    Rfc9421,
    LegacyHeaders,
    LegacyQuery,
}

impl Carrier {
    pub(crate) fn profile(self) -> HttpProfile {
        match self {
            Carrier::Rfc9421 => HttpProfile::Rfc9421,
            Carrier::LegacyHeaders | Carrier::LegacyQuery => HttpProfile::Legacy,
        }
    }
}

pub struct Verifier {
    config: VerifierConfig,
    /// The issuer keys trusted now (the config's until [`Verifier::set_issuer`]), and how many times
    /// they were replaced.
    issuer: std::sync::RwLock<(Arc<IssuerKeys>, u64)>,
    replay: Box<dyn ReplayStore>,
    revocations: Box<dyn RevocationStore>,
    /// Revocation and replay in one step after the proof (Redis); None: revocation is looked up
    /// before the proof and the nonce recorded after it (in-memory and custom stores).
    admission: Option<Box<dyn AdmissionStore>>,
    cache: Option<Mutex<TokenCache>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// The verified tokens, least recently used first out, bounded by count and by bytes.
struct TokenCache {
    entries: LruCache<[u8; 32], (Arc<VerifiedToken>, u64)>,
    bytes: u64,
}

/// What a cached token is counted as: measured at about 4.8 KB for a minted token of 400 bytes and
/// 3.3 times the size of a 17 KB one (the parsed blocks, the identity, the ids).
pub fn cache_entry_bytes(token_len: usize) -> u64 {
    4096 + 4 * token_len as u64
}

/// A request that passed every check before its proof of possession.
struct Prepared {
    verified: Arc<VerifiedToken>,
    /// The token's cache key, when it was not in the cache: admitted once the proof verifies.
    admit: Option<[u8; 32]>,
    token_len: usize,
    message: Vec<u8>,
    signature: [u8; 64],
    /// When this request's store work must be over (taken before its revocation lookup; on Redis,
    /// whose one round trip comes after the proof, a deadline is taken then instead).
    deadline: Deadline,
}

fn pop_failed() -> Error {
    Error::new(ErrorCode::PopFailed, "proof-of-possession signature failed")
}

fn revoked() -> Error {
    Error::new(ErrorCode::Revoked, "worker credential is revoked")
}

fn replayed() -> Error {
    Error::new(ErrorCode::Replayed, "stale request (replay or clock skew)")
}

/// An admission's answer as a request's outcome.
fn admitted(admission: Admission) -> Result<()> {
    match admission {
        Admission::Fresh => Ok(()),
        Admission::Replayed => Err(replayed()),
        Admission::Revoked => Err(revoked()),
    }
}

/// What a verifier is, for a repr or a log line: its settings that tell verifiers apart, never the
/// Redis URL (it may hold a password) nor the revoked ids (there may be many).
impl std::fmt::Display for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let config = &self.config;
        write!(
            f,
            "Verifier(max_skew_seconds={:?}, token_cache_capacity={}, ",
            config.max_skew_seconds, config.token_cache_capacity
        )?;
        match &config.redis {
            None => write!(f, "store='memory', replay_capacity={})", config.replay_capacity),
            Some(redis) => write!(f, "store='redis', redis_key_prefix='{}')", redis.key_prefix.escape_debug()),
        }
    }
}

/// Token cache counters, and what the cache holds now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    /// Tokens cached now.
    pub entries: u64,
    /// Their cost as counted against `token_cache_max_bytes`.
    pub bytes: u64,
}

/// How long a replay entry lives: the whole window in which its timestamp is fresh (`2 × skew`), plus
/// the resolution of a timestamp (a whole second), so that no store, whatever its clock, forgets a
/// nonce while its request can still pass the freshness check.
pub fn replay_ttl(max_skew_seconds: f64) -> f64 {
    2.0 * max_skew_seconds + 1.0
}

/// The clock skew a verifier accepts unless told otherwise, either way: five minutes.
pub const DEFAULT_MAX_SKEW_SECONDS: f64 = 300.0;

/// Verified tokens the cache keeps unless told otherwise.
pub const DEFAULT_TOKEN_CACHE_CAPACITY: usize = 10_000;

/// The default replay store holds this many (holder, nonce) pairs (about 6 MB).
pub const DEFAULT_REPLAY_CAPACITY: usize = 100_000;

/// The token cache's default memory bound: 64 MiB.
pub const DEFAULT_TOKEN_CACHE_MAX_BYTES: u64 = 64 * 1024 * 1024;

/// The default largest batch: 1024 requests.
pub const DEFAULT_MAX_BATCH_REQUESTS: usize = 1024;

/// The default bound on a batch's bodies together: 64 MiB.
pub const DEFAULT_MAX_BATCH_BODY_BYTES: u64 = 64 * 1024 * 1024;

impl Verifier {
    /// A verifier with the stores its config names: in memory (the default) or on Redis. With
    /// Redis, the initial revoked ids are written to the shared set now (STORE_UNAVAILABLE if Redis
    /// cannot take them).
    pub fn new(config: VerifierConfig) -> Result<Self> {
        // a clock a day off is broken, and a longer window would only grow the replay store
        if !(0.0..=MAX_SKEW_SECONDS).contains(&config.max_skew_seconds) {
            return Err(Error::malformed("max_skew_seconds must be between 0 and 86400"));
        }
        config.limits.check()?;
        if config.replay_capacity_per_holder == Some(0) {
            return Err(Error::malformed("replay_capacity_per_holder must be at least 1"));
        }
        let mut config = config;
        for authority in &mut config.authorities {
            *authority = normalize_authority(authority)?;
        }
        if config.profiles.is_empty() {
            return Err(Error::malformed("a verifier accepts at least one HTTP profile"));
        }
        config.revoked_ids = config
            .revoked_ids
            .iter()
            .map(|id| canonical_revocation_id(id).map(|id| id.into_owned()))
            .collect::<Result<_>>()?;
        match config.redis.clone() {
            None => {
                let share = config.replay_capacity_per_holder.unwrap_or(default_holder_share(config.replay_capacity));
                let replay = MemoryReplayStore::with_holder_share(config.replay_capacity, share);
                let revocations = MemoryRevocationStore::new(config.revoked_ids.iter().cloned());
                Ok(Verifier::with_stores(config, Box::new(replay), Box::new(revocations)))
            }
            Some(redis) => {
                let store = RedisStore::new(redis)?;
                for id in &config.revoked_ids {
                    store.revoke(id)?;
                }
                let mut verifier = Verifier::with_stores(config, Box::new(store.clone()), Box::new(store.clone()));
                verifier.admission = Some(Box::new(store));
                Ok(verifier)
            }
        }
    }

    pub fn with_stores(
        config: VerifierConfig,
        replay: Box<dyn ReplayStore>,
        revocations: Box<dyn RevocationStore>,
    ) -> Self {
        // grown on demand and bounded by hand: `LruCache::new(n)` allocates all n slots up front, so a
        // large capacity would abort the process before the first request
        let cache = (config.token_cache_capacity > 0 && config.token_cache_max_bytes > 0)
            .then(|| Mutex::new(TokenCache { entries: LruCache::unbounded(), bytes: 0 }));
        let issuer = std::sync::RwLock::new((Arc::new(config.issuer.clone()), 0));
        Verifier {
            config,
            issuer,
            replay,
            revocations,
            admission: None,
            cache,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub fn config(&self) -> &VerifierConfig {
        &self.config
    }

    /// The token from the cache (keyed by the token's hash), or parsed and bound. A parsed token is
    /// not cached yet: it is admitted only once a request's proof of possession verifies, so tokens
    /// that anyone can make (appended, revoked, expired) never take a verified token's place.
    fn verified_token(&self, token_b64: &str) -> Result<(Arc<VerifiedToken>, Option<[u8; 32]>)> {
        let text = token_b64.trim();
        self.config.limits.check_token_size(text.len())?;
        let Some(cache) = &self.cache else { return Ok((self.parse(text)?, None)) };
        let key: [u8; 32] = Sha256::digest(text.as_bytes()).into();
        let cached = self.lock(cache)?.entries.get(&key).map(|(hit, _)| hit.clone());
        if let Some(hit) = cached {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok((hit, None));
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        // parse outside the lock: two threads may parse one new token at once, which is harmless
        Ok((self.parse(text)?, Some(key)))
    }

    /// The issuer keys trusted now, and their generation.
    fn issuer(&self) -> (Arc<IssuerKeys>, u64) {
        let guard = self.issuer.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        (guard.0.clone(), guard.1)
    }

    /// Trust `issuer` from now on, in place of the keys trusted so far (issuer key rotation,
    /// docs/verifier.md): first the old and the new key together, later the new one alone. Cached
    /// tokens are dropped, so a token of a key no longer trusted is TOKEN_INVALID from the next
    /// request on, cached or not; requests already past their token check finish as they began.
    pub fn set_issuer(&self, issuer: IssuerKeys) {
        {
            let mut guard = self.issuer.write().unwrap_or_else(|poisoned| poisoned.into_inner());
            *guard = (Arc::new(issuer), guard.1 + 1);
        }
        // after the generation moved on: a token parsed under the old keys can no longer be admitted
        if let Some(cache) = &self.cache {
            let mut cache = cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            cache.entries.clear();
            cache.bytes = 0;
        }
    }

    /// Parse a token with the issuer keys this verifier trusts now and its limits (for
    /// `revoke_token` on a token given as text, say). Nothing is cached.
    pub fn parse_token(&self, token_b64: &str) -> Result<Token> {
        parse_token_limited(&self.issuer().0, token_b64, &self.config.limits)
    }

    fn parse(&self, text: &str) -> Result<Arc<VerifiedToken>> {
        let (issuer, issuer_generation) = self.issuer();
        let token = parse_token_limited(&issuer, text, &self.config.limits)?;
        let (identity, holder_key) = token.bound_identity()?;
        let app_id = app_id_for_lookup(&identity.revocation_id);
        let revocation_ids = std::iter::once(app_id).chain(token.revocation_ids()).collect();
        let holder_thumbprint = jwk_thumbprint(&holder_key);
        Ok(Arc::new(VerifiedToken {
            token,
            identity,
            holder_key,
            holder_thumbprint,
            revocation_ids,
            datalog: std::sync::OnceLock::new(),
            issuer_generation,
        }))
    }

    fn lock<'a>(&self, cache: &'a Mutex<TokenCache>) -> Result<std::sync::MutexGuard<'a, TokenCache>> {
        cache.lock().map_err(|_| Error::new(ErrorCode::Internal, "token cache poisoned"))
    }

    /// Admit a token whose proof of possession verified, evicting the least recently used entries
    /// until both bounds hold. A token larger than the whole byte budget is not cached.
    fn admit(&self, key: [u8; 32], token_len: usize, verified: &Arc<VerifiedToken>) -> Result<()> {
        let Some(cache) = &self.cache else { return Ok(()) };
        let cost = cache_entry_bytes(token_len);
        if cost > self.config.token_cache_max_bytes {
            return Ok(());
        }
        let mut cache = self.lock(cache)?;
        // checked under the cache lock, which set_issuer takes after moving the generation on
        if verified.issuer_generation != self.issuer().1 {
            return Ok(());
        }
        if let Some((_, old)) = cache.entries.pop(&key) {
            cache.bytes -= old;
        }
        while cache.entries.len() >= self.config.token_cache_capacity
            || cache.bytes + cost > self.config.token_cache_max_bytes
        {
            match cache.entries.pop_lru() {
                Some((_, (_, old))) => cache.bytes -= old,
                None => break,
            }
        }
        cache.entries.put(key, (verified.clone(), cost));
        cache.bytes += cost;
        Ok(())
    }

    /// One request's store deadline: the Redis request timeout from now (none for other stores).
    fn deadline(&self) -> Deadline {
        match &self.config.redis {
            Some(redis) => Deadline::after(redis.request_timeout),
            None => Deadline::NONE,
        }
    }

    /// Everything before the proof of possession: the token (cached), revocation, freshness (the
    /// request's timestamp, the token's expiry), and the bytes the holder must have signed.
    fn prepare(&self, presented: Presented<'_>, now: f64) -> Result<Prepared> {
        let (verified, admit) = self.verified_token(presented.token())?;
        self.prepare_with(verified, admit, presented, now)
    }

    fn prepare_with(
        &self,
        verified: Arc<VerifiedToken>,
        admit: Option<[u8; 32]>,
        presented: Presented<'_>,
        now: f64,
    ) -> Result<Prepared> {
        let deadline = self.deadline();
        if self.admission.is_none() && self.revocations.any_revoked(&verified.revocation_ids, deadline)? {
            return Err(revoked());
        }
        let (message, signature) = match self.signed(&verified, presented, now) {
            Ok(signed) => signed,
            Err(e) => return Err(self.refused(&verified, e)),
        };
        let token_len = presented.token().trim().len();
        Ok(Prepared { verified, admit, token_len, message, signature, deadline })
    }

    /// Freshness (the request's timestamp, the token's expiry) and the bytes the holder must have
    /// signed, with the signature.
    fn signed(&self, verified: &VerifiedToken, presented: Presented<'_>, now: f64) -> Result<(Vec<u8>, [u8; 64])> {
        Ok(match presented {
            Presented::Legacy { proof, request } => {
                check_freshness(&proof.timestamp, now, self.config.max_skew_seconds)?;
                verified.token.check_expiry(now)?;
                pop_message(proof, request)?
            }
            Presented::Http { proof, request } => {
                check_freshness(&proof.created.to_string(), now, self.config.max_skew_seconds)?;
                if proof.expires.is_some_and(|expires| now > expires as f64) {
                    return Err(Error::new(ErrorCode::StaleRequest, "the signature has expired"));
                }
                verified.token.check_expiry(now)?;
                if proof.keyid != verified.holder_thumbprint {
                    return Err(Error::new(ErrorCode::PopFailed, "keyid does not name the key the token binds"));
                }
                check_content_digest(request)?;
                (proof.message(request)?, proof.signature)
            }
        })
    }

    /// The error of a request refused after the revocation step of DESIGN §3.5 would have run: with
    /// the in-memory order `error` itself; on Redis, whose revocation check comes after the proof,
    /// REVOKED when the token is revoked (one lookup, on refused requests only, its deadline from
    /// now), so both stores give one code for one input.
    fn refused(&self, verified: &VerifiedToken, error: Error) -> Error {
        if self.admission.is_none() {
            return error;
        }
        match self.revocations.any_revoked(&verified.revocation_ids, self.deadline()) {
            Ok(true) => revoked(),
            Ok(false) => error,
            Err(store) => store,
        }
    }

    /// After the proof: admit the token to the cache.
    fn proven(&self, prepared: &Prepared) -> Result<()> {
        match prepared.admit {
            Some(key) => self.admit(key, prepared.token_len, &prepared.verified),
            None => Ok(()),
        }
    }

    /// After the proof, never before: a forged request must not burn the holder's nonce. The token
    /// is admitted to the cache first (its holder signed this request; a revoked token stays
    /// refused, as its revocation is looked up on every request); then the nonce is recorded, on
    /// Redis by the one script that also checks revocation.
    fn record_nonce(&self, prepared: &Prepared, nonce: &str, now: f64) -> Result<()> {
        let key = ReplayKey::new(&prepared.verified.holder_key, nonce);
        let ttl = replay_ttl(self.config.max_skew_seconds);
        self.proven(prepared)?;
        if let Some(store) = &self.admission {
            // the request's one round trip: its deadline runs from now, not from before the proof
            return admitted(store.admit(&key, &prepared.verified.revocation_ids, ttl, self.deadline())?);
        }
        if !self.replay.record_by(&key, now, ttl, prepared.deadline)? {
            return Err(replayed());
        }
        Ok(())
    }

    /// Authenticate one request: token (cached) → identity → revocation → freshness → proof of
    /// possession → replay. `now` defaults to the system clock.
    pub fn authenticate(
        &self,
        proof: &WorkerProof,
        request: &Request<'_>,
        now: Option<f64>,
    ) -> Result<Arc<VerifiedToken>> {
        self.authenticate_presented(Presented::Legacy { proof, request }, now.unwrap_or_else(now_seconds))
    }

    fn authenticate_presented(&self, presented: Presented<'_>, now: f64) -> Result<Arc<VerifiedToken>> {
        let prepared = self.prepare(presented, now)?;
        if !prepared.verified.holder_key.verify_strict(&prepared.message, &prepared.signature) {
            return Err(self.refused(&prepared.verified, pop_failed()));
        }
        self.record_nonce(&prepared, presented.nonce(), now)?;
        Ok(prepared.verified)
    }

    /// Authenticate an HTTP request in whichever accepted profile it carries its proof: an RFC 9421
    /// signature tagged `trustcore` (made for one of this verifier's authorities), else trust-core
    /// 0.1's `X-EP-*` headers, else its query parameters. The same checks, in the same order, as
    /// [`Verifier::authenticate`]. A request with neither is MALFORMED_INPUT.
    pub fn authenticate_http(
        &self,
        request: &HttpRequest<'_>,
        now: Option<f64>,
    ) -> Result<(Arc<VerifiedToken>, HttpProfile)> {
        self.authenticate_carried(request, now).map(|(verified, carrier)| (verified, carrier.profile()))
    }

    pub(crate) fn authenticate_carried(
        &self,
        request: &HttpRequest<'_>,
        now: Option<f64>,
    ) -> Result<(Arc<VerifiedToken>, Carrier)> {
        let now = now.unwrap_or_else(now_seconds);
        let accepts = |profile: HttpProfile| {
            if self.config.profiles.contains(&profile) {
                Ok(())
            } else {
                Err(Error::malformed(format!("this verifier does not accept the {} profile", profile.name())))
            }
        };
        if let Some(proof) = read_http_proof(request)? {
            accepts(HttpProfile::Rfc9421)?;
            let authority = request.authority()?;
            if !self.config.authorities.contains(&authority) {
                return Err(Error::new(
                    ErrorCode::WrongAudience,
                    format!("the request was signed for {authority:?}, not an authority of this verifier"),
                ));
            }
            let verified = self.authenticate_presented(Presented::Http { proof: &proof, request }, now)?;
            return Ok((verified, Carrier::Rfc9421));
        }
        let Some(legacy) = read_legacy_proof(request)? else {
            return Err(Error::malformed("no credentials: neither a trustcore signature nor X-EP-* headers"));
        };
        accepts(HttpProfile::Legacy)?;
        let carrier = if legacy.path == request.target { Carrier::LegacyHeaders } else { Carrier::LegacyQuery };
        let canonical = Request::new(request.method, &legacy.path, request.body);
        let verified =
            self.authenticate_presented(Presented::Legacy { proof: &legacy.proof, request: &canonical }, now)?;
        Ok((verified, carrier))
    }

    /// Authenticate many requests at once, one result each, in order. Every request goes through
    /// the same checks as [`Verifier::authenticate`]; the proofs of those that reach that step are
    /// checked together with one Ed25519 batch verification (about half the cost of checking them
    /// one by one). When the batch fails, each is checked on its own (strict) to name the failing
    /// ones. Nonces are recorded in order, so a nonce used twice within a batch is REPLAYED the
    /// second time, before any signature work is spent on it.
    ///
    /// A batch over `max_batch_requests` requests or `max_batch_body_bytes` of bodies is refused
    /// whole (LIMIT_EXCEEDED) before any work. Within a batch each distinct token is parsed once.
    ///
    /// Batch verification is not strict verification: it accepts a signature that strict checking
    /// refuses only when the signer built it with small-order components, which needs the holder's
    /// own key (no one else can forge one). Use [`Verifier::authenticate`] where that matters.
    pub fn authenticate_batch(
        &self,
        batch: &[(&WorkerProof, Request<'_>)],
        now: Option<f64>,
    ) -> Result<Vec<Result<Arc<VerifiedToken>>>> {
        self.check_batch_size(batch.len(), batch.iter().map(|(_, request)| request.body.len() as u64))?;
        let now = now.unwrap_or_else(now_seconds);
        let replayed = || Error::new(ErrorCode::Replayed, "stale request (replay or clock skew)");
        // (token text, nonce) seen earlier in this batch, then (holder, nonce) once the token is bound
        let mut seen_text: std::collections::HashSet<(&str, &str)> = std::collections::HashSet::new();
        let mut seen_key: std::collections::HashSet<ReplayKey> = std::collections::HashSet::new();
        let mut parsed: std::collections::HashMap<&str, (Arc<VerifiedToken>, Option<[u8; 32]>)> =
            std::collections::HashMap::new();
        let mut prepared: Vec<Result<Prepared>> = Vec::with_capacity(batch.len());
        for (proof, request) in batch {
            let text = proof.token.trim();
            if !seen_text.insert((text, proof.nonce.as_str())) {
                prepared.push(Err(replayed()));
                continue;
            }
            let token = match parsed.get(text) {
                Some(found) => Ok(found.clone()),
                None => self.verified_token(text).inspect(|found| {
                    parsed.insert(text, found.clone());
                }),
            };
            prepared.push(token.and_then(|(verified, admit)| {
                if !seen_key.insert(ReplayKey::new(&verified.holder_key, &proof.nonce)) {
                    return Err(replayed());
                }
                self.prepare_with(verified, admit, Presented::Legacy { proof, request }, now)
            }));
        }
        let ready: Vec<(&PublicKey, &[u8], &[u8; 64])> = prepared
            .iter()
            .filter_map(|p| p.as_ref().ok())
            .map(|p| (&p.verified.holder_key, p.message.as_slice(), &p.signature))
            .collect();
        let all_verified = ready.len() > 1 && PublicKey::verify_batch(&ready);
        let proven: Vec<Result<(Prepared, &str)>> = prepared
            .into_iter()
            .zip(batch)
            .map(|(prepared, (proof, _))| {
                let prepared = prepared?;
                if !all_verified && !prepared.verified.holder_key.verify_strict(&prepared.message, &prepared.signature)
                {
                    return Err(self.refused(&prepared.verified, pop_failed()));
                }
                if self.admission.is_some() {
                    self.proven(&prepared)?;
                }
                Ok((prepared, proof.nonce.as_str()))
            })
            .collect();
        let Some(store) = &self.admission else {
            return Ok(proven
                .into_iter()
                .map(|item| {
                    let (prepared, nonce) = item?;
                    self.record_nonce(&prepared, nonce, now)?;
                    Ok(prepared.verified)
                })
                .collect());
        };
        // on Redis: the script of every proven request in one pipeline, in order, one deadline
        let items: Vec<(ReplayKey, &[String])> = proven
            .iter()
            .filter_map(|item| item.as_ref().ok())
            .map(|(p, nonce)| (ReplayKey::new(&p.verified.holder_key, nonce), p.verified.revocation_ids.as_slice()))
            .collect();
        let mut outcomes = match store.admit_all(&items, replay_ttl(self.config.max_skew_seconds), self.deadline()) {
            Ok(outcomes) => outcomes.into_iter().map(Ok).collect::<Vec<_>>(),
            Err(e) => vec![Err(e); items.len()],
        }
        .into_iter();
        Ok(proven
            .into_iter()
            .map(|item| {
                let (prepared, _) = item?;
                let outcome = outcomes
                    .next()
                    .unwrap_or_else(|| Err(Error::new(ErrorCode::Internal, "a batch outcome is missing")));
                admitted(outcome?)?;
                Ok(prepared.verified)
            })
            .collect())
    }

    /// [`Verifier::authenticate_batch`] for requests a binding converted one by one: a request whose
    /// conversion failed keeps its own error (as it would alone), the others are authenticated
    /// together, and the outcomes come back in the order of `batch`.
    pub fn authenticate_batch_converted(
        &self,
        batch: &[Result<(&WorkerProof, Request<'_>)>],
        now: Option<f64>,
    ) -> Result<Vec<Result<Arc<VerifiedToken>>>> {
        let converted: Vec<(&WorkerProof, Request<'_>)> =
            batch.iter().filter_map(|item| item.as_ref().ok()).map(|(proof, request)| (*proof, *request)).collect();
        let mut outcomes = self.authenticate_batch(&converted, now)?.into_iter();
        Ok(batch
            .iter()
            .map(|item| match item {
                Ok(_) => outcomes
                    .next()
                    .unwrap_or_else(|| Err(Error::new(ErrorCode::Internal, "a batch outcome is missing"))),
                Err(e) => Err(e.clone()),
            })
            .collect())
    }

    /// LIMIT_EXCEEDED when a batch of `count` requests with these body lengths is over the
    /// verifier's batch bounds (bindings check before copying a body).
    pub fn check_batch_size(&self, count: usize, body_lengths: impl IntoIterator<Item = u64>) -> Result<()> {
        if count > self.config.max_batch_requests {
            return Err(Error::new(
                ErrorCode::LimitExceeded,
                format!("batch of {count} requests is over the limit of {}", self.config.max_batch_requests),
            ));
        }
        let mut total = 0u64;
        for len in body_lengths {
            total = total.saturating_add(len);
            if total > self.config.max_batch_body_bytes {
                return Err(Error::new(
                    ErrorCode::LimitExceeded,
                    format!("batch bodies over the limit of {} bytes", self.config.max_batch_body_bytes),
                ));
            }
        }
        Ok(())
    }

    /// `check_policy` with this verifier's limits.
    pub fn check_policy<'a, I>(&self, token: &Token, request_facts: I, allow: &str, now: Option<f64>) -> Result<()>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        check_policy(token, request_facts, allow, now.unwrap_or_else(now_seconds), &self.config.limits)
    }

    /// `authorize` with this verifier's limits.
    pub fn authorize(&self, token: &Token, code: &str, now: Option<f64>, extern_functions: &[String]) -> Result<usize> {
        let options = AuthorizeOptions { limits: self.config.limits, extern_functions: extern_functions.to_vec() };
        authorize(token, code, Some(now.unwrap_or_else(now_seconds)), &options)
    }

    /// Verify a job ([`crate::verify_job`]: the signature against the verifier's issuer key(s), the
    /// worker, the expiry) and, when it carries a nonce, use it up: a second verification of the
    /// same single-use job, on this verifier or any sharing its Redis, is REPLAYED. The nonce is
    /// recorded only after the signature and expiry pass (a forged job burns nothing) and kept until
    /// the job expires; a single-use job that expires more than a day after `now` is JOB_INVALID.
    pub fn verify_job(
        &self,
        job: &serde_json::Map<String, serde_json::Value>,
        worker_id: &str,
        now: Option<f64>,
    ) -> Result<()> {
        let now = now.unwrap_or_else(now_seconds);
        let issuers: Vec<PublicKey> = match &*self.issuer().0 {
            IssuerKeys::One(key) => vec![*key],
            IssuerKeys::ByKeyId(keys) => keys.values().copied().collect(),
        };
        let (issuer, terms) = crate::jobs::verify_job_with(&issuers, job, worker_id, now)?;
        let (Some(nonce), Some(expires_at)) = (terms.nonce, terms.expires_at) else {
            return Ok(());
        };
        let ttl = (expires_at as f64 + 1.0) - now;
        if ttl > crate::jobs::MAX_SINGLE_USE_JOB_SECONDS as f64 + 1.0 {
            return Err(Error::new(ErrorCode::JobInvalid, "a single-use job must expire within a day"));
        }
        let key = ReplayKey::for_job(&issuer, worker_id, &nonce);
        if !self.replay.record_by(&key, now, ttl, self.deadline())? {
            return Err(Error::new(ErrorCode::Replayed, "single-use job already used"));
        }
        Ok(())
    }

    /// [`Verifier::verify_job`] for a job given as JSON text, read once (a key given twice anywhere is
    /// JOB_INVALID). Returns the job as verified.
    pub fn verify_job_text(
        &self,
        job_json: &[u8],
        worker_id: &str,
        now: Option<f64>,
    ) -> Result<serde_json::Map<String, serde_json::Value>> {
        let job = crate::json::parse_object(job_json, ErrorCode::JobInvalid)?;
        self.verify_job(&job, worker_id, now)?;
        Ok(job)
    }

    /// Revoke an id (an app revocation id or a block's revocation id, hex): refused from the next
    /// request. The id is taken in its one spelling (hex in upper case is the same id); an id that
    /// has none (whitespace, a `0x` prefix, empty) is MALFORMED_INPUT, never stored unmatched.
    pub fn revoke(&self, id: &str) -> Result<()> {
        self.revocations.revoke(&canonical_revocation_id(id)?)
    }

    /// Revoke a whole token: its app revocation id and every block's id. Tokens derived from it
    /// (blocks appended) are refused too; other tokens sharing its app id as well.
    ///
    /// The block ids go first: they always have their one spelling, and revoking the authority
    /// block's refuses the token whatever its app id. An app id written before ids had one spelling
    /// (a space, say) could never be matched, so it is skipped rather than refusing the call.
    pub fn revoke_token(&self, token: &Token) -> Result<()> {
        for id in token.revocation_ids() {
            self.revoke(&id)?;
        }
        if let Ok(identity) = token.identity() {
            if canonical_revocation_id(&identity.revocation_id).is_ok() {
                self.revoke(&identity.revocation_id)?;
            }
        }
        Ok(())
    }

    pub fn cache_stats(&self) -> CacheStats {
        let (entries, bytes) = match self.cache.as_ref().map(|cache| cache.lock()) {
            Some(Ok(cache)) => (cache.entries.len() as u64, cache.bytes),
            _ => (0, 0),
        };
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries,
            bytes,
        }
    }

    /// Whether a call may wait on the network: true with the stores on Redis (a round trip per
    /// request, up to the request timeout when Redis is slow or gone), false with the in-memory
    /// stores, where every call is CPU work only. An event loop runs the calls of a verifier that
    /// may wait on a worker thread, and those of one that cannot inline (docs/DESIGN.md §10.3).
    /// Stores given to [`Verifier::with_stores`] count as the config says (`redis`).
    pub fn may_wait_on_network(&self) -> bool {
        self.config.redis.is_some()
    }
}
