package trustcore

// Hostile input, one table: what the public functions do with invalid UTF-8, NUL
// bytes inside strings, empty and nil values (maps, slices, handles), huge values (a 100 MB body, a
// 10 MB header, a 1 MB token to the Verifier) and Datalog that explodes in an attenuated block
// (tokens read from tests/vectors/limits.json at run time). Each row asserts the exact outcome: an
// error code, or success where the input is legitimate; the process lives on and resident memory
// after the huge rows stays bounded. Go's types rule out "wrong type" rows; a nil handle is this
// binding's nearest equivalent (MALFORMED_INPUT, as for a closed one). Hostile inputs that are pure
// data (a 1 MB token to ParseToken and Authenticate, a huge signature, timestamp and nonce, a 1 MB
// and a deep allow policy, jobs nested 10,000 deep) are vectors every binding runs:
// tests/vectors/hostile.json, through conformance_test.go.
//
// NUL bytes: the binding hands C (pointer, length) pairs, never C strings, so nothing is cut at a
// NUL; the rows check that text after a NUL still counts (a proof for "/lease\x00/admin" does not
// authenticate "/lease", a valid token followed by "\x00junk" is not the valid token).

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// limitsVector reads one case's input from tests/vectors/limits.json (read in place, never copied).
func limitsVector(t *testing.T, id string) fields {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(), "tests", "vectors", "limits.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []struct {
			ID    string `json:"id"`
			Input fields `json:"input"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, c := range doc.Cases {
		if c.ID == id {
			return c.Input
		}
	}
	t.Fatalf("limits.json has no case %s", id)
	return nil
}

// rssBytes is this process's resident set size (VmRSS in /proc/self/status).
func rssBytes(t *testing.T) int64 {
	t.Helper()
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

type hostileRow struct {
	name string
	want *Error // nil: the call must succeed
	call func() error
}

func TestHostileInput(t *testing.T) {
	f := newFixture(t)
	now := fixtureNow
	issuerHex, _ := f.issuer.PublicHex()
	workerHex, _ := f.worker.PublicHex()
	facts := []Pair{{"req_operation", "lease"}}
	const allow = `allow if req_operation("lease"), lane("transcribe")`
	newVerifier := func() *Verifier {
		v, err := NewVerifier(f.trusted, VerifierOptions{MaxSkewSeconds: Float64(300)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(v.Close)
		return v
	}
	nonce := 0
	fresh := func(r Request) *Proof { // a proof under a nonce of its own
		t.Helper()
		nonce++
		p, err := f.worker.MakeProof(f.token, r, "1700000000", "h-"+strconv.Itoa(nonce))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	makeProof := func(r Request, ts, n string) error {
		_, err := f.worker.MakeProof(f.token, r, ts, n)
		return err
	}
	authenticate := func(p *Proof, r Request) error {
		_, _, err := Authenticate(f.trusted, p, r, f.options)
		return err
	}
	headers := func(token, sig, ts, n string) []Pair {
		return []Pair{{"Authorization", "Biscuit " + token}, {"X-EP-Signature", sig}, {"X-EP-Timestamp", ts},
			{"X-EP-Nonce", n}}
	}
	parsed, err := ParseToken(f.trusted, f.token)
	if err != nil {
		t.Fatal(err)
	}
	job := json.RawMessage(`{"id":"job-1","kind":"transcribe","n":3}`)
	sig, err := f.issuer.SignJob(job, "gpu-1")
	if err != nil {
		t.Fatal(err)
	}
	signed := json.RawMessage(`{"id":"job-1","kind":"transcribe","n":3,"sig":"` + sig + `"}`)
	nul := Request{Method: "POST", Path: "/lease\x00/admin", Body: f.request.Body}

	rows := []hostileRow{
		// ---- invalid UTF-8
		{"utf8: method", ErrMalformedInput, func() error {
			return makeProof(Request{Method: "P\xffST", Path: "/lease"}, "1700000000", "n")
		}},
		{"utf8: path", ErrMalformedInput, func() error {
			return makeProof(Request{Method: "POST", Path: "/\xc3\x28"}, "1700000000", "n")
		}},
		{"utf8: timestamp", ErrMalformedInput, func() error { return makeProof(f.request, "17\xff", "n") }},
		{"utf8: nonce", ErrMalformedInput, func() error { return makeProof(f.request, "1700000000", "n\xfe") }},
		{"utf8: token in make_proof", ErrMalformedInput, func() error {
			_, err := f.worker.MakeProof("tok\xff", f.request, "1700000000", "n")
			return err
		}},
		{"utf8: canonical_request", ErrMalformedInput, func() error {
			_, err := CanonicalRequest(Request{Method: "\xff"}, "1", "n")
			return err
		}},
		{"utf8: authenticate request", ErrMalformedInput, func() error {
			return authenticate(f.proof, Request{Method: "POST", Path: "/lease\xff", Body: f.request.Body})
		}},
		{"utf8: verifier request", ErrMalformedInput, func() error {
			_, _, err := newVerifier().Authenticate(fresh(f.request), Request{Method: "\xffPOST", Path: "/lease"}, &now)
			return err
		}},
		{"utf8: parse_token", ErrMalformedInput, func() error { _, err := ParseToken(f.trusted, "\xff\xfe"); return err }},
		{"utf8: new_proof nonce", ErrMalformedInput, func() error {
			_, err := NewProof(f.token, strings.Repeat("ab", 64), "1700000000", "\xff")
			return err
		}},
		{"utf8: header name", ErrMalformedInput, func() error {
			_, err := ProofFromHeaders(append(headers("tok", "aa", "1", "n"), Pair{"X-\xff", "v"}))
			return err
		}},
		{"utf8: mint holder id", ErrMalformedInput, func() error {
			_, err := f.issuer.Mint(MintRequest{PublicHex: workerHex, HolderID: "gpu\xff", RevocationID: "r",
				ExpiresAt: now + 60})
			return err
		}},
		{"utf8: mint fact value", ErrMalformedInput, func() error {
			_, err := f.issuer.Mint(MintRequest{PublicHex: workerHex, HolderID: "gpu-1", RevocationID: "r",
				Facts: []Fact{{"lane", []string{"\xc0\xaf"}}}, ExpiresAt: now + 60})
			return err
		}},
		{"utf8: request fact value", ErrMalformedInput, func() error {
			return parsed.CheckPolicy([]Pair{{"req_operation", "lea\xffse"}}, allow, now, nil)
		}},
		{"utf8: allow policy", ErrMalformedInput, func() error { return parsed.CheckPolicy(facts, "allow if \xff", now, nil) }},
		{"utf8: authorize code", ErrMalformedInput, func() error {
			_, err := parsed.Authorize("allow if \xff;", AuthorizeOptions{Now: &now})
			return err
		}},
		{"utf8: revoke", ErrMalformedInput, func() error { return newVerifier().Revoke("rev\xff") }},
		{"utf8: job", ErrMalformedInput, func() error {
			_, err := f.issuer.SignJob(json.RawMessage("{\"id\":\"\xff\"}"), "gpu-1")
			return err
		}},
		{"utf8: worker id", ErrMalformedInput, func() error { _, err := f.issuer.SignJob(job, "gpu\xff"); return err }},
		{"utf8: verify_job worker id", ErrMalformedInput, func() error { return VerifyJob(issuerHex, signed, "gpu\xff", nil) }},
		{"utf8: signer address", ErrMalformedInput, func() error {
			_, err := NewSignerClient("/tmp/\xff.sock", 1e9, 1e9)
			return err
		}},

		// ---- NUL bytes: refused, or kept whole; never cut short
		{"nul: method signed whole", nil, func() error {
			c, err := CanonicalRequest(Request{Method: "POST\x00GET", Path: "/lease"}, "1", "n")
			if err == nil && !strings.HasPrefix(string(c), "POST\x00GET\n/lease\n") {
				err = errors.New("method cut short: " + strconv.Quote(string(c)))
			}
			return err
		}},
		{"nul: method signed whole: does not authenticate the method before the NUL", ErrPopFailed, func() error {
			p, err := f.worker.MakeProof(f.token, Request{Method: "POST\x00GET", Path: "/lease", Body: f.request.Body},
				"1700000000", "n-nul")
			if err != nil {
				return err
			}
			return authenticate(p, f.request)
		}},
		{"nul: path signed whole: does not authenticate the path before the NUL", ErrPopFailed, func() error {
			p, err := f.worker.MakeProof(f.token, nul, "1700000000", "n-nul")
			if err != nil {
				return err
			}
			return authenticate(p, Request{Method: "POST", Path: "/lease", Body: f.request.Body})
		}},
		{"nul: nonce kept whole", nil, func() error {
			p, err := f.worker.MakeProof(f.token, f.request, "1700000000", "n-1\x00evil")
			if err != nil {
				return err
			}
			if p.Nonce() != "n-1\x00evil" {
				return errors.New("nonce cut short: " + strconv.Quote(p.Nonce()))
			}
			return nil
		}},
		{"nul: timestamp kept whole, so not a number", ErrMalformedInput, func() error {
			p, err := f.worker.MakeProof(f.token, f.request, "1700000000\x00", "n")
			if err != nil {
				return err
			}
			return authenticate(p, f.request)
		}},
		{"nul: token followed by junk is not the token", ErrTokenInvalid, func() error {
			_, err := ParseToken(f.trusted, f.token+"\x00junk")
			return err
		}},
		{"nul: token in a proof", ErrTokenInvalid, func() error {
			p, err := f.worker.MakeProof(f.token+"\x00junk", f.request, "1700000000", "n")
			if err != nil {
				return err
			}
			return authenticate(p, f.request)
		}},
		{"nul: issuer key", ErrMalformedInput, func() error { _, err := TrustIssuer(issuerHex + "\x00"); return err }},
		{"nul: secret hex", ErrMalformedInput, func() error {
			_, err := WorkerKeyFromSecretHex(strings.Repeat("22", 32) + "\x0033")
			return err
		}},
		// a NUL is a control character: the core refuses such an id rather than keep it unmatched (or cut it)
		{"nul: revocation id with a NUL is refused", ErrMalformedInput, func() error {
			opts := f.options
			opts.Revoked = []string{"rev-1\x00x"}
			_, _, err := Authenticate(f.trusted, f.proof, f.request, opts)
			return err
		}},
		{"nul: request fact value is not the one before the NUL", ErrDenied, func() error {
			return parsed.CheckPolicy([]Pair{{"req_operation", "lease\x00x"}}, allow, now, nil)
		}},
		{"nul: header value kept whole", nil, func() error {
			p, err := ProofFromHeaders(headers("tok\x00x", "aa", "1", "n\x00x"))
			if err == nil && (p.Nonce() != "n\x00x" || p.Token() != "tok\x00x") {
				err = errors.New("header value cut short: " + strconv.Quote(p.Nonce()) + " " + strconv.Quote(p.Token()))
			}
			return err
		}},
		{"nul: job", ErrMalformedInput, func() error {
			_, err := f.issuer.SignJob(json.RawMessage("{\"id\":\"a\"}\x00{}"), "gpu-1")
			return err
		}},

		// ---- empty values
		// core signs an empty method, path or nonce as given (the canonical request stays unambiguous)
		{"empty: method, path and nonce are signed as given", nil, func() error {
			r := Request{}
			p, err := f.worker.MakeProof(f.token, r, "1700000000", "")
			if err != nil {
				return err
			}
			return authenticate(p, r)
		}},
		{"empty: timestamp is not a number", ErrMalformedInput, func() error {
			p, err := f.worker.MakeProof(f.token, f.request, "", "n")
			if err != nil {
				return err
			}
			return authenticate(p, f.request)
		}},
		{"empty: nonce header", ErrMalformedInput, func() error {
			_, err := ProofFromHeaders(headers("tok", "aa", "1", " "))
			return err
		}},
		{"empty: token", ErrTokenInvalid, func() error {
			p, err := NewProof("", strings.Repeat("ab", 64), "1700000000", "n")
			if err != nil {
				return err
			}
			return authenticate(p, f.request)
		}},
		{"empty: allow policy", ErrMalformedInput, func() error { return parsed.CheckPolicy(facts, "", now, nil) }},
		{"empty: worker id signs for the empty id only", ErrJobInvalid, func() error {
			sig, err := f.issuer.SignJob(job, "")
			if err != nil {
				return err
			}
			withSig := json.RawMessage(`{"id":"job-1","kind":"transcribe","n":3,"sig":"` + sig + `"}`)
			if err := VerifyJob(issuerHex, withSig, "", nil); err != nil {
				return err
			}
			return VerifyJob(issuerHex, withSig, "gpu-1", nil)
		}},
		{"empty: job", ErrMalformedInput, func() error { _, err := f.issuer.SignJob(json.RawMessage(``), "w"); return err }},
		{"empty: seed", ErrMalformedInput, func() error { _, err := IssuerKeyFromSeed([]byte{}); return err }},

		// ---- nil maps, slices and handles
		{"nil: http.Header", ErrMalformedInput, func() error { _, err := ProofFromHTTPHeader(nil); return err }},
		{"nil: url.Values", ErrMalformedInput, func() error { _, err := ProofFromURLValues(nil); return err }},
		{"nil: header pairs", ErrMalformedInput, func() error { _, err := ProofFromHeaders(nil); return err }},
		// a key map naming no key trusts nobody: the core refuses it (IssuerKeys::by_key_id)
		{"nil: key map", ErrMalformedInput, func() error {
			keys, err := TrustIssuersByKeyID(nil)
			if err != nil {
				return err
			}
			_, err = ParseToken(keys, f.token)
			return err
		}},
		{"nil: seed", ErrMalformedInput, func() error { _, err := WorkerKeyFromSeed(nil); return err }},
		{"nil: token bytes", ErrTokenInvalid, func() error { _, err := ParseTokenBytes(f.trusted, nil); return err }},
		{"nil: job", ErrMalformedInput, func() error { _, err := f.issuer.SignJob(nil, "gpu-1"); return err }},
		// VerifyJob reads its text with the core's verify_job_text: text that is not one JSON object is
		// the job's fault, as a duplicated key is
		{"nil: job to verify", ErrJobInvalid, func() error { return VerifyJob(issuerHex, nil, "gpu-1", nil) }},
		{"nil: frame", ErrFrameInvalid, func() error { _, err := DecodeFrame(nil); return err }},
		{"nil: body, facts, revoked, externs are empty", nil, func() error {
			r := Request{Method: "POST", Path: "/lease"}
			p, err := f.worker.MakeProof(f.token, r, "1700000000", "n-nil")
			if err != nil {
				return err
			}
			token, _, err := Authenticate(f.trusted, p, r, AuthenticateOptions{Now: now, MaxSkewSeconds: 300})
			if err != nil {
				return err
			}
			if _, err := token.Authorize("allow if true;", AuthorizeOptions{Now: &now}); err != nil {
				return err
			}
			return token.CheckPolicy(nil, `allow if lane("gpu")`, now, nil)
		}},
		{"nil: mint facts", nil, func() error {
			_, err := f.issuer.Mint(MintRequest{PublicHex: workerHex, HolderID: "gpu-1", RevocationID: "r",
				ExpiresAt: now + 60})
			return err
		}},
		{"nil: batch", nil, func() error {
			got, err := newVerifier().AuthenticateBatch(nil, &now)
			if err == nil && (got == nil || len(got) != 0) {
				return errors.New("an empty batch: not an empty result")
			}
			return err
		}},
		{"nil: proof in a batch", ErrMalformedInput, func() error {
			got, err := newVerifier().AuthenticateBatch([]BatchRequest{{Request: f.request}}, &now)
			if err != nil {
				return fmt.Errorf("the call failed: %w", err) // only the request may fail
			}
			return got[0].Err
		}},
		{"nil: proof", ErrMalformedInput, func() error { return authenticate(nil, f.request) }},
		{"nil: issuer keys", ErrMalformedInput, func() error {
			_, _, err := Authenticate(nil, f.proof, f.request, f.options)
			return err
		}},
		{"nil: worker key", ErrMalformedInput, func() error {
			var k *WorkerKey
			_, err := k.MakeProof(f.token, f.request, "1", "n")
			return err
		}},
		{"nil: issuer key", ErrMalformedInput, func() error {
			var k *IssuerKey
			_, err := k.Mint(MintRequest{})
			return err
		}},
		{"nil: token", ErrMalformedInput, func() error {
			var tk *Token
			return tk.CheckPolicy(facts, allow, now, nil)
		}},
		{"nil: verifier", ErrMalformedInput, func() error {
			var v *Verifier
			_, _, err := v.Authenticate(f.proof, f.request, &now)
			return err
		}},
		{"nil: getters of nil handles return zero values", nil, func() error {
			var v *Verifier
			var tk *Token
			var p *Proof
			stats := v.CacheStats()
			_, hasID := tk.RootKeyID()
			if stats != (CacheStats{}) || tk.BlockCount() != 0 || hasID || p.Nonce() != "" || p.Token() != "" {
				return errors.New("a nil handle's getter returned something")
			}
			v.Close() // Close on nil handles is a no-op
			tk.Close()
			p.Close()
			return nil
		}},
		{"nil: proof to the verifier", ErrMalformedInput, func() error {
			_, _, err := newVerifier().Authenticate(nil, f.request, &now)
			return err
		}},
		{"nil: token to the verifier", ErrMalformedInput, func() error {
			return newVerifier().CheckPolicy(nil, facts, allow, &now)
		}},
		{"nil: issuer keys to a verifier", ErrMalformedInput, func() error {
			_, err := NewVerifier(nil, VerifierOptions{})
			return err
		}},
		{"nil: issuer keys to parse", ErrMalformedInput, func() error { _, err := ParseToken(nil, f.token); return err }},
		{"nil: signer client", ErrMalformedInput, func() error {
			var c *SignerClient
			_, err := c.SignJob(job, "gpu-1")
			return err
		}},

		// ---- Datalog that explodes in an attenuated block (tests/vectors/limits.json)
		{"explode: check_policy", ErrLimitExceeded, func() error {
			in := limitsVector(t, "tc-limits-0001")
			keys, err := in.issuerKeys()
			if err != nil {
				return err
			}
			tk, err := ParseToken(keys, in.str("token"))
			if err != nil {
				return err
			}
			return tk.CheckPolicy(in.pairs("request_facts"), in.str("allow"), in.num("now"), nil)
		}},
		{"explode: verifier check_policy", ErrLimitExceeded, func() error {
			in := limitsVector(t, "tc-limits-0001")
			keys, err := in.issuerKeys()
			if err != nil {
				return err
			}
			tk, err := ParseToken(keys, in.str("token"))
			if err != nil {
				return err
			}
			v, err := NewVerifier(keys, VerifierOptions{})
			if err != nil {
				return err
			}
			defer v.Close()
			at := in.num("now")
			return v.CheckPolicy(tk, in.pairs("request_facts"), in.str("allow"), &at)
		}},
		{"explode: authorize", ErrLimitExceeded, func() error {
			in := limitsVector(t, "tc-limits-0001")
			keys, err := in.issuerKeys()
			if err != nil {
				return err
			}
			tk, err := ParseToken(keys, in.str("token"))
			if err != nil {
				return err
			}
			at := in.num("now")
			_, err = tk.Authorize(`allow if true;`, AuthorizeOptions{Now: &at})
			return err
		}},
		// authenticate reads the identity from the authority block alone: the block does not run
		// there; check_policy on the token it returns refuses it
		{"explode: authenticate passes (no Datalog), then check_policy", ErrLimitExceeded, func() error {
			in := limitsVector(t, "tc-limits-0013")
			keys, err := in.issuerKeys()
			if err != nil {
				return err
			}
			pf := in.obj("proof")
			p, err := NewProof(pf.str("token"), pf.str("signature"), pf.str("timestamp"), pf.str("nonce"))
			if err != nil {
				return err
			}
			tk, _, err := Authenticate(keys, p, in.obj("request").request(),
				AuthenticateOptions{Now: in.num("now"), MaxSkewSeconds: in.num("max_skew_seconds")})
			if err != nil {
				return fmt.Errorf("authenticate: %w", err)
			}
			return tk.CheckPolicy([]Pair{{"req_right", "lease"}}, `allow if req_right($r), right($r)`, in.num("now"), nil)
		}},
	}

	// ---- huge values: run last, with resident memory measured around them
	const mb = 1 << 20
	huge := []hostileRow{
		{"huge: 100 MB body, make_proof and authenticate", nil, func() error {
			r := Request{Method: "POST", Path: "/upload", Body: make([]byte, 100*mb)}
			p, err := f.worker.MakeProof(f.token, r, "1700000000", "n-huge")
			if err != nil {
				return err
			}
			defer p.Close()
			return authenticate(p, r)
		}},
		{"huge: 100 MB body, the last byte changed", ErrPopFailed, func() error {
			r := Request{Method: "POST", Path: "/upload", Body: make([]byte, 100*mb)}
			p, err := f.worker.MakeProof(f.token, r, "1700000000", "n-huge")
			if err != nil {
				return err
			}
			defer p.Close()
			r.Body[len(r.Body)-1] = 1
			return authenticate(p, r)
		}},
		// over MaxTokenBytes (32 KiB by default): refused before it is decoded
		{"huge: 10 MB header value, read whole, then over the token size limit", ErrLimitExceeded, func() error {
			p, err := ProofFromHeaders(headers(strings.Repeat("A", 10*mb), strings.Repeat("ab", 64), "1700000000", "n"))
			if err != nil {
				return err
			}
			defer p.Close()
			if len(p.Token()) != 10*mb {
				return errors.New("header value cut short")
			}
			return authenticate(p, f.request)
		}},
		{"huge: 1 MB token to the verifier", ErrLimitExceeded, func() error {
			p, err := NewProof(strings.Repeat("A", mb), strings.Repeat("ab", 64), "1700000000", "n")
			if err != nil {
				return err
			}
			_, _, err = newVerifier().Authenticate(p, f.request, &now)
			return err
		}},
	}

	run := func(rows []hostileRow) {
		for _, row := range rows {
			err, panicked := callRow(row)
			switch {
			case panicked != nil:
				t.Errorf("%s: Go panic %v", row.name, panicked)
			case row.want == nil && err != nil:
				t.Errorf("%s: want success, got %v", row.name, err)
			case row.want != nil && !errors.Is(err, row.want):
				t.Errorf("%s: want %v, got %v", row.name, row.want.Code, err)
			}
		}
	}
	run(rows)

	settle := func() int64 {
		runtime.GC()
		debug.FreeOSMemory()
		return rssBytes(t)
	}
	before := settle()
	run(huge)
	after := settle()
	if growth := after - before; growth > 400*mb {
		t.Errorf("resident memory grew by %d MB over the huge rows", growth/mb)
	}
	t.Logf("resident memory before the huge rows %d MB, after %d MB", before/mb, after/mb)

	// still alive, and the fixture's objects still work
	p := fresh(f.request)
	if err := authenticate(p, f.request); err != nil {
		t.Fatalf("after the hostile rows: %v", err)
	}
	if err := parsed.CheckPolicy(facts, allow, now, nil); err != nil {
		t.Fatalf("after the hostile rows: %v", err)
	}
}

// callRow runs one row, turning a Go panic (a nil dereference in the binding, say) into a failure of
// that row rather than of the whole test binary.
func callRow(row hostileRow) (err error, panicked any) {
	defer func() { panicked = recover() }()
	return row.call(), nil
}
