package trustcore_test

// The README's "Protect a handler, sign a client" section, run: the lines between "// README: …"
// and "// README end" are its snippets, word for word (TestReadmeSnippets checks the README holds
// each, and the route policy file), and the Example runs them over a real server on loopback.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.trustcore.dev/trustcore"
)

// routesJSON is the README's route policy file.
const routesJSON = `{
  "max_body_bytes": 1048576,
  "routes": [
    {"method": "POST", "path": "/lease/{lane}", "allow": "allow if right(\"lease\"), req_param_lane($l), lane($l)"},
    {"method": "GET", "path": "/health", "public": true}
  ]
}
`

// the setup the README leaves out: keys, a token, the policy file, a listener on loopback
type exampleSetup struct {
	issuer     *trustcore.IssuerKeys
	holderKey  *trustcore.WorkerKey
	token      string
	routesPath string
	listener   net.Listener
	authority  string
	serviceURL string
}

func newExampleSetup() (*exampleSetup, func()) {
	must := func(err error) {
		if err != nil {
			log.Fatal(err)
		}
	}
	issuerKey, err := trustcore.GenerateIssuerKey()
	must(err)
	holderKey, err := trustcore.GenerateWorkerKey()
	must(err)
	issuerHex, err := issuerKey.PublicHex()
	must(err)
	holderHex, err := holderKey.PublicHex()
	must(err)
	issuer, err := trustcore.TrustIssuer(issuerHex)
	must(err)
	token, err := issuerKey.Mint(trustcore.MintRequest{PublicHex: holderHex, HolderID: "gpu-1",
		Facts:        []trustcore.Fact{{Predicate: "right", Values: []string{"lease"}}, {Predicate: "lane", Values: []string{"gpu"}}},
		RevocationID: "rev-1", ExpiresAt: trustcore.NowSeconds() + 3600})
	must(err)
	dir, err := os.MkdirTemp("", "trustcore-example")
	must(err)
	routesPath := filepath.Join(dir, "routes.json")
	must(os.WriteFile(routesPath, []byte(routesJSON), 0o600))
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	authority := listener.Addr().String()
	return &exampleSetup{issuer: issuer, holderKey: holderKey, token: token, routesPath: routesPath,
			listener: listener, authority: authority, serviceURL: "http://" + authority},
		func() { os.RemoveAll(dir) }
}

func Example_middlewareAndTransport() {
	s, cleanup := newExampleSetup()
	defer cleanup()
	issuer, routesPath, authority, holderKey, token, serviceURL := s.issuer, s.routesPath, s.authority, s.holderKey,
		s.token, s.serviceURL

	// README: protect
	policy, err := trustcore.HttpPolicyFromFile(routesPath) // "routes.json": one file for every service
	if err != nil {
		log.Fatal(err)
	}
	verifier, err := trustcore.NewVerifier(issuer, trustcore.VerifierOptions{
		Authorities: []string{authority}, // the host[:port] clients sign for: "api.example.com"
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /lease/{lane}", func(w http.ResponseWriter, r *http.Request) {
		who, _ := trustcore.IdentityFrom(r.Context()) // verified, and the route's allow policy passed
		body, _ := io.ReadAll(r.Body)                 // the very bytes that were signed
		fmt.Fprintf(w, "%s leased %s with %s", who.HolderID, r.PathValue("lane"), body)
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok") // a public route: no credentials read, IdentityFrom says ok == false
	})
	server := &http.Server{Handler: trustcore.Middleware(verifier, policy)(mux)}
	// README end
	go server.Serve(s.listener)
	defer server.Close()

	show := func(resp *http.Response, err error) {
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var refusal struct{ Error string }
		if resp.StatusCode != http.StatusOK && json.Unmarshal(body, &refusal) == nil {
			fmt.Println(strings.TrimSpace(fmt.Sprint(resp.StatusCode, " ", refusal.Error, " ",
				resp.Header.Get("WWW-Authenticate"))))
			return
		}
		fmt.Println(resp.StatusCode, string(body))
	}

	// README: client
	client := &http.Client{Transport: trustcore.NewTransport(holderKey, token, nil)} // nil: http.DefaultTransport
	resp, err := client.Post(serviceURL+"/lease/gpu", "application/json", strings.NewReader(`{"episode":"e1"}`))
	// README end
	show(resp, err)

	// README: legacy
	legacy := &http.Client{Transport: &trustcore.Transport{Key: holderKey, Token: token, Profile: "legacy"}}
	// README end
	show(legacy.Post(serviceURL+"/lease/gpu", "application/json", strings.NewReader(`{"episode":"e2"}`)))
	show(http.Post(serviceURL+"/lease/gpu", "application/json", strings.NewReader(`{"episode":"e3"}`)))
	show(client.Post(serviceURL+"/lease/cpu", "application/json", nil))
	show(http.Get(serviceURL + "/health"))
	show(client.Post(serviceURL+"/lease/gpu", "application/json", bytes.NewReader(make([]byte, 1<<20+1))))
	// Output:
	// 200 gpu-1 leased gpu with {"episode":"e1"}
	// 200 gpu-1 leased gpu with {"episode":"e2"}
	// 401 MALFORMED_INPUT Biscuit error="MALFORMED_INPUT"
	// 403 DENIED
	// 200 ok
	// 413 LIMIT_EXCEEDED
}

// TestReadmeSnippets: each "// README: …" region above is a ```go block of bindings-go/README.md,
// word for word (less the function's indentation), and routesJSON its ```json block.
func TestReadmeSnippets(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	source, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	regions := regexp.MustCompile(`(?s)\n\t// README: (\w+)\n(.*?)\n\t// README end\n`).FindAllSubmatch(source, -1)
	if len(regions) != 3 {
		t.Fatalf("%d README regions in example_test.go, want 3", len(regions))
	}
	for _, region := range regions {
		lines := strings.Split(string(region[2]), "\n")
		for i, line := range lines {
			lines[i] = strings.TrimPrefix(line, "\t")
		}
		block := "```go\n" + strings.Join(lines, "\n") + "\n```\n"
		if !bytes.Contains(readme, []byte(block)) {
			t.Errorf("README.md lacks the snippet %q, as example_test.go has it:\n%s", region[1], block)
		}
	}
	if !bytes.Contains(readme, []byte("```json\n"+routesJSON+"```\n")) {
		t.Errorf("README.md lacks the route policy file as example_test.go has it:\n%s", routesJSON)
	}
}
