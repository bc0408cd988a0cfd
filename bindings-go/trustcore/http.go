package trustcore

/*
#include <trustcore.h>

// A decision's scalar fields, its identity and its two lists in one call into C instead of a dozen.
typedef struct tc_go_decision {
	bool allowed;
	uint16_t status;
	tc_status code;
	tc_str message;
	tc_str body;
	bool has_identity;
	tc_str identity[3];
	const tc_identity *identity_handle; // for its chain, read only when delegated
	size_t chain_count;
	tc_optional_text route;
	tc_optional_u32 profile;
	const tc_pair_list *headers;
	size_t header_count;
	const tc_pair_list *facts;
	size_t fact_count;
} tc_go_decision;

static void tc_go_decision_fields(const tc_decision *d, tc_go_decision *out) {
	const tc_identity *identity = tc_decision_identity(d);
	out->allowed = tc_decision_allowed(d);
	out->status = tc_decision_status(d);
	out->code = tc_decision_code(d);
	out->message = tc_decision_message(d);
	out->body = tc_decision_body(d);
	out->has_identity = identity != NULL;
	out->identity[0] = tc_identity_holder_id(identity);
	out->identity[1] = tc_identity_holder_public_hex(identity);
	out->identity[2] = tc_identity_revocation_id(identity);
	out->identity_handle = identity;
	out->chain_count = tc_identity_chain_count(identity);
	out->route = tc_decision_route(d);
	out->profile = tc_decision_profile(d);
	out->headers = tc_decision_headers(d);
	out->header_count = tc_pair_list_count(out->headers);
	out->facts = tc_decision_facts(d);
	out->fact_count = tc_pair_list_count(out->facts);
}

// Every pair of a list into out (which holds tc_pair_list_count(list) pairs): one call, not one each.
static void tc_go_pairs(const tc_pair_list *list, tc_pair *out) {
	size_t n = tc_pair_list_count(list);
	for (size_t i = 0; i < n; i++)
		out[i] = tc_pair_list_get(list, i);
}
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// HttpRequest is one HTTP request as a server received it: the method, the request target in
// origin form ("/path?query", exactly as on the request line: net/http's Request.RequestURI, never
// a decoded URL.Path), the header lines in the order they arrived (names in any case; a field sent
// on several lines is several pairs, in order) and the body. The Host header belongs among them:
// net/http moves it to Request.Host, so add it back (see the README).
type HttpRequest struct {
	Method  string
	Target  string
	Headers []Pair
	Body    []byte
}

// cHttpRequest is the C view of r, pinned until pin.Unpin: the method, the target and every header
// name and value are copied into one buffer, so that three pins (the text, the header array, the
// body) hold them all rather than two per header line: each pin takes a lock in the runtime, and a
// server's request has a dozen lines.
func cHttpRequest(pin *runtime.Pinner, r *HttpRequest) C.tc_http_request {
	size := len(r.Method) + len(r.Target)
	for _, h := range r.Headers {
		size += len(h.Name) + len(h.Value)
	}
	text := make([]byte, 0, size)
	if size > 0 {
		pin.Pin(unsafe.SliceData(text))
	}
	// place appends s to text (within its capacity: it never moves) and points C at it
	place := func(s string) (*C.char, C.size_t) {
		if len(s) == 0 {
			return nil, 0
		}
		start := len(text)
		text = append(text, s...)
		return (*C.char)(unsafe.Pointer(&text[start])), C.size_t(len(s))
	}
	var c C.tc_http_request
	c.method, c.method_len = place(r.Method)
	c.target, c.target_len = place(r.Target)
	if len(r.Headers) > 0 {
		pairs := make([]C.tc_pair, len(r.Headers))
		for i, h := range r.Headers {
			pairs[i].name, pairs[i].name_len = place(h.Name)
			pairs[i].value, pairs[i].value_len = place(h.Value)
		}
		pin.Pin(&pairs[0])
		c.headers, c.headers_count = &pairs[0], C.size_t(len(pairs))
	}
	c.body, c.body_len = pinBytes(pin, r.Body)
	return c
}

// pinPairs is cPairs for an array stored inside Go memory handed to C (a struct): the array is
// pinned too. NULL for no pairs.
func pinPairs(pin *runtime.Pinner, pairs []Pair) (*C.tc_pair, C.size_t) {
	if len(pairs) == 0 {
		return nil, 0
	}
	cp := cPairs(pin, pairs)
	pin.Pin(&cp[0])
	return &cp[0], C.size_t(len(pairs))
}

// goPairs copies a borrowed pair list of n pairs into Go.
func goPairs(list *C.tc_pair_list, n C.size_t) []Pair {
	if n == 0 {
		return []Pair{}
	}
	raw := make([]C.tc_pair, n)
	C.tc_go_pairs(list, &raw[0])
	out := make([]Pair, n)
	for i, p := range raw {
		out[i] = Pair{goText(C.tc_str{ptr: p.name, len: p.name_len}), goText(C.tc_str{ptr: p.value, len: p.value_len})}
	}
	return out
}

// profileBit is the core's reading of a profile's name ("rfc9421", "legacy"): any other name is
// ErrMalformedInput, from the core.
func profileBit(name string) (C.uint32_t, error) {
	p, n := cText(name)
	var bit C.uint32_t
	var cerr *C.tc_error
	if err := toError(C.tc_http_profile_from_name(p, n, &bit, &cerr), cerr); err != nil {
		return 0, err
	}
	return bit, nil
}

// profileBits is the bit set of a list of profile names.
func profileBits(names []string) (C.uint32_t, error) {
	var bits C.uint32_t
	for _, name := range names {
		bit, err := profileBit(name)
		if err != nil {
			return 0, err
		}
		bits |= bit
	}
	return bits, nil
}

// profileNames are the names of a bit set, in the core's order.
func profileNames(bits C.uint32_t) []string {
	names := []string{}
	for bit := C.uint32_t(1); bit != 0 && bit <= bits; bit <<= 1 {
		if bits&bit != 0 {
			names = append(names, C.GoString(C.tc_http_profile_name(bit)))
		}
	}
	return names
}

// Int64 is a pointer to n, for SignRequestOptions.Created.
func Int64(n int64) *int64 { return &n }

// SignRequestOptions are the request SignRequest signs, and how.
type SignRequestOptions struct {
	Method string
	// URL is a full http(s)://host[:port]/path?query URL, or an origin-form target (/path?query)
	// with the authority in a Host header of Headers. The authority is lower-cased and loses a
	// default port, as a server's Host would read.
	URL string
	// Headers are the request's other headers, read for Host only.
	Headers []Pair
	Body    []byte
	// Profile is "rfc9421" (RFC 9421 message signatures; also when empty) or "legacy" (trust-core
	// 0.1's X-EP-* headers); another name is ErrMalformedInput.
	Profile string
	// Created is the signature's time, seconds since the epoch; nil: now.
	Created *int64
	// Nonce is the signature's nonce; nil: 128 random bits in hex.
	Nonce *string
}

// SignRequest returns the headers to add to a request so that it carries token and the holder's
// proof: Authorization, Content-Digest, Signature-Input and Signature (RFC 9421: label "tc", tag
// "trustcore", keyid the key's RFC 7638 thumbprint, covering @method @authority @path @query
// authorization content-digest), or Authorization and the three X-EP-* headers (legacy), in that
// order. ErrMalformedInput, from the core, for a URL that is not http(s) or carries user info, an
// origin-form target without a Host header (RFC 9421), a token that is not one word of visible
// ASCII, a nonce that is not printable ASCII.
func SignRequest(key *WorkerKey, token string, opts SignRequestOptions) ([]Pair, error) {
	defer runtime.KeepAlive(key)
	profile := opts.Profile
	if profile == "" {
		profile = "rfc9421"
	}
	bit, err := profileBit(profile)
	if err != nil {
		return nil, err
	}
	kC, err := key.acquire()
	if err != nil {
		return nil, err
	}
	defer key.release(kC)
	var pin runtime.Pinner
	defer pin.Unpin()
	var params C.tc_http_sign_params
	params.method, params.method_len = pinText(&pin, opts.Method)
	params.url, params.url_len = pinText(&pin, opts.URL)
	params.headers, params.headers_count = pinPairs(&pin, opts.Headers)
	params.body, params.body_len = pinBytes(&pin, opts.Body)
	params.profile = bit
	if opts.Created != nil {
		params.created.has = true
		params.created.value = C.int64_t(*opts.Created)
	}
	if opts.Nonce != nil {
		params.nonce.has = true
		params.nonce.value, params.nonce.len = pinText(&pin, *opts.Nonce)
	}
	tok, tokLen := cText(token)
	var out *C.tc_pair_list
	var cerr *C.tc_error
	if err := toError(C.tc_http_sign_request(kC, tok, tokLen, &params, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	defer C.tc_pair_list_free(out)
	return goPairs(out, C.tc_pair_list_count(out)), nil
}

// SignatureBase is the RFC 9421 signature base of the signature labelled label on r, as the core
// builds it to verify (for debugging a client). ErrMalformedInput when r has no such signature, a
// covered component is missing or not supported, or a field does not parse.
func SignatureBase(r HttpRequest, label string) (string, error) {
	var pin runtime.Pinner
	defer pin.Unpin()
	req := cHttpRequest(&pin, &r)
	lp, ln := cText(label)
	var out *C.tc_bytes
	var cerr *C.tc_error
	if err := toError(C.tc_http_signature_base(&req, lp, ln, &out, &cerr), cerr); err != nil {
		return "", err
	}
	return string(takeBytes(out)), nil
}

// VerifyMessageSignature verifies the RFC 9421 signature labelled label on r with the Ed25519 public
// key publicHex (64 hex digits), strictly, and nothing else: no profile, no clock, no replay, no
// token. nil when it verifies, ErrPopFailed when it does not, ErrMalformedInput when r cannot be
// read (no such signature, a missing component, a bad key).
func VerifyMessageSignature(r HttpRequest, label, publicHex string) error {
	var pin runtime.Pinner
	defer pin.Unpin()
	req := cHttpRequest(&pin, &r)
	lp, ln := cText(label)
	kp, kn := cText(publicHex)
	var cerr *C.tc_error
	return toError(C.tc_http_verify_signature(&req, lp, ln, kp, kn, &cerr), cerr)
}

// HttpPolicy is a route policy: routes by method and path template, each public or guarded by an
// allow policy, and the largest body a request may carry; read from one JSON document that services
// in any language share (docs/DESIGN.md §10.2). Immutable: one policy serves every goroutine.
type HttpPolicy struct {
	n native[*C.tc_http_policy]
}

func newHttpPolicy(p *C.tc_http_policy) *HttpPolicy {
	hp := &HttpPolicy{}
	hp.n.ptr = p
	hp.n.cleanup = runtime.AddCleanup(hp, func(p *C.tc_http_policy) { C.tc_http_policy_free(p) }, p)
	return hp
}

// HttpPolicyFromJSON reads a route policy, {"routes": [{"method", "path", "allow" | "public": true},
// …], "max_body_bytes": n}, through the core's one JSON reader: a key given twice, an unknown key, a
// bad template, an allow policy that does not parse or a route given twice is ErrMalformedInput.
func HttpPolicyFromJSON(json []byte) (*HttpPolicy, error) {
	p, n := cTextBytes(json)
	var out *C.tc_http_policy
	var cerr *C.tc_error
	if err := toError(C.tc_http_policy_from_json(p, n, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	return newHttpPolicy(out), nil
}

// HttpPolicyFromFile reads a route policy from a file (see HttpPolicyFromJSON); a file that cannot
// be read is ErrMalformedInput too.
func HttpPolicyFromFile(path string) (*HttpPolicy, error) {
	p, n := cText(path)
	var out *C.tc_http_policy
	var cerr *C.tc_error
	if err := toError(C.tc_http_policy_from_file(p, n, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	return newHttpPolicy(out), nil
}

// MaxBodyBytes is the largest body a request may carry (a bigger one is refused with status 413):
// read no more than this from a client (http.MaxBytesReader). 0 once closed.
func (p *HttpPolicy) MaxBodyBytes() uint64 {
	defer runtime.KeepAlive(p)
	pC, _ := p.acquire()
	defer p.release(pC)
	return uint64(C.tc_http_policy_max_body_bytes(pC))
}

// BodyLengthRefusal is the refusal (413, ErrLimitExceeded) of a body of length bytes under p, or
// nil when p allows that length: Decide's first step on its own. A server asks it with a request's
// announced Content-Length and answers the refusal before reading the body (Middleware does). The
// error is a nil or closed policy's (ErrMalformedInput).
func (p *HttpPolicy) BodyLengthRefusal(length uint64) (*Decision, error) {
	defer runtime.KeepAlive(p)
	pC, err := p.acquire()
	if err != nil {
		return nil, err
	}
	defer p.release(pC)
	var out *C.tc_decision
	var cerr *C.tc_error
	if err := toError(C.tc_http_policy_body_length_refusal(pC, C.uint64_t(length), &out, &cerr), cerr); err != nil {
		return nil, err
	}
	if out == nil {
		return nil, nil
	}
	return takeDecision(out), nil
}

// RouteCount is the number of routes in the policy; 0 once closed.
func (p *HttpPolicy) RouteCount() int {
	defer runtime.KeepAlive(p)
	pC, _ := p.acquire()
	defer p.release(pC)
	return int(C.tc_http_policy_route_count(pC))
}

// Close releases the policy now (see IssuerKey.Close): calls in flight finish first, later ones are
// ErrMalformedInput.
func (p *HttpPolicy) Close() {
	if p != nil {
		p.n.close(func(p *C.tc_http_policy) { C.tc_http_policy_free(p) })
	}
}

// Decision is what to do with one request: serve it (Allowed, Status 200), or answer Status with
// Headers and Body. The status table is the core's: 400 a request it cannot read, 401 an
// authentication failure (with WWW-Authenticate: Biscuit error="<CODE>"), 403 ErrDenied or
// ErrLimitExceeded, 413 a body over the policy's cap, 503 ErrStoreUnavailable (with Retry-After),
// 500 ErrInternal.
type Decision struct {
	Allowed bool
	Status  int
	// Code is the refusal's code; 0 when allowed. Err returns it as an *Error.
	Code Code
	// Message says which check refused and why ("allowed" when allowed), for operators; never a
	// secret.
	Message string
	// Headers of the refusal (Content-Type, WWW-Authenticate, Retry-After), in order; none when
	// allowed.
	Headers []Pair
	// Body of the refusal, JSON {"error": "<CODE>", "message": "…"}; empty when allowed.
	Body string
	// Identity is who sent the request; nil on a public route or a refusal.
	Identity *Identity
	// Facts are the request facts the allow policy saw: the core's (req_method, req_path,
	// req_route, req_param_<name>, req_query_<name>, req_authority), then the application's; none
	// on a refusal.
	Facts []Pair
	// Route is the template that matched ("/lease/{lane}"); "" when none did.
	Route string
	// Profile is how the credentials came ("rfc9421" or "legacy"); "" on a public route or when
	// none were read.
	Profile string
}

// Err is the refusal as an *Error (errors.Is(d.Err(), ErrReplayed)); nil when allowed.
func (d *Decision) Err() error {
	if d == nil || d.Allowed || d.Code == 0 {
		return nil
	}
	return &Error{Code: d.Code, Message: d.Message}
}

// takeDecision copies a decision into Go and frees it.
func takeDecision(d *C.tc_decision) *Decision {
	defer C.tc_decision_free(d)
	var f C.tc_go_decision
	C.tc_go_decision_fields(d, &f)
	out := &Decision{
		Allowed: bool(f.allowed),
		Status:  int(f.status),
		Code:    Code(f.code),
		Message: goText(f.message),
		Body:    goText(f.body),
		Headers: goPairs(f.headers, f.header_count),
		Facts:   goPairs(f.facts, f.fact_count),
	}
	if f.has_identity {
		id := Identity{HolderID: goText(f.identity[0]), HolderPublicHex: goText(f.identity[1]),
			RevocationID: goText(f.identity[2])}
		id.Chain = chainOf(f.identity_handle, f.chain_count, id)
		out.Identity = &id
	}
	if f.route.has {
		out.Route = C.GoStringN(f.route.value, C.int(f.route.len))
	}
	if f.profile.has {
		out.Profile = C.GoString(C.tc_http_profile_name(f.profile.value))
	}
	return out
}

// Decide decides one HTTP request under policy with the verifier's stores, cache and settings (its
// Authorities and Profiles): body cap, request shape, route, credentials in either accepted profile
// (cache, revocation, freshness, proof, replay), then the route's allow policy over the request
// facts the core derives followed by facts (the application's own, named req_… and none of the
// core's). now nil is the system clock.
//
// Everything a client can send ends in a Decision; the error is the caller's mistake only
// (ErrMalformedInput for a bad application fact, a nil or closed Verifier or HttpPolicy, text that
// is not UTF-8). Safe from any number of goroutines at once.
func (v *Verifier) Decide(r HttpRequest, policy *HttpPolicy, facts []Pair, now *float64) (*Decision, error) {
	defer runtime.KeepAlive(v)
	defer runtime.KeepAlive(policy)
	vC, err := v.acquire()
	if err != nil {
		return nil, err
	}
	defer v.release(vC)
	pC, err := policy.acquire()
	if err != nil {
		return nil, err
	}
	defer policy.release(pC)
	var pin runtime.Pinner
	defer pin.Unpin()
	req := cHttpRequest(&pin, &r)
	cf := cPairs(&pin, facts)
	var out *C.tc_decision
	var cerr *C.tc_error
	status := C.tc_verifier_decide(vC, &req, pC, &cf[0], C.size_t(len(facts)), cNow(now), &out, &cerr)
	if err := toError(status, cerr); err != nil {
		return nil, err
	}
	return takeDecision(out), nil
}
