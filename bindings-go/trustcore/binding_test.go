package trustcore

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

func wantCode(t *testing.T, err error, sentinel *Error) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("want %v, got %v", sentinel.Code, err)
	}
}

func TestCodesAndErrorsIs(t *testing.T) {
	names := []string{"MALFORMED_INPUT", "TOKEN_INVALID", "TOKEN_UNBOUND", "REVOKED", "STALE_REQUEST", "REPLAYED",
		"POP_FAILED", "DENIED", "LIMIT_EXCEEDED", "JOB_INVALID", "FRAME_INVALID", "SIGNER_UNAVAILABLE",
		"SIGNER_REFUSED", "STORE_UNAVAILABLE", "INTERNAL", "WRONG_AUDIENCE", "DELEGATION_INVALID"}
	sentinels := []*Error{ErrMalformedInput, ErrTokenInvalid, ErrTokenUnbound, ErrRevoked, ErrStaleRequest,
		ErrReplayed, ErrPopFailed, ErrDenied, ErrLimitExceeded, ErrJobInvalid, ErrFrameInvalid,
		ErrSignerUnavailable, ErrSignerRefused, ErrStoreUnavailable, ErrInternal, ErrWrongAudience, ErrDelegationInvalid}
	for i, name := range names {
		if got := Code(i + 1).String(); got != name {
			t.Errorf("code %d: %s, want %s", i+1, got, name)
		}
		if sentinels[i].Code != Code(i+1) {
			t.Errorf("sentinel %s has code %d", name, sentinels[i].Code)
		}
	}
	err := error(&Error{Code: Denied, Message: "worker not authorized for this operation"})
	wrapped := errors.Join(errors.New("lease"), err)
	if !errors.Is(wrapped, ErrDenied) || errors.Is(wrapped, ErrRevoked) {
		t.Fatal("errors.Is must match by code")
	}
	var te *Error
	if !errors.As(wrapped, &te) || te.Code != Denied {
		t.Fatal("errors.As must find the *Error")
	}
}

func TestRequestFlow(t *testing.T) {
	f := newFixture(t)
	headers, err := f.proof.Headers()
	if err != nil || len(headers) != 4 || headers[0].Name != "Authorization" {
		t.Fatalf("headers %v %v", headers, err)
	}
	h := http.Header{}
	for _, p := range headers {
		h.Set(p.Name, p.Value)
	}
	h.Set("Content-Type", "application/json")
	received, err := ProofFromHTTPHeader(h)
	if err != nil {
		t.Fatal(err)
	}
	token, id, err := Authenticate(f.trusted, received, f.request, f.options)
	if err != nil {
		t.Fatal(err)
	}
	if id.HolderID != "gpu-1" || id.RevocationID != "rev-1" || len(id.HolderPublicHex) != 64 {
		t.Fatalf("identity %+v", id)
	}
	facts := []Pair{{"req_operation", "lease"}}
	if err := token.CheckPolicy(facts, `allow if req_operation("lease"), lane("gpu")`, fixtureNow, nil); err != nil {
		t.Fatal(err)
	}
	wantCode(t, token.CheckPolicy(facts, `allow if req_operation("drop")`, fixtureNow, nil), ErrDenied)
	wantCode(t, token.CheckPolicy(facts, `allow if true`, fixtureNow+7200, nil), ErrDenied)
	wantCode(t, token.CheckPolicy([]Pair{{"bad name", "x"}}, `allow if true`, fixtureNow, nil), ErrMalformedInput)
	now := fixtureNow
	policy, err := token.Authorize(`allow if false; allow if worker_id("gpu-1");`, AuthorizeOptions{Now: &now})
	if err != nil || policy != 1 {
		t.Fatalf("authorize %d %v", policy, err)
	}
	noTime := Limits{MaxTime: Duration(0)}
	_, err = token.Authorize(`allow if true;`, AuthorizeOptions{Now: &now, Limits: &noTime})
	wantCode(t, err, ErrLimitExceeded)

	// inspection
	if token.BlockCount() != 1 {
		t.Fatal("one block")
	}
	source, err := token.BlockSource(0)
	if err != nil || !strings.Contains(source, `worker_id("gpu-1")`) {
		t.Fatalf("source %q %v", source, err)
	}
	_, err = token.BlockSource(1)
	wantCode(t, err, ErrMalformedInput)
	ids, err := token.RevocationIDs()
	if err != nil || len(ids) != 1 || len(ids[0]) != 128 {
		t.Fatalf("ids %v %v", ids, err)
	}
	if _, ok := token.RootKeyID(); ok {
		t.Fatal("no root key id")
	}
	if b64, err := token.Base64(); err != nil || len(b64) != len(f.token) {
		t.Fatalf("base64 %v", err)
	}
	if again, err := token.Identity(); err != nil || !reflect.DeepEqual(again, id) {
		t.Fatalf("identity %+v %v", again, err)
	}

	// the refusals
	opts := f.options
	opts.Revoked = []string{"rev-1"}
	_, _, err = Authenticate(f.trusted, received, f.request, opts)
	wantCode(t, err, ErrRevoked)
	opts = f.options
	opts.Now += 301
	_, _, err = Authenticate(f.trusted, received, f.request, opts)
	wantCode(t, err, ErrStaleRequest)
	other := f.request
	other.Path = "/drop"
	_, _, err = Authenticate(f.trusted, received, other, f.options)
	wantCode(t, err, ErrPopFailed)
	stranger, _ := TrustIssuer("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
	_, _, err = Authenticate(stranger, received, f.request, f.options)
	wantCode(t, err, ErrTokenInvalid)

	// the query transport
	query, err := f.proof.Query()
	if err != nil {
		t.Fatal(err)
	}
	values := url.Values{}
	for _, p := range query {
		values.Add(p.Name, p.Value)
	}
	fromQuery, err := ProofFromURLValues(values)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Authenticate(f.trusted, fromQuery, f.request, f.options); err != nil {
		t.Fatal(err)
	}
	values.Add("nonce", "again")
	_, err = ProofFromURLValues(values)
	wantCode(t, err, ErrMalformedInput)
}

func TestCloseAndMisuse(t *testing.T) {
	f := newFixture(t)
	token, _, err := Authenticate(f.trusted, f.proof, f.request, f.options)
	if err != nil {
		t.Fatal(err)
	}
	token.Close()
	token.Close() // idempotent
	wantCode(t, token.CheckPolicy(nil, "allow if true", fixtureNow, nil), ErrMalformedInput)
	if token.BlockCount() != 0 {
		t.Fatal("a closed token has no blocks")
	}
	key, _ := GenerateWorkerKey()
	key.Close()
	_, err = key.PublicHex()
	wantCode(t, err, ErrMalformedInput)

	_, err = WorkerKeyFromSecretHex("22\xff\xfe")
	wantCode(t, err, ErrMalformedInput)
	_, err = ProofFromHeaders([]Pair{{"X-EP-Nonce", "\xc3\x28"}})
	wantCode(t, err, ErrMalformedInput)
	_, err = f.issuer.SignJob(json.RawMessage(`[1,2]`), "w")
	wantCode(t, err, ErrMalformedInput)
	_, err = TrustIssuer("")
	wantCode(t, err, ErrMalformedInput)
	_, err = ParseToken(f.trusted, "")
	wantCode(t, err, ErrTokenInvalid)
	_, err = f.worker.MakeProof(f.token, Request{Method: "GET\n", Path: "/"}, "1", "n")
	wantCode(t, err, ErrMalformedInput)
	secret := strings.Repeat("ab", 31) + "a" // 63 digits
	_, err = IssuerKeyFromSecretHex(secret)
	if !errors.Is(err, ErrMalformedInput) || strings.Contains(err.Error(), secret[:16]) {
		t.Fatalf("a secret must not reach the message: %v", err)
	}
	if *DefaultLimits().MaxTime != 10*time.Millisecond {
		t.Fatal("default limits")
	}
	if NowSeconds() < 1.6e9 || Version() == "" {
		t.Fatal("clock or version")
	}
}

func TestKeysJobsFrames(t *testing.T) {
	a, err := GenerateIssuerKey()
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := a.SecretHex()
	b, err := IssuerKeyFromSecretHex(secret)
	if err != nil {
		t.Fatal(err)
	}
	pa, _ := a.PublicHex()
	pb, _ := b.PublicHex()
	if pa != pb {
		t.Fatal("same seed, same key")
	}
	if _, err := TrustIssuersByKeyID(map[uint32]string{1: pa, 2: pb}); err != nil {
		t.Fatal(err)
	}
	_, err = TrustIssuersByKeyID(map[uint32]string{1: "zz"})
	wantCode(t, err, ErrMalformedInput)
	if _, err := WorkerKeyFromSeed(make([]byte, 32)); err != nil {
		t.Fatal(err)
	}

	job := json.RawMessage(`{"op":"transcribe","n":3}`)
	sig, err := a.SignJob(job, "gpu-1")
	if err != nil || len(sig) != 128 {
		t.Fatalf("sign %q %v", sig, err)
	}
	signed := json.RawMessage(`{"op":"transcribe","n":3,"sig":"` + sig + `"}`)
	if err := VerifyJob(pa, signed, "gpu-1", nil); err != nil {
		t.Fatal(err)
	}
	wantCode(t, VerifyJob(pa, signed, "gpu-2", nil), ErrJobInvalid)
	wantCode(t, VerifyJob(pa, job, "gpu-1", nil), ErrJobInvalid)

	frame, err := EncodeFrame(json.RawMessage(`{"v":1,"op":"health"}`))
	if err != nil || string(frame[4:]) != `{"op":"health","v":1}` {
		t.Fatalf("frame %q %v", frame, err)
	}
	object, err := DecodeFrame(frame)
	if err != nil || string(object) != `{"op":"health","v":1}` {
		t.Fatalf("object %s %v", object, err)
	}
	_, err = DecodeFrame(frame[:len(frame)-1])
	wantCode(t, err, ErrFrameInvalid)
	if n, err := FrameBodyLength(frame[:4]); err != nil || n != len(frame)-4 {
		t.Fatalf("length %d %v", n, err)
	}
	_, err = FrameBodyLength([]byte{0, 0x10, 0, 1})
	wantCode(t, err, ErrFrameInvalid)
	_, err = DecodeFrameBody([]byte(`[1]`))
	wantCode(t, err, ErrFrameInvalid)
	if MaxFrame != 1<<20 {
		t.Fatal("MaxFrame")
	}
}
