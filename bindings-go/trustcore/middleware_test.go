package trustcore

// Middleware (middleware.go) and Transport (transport.go) over real servers and real clients on
// loopback: a net/http server with the Middleware in front of a small app, under the route policy
// file every language's matrix programs share (tests/http-matrix/routes.json), and as clients
// http.Client with the Transport (both profiles), curl with the headers `$TRUSTCORE_BIN proof`
// prints (both profiles; --path-as-is), and raw HTTP/1.1 written on a net.Conn (path tricks, an
// absolute-form target, a Content-Length of 1 GB, Expect: 100-continue, chunked bodies). Allowed
// (the app sees the identity and the exact body), no proof, forged, replayed, ungranted, no route,
// a public route, a body over the cap, Redis stopped (503), a closed Verifier. Nothing is skipped:
// a missing curl, trustcore binary or redis-server fails the test.

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var profiles = []string{"rfc9421", "legacy"}

// matrixPolicy is tests/http-matrix/routes.json: POST /lease/{lane} (right "lease" and the lane),
// GET /admin (right "admin"), GET /health (public), bodies up to 1024 bytes.
func matrixPolicy(t testing.TB) *HttpPolicy {
	t.Helper()
	p, err := HttpPolicyFromFile(filepath.Join(repoRoot(), "tests", "http-matrix", "routes.json"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	if p.MaxBodyBytes() != 1024 {
		t.Fatalf("routes.json: max_body_bytes %d, these tests expect 1024", p.MaxBodyBytes())
	}
	return p
}

// holder is the fixture's holder with a token good for an hour from now (the middleware decides
// with the system clock), granted right "lease" on lanes a and b, and its key in a 0600 file for
// the CLI.
type holder struct {
	f       *fixture
	key     *WorkerKey
	token   string
	keyFile string
}

func newHolder(t testing.TB) *holder {
	t.Helper()
	f := newFixture(t)
	workerHex, _ := f.worker.PublicHex()
	token, err := f.issuer.Mint(MintRequest{PublicHex: workerHex, HolderID: "gpu-1",
		Facts: []Fact{{"right", []string{"lease"}}, {"lane", []string{"a", "b"}}}, RevocationID: "rev-mw",
		ExpiresAt: NowSeconds() + 3600})
	if err != nil {
		t.Fatal(err)
	}
	secret, err := f.worker.SecretHex()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "holder.key")
	if err := os.WriteFile(keyFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &holder{f: f, key: f.worker, token: token, keyFile: keyFile}
}

// protected is a net/http server on loopback: Middleware(verifier, routes.json) in front of an app
// that answers what it received (the identity, the body in hex, its Content-Length, the route and
// profile) and counts the requests that reached it.
type protected struct {
	*httptest.Server
	authority string
	verifier  *Verifier
	calls     atomic.Int64
}

func startProtected(t testing.TB, h *holder, opts VerifierOptions, mw MiddlewareOptions) *protected {
	t.Helper()
	policy := matrixPolicy(t)
	srv := httptest.NewUnstartedServer(nil)
	p := &protected{Server: srv, authority: srv.Listener.Addr().String()}
	opts.Authorities = []string{p.authority}
	opts.Limits = patientLimits()
	v, err := NewVerifier(h.f.trusted, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close) // after srv.Close (cleanups run last first)
	p.verifier = v
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.calls.Add(1)
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		d, ok := DecisionFrom(r.Context())
		if !ok {
			http.Error(w, "no decision in the context", http.StatusInternalServerError)
			return
		}
		out := map[string]any{"holder_id": nil, "body_hex": hex.EncodeToString(body), "route": d.Route,
			"profile": d.Profile, "content_length": r.ContentLength, "facts": pairsValue(d.Facts)}
		if who, ok := IdentityFrom(r.Context()); ok {
			out["holder_id"] = who.HolderID
		}
		_ = json.NewEncoder(w).Encode(out)
	})
	srv.Config.Handler = MiddlewareWithOptions(v, policy, mw)(app)
	srv.Start()
	t.Cleanup(srv.Close)
	return p
}

// client is an http.Client signing with the holder's key and token in profile, over a transport of
// its own (base wraps it when set).
func (h *holder) client(t testing.TB, profile string, wrap func(http.RoundTripper) http.RoundTripper) *http.Client {
	t.Helper()
	transport := &http.Transport{}
	t.Cleanup(transport.CloseIdleConnections)
	base := http.RoundTripper(transport)
	if wrap != nil {
		base = wrap(base)
	}
	if profile == "rfc9421" {
		return &http.Client{Transport: NewTransport(h.key, h.token, base)}
	}
	return &http.Client{Transport: &Transport{Key: h.key, Token: h.token, Base: base, Profile: profile}}
}

// roundTripFunc is a base transport that changes the signed request before it is sent.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func mustRequest(t testing.TB, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// wantRefused checks a refusal is core's: its status, its code in the JSON body, and for a 401
// the WWW-Authenticate header naming it.
func wantRefused(t testing.TB, what string, got served, status int, code string) {
	t.Helper()
	if got.status != status || got.body["error"] != code {
		t.Errorf("%s: want %d %s, got %d %s", what, status, code, got.status, got.text)
		return
	}
	if status == 401 && got.header.Get("WWW-Authenticate") != fmt.Sprintf(`Biscuit error="%s"`, code) {
		t.Errorf("%s: WWW-Authenticate %q", what, got.header.Get("WWW-Authenticate"))
	}
	if got.header.Get("Content-Type") != "application/json" {
		t.Errorf("%s: Content-Type %q", what, got.header.Get("Content-Type"))
	}
}

// wantServed checks the app served the request: 200, the holder (nil: none), the exact body.
func wantServed(t testing.TB, what string, got served, holderID any, body []byte, route string) {
	t.Helper()
	if got.status != 200 || got.body["holder_id"] != holderID || got.body["body_hex"] != hex.EncodeToString(body) ||
		got.body["route"] != route || got.body["content_length"] != float64(len(body)) {
		t.Errorf("%s: want 200 for %v with body %x on %s, got %d %s", what, holderID, body, route, got.status, got.text)
	}
}

// a body with bytes no text reader would keep as they are, and another of the same length
var (
	binaryBody = []byte("{\"lane\":\"a\"}\x00\xff\r\n\xc3\x28 end")
	otherBody  = []byte("{\"lane\":\"b\"}\x00\xff\r\n\xc3\x28 end")
)

func TestMiddlewareGoClient(t *testing.T) {
	h := newHolder(t)
	srv := startProtected(t, h, VerifierOptions{}, MiddlewareOptions{})
	for _, profile := range profiles {
		t.Run(profile, func(t *testing.T) {
			client := h.client(t, profile, nil)
			calls := srv.calls.Load()

			req := mustRequest(t, "POST", srv.URL+"/lease/a?tier=gold", bytes.NewReader(binaryBody))
			req.Header.Set("Content-Type", "application/octet-stream")
			got := send(t, client, req)
			wantServed(t, "allowed", got, "gpu-1", binaryBody, "/lease/{lane}")
			if got.body["profile"] != profile {
				t.Errorf("profile %v", got.body["profile"])
			}
			facts := fmt.Sprint(got.body["facts"])
			if !strings.Contains(facts, "req_param_lane a") || !strings.Contains(facts, "req_query_tier gold") {
				t.Errorf("facts %s", facts)
			}
			// the caller's request is left as it was
			if len(req.Header) != 1 || req.Header.Get("Content-Type") != "application/octet-stream" ||
				req.URL.String() != srv.URL+"/lease/a?tier=gold" {
				t.Errorf("the caller's request changed: %v %s", req.Header, req.URL)
			}

			// a body that only GetBody gives (its Body fails when read): signed and sent from GetBody
			req = mustRequest(t, "POST", srv.URL+"/lease/b", nil)
			req.Body = failingBody{}
			req.ContentLength = int64(len(binaryBody))
			req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(binaryBody)), nil }
			wantServed(t, "through GetBody", send(t, client, req), "gpu-1", binaryBody, "/lease/{lane}")

			// a body without GetBody (a reader net/http cannot rewind) and without a length: buffered once
			req = mustRequest(t, "POST", srv.URL+"/lease/b", io.MultiReader(bytes.NewReader(binaryBody[:5]),
				bytes.NewReader(binaryBody[5:])))
			if req.GetBody != nil || req.ContentLength != 0 {
				t.Fatal("http.NewRequest set GetBody or a length for an io.MultiReader")
			}
			wantServed(t, "without GetBody", send(t, client, req), "gpu-1", binaryBody, "/lease/{lane}")

			wantServed(t, "an empty body", send(t, client, mustRequest(t, "POST", srv.URL+"/lease/a", nil)),
				"gpu-1", []byte{}, "/lease/{lane}")
			// a public route: no credentials read, no identity
			got = send(t, client, mustRequest(t, "GET", srv.URL+"/health", nil))
			wantServed(t, "public", got, nil, []byte{}, "/health")
			if got.body["profile"] != "" {
				t.Errorf("public route: profile %v", got.body["profile"])
			}
			served := srv.calls.Load() - calls

			wantRefused(t, "ungranted", send(t, client, mustRequest(t, "GET", srv.URL+"/admin", nil)), 403, "DENIED")
			wantRefused(t, "another lane", send(t, client, mustRequest(t, "POST", srv.URL+"/lease/c", nil)), 403, "DENIED")
			wantRefused(t, "no route", send(t, client, mustRequest(t, "POST", srv.URL+"/nothing", nil)), 403, "DENIED")
			big := bytes.Repeat([]byte("x"), 1025)
			wantRefused(t, "a body over the cap", send(t, client, mustRequest(t, "POST", srv.URL+"/lease/a",
				bytes.NewReader(big))), 413, "LIMIT_EXCEEDED")
			forged := h.client(t, profile, func(base http.RoundTripper) http.RoundTripper {
				return roundTripFunc(func(r *http.Request) (*http.Response, error) {
					r.Body = io.NopCloser(bytes.NewReader(otherBody))
					return base.RoundTrip(r)
				})
			})
			wantRefused(t, "forged (another body)", send(t, forged, mustRequest(t, "POST", srv.URL+"/lease/a",
				bytes.NewReader(binaryBody))), 401, "POP_FAILED")
			if n := srv.calls.Load() - calls; n != served {
				t.Errorf("the app was reached by %d refused requests", n-served)
			}
		})
	}

	t.Run("a request core cannot sign is not sent", func(t *testing.T) {
		client := &http.Client{Transport: NewTransport(h.key, "not one word", nil)}
		_, err := client.Get(srv.URL + "/health")
		if !errors.Is(err, ErrMalformedInput) {
			t.Fatalf("want ErrMalformedInput, got %v", err)
		}
	})
}

type failingBody struct{}

func (failingBody) Read([]byte) (int, error) { return 0, errors.New("read the body through GetBody") }
func (failingBody) Close() error             { return nil }

// cli runs $TRUSTCORE_BIN (make exports it) with args and returns its standard output.
func cli(t testing.TB, args ...string) string {
	t.Helper()
	bin, err := signerBinary()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", bin, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// proofHeaders are the header lines `trustcore proof` prints for the request, in profile.
func (h *holder) proofHeaders(t testing.TB, profile, method, rawURL string, body []byte) []string {
	t.Helper()
	bodyFile := filepath.Join(t.TempDir(), "body")
	if err := os.WriteFile(bodyFile, body, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"proof", "--key-file", h.keyFile, "--token", h.token, "--method", method, "--url", rawURL,
		"--body-file", bodyFile}
	if profile == "rfc9421" {
		args = append(args, "--rfc9421")
	}
	lines := strings.Split(strings.TrimSpace(cli(t, args...)), "\n")
	if len(lines) != 4 {
		t.Fatalf("trustcore proof printed %q", lines)
	}
	return lines
}

// curl sends one request with curl (--path-as-is: the path as given) and returns what came back.
func curl(t testing.TB, method, rawURL string, headers []string, body []byte) served {
	t.Helper()
	bin, err := exec.LookPath("curl")
	if err != nil {
		t.Fatalf("curl not found (make setup-go installs it): %v", err)
	}
	dir := t.TempDir()
	bodyFile, headerFile, outFile := filepath.Join(dir, "body"), filepath.Join(dir, "headers"), filepath.Join(dir, "out")
	args := []string{"-sS", "--path-as-is", "-X", method, "-D", headerFile, "-o", outFile, "-w", "%{http_code}",
		"-H", "Content-Type:", "-H", "Expect:"} // only the signed headers and curl's own few
	for _, h := range headers {
		args = append(args, "-H", h)
	}
	if body != nil {
		if err := os.WriteFile(bodyFile, body, 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--data-binary", "@"+bodyFile)
	}
	code, err := exec.Command(bin, append(args, rawURL)...).CombinedOutput()
	if err != nil {
		t.Fatalf("curl %s %s: %v: %s", method, rawURL, err, code)
	}
	got := served{header: http.Header{}}
	if _, err := fmt.Sscan(string(code), &got.status); err != nil {
		t.Fatalf("curl's status %q", code)
	}
	rawHeaders, _ := os.ReadFile(headerFile)
	for _, line := range strings.Split(string(rawHeaders), "\r\n")[1:] {
		if name, value, ok := strings.Cut(line, ":"); ok {
			got.header.Add(name, strings.TrimSpace(value))
		}
	}
	out, _ := os.ReadFile(outFile)
	got.text = string(out)
	_ = json.Unmarshal(out, &got.body)
	return got
}

func TestMiddlewareCurl(t *testing.T) {
	h := newHolder(t)
	srv := startProtected(t, h, VerifierOptions{}, MiddlewareOptions{})
	for _, profile := range profiles {
		t.Run(profile, func(t *testing.T) {
			calls := srv.calls.Load()
			target := srv.URL + "/lease/a"
			signed := h.proofHeaders(t, profile, "POST", target, binaryBody)
			wantServed(t, "allowed", curl(t, "POST", target, signed, binaryBody), "gpu-1", binaryBody, "/lease/{lane}")
			// the very same request again
			wantRefused(t, "replayed", curl(t, "POST", target, signed, binaryBody), 401, "REPLAYED")

			signed = h.proofHeaders(t, profile, "POST", target, binaryBody)
			wantRefused(t, "forged (another body)", curl(t, "POST", target, signed, otherBody),
				401, "POP_FAILED")
			signed = h.proofHeaders(t, profile, "POST", target, binaryBody)
			wantRefused(t, "forged (another lane)", curl(t, "POST", srv.URL+"/lease/b", signed, binaryBody),
				401, "POP_FAILED")
			forgedSig := append([]string{}, signed...)
			for i, line := range forgedSig { // one character of the signature changed
				if name, value, _ := strings.Cut(line, ": "); name == "Signature" || name == "X-EP-Signature" {
					j := strings.Index(value, ":") + 1 // the first character of the signature: "tc=:…:" or hex
					flipped := byte('0')
					if value[j] == '0' {
						flipped = '1'
					}
					forgedSig[i] = name + ": " + value[:j] + string(flipped) + value[j+1:]
				}
			}
			wantRefused(t, "forged (a signature changed)", curl(t, "POST", target, forgedSig, binaryBody),
				401, "POP_FAILED")

			admin := srv.URL + "/admin"
			wantRefused(t, "ungranted", curl(t, "GET", admin, h.proofHeaders(t, profile, "GET", admin, nil), nil),
				403, "DENIED")
			// a path with a dot segment, signed as written and sent as written (--path-as-is)
			tricky := srv.URL + "/lease/../lease/a"
			wantRefused(t, "a signed dot segment", curl(t, "POST", tricky,
				h.proofHeaders(t, profile, "POST", tricky, binaryBody), binaryBody), 400, "MALFORMED_INPUT")
			if n := srv.calls.Load() - calls; n != 1 {
				t.Errorf("the app served %d requests, want 1", n)
			}
		})
	}
	t.Run("unsigned", func(t *testing.T) {
		calls := srv.calls.Load()
		wantRefused(t, "no proof", curl(t, "POST", srv.URL+"/lease/a", nil, binaryBody), 401, "MALFORMED_INPUT")
		wantServed(t, "public", curl(t, "GET", srv.URL+"/health", nil, nil), nil, []byte{}, "/health")
		if n := srv.calls.Load() - calls; n != 1 {
			t.Errorf("the app served %d requests, want 1", n)
		}
	})
}

// rawExchange writes request on a new connection to addr and reads one response (a 1xx one
// included); with waitClose, closed says whether the server closed the connection after it (else
// it is false at once).
func rawExchange(t testing.TB, addr, request string, waitClose bool) (got served, closed bool) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("%q: %v", strings.SplitN(request, "\r\n", 2)[0], err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	got = served{status: resp.StatusCode, header: resp.Header, text: string(raw)}
	_ = json.Unmarshal(raw, &got.body)
	if !waitClose {
		return got, false
	}
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err = r.ReadByte()
	return got, errors.Is(err, io.EOF)
}

func TestMiddlewareRawRequests(t *testing.T) {
	h := newHolder(t)
	srv := startProtected(t, h, VerifierOptions{}, MiddlewareOptions{})
	addr := srv.authority
	calls := srv.calls.Load()

	t.Run("path tricks", func(t *testing.T) {
		for _, target := range []string{
			"/health/../admin", "/lease/a/../../admin", "/lease/%2e%2e/admin", "/lease/%2E%2E", "//health",
			"/health/", "/./health", "/lease/a%2Fb", "/lease/a%5Cb", "/health;x", "/health%00", "/lease/%252e%252e",
			"http://" + addr + "/health", // absolute form: net/http gives it as RequestURI, core refuses it
		} {
			got, _ := rawExchange(t, addr, "GET "+target+" HTTP/1.1\r\nHost: "+addr+"\r\n\r\n", false)
			wantRefused(t, target, got, 400, "MALFORMED_INPUT")
		}
	})

	t.Run("a Content-Length of 1 GB, a few bytes sent", func(t *testing.T) {
		for _, expect := range []string{"", "Expect: 100-continue\r\n"} {
			start := time.Now()
			got, closed := rawExchange(t, addr, "POST /lease/a HTTP/1.1\r\nHost: "+addr+"\r\n"+expect+
				"Content-Length: 1000000000\r\n\r\nabc", true)
			wantRefused(t, "1 GB announced "+expect, got, 413, "LIMIT_EXCEEDED")
			if !closed {
				t.Errorf("%s: the connection was kept open after the 413", expect)
			}
			if elapsed := time.Since(start); elapsed > 2*time.Second {
				t.Errorf("%s: the 413 took %s", expect, elapsed)
			}
		}
		// a public route too: the cap comes first
		got, _ := rawExchange(t, addr, "GET /health HTTP/1.1\r\nHost: "+addr+"\r\nContent-Length: 1025\r\n\r\n"+
			strings.Repeat("x", 1025), false)
		wantRefused(t, "1025 bytes to a public route", got, 413, "LIMIT_EXCEEDED")
	})

	t.Run("chunked bodies", func(t *testing.T) {
		chunked := func(body string) string {
			return fmt.Sprintf("GET /health HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n",
				addr, len(body), body)
		}
		got, _ := rawExchange(t, addr, chunked("0123456789"), false)
		wantServed(t, "chunked within the cap", got, nil, []byte("0123456789"), "/health")
		got, closed := rawExchange(t, addr, chunked(strings.Repeat("x", 3000)), true)
		wantRefused(t, "chunked over the cap", got, 413, "LIMIT_EXCEEDED")
		if !closed {
			t.Error("the connection was kept open after a chunked body over the cap")
		}
	})

	t.Run("a field on two lines reaches core as two lines", func(t *testing.T) {
		raw := "GET /health HTTP/1.1\r\nHost: " + addr + "\r\nX-B: 1\r\nx-a: 2, 3\r\nX-A: 4\r\n\r\n"
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprint(requestHeaders(req))
		if want := fmt.Sprintf("[{Host %s} {X-A 2, 3} {X-A 4} {X-B 1}]", addr); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	})
	if n := srv.calls.Load() - calls; n != 1 {
		t.Errorf("the app served %d requests, want 1 (the chunked one within the cap)", n)
	}
}

func TestMiddlewareRedisStopped(t *testing.T) {
	h := newHolder(t)
	redis := startRedis(t)
	srv := startProtected(t, h, VerifierOptions{Redis: &RedisOptions{URL: redis.tcpURL(),
		ConnectTimeout: Duration(200 * time.Millisecond), CommandTimeout: Duration(200 * time.Millisecond),
		RequestTimeout: Duration(500 * time.Millisecond), RetryInterval: Duration(200 * time.Millisecond)}},
		MiddlewareOptions{})
	for _, profile := range profiles {
		client := h.client(t, profile, nil)
		lease := func() served {
			return send(t, client, mustRequest(t, "POST", srv.URL+"/lease/a", bytes.NewReader(binaryBody)))
		}
		wantServed(t, profile+": Redis up", lease(), "gpu-1", binaryBody, "/lease/{lane}")
		redis.stop()
		calls := srv.calls.Load()
		start := time.Now()
		got := lease()
		wantRefused(t, profile+": Redis stopped", got, 503, "STORE_UNAVAILABLE")
		if got.header.Get("Retry-After") != "1" {
			t.Errorf("%s: Retry-After %q", profile, got.header.Get("Retry-After"))
		}
		if elapsed := time.Since(start); elapsed > 3*time.Second {
			t.Errorf("%s: the 503 took %s", profile, elapsed)
		}
		if srv.calls.Load() != calls {
			t.Errorf("%s: the app was reached with Redis stopped", profile)
		}
		// the public route needs no store
		wantServed(t, profile+": public, Redis stopped", send(t, client, mustRequest(t, "GET", srv.URL+"/health", nil)),
			nil, []byte{}, "/health")
		redis.restart()
		deadline := time.Now().Add(5 * time.Second)
		for got = lease(); got.status == 503 && time.Now().Before(deadline); got = lease() {
			time.Sleep(50 * time.Millisecond)
		}
		wantServed(t, profile+": Redis back", got, "gpu-1", binaryBody, "/lease/{lane}")
	}
}

func TestMiddlewareFactsAndMistakes(t *testing.T) {
	h := newHolder(t)
	srv := startProtected(t, h, VerifierOptions{}, MiddlewareOptions{Facts: func(r *http.Request) []Pair {
		return []Pair{{Name: "req_team", Value: r.Header.Get("X-Team")}}
	}})
	client := h.client(t, "rfc9421", nil)
	req := mustRequest(t, "POST", srv.URL+"/lease/a", nil)
	req.Header.Set("X-Team", "blue")
	got := send(t, client, req)
	if got.status != 200 || !strings.Contains(fmt.Sprint(got.body["facts"]), "req_team blue") {
		t.Fatalf("application facts: %d %s", got.status, got.text)
	}

	// the caller's mistakes answer 500 and never reach the app: a fact core refuses, a closed Verifier
	bad := startProtected(t, h, VerifierOptions{}, MiddlewareOptions{Facts: func(*http.Request) []Pair {
		return []Pair{{Name: "req_method", Value: "GET"}} // one of core's own
	}})
	if got := send(t, client, mustRequest(t, "POST", bad.URL+"/lease/a", nil)); got.status != 500 || bad.calls.Load() != 0 {
		t.Errorf("a fact core refuses: %d %s", got.status, got.text)
	}
	closed := startProtected(t, h, VerifierOptions{}, MiddlewareOptions{})
	closed.verifier.Close()
	if got := send(t, client, mustRequest(t, "GET", closed.URL+"/health", nil)); got.status != 500 || closed.calls.Load() != 0 {
		t.Errorf("a closed Verifier: %d %s", got.status, got.text)
	}
	if _, ok := IdentityFrom(req.Context()); ok {
		t.Error("IdentityFrom outside the middleware")
	}
	if _, ok := DecisionFrom(req.Context()); ok {
		t.Error("DecisionFrom outside the middleware")
	}
}

func TestTransportTarget(t *testing.T) {
	// what the Transport signs is what net/http writes on the request line (URL.RequestURI()), for
	// URLs whose escaped path or raw query differ from their decoded Path and Query
	h := newHolder(t)
	srv := startProtected(t, h, VerifierOptions{}, MiddlewareOptions{})
	client := h.client(t, "rfc9421", nil)
	// a 403 comes after the proof verified: the lane ("a b", "%41") is not granted
	for raw, status := range map[string]int{"/lease/a%20b": 403, "/lease/a?q=%7e&r=a+b": 200, "/lease/%41": 403,
		"/lease/a?": 200, "/lease/b?": 200, "/lease/a?x=%2F": 200} {
		u, err := url.Parse(srv.URL + raw)
		if err != nil {
			t.Fatal(err)
		}
		if u.RequestURI() != raw {
			t.Fatalf("%s: RequestURI %s", raw, u.RequestURI())
		}
		got := send(t, client, &http.Request{Method: "POST", URL: u, Header: http.Header{}})
		if got.status != status {
			t.Errorf("%s: want %d, got %d %s", raw, status, got.status, got.text)
		}
	}
}

// TestBodyLengthRefusalAndNetworkWaits: the two answers Middleware takes from core besides the
// decision. A length over the cap is the very refusal Decide gives a body that long; a verifier
// may wait on the network only with Redis (nothing connects before the first request).
func TestBodyLengthRefusalAndNetworkWaits(t *testing.T) {
	h := newHolder(t)
	policy := matrixPolicy(t)
	for _, length := range []uint64{0, 1, 1024} {
		if d, err := policy.BodyLengthRefusal(length); d != nil || err != nil {
			t.Errorf("%d bytes: %+v, %v; want no refusal", length, d, err)
		}
	}
	v, err := NewVerifier(h.f.trusted, VerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	decided, err := v.Decide(HttpRequest{Method: "POST", Target: "/lease/a", Body: make([]byte, 1025)}, policy, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, length := range []uint64{1025, 1 << 40, math.MaxUint64} {
		d, err := policy.BodyLengthRefusal(length)
		if err != nil || d == nil {
			t.Fatalf("%d bytes: %+v, %v; want a refusal", length, d, err)
		}
		if d.Allowed || d.Status != 413 || !errors.Is(d.Err(), ErrLimitExceeded) || !reflect.DeepEqual(d, decided) {
			t.Errorf("%d bytes: %+v; want Decide's %+v", length, d, decided)
		}
	}
	closed, err := HttpPolicyFromJSON([]byte(`{"routes": []}`))
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	if _, err := closed.BodyLengthRefusal(1); !errors.Is(err, ErrMalformedInput) {
		t.Errorf("a closed policy: %v, want ErrMalformedInput", err)
	}

	if v.MayWaitOnNetwork() {
		t.Error("a verifier with its stores in memory may wait on the network")
	}
	onRedis, err := NewVerifier(h.f.trusted, VerifierOptions{Redis: &RedisOptions{URL: "redis://127.0.0.1:1/"}})
	if err != nil {
		t.Fatal(err)
	}
	if !onRedis.MayWaitOnNetwork() {
		t.Error("a verifier on Redis may not wait on the network")
	}
	onRedis.Close()
	if onRedis.MayWaitOnNetwork() {
		t.Error("a closed verifier may wait on the network")
	}
}
