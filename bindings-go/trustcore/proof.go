package trustcore

/*
#include <trustcore.h>
*/
import "C"

import (
	"runtime"
	"sort"
)

// Request is one request as the proof binds it: method, path (with its query string) and the exact
// body bytes.
type Request struct {
	Method string
	Path   string
	Body   []byte
}

// Pair is one name/value input (an HTTP header, a query parameter, a request fact), kept in order.
type Pair struct {
	Name, Value string
}

// cRequest builds the C view of r; its strings are pinned until pin.Unpin.
func cRequest(pin *runtime.Pinner, r *Request) C.tc_request {
	var c C.tc_request
	c.method, c.method_len = pinText(pin, r.Method)
	c.path, c.path_len = pinText(pin, r.Path)
	c.body, c.body_len = pinBytes(pin, r.Body)
	return c
}

// cPairs builds the C view of pairs (never a nil pointer); strings pinned until pin.Unpin.
func cPairs(pin *runtime.Pinner, pairs []Pair) []C.tc_pair {
	out := make([]C.tc_pair, len(pairs)+1)
	for i, p := range pairs {
		out[i].name, out[i].name_len = pinText(pin, p.Name)
		out[i].value, out[i].value_len = pinText(pin, p.Value)
	}
	return out
}

// cStrs builds the C view of strs (never a nil pointer); strings pinned until pin.Unpin.
func cStrs(pin *runtime.Pinner, strs []string) []C.tc_str {
	out := make([]C.tc_str, len(strs)+1)
	for i, s := range strs {
		out[i].ptr, out[i].len = pinText(pin, s)
	}
	return out
}

// pinStrs is cStrs for an array stored inside Go memory handed to C (a struct): the array is pinned
// too. NULL for no strings.
func pinStrs(pin *runtime.Pinner, strs []string) (*C.tc_str, C.size_t) {
	if len(strs) == 0 {
		return nil, 0
	}
	cs := cStrs(pin, strs)
	pin.Pin(&cs[0])
	return &cs[0], C.size_t(len(strs))
}

// CanonicalRequest is the exact bytes a holder signs for r at timestamp with nonce.
func CanonicalRequest(r Request, timestamp, nonce string) ([]byte, error) {
	var pin runtime.Pinner
	defer pin.Unpin()
	req := cRequest(&pin, &r)
	ts, tsLen := pinText(&pin, timestamp)
	nc, ncLen := pinText(&pin, nonce)
	guess := len(r.Method) + len(r.Path) + len(timestamp) + len(nonce) + 64 + 5
	text, err := buffer(guess, func(b *C.char, l C.size_t, n *C.size_t, e **C.tc_error) C.tc_status {
		return C.tc_canonical_request(&req, ts, tsLen, nc, ncLen, b, l, n, e)
	})
	return []byte(text), err
}

// Proof is what a holder attaches to a request: token, signature (hex), timestamp and nonce.
type Proof struct {
	n native[*C.tc_proof]
}

func newProof(p *C.tc_proof) *Proof {
	pr := &Proof{}
	pr.n.ptr = p
	pr.n.cleanup = runtime.AddCleanup(pr, func(p *C.tc_proof) { C.tc_proof_free(p) }, p)
	return pr
}

// MakeProof signs r with the holder's key at timestamp (decimal seconds) with nonce: the proof to
// send with token.
func (k *WorkerKey) MakeProof(token string, r Request, timestamp, nonce string) (*Proof, error) {
	defer runtime.KeepAlive(k)
	kC, err := k.acquire()
	if err != nil {
		return nil, err
	}
	defer k.release(kC)
	var pin runtime.Pinner
	defer pin.Unpin()
	req := cRequest(&pin, &r)
	tok, tokLen := cText(token)
	ts, tsLen := cText(timestamp)
	nc, ncLen := cText(nonce)
	var out *C.tc_proof
	var cerr *C.tc_error
	status := C.tc_make_proof(kC, tok, tokLen, &req, ts, tsLen, nc, ncLen, &out, &cerr)
	if err := toError(status, cerr); err != nil {
		return nil, err
	}
	return newProof(out), nil
}

// NewProof assembles a proof from parts received by other means (checked by Authenticate).
func NewProof(token, signature, timestamp, nonce string) (*Proof, error) {
	tok, tokLen := cText(token)
	sig, sigLen := cText(signature)
	ts, tsLen := cText(timestamp)
	nc, ncLen := cText(nonce)
	var out *C.tc_proof
	var cerr *C.tc_error
	status := C.tc_proof_new(tok, tokLen, sig, sigLen, ts, tsLen, nc, ncLen, &out, &cerr)
	if err := toError(status, cerr); err != nil {
		return nil, err
	}
	return newProof(out), nil
}

// ProofFromHeaders reads a proof from HTTP headers, in order (names match case-insensitively,
// values are trimmed; missing, blank or repeated headers are MALFORMED_INPUT).
func ProofFromHeaders(headers []Pair) (*Proof, error) {
	return proofFrom(headers, true)
}

// ProofFromHTTPHeader is ProofFromHeaders for an http.Header (or any map of header values).
func ProofFromHTTPHeader(header map[string][]string) (*Proof, error) {
	return proofFrom(flatten(header), true)
}

// ProofFromQuery reads a proof from query parameters token, sig, ts, nonce.
func ProofFromQuery(query []Pair) (*Proof, error) {
	return proofFrom(query, false)
}

// ProofFromURLValues is ProofFromQuery for url.Values (or any map of values).
func ProofFromURLValues(values map[string][]string) (*Proof, error) {
	return proofFrom(flatten(values), false)
}

// flatten keeps every value, so a repeated name is refused by the core as it should be.
func flatten(m map[string][]string) []Pair {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	var pairs []Pair
	for _, name := range names {
		for _, v := range m[name] {
			pairs = append(pairs, Pair{name, v})
		}
	}
	return pairs
}

func proofFrom(pairs []Pair, headers bool) (*Proof, error) {
	var pin runtime.Pinner
	defer pin.Unpin()
	cp := cPairs(&pin, pairs)
	var out *C.tc_proof
	var cerr *C.tc_error
	var status C.tc_status
	if headers {
		status = C.tc_proof_from_headers(&cp[0], C.size_t(len(pairs)), &out, &cerr)
	} else {
		status = C.tc_proof_from_query(&cp[0], C.size_t(len(pairs)), &out, &cerr)
	}
	if err := toError(status, cerr); err != nil {
		return nil, err
	}
	return newProof(out), nil
}

// Token is the proof's token (base64).
func (p *Proof) Token() string {
	defer runtime.KeepAlive(p)
	pC, _ := p.acquire()
	defer p.release(pC)
	return goText(C.tc_proof_token(pC))
}

// Signature is the proof's signature (hex).
func (p *Proof) Signature() string {
	defer runtime.KeepAlive(p)
	pC, _ := p.acquire()
	defer p.release(pC)
	return goText(C.tc_proof_signature(pC))
}

// Timestamp is the proof's timestamp, as sent.
func (p *Proof) Timestamp() string {
	defer runtime.KeepAlive(p)
	pC, _ := p.acquire()
	defer p.release(pC)
	return goText(C.tc_proof_timestamp(pC))
}

// Nonce is the proof's nonce, as sent.
func (p *Proof) Nonce() string {
	defer runtime.KeepAlive(p)
	pC, _ := p.acquire()
	defer p.release(pC)
	return goText(C.tc_proof_nonce(pC))
}

// Headers are the four HTTP headers that carry this proof, in order.
func (p *Proof) Headers() ([]Pair, error) {
	pC, err := p.acquire()
	if err != nil {
		return nil, err
	}
	defer p.release(pC)
	return p.pairs(func(i C.size_t, n, v *C.tc_str, e **C.tc_error) C.tc_status {
		return C.tc_proof_header(pC, i, n, v, e)
	})
}

// Query is the same proof as query parameters (token, sig, ts, nonce).
func (p *Proof) Query() ([]Pair, error) {
	pC, err := p.acquire()
	if err != nil {
		return nil, err
	}
	defer p.release(pC)
	return p.pairs(func(i C.size_t, n, v *C.tc_str, e **C.tc_error) C.tc_status {
		return C.tc_proof_query_param(pC, i, n, v, e)
	})
}

func (p *Proof) pairs(get func(C.size_t, *C.tc_str, *C.tc_str, **C.tc_error) C.tc_status) ([]Pair, error) {
	defer runtime.KeepAlive(p)
	out := make([]Pair, 0, C.TC_PROOF_PARTS)
	for i := 0; i < C.TC_PROOF_PARTS; i++ {
		var name, value C.tc_str
		var cerr *C.tc_error
		if err := toError(get(C.size_t(i), &name, &value, &cerr), cerr); err != nil {
			return nil, err
		}
		out = append(out, Pair{goText(name), goText(value)})
	}
	return out, nil
}

// Close releases the proof now (see IssuerKey.Close).
func (p *Proof) Close() {
	if p != nil {
		p.n.close(func(p *C.tc_proof) { C.tc_proof_free(p) })
	}
}
