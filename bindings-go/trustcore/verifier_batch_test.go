package trustcore

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// TestAuthenticateBatchMixed: every kind of refusal in one batch, and two holders among the
// accepted; each request gets what a second verifier, used one by one, gives it alone.
func TestAuthenticateBatchMixed(t *testing.T) {
	f := newFixture(t)
	other, err := WorkerKeyFromSecretHex(strings.Repeat("33", 32))
	if err != nil {
		t.Fatal(err)
	}
	otherHex, _ := other.PublicHex()
	otherToken, err := f.issuer.Mint(MintRequest{PublicHex: otherHex, HolderID: "cpu-7", RevocationID: "rev-7",
		ExpiresAt: fixtureNow + 3600})
	if err != nil {
		t.Fatal(err)
	}
	sign := func(w *WorkerKey, token, ts, nonce string) *Proof {
		t.Helper()
		p, err := w.MakeProof(token, f.request, ts, nonce)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	newProof := func(token, sig, nonce string) *Proof {
		t.Helper()
		p, err := NewProof(token, sig, "1700000000", nonce)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	valid := sign(f.worker, f.token, "1700000000", "b-1")
	last := sign(f.worker, f.token, "1700000000", "b-9")
	badPath := f.request
	badPath.Path = "/\xff"
	reqs := []BatchRequest{
		{valid, f.request},
		{newProof(f.token, strings.Repeat("0", 128), "b-4"), f.request}, // forged
		{sign(f.worker, f.token, "1699999000", "b-3"), f.request},       // stale
		{valid, f.request}, // replayed within the batch
		{newProof("not-a-token", valid.Signature(), "b-5"), f.request}, // unparsable token
		{newProof(f.token, "abc", "b-6"), f.request},                   // malformed signature
		{nil, f.request}, // no proof
		{last, badPath},  // a path that is not UTF-8
		{sign(other, otherToken, "1700000000", "b-2"), f.request}, // a second holder
		{last, f.request},  // its nonce was not spent
		{valid, f.request}, // replayed again
	}
	want := []error{nil, ErrPopFailed, ErrStaleRequest, ErrReplayed, ErrTokenInvalid, ErrMalformedInput,
		ErrMalformedInput, ErrMalformedInput, nil, nil, ErrReplayed}

	batch, err := NewVerifier(f.trusted, VerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	alone, err := NewVerifier(f.trusted, VerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	now := fixtureNow
	results, err := batch.AuthenticateBatch(reqs, &now)
	if err != nil || len(results) != len(reqs) {
		t.Fatalf("%d results for %d requests (%v)", len(results), len(reqs), err)
	}
	for i, r := range results {
		var token *Token
		var id Identity
		proof := reqs[i].Proof
		if proof == nil {
			proof = &Proof{} // Authenticate's NULL proof
		}
		token, id, err := alone.Authenticate(proof, reqs[i].Request, &now)
		if !sameError(r.Err, err) || !sameError(r.Err, want[i]) {
			t.Errorf("request %d: batch %v, alone %v, want %v", i, r.Err, err, want[i])
			continue
		}
		if want[i] != nil {
			if r.Token != nil || !reflect.DeepEqual(r.Identity, Identity{}) {
				t.Errorf("request %d: refused with a token or an identity", i)
			}
			if r.Err.Error() != err.Error() {
				t.Errorf("request %d: message %q, alone %q", i, r.Err, err)
			}
			continue
		}
		if !reflect.DeepEqual(r.Identity, id) || r.Token == nil || r.Token.BlockCount() != token.BlockCount() {
			t.Errorf("request %d: identity %+v (alone %+v), token %v", i, r.Identity, id, r.Token)
		}
	}
	if results[8].Identity.HolderID != "cpu-7" || results[0].Identity.HolderID != "gpu-1" {
		t.Errorf("holders %q, %q", results[0].Identity.HolderID, results[8].Identity.HolderID)
	}
	// a token from a batch outlives its verifier
	batch.Close()
	if err := results[0].Token.CheckPolicy([]Pair{{"req_operation", "lease"}}, `allow if lane("gpu")`, fixtureNow, nil); err != nil {
		t.Fatal(err)
	}
	// the call itself failing (a closed verifier): its error, and no results
	if got, err := batch.AuthenticateBatch(reqs[:2], &now); !errors.Is(err, ErrMalformedInput) || got != nil {
		t.Errorf("closed verifier: %+v %v", got, err)
	}
}

// sameError: both nil, or both trustcore errors with the same code.
func sameError(a, b error) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	var ta, tb *Error
	return errors.As(a, &ta) && errors.As(b, &tb) && ta.Code == tb.Code
}

func batchOf(t testing.TB, f *fixture, prefix string, n int) []BatchRequest {
	t.Helper()
	reqs := make([]BatchRequest, n)
	for i := range reqs {
		p, err := f.worker.MakeProof(f.token, f.request, "1700000000", fmt.Sprintf("%s-%d", prefix, i))
		if err != nil {
			t.Fatal(err)
		}
		reqs[i] = BatchRequest{p, f.request}
	}
	return reqs
}

// TestAuthenticateBatchFull: 64 valid requests pass; the same batch again is 64 replays.
func TestAuthenticateBatchFull(t *testing.T) {
	f := newFixture(t)
	v, err := NewVerifier(f.trusted, VerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	reqs := batchOf(t, f, "m", 64)
	now := fixtureNow
	for round, want := range []error{nil, ErrReplayed} {
		results, err := v.AuthenticateBatch(reqs, &now)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for i, r := range results {
			if !sameError(r.Err, want) || (want == nil) != (r.Token != nil) {
				t.Fatalf("round %d request %d: %v, want %v", round, i, r.Err, want)
			}
			if want == nil && r.Identity.HolderID != "gpu-1" {
				t.Fatalf("round %d request %d: %+v", round, i, r.Identity)
			}
		}
	}
	// a batch looks its token up once: a miss for the first (then cached, its proofs verified), a
	// hit for the second
	if s := v.CacheStats(); s.Misses != 1 || s.Hits != 1 {
		t.Fatalf("cache %+v", s)
	}
	if got, err := v.AuthenticateBatch(nil, nil); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("an empty batch: %v %v", got, err)
	}
}

// TestAuthenticateBatchLongTexts: texts longer than the first buffer take the second call, and
// arrive whole.
func TestAuthenticateBatchLongTexts(t *testing.T) {
	f := newFixture(t)
	v, err := NewVerifier(f.trusted, VerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	workerHex, _ := f.worker.PublicHex()
	holder := strings.Repeat("h", 500)
	token, err := f.issuer.Mint(MintRequest{PublicHex: workerHex, HolderID: holder, RevocationID: "rev-long",
		ExpiresAt: fixtureNow + 3600})
	if err != nil {
		t.Fatal(err)
	}
	long, _ := f.worker.MakeProof(token, f.request, "1700000000", "l-1")
	forged, _ := NewProof(token, strings.Repeat("0", 128), "1700000000", "l-2")
	now := fixtureNow
	for _, guess := range []int{0, 1000} { // the second call, then none
		reqs := []BatchRequest{{long, f.request}, {forged, f.request}}
		if guess == 0 {
			reqs[0].Proof, _ = f.worker.MakeProof(token, f.request, "1700000000", "l-0")
		}
		r, err := v.authenticateBatch(reqs, &now, guess)
		if err != nil {
			t.Fatalf("guess %d: %v", guess, err)
		}
		if r[0].Err != nil || r[0].Identity.HolderID != holder || r[0].Identity.RevocationID != "rev-long" ||
			r[0].Identity.HolderPublicHex != workerHex {
			t.Fatalf("guess %d: %+v", guess, r[0])
		}
		if !errors.Is(r[1].Err, ErrPopFailed) || !strings.Contains(r[1].Err.Error(), "proof-of-possession") {
			t.Fatalf("guess %d: %v", guess, r[1].Err)
		}
	}
}

// TestAuthenticateBatchConcurrent (run under -race by make test-go): goroutines send batches to one
// Verifier at once, each with nonces of its own and one shared nonce; every own nonce passes once,
// and the shared one exactly once over all batches.
func TestAuthenticateBatchConcurrent(t *testing.T) {
	f := newFixture(t)
	v, err := NewVerifier(f.trusted, VerifierOptions{Limits: patientLimits()})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	shared, _ := f.worker.MakeProof(f.token, f.request, "1700000000", "shared")
	const goroutines, rounds, size = 6, 8, 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	sharedAccepted := 0
	errs := make(chan error, goroutines*rounds)
	batches := make([][][]BatchRequest, goroutines) // signed here: t.Fatal belongs to this goroutine
	for g := range batches {
		for i := 0; i < rounds; i++ {
			reqs := batchOf(t, f, fmt.Sprintf("g%d-%d", g, i), size)
			batches[g] = append(batches[g], append(reqs, BatchRequest{shared, f.request}, reqs[0]))
		}
	}
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			now := fixtureNow
			for i, reqs := range batches[g] {
				results, err := v.AuthenticateBatch(reqs, &now)
				if err != nil {
					errs <- fmt.Errorf("goroutine %d round %d: %v", g, i, err)
					continue
				}
				for k, r := range results[:size] {
					if r.Err != nil || r.Identity.HolderID != "gpu-1" {
						errs <- fmt.Errorf("goroutine %d round %d request %d: %v", g, i, k, r.Err)
					}
				}
				if !errors.Is(results[size+1].Err, ErrReplayed) {
					errs <- fmt.Errorf("goroutine %d round %d: a nonce twice in a batch: %v", g, i, results[size+1].Err)
				}
				switch err := results[size].Err; {
				case err == nil:
					mu.Lock()
					sharedAccepted++
					mu.Unlock()
				case !errors.Is(err, ErrReplayed):
					errs <- fmt.Errorf("the shared nonce: %v", err)
				}
				if i%4 == 0 {
					runtime.GC() // tokens from earlier batches are released by their cleanups meanwhile
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if sharedAccepted != 1 {
		t.Errorf("the shared nonce was accepted %d times", sharedAccepted)
	}
}

// TestAuthenticateBatchBounds: a batch over MaxBatchRequests, or whose bodies together are over
// MaxBatchBodyBytes, is refused whole (ErrLimitExceeded, no results) and spends nothing; a
// (token, nonce) repeated inside a batch is ErrReplayed the second time, even with another body.
func TestAuthenticateBatchBounds(t *testing.T) {
	f := newFixture(t)
	now := fixtureNow
	codes := func(results []BatchResult) []string {
		out := make([]string, len(results))
		for i, r := range results {
			out[i] = "OK"
			var te *Error
			if errors.As(r.Err, &te) {
				out[i] = te.Code.String()
			} else if r.Err != nil {
				out[i] = r.Err.Error()
			}
		}
		return out
	}
	wantRefused := func(what string, results []BatchResult, err error) {
		t.Helper()
		if !errors.Is(err, ErrLimitExceeded) || results != nil {
			t.Errorf("%s: want LIMIT_EXCEEDED and no results, got %v %v", what, codes(results), err)
		}
	}

	// max_batch_requests 2: three requests are refused whole, then two of them pass
	v, err := NewVerifier(f.trusted, VerifierOptions{MaxBatchRequests: Uint64(2)})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	reqs := batchOf(t, f, "count", 3)
	results, err := v.AuthenticateBatch(reqs, &now)
	wantRefused("3 requests over 2", results, err)
	results, err = v.AuthenticateBatch(reqs[:2], &now)
	if err != nil || fmt.Sprint(codes(results)) != "[OK OK]" {
		t.Errorf("2 requests: %v %v", codes(results), err)
	}
	// 0: every non-empty batch is refused
	none, err := NewVerifier(f.trusted, VerifierOptions{MaxBatchRequests: Uint64(0)})
	if err != nil {
		t.Fatal(err)
	}
	defer none.Close()
	results, err = none.AuthenticateBatch(batchOf(t, f, "none", 1), &now)
	wantRefused("1 request over 0", results, err)

	// max_batch_body_bytes: two bodies of 10 bytes over 15, then one passes
	body := uint64(len(f.request.Body))
	v2, err := NewVerifier(f.trusted, VerifierOptions{MaxBatchBodyBytes: Uint64(body + body/2)})
	if err != nil {
		t.Fatal(err)
	}
	defer v2.Close()
	reqs = batchOf(t, f, "body", 2)
	results, err = v2.AuthenticateBatch(reqs, &now)
	wantRefused("bodies over the bound", results, err)
	results, err = v2.AuthenticateBatch(reqs[:1], &now)
	if err != nil || fmt.Sprint(codes(results)) != "[OK]" {
		t.Errorf("one body: %v %v", codes(results), err)
	}
	// the default bounds take the same batch
	v3, err := NewVerifier(f.trusted, VerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer v3.Close()
	results, err = v3.AuthenticateBatch(reqs, &now)
	if err != nil || fmt.Sprint(codes(results)) != "[OK OK]" {
		t.Errorf("default bounds: %v %v", codes(results), err)
	}

	// a (token, nonce) twice in one batch: the same proof, then the same nonce signed over another body
	other := Request{Method: f.request.Method, Path: f.request.Path, Body: []byte(`{"job":43}`)}
	twice, _ := f.worker.MakeProof(f.token, f.request, "1700000000", "dup")
	again, _ := f.worker.MakeProof(f.token, other, "1700000000", "dup")
	fresh, _ := f.worker.MakeProof(f.token, f.request, "1700000000", "dup-2")
	results, err = v3.AuthenticateBatch([]BatchRequest{{twice, f.request}, {twice, f.request}, {again, other},
		{fresh, f.request}}, &now)
	if err != nil || fmt.Sprint(codes(results)) != "[OK REPLAYED REPLAYED OK]" {
		t.Errorf("a (token, nonce) repeated in a batch: %v %v", codes(results), err)
	}
}
