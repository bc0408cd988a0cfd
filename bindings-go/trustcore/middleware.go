package trustcore

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"runtime"
	"sort"
	"sync"
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
//   - the body, read once with http.MaxBytesReader at p.MaxBodyBytes(). A Content-Length over the
//     cap is not read at all: core is handed cap+1 bytes (zeros, from one read-only mapping shared
//     by every request) and answers 413 itself; net/http then closes the connection rather than
//     read what the client still sends. A body without Content-Length (chunked) is read up to the
//     cap plus one byte, and core answers 413 for it too. A body that cannot be read (the client
//     went away, a read timeout) ends the request with http.ErrAbortHandler: no decision, no
//     answer.
//
// Decide's own error (a closed Verifier or HttpPolicy during a shutdown, a bad application fact)
// is answered 500 with a plain-text body; it never lets a request through.
func Middleware(v *Verifier, p *HttpPolicy) func(http.Handler) http.Handler {
	return MiddlewareWithOptions(v, p, MiddlewareOptions{})
}

// MiddlewareWithOptions is Middleware with the application's own request facts (opts.Facts).
func MiddlewareWithOptions(v *Verifier, p *HttpPolicy, opts MiddlewareOptions) func(http.Handler) http.Handler {
	over := &oversize{}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			serveDecided(w, r, next, v, p, opts, over)
		})
	}
}

func serveDecided(w http.ResponseWriter, r *http.Request, next http.Handler, v *Verifier, p *HttpPolicy,
	opts MiddlewareOptions, over *oversize) {
	var facts []Pair
	if opts.Facts != nil {
		facts = opts.Facts(r)
	}
	limit := p.MaxBodyBytes()
	body, read := readBody(w, r, limit, over)
	defer runtime.KeepAlive(over) // the stand-in body stays mapped until Decide returned
	d, err := v.Decide(HttpRequest{Method: r.Method, Target: r.RequestURI, Headers: requestHeaders(r), Body: body},
		p, facts, nil)
	if err != nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	if !d.Allowed {
		h := w.Header()
		for _, pair := range d.Headers {
			h.Add(pair.Name, pair.Value)
		}
		w.WriteHeader(d.Status)
		_, _ = io.WriteString(w, d.Body)
		return
	}
	if !read {
		// core allows nothing over the cap; should it ever, the stand-in never reaches a handler
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	r2 := r.WithContext(context.WithValue(r.Context(), decisionKey{}, d))
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	next.ServeHTTP(w, r2)
}

// readBody reads r's body for core: at most limit bytes, or limit+1 bytes when it is longer (core
// answers 413). read is false when the body was not read at all (a Content-Length over the cap)
// and body is a stand-in of limit+1 bytes. A body that cannot be read aborts the request.
func readBody(w http.ResponseWriter, r *http.Request, limit uint64, over *oversize) (body []byte, read bool) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, true
	}
	if r.ContentLength > 0 && uint64(r.ContentLength) > limit {
		if standIn := over.body(limit); standIn != nil {
			return standIn, false
		}
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
		return append(body, 0), true
	case err != nil:
		panic(http.ErrAbortHandler)
	}
	return body, true
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

// oversize is the stand-in body for a request whose Content-Length is over the cap: limit+1 bytes
// that core counts and never reads. It is made once, on the first such request, as a read-only
// anonymous mapping (no memory is touched or committed; oversize_unix.go), and shared by every
// request after it. Without one (another system, a mapping refused, a cap that changed: a closed
// policy reads 0) the body is read instead, up to the cap plus one byte.
type oversize struct {
	once   sync.Once
	limit  uint64
	mapped []byte
}

func (o *oversize) body(limit uint64) []byte {
	o.once.Do(func() {
		o.limit = limit
		if limit < math.MaxInt-1 {
			o.mapped = mapZeros(int(limit) + 1)
		}
		if o.mapped != nil {
			runtime.AddCleanup(o, unmapZeros, o.mapped)
		}
	})
	if o.limit != limit {
		return nil
	}
	return o.mapped
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
