package trustcore

/*
#include <trustcore.h>
*/
import "C"

import "runtime"

// DelegateRequest says what a holder delegates, and to whom (docs/DESIGN.md §3.13).
type DelegateRequest struct {
	// ToPublicHex is the next holder's public key (64 hex digits): only its key can use the
	// delegated token.
	ToPublicHex string
	// ToHolderID is the id the next holder is known by (the identity's HolderID when it calls).
	ToHolderID string
	// Checks are Datalog checks narrowing what the next holder may do ("check if …;", any number,
	// maybe none); facts, rules and scopes are ErrMalformedInput.
	Checks string
	// ExpiresAt is seconds since the epoch (cut to whole seconds), no later than the token's own
	// expiry.
	ExpiresAt float64
}

// Holder is one holder of a delegation chain (Identity.Chain).
type Holder struct {
	HolderID        string
	HolderPublicHex string
}

// Delegate hands token (URL-safe base64), held by key, to another holder's key: it returns the
// token with one more block, a Biscuit third-party block signed with key that names the next
// holder's key and id and carries req.Checks and the expiry. Offline: no issuer key, no signer.
// Only the next holder's key can then prove possession with it; the identity a verifier returns
// names that holder, and Identity.Chain every holder in order. A delegate can only narrow: what it
// writes grants nothing.
//
// ErrTokenInvalid for a token that does not parse, ErrTokenUnbound for one that binds no holder;
// ErrMalformedInput when key is not the token's current holder (the last of its chain), for a
// malformed request (a key that is not 64 hex digits, checks that do not parse or carry facts,
// rules or scopes) or an expiry later than the token's; ErrDelegationInvalid when the token allows
// no further link (the issuer's MintRequest.DelegationDepth, 0 unless it set one, is used up) or
// its chain is broken.
func Delegate(token string, key *WorkerKey, req DelegateRequest) (string, error) {
	defer runtime.KeepAlive(key)
	kC, err := key.acquire()
	if err != nil {
		return "", err
	}
	defer key.release(kC)
	var pin runtime.Pinner
	defer pin.Unpin()
	var r C.tc_delegate_request
	r.to_public_hex, r.to_public_hex_len = pinText(&pin, req.ToPublicHex)
	r.to_holder_id, r.to_holder_id_len = pinText(&pin, req.ToHolderID)
	r.checks, r.checks_len = pinText(&pin, req.Checks)
	r.expires_at = C.double(req.ExpiresAt)
	tp, tn := cText(token)
	var out *C.tc_bytes
	var cerr *C.tc_error
	if err := toError(C.tc_delegate(tp, tn, kC, &r, &out, &cerr), cerr); err != nil {
		return "", err
	}
	return string(takeBytes(out)), nil
}
