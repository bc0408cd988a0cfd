package trustcore

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestVerifier(t *testing.T) {
	f := newFixture(t)
	v, err := NewVerifier(f.trusted, VerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	now := fixtureNow
	token, id, err := v.Authenticate(f.proof, f.request, &now)
	if err != nil || id.HolderID != "gpu-1" {
		t.Fatalf("%+v %v", id, err)
	}
	facts := []Pair{{"req_operation", "lease"}}
	if err := v.CheckPolicy(token, facts, `allow if req_operation("lease")`, &now); err != nil {
		t.Fatal(err)
	}
	wantCode(t, v.CheckPolicy(token, facts, `allow if req_operation("x")`, &now), ErrDenied)
	if policy, err := v.Authorize(token, `allow if false; allow if true;`, &now, nil); err != nil || policy != 1 {
		t.Fatalf("authorize %d %v", policy, err)
	}
	_, _, err = v.Authenticate(f.proof, f.request, &now)
	wantCode(t, err, ErrReplayed)

	// a forged signature under a fresh nonce burns nothing
	fresh, _ := f.worker.MakeProof(f.token, f.request, "1700000000", "n2")
	forged, _ := NewProof(f.token, strings.Repeat("0", 128), "1700000000", "n2")
	_, _, err = v.Authenticate(forged, f.request, &now)
	wantCode(t, err, ErrPopFailed)
	if _, _, err := v.Authenticate(fresh, f.request, &now); err != nil {
		t.Fatal(err)
	}
	if s := v.CacheStats(); s.Misses != 1 || s.Hits < 2 || s.Entries != 1 || s.Bytes != 4096+4*uint64(len(f.token)) {
		t.Fatalf("cache %+v", s)
	}
	if err := v.Revoke("rev-1"); err != nil {
		t.Fatal(err)
	}
	third, _ := f.worker.MakeProof(f.token, f.request, "1700000000", "n3")
	_, _, err = v.Authenticate(third, f.request, &now)
	wantCode(t, err, ErrRevoked)
	v.Close()
	v.Close()
	if token.BlockCount() != 1 {
		t.Fatal("a token from the cache outlives its verifier")
	}
	_, _, err = v.Authenticate(third, f.request, &now)
	wantCode(t, err, ErrMalformedInput)

	revoked, _ := NewVerifier(f.trusted, VerifierOptions{Revoked: []string{"rev-1"}, MaxSkewSeconds: Float64(10)})
	_, _, err = revoked.Authenticate(fresh, f.request, &now)
	wantCode(t, err, ErrRevoked)
}

// TestVerifierOptions: DefaultVerifierOptions is the core's defaults, read through the library; a
// nil field keeps the default and a set one is passed as it is, zero included (MaxSkewSeconds 0 is no
// skew at all, which the core accepts); what the core refuses is its ErrMalformedInput.
func TestVerifierOptions(t *testing.T) {
	f := newFixture(t)
	d := DefaultVerifierOptions()
	if *d.MaxSkewSeconds != 300 || *d.ReplayCapacity != 100_000 || d.ReplayCapacityPerHolder != nil ||
		*d.TokenCacheCapacity != 10_000 || *d.TokenCacheMaxBytes != 64<<20 || *d.MaxBatchRequests != 1024 ||
		*d.MaxBatchBodyBytes != 64<<20 || d.Limits.String() != DefaultLimits().String() || d.Redis != nil ||
		d.Revoked != nil {
		t.Fatalf("DefaultVerifierOptions: %+v", d)
	}
	for _, opts := range []VerifierOptions{d, {}} {
		v, err := NewVerifier(f.trusted, opts)
		if err != nil {
			t.Fatal(err)
		}
		now := fixtureNow + 299 // within the default skew
		if _, _, err := v.Authenticate(f.proof, f.request, &now); err != nil {
			t.Fatal(err)
		}
		v.Close()
	}

	// MaxSkewSeconds 0: the proof (stamped 1700000000) is fresh at that second only
	v, err := NewVerifier(f.trusted, VerifierOptions{MaxSkewSeconds: Float64(0)})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	after, at := fixtureNow+1, fixtureNow
	_, _, err = v.Authenticate(f.proof, f.request, &after)
	wantCode(t, err, ErrStaleRequest)
	if _, _, err := v.Authenticate(f.proof, f.request, &at); err != nil {
		t.Fatal(err)
	}

	refused := map[string]VerifierOptions{
		"skew negative":                   {MaxSkewSeconds: Float64(-1)},
		"skew NaN":                        {MaxSkewSeconds: Float64(math.NaN())},
		"skew infinite":                   {MaxSkewSeconds: Float64(math.Inf(1))},
		"skew over a day":                 {MaxSkewSeconds: Float64(86400.5)},
		"replay capacity per holder zero": {ReplayCapacityPerHolder: Uint64(0)},
		// core bounds max_time (a day); a negative one is refused there too, never taken as zero
		"max_time negative":   {Limits: &Limits{MaxTime: Duration(-time.Millisecond)}},
		"max_time over a day": {Limits: &Limits{MaxTime: Duration(25 * time.Hour)}},
	}
	for name, opts := range refused {
		v, err := NewVerifier(f.trusted, opts)
		if !errors.Is(err, ErrMalformedInput) || v != nil {
			t.Errorf("%s: want ErrMalformedInput, got %v", name, err)
		}
	}
}

// TestVerifierConcurrent: one Verifier for every goroutine; each nonce passes once, then replays.
func TestVerifierConcurrent(t *testing.T) {
	f := newFixture(t)
	v, err := NewVerifier(f.trusted, VerifierOptions{Limits: patientLimits()})
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, rounds = 6, 20
	errs := make(chan error, goroutines*rounds)
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			now := fixtureNow
			for i := 0; i < rounds; i++ {
				proof, err := f.worker.MakeProof(f.token, f.request, "1700000000", fmt.Sprintf("g%d-%d", g, i))
				if err == nil {
					_, _, err = v.Authenticate(proof, f.request, &now)
				}
				if err == nil {
					_, _, err = v.Authenticate(proof, f.request, &now)
					if !isCode(err, Replayed) {
						err = fmt.Errorf("second use: want REPLAYED, got %v", err)
					} else {
						err = nil
					}
				}
				if err != nil {
					errs <- err
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func isCode(err error, code Code) bool {
	e, ok := err.(*Error)
	return ok && e.Code == code
}

func TestVerifierSetIssuerRotatesKeysAndDropsCachedTokens(t *testing.T) {
	f := newFixture(t)
	next, err := IssuerKeyFromSecretHex(strings.Repeat("33", 32))
	if err != nil {
		t.Fatal(err)
	}
	oldHex, _ := f.issuer.PublicHex()
	nextHex, _ := next.PublicHex()
	workerHex, _ := f.worker.PublicHex()
	tokens := map[uint32]string{}
	for id, key := range map[uint32]*IssuerKey{1: f.issuer, 2: next} {
		id := id
		tokens[id], err = key.Mint(MintRequest{PublicHex: workerHex, HolderID: "gpu-1", RevocationID: "rev-1",
			ExpiresAt: fixtureNow + 600, RootKeyID: &id})
		if err != nil {
			t.Fatal(err)
		}
	}
	trust := func(byID map[uint32]string) *IssuerKeys {
		keys, err := TrustIssuersByKeyID(byID)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(keys.Close)
		return keys
	}
	v, err := NewVerifier(trust(map[uint32]string{1: oldHex}), VerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	now := fixtureNow
	use := func(id uint32, nonce string) error {
		proof, err := f.worker.MakeProof(tokens[id], f.request, "1700000000", nonce)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = v.Authenticate(proof, f.request, &now)
		return err
	}
	if err := use(1, "a"); err != nil { // cached now
		t.Fatal(err)
	}
	wantCode(t, use(2, "b"), ErrTokenInvalid)
	if err := v.SetIssuer(trust(map[uint32]string{1: oldHex, 2: nextHex})); err != nil {
		t.Fatal(err)
	}
	for i, id := range []uint32{1, 2} {
		if err := use(id, fmt.Sprint("both-", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := v.SetIssuer(trust(map[uint32]string{2: nextHex})); err != nil {
		t.Fatal(err)
	}
	wantCode(t, use(1, "e"), ErrTokenInvalid) // cached a moment ago, refused all the same
	if err := use(2, "f"); err != nil {
		t.Fatal(err)
	}
}
