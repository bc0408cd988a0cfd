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

// VerifyJob checks job["sig"] against the pinned issuer public key for workerID: nil, or
// ErrJobInvalid for a missing, malformed or wrong signature.
func VerifyJob(issuerPublicHex string, job json.RawMessage, workerID string) error {
	ip, in := cText(issuerPublicHex)
	jp, jn := cTextBytes(job)
	wp, wn := cText(workerID)
	var cerr *C.tc_error
	return toError(C.tc_verify_job(ip, in, jp, jn, wp, wn, &cerr), cerr)
}
