// Command trustcore-bench is the Go side of `make bench-go`: the per-request path (Authenticate +
// CheckPolicy) with the same keys, token shape, request and loop as bindings-c/examples/bench_core.rs;
// then the Verifier's (Authenticate with the token from its cache, a fresh nonce each request, +
// CheckPolicy) with the in-process stores and with Redis stores (a redis-server it starts on a free
// loopback port and kills at the end).
//
// usage: trustcore-bench [ITERATIONS]   prints `bench go per_request_median_ns N cpu_per_request_ns M`
// (the lowest of 3 rounds' median wall time per request, and the process CPU time per request over
// all rounds), the same for `gocgo`: the path called through cgo with no binding (rawcgo.go), and
// for `go/verifier-memory`, `gocgo/verifier-memory` (through plain cgo again), `go/batch64-one-by-one`
// and `go/batch64` (64 requests through a Verifier one by one, then as one AuthenticateBatch; samples
// of 64 requests, figures per request) and `go/verifier-redis`.
package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	trustcore "example.invalid/trustcore/bindings-c/go"
)

const now = 1700000000.0

func main() {
	iterations := 2000
	if len(os.Args) > 1 {
		if n, err := strconv.Atoi(os.Args[1]); err == nil && n > 0 {
			iterations = n
		}
	}
	if err := run(iterations); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(iterations int) error {
	issuer, err := trustcore.IssuerKeyFromSecretHex(strings.Repeat("11", 32))
	if err != nil {
		return err
	}
	worker, err := trustcore.WorkerKeyFromSecretHex(strings.Repeat("22", 32))
	if err != nil {
		return err
	}
	issuerHex, _ := issuer.PublicHex()
	workerHex, _ := worker.PublicHex()
	token, err := issuer.Mint(trustcore.MintRequest{PublicHex: workerHex, HolderID: "gpu-1",
		Facts: []trustcore.Fact{{Predicate: "lane", Values: []string{"transcribe", "gpu"}}}, RevocationID: "rev-1",
		ExpiresAt: now + 3600})
	if err != nil {
		return err
	}
	request := trustcore.Request{Method: "POST", Path: "/lease", Body: []byte(`{"job":42}`)}
	proof, err := worker.MakeProof(token, request, "1700000000", "n1")
	if err != nil {
		return err
	}
	trusted, err := trustcore.TrustIssuer(issuerHex)
	if err != nil {
		return err
	}
	options := trustcore.AuthenticateOptions{Now: now, MaxSkewSeconds: 300}
	facts := []trustcore.Pair{{Name: "operation", Value: "lease"}}
	const allow = `allow if operation("lease"), lane("transcribe")`

	once := func() error {
		verified, _, err := trustcore.Authenticate(trusted, proof, request, options)
		if err != nil {
			return err
		}
		defer verified.Close()
		return verified.CheckPolicy(facts, allow, now, nil)
	}
	if err := measure("go", iterations, once); err != nil {
		return err
	}
	workerSecret, _ := worker.SecretHex()
	requests := iterations/10 + rounds*iterations // what one measure makes
	raw, rawVerifier, free, err := rawCgo(issuerHex, token, workerSecret, requests)
	if err != nil {
		return err
	}
	defer free()
	if err := measure("gocgo", iterations, raw); err != nil {
		return err
	}

	// the Verifier: every request under a nonce of its own (a repeated one is ErrReplayed), signed
	// before the clock starts
	proofs := make([]*trustcore.Proof, requests)
	for i := range proofs {
		if proofs[i], err = worker.MakeProof(token, request, "1700000000", fmt.Sprintf("v%d", i)); err != nil {
			return err
		}
	}
	verifierPath := func(v *trustcore.Verifier) func() error {
		next := 0
		at := float64(now)
		return func() error {
			verified, _, err := v.Authenticate(proofs[next], request, &at)
			next++
			if err != nil {
				return err
			}
			return v.CheckPolicy(verified, facts, allow, &at)
		}
	}
	memory, err := trustcore.NewVerifier(trusted, trustcore.VerifierOptions{MaxSkewSeconds: 300,
		ReplayCapacity: len(proofs)})
	if err != nil {
		return err
	}
	defer memory.Close()
	if err := measure("go/verifier-memory", iterations, verifierPath(memory)); err != nil {
		return err
	}
	if err := measure("gocgo/verifier-memory", iterations, rawVerifier); err != nil {
		return err
	}
	// 64 requests one by one, then the same 64 as one batch, each on a Verifier of its own (memory
	// stores); Authenticate only, the token from the cache
	groups := max(iterations/batch, 10)
	batchReqs := make([]trustcore.BatchRequest, (groups/10+rounds*groups)*batch)
	for i := range batchReqs {
		p, err := worker.MakeProof(token, request, "1700000000", fmt.Sprintf("b%d", i))
		if err != nil {
			return err
		}
		batchReqs[i] = trustcore.BatchRequest{Proof: p, Request: request}
	}
	for _, batched := range []bool{false, true} {
		v, err := trustcore.NewVerifier(trusted, trustcore.VerifierOptions{MaxSkewSeconds: 300,
			ReplayCapacity: len(batchReqs)})
		if err != nil {
			return err
		}
		next := 0
		at := float64(now)
		once := func() error {
			reqs := batchReqs[next : next+batch]
			next += batch
			if !batched {
				for _, r := range reqs {
					if _, _, err := v.Authenticate(r.Proof, r.Request, &at); err != nil {
						return err
					}
				}
				return nil
			}
			for _, r := range v.AuthenticateBatch(reqs, &at) {
				if r.Err != nil {
					return r.Err
				}
			}
			return nil
		}
		name := "go/batch64-one-by-one"
		if batched {
			name = "go/batch64"
		}
		err = measurePer(name, groups, batch, once)
		v.Close()
		if err != nil {
			return err
		}
	}

	redis, err := startRedis()
	if err != nil {
		return err
	}
	defer redis.stop()
	shared, err := trustcore.NewVerifier(trusted, trustcore.VerifierOptions{MaxSkewSeconds: 300,
		Redis: &trustcore.RedisOptions{URL: redis.url(), KeyPrefix: "bench-go:"}})
	if err != nil {
		return err
	}
	defer shared.Close()
	return measure("go/verifier-redis", iterations, verifierPath(shared))
}

const rounds = 3

// batch is the size of the batch compared with as many requests one by one.
const batch = 64

// measure warms up, then times each of `iterations` requests.
func measure(name string, iterations int, once func() error) error {
	return measurePer(name, iterations, 1, once)
}

// measurePer is measure for samples of `per` requests each: the figures printed are per request.
func measurePer(name string, iterations, per int, once func() error) error {
	for i := 0; i < iterations/10; i++ {
		if err := once(); err != nil {
			return err
		}
	}
	best := time.Duration(-1)
	cpuStart := processCPU()
	for round := 0; round < rounds; round++ {
		samples := make([]time.Duration, iterations)
		for i := range samples {
			start := time.Now()
			if err := once(); err != nil {
				return err
			}
			samples[i] = time.Since(start)
		}
		sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
		if median := samples[len(samples)/2]; best < 0 || median < best {
			best = median
		}
	}
	cpu := (processCPU() - cpuStart) / time.Duration(rounds*iterations*per)
	best /= time.Duration(per)
	fmt.Printf("bench %s per_request_median_ns %d cpu_per_request_ns %d\n", name, best.Nanoseconds(), cpu.Nanoseconds())
	return nil
}

// processCPU is the user + system CPU time of the whole process (every thread, the runtime's too).
func processCPU() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
