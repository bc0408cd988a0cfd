// Command trustcore-demo-service is the service of `make demo`, in Go: it pins the issuer key it
// asks the signer for, then authenticates and authorizes each request the worker made, checking
// that every outcome is the one the demo narrates (exit 1 otherwise).
//
// usage: trustcore-demo-service SIGNER_SOCKET TOKEN_JSON REQUESTS_JSON
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"example.invalid/trustcore/bindings-go/trustcore"
)

type request struct {
	Name        string            `json:"name"`
	Path        string            `json:"path"`
	Body        string            `json:"body"`
	Right       string            `json:"right"`
	Offset      float64           `json:"offset"`
	Headers     map[string]string `json:"headers"`
	Expect      string            `json:"expect"`
	RevokeFirst bool              `json:"revokeFirst"`
}

func say(format string, args ...any) { fmt.Printf("   [service · go] "+format+"\n", args...) }

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

func readJSON(path string, into any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, into)
}

func run(args []string) error {
	if len(args) != 3 {
		return errors.New("usage: trustcore-demo-service SIGNER_SOCKET TOKEN_JSON REQUESTS_JSON")
	}
	var minted struct {
		RevocationID string `json:"revocation_id"`
	}
	var requests []request
	if err := readJSON(args[1], &minted); err != nil {
		return err
	}
	if err := readJSON(args[2], &requests); err != nil {
		return err
	}
	signer, err := trustcore.NewSignerClient(args[0], time.Second, 5*time.Second)
	if err != nil {
		return err
	}
	defer signer.Close()
	publicHex, keyID, err := signer.PublicKey()
	if err != nil {
		return err
	}
	if keyID == nil {
		return errors.New("the demo's signer runs with --key-id")
	}
	say("pins the issuer key %s… under root key id %d (public: it could as well come from config)", publicHex[:16], *keyID)
	keys, err := trustcore.TrustIssuersByKeyID(map[uint32]string{*keyID: publicHex})
	if err != nil {
		return err
	}
	verifier, err := trustcore.NewVerifier(keys, trustcore.VerifierOptions{MaxSkewSeconds: trustcore.Float64(300)})
	if err != nil {
		return err
	}
	defer verifier.Close()
	const allow = "allow if req_right($r), right($r), req_lane($l), lane($l)"
	say("allows: %s", allow)
	for i, r := range requests {
		fmt.Printf("\n%c. %s\n", 'a'+i, r.Name)
		if r.RevokeFirst {
			if err := verifier.Revoke(minted.RevocationID); err != nil {
				return err
			}
			say("the operator revokes %s", minted.RevocationID)
		}
		outcome := serve(verifier, r, allow)
		if outcome != r.Expect {
			return fmt.Errorf("%q: expected %s, got %s", r.Name, r.Expect, outcome)
		}
	}
	return nil
}

// serve is what the service does on every request: authenticate, then authorize.
func serve(v *trustcore.Verifier, r request, allow string) string {
	var headers []trustcore.Pair
	for name, value := range r.Headers {
		headers = append(headers, trustcore.Pair{Name: name, Value: value})
	}
	now := float64(time.Now().Unix()) + r.Offset
	refused := func(err error) string {
		var e *trustcore.Error
		if errors.As(err, &e) {
			say("refused: %s (%s)", e.Code, e.Message)
			return e.Code.String()
		}
		say("failed: %v", err)
		return "?"
	}
	proof, err := trustcore.ProofFromHeaders(headers)
	if err != nil {
		return refused(err)
	}
	defer proof.Close()
	token, identity, err := v.Authenticate(proof, trustcore.Request{Method: "POST", Path: r.Path, Body: []byte(r.Body)}, &now)
	if err != nil {
		return refused(err)
	}
	defer token.Close()
	facts := []trustcore.Pair{{Name: "req_right", Value: r.Right}, {Name: "req_lane", Value: "transcribe"}}
	if err := v.CheckPolicy(token, facts, allow, &now); err != nil {
		return refused(err)
	}
	say("allowed: holder %s, POST %s", identity.HolderID, r.Path)
	return "OK"
}
