// Command trustcore-bench is the Go harness of `make bench` (impl `go`): the fixture, operations and
// timing loop of bench/README.md, one JSON line per figure, comparable with every other binding's.
// Extra ops under impl `go-rawcgo` (rawcgo.go) make the same per-request calls straight through cgo
// with no binding in between: the gap between the two is the binding's own cost.
//
// usage: trustcore-bench OUT.jsonl   (`-` for standard output; progress on standard error)
//
// The signer op starts `$TRUSTCORE_BIN signer serve` (target/release/trustcore when unset), the Redis
// op a redis-server on a free loopback port; both are killed at the end. GOMAXPROCS is left at its
// default.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"go.trustcore.dev/trustcore"
)

const (
	now       = 1700000000.0
	timestamp = "1700000000"
	samples   = 21
	allow     = `allow if req_operation("lease"), lane("transcribe")`
	jobJSON   = `{"id":"job-1","kind":"transcribe","n":3,"url":"https://example.invalid/a.mp3"}`
	batchSize = 64
	// the HTTP ops: POST /lease to this authority, the 1 KiB body, under this route policy
	httpAuthority = "bench.example"
	httpPolicy    = `{"routes": [{"method": "POST", "path": "/lease", "allow": "allow if req_operation(\"lease\"), lane(\"transcribe\")"}]}`
)

var facts = []trustcore.Pair{{Name: "req_operation", Value: "lease"}}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: trustcore-bench OUT.jsonl (or -)")
		os.Exit(2)
	}
	var w io.Writer = os.Stdout
	if os.Args[1] != "-" {
		f, err := os.Create(os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer f.Close()
		w = f
	}
	o := &out{w: bufio.NewWriter(w)}
	err := run(o)
	if ferr := o.w.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1) // deferred Close skipped: the figures written so far are flushed above
	}
}

// out writes one JSON line per figure.
type out struct{ w *bufio.Writer }

type timing struct {
	Impl    string  `json:"impl"`
	Op      string  `json:"op"`
	Unit    string  `json:"unit"`
	Median  float64 `json:"median"`
	Min     float64 `json:"min"`
	Max     float64 `json:"max"`
	Samples int     `json:"samples"`
	K       int     `json:"k"`
}

type rate struct {
	Impl     string  `json:"impl"`
	Op       string  `json:"op"`
	Threads  int     `json:"threads"`
	Unit     string  `json:"unit"`
	Value    float64 `json:"value"`
	Requests uint64  `json:"requests"`
	Seconds  float64 `json:"seconds"`
}

func (o *out) line(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if _, err := o.w.Write(b); err != nil {
		return err
	}
	return o.w.Flush()
}

// measure is bench/README.md's loop: warm up 0.2 s (at least 3 calls, at most a fifth of the pool),
// k calls per ~10 ms sample (at most pool/21 of what is left), 21 samples; figures per iteration
// divided by per (the requests one call makes). pool 0: no pool. It returns the median (ns).
func (o *out) measure(impl, op string, pool, per int, call func() error) (float64, error) {
	warmCap := int(^uint(0) >> 1)
	if pool > 0 {
		warmCap = pool / 5
	}
	start := time.Now()
	calls := 0
	for calls < 3 || (time.Since(start) < 200*time.Millisecond && calls < warmCap) {
		if err := call(); err != nil {
			return 0, fmt.Errorf("%s %s (warm-up): %w", impl, op, err)
		}
		calls++
	}
	perCall := time.Since(start).Seconds() / float64(calls)
	k := max(1, int(0.010/perCall+0.5))
	if pool > 0 {
		k = max(1, min(k, (pool-calls)/samples))
	}
	times := make([]float64, samples)
	for s := range times {
		t := time.Now()
		for i := 0; i < k; i++ {
			if err := call(); err != nil {
				return 0, fmt.Errorf("%s %s: %w", impl, op, err)
			}
		}
		times[s] = float64(time.Since(t).Nanoseconds()) / float64(k*per)
	}
	sort.Float64s(times)
	median := times[samples/2]
	fmt.Fprintf(os.Stderr, "%s %s: %.1f us\n", impl, op, median/1000)
	return median, o.line(timing{Impl: impl, Op: op, Unit: "ns", Median: median, Min: times[0],
		Max: times[samples-1], Samples: samples, K: k})
}

func (o *out) throughput(op string, threads int, requests uint64, seconds float64) error {
	value := float64(requests) / seconds
	fmt.Fprintf(os.Stderr, "go %s x%d: %.0f req/s\n", op, threads, value)
	return o.line(rate{Impl: "go", Op: op, Threads: threads, Unit: "req/s", Value: value, Requests: requests,
		Seconds: seconds})
}

// fixture is bench/README.md's: keys, the token, the bodies.
type fixture struct {
	issuer    *trustcore.IssuerKey
	holder    *trustcore.WorkerKey
	trusted   *trustcore.IssuerKeys
	issuerHex string
	holderHex string
	mint      trustcore.MintRequest
	token     string
	options   trustcore.AuthenticateOptions
}

type body struct {
	name  string
	bytes []byte
	pool  int
}

var bodies = []body{
	{"2B", []byte("{}"), 10_000},
	{"1KiB", []byte(strings.Repeat("x", 1024)), 10_000},
	{"1MiB", []byte(strings.Repeat("x", 1<<20)), 600},
}

func request(b []byte) trustcore.Request {
	return trustcore.Request{Method: "POST", Path: "/lease", Body: b}
}

func newFixture() (*fixture, error) {
	f := &fixture{options: trustcore.AuthenticateOptions{Now: now, MaxSkewSeconds: 300}}
	var err error
	if f.issuer, err = trustcore.IssuerKeyFromSecretHex(strings.Repeat("11", 32)); err != nil {
		return nil, err
	}
	if f.holder, err = trustcore.WorkerKeyFromSecretHex(strings.Repeat("22", 32)); err != nil {
		return nil, err
	}
	if f.issuerHex, err = f.issuer.PublicHex(); err != nil {
		return nil, err
	}
	if f.holderHex, err = f.holder.PublicHex(); err != nil {
		return nil, err
	}
	if f.trusted, err = trustcore.TrustIssuer(f.issuerHex); err != nil {
		return nil, err
	}
	f.mint = trustcore.MintRequest{PublicHex: f.holderHex, HolderID: "gpu-1",
		Facts: []trustcore.Fact{{Predicate: "lane", Values: []string{"transcribe", "gpu"}}}, RevocationID: "rev-1",
		ExpiresAt: now + 3600}
	if f.token, err = f.issuer.Mint(f.mint); err != nil {
		return nil, err
	}
	return f, nil
}

// proofs makes count proofs for body, each under a nonce of its own (tag-i), before timing; on every
// CPU, as making them is not what is measured.
func (f *fixture) proofs(b []byte, count int, tag string) ([]*trustcore.Proof, error) {
	r := request(b)
	ps := make([]*trustcore.Proof, count)
	workers := runtime.GOMAXPROCS(0)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < count; i += workers {
				p, err := f.holder.MakeProof(f.token, r, timestamp, fmt.Sprintf("%s-%d", tag, i))
				if err != nil {
					errs[w] = err
					return
				}
				ps[i] = p
			}
		}()
	}
	wg.Wait()
	return ps, errors.Join(errs...)
}

func closeProofs(ps []*trustcore.Proof) {
	for _, p := range ps {
		if p != nil {
			p.Close()
		}
	}
}

// verifier holds every nonce of a pool (at the fixed NOW none expires); the fixture has one holder,
// whose share is the whole store (the core's default is a quarter of it).
func (f *fixture) verifier(pool int, redis *trustcore.RedisOptions) (*trustcore.Verifier, error) {
	return trustcore.NewVerifier(f.trusted, f.verifierOptions(pool, redis))
}

func (f *fixture) verifierOptions(pool int, redis *trustcore.RedisOptions) trustcore.VerifierOptions {
	capacity := trustcore.Uint64(uint64(max(pool, 1000)))
	return trustcore.VerifierOptions{MaxSkewSeconds: trustcore.Float64(300), ReplayCapacity: capacity,
		ReplayCapacityPerHolder: capacity, Redis: redis}
}

// httpRequests signs count requests (POST /lease to httpAuthority, the 1 KiB body) in profile, each
// with a nonce of its own (tag-i) and created = now, as header lines (the Host line first), before
// timing.
func (f *fixture) httpRequests(profile string, count int, tag string) ([][]trustcore.Pair, error) {
	host := []trustcore.Pair{{Name: "Host", Value: httpAuthority}}
	created := trustcore.Int64(int64(now))
	rs := make([][]trustcore.Pair, count)
	for i := range rs {
		nonce := fmt.Sprintf("%s-%d", tag, i)
		signed, err := trustcore.SignRequest(f.holder, f.token, trustcore.SignRequestOptions{Method: "POST",
			URL: "/lease", Headers: host, Body: bodies[1].bytes, Profile: profile, Created: created, Nonce: &nonce})
		if err != nil {
			return nil, err
		}
		rs[i] = append(append([]trustcore.Pair{}, host...), signed...)
	}
	return rs, nil
}

// warm puts the token in v's cache (a request of its own, not from a pool).
func (f *fixture) warm(v *trustcore.Verifier, b []byte, tag string) error {
	ps, err := f.proofs(b, 1, tag+"-warm")
	if err != nil {
		return err
	}
	defer closeProofs(ps)
	at := now
	token, _, err := v.Authenticate(ps[0], request(b), &at)
	if err == nil {
		token.Close()
	}
	return err
}

// next hands out a pool's proofs once each; running out is an error, never a reused nonce.
func next(ps []*trustcore.Proof) func() (*trustcore.Proof, error) {
	i := 0
	return func() (*trustcore.Proof, error) {
		if i >= len(ps) {
			return nil, errors.New("proof pool exhausted")
		}
		i++
		return ps[i-1], nil
	}
}

func run(o *out) error {
	f, err := newFixture()
	if err != nil {
		return err
	}
	small := request([]byte("{}"))

	if _, err := o.measure("go", "mint", 0, 1, func() error {
		_, err := f.issuer.Mint(f.mint)
		return err
	}); err != nil {
		return err
	}
	if _, err := o.measure("go", "make_proof", 0, 1, func() error {
		p, err := f.holder.MakeProof(f.token, small, timestamp, "n-1")
		if err == nil {
			p.Close()
		}
		return err
	}); err != nil {
		return err
	}
	for _, b := range bodies {
		r := request(b.bytes)
		proof, err := f.holder.MakeProof(f.token, r, timestamp, "n-1")
		if err != nil {
			return err
		}
		if _, err := o.measure("go", "authenticate_uncached_"+b.name, 0, 1, func() error {
			token, _, err := trustcore.Authenticate(f.trusted, proof, r, f.options)
			if err == nil {
				token.Close()
			}
			return err
		}); err != nil {
			return err
		}
		proof.Close()
	}
	for _, b := range bodies {
		if err := cachedAuthenticate(o, f, b); err != nil {
			return err
		}
	}

	proof, err := f.holder.MakeProof(f.token, small, timestamp, "n-1")
	if err != nil {
		return err
	}
	defer proof.Close()
	parsed, err := trustcore.ParseToken(f.trusted, f.token)
	if err != nil {
		return err
	}
	defer parsed.Close()
	if _, err := o.measure("go", "check_policy", 0, 1, func() error {
		return parsed.CheckPolicy(facts, allow, now, nil)
	}); err != nil {
		return err
	}
	perRequestUncached := func() error {
		token, _, err := trustcore.Authenticate(f.trusted, proof, small, f.options)
		if err != nil {
			return err
		}
		defer token.Close()
		return token.CheckPolicy(facts, allow, now, nil)
	}
	if _, err := o.measure("go", "per_request_uncached", 0, 1, perRequestUncached); err != nil {
		return err
	}
	cachedMedian, err := perRequestCached(o, f, "per_request_cached", nil)
	if err != nil {
		return err
	}
	// right after it: the HTTP goal compares the two
	for _, h := range []struct{ op, profile string }{
		{"http_rfc9421_cached", "rfc9421"}, {"http_legacy_cached", "legacy"},
	} {
		if err := httpCached(o, f, h.op, h.profile); err != nil {
			return err
		}
	}
	redis, err := startRedis()
	if err != nil {
		return err
	}
	_, err = perRequestCached(o, f, "per_request_cached_redis",
		&trustcore.RedisOptions{URL: redis.url(), KeyPrefix: trustcore.String("bench-go:")})
	redis.stop()
	if err != nil {
		return err
	}

	if err := rawCgoOps(o, f); err != nil {
		return err
	}
	if err := jobOps(o, f); err != nil {
		return err
	}
	if err := signerOp(o, f); err != nil {
		return err
	}
	if err := batchOps(o, f); err != nil {
		return err
	}
	return throughput(o, f, perRequestUncached, cachedMedian)
}

// cachedAuthenticate: Verifier.Authenticate (memory stores, the token cached), a fresh proof each call.
func cachedAuthenticate(o *out, f *fixture, b body) error {
	r := request(b.bytes)
	ps, err := f.proofs(b.bytes, b.pool, "c"+b.name)
	if err != nil {
		return err
	}
	defer closeProofs(ps)
	v, err := f.verifier(b.pool, nil)
	if err != nil {
		return err
	}
	defer v.Close()
	if err := f.warm(v, b.bytes, "c"+b.name); err != nil {
		return err
	}
	nextProof := next(ps)
	at := now
	_, err = o.measure("go", "authenticate_cached_"+b.name, b.pool, 1, func() error {
		p, err := nextProof()
		if err != nil {
			return err
		}
		token, _, err := v.Authenticate(p, r, &at)
		if err == nil {
			token.Close()
		}
		return err
	})
	return err
}

// perRequestCached: Verifier.Authenticate then the Verifier's CheckPolicy; returns the median (ns).
func perRequestCached(o *out, f *fixture, op string, redis *trustcore.RedisOptions) (float64, error) {
	const pool = 10_000
	small := request([]byte("{}"))
	ps, err := f.proofs(small.Body, pool, op)
	if err != nil {
		return 0, err
	}
	defer closeProofs(ps)
	v, err := f.verifier(pool, redis)
	if err != nil {
		return 0, err
	}
	defer v.Close()
	if err := f.warm(v, small.Body, op); err != nil {
		return 0, err
	}
	nextProof := next(ps)
	at := now
	return o.measure("go", op, pool, 1, func() error {
		p, err := nextProof()
		if err != nil {
			return err
		}
		token, _, err := v.Authenticate(p, small, &at)
		if err != nil {
			return err
		}
		defer token.Close()
		return v.CheckPolicy(token, facts, allow, &at)
	})
}

// httpCached: Verifier.Decide (the HTTP decision function) on a cached token, the 1 KiB body, a fresh
// nonce per request, on a Verifier of its own that answers to httpAuthority; every decision must be
// allowed.
func httpCached(o *out, f *fixture, op, profile string) error {
	const pool = 10_000
	policy, err := trustcore.HttpPolicyFromJSON([]byte(httpPolicy))
	if err != nil {
		return err
	}
	defer policy.Close()
	opts := f.verifierOptions(pool, nil)
	opts.Authorities = []string{httpAuthority}
	v, err := trustcore.NewVerifier(f.trusted, opts)
	if err != nil {
		return err
	}
	defer v.Close()
	at := now
	decide := func(headers []trustcore.Pair) error {
		d, err := v.Decide(trustcore.HttpRequest{Method: "POST", Target: "/lease", Headers: headers,
			Body: bodies[1].bytes}, policy, facts, &at)
		if err != nil {
			return err
		}
		if !d.Allowed {
			return fmt.Errorf("refused, %d: %w", d.Status, d.Err())
		}
		return nil
	}
	warm, err := f.httpRequests(profile, 1, op+"-warm")
	if err != nil {
		return err
	}
	if err := decide(warm[0]); err != nil { // the token cached
		return fmt.Errorf("go %s (warm): %w", op, err)
	}
	rs, err := f.httpRequests(profile, pool, op)
	if err != nil {
		return err
	}
	i := 0
	_, err = o.measure("go", op, pool, 1, func() error {
		if i >= len(rs) {
			return errors.New("request pool exhausted")
		}
		i++
		return decide(rs[i-1])
	})
	return err
}

func jobOps(o *out, f *fixture) error {
	job := json.RawMessage(jobJSON)
	sig, err := f.issuer.SignJob(job, "gpu-1")
	if err != nil {
		return err
	}
	signed := json.RawMessage(strings.TrimSuffix(jobJSON, "}") + `,"sig":"` + sig + `"}`)
	if _, err := o.measure("go", "sign_job", 0, 1, func() error {
		_, err := f.issuer.SignJob(job, "gpu-1")
		return err
	}); err != nil {
		return err
	}
	_, err = o.measure("go", "verify_job", 0, 1, func() error {
		return trustcore.VerifyJob(f.issuerHex, signed, "gpu-1", nil)
	})
	return err
}

// signerOp: SignerClient.Mint over a Unix socket to `trustcore signer serve` (no audit log). The
// signer checks the expiry against its own clock, so it is the real clock's, as in the Rust harness.
func signerOp(o *out, f *fixture) error {
	secret, err := f.issuer.SecretHex()
	if err != nil {
		return err
	}
	d, err := startSigner(secret)
	if err != nil {
		return err
	}
	defer d.stop()
	client, err := trustcore.NewSignerClient(d.socket, time.Second, 5*time.Second)
	if err != nil {
		return err
	}
	defer client.Close()
	req := trustcore.SignerMintRequest{PublicHex: f.holderHex, HolderID: "gpu-1", Facts: f.mint.Facts,
		RevocationID: "rev-1", ExpiresAt: trustcore.NowSeconds() + 3600}
	_, err = o.measure("go", "signer_mint_socket", 0, 1, func() error {
		_, err := client.Mint(req)
		return err
	})
	return err
}

// batchOps: 64 requests one by one, then 64 as one AuthenticateBatch, each on a Verifier of its own
// (memory stores); figures per request.
func batchOps(o *out, f *fixture) error {
	const pool = 400 * batchSize
	small := request([]byte("{}"))
	for _, op := range []string{"batch64_one_by_one", "batch64"} {
		ps, err := f.proofs(small.Body, pool, op)
		if err != nil {
			return err
		}
		reqs := make([]trustcore.BatchRequest, pool)
		for i, p := range ps {
			reqs[i] = trustcore.BatchRequest{Proof: p, Request: small}
		}
		v, err := f.verifier(pool, nil)
		if err != nil {
			closeProofs(ps)
			return err
		}
		at := now
		group := 0
		_, err = o.measure("go", op, pool/batchSize, batchSize, func() error {
			if (group+1)*batchSize > len(reqs) {
				return errors.New("proof pool exhausted")
			}
			rs := reqs[group*batchSize : (group+1)*batchSize]
			group++
			if op == "batch64" {
				results, err := v.AuthenticateBatch(rs, &at)
				if err != nil {
					return err
				}
				var first error
				for _, r := range results {
					if r.Err != nil && first == nil {
						first = r.Err
					}
					if r.Token != nil {
						r.Token.Close()
					}
				}
				return first
			}
			for _, r := range rs {
				token, _, err := v.Authenticate(r.Proof, r.Request, &at)
				if err != nil {
					return err
				}
				token.Close()
			}
			return nil
		})
		v.Close()
		closeProofs(ps)
		if err != nil {
			return err
		}
	}
	return nil
}

// throughput: the per-request path on 1 then 2 goroutines for about a second each. The cached form
// shares one Verifier, each goroutine with proofs of its own: 40,000 (as the Rust harness), or more
// when the single-call median just measured (cachedNs) says a second could need them; running out
// still fails.
func throughput(o *out, f *fixture, uncached func() error, cachedNs float64) error {
	for _, threads := range []int{1, 2} {
		requests, seconds, err := runGoroutines(threads, func(_ int, deadline time.Time) (uint64, error) {
			var n uint64
			for time.Now().Before(deadline) {
				if err := uncached(); err != nil {
					return n, err
				}
				n++
			}
			return n, nil
		})
		if err != nil {
			return fmt.Errorf("throughput_uncached: %w", err)
		}
		if err := o.throughput("throughput_uncached", threads, requests, seconds); err != nil {
			return err
		}
	}
	perThread := max(40_000, min(200_000, int(1.5e9/cachedNs)+1000))
	small := request([]byte("{}"))
	for _, threads := range []int{1, 2} {
		pools := make([][]*trustcore.Proof, threads)
		for t := range pools {
			ps, err := f.proofs(small.Body, perThread, fmt.Sprintf("t%d-%d", threads, t))
			if err != nil {
				return err
			}
			pools[t] = ps
		}
		v, err := f.verifier(threads*perThread, nil)
		if err != nil {
			return err
		}
		if err := f.warm(v, small.Body, fmt.Sprintf("t%d", threads)); err != nil {
			return err
		}
		requests, seconds, err := runGoroutines(threads, func(t int, deadline time.Time) (uint64, error) {
			at := now
			var n uint64
			for _, p := range pools[t] {
				if !time.Now().Before(deadline) {
					return n, nil
				}
				token, _, err := v.Authenticate(p, small, &at)
				if err != nil {
					return n, err
				}
				err = v.CheckPolicy(token, facts, allow, &at)
				token.Close()
				if err != nil {
					return n, err
				}
				n++
			}
			return n, errors.New("throughput proof pool exhausted")
		})
		v.Close()
		for _, ps := range pools {
			closeProofs(ps)
		}
		if err != nil {
			return fmt.Errorf("throughput_cached: %w", err)
		}
		if err := o.throughput("throughput_cached", threads, requests, seconds); err != nil {
			return err
		}
	}
	return nil
}

func runGoroutines(threads int, work func(t int, deadline time.Time) (uint64, error)) (uint64, float64, error) {
	start := time.Now()
	deadline := start.Add(time.Second)
	counts := make([]uint64, threads)
	errs := make([]error, threads)
	var wg sync.WaitGroup
	for t := 0; t < threads; t++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts[t], errs[t] = work(t, deadline)
		}()
	}
	wg.Wait()
	seconds := time.Since(start).Seconds()
	var total uint64
	for _, c := range counts {
		total += c
	}
	return total, seconds, errors.Join(errs...)
}
