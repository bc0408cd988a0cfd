package trustcore

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"sort"
)

// The net/http middleware: it hands core the request as it came (Verifier.Decide) and does what the
// decision says. It converts types and nothing else: the body cap, the request's shape, the route,
// the credentials in either profile, the allow policy and the status table are all core's.

// MiddlewareOptions are the optional settings of MiddlewareWithOptions.
type MiddlewareOptions struct {
	// Facts, when set, gives the application's own request facts for a request (named req_… and
	// none of core's; see Verifier.Decide). It is called before the body is read. A fact core
	// refuses makes Decide fail: the request is answered 500 and the handler never runs.
	Facts func(r *http.Request) []Pair
}

// Middleware protects a handler with v and the route policy p: every request is decided by
// v.Decide(…, p, …) and either refused exactly as the decision says (its status, headers and
// JSON body; the next handler never runs) or passed on to the next handler with the allowed
// decision in its context (IdentityFrom, DecisionFrom) and r.Body replaced by the very bytes that
// were verified.
//
// What core is given:
//   - the method, and the target as it came on the request line, r.RequestURI (never r.URL
//     re-encoded; an absolute-form target, "GET http://host/path", is core's 400);
//   - the header lines: Host first (net/http moves it out of r.Header into r.Host), then r.Header's
//     names in sorted order. net/http keeps each line of a field as one value, in the order the
//     lines came, under its canonical name (content-digest → Content-Digest): it neither merges
//     nor splits lines (a value "a, b" stays one value), and it drops a value's leading and
//     trailing spaces, as core would. The order of lines across different names is lost (a map);
//     core needs none (a field's own lines are joined in order, RFC 9421 §2.1). net/http itself
//     answers 400 before any handler for two Host lines, a missing Host on HTTP/1.1, or a header
//     name or value it cannot read.
//   - the body, read once and never past p.MaxBodyBytes(). A Content-Length over the cap is not
//     read at all: core's p.BodyLengthRefusal answers it (413), and net/http then closes the
//     connection rather than read what the client still sends. A body without Content-Length
//     (chunked) is read through http.MaxBytesReader up to the cap plus one byte, and core answers
//     413 for it too. A body that cannot be read (the client went away, a read timeout) ends the
//     request with http.ErrAbortHandler: no decision, no answer.
//
// Decide's own error (a closed Verifier or HttpPolicy during a shutdown, a bad application fact)
// is answered 500 with a plain-text body; it never lets a request through.
func Middleware(v *Verifier, p *HttpPolicy) func(http.Handler) http.Handler {
	return MiddlewareWithOptions(v, p, MiddlewareOptions{})
}

// MiddlewareWithOptions is Middleware with the application's own request facts (opts.Facts).
func MiddlewareWithOptions(v *Verifier, p *HttpPolicy, opts MiddlewareOptions) func(http.Handler) http.Handler {
	// fixed for the policy's life (0 once closed: every request then fails in core, 500)
	limit := p.MaxBodyBytes()
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			serveDecided(w, r, next, v, p, limit, opts)
		})
	}
}

func serveDecided(w http.ResponseWriter, r *http.Request, next http.Handler, v *Verifier, p *HttpPolicy,
	limit uint64, opts MiddlewareOptions) {
	if r.ContentLength > 0 {
		refusal, err := p.BodyLengthRefusal(uint64(r.ContentLength))
		if err != nil {
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return
		}
		if refusal != nil {
			answer(w, refusal)
			return
		}
	}
	var facts []Pair
	if opts.Facts != nil {
		facts = opts.Facts(r)
	}
	body := readBody(w, r, limit)
	d, err := v.Decide(HttpRequest{Method: r.Method, Target: r.RequestURI, Headers: requestHeaders(r), Body: body},
		p, facts, nil)
	if err != nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	if !d.Allowed {
		answer(w, d)
		return
	}
	r2 := r.WithContext(context.WithValue(r.Context(), decisionKey{}, d))
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	next.ServeHTTP(w, r2)
}

// answer sends a refusal exactly as decided: its status, headers and JSON body.
func answer(w http.ResponseWriter, d *Decision) {
	h := w.Header()
	for _, pair := range d.Headers {
		h.Add(pair.Name, pair.Value)
	}
	w.WriteHeader(d.Status)
	_, _ = io.WriteString(w, d.Body)
}

// readBody reads r's body for core: all of it when its Content-Length is within limit (which
// BodyLengthRefusal let through), else at most limit bytes, or limit+1 bytes when it is longer
// (core answers 413). A body that cannot be read aborts the request.
func readBody(w http.ResponseWriter, r *http.Request, limit uint64) []byte {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	if r.ContentLength > 0 && uint64(r.ContentLength) <= limit {
		// the length is known: one buffer of that size (net/http's reader ends at it)
		body := make([]byte, r.ContentLength)
		if _, err := io.ReadFull(r.Body, body); err != nil {
			panic(http.ErrAbortHandler)
		}
		return body
	}
	capped := int64(math.MaxInt64 - 1)
	if limit < uint64(capped) {
		capped = int64(limit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, capped))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		// one byte more than the cap: core's 413 (and net/http closes the connection after it)
		return append(body, 0)
	case err != nil:
		panic(http.ErrAbortHandler)
	}
	return body
}

// requestHeaders are r's header lines as core reads them: Host, then r.Header's names sorted, each
// name's values in the order they came.
func requestHeaders(r *http.Request) []Pair {
	names := make([]string, 0, len(r.Header))
	count := 1
	for name, values := range r.Header {
		names = append(names, name)
		count += len(values)
	}
	sort.Strings(names)
	headers := make([]Pair, 0, count)
	if r.Host != "" {
		headers = append(headers, Pair{Name: "Host", Value: r.Host})
	}
	for _, name := range names {
		for _, value := range r.Header[name] {
			headers = append(headers, Pair{Name: name, Value: value})
		}
	}
	return headers
}

type decisionKey struct{}

// DecisionFrom is the allowed decision of the request whose context ctx is, as Middleware put it
// there: its Identity (nil on a public route), Facts, Route and Profile. ok is false outside
// Middleware.
func DecisionFrom(ctx context.Context) (d *Decision, ok bool) {
	d, ok = ctx.Value(decisionKey{}).(*Decision)
	return d, ok && d != nil
}

// IdentityFrom is who sent the request whose context ctx is, as Middleware verified it. ok is false
// on a public route (no credentials are read there) and outside Middleware.
func IdentityFrom(ctx context.Context) (who Identity, ok bool) {
	d, ok := DecisionFrom(ctx)
	if !ok || d.Identity == nil {
		return Identity{}, false
	}
	return *d.Identity, true
}
