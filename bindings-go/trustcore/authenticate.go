package trustcore

/*
#include <trustcore.h>
*/
import "C"

import "runtime"

// AuthenticateOptions are the verifier's settings for one request.
type AuthenticateOptions struct {
	Now            float64 // the verifier's clock, seconds since the epoch (see NowSeconds)
	MaxSkewSeconds float64 // allowed clock skew, either way
	Limits         *Limits // MaxTokenBytes applies here (no Datalog runs); nil = defaults
	// Revoked is the deny-list. The core reads it before anything else and takes each id in its one
	// spelling: hex in upper case is the same id; an empty id, one holding whitespace or a control
	// character, or hex behind "0x" makes the call fail with ErrMalformedInput (never kept
	// unmatched). Pass ids as issued or as Token.RevocationIDs returns them.
	Revoked []string
}

// Authenticate checks one request, cheapest step first, failing closed: the token verifies against
// keys (ErrTokenInvalid), binds one holder (ErrTokenUnbound), is not revoked (ErrRevoked), the
// timestamp is fresh (ErrStaleRequest), the issuer's expiry has not passed (ErrTokenInvalid) and the
// holder's signature verifies (ErrPopFailed); a token over Limits.MaxTokenBytes is ErrLimitExceeded
// before it is decoded. Nothing a holder appended runs here (CheckPolicy runs it, within the limits).
// It returns the verified token (for CheckPolicy) and who made the request.
func Authenticate(keys *IssuerKeys, proof *Proof, r Request, opts AuthenticateOptions) (*Token, Identity, error) {
	defer runtime.KeepAlive(keys)
	defer runtime.KeepAlive(proof)
	keysC, err := keys.acquire()
	if err != nil {
		return nil, Identity{}, err
	}
	defer keys.release(keysC)
	proofC, err := proof.acquire()
	if err != nil {
		return nil, Identity{}, err
	}
	defer proof.release(proofC)
	var pin runtime.Pinner
	defer pin.Unpin()
	req := cRequest(&pin, &r)
	revoked := cStrs(&pin, opts.Revoked)
	options := C.tc_authenticate_options{
		now:              C.double(opts.Now),
		max_skew_seconds: C.double(opts.MaxSkewSeconds),
		limits:           opts.Limits.orDefault(),
	}
	var token *C.tc_token
	var identity *C.tc_identity
	var cerr *C.tc_error
	status := C.tc_authenticate(keysC, proofC, &req, &revoked[0], C.size_t(len(opts.Revoked)), &options,
		&token, &identity, &cerr)
	if err := toError(status, cerr); err != nil {
		return nil, Identity{}, err
	}
	return newToken(token), takeIdentity(identity), nil
}
