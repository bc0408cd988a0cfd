package trustcore

import (
	"runtime"
	"sync"
	"testing"
)

// TestConcurrentVerification shares one IssuerKeys, Proof and Token between goroutines that verify
// at once (run under -race by make test-go), while the collector frees per-request handles.
func TestConcurrentVerification(t *testing.T) {
	f := newFixture(t)
	shared, err := ParseToken(f.trusted, f.token)
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, rounds = 8, 30
	errs := make(chan error, goroutines*rounds)
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			facts := []Pair{{"req_operation", "lease"}}
			for i := 0; i < rounds; i++ {
				token, id, err := Authenticate(f.trusted, f.proof, f.request, f.options)
				if err == nil && id.HolderID != "gpu-1" {
					err = &Error{Code: Internal, Message: "wrong holder"}
				}
				if err == nil {
					err = token.CheckPolicy(facts, `allow if req_operation("lease")`, fixtureNow, nil)
				}
				if err == nil {
					err = shared.CheckPolicy(facts, `allow if lane("gpu")`, fixtureNow, nil)
				}
				if err != nil {
					errs <- err
				}
				if i%10 == 0 {
					runtime.GC() // per-request tokens are released by their cleanups meanwhile
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
