// Command trustcore-bench is the Go side of `make bench-go`: the per-request path (Authenticate +
// CheckPolicy) with the same keys, token shape, request and loop as bindings-c/examples/bench_core.rs.
//
// usage: trustcore-bench [ITERATIONS]   prints `bench go per_request_median_ns N cpu_per_request_ns M`
// (the lowest of 3 rounds' median wall time per request, and the process CPU time per request over
// all rounds), then the same for `gocgo`: the path called through cgo with no binding (rawcgo.go).
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
	raw, free, err := rawCgo(issuerHex, token, workerSecret)
	if err != nil {
		return err
	}
	defer free()
	return measure("gocgo", iterations, raw)
}

// measure warms up, then times each of `iterations` requests.
func measure(name string, iterations int, once func() error) error {
	for i := 0; i < iterations/10; i++ {
		if err := once(); err != nil {
			return err
		}
	}
	const rounds = 3
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
	cpu := (processCPU() - cpuStart) / time.Duration(rounds*iterations)
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
