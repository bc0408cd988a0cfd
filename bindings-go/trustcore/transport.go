package trustcore

import (
	"bytes"
	"io"
	"net/http"
	"strings"
)

// Transport is an http.RoundTripper that signs every request it carries with the holder's key and
// token (SignRequest), then hands it to Base. Make it with NewTransport, or as a literal for the
// legacy profile:
//
//	client := &http.Client{Transport: &trustcore.Transport{Key: key, Token: token, Profile: "legacy"}}
//
// Its fields are read on every request: set them before the Transport is first used and leave
// them (for a new token, make a new Transport). The Key is borrowed: close it after the last
// request. Safe for concurrent use.
//
// It signs every request it is given, whatever its host: give it to a client that talks to the
// services the token is for. (http.Client follows a redirect by sending a new request through the
// same Transport, which signs it too, for the new URL; set Client.CheckRedirect to refuse
// redirects to other hosts.)
type Transport struct {
	Key   *WorkerKey
	Token string
	// Base sends the signed request; nil is http.DefaultTransport.
	Base http.RoundTripper
	// Profile is "rfc9421" (RFC 9421 message signatures; also when empty) or "legacy" (trust-core
	// 0.1's X-EP-* headers).
	Profile string
}

// NewTransport is a Transport signing in the RFC 9421 profile with key and token, sending through
// base (nil: http.DefaultTransport).
func NewTransport(key *WorkerKey, token string, base http.RoundTripper) http.RoundTripper {
	return &Transport{Key: key, Token: token, Base: base}
}

// RoundTrip signs a clone of req and sends it through Base; req itself is left as it was (its
// body is closed, as every RoundTripper must). What is signed is what net/http writes on the
// request line and in Host:
//   - the target req.URL.RequestURI() (its path as escaped: RawPath when it is a valid encoding
//     of Path, else Path escaped; "?" and the raw query; req.URL.Opaque when set), in origin form
//     also through a proxy (the proxy forwards it so);
//   - the authority req.Host, or req.URL.Host when it is empty (core lower-cases it and drops a
//     default port, as the server's core does; an IPv6 zone is dropped, as net/http drops it; a
//     host that is not ASCII is core's ErrMalformedInput: give its punycode form);
//   - the method and the body: read through req.GetBody when it is set (the caller's req.Body is
//     then not read), else read from req.Body once and buffered; the clone carries those very
//     bytes, with a GetBody of its own (for a retry on a new connection) and their Content-Length.
//
// The headers SignRequest returns (Authorization, Content-Digest, Signature-Input, Signature; or
// Authorization and X-EP-*) replace any of the same name on the clone. A request core cannot sign
// (a bad token, a URL that is not http(s)) is an error wrapping core's *Error (errors.Is(err,
// ErrMalformedInput)); nothing is sent.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := requestBody(req)
	if req.Body != nil {
		_ = req.Body.Close()
	}
	if err != nil {
		return nil, err
	}
	host, target := req.Host, "" // no URL: core refuses the empty target
	if req.URL != nil {
		target = req.URL.RequestURI()
		if host == "" {
			host = req.URL.Host
		}
	}
	signed, err := SignRequest(t.Key, t.Token, SignRequestOptions{Method: methodOf(req), URL: target,
		Headers: []Pair{{Name: "Host", Value: removeZone(host)}}, Body: body, Profile: t.Profile})
	if err != nil {
		return nil, err
	}
	clone := req.Clone(req.Context())
	if clone.Header == nil {
		clone.Header = make(http.Header)
	}
	for _, h := range signed {
		clone.Header.Set(h.Name, h.Value)
	}
	if body != nil {
		clone.Body = io.NopCloser(bytes.NewReader(body))
		clone.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		clone.ContentLength = int64(len(body))
	} else if req.Body != nil {
		clone.Body = http.NoBody
		clone.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
		clone.ContentLength = 0
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(clone)
}

// CloseIdleConnections closes Base's idle connections, when it has any (http.Client's method of the
// same name calls it).
func (t *Transport) CloseIdleConnections() {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	if c, ok := base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// requestBody is the body req will carry: through GetBody when set, else req.Body read whole (nil:
// none).
func requestBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	source := req.Body
	if req.GetBody != nil {
		fresh, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		defer fresh.Close()
		source = fresh
	}
	body, err := io.ReadAll(source)
	if err != nil {
		return nil, err
	}
	if len(body) == 0 {
		return nil, nil
	}
	return body, nil
}

// methodOf is the method net/http sends: GET when req.Method is empty.
func methodOf(req *http.Request) string {
	if req.Method == "" {
		return http.MethodGet
	}
	return req.Method
}

// removeZone drops an IPv6 zone ("[fe80::1%en0]:8080" → "[fe80::1]:8080"), as net/http does
// before it writes Host.
func removeZone(host string) string {
	if !strings.HasPrefix(host, "[") {
		return host
	}
	i := strings.LastIndex(host, "]")
	if i < 0 {
		return host
	}
	j := strings.LastIndex(host[:i], "%")
	if j < 0 {
		return host
	}
	return host[:j] + host[i:]
}
