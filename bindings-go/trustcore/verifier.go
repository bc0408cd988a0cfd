package trustcore

/*
#include <trustcore.h>
*/
import "C"

import (
	"runtime"
	"time"
)

// Verifier is the stateful verifier: replay protection, a revocation list that can grow, and a
// cache of verified tokens (a holder's repeated requests pay one signature check, not two). One
// Verifier serves every goroutine of a service.
//
// Its replay and revocation stores live in this process by default. With VerifierOptions.Redis
// they live on Redis instead, shared by every Verifier (in any process, on any host) that names the
// same Redis and key prefix: a (holder, nonce) pair is accepted by exactly one of them, and a
// revocation by one is refused by all from their next request. A Redis that cannot be reached, or
// does not answer in time, makes requests fail with ErrStoreUnavailable, never pass; service
// resumes by itself when Redis returns.
type Verifier struct {
	n native[*C.tc_verifier]
}

// VerifierOptions are a verifier's settings. Every field is optional: a nil field keeps the core's
// default (300 s skew, default limits, 100 000 replay entries of which a quarter for any one holder,
// a 10 000-token cache of at most 64 MiB, batches of at most 1024 requests and 64 MiB of bodies,
// in-process stores), a set one is passed as it is, zero included (MaxSkewSeconds 0 is no skew at
// all, TokenCacheCapacity 0 no cache). A literal names only what it changes; Float64, Uint64,
// Duration and String make the pointers:
//
//	trustcore.VerifierOptions{MaxSkewSeconds: trustcore.Float64(60), TokenCacheCapacity: trustcore.Uint64(50000)}
//
// Nothing is checked here: a value the core refuses (a negative or non-finite skew, one over a day, a
// ReplayCapacityPerHolder of 0, a bad Redis URL, a Redis timeout of 0 or over a day) makes
// NewVerifier fail with ErrMalformedInput, from the core. DefaultVerifierOptions returns the core's
// defaults with every field set.
type VerifierOptions struct {
	// MaxSkewSeconds is the allowed clock skew either way (default 300); a replay entry lives
	// 2 × MaxSkewSeconds + 1 s (the window in which its timestamp is fresh, plus a timestamp's
	// resolution). Finite, from 0 to 86400.
	MaxSkewSeconds *float64
	// Limits: MaxTokenBytes for every request's token, all of them in CheckPolicy and Authorize
	// (nil = DefaultLimits(); a field left nil keeps the core's default, see Limits).
	Limits *Limits
	// ReplayCapacity bounds the in-process replay store (default 100 000; unused with Redis); when it
	// is full and nothing in it expired, requests fail with ErrStoreUnavailable rather than forget a
	// nonce.
	ReplayCapacity *uint64
	// ReplayCapacityPerHolder is the most (holder, nonce) pairs one holder may hold in the in-process
	// store (unused with Redis): nil keeps the core's share, a quarter of ReplayCapacity (at least 1);
	// a set value is at least 1 (0 is ErrMalformedInput, from core). Past its share a holder's
	// requests fail with ErrLimitExceeded until its entries expire, while other holders are served.
	// Size it at the requests one holder sends in 2 × MaxSkewSeconds + 1 s.
	ReplayCapacityPerHolder *uint64
	// TokenCacheCapacity is how many verified tokens are kept (default 10 000); 0 turns the cache
	// off. A token enters the cache only once a request's proof of possession with it verified.
	TokenCacheCapacity *uint64
	// TokenCacheMaxBytes bounds the cache's memory (default 64 MiB; each entry counts as 4096 + 4
	// times its token's length; least recently used out first); 0 turns the cache off.
	TokenCacheMaxBytes *uint64
	// MaxBatchRequests is the most requests one AuthenticateBatch takes (default 1024); a larger
	// batch is refused whole with ErrLimitExceeded (0: every non-empty batch is).
	MaxBatchRequests *uint64
	// MaxBatchBodyBytes bounds the bodies of one batch's requests together (default 64 MiB); more
	// is refused whole with ErrLimitExceeded (0: any body at all is).
	MaxBatchBodyBytes *uint64
	// Revoked are revocation ids refused from the start (with Redis: added to the shared set by
	// NewVerifier, which fails with ErrStoreUnavailable when Redis cannot take them). The core takes
	// each in its one spelling, as Revoke does: NewVerifier fails with ErrMalformedInput for an id
	// that has none.
	Revoked []string
	// Redis, when set, keeps the replay and revocation stores on Redis; nil keeps them in this
	// process.
	Redis *RedisOptions
	// Authorities are the host[:port] this service answers to, for Decide (any case: the core
	// lower-cases them): an RFC 9421 signature made for another is ErrWrongAudience. None (the
	// default): every RFC 9421 request is ErrWrongAudience (the legacy profile does not sign the
	// host). One that is not host[:port] makes NewVerifier fail with ErrMalformedInput.
	Authorities []string
	// Profiles are the HTTP profiles Decide accepts, "rfc9421" and "legacy": nil keeps the core's
	// default (both); a set list is passed as it is, so an empty one ([]string{}) or an unknown name
	// makes NewVerifier fail with ErrMalformedInput, from the core. Credentials in another profile
	// are refused (ErrMalformedInput, status 401).
	Profiles []string
}

// RedisOptions say how a Verifier reaches Redis. URL (one Redis) or Cluster (a Redis Cluster) is
// required; every other field is optional as in VerifierOptions: nil keeps the core's default, a
// set value is passed as it is (an empty KeyPrefix is no prefix; a zero timeout is refused by the
// core).
type RedisOptions struct {
	// URL is redis://[user:password@]host:port[/db] or redis+unix:///path/to/redis.sock; one that
	// does not parse (an empty one included, unless Cluster is set) is ErrMalformedInput. A password
	// in it never appears in an error message.
	URL string
	// Cluster lists the seed nodes of a Redis Cluster, redis://[user:password@]host:port each (any
	// reachable one tells the cluster's layout). Set, URL must be empty and KeyPrefix must not hold
	// "{" or "}": else ErrMalformedInput, from core.
	Cluster []string
	// KeyPrefix is prepended to every key (default "trustcore:"), so deployments can share a Redis;
	// String("") is no prefix at all.
	KeyPrefix *string
	// ConnectTimeout bounds opening a connection (default 1 s), CommandTimeout one command, sent and
	// answered (default 500 ms). Each is passed in whole milliseconds: under a millisecond counts as
	// one; zero or negative (passed as 0), or more than a day, is ErrMalformedInput, from core.
	ConnectTimeout *time.Duration
	CommandTimeout *time.Duration
	// RequestTimeout bounds all the Redis work of one request together: its commands, a connection
	// it opens, a retry (default 1 s). Past it the request is ErrStoreUnavailable. Milliseconds and
	// bounds as ConnectTimeout.
	RequestTimeout *time.Duration
	// MaxIdle is how many idle connections are kept for reuse (default 8; 0 opens one per command).
	MaxIdle *uint64
	// RetryInterval is the stores' circuit breaker (default 1 s): after a Redis failure every
	// request fails with ErrStoreUnavailable at once, without touching Redis, for this long; then one
	// request at a time probes Redis, and the first that succeeds closes the breaker. Milliseconds
	// and bounds as ConnectTimeout.
	RetryInterval *time.Duration
}

// Float64 is a pointer to f, for VerifierOptions.MaxSkewSeconds.
func Float64(f float64) *float64 { return &f }

// String is a pointer to s, for RedisOptions.KeyPrefix.
func String(s string) *string { return &s }

// DefaultVerifierOptions are the core's defaults (read from the library, never copied here), every
// field set but Revoked, Redis (nil: in-process stores), ReplayCapacityPerHolder and Authorities.
func DefaultVerifierOptions() VerifierOptions {
	d := C.tc_verifier_options_default()
	limits := goLimits(d.limits)
	return VerifierOptions{
		MaxSkewSeconds:     Float64(float64(d.max_skew_seconds)),
		Limits:             &limits,
		ReplayCapacity:     Uint64(uint64(d.replay_capacity)),
		TokenCacheCapacity: Uint64(uint64(d.token_cache_capacity)),
		TokenCacheMaxBytes: Uint64(uint64(d.token_cache_max_bytes)),
		MaxBatchRequests:   Uint64(uint64(d.max_batch_requests)),
		MaxBatchBodyBytes:  Uint64(uint64(d.max_batch_body_bytes)),
		Profiles:           profileNames(d.profiles),
		// ReplayCapacityPerHolder stays nil: the core's default is a share of ReplayCapacity;
		// Authorities too: the core's default is none
	}
}

// DefaultRedisOptions are the core's Redis defaults (read from the library), every field set but
// URL, which is yours to give: key prefix "trustcore:", 1 s to connect, 500 ms per command, 1 s for
// all of a request's Redis work, 8 idle connections, a 1 s retry interval.
func DefaultRedisOptions() RedisOptions {
	d := C.tc_redis_options_default()
	ms := func(v C.uint32_t) *time.Duration { return Duration(time.Duration(v) * time.Millisecond) }
	return RedisOptions{
		KeyPrefix:      String(C.GoStringN(d.key_prefix, C.int(d.key_prefix_len))),
		ConnectTimeout: ms(d.connect_timeout_ms),
		CommandTimeout: ms(d.command_timeout_ms),
		RequestTimeout: ms(d.request_timeout_ms),
		MaxIdle:        Uint64(uint64(d.max_idle)),
		RetryInterval:  ms(d.retry_interval_ms),
	}
}

// cSize is n as a size_t; on a 32-bit platform a count past its range is the largest size_t.
func cSize(n uint64) C.size_t {
	if n > uint64(^C.size_t(0)) {
		return ^C.size_t(0)
	}
	return C.size_t(n)
}

// NewVerifier makes a verifier trusting keys. With Redis, nothing connects here unless there are
// Revoked ids to write: an unreachable Redis makes each request fail with ErrStoreUnavailable.
func NewVerifier(keys *IssuerKeys, opts VerifierOptions) (*Verifier, error) {
	defer runtime.KeepAlive(keys)
	keysC, err := keys.acquire()
	if err != nil {
		return nil, err
	}
	defer keys.release(keysC)
	options := C.tc_verifier_options_default()
	if opts.MaxSkewSeconds != nil {
		options.max_skew_seconds = C.double(*opts.MaxSkewSeconds)
	}
	if opts.Limits != nil {
		options.limits = opts.Limits.orDefault()
	}
	for _, f := range []struct {
		set   *uint64
		field *C.size_t
	}{
		{opts.ReplayCapacity, &options.replay_capacity},
		{opts.TokenCacheCapacity, &options.token_cache_capacity},
		{opts.MaxBatchRequests, &options.max_batch_requests},
	} {
		if f.set != nil {
			*f.field = cSize(*f.set)
		}
	}
	if share := opts.ReplayCapacityPerHolder; share != nil {
		options.replay_capacity_per_holder.has = true
		options.replay_capacity_per_holder.value = cSize(*share)
	}
	if opts.TokenCacheMaxBytes != nil {
		options.token_cache_max_bytes = C.uint64_t(*opts.TokenCacheMaxBytes)
	}
	if opts.MaxBatchBodyBytes != nil {
		options.max_batch_body_bytes = C.uint64_t(*opts.MaxBatchBodyBytes)
	}
	var pin runtime.Pinner
	defer pin.Unpin()
	if r := opts.Redis; r != nil {
		redis := &options.redis.value // the core's Redis defaults, from tc_verifier_options_default
		options.redis.has = true
		redis.url, redis.url_len = pinText(&pin, r.URL) // "" is (NULL, 0): the core refuses it
		if r.KeyPrefix != nil {
			redis.key_prefix, redis.key_prefix_len = pinText(&pin, *r.KeyPrefix) // "" is no prefix
		}
		for _, f := range []struct {
			set   *time.Duration
			field *C.uint32_t
		}{
			{r.ConnectTimeout, &redis.connect_timeout_ms},
			{r.CommandTimeout, &redis.command_timeout_ms},
			{r.RequestTimeout, &redis.request_timeout_ms},
			{r.RetryInterval, &redis.retry_interval_ms},
		} {
			if f.set != nil {
				*f.field = millis(*f.set)
			}
		}
		if r.MaxIdle != nil {
			redis.max_idle = cSize(*r.MaxIdle)
		}
		redis.cluster, redis.cluster_count = pinStrs(&pin, r.Cluster)
	}
	if opts.Profiles != nil {
		bits, err := profileBits(opts.Profiles)
		if err != nil {
			return nil, err
		}
		options.profiles = bits
	}
	options.authorities, options.authorities_count = pinStrs(&pin, opts.Authorities)
	revoked := cStrs(&pin, opts.Revoked)
	var out *C.tc_verifier
	var cerr *C.tc_error
	status := C.tc_verifier_new(keysC, &options, &revoked[0], C.size_t(len(opts.Revoked)), &out, &cerr)
	if err := toError(status, cerr); err != nil {
		return nil, err
	}
	v := &Verifier{}
	v.n.ptr = out
	v.n.cleanup = runtime.AddCleanup(v, func(p *C.tc_verifier) { C.tc_verifier_free(p) }, out)
	return v, nil
}

// cNow is the C view of an optional clock reading (nil: the system clock).
func cNow(now *float64) *C.double {
	if now == nil {
		return nil
	}
	v := C.double(*now)
	return &v
}

// Authenticate checks one request as the package-level Authenticate does, plus: the token comes from
// the cache when seen before (it is cached once a proof with it verified), revocations are the
// verifier's, and a (holder, nonce) pair seen again inside the window is ErrReplayed. now nil is the
// system clock.
func (v *Verifier) Authenticate(proof *Proof, r Request, now *float64) (*Token, Identity, error) {
	defer runtime.KeepAlive(v)
	defer runtime.KeepAlive(proof)
	vC, err := v.acquire()
	if err != nil {
		return nil, Identity{}, err
	}
	defer v.release(vC)
	proofC, err := proof.acquire()
	if err != nil {
		return nil, Identity{}, err
	}
	defer proof.release(proofC)
	var pin runtime.Pinner
	defer pin.Unpin()
	req := cRequest(&pin, &r)
	var token *C.tc_token
	var identity *C.tc_identity
	var cerr *C.tc_error
	status := C.tc_verifier_authenticate(vC, proofC, &req, cNow(now), &token, &identity, &cerr)
	if err := toError(status, cerr); err != nil {
		return nil, Identity{}, err
	}
	return newToken(token), takeIdentity(identity), nil
}

// CheckPolicy is Token.CheckPolicy with the verifier's limits; now nil is the system clock.
func (v *Verifier) CheckPolicy(t *Token, facts []Pair, allow string, now *float64) error {
	defer runtime.KeepAlive(v)
	defer runtime.KeepAlive(t)
	vC, err := v.acquire()
	if err != nil {
		return err
	}
	defer v.release(vC)
	tC, err := t.acquire()
	if err != nil {
		return err
	}
	defer t.release(tC)
	var pin runtime.Pinner
	defer pin.Unpin()
	cf := cPairs(&pin, facts)
	al, alLen := cText(allow)
	var cerr *C.tc_error
	status := C.tc_verifier_check_policy(vC, tC, &cf[0], C.size_t(len(facts)), al, alLen, cNow(now), &cerr)
	return toError(status, cerr)
}

// Authorize is Token.Authorize with the verifier's limits and always a time fact (now nil is the
// system clock); it returns the index of the allow policy that matched.
func (v *Verifier) Authorize(t *Token, code string, now *float64, externFunctions []string) (int, error) {
	defer runtime.KeepAlive(v)
	defer runtime.KeepAlive(t)
	vC, err := v.acquire()
	if err != nil {
		return 0, err
	}
	defer v.release(vC)
	tC, err := t.acquire()
	if err != nil {
		return 0, err
	}
	defer t.release(tC)
	var pin runtime.Pinner
	defer pin.Unpin()
	cd, cdLen := cText(code)
	externs := cStrs(&pin, externFunctions)
	var policy C.size_t
	var cerr *C.tc_error
	status := C.tc_verifier_authorize(vC, tC, cd, cdLen, cNow(now), &externs[0], C.size_t(len(externFunctions)),
		&policy, &cerr)
	if err := toError(status, cerr); err != nil {
		return 0, err
	}
	return int(policy), nil
}

// Revoke refuses an id (an app revocation id, or a block's revocation id in hex) from the next
// request on. The core takes the id in its one spelling (hex in upper case is the same id); an id
// that has none (empty, whitespace or a control character in it, hex behind "0x") is
// ErrMalformedInput, never stored unmatched.
func (v *Verifier) Revoke(revocationID string) error {
	defer runtime.KeepAlive(v)
	vC, err := v.acquire()
	if err != nil {
		return err
	}
	defer v.release(vC)
	p, n := cText(revocationID)
	var cerr *C.tc_error
	return toError(C.tc_verifier_revoke(vC, p, n, &cerr), cerr)
}

// SetIssuer trusts keys from now on, in place of the keys trusted so far (issuer key rotation:
// first the old and the new key together, TrustIssuersByKeyID, later the new one alone). Cached
// tokens are dropped, so a token of a key no longer trusted is ErrTokenInvalid from the next
// request on. The verifier copies the keys: keys may be closed after the call.
func (v *Verifier) SetIssuer(keys *IssuerKeys) error {
	defer runtime.KeepAlive(v)
	defer runtime.KeepAlive(keys)
	vC, err := v.acquire()
	if err != nil {
		return err
	}
	defer v.release(vC)
	kC, err := keys.acquire()
	if err != nil {
		return err
	}
	defer keys.release(kC)
	var cerr *C.tc_error
	return toError(C.tc_verifier_set_issuer(vC, kC, &cerr), cerr)
}

// RevokeToken refuses a whole token from the next request on: its app revocation id and every
// block's id, so tokens derived from it (blocks appended) are refused too, and so are other tokens
// sharing its app id. t is any parsed token (ParseToken, or one Authenticate returned). With Redis,
// ErrStoreUnavailable when Redis cannot take the ids (some may be stored: call again).
func (v *Verifier) RevokeToken(t *Token) error {
	defer runtime.KeepAlive(v)
	defer runtime.KeepAlive(t)
	vC, err := v.acquire()
	if err != nil {
		return err
	}
	defer v.release(vC)
	tC, err := t.acquire()
	if err != nil {
		return err
	}
	defer t.release(tC)
	var cerr *C.tc_error
	return toError(C.tc_verifier_revoke_token(vC, tC, &cerr), cerr)
}

// CacheStats are the token cache's counters.
type CacheStats struct {
	Hits, Misses uint64 // since the verifier was made
	Entries      uint64 // tokens cached now
	Bytes        uint64 // their cost as counted against TokenCacheMaxBytes
}

// CacheStats reads the token cache's counters.
func (v *Verifier) CacheStats() CacheStats {
	defer runtime.KeepAlive(v)
	vC, _ := v.acquire()
	defer v.release(vC)
	var h, m, e, b C.uint64_t
	C.tc_verifier_cache_stats(vC, &h, &m, &e, &b)
	return CacheStats{Hits: uint64(h), Misses: uint64(m), Entries: uint64(e), Bytes: uint64(b)}
}

// MayWaitOnNetwork is whether a call may wait on the network: true with the stores on Redis (a
// round trip per request, up to the request timeout when Redis is slow or gone), false with the
// stores in memory, where every call is CPU work only (tens of µs). net/http serves each request on
// its own goroutine, so Middleware decides inline either way; an event-loop server runs the calls
// of a verifier that may wait off its loop. false once closed.
func (v *Verifier) MayWaitOnNetwork() bool {
	defer runtime.KeepAlive(v)
	vC, _ := v.acquire()
	defer v.release(vC)
	return bool(C.tc_verifier_may_wait_on_network(vC))
}

// Close releases the verifier now (see IssuerKey.Close): calls in flight finish first, later ones
// are ErrMalformedInput. Tokens it returned stay usable.
func (v *Verifier) Close() {
	if v != nil {
		v.n.close(func(p *C.tc_verifier) { C.tc_verifier_free(p) })
	}
}
