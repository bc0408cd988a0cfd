package trustcore

// The HTTP part of the package (http.go): SignRequest in both profiles, the route policy, Decide
// (allowed, replayed, tampered, another authority, a profile not accepted, application facts, a
// public route, no route, a body over the cap), the verifier's Authorities and Profiles, the
// signature base and its verification, Close during calls, and many goroutines deciding at once.
// The interop with an implementation no one here wrote is http_interop_test.go.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const httpAuthority = "api.example.com"

const httpPolicyJSON = `{"max_body_bytes": 64, "routes": [
	{"method": "POST", "path": "/lease/{lane}", "allow": "allow if req_param_lane($l), lane($l)"},
	{"method": "POST", "path": "/audited/{lane}", "allow": "allow if req_team(\"blue\"), lane($l), req_param_lane($l)"},
	{"method": "GET", "path": "/health", "public": true}]}`

// received is the request a server sees: Host, then the headers the signer made.
func received(method, target string, signed []Pair, body string) HttpRequest {
	return HttpRequest{Method: method, Target: target, Headers: append([]Pair{{"Host", httpAuthority}}, signed...),
		Body: []byte(body)}
}

func header(pairs []Pair, name string) string {
	for _, p := range pairs {
		if strings.EqualFold(p.Name, name) {
			return p.Value
		}
	}
	return ""
}

func (f *fixture) sign(t testing.TB, profile, url, nonce, body string) []Pair {
	t.Helper()
	headers, err := SignRequest(f.worker, f.token, SignRequestOptions{Method: "POST", URL: url,
		Headers: []Pair{{"Host", httpAuthority}}, Body: []byte(body), Profile: profile,
		Created: Int64(int64(fixtureNow)), Nonce: String(nonce)})
	if err != nil {
		t.Fatal(err)
	}
	return headers
}

func (f *fixture) httpVerifier(t testing.TB, opts VerifierOptions) *Verifier {
	t.Helper()
	opts.Limits = patientLimits()
	v, err := NewVerifier(f.trusted, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	return v
}

func mustPolicy(t testing.TB) *HttpPolicy {
	t.Helper()
	p, err := HttpPolicyFromJSON([]byte(httpPolicyJSON))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func decide(t testing.TB, v *Verifier, p *HttpPolicy, r HttpRequest, facts []Pair) *Decision {
	t.Helper()
	now := fixtureNow
	d, err := v.Decide(r, p, facts, &now)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestHTTPPolicy(t *testing.T) {
	p := mustPolicy(t)
	if p.RouteCount() != 3 || p.MaxBodyBytes() != 64 {
		t.Fatalf("routes %d, max body %d", p.RouteCount(), p.MaxBodyBytes())
	}
	for _, bad := range []string{`{"routes": [], "routes": []}`, `{"routes": [{"method": "GET", "path": "/a"}]}`, ``,
		`[]`} {
		if _, err := HttpPolicyFromJSON([]byte(bad)); !errors.Is(err, ErrMalformedInput) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	path := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(path, []byte(httpPolicyJSON), 0o600); err != nil {
		t.Fatal(err)
	}
	fromFile, err := HttpPolicyFromFile(path)
	if err != nil || fromFile.RouteCount() != 3 {
		t.Fatalf("from file: %v", err)
	}
	if _, err := HttpPolicyFromFile(filepath.Join(t.TempDir(), "missing.json")); !errors.Is(err, ErrMalformedInput) {
		t.Fatalf("missing file: %v", err)
	}
	fromFile.Close()
	fromFile.Close()
	if fromFile.RouteCount() != 0 || fromFile.MaxBodyBytes() != 0 {
		t.Fatal("a closed policy reads as empty")
	}
	var nilPolicy *HttpPolicy
	nilPolicy.Close()
	if nilPolicy.RouteCount() != 0 {
		t.Fatal("a nil policy reads as empty")
	}
}

func TestHTTPVerifierOptions(t *testing.T) {
	f := newFixture(t)
	d := DefaultVerifierOptions()
	if strings.Join(d.Profiles, ",") != "rfc9421,legacy" || d.Authorities != nil {
		t.Fatalf("defaults: profiles %v, authorities %v", d.Profiles, d.Authorities)
	}
	for name, opts := range map[string]VerifierOptions{
		"no profile":      {Profiles: []string{}},
		"unknown profile": {Profiles: []string{"rfc9421", "dpop"}},
		"bad authority":   {Authorities: []string{"user@" + httpAuthority}},
		"empty authority": {Authorities: []string{""}},
	} {
		if _, err := NewVerifier(f.trusted, opts); !errors.Is(err, ErrMalformedInput) {
			t.Errorf("%s: %v", name, err)
		}
	}
	v, err := NewVerifier(f.trusted, d)
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
}

func TestHTTPSignRequest(t *testing.T) {
	f := newFixture(t)
	url := "https://" + httpAuthority + "/lease/gpu"
	a := f.sign(t, "rfc9421", url, "n-1", "{}")
	b := f.sign(t, "", url, "n-1", "{}") // the empty profile is RFC 9421
	names := []string{}
	for i, p := range a {
		names = append(names, p.Name)
		if b[i] != p {
			t.Errorf("header %d differs: %v / %v", i, p, b[i])
		}
	}
	if strings.Join(names, ",") != "Authorization,Content-Digest,Signature-Input,Signature" {
		t.Fatalf("headers %v", names)
	}
	if header(a, "Content-Digest") != "sha-256=:RBNvo1WzZ4oRRq0W9+hknpT7T8If536DEMBg9hyq/4o=:" ||
		!strings.Contains(header(a, "Signature-Input"), `created=1700000000`) ||
		!strings.Contains(header(a, "Signature-Input"), `tag="trustcore"`) {
		t.Fatalf("headers %v", a)
	}
	// not set: now and a random nonce
	c, err := SignRequest(f.worker, f.token, SignRequestOptions{Method: "POST", URL: url})
	d, err2 := SignRequest(f.worker, f.token, SignRequestOptions{Method: "POST", URL: url})
	if err != nil || err2 != nil || header(c, "Signature") == header(d, "Signature") {
		t.Fatalf("random nonces: %v %v", err, err2)
	}
	legacy := f.sign(t, "legacy", "/lease/gpu", "n-1", "{}")
	if len(legacy) != 4 || header(legacy, "X-EP-Nonce") != "n-1" || header(legacy, "X-EP-Timestamp") != "1700000000" {
		t.Fatalf("legacy %v", legacy)
	}
	for name, opts := range map[string]SignRequestOptions{
		"unknown profile":  {Method: "POST", URL: url, Profile: "dpop"},
		"origin, no Host":  {Method: "POST", URL: "/lease/gpu"},
		"user info":        {Method: "POST", URL: "https://u:p@" + httpAuthority + "/"},
		"not printable":    {Method: "POST", URL: url, Nonce: String("n\x01")},
		"invalid UTF-8":    {Method: "POST", URL: url, Headers: []Pair{{"Host", "\xff"}}},
		"not http":         {Method: "POST", URL: "ftp://" + httpAuthority + "/"},
		"CR in the method": {Method: "PO\rST", URL: url, Profile: "legacy"},
	} {
		if _, err := SignRequest(f.worker, f.token, opts); !errors.Is(err, ErrMalformedInput) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := SignRequest(nil, f.token, SignRequestOptions{Method: "POST", URL: url}); !errors.Is(err, ErrMalformedInput) {
		t.Errorf("nil key: %v", err)
	}
	if _, err := SignRequest(f.worker, "two words", SignRequestOptions{Method: "POST", URL: url}); !errors.Is(err, ErrMalformedInput) {
		t.Errorf("bad token: %v", err)
	}

	// the base of what was signed, and its verification with the holder's public key
	r := received("POST", "/lease/gpu", a, "{}")
	base, err := SignatureBase(r, "tc")
	if err != nil || !strings.HasPrefix(base, "\"@method\": POST\n\"@authority\": "+httpAuthority+"\n\"@path\": /lease/gpu\n") {
		t.Fatalf("base %q %v", base, err)
	}
	if _, err := SignatureBase(r, "other"); !errors.Is(err, ErrMalformedInput) {
		t.Fatalf("other label: %v", err)
	}
	workerHex, _ := f.worker.PublicHex()
	issuerHex, _ := f.issuer.PublicHex()
	if err := VerifyMessageSignature(r, "tc", workerHex); err != nil {
		t.Fatal(err)
	}
	wantCode(t, VerifyMessageSignature(r, "tc", issuerHex), ErrPopFailed)
	wantCode(t, VerifyMessageSignature(r, "tc", "zz"), ErrMalformedInput)
	moved := r
	moved.Target = "/lease/cpu"
	wantCode(t, VerifyMessageSignature(moved, "tc", workerHex), ErrPopFailed)
}

func TestHTTPDecide(t *testing.T) {
	f := newFixture(t)
	p := mustPolicy(t)
	v := f.httpVerifier(t, VerifierOptions{Authorities: []string{"API.example.com"}}) // lower-cased by the core
	url := "https://" + httpAuthority + "/lease/gpu"

	r := received("POST", "/lease/gpu", f.sign(t, "rfc9421", url, "d-1", "{}"), "{}")
	d := decide(t, v, p, r, nil)
	if !d.Allowed || d.Status != 200 || d.Code != 0 || d.Err() != nil || d.Message != "allowed" || d.Body != "" ||
		len(d.Headers) != 0 || d.Route != "/lease/{lane}" || d.Profile != "rfc9421" || d.Identity == nil ||
		d.Identity.HolderID != "gpu-1" || d.Identity.RevocationID != "rev-1" {
		t.Fatalf("decision %+v", d)
	}
	want := []Pair{{"req_method", "POST"}, {"req_path", "/lease/gpu"}, {"req_route", "/lease/{lane}"},
		{"req_param_lane", "gpu"}, {"req_authority", httpAuthority}}
	if fmt.Sprint(d.Facts) != fmt.Sprint(want) {
		t.Fatalf("facts %v", d.Facts)
	}
	// the same request again
	d = decide(t, v, p, r, nil)
	if d.Allowed || d.Status != 401 || !errors.Is(d.Err(), ErrReplayed) || d.Identity != nil || len(d.Facts) != 0 ||
		header(d.Headers, "WWW-Authenticate") != `Biscuit error="REPLAYED"` ||
		!strings.Contains(d.Body, `"error":"REPLAYED"`) {
		t.Fatalf("replayed %+v", d)
	}

	// application facts: a bad name is the call's own error; a good one reaches the policy, last
	now := fixtureNow
	if _, err := v.Decide(r, p, []Pair{{"team", "blue"}}, &now); !errors.Is(err, ErrMalformedInput) {
		t.Fatalf("bad fact: %v", err)
	}
	audited := received("POST", "/audited/gpu",
		f.sign(t, "rfc9421", "https://"+httpAuthority+"/audited/gpu", "d-2", "{}"), "{}")
	if d = decide(t, v, p, audited, []Pair{{"req_team", "red"}}); d.Status != 403 || d.Code != Denied {
		t.Fatalf("red team %+v", d)
	}
	audited = received("POST", "/audited/gpu",
		f.sign(t, "rfc9421", "https://"+httpAuthority+"/audited/gpu", "d-3", "{}"), "{}")
	if d = decide(t, v, p, audited, []Pair{{"req_team", "blue"}}); !d.Allowed ||
		d.Facts[len(d.Facts)-1] != (Pair{"req_team", "blue"}) {
		t.Fatalf("blue team %+v", d)
	}

	// a public route: no credentials read; no route: 403 and no route named; a body over the cap: 413
	if d = decide(t, v, p, HttpRequest{Method: "GET", Target: "/health"}, nil); !d.Allowed || d.Identity != nil ||
		d.Profile != "" {
		t.Fatalf("public %+v", d)
	}
	if d = decide(t, v, p, received("POST", "/admin", nil, "{}"), nil); d.Status != 403 || d.Code != Denied ||
		d.Route != "" {
		t.Fatalf("no route %+v", d)
	}
	signed := f.sign(t, "rfc9421", url, "d-4", "{}")
	if d = decide(t, v, p, received("POST", "/lease/gpu", signed, strings.Repeat("x", 65)), nil); d.Status != 413 ||
		d.Code != LimitExceeded {
		t.Fatalf("big body %+v", d)
	}
	// tampered: another body; the nonce was not spent, so the request as signed still passes
	if d = decide(t, v, p, received("POST", "/lease/gpu", signed, `{"x":1}`), nil); d.Status != 401 ||
		d.Code != PopFailed {
		t.Fatalf("tampered %+v", d)
	}
	if d = decide(t, v, p, received("POST", "/lease/gpu", signed, "{}"), nil); !d.Allowed {
		t.Fatalf("as signed %+v", d)
	}
	// a path trick is refused before any route (400)
	if d = decide(t, v, p, received("POST", "/lease/../admin", signed, "{}"), nil); d.Status != 400 ||
		d.Code != MalformedInput {
		t.Fatalf("dot segments %+v", d)
	}

	// the legacy profile; a verifier that takes RFC 9421 only refuses it
	legacy := received("POST", "/lease/gpu", f.sign(t, "legacy", "/lease/gpu", "d-5", "{}"), "{}")
	if d = decide(t, v, p, legacy, nil); !d.Allowed || d.Profile != "legacy" {
		t.Fatalf("legacy %+v", d)
	}
	rfcOnly := f.httpVerifier(t, VerifierOptions{Authorities: []string{httpAuthority}, Profiles: []string{"rfc9421"}})
	if d = decide(t, rfcOnly, p, legacy, nil); d.Status != 401 || d.Code != MalformedInput {
		t.Fatalf("legacy refused %+v", d)
	}

	// another authority, or none: WRONG_AUDIENCE
	elsewhere := f.httpVerifier(t, VerifierOptions{Authorities: []string{"other.example.com"}})
	nowhere := f.httpVerifier(t, VerifierOptions{})
	r = received("POST", "/lease/gpu", f.sign(t, "rfc9421", url, "d-6", "{}"), "{}")
	for _, other := range []*Verifier{elsewhere, nowhere} {
		if d = decide(t, other, p, r, nil); d.Status != 401 || !errors.Is(d.Err(), ErrWrongAudience) ||
			header(d.Headers, "WWW-Authenticate") != `Biscuit error="WRONG_AUDIENCE"` {
			t.Fatalf("wrong audience %+v", d)
		}
	}

	// nil and closed handles are the call's own ErrMalformedInput, never a decision
	if _, err := v.Decide(r, nil, nil, &now); !errors.Is(err, ErrMalformedInput) {
		t.Fatalf("nil policy: %v", err)
	}
	var none *Verifier
	if _, err := none.Decide(r, p, nil, &now); !errors.Is(err, ErrMalformedInput) {
		t.Fatalf("nil verifier: %v", err)
	}
	bad := r
	bad.Headers = append([]Pair{{"X-Bad", "\xff"}}, r.Headers...)
	if _, err := v.Decide(bad, p, nil, &now); !errors.Is(err, ErrMalformedInput) {
		t.Fatalf("invalid UTF-8: %v", err)
	}
}

// One Verifier and one HttpPolicy shared by many goroutines (run under -race by make test-go):
// each (holder, nonce) allowed exactly once.
func TestHTTPDecideConcurrently(t *testing.T) {
	f := newFixture(t)
	p := mustPolicy(t)
	v := f.httpVerifier(t, VerifierOptions{Authorities: []string{httpAuthority}})
	const goroutines, rounds = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			now := fixtureNow
			for i := 0; i < rounds; i++ {
				signed, err := SignRequest(f.worker, f.token, SignRequestOptions{Method: "POST", URL: "/lease/gpu",
					Headers: []Pair{{"Host", httpAuthority}}, Body: []byte("{}"), Created: Int64(int64(now)),
					Nonce: String(fmt.Sprintf("c-%d-%d", g, i))})
				if err != nil {
					errs <- err
					return
				}
				r := received("POST", "/lease/gpu", signed, "{}")
				first, err := v.Decide(r, p, nil, &now)
				if err != nil {
					errs <- err
					return
				}
				second, err := v.Decide(r, p, nil, &now)
				if err != nil || !first.Allowed || second.Code != Replayed {
					errs <- fmt.Errorf("goroutine %d round %d: %+v then %+v (%v)", g, i, first, second, err)
					return
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

func TestHTTPPolicyCloseDuringCalls(t *testing.T) {
	f := newFixture(t)
	v := f.httpVerifier(t, VerifierOptions{Authorities: []string{httpAuthority}})
	for round := 0; round < 5; round++ {
		p, err := HttpPolicyFromJSON([]byte(httpPolicyJSON))
		if err != nil {
			t.Fatal(err)
		}
		closeDuringCalls(t, "HttpPolicy", 4, func(g, i int) error {
			now := fixtureNow
			d, err := v.Decide(HttpRequest{Method: "GET", Target: "/health"}, p, nil, &now)
			if err == nil && !d.Allowed {
				err = fmt.Errorf("public route refused: %+v", d)
			}
			return err
		}, p.Close)
	}
}
