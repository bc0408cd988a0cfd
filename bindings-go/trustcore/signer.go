package trustcore

/*
#include <trustcore.h>
*/
import "C"

import (
	"encoding/json"
	"math"
	"runtime"
	"time"
)

// SignerClient reaches the signer daemon (`trustcore signer serve`), which holds the issuer key in
// its own process and mints tokens and signs jobs on request. One client serves every goroutine of
// a process: it keeps a few connections open between requests. The signer's refusals keep their
// codes (ErrSignerRefused for its policy, ErrMalformedInput for bad arguments); a signer that
// cannot be reached, or does not answer within the request timeout, is ErrSignerUnavailable.
type SignerClient struct {
	n native[*C.tc_signer_client]
}

// SignerMintRequest says what the signer should mint: MintRequest without the root key id (the
// signer writes its own).
type SignerMintRequest struct {
	PublicHex    string // the holder's public key
	HolderID     string
	Facts        []Fact
	RevocationID string  // empty: the signer picks a random one
	ExpiresAt    float64 // seconds since the epoch, cut to whole seconds
	// DelegationDepth is how many delegation links (Delegate) the token allows; 0, the default,
	// mints a token that cannot be delegated. The signer refuses more than its
	// --max-delegation-depth (default 0) with ErrSignerRefused.
	DelegationDepth uint32
}

// MintedToken is a token the signer minted.
type MintedToken struct {
	Token        string // URL-safe base64, for Authorization: Biscuit …
	RevocationID string // the one asked for, or the signer's pick
	ExpiresAt    uint64 // whole seconds since the epoch
}

// millis is a timeout in whole milliseconds for the C ABI: a positive duration under 1 ms is 1 ms,
// zero and negative ones stay 0 (the ABI refuses them), and very long ones are capped.
func millis(d time.Duration) C.uint32_t {
	switch {
	case d <= 0:
		return 0
	case d < time.Millisecond:
		return 1
	case d/time.Millisecond > math.MaxUint32:
		return math.MaxUint32
	}
	return C.uint32_t(d / time.Millisecond)
}

// NewSignerClient makes a client for the signer at address: a socket path, "unix:PATH", or
// "tcp:IP:PORT" with a loopback IP (frames are not encrypted: any other address is
// ErrMalformedInput). connectTimeout bounds opening a connection and requestTimeout each request,
// from sending it to the whole answer; both must be positive (core's defaults are 1 s and 5 s).
// Nothing connects yet: the first request does.
func NewSignerClient(address string, connectTimeout, requestTimeout time.Duration) (*SignerClient, error) {
	p, n := cText(address)
	var out *C.tc_signer_client
	var cerr *C.tc_error
	status := C.tc_signer_client_new(p, n, millis(connectTimeout), millis(requestTimeout), &out, &cerr)
	if err := toError(status, cerr); err != nil {
		return nil, err
	}
	c := &SignerClient{}
	c.n.ptr = out
	c.n.cleanup = runtime.AddCleanup(c, func(p *C.tc_signer_client) { C.tc_signer_client_free(p) }, out)
	return c, nil
}

// PublicKey asks the signer for the issuer's public key (hex) and its root key id (nil when the
// signer has none).
func (c *SignerClient) PublicKey() (publicHex string, keyID *uint32, err error) {
	defer runtime.KeepAlive(c)
	cC, err := c.acquire()
	if err != nil {
		return "", nil, err
	}
	defer c.release(cC)
	var out *C.tc_bytes
	var has C.bool
	var id C.uint32_t
	var cerr *C.tc_error
	if err := toError(C.tc_signer_client_public_key(cC, &out, &has, &id, &cerr), cerr); err != nil {
		return "", nil, err
	}
	publicHex = string(takeBytes(out))
	if bool(has) {
		v := uint32(id)
		keyID = &v
	}
	return publicHex, keyID, nil
}

// Mint asks the signer to mint a token bound to the holder's key. The signer's policy decides:
// ErrSignerRefused for a predicate it does not grant or an expiry past its maximum ttl.
func (c *SignerClient) Mint(r SignerMintRequest) (MintedToken, error) {
	defer runtime.KeepAlive(c)
	cC, err := c.acquire()
	if err != nil {
		return MintedToken{}, err
	}
	defer c.release(cC)
	var pin runtime.Pinner
	defer pin.Unpin()
	facts := cFacts(&pin, r.Facts)
	var req C.tc_mint_request // root_key_id stays unset: the signer writes its own
	req.public_hex, req.public_hex_len = pinText(&pin, r.PublicHex)
	req.holder_id, req.holder_id_len = pinText(&pin, r.HolderID)
	req.facts, req.facts_count = &facts[0], C.size_t(len(r.Facts))
	if r.RevocationID != "" {
		req.revocation_id.has = true
		req.revocation_id.value, req.revocation_id.len = pinText(&pin, r.RevocationID)
	}
	req.expires_at = C.double(r.ExpiresAt)
	req.delegation_depth = C.uint32_t(r.DelegationDepth)
	var token, revocationID *C.tc_bytes
	var expiresAt C.uint64_t
	var cerr *C.tc_error
	status := C.tc_signer_client_mint(cC, &req, &token, &revocationID, &expiresAt, &cerr)
	if err := toError(status, cerr); err != nil {
		return MintedToken{}, err
	}
	return MintedToken{Token: string(takeBytes(token)), RevocationID: string(takeBytes(revocationID)),
		ExpiresAt: uint64(expiresAt)}, nil
}

// SignJob asks the signer to sign job (a JSON object; its "sig" member is ignored) for workerID and
// returns the signature (hex) to store as the job's "sig", as IssuerKey.SignJob does in-process.
func (c *SignerClient) SignJob(job json.RawMessage, workerID string) (string, error) {
	defer runtime.KeepAlive(c)
	cC, err := c.acquire()
	if err != nil {
		return "", err
	}
	defer c.release(cC)
	jp, jn := cTextBytes(job)
	wp, wn := cText(workerID)
	var out *C.tc_bytes
	var cerr *C.tc_error
	if err := toError(C.tc_signer_client_sign_job(cC, jp, jn, wp, wn, &out, &cerr), cerr); err != nil {
		return "", err
	}
	return string(takeBytes(out)), nil
}

// Health is the signer's health report, a JSON object: "status" ("ok"), "public_key", "key_id",
// "version", and "audit" (its audit log's entries and head, or null without one).
func (c *SignerClient) Health() (json.RawMessage, error) {
	defer runtime.KeepAlive(c)
	cC, err := c.acquire()
	if err != nil {
		return nil, err
	}
	defer c.release(cC)
	var out *C.tc_bytes
	var cerr *C.tc_error
	if err := toError(C.tc_signer_client_health(cC, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	return takeBytes(out), nil
}

// Close releases the client and its connections now (see IssuerKey.Close): it waits for the calls
// in flight (a request waits at most the request timeout), and later ones are ErrMalformedInput.
func (c *SignerClient) Close() {
	if c != nil {
		c.n.close(func(p *C.tc_signer_client) { C.tc_signer_client_free(p) })
	}
}
