// A user's Go program around the README's quick start (quickstart.go: the README's lease handler, copied
// by test_dist.sh): a token minted for a new holder, one signed request, the handler's answer.
package main

import (
	"fmt"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"

	"go.trustcore.dev/trustcore"
)

// the README's handler trusts issuerPublicHex: this program is its own issuer
var issuerKey = must(trustcore.GenerateIssuerKey())
var issuerPublicHex = must(issuerKey.PublicHex())

func must[T any](v T, err error) T {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return v
}

func main() {
	must(0, issuerErr)
	holder := must(trustcore.GenerateWorkerKey())
	token := must(issuerKey.Mint(trustcore.MintRequest{PublicHex: must(holder.PublicHex()), HolderID: "gpu-1",
		Facts:        []trustcore.Fact{{Predicate: "lane", Values: []string{"transcribe"}}},
		RevocationID: "rev-1", ExpiresAt: trustcore.NowSeconds() + 3600}))
	body := `{"job":42}`
	now := strconv.FormatInt(int64(trustcore.NowSeconds()), 10)
	proof := must(holder.MakeProof(token, trustcore.Request{Method: "POST", Path: "/lease", Body: []byte(body)}, now, "nonce-1"))
	request := httptest.NewRequest("POST", "/lease", strings.NewReader(body))
	for _, h := range must(proof.Headers()) {
		request.Header.Set(h.Name, h.Value)
	}
	answer := httptest.NewRecorder()
	lease(answer, request)
	fmt.Printf("%d %strustcore %s, library %s\n", answer.Code, answer.Body.String(), trustcore.PackageVersion, trustcore.Version())
	if answer.Code != 200 || answer.Body.String() != "hello gpu-1\n" || trustcore.Version() != trustcore.PackageVersion {
		os.Exit(1)
	}
}
