package matrix

// The Go server and client of the matrix, built and run as the driver runs them
// (tests/http-matrix/README.md): the server started with the protocol's environment (the shared
// routes.json, a Redis from the test environment), its "LISTENING <port>" line read, the client fed
// one JSON request per line; then Redis is killed (503) and the server stopped with SIGTERM (exit 0).

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.trustcore.dev/trustcore"
	"go.trustcore.dev/trustcore/testenv"
)

// build compiles ./<name> of this module into dir.
func build(t *testing.T, dir, name string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", out, "./"+name)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./%s: %v\n%s", name, err, msg)
	}
	return out
}

type line map[string]any

type answer struct {
	Status int     `json:"status"`
	Body   *string `json:"body"`
	Error  string  `json:"error"`
}

// runClient feeds the client the lines and returns its answers, one per line.
func runClient(t *testing.T, client string, lines []line) []answer {
	t.Helper()
	var in bytes.Buffer
	for _, l := range lines {
		raw, _ := json.Marshal(l)
		in.Write(append(raw, '\n'))
	}
	cmd := exec.Command(client)
	cmd.Stdin = &in
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	var answers []answer
	for _, raw := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var a answer
		if err := json.Unmarshal([]byte(raw), &a); err != nil {
			t.Fatalf("client answered %q: %v", raw, err)
		}
		answers = append(answers, a)
	}
	if len(answers) != len(lines) {
		t.Fatalf("%d answers to %d lines", len(answers), len(lines))
	}
	return answers
}

func TestMatrixProgramsSpeakTheProtocol(t *testing.T) {
	dir := t.TempDir()
	server, client := build(t, dir, "server"), build(t, dir, "client")

	issuerKey, err := trustcore.GenerateIssuerKey()
	if err != nil {
		t.Fatal(err)
	}
	holderKey, err := trustcore.GenerateWorkerKey()
	if err != nil {
		t.Fatal(err)
	}
	issuerHex, _ := issuerKey.PublicHex()
	holderHex, _ := holderKey.PublicHex()
	secretHex, _ := holderKey.SecretHex()
	token, err := issuerKey.Mint(trustcore.MintRequest{PublicHex: holderHex, HolderID: "gpu-1",
		Facts:        []trustcore.Fact{{Predicate: "right", Values: []string{"lease"}}, {Predicate: "lane", Values: []string{"a"}}},
		RevocationID: "rev-1", ExpiresAt: trustcore.NowSeconds() + 3600})
	if err != nil {
		t.Fatal(err)
	}

	var redis struct{ Port int }
	env, err := testenv.Start(&redis, "redis")
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()

	cmd := exec.Command(server)
	cmd.Env = append(os.Environ(), "TRUSTCORE_MATRIX_ISSUER_PUBLIC="+issuerHex,
		"TRUSTCORE_MATRIX_POLICY="+filepath.Join("..", "routes.json"),
		fmt.Sprintf("TRUSTCORE_MATRIX_REDIS_URL=redis://127.0.0.1:%d/", redis.Port),
		"TRUSTCORE_MATRIX_FRAMEWORK=nethttp") // ignored: one framework here
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	first, err := bufio.NewReader(stdout).ReadString('\n')
	var port int
	if _, scanErr := fmt.Sscanf(first, "LISTENING %d\n", &port); err != nil || scanErr != nil {
		t.Fatalf("the server's first line %q: %v %v", first, err, scanErr)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	signed := func(method, path, bodyHex, profile string) line {
		return line{"url": base + path, "method": method, "body_hex": bodyHex, "holder_secret_hex": secretHex,
			"token": token, "profile": profile}
	}
	unsigned := func(method, url string) line {
		return line{"url": url, "method": method, "body_hex": "", "unsigned": true}
	}
	app := func(holder any, bodyHex string, route any) string {
		raw, _ := json.Marshal(map[string]any{"holder_id": holder, "body_hex": bodyHex, "route": route})
		return string(raw)
	}
	big := hex.EncodeToString(bytes.Repeat([]byte("x"), 1025))
	cases := []struct {
		line   line
		status int
		body   string // the app's JSON, or the refusal's code
	}{
		{signed("POST", "/lease/a", "7b7d00ff", "rfc9421"), 200, app("gpu-1", "7b7d00ff", "/lease/{lane}")},
		{signed("POST", "/lease/a", "7b7d00ff", "legacy"), 200, app("gpu-1", "7b7d00ff", "/lease/{lane}")},
		{signed("POST", "/lease/a", "", ""), 200, app("gpu-1", "", "/lease/{lane}")},
		{unsigned("POST", base+"/lease/a"), 401, "MALFORMED_INPUT"},
		{signed("GET", "/admin", "", "rfc9421"), 403, "DENIED"},
		{signed("POST", "/lease/b", "", "legacy"), 403, "DENIED"},
		{unsigned("GET", base+"/health"), 200, app(nil, "", "/health")},
		{signed("POST", "/lease/a", big, "rfc9421"), 413, "LIMIT_EXCEEDED"},
		{signed("POST", "/lease/../admin", "", "rfc9421"), 400, "MALFORMED_INPUT"},
		{signed("GET", "/health/", "", "legacy"), 400, "MALFORMED_INPUT"},
	}
	var lines []line
	for _, c := range cases {
		lines = append(lines, c.line)
	}
	lines = append(lines, unsigned("GET", "http://127.0.0.1:1/health")) // nothing listens there
	answers := runClient(t, client, lines)
	for i, c := range cases {
		a := answers[i]
		got := ""
		if a.Body != nil {
			got = *a.Body
		}
		var refusal struct{ Error string }
		var gotApp, wantApp map[string]any
		ok := a.Status == c.status
		if c.status == 200 {
			ok = ok && json.Unmarshal([]byte(got), &gotApp) == nil && json.Unmarshal([]byte(c.body), &wantApp) == nil &&
				reflect.DeepEqual(gotApp, wantApp)
		} else {
			ok = ok && json.Unmarshal([]byte(got), &refusal) == nil && refusal.Error == c.body
		}
		if !ok {
			t.Errorf("%s %v (%v): want %d %s, got %d %q %s", c.line["method"], c.line["url"], c.line["profile"],
				c.status, c.body, a.Status, got, a.Error)
		}
	}
	if last := answers[len(answers)-1]; last.Error == "" || last.Body != nil {
		t.Errorf("a request that cannot be sent: %+v", last)
	}

	if err := env.Request("kill", nil); err != nil {
		t.Fatal(err)
	}
	stopped := runClient(t, client, []line{signed("POST", "/lease/a", "", "rfc9421")})
	if stopped[0].Status != 503 || stopped[0].Body == nil || !strings.Contains(*stopped[0].Body, "STORE_UNAVAILABLE") {
		t.Errorf("Redis stopped: %+v", stopped[0])
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("on SIGTERM the server: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("the server did not stop on SIGTERM")
	}
}
