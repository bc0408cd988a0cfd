// The Go client of the HTTP matrix (tests/http-matrix/README.md): one JSON request per line on
// standard input, signed with trustcore.NewTransport (profile "rfc9421", the default) or a
// trustcore.Transport in the "legacy" profile, or not at all ("unsigned": true), and sent with
// net/http's http.Client; one JSON answer per line on standard output, in order:
// {"status": 200, "body": "…"}, or {"error": "…"} when the request could not be sent. Redirects are
// not followed (their status is the answer).
package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"go.trustcore.dev/trustcore"
)

type request struct {
	URL             string `json:"url"`
	Method          string `json:"method"`
	BodyHex         string `json:"body_hex"`
	HolderSecretHex string `json:"holder_secret_hex"`
	Token           string `json:"token"`
	Profile         string `json:"profile"`
	Unsigned        bool   `json:"unsigned"`
}

type answer struct {
	Status *int    `json:"status,omitempty"`
	Body   *string `json:"body,omitempty"`
	Error  string  `json:"error,omitempty"`
}

// one connection pool for every request; the keys by their secret, made once
var (
	base = &http.Transport{}
	keys = map[string]*trustcore.WorkerKey{}
)

func send(line []byte) answer {
	var r request
	if err := json.Unmarshal(line, &r); err != nil {
		return answer{Error: "not a request: " + err.Error()}
	}
	body, err := hex.DecodeString(r.BodyHex)
	if err != nil {
		return answer{Error: "body_hex: " + err.Error()}
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	var reader io.Reader
	if len(body) > 0 {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, r.URL, reader)
	if err != nil {
		return answer{Error: err.Error()}
	}
	transport := http.RoundTripper(base)
	if !r.Unsigned {
		key, ok := keys[r.HolderSecretHex]
		if !ok {
			if key, err = trustcore.WorkerKeyFromSecretHex(r.HolderSecretHex); err != nil {
				return answer{Error: "holder_secret_hex: " + err.Error()}
			}
			keys[r.HolderSecretHex] = key
		}
		switch r.Profile {
		case "", "rfc9421":
			transport = trustcore.NewTransport(key, r.Token, base)
		default: // "legacy"; another name is core's to refuse
			transport = &trustcore.Transport{Key: key, Token: r.Token, Base: base, Profile: r.Profile}
		}
	}
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return answer{Error: err.Error()}
	}
	defer resp.Body.Close()
	text, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{Error: "reading the response: " + err.Error()}
	}
	status, bodyText := resp.StatusCode, string(text)
	return answer{Status: &status, Body: &bodyText}
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64*1024), 256<<20) // a body_hex of a few MB fits on one line
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	for in.Scan() {
		if len(bytes.TrimSpace(in.Bytes())) == 0 {
			continue
		}
		if err := enc.Encode(send(in.Bytes())); err != nil {
			fmt.Fprintln(os.Stderr, "matrix go client:", err)
			os.Exit(1)
		}
		if err := out.Flush(); err != nil {
			os.Exit(1)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "matrix go client: reading standard input:", err)
		os.Exit(1)
	}
}
