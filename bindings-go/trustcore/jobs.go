package trustcore

/*
#include <trustcore.h>
*/
import "C"

import (
	"encoding/json"
	"runtime"
)

// SignJob signs job (a JSON object; its "sig" member is ignored) for workerID and returns the
// signature (hex) to store as the job's "sig".
func (k *IssuerKey) SignJob(job json.RawMessage, workerID string) (string, error) {
	defer runtime.KeepAlive(k)
	kC, err := k.acquire()
	if err != nil {
		return "", err
	}
	defer k.release(kC)
	jp, jn := cTextBytes(job)
	wp, wn := cText(workerID)
	return buffer(C.TC_SIGNATURE_HEX_SIZE, func(b *C.char, l C.size_t, n *C.size_t, e **C.tc_error) C.tc_status {
		return C.tc_sign_job(kC, jp, jn, wp, wn, b, l, n, e)
	})
}

// VerifyJob checks job["sig"] against the pinned issuer public key for workerID, then the job's
// terms at now (nil: the system clock): nil, or ErrJobInvalid for a missing, malformed or wrong
// signature, a job past its expires_at, and a single-use job (one with a nonce: only
// Verifier.VerifyJob can refuse its second use).
func VerifyJob(issuerPublicHex string, job json.RawMessage, workerID string, now *float64) error {
	ip, in := cText(issuerPublicHex)
	jp, jn := cTextBytes(job)
	wp, wn := cText(workerID)
	var cerr *C.tc_error
	return toError(C.tc_verify_job(ip, in, jp, jn, wp, wn, cNow(now), &cerr), cerr)
}

// VerifyJob checks a job as the package-level VerifyJob does, with the verifier's issuer key(s),
// and uses up a single-use job: one with a nonce is accepted once, then ErrReplayed on this verifier
// and every verifier sharing its Redis. The nonce is recorded only after the signature and expiry
// pass, and kept until the job expires (at most a day after now, else ErrJobInvalid).
func (v *Verifier) VerifyJob(job json.RawMessage, workerID string, now *float64) error {
	defer runtime.KeepAlive(v)
	vC, err := v.acquire()
	if err != nil {
		return err
	}
	defer v.release(vC)
	jp, jn := cTextBytes(job)
	wp, wn := cText(workerID)
	var cerr *C.tc_error
	return toError(C.tc_verifier_verify_job(vC, jp, jn, wp, wn, cNow(now), &cerr), cerr)
}
