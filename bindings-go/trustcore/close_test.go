package trustcore

// Close while other goroutines use the handle (a graceful shutdown does exactly this): every call
// either succeeds or fails with the closed-handle error, the process never crashes, and a second
// Close does nothing. Run under -race by make test-go.

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// isClosed: the closed-handle error, ErrMalformedInput naming the closed handle.
func isClosed(err error) bool {
	return errors.Is(err, ErrMalformedInput) && strings.Contains(err.Error(), "is closed")
}

// closeDuringCalls runs call from goroutines in a loop until it returns the closed-handle error,
// closes the handle (twice at once) while they run, and checks every error was the closed one.
func closeDuringCalls(t *testing.T, name string, goroutines int, call func(g, i int) error, closeIt func()) {
	t.Helper()
	var ok, closed atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	started := make(chan struct{}, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				err := call(g, i)
				if i == 0 {
					started <- struct{}{}
				}
				switch {
				case err == nil:
					ok.Add(1)
				case isClosed(err):
					closed.Add(1)
					return
				default:
					errs <- fmt.Errorf("%s: call %d of goroutine %d: %v", name, i, g, err)
					return
				}
			}
		}()
	}
	for g := 0; g < goroutines; g++ {
		<-started
	}
	time.Sleep(time.Millisecond)
	var closers sync.WaitGroup
	for c := 0; c < 2; c++ { // two Close at once: one frees, the other returns
		closers.Add(1)
		go func() { defer closers.Done(); closeIt() }()
	}
	closers.Wait()
	closeIt() // and once more after: a no-op
	if err := call(0, -1); !isClosed(err) {
		t.Errorf("%s: a call after Close returned %v, want the closed-handle error", name, err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if closed.Load() != int64(goroutines) {
		t.Errorf("%s: %d goroutines saw the handle closed, want %d", name, closed.Load(), goroutines)
	}
}

func TestCloseDuringCalls(t *testing.T) {
	f := newFixture(t)
	const goroutines, rounds, perGoroutine = 4, 10, 400
	// one proof per (goroutine, call): a fresh Verifier each round accepts each nonce once
	proofs := make([][]*Proof, goroutines)
	for g := range proofs {
		for i := 0; i < perGoroutine; i++ {
			p, err := f.worker.MakeProof(f.token, f.request, "1700000000", fmt.Sprintf("n-%d-%d", g, i))
			if err != nil {
				t.Fatal(err)
			}
			proofs[g] = append(proofs[g], p)
		}
	}
	now := fixtureNow
	facts := []Pair{{"req_operation", "lease"}}
	issuerHex, _ := f.issuer.PublicHex()
	workerHex, _ := f.worker.PublicHex()

	t.Run("Verifier", func(t *testing.T) {
		for round := 0; round < rounds; round++ {
			v, err := NewVerifier(f.trusted, VerifierOptions{Limits: patientLimits()})
			if err != nil {
				t.Fatal(err)
			}
			closeDuringCalls(t, "Verifier", goroutines, func(g, i int) error {
				proof := f.proof
				if i >= 0 {
					proof = proofs[g][i%perGoroutine]
				}
				if i >= perGoroutine { // every nonce spent: a batch of nothing new, still a call
					_, err := v.AuthenticateBatch([]BatchRequest{{Proof: proof, Request: f.request}}, &now)
					return err
				}
				token, _, err := v.Authenticate(proof, f.request, &now)
				if err == nil && i%4 == 0 {
					err = v.CheckPolicy(token, facts, `allow if req_operation("lease")`, &now)
				}
				if err == nil && i%16 == 0 {
					v.CacheStats()
				}
				return err
			}, v.Close)
		}
	})

	t.Run("Token", func(t *testing.T) {
		for round := 0; round < rounds; round++ {
			token, err := ParseToken(f.trusted, f.token)
			if err != nil {
				t.Fatal(err)
			}
			closeDuringCalls(t, "Token", goroutines, func(g, i int) error {
				if i%2 == 0 {
					_, err := token.Base64()
					return err
				}
				return token.CheckPolicy(facts, `allow if lane("gpu")`, fixtureNow, patientLimits())
			}, token.Close)
		}
	})

	t.Run("Proof", func(t *testing.T) {
		v, err := NewVerifier(f.trusted, VerifierOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		for round := 0; round < rounds; round++ {
			proof, err := NewProof(f.proof.Token(), f.proof.Signature(), f.proof.Timestamp(), f.proof.Nonce())
			if err != nil {
				t.Fatal(err)
			}
			closeDuringCalls(t, "Proof", goroutines, func(g, i int) error {
				if i%2 == 0 {
					_, err := proof.Headers()
					return err
				}
				_, _, err := Authenticate(f.trusted, proof, f.request, f.options)
				return err
			}, proof.Close)
		}
	})

	t.Run("Keys", func(t *testing.T) {
		for round := 0; round < rounds; round++ {
			trusted, err := TrustIssuer(issuerHex)
			if err != nil {
				t.Fatal(err)
			}
			closeDuringCalls(t, "IssuerKeys", goroutines, func(g, i int) error {
				_, err := ParseToken(trusted, f.token)
				return err
			}, trusted.Close)
			issuer, err := IssuerKeyFromSecretHex(strings.Repeat("11", 32))
			if err != nil {
				t.Fatal(err)
			}
			closeDuringCalls(t, "IssuerKey", goroutines, func(g, i int) error {
				if i%2 == 0 {
					_, err := issuer.SignJob(json.RawMessage(`{"n":1}`), "gpu-1")
					return err
				}
				_, err := issuer.Mint(MintRequest{PublicHex: workerHex, HolderID: "gpu-1", RevocationID: "rev-1",
					ExpiresAt: fixtureNow + 60})
				return err
			}, issuer.Close)
			worker, err := WorkerKeyFromSecretHex(strings.Repeat("22", 32))
			if err != nil {
				t.Fatal(err)
			}
			closeDuringCalls(t, "WorkerKey", goroutines, func(g, i int) error {
				_, err := worker.MakeProof(f.token, f.request, "1700000000", "n")
				return err
			}, worker.Close)
		}
	})
}

func TestSignerClientCloseDuringCalls(t *testing.T) {
	f := newFixture(t)
	d, _ := testSigner(t, signerPolicy...)
	workerHex, _ := f.worker.PublicHex()
	for round := 0; round < 5; round++ {
		client, err := NewSignerClient("unix:"+d.socket, time.Second, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		closeDuringCalls(t, "SignerClient", 4, func(g, i int) error {
			switch i % 3 {
			case 0:
				_, err := client.Health()
				return err
			case 1:
				_, err := client.SignJob(json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)), "gpu-1")
				return err
			default:
				_, err := client.Mint(SignerMintRequest{PublicHex: workerHex, HolderID: "gpu-1",
					Facts: []Fact{{"lane", []string{"gpu"}}}, ExpiresAt: NowSeconds() + 600})
				return err
			}
		}, client.Close)
	}
}
