// Command trustcore-demo-service is a service of `make demo`, in Go, over HTTP: it pins the issuer
// key it asks the signer for, loads the demo's route policy file, and serves behind
// trustcore.Middleware on a loopback port. Every refusal is the middleware's (core's status table);
// an allowed request is answered by the handler below, which names who sent it and, for a delegated
// token, the chain of holders it came through.
//
// usage: trustcore-demo-service SIGNER_SOCKET ROUTES_JSON STATE_DIR
//
// It writes its port to STATE_DIR/go.port once it serves, then reads operator commands on standard
// input, one per line ("revoke <id>": done, it creates STATE_DIR/go.revoked), and stops when
// standard input closes.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"go.trustcore.dev/trustcore"
)

func say(format string, args ...any) { fmt.Printf("   [service · go] "+format+"\n", args...) }

// answer is an allowed request's reply: who sent it, and every holder of its token in order (one
// for a token never delegated).
type answer struct {
	ServedBy string   `json:"served_by"`
	HolderID string   `json:"holder_id"`
	Chain    []holder `json:"chain"`
}

type holder struct {
	HolderID        string `json:"holder_id"`
	HolderPublicHex string `json:"holder_public_hex"`
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 3 {
		return errors.New("usage: trustcore-demo-service SIGNER_SOCKET ROUTES_JSON STATE_DIR")
	}
	state := args[2]
	signer, err := trustcore.NewSignerClient(args[0], time.Second, 5*time.Second)
	if err != nil {
		return err
	}
	publicHex, keyID, err := signer.PublicKey()
	signer.Close()
	if err != nil {
		return err
	}
	if keyID == nil {
		return errors.New("the demo's signer runs with --key-id")
	}
	keys, err := trustcore.TrustIssuersByKeyID(map[uint32]string{*keyID: publicHex})
	if err != nil {
		return err
	}
	policy, err := trustcore.HttpPolicyFromFile(args[1])
	if err != nil {
		return err
	}
	defer policy.Close()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	authority := listener.Addr().String()
	verifier, err := trustcore.NewVerifier(keys, trustcore.VerifierOptions{
		MaxSkewSeconds: trustcore.Float64(300),
		Authorities:    []string{authority},
	})
	if err != nil {
		return err
	}
	defer verifier.Close()
	say("pins the issuer key %s… (root key id %d), answers to %s, routes from %s", publicHex[:16], *keyID, authority,
		args[1][strings.LastIndex(args[1], "/")+1:])
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, _ := trustcore.IdentityFrom(r.Context())
		chain := make([]holder, len(who.Chain))
		ids := make([]string, len(who.Chain))
		for i, h := range who.Chain {
			chain[i] = holder{h.HolderID, h.HolderPublicHex}
			ids[i] = h.HolderID
		}
		if len(chain) > 1 {
			say("allowed: holder %s, %s %s, delegated through %s", who.HolderID, r.Method, r.URL.Path,
				strings.Join(ids, " → "))
		} else {
			say("allowed: holder %s, %s %s", who.HolderID, r.Method, r.URL.Path)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(answer{ServedBy: "go", HolderID: who.HolderID, Chain: chain})
	})
	server := &http.Server{Handler: trustcore.Middleware(verifier, policy)(app), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = server.Serve(listener) }()
	port := fmt.Sprintf("%d", listener.Addr().(*net.TCPAddr).Port)
	if err := os.WriteFile(state+"/go.port.tmp", []byte(port), 0o600); err != nil {
		return err
	}
	if err := os.Rename(state+"/go.port.tmp", state+"/go.port"); err != nil {
		return err
	}
	// the operator's commands; standard input closing ends the service
	lines := bufio.NewScanner(os.Stdin)
	for lines.Scan() {
		if id, ok := strings.CutPrefix(lines.Text(), "revoke "); ok {
			if err := verifier.Revoke(id); err != nil {
				return err
			}
			say("the operator revokes %s", id)
			if err := os.WriteFile(state+"/go.revoked", nil, 0o600); err != nil {
				return err
			}
		}
	}
	return server.Close()
}
