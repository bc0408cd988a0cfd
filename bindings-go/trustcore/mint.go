package trustcore

/*
#include <trustcore.h>
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// Fact is one app fact predicate and its values: lane("a"), lane("b"). The predicate may not be a
// reserved name nor start with "req_" (request facts' own namespace).
type Fact struct {
	Predicate string
	Values    []string
}

// MintRequest says what to mint. Facts keep their order; values are sorted within a predicate.
type MintRequest struct {
	PublicHex    string // the holder's public key
	HolderID     string
	Facts        []Fact
	RevocationID string  // in its canonical form ("rev-1", hex in lower case), else ErrMalformedInput
	ExpiresAt    float64 // seconds since the epoch
	RootKeyID    *uint32 // for issuer key rotation
	// DelegationDepth is how many delegation links (Delegate) the token allows, at most 8 (else
	// ErrMalformedInput); 0, the default, writes nothing: the token cannot be delegated.
	DelegationDepth uint32
}

// Mint mints a token (URL-safe base64) bound to the holder's key.
func (k *IssuerKey) Mint(r MintRequest) (string, error) {
	defer runtime.KeepAlive(k)
	kC, err := k.acquire()
	if err != nil {
		return "", err
	}
	defer k.release(kC)
	var pin runtime.Pinner
	defer pin.Unpin()
	facts := cFacts(&pin, r.Facts)
	var req C.tc_mint_request
	req.public_hex, req.public_hex_len = pinText(&pin, r.PublicHex)
	req.holder_id, req.holder_id_len = pinText(&pin, r.HolderID)
	req.facts, req.facts_count = &facts[0], C.size_t(len(r.Facts))
	req.revocation_id.has = true // always named in process: "" is core's MALFORMED_INPUT
	req.revocation_id.value, req.revocation_id.len = pinText(&pin, r.RevocationID)
	req.expires_at = C.double(r.ExpiresAt)
	if r.RootKeyID != nil {
		req.root_key_id.has, req.root_key_id.value = true, C.uint32_t(*r.RootKeyID)
	}
	req.delegation_depth = C.uint32_t(r.DelegationDepth)
	var out *C.tc_bytes
	var cerr *C.tc_error
	if err := toError(C.tc_mint_biscuit(kC, &req, &out, &cerr), cerr); err != nil {
		return "", err
	}
	return string(takeBytes(out)), nil
}

// cFacts builds the C view of facts (one spare element, so &facts[0] is valid for none); every
// string and array is pinned until pin.Unpin. Used by IssuerKey.Mint and SignerClient.Mint.
func cFacts(pin *runtime.Pinner, facts []Fact) []C.tc_mint_fact {
	out := make([]C.tc_mint_fact, len(facts)+1)
	for i, f := range facts {
		values := cStrs(pin, f.Values)
		pin.Pin(&values[0])
		out[i].predicate, out[i].predicate_len = pinText(pin, f.Predicate)
		out[i].values = (*C.tc_str)(unsafe.Pointer(&values[0]))
		out[i].values_count = C.size_t(len(f.Values))
	}
	pin.Pin(&out[0])
	return out
}
