package trustcore

// Delegation (delegation.go, docs/DESIGN.md §3.13): a delegable token minted, handed to a second
// key, used by that key only (Authenticate, the Verifier, a batch, an HTTP decision), the chain in
// every identity, the holder_chain facts a policy sees, and every refusal of Delegate; the signer's
// ceiling on DelegationDepth.

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

type delegationFixture struct {
	*fixture
	b          *WorkerKey
	aHex, bHex string
	token, byB string // A's delegable token, and the one A delegated to B
}

func newDelegationFixture(t *testing.T) *delegationFixture {
	t.Helper()
	f := &delegationFixture{fixture: newFixture(t)}
	var err error
	if f.b, err = WorkerKeyFromSecretHex(strings.Repeat("33", 32)); err != nil {
		t.Fatal(err)
	}
	f.aHex, _ = f.worker.PublicHex()
	f.bHex, _ = f.b.PublicHex()
	f.token, err = f.issuer.Mint(MintRequest{PublicHex: f.aHex, HolderID: "gpu-1",
		Facts: []Fact{{"lane", []string{"gpu", "cpu"}}}, RevocationID: "rev-d", ExpiresAt: fixtureNow + 3600,
		DelegationDepth: 1})
	if err != nil {
		t.Fatal(err)
	}
	f.byB, err = Delegate(f.token, f.worker, DelegateRequest{ToPublicHex: f.bHex, ToHolderID: "gpu-2",
		Checks: `check if req_lane("gpu");`, ExpiresAt: fixtureNow + 600})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *delegationFixture) chain() []Holder {
	return []Holder{{"gpu-1", f.aHex}, {"gpu-2", f.bHex}}
}

func TestDelegate(t *testing.T) {
	f := newDelegationFixture(t)
	if len(f.byB) <= len(f.token) {
		t.Fatal("the delegated token is no longer than the one it came from")
	}
	token, err := ParseToken(f.trusted, f.byB)
	if err != nil {
		t.Fatal(err)
	}
	defer token.Close()
	id, err := token.Identity()
	want := Identity{HolderID: "gpu-2", HolderPublicHex: f.bHex, RevocationID: "rev-d", Chain: f.chain()}
	if err != nil || !reflect.DeepEqual(id, want) {
		t.Fatalf("identity %+v %v", id, err)
	}
	if token.BlockCount() != 2 {
		t.Fatalf("%d blocks", token.BlockCount())
	}
	// a token never delegated: its one holder
	plain, _ := ParseToken(f.trusted, f.token)
	if id, err := plain.Identity(); err != nil || !reflect.DeepEqual(id.Chain, []Holder{{"gpu-1", f.aHex}}) {
		t.Fatalf("undelegated chain %+v %v", id.Chain, err)
	}
	// no checks at all is a delegation too
	if _, err := Delegate(f.token, f.worker, DelegateRequest{ToPublicHex: f.bHex, ToHolderID: "gpu-2",
		ExpiresAt: fixtureNow + 600}); err != nil {
		t.Fatal(err)
	}
}

func TestDelegateRefusals(t *testing.T) {
	f := newDelegationFixture(t)
	base := DelegateRequest{ToPublicHex: f.bHex, ToHolderID: "gpu-2", ExpiresAt: fixtureNow + 600}
	cases := []struct {
		name   string
		token  string
		key    *WorkerKey
		change func(*DelegateRequest)
		want   *Error
	}{
		{"the depth is used up", f.byB, f.b, nil, ErrDelegationInvalid},
		{"a token its issuer made not delegable", f.fixture.token, f.worker, nil, ErrDelegationInvalid},
		{"not the token's holder", f.token, f.b, nil, ErrMalformedInput},
		{"no longer A's token once delegated", f.byB, f.worker, nil, ErrMalformedInput},
		{"outlives the token", f.token, f.worker, func(r *DelegateRequest) { r.ExpiresAt = fixtureNow + 3601 },
			ErrMalformedInput},
		{"a fact among the checks", f.token, f.worker, func(r *DelegateRequest) { r.Checks = `lane("x");` },
			ErrMalformedInput},
		{"a rule among the checks", f.token, f.worker,
			func(r *DelegateRequest) { r.Checks = `lane($l) <- req_lane($l);` }, ErrMalformedInput},
		{"checks that do not parse", f.token, f.worker, func(r *DelegateRequest) { r.Checks = "check if" },
			ErrMalformedInput},
		{"a key that is not one", f.token, f.worker, func(r *DelegateRequest) { r.ToPublicHex = "zz" },
			ErrMalformedInput},
		{"text that is not UTF-8", f.token, f.worker, func(r *DelegateRequest) { r.ToHolderID = "g\xff" },
			ErrMalformedInput},
		{"not a token", "not a token", f.worker, nil, ErrTokenInvalid},
		{"a nil key", f.token, nil, nil, ErrMalformedInput},
	}
	for _, c := range cases {
		r := base
		if c.change != nil {
			c.change(&r)
		}
		out, err := Delegate(c.token, c.key, r)
		if !errors.Is(err, c.want) || out != "" {
			t.Errorf("%s: %q %v, want %v", c.name, out, err, c.want.Code)
		}
	}
	closed, _ := WorkerKeyFromSecretHex(strings.Repeat("44", 32))
	closed.Close()
	if _, err := Delegate(f.token, closed, base); !errors.Is(err, ErrMalformedInput) {
		t.Fatalf("a closed key: %v", err)
	}
	if _, err := f.issuer.Mint(MintRequest{PublicHex: f.aHex, HolderID: "gpu-1", RevocationID: "rev-1",
		ExpiresAt: fixtureNow + 60, DelegationDepth: 9}); !errors.Is(err, ErrMalformedInput) {
		t.Fatalf("a depth past 8: %v", err)
	}
}

func TestDelegatedTokenThroughTheVerifier(t *testing.T) {
	f := newDelegationFixture(t)
	v, err := NewVerifier(f.trusted, VerifierOptions{Limits: patientLimits()})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	now := fixtureNow
	proof := func(key *WorkerKey, nonce string) *Proof {
		p, err := key.MakeProof(f.byB, f.request, "1700000000", nonce)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	// only the last holder's key proves possession
	if _, _, err := v.Authenticate(proof(f.worker, "a1"), f.request, &now); !errors.Is(err, ErrPopFailed) {
		t.Fatalf("A's proof on B's token: %v", err)
	}
	token, id, err := v.Authenticate(proof(f.b, "b1"), f.request, &now)
	if err != nil || id.HolderID != "gpu-2" || !reflect.DeepEqual(id.Chain, f.chain()) {
		t.Fatalf("B's proof: %+v %v", id, err)
	}
	// the package-level Authenticate agrees
	if _, alone, err := Authenticate(f.trusted, proof(f.b, "b2"), f.request, f.options); err != nil ||
		!reflect.DeepEqual(alone, id) {
		t.Fatalf("Authenticate: %+v %v", alone, err)
	}
	gpu, cpu := []Pair{{"req_lane", "gpu"}}, []Pair{{"req_lane", "cpu"}}
	if err := v.CheckPolicy(token, gpu, `allow if lane($l), req_lane($l)`, &now); err != nil {
		t.Fatal(err)
	}
	// B's narrowing check holds, though the token grants the lane
	if err := v.CheckPolicy(token, cpu, `allow if lane($l), req_lane($l)`, &now); !errors.Is(err, ErrDenied) {
		t.Fatalf("the narrowing check: %v", err)
	}
	// the policy sees the chain
	if err := v.CheckPolicy(token, gpu, `allow if holder_chain(0, "gpu-1", $k), holder_chain(1, "gpu-2", $j)`,
		&now); err != nil {
		t.Fatal(err)
	}
	if err := v.CheckPolicy(token, gpu, `allow if holder_chain(1, $id, $k), $id != "gpu-2"`, &now); !errors.Is(
		err, ErrDenied) {
		t.Fatalf("a policy refusing what gpu-2 holds: %v", err)
	}

	// a batch: a delegated and an undelegated token side by side, each with its own chain
	results, err := v.AuthenticateBatch([]BatchRequest{{proof(f.b, "b3"), f.request},
		{f.proof, f.request}, {proof(f.worker, "a2"), f.request}}, &now)
	if err != nil || len(results) != 3 {
		t.Fatalf("batch: %v", err)
	}
	if results[0].Err != nil || !reflect.DeepEqual(results[0].Identity, id) {
		t.Fatalf("batch, B: %+v %v", results[0].Identity, results[0].Err)
	}
	if results[1].Err != nil || !reflect.DeepEqual(results[1].Identity.Chain,
		[]Holder{{"gpu-1", f.aHex}}) {
		t.Fatalf("batch, the fixture's token: %+v %v", results[1].Identity, results[1].Err)
	}
	if !errors.Is(results[2].Err, ErrPopFailed) || results[2].Identity.Chain != nil {
		t.Fatalf("batch, A on B's token: %+v %v", results[2].Identity, results[2].Err)
	}

	// revoking A's token refuses B's
	if err := v.Revoke("rev-d"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := v.Authenticate(proof(f.b, "b4"), f.request, &now); !errors.Is(err, ErrRevoked) {
		t.Fatalf("after revoking A's token: %v", err)
	}
}

func TestDelegatedTokenThroughDecide(t *testing.T) {
	f := newDelegationFixture(t)
	v := f.httpVerifier(t, VerifierOptions{Authorities: []string{httpAuthority}})
	p := mustPolicy(t)
	headers, err := SignRequest(f.b, f.byB, SignRequestOptions{Method: "POST", URL: "/lease/gpu",
		Headers: []Pair{{"Host", httpAuthority}}, Body: []byte("{}"), Created: Int64(int64(fixtureNow)),
		Nonce: String("d1")})
	if err != nil {
		t.Fatal(err)
	}
	// B's check names req_lane: the application passes it
	d := decide(t, v, p, received("POST", "/lease/gpu", headers, "{}"), []Pair{{"req_lane", "gpu"}})
	if !d.Allowed || d.Identity == nil || d.Identity.HolderID != "gpu-2" ||
		!reflect.DeepEqual(d.Identity.Chain, f.chain()) {
		t.Fatalf("decision %+v", d)
	}
	// an undelegated token's decision carries its one holder
	plain := f.sign(t, "rfc9421", "/lease/gpu", "d2", "{}")
	d = decide(t, v, p, received("POST", "/lease/gpu", plain, "{}"), nil)
	if !d.Allowed || d.Identity == nil || !reflect.DeepEqual(d.Identity.Chain, []Holder{{"gpu-1", f.aHex}}) {
		t.Fatalf("decision %+v", d)
	}
}

func TestSignerClientDelegationDepth(t *testing.T) {
	f := newFixture(t)
	_, client := testSigner(t, append(signerPolicy, "--max-delegation-depth", "1")...)
	workerHex, _ := f.worker.PublicHex()
	req := SignerMintRequest{PublicHex: workerHex, HolderID: "gpu-1", Facts: []Fact{{"lane", []string{"gpu"}}},
		RevocationID: "rev-1", ExpiresAt: NowSeconds() + 600, DelegationDepth: 2}
	if _, err := client.Mint(req); !errors.Is(err, ErrSignerRefused) {
		t.Fatalf("a depth past the signer's ceiling: %v", err)
	}
	req.DelegationDepth = 1
	minted, err := client.Mint(req)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := WorkerKeyFromSecretHex(strings.Repeat("33", 32))
	otherHex, _ := other.PublicHex()
	if _, err := Delegate(minted.Token, f.worker, DelegateRequest{ToPublicHex: otherHex, ToHolderID: "gpu-2",
		ExpiresAt: NowSeconds() + 60}); err != nil {
		t.Fatal(err)
	}
	// without a depth the signer's token is not delegable
	req.DelegationDepth = 0
	if minted, err = client.Mint(req); err != nil {
		t.Fatal(err)
	}
	if _, err := Delegate(minted.Token, f.worker, DelegateRequest{ToPublicHex: otherHex, ToHolderID: "gpu-2",
		ExpiresAt: NowSeconds() + 60}); !errors.Is(err, ErrDelegationInvalid) {
		t.Fatalf("an undelegable token: %v", err)
	}
}
