// The Go server of the HTTP matrix (tests/http-matrix/README.md): trustcore.Middleware in front of a
// tiny net/http app. It binds 127.0.0.1:0, decides with a Verifier whose authority is that port,
// prints "LISTENING <port>", and serves until SIGTERM (then exits 0).
//
//	TRUSTCORE_MATRIX_ISSUER_PUBLIC  the issuer's public key, hex
//	TRUSTCORE_MATRIX_POLICY         the route policy file
//	TRUSTCORE_MATRIX_REDIS_URL      optional: the Verifier's stores on this Redis (core's default timeouts)
//	TRUSTCORE_MATRIX_MAX_SKEW_SECONDS  optional: the Verifier's max skew (else core's default)
//	TRUSTCORE_MATRIX_FRAMEWORK      ignored: this program serves net/http only
//	TRUSTCORE_MATRIX_PLAIN          "1": the same app without the middleware, every request answered
//	                                200 (holder_id and route null): the HTTP bench's baseline
package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"go.trustcore.dev/trustcore"
)

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "matrix go server: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	issuer, err := trustcore.TrustIssuer(os.Getenv("TRUSTCORE_MATRIX_ISSUER_PUBLIC"))
	if err != nil {
		fail("TRUSTCORE_MATRIX_ISSUER_PUBLIC: %v", err)
	}
	policy, err := trustcore.HttpPolicyFromFile(os.Getenv("TRUSTCORE_MATRIX_POLICY"))
	if err != nil {
		fail("TRUSTCORE_MATRIX_POLICY: %v", err)
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("listen: %v", err)
	}
	port := listener.Addr().(*net.TCPAddr).Port
	opts := trustcore.VerifierOptions{Authorities: []string{"127.0.0.1:" + strconv.Itoa(port)}}
	if url := os.Getenv("TRUSTCORE_MATRIX_REDIS_URL"); url != "" {
		opts.Redis = &trustcore.RedisOptions{URL: url}
	}
	if skew := os.Getenv("TRUSTCORE_MATRIX_MAX_SKEW_SECONDS"); skew != "" {
		seconds, err := strconv.ParseFloat(skew, 64)
		if err != nil {
			fail("TRUSTCORE_MATRIX_MAX_SKEW_SECONDS: %v", err)
		}
		opts.MaxSkewSeconds = trustcore.Float64(seconds)
	}
	verifier, err := trustcore.NewVerifier(issuer, opts)
	if err != nil {
		fail("verifier: %v", err)
	}

	// the app: every allowed request answered with who sent it, the exact body and the route
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		var out struct {
			HolderID *string `json:"holder_id"`
			BodyHex  string  `json:"body_hex"`
			Route    *string `json:"route"`
		}
		out.BodyHex = hex.EncodeToString(body)
		if who, ok := trustcore.IdentityFrom(r.Context()); ok {
			out.HolderID = &who.HolderID
		}
		if d, ok := trustcore.DecisionFrom(r.Context()); ok && d.Route != "" {
			out.Route = &d.Route
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
	handler := trustcore.Middleware(verifier, policy)(app)
	if os.Getenv("TRUSTCORE_MATRIX_PLAIN") == "1" {
		handler = app
	}
	server := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		_ = server.Close()
	}()
	fmt.Printf("LISTENING %d\n", port) // os.Stdout is not buffered: the line is out at once
	if err := server.Serve(listener); err != nil && err != http.ErrServerClosed {
		fail("serve: %v", err)
	}
	verifier.Close()
	policy.Close()
}
