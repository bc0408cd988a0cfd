//go:build faultinjection

package trustcore

// The panic boundary (docs/DESIGN.md §5), run by `make test-panic-go` against a `fault-injection` build of
// libtrustcore, whose core panics inside canonical_request when the request method is
// panicMethod. Every Go entry point that reaches canonical_request (SignRequest in the legacy
// profile among them) must return an error with code INTERNAL (errors.Is(err, ErrInternal)), the
// process must live on, and the same objects (keys, proofs, IssuerKeys, Verifier) must keep working.
// Against an ordinary build these tests fail: the marked requests would not be refused with INTERNAL.

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
)

// panicMethod is trustcore_core::fault::PANIC_METHOD.
const panicMethod = "TRUSTCORE-INJECTED-PANIC"

func wantInternal(t *testing.T, what string, err error) {
	t.Helper()
	var te *Error
	if !errors.Is(err, ErrInternal) || !errors.As(err, &te) || te.Code != Internal {
		t.Fatalf("%s: want INTERNAL, got %v", what, err)
	}
}

func TestPanicBoundary(t *testing.T) {
	f := newFixture(t)
	marked := Request{Method: panicMethod, Path: f.request.Path, Body: f.request.Body}

	// CanonicalRequest, then a normal one
	_, err := CanonicalRequest(marked, "1700000000", "n1")
	wantInternal(t, "CanonicalRequest", err)
	if c, err := CanonicalRequest(f.request, "1700000000", "n1"); err != nil || len(c) == 0 {
		t.Fatalf("CanonicalRequest after the panic: %q %v", c, err)
	}

	// WorkerKey.MakeProof, then the same key signs a normal request
	p, err := f.worker.MakeProof(f.token, marked, "1700000000", "n-panic")
	wantInternal(t, "MakeProof", err)
	if p != nil {
		t.Fatal("MakeProof returned a proof with its error")
	}
	proof, err := f.worker.MakeProof(f.token, f.request, "1700000000", "n-after")
	if err != nil {
		t.Fatalf("MakeProof after the panic: %v", err)
	}

	// SignRequest in the legacy profile builds the canonical request too; then the same key signs
	signOpts := SignRequestOptions{Method: panicMethod, URL: f.request.Path, Headers: []Pair{{"Host", "api.example.com"}},
		Body: f.request.Body, Profile: "legacy", Created: Int64(1700000000), Nonce: String("h-1")}
	headers, err := SignRequest(f.worker, f.token, signOpts)
	wantInternal(t, "SignRequest", err)
	if headers != nil {
		t.Fatal("SignRequest returned headers with its error")
	}
	signOpts.Method = "POST"
	if headers, err = SignRequest(f.worker, f.token, signOpts); err != nil || len(headers) != 4 {
		t.Fatalf("SignRequest after the panic: %v %v", headers, err)
	}

	// Authenticate (stateless): the proof is valid, the token and timestamp pass, the panic comes at
	// the proof-of-possession step; then the same IssuerKeys and Proof authenticate the real request
	tok, id, err := Authenticate(f.trusted, proof, marked, f.options)
	wantInternal(t, "Authenticate", err)
	if tok != nil || !reflect.DeepEqual(id, Identity{}) {
		t.Fatal("Authenticate returned a token or identity with its error")
	}
	tok, id, err = Authenticate(f.trusted, proof, f.request, f.options)
	if err != nil || id.HolderID != "gpu-1" {
		t.Fatalf("Authenticate after the panic: %+v %v", id, err)
	}
	if err := tok.CheckPolicy([]Pair{{"req_operation", "lease"}}, `allow if lane("gpu")`, fixtureNow, nil); err != nil {
		t.Fatalf("CheckPolicy after the panic: %v", err)
	}

	// Verifier.Authenticate: INTERNAL, and the nonce is not burnt (recorded only after the proof
	// of possession verified), so the same proof then passes on the same Verifier, once
	v, err := NewVerifier(f.trusted, VerifierOptions{MaxSkewSeconds: Float64(300)})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	now := fixtureNow
	_, _, err = v.Authenticate(proof, marked, &now)
	wantInternal(t, "Verifier.Authenticate", err)
	_, _, err = v.Authenticate(proof, marked, &now) // again: still INTERNAL, not REPLAYED
	wantInternal(t, "Verifier.Authenticate, twice", err)
	vt, id, err := v.Authenticate(proof, f.request, &now)
	if err != nil || id.HolderID != "gpu-1" {
		t.Fatalf("Verifier.Authenticate after the panic: %+v %v", id, err)
	}
	if err := v.CheckPolicy(vt, []Pair{{"req_operation", "lease"}}, `allow if lane("gpu")`, &now); err != nil {
		t.Fatalf("Verifier.CheckPolicy after the panic: %v", err)
	}
	_, _, err = v.Authenticate(proof, f.request, &now)
	wantCode(t, err, ErrReplayed) // the replay store still works

	// Verifier.AuthenticateBatch: a marked request in a batch is INTERNAL
	fresh := func(nonce string) *Proof {
		t.Helper()
		p, err := f.worker.MakeProof(f.token, f.request, "1700000000", nonce)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	results, err := v.AuthenticateBatch([]BatchRequest{{Proof: fresh("b-0"), Request: marked}}, &now)
	if err != nil {
		wantInternal(t, "AuthenticateBatch (one marked request), the call", err)
	} else if len(results) != 1 {
		t.Fatalf("%d results", len(results))
	} else {
		wantInternal(t, "AuthenticateBatch (one marked request)", results[0].Err)
	}
	// mixed: the marked request is INTERNAL whatever happens to the others, which either pass or
	// carry that same INTERNAL, or the whole call is INTERNAL (a panic may end it), never another code
	mixed := []BatchRequest{{Proof: fresh("b-1"), Request: f.request}, {Proof: fresh("b-2"), Request: marked},
		{Proof: fresh("b-3"), Request: f.request}}
	results, err = v.AuthenticateBatch(mixed, &now)
	if err != nil {
		wantInternal(t, "AuthenticateBatch (mixed), the call", err) // the panic ended the whole call
	} else {
		wantInternal(t, "AuthenticateBatch (mixed), the marked request", results[1].Err)
		for _, i := range []int{0, 2} {
			if results[i].Err != nil {
				wantInternal(t, fmt.Sprintf("AuthenticateBatch (mixed), request %d", i), results[i].Err)
			} else if results[i].Identity.HolderID != "gpu-1" {
				t.Fatalf("AuthenticateBatch (mixed), request %d: %+v", i, results[i].Identity)
			}
		}
	}
	// then a normal batch on the same Verifier: every request passes once (the nonces of the
	// batches that panicked, b-0 to b-3, were not burnt either)
	normal := []BatchRequest{{Proof: fresh("b-0"), Request: f.request}, {Proof: fresh("b-1"), Request: f.request},
		{Proof: fresh("b-2"), Request: f.request}, {Proof: fresh("b-3"), Request: f.request},
		{Proof: fresh("b-4"), Request: f.request}}
	results, err = v.AuthenticateBatch(normal, &now)
	if err != nil {
		t.Fatalf("AuthenticateBatch after the panic: %v", err)
	}
	for i, r := range results {
		if r.Err != nil || r.Identity.HolderID != "gpu-1" {
			t.Fatalf("AuthenticateBatch after the panic, request %d: %+v %v", i, r.Identity, r.Err)
		}
	}
}

// TestPanicBoundaryConcurrent: goroutines alternate marked and normal requests on one Verifier and
// one IssuerKeys (under -race in make test-panic-go); every marked one is INTERNAL, every normal one
// passes: a panic in one call poisons nothing the others share.
func TestPanicBoundaryConcurrent(t *testing.T) {
	f := newFixture(t)
	marked := Request{Method: panicMethod, Path: f.request.Path, Body: f.request.Body}
	v, err := NewVerifier(f.trusted, VerifierOptions{MaxSkewSeconds: Float64(300)})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	const goroutines, rounds = 4, 25
	errs := make(chan error, goroutines*rounds*4)
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			now := fixtureNow
			check := func(what string, err error, internal bool) {
				switch {
				case internal && !errors.Is(err, ErrInternal):
					errs <- fmt.Errorf("%s: want INTERNAL, got %v", what, err)
				case !internal && err != nil:
					errs <- fmt.Errorf("%s: %v", what, err)
				}
			}
			for i := 0; i < rounds; i++ {
				_, err := f.worker.MakeProof(f.token, marked, "1700000000", "m")
				check("MakeProof marked", err, true)
				p, err := f.worker.MakeProof(f.token, f.request, "1700000000", fmt.Sprintf("g%d-%d", g, i))
				check("MakeProof", err, false)
				if p == nil {
					continue
				}
				_, _, err = Authenticate(f.trusted, p, marked, f.options)
				check("Authenticate marked", err, true)
				_, _, err = v.Authenticate(p, marked, &now)
				check("Verifier.Authenticate marked", err, true)
				_, _, err = v.Authenticate(p, f.request, &now)
				check("Verifier.Authenticate", err, false)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
