// Command overhead is the HTTP bench's in-process companion (bench/README.md, "Adapter cost"): the
// CPU per request (getrusage, the whole process: waiting on a busy machine is not counted) of
// trustcore.Middleware around a handler that does nothing, against Verifier.Decide alone on the same
// kind of pre-signed requests (the matrix's POST /lease/a, RFC 9421), one request at a time, five
// rounds of 3,000 each. The difference is what the middleware adds to the binding's own decision,
// without the server, the sockets and the scheduler that make bench/http's figures move.
//
//	usage: overhead ROUTES.json
package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"syscall"
	"time"

	tc "go.trustcore.dev/trustcore"
)

const host = "127.0.0.1:8000"
const payload = `{"episode":"e1"}`

func cpu() time.Duration {
	var r syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r)
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

func main() {
	issuer, err := tc.IssuerKeyFromSecretHex(strings.Repeat("11", 32))
	if err != nil {
		panic(err)
	}
	key, err := tc.WorkerKeyFromSecretHex(strings.Repeat("22", 32))
	if err != nil {
		panic(err)
	}
	pub, err := key.PublicHex()
	if err != nil {
		panic(err)
	}
	token, err := issuer.Mint(tc.MintRequest{PublicHex: pub, HolderID: "gpu-1",
		Facts:        []tc.Fact{{Predicate: "right", Values: []string{"lease"}}, {Predicate: "lane", Values: []string{"a"}}},
		RevocationID: "rev-1", ExpiresAt: float64(time.Now().Unix() + 3600)})
	if err != nil {
		panic(err)
	}
	trustedHex, err := issuer.PublicHex()
	if err != nil {
		panic(err)
	}
	trusted, err := tc.TrustIssuer(trustedHex)
	if err != nil {
		panic(err)
	}
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: overhead ROUTES.json")
		os.Exit(2)
	}
	policy, err := tc.HttpPolicyFromFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	const n = 3000
	requests := func() []*http.Request {
		out := make([]*http.Request, n)
		for i := range out {
			pairs, err := tc.SignRequest(key, token, tc.SignRequestOptions{Method: "POST", URL: "http://" + host + "/lease/a", Body: []byte(payload)})
			if err != nil {
				panic(err)
			}
			r := httptest.NewRequest("POST", "http://"+host+"/lease/a", bytes.NewReader([]byte(payload)))
			r.RequestURI = "/lease/a"
			for _, p := range pairs {
				r.Header.Set(p.Name, p.Value)
			}
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("User-Agent", "Go-http-client/1.1")
			r.Header.Set("Accept-Encoding", "gzip")
			out[i] = r
		}
		return out
	}
	var diffs []float64
	for range 5 {
		v1, err := tc.NewVerifier(trusted, tc.VerifierOptions{Authorities: []string{host}})
		if err != nil {
			panic(err)
		}
		v2, err := tc.NewVerifier(trusted, tc.VerifierOptions{Authorities: []string{host}})
		if err != nil {
			panic(err)
		}
		rs := requests()
		start := cpu()
		for _, r := range rs {
			// what Decide needs from net/http's request, converted as plainly as can be
			headers := []tc.Pair{{Name: "Host", Value: r.Host}}
			for name, values := range r.Header {
				for _, v := range values {
					headers = append(headers, tc.Pair{Name: name, Value: v})
				}
			}
			d, err := v1.Decide(tc.HttpRequest{Method: r.Method, Target: r.RequestURI, Headers: headers, Body: []byte(payload)}, policy, nil, nil)
			if err != nil || !d.Allowed {
				panic(fmt.Sprint(err, d))
			}
		}
		alone := float64(cpu()-start) / n / 1e3
		rs = requests()
		handler := tc.Middleware(v2, policy)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, ok := tc.IdentityFrom(r.Context()); !ok {
				panic("no identity")
			}
		}))
		start = cpu()
		for _, r := range rs {
			w := httptest.NewRecorder()
			handler.ServeHTTP(w, r)
			if w.Code != 200 {
				panic(w.Body.String())
			}
		}
		mw := float64(cpu()-start) / n / 1e3
		fmt.Printf("Decide alone %.1f µs CPU, Middleware %.1f µs CPU: the middleware adds %.1f µs\n", alone, mw, mw-alone)
		diffs = append(diffs, mw-alone)
	}
	sort.Float64s(diffs)
	fmt.Printf("median: the middleware adds %.1f µs CPU per request\n", diffs[len(diffs)/2])
}
