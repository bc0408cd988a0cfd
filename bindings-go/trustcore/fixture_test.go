package trustcore

import (
	"strings"
	"testing"
	"time"
)

const fixtureNow = 1700000000.0

// patientLimits are the defaults with a 2 s time budget: for tests about threads, stores or
// processes, where preemption on a busy machine is not what is tested.
func patientLimits() *Limits {
	l := DefaultLimits()
	l.MaxTime = Duration(2 * time.Second)
	return &l
}

// fixture: fixed keys, a minted token and a signed request at a fixed time.
type fixture struct {
	issuer  *IssuerKey
	worker  *WorkerKey
	trusted *IssuerKeys
	token   string
	request Request
	proof   *Proof
	options AuthenticateOptions
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{request: Request{Method: "POST", Path: "/lease", Body: []byte(`{"job":42}`)},
		options: AuthenticateOptions{Now: fixtureNow, MaxSkewSeconds: 300}}
	var err error
	f.issuer, err = IssuerKeyFromSecretHex(strings.Repeat("11", 32))
	must(err)
	f.worker, err = WorkerKeyFromSecretHex(strings.Repeat("22", 32))
	must(err)
	issuerHex, err := f.issuer.PublicHex()
	must(err)
	workerHex, err := f.worker.PublicHex()
	must(err)
	f.trusted, err = TrustIssuer(issuerHex)
	must(err)
	f.token, err = f.issuer.Mint(MintRequest{PublicHex: workerHex, HolderID: "gpu-1",
		Facts: []Fact{{"lane", []string{"transcribe", "gpu"}}}, RevocationID: "rev-1", ExpiresAt: fixtureNow + 3600})
	must(err)
	f.proof, err = f.worker.MakeProof(f.token, f.request, "1700000000", "n1")
	must(err)
	return f
}
