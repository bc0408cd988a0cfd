package trustcore

// The Verifier on a real Redis Cluster (`testenv redis-cluster`: 3 masters and 3 replicas on
// loopback ports): RedisOptions.Cluster takes the seed nodes; a nonce is accepted once; a
// revocation reaches every shard; the core refuses a URL and seed nodes together.

import (
	"fmt"
	"testing"

	"go.trustcore.dev/trustcore/testenv"
)

func TestVerifierOnARedisCluster(t *testing.T) {
	var ready struct {
		URLs []string `json:"urls"`
	}
	env, err := testenv.Start(&ready, "redis-cluster")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Close)
	if len(ready.URLs) != 6 {
		t.Fatalf("testenv redis-cluster: %d seed nodes", len(ready.URLs))
	}
	f := newFixture(t)
	v, err := NewVerifier(f.trusted, VerifierOptions{Limits: patientLimits(),
		Redis: &RedisOptions{Cluster: ready.URLs, KeyPrefix: String("go-cluster:")}})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	for i := 0; i < 32; i++ {
		nonce := fmt.Sprintf("cluster-%d", i)
		if err := authenticateNonce(v, f, nonce); err != nil {
			t.Fatalf("%s: %v", nonce, err)
		}
		wantCode(t, authenticateNonce(v, f, nonce), ErrReplayed)
	}
	if err := v.Revoke("rev-1"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 32; i++ {
		wantCode(t, authenticateNonce(v, f, fmt.Sprintf("cluster-revoked-%d", i)), ErrRevoked)
	}
	// the setting is checked in the core
	_, err = NewVerifier(f.trusted, VerifierOptions{Redis: &RedisOptions{URL: "redis://127.0.0.1:6379/",
		Cluster: ready.URLs}})
	wantCode(t, err, ErrMalformedInput)
	_, err = NewVerifier(f.trusted, VerifierOptions{Redis: &RedisOptions{Cluster: ready.URLs,
		KeyPrefix: String("{go}:")}})
	wantCode(t, err, ErrMalformedInput)
}
