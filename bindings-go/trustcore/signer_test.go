package trustcore

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// the fixture's issuer seed: tokens the signer mints verify against fixture.trusted
var signerSeed = strings.Repeat("11", 32)

// testSigner starts a signer for one test; at its end SIGTERM must stop it cleanly.
func testSigner(t *testing.T, args ...string) (*signerDaemon, *SignerClient) {
	t.Helper()
	d, err := startSignerDaemon(signerSeed, args...)
	if err != nil {
		t.Fatal(err)
	}
	client, err := NewSignerClient("unix:"+d.socket, time.Second, 5*time.Second)
	if err != nil {
		d.kill()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		client.Close()
		if err := d.stop(); err != nil {
			t.Error(err)
		}
	})
	return d, client
}

var signerPolicy = []string{"--max-ttl", "86400", "--allow-predicate", "lane", "--key-id", "7"}

func TestSignerClientEndToEnd(t *testing.T) {
	f := newFixture(t)
	_, client := testSigner(t, signerPolicy...)
	issuerHex, _ := f.issuer.PublicHex()
	workerHex, _ := f.worker.PublicHex()

	publicHex, keyID, err := client.PublicKey()
	if err != nil || publicHex != issuerHex || keyID == nil || *keyID != 7 {
		t.Fatalf("public key %q %v %v", publicHex, keyID, err)
	}
	report, err := client.Health()
	if err != nil {
		t.Fatal(err)
	}
	var health struct {
		Status    string `json:"status"`
		PublicKey string `json:"public_key"`
		KeyID     uint32 `json:"key_id"`
	}
	if err := json.Unmarshal(report, &health); err != nil || health.Status != "ok" || health.PublicKey != issuerHex ||
		health.KeyID != 7 {
		t.Fatalf("health %s %v", report, err)
	}

	// mint through the signer, prove a request with the holder key, verify it here
	now := float64(int64(NowSeconds()))
	minted, err := client.Mint(SignerMintRequest{PublicHex: workerHex, HolderID: "gpu-1",
		Facts: []Fact{{"lane", []string{"transcribe", "gpu"}}}, RevocationID: "rev-go", ExpiresAt: now + 600.7})
	if err != nil {
		t.Fatal(err)
	}
	if minted.RevocationID != "rev-go" || minted.ExpiresAt != uint64(now)+600 {
		t.Fatalf("minted %+v", minted)
	}
	timestamp := fmt.Sprintf("%d", int64(now))
	proof, err := f.worker.MakeProof(minted.Token, f.request, timestamp, "signer-n1")
	if err != nil {
		t.Fatal(err)
	}
	token, id, err := Authenticate(f.trusted, proof, f.request, AuthenticateOptions{Now: now, MaxSkewSeconds: 300})
	if err != nil {
		t.Fatal(err)
	}
	if id.HolderID != "gpu-1" || id.RevocationID != "rev-go" || id.HolderPublicHex != workerHex {
		t.Fatalf("identity %+v", id)
	}
	if root, ok := token.RootKeyID(); !ok || root != 7 {
		t.Fatalf("root key id %d %v", root, ok)
	}
	facts := []Pair{{"req_operation", "lease"}}
	if err := token.CheckPolicy(facts, `allow if req_operation("lease"), lane("transcribe")`, now, nil); err != nil {
		t.Fatal(err)
	}
	wantCode(t, token.CheckPolicy(facts, `allow if lane("other")`, now, nil), ErrDenied)
	wantCode(t, token.CheckPolicy(facts, `allow if true`, now+601, nil), ErrDenied) // expired

	// the stateful verifier, as a service would run it
	v, err := NewVerifier(f.trusted, VerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	verified, _, err := v.Authenticate(proof, f.request, &now)
	if err != nil {
		t.Fatal(err)
	}
	if policy, err := v.Authorize(verified, `allow if false; allow if worker_id("gpu-1"), lane("gpu");`, &now,
		nil); err != nil || policy != 1 {
		t.Fatalf("authorize %d %v", policy, err)
	}

	// without a revocation id the signer picks one, and the token carries it
	picked, err := client.Mint(SignerMintRequest{PublicHex: workerHex, HolderID: "gpu-1",
		Facts: []Fact{{"lane", []string{"gpu"}}}, ExpiresAt: now + 60})
	if err != nil || picked.RevocationID == "" {
		t.Fatalf("minted %+v %v", picked, err)
	}
	parsed, err := ParseToken(f.trusted, picked.Token)
	if err != nil {
		t.Fatal(err)
	}
	if identity, err := parsed.Identity(); err != nil || identity.RevocationID != picked.RevocationID {
		t.Fatalf("identity %+v %v", identity, err)
	}

	// jobs: the signer's signature verifies against the pinned issuer key, as the in-process one
	job := json.RawMessage(`{"job_id":"j-1","episode":"e1","steps":3}`)
	sig, err := client.SignJob(job, "gpu-1")
	if err != nil {
		t.Fatal(err)
	}
	local, _ := f.issuer.SignJob(job, "gpu-1")
	if sig != local {
		t.Fatalf("signer %s, in-process %s", sig, local)
	}
	signed := json.RawMessage(`{"job_id":"j-1","episode":"e1","steps":3,"sig":"` + sig + `"}`)
	if err := VerifyJob(issuerHex, signed, "gpu-1", nil); err != nil {
		t.Fatal(err)
	}
	wantCode(t, VerifyJob(issuerHex, signed, "gpu-2", nil), ErrJobInvalid)
}

func TestSignerClientRefusals(t *testing.T) {
	f := newFixture(t)
	_, client := testSigner(t, signerPolicy...)
	workerHex, _ := f.worker.PublicHex()
	now := NowSeconds()
	base := SignerMintRequest{PublicHex: workerHex, HolderID: "gpu-1", Facts: []Fact{{"lane", []string{"gpu"}}},
		RevocationID: "rev-1", ExpiresAt: now + 600}

	ungranted := base
	ungranted.Facts = []Fact{{"lane", []string{"gpu"}}, {"admin", []string{"yes"}}}
	_, err := client.Mint(ungranted)
	wantCode(t, err, ErrSignerRefused)
	var te *Error
	if !errors.As(err, &te) || te.Code != SignerRefused || te.Message == "" {
		t.Fatalf("errors.As: %#v", err)
	}

	tooLong := base
	tooLong.ExpiresAt = now + 2*86400
	_, err = client.Mint(tooLong)
	wantCode(t, err, ErrSignerRefused)

	reserved := base
	reserved.Facts = []Fact{{"worker_key", []string{"00"}}}
	_, err = client.Mint(reserved)
	wantCode(t, err, ErrSignerRefused)

	badKey := base
	badKey.PublicHex = "zz"
	_, err = client.Mint(badKey)
	wantCode(t, err, ErrMalformedInput)

	_, err = client.SignJob(json.RawMessage(`[1]`), "gpu-1")
	wantCode(t, err, ErrMalformedInput)

	// the client stays usable after refusals
	if _, _, err := client.PublicKey(); err != nil {
		t.Fatal(err)
	}
}

func TestSignerClientMisuse(t *testing.T) {
	for _, address := range []string{"", "nowhere", "tcp:10.0.0.1:9", "192.168.1.1:80", "tcp:[::2]:1",
		"tcp:localhost:9", "unix:"} {
		_, err := NewSignerClient(address, time.Second, time.Second)
		wantCode(t, err, ErrMalformedInput)
	}
	for _, timeouts := range [][2]time.Duration{{0, time.Second}, {time.Second, 0}, {-time.Second, time.Second}} {
		_, err := NewSignerClient("/tmp/signer.sock", timeouts[0], timeouts[1])
		wantCode(t, err, ErrMalformedInput)
	}
	// nothing listens: SIGNER_UNAVAILABLE, for a path and for a loopback port
	for _, address := range []string{"unix:/nonexistent-trustcore-dir/signer.sock", "tcp:127.0.0.1:1"} {
		client, err := NewSignerClient(address, time.Second, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_, err = client.Health()
		wantCode(t, err, ErrSignerUnavailable)
		_, err = client.Mint(SignerMintRequest{PublicHex: strings.Repeat("ab", 32), HolderID: "h", ExpiresAt: 1})
		wantCode(t, err, ErrSignerUnavailable)
		client.Close()
		client.Close() // twice is fine
	}
	// a sub-millisecond timeout is rounded up, not refused
	client, err := NewSignerClient("unix:/nonexistent-trustcore-dir/signer.sock", time.Microsecond, time.Microsecond)
	if err != nil {
		t.Fatal(err)
	}
	client.Close()
}

// A signer killed under a client that keeps a connection to it: the next call is SIGNER_UNAVAILABLE.
func TestSignerClientKilled(t *testing.T) {
	d, err := startSignerDaemon(signerSeed, "--key-id", "7")
	if err != nil {
		t.Fatal(err)
	}
	defer d.kill()
	client, err := NewSignerClient("unix:"+d.socket, time.Second, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if _, err := client.Health(); err != nil { // the client keeps this connection
		t.Fatal(err)
	}
	d.kill() // kill -9
	_, err = client.Health()
	wantCode(t, err, ErrSignerUnavailable)
	_, _, err = client.PublicKey()
	wantCode(t, err, ErrSignerUnavailable)
}

// A peer that accepts and never answers: a call in flight gives up after the request timeout.
func TestSignerClientSilentPeer(t *testing.T) {
	dir, err := os.MkdirTemp("", "trustcore-go-silent-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	for _, network := range []string{"unix", "tcp"} {
		t.Run(network, func(t *testing.T) {
			address := filepath.Join(dir, "silent.sock")
			if network == "tcp" {
				address = "127.0.0.1:0"
			}
			listener, err := net.Listen(network, address)
			if err != nil {
				t.Fatal(err)
			}
			var held []net.Conn
			var mu sync.Mutex
			go func() {
				for {
					conn, err := listener.Accept()
					if err != nil {
						return
					}
					mu.Lock()
					held = append(held, conn) // open, silent
					mu.Unlock()
				}
			}()
			defer func() {
				listener.Close()
				mu.Lock()
				for _, c := range held {
					c.Close()
				}
				mu.Unlock()
			}()
			target := network + ":" + listener.Addr().String()
			const timeout = 500 * time.Millisecond
			client, err := NewSignerClient(target, time.Second, timeout)
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			start := time.Now()
			_, err = client.Health()
			elapsed := time.Since(start)
			wantCode(t, err, ErrSignerUnavailable)
			if margin := 2500 * time.Millisecond; elapsed > timeout+margin {
				t.Fatalf("gave up after %v, past the %v timeout + %v", elapsed, timeout, margin)
			}
		})
	}
}

// One client shared by goroutines (make test-go runs this under -race too).
func TestSignerClientConcurrent(t *testing.T) {
	f := newFixture(t)
	_, client := testSigner(t, signerPolicy...)
	workerHex, _ := f.worker.PublicHex()
	const goroutines, rounds = 8, 10
	errs := make(chan error, goroutines*rounds)
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				rev := fmt.Sprintf("rev-%d-%d", g, i)
				minted, err := client.Mint(SignerMintRequest{PublicHex: workerHex, HolderID: "gpu-1",
					Facts: []Fact{{"lane", []string{"gpu"}}}, RevocationID: rev, ExpiresAt: NowSeconds() + 600})
				if err == nil && minted.RevocationID != rev {
					err = fmt.Errorf("minted %s, asked for %s", minted.RevocationID, rev)
				}
				if err == nil {
					_, err = ParseToken(f.trusted, minted.Token)
				}
				if err == nil {
					_, err = client.SignJob(json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)), "gpu-1")
				}
				if err == nil {
					_, err = client.Health()
				}
				if err != nil {
					errs <- err
				}
				if i%5 == 0 {
					runtime.GC()
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
