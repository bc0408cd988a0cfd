package trustcore

/*
#include <string.h>
#include <trustcore.h>

// What Go reads of one request's outcome: its status, its token (owned, on TC_OK), the lengths
// of its texts, laid end to end in the text buffer in request order: on TC_OK the holder id, the
// holder public key (hex) and the revocation id; on a refusal the message alone (len[0]); and on
// TC_OK the length of its identity's delegation chain (1 for a token never delegated).
typedef struct tc_go_batch_item {
	tc_status status;
	tc_token *token;
	size_t len[3];
	size_t chain_count;
} tc_go_batch_item;

// Copy every request's texts into buf (buf_len bytes, which tc_go_batch_fill sized), then free the
// result.
static void tc_go_batch_text(tc_batch_result *result, const tc_go_batch_item *items, char *buf) {
	size_t count = tc_batch_result_count(result), at = 0;
	for (size_t i = 0; i < count; i++) {
		if (items[i].status == TC_OK) {
			const tc_identity *id = tc_batch_result_identity(result, i);
			tc_str parts[3] = {tc_identity_holder_id(id), tc_identity_holder_public_hex(id),
			                   tc_identity_revocation_id(id)};
			for (int k = 0; k < 3; k++) {
				memcpy(buf + at, parts[k].ptr, parts[k].len);
				at += parts[k].len;
			}
		} else {
			const char *message = tc_batch_result_message(result, i);
			memcpy(buf + at, message, items[i].len[0]);
			at += items[i].len[0];
		}
	}
	tc_batch_result_free(result);
}

// The whole batch in one call from Go: authenticate, then each request's status, token and text
// lengths into items, and the texts into buf when they fit in buf_len bytes (the result is freed
// then, *kept NULL). When they do not, or when a token was delegated (its chain is read from the
// result), *kept is the result: Go reads the chains, sizes a buffer with *needed and calls
// tc_go_batch_text. A status other than TC_OK is the call's own failure (err set).
static tc_status tc_go_authenticate_batch(const tc_verifier *verifier, const tc_proof *const *proofs,
                                          const tc_request *requests, size_t count, const double *now,
                                          tc_go_batch_item *items, char *buf, size_t buf_len, size_t *needed,
                                          tc_batch_result **kept, tc_error **err) {
	tc_batch_result *result = NULL;
	*kept = NULL;
	*needed = 0;
	tc_status st = tc_verifier_authenticate_batch(verifier, proofs, requests, count, now, &result, err);
	if (st != TC_OK) return st;
	size_t total = 0;
	bool delegated = false;
	for (size_t i = 0; i < count; i++) {
		tc_go_batch_item *item = &items[i];
		item->status = tc_batch_result_status(result, i);
		item->token = NULL;
		item->chain_count = 0;
		if (item->status == TC_OK) {
			tc_batch_result_token(result, i, &item->token, NULL);
			const tc_identity *id = tc_batch_result_identity(result, i);
			item->len[0] = tc_identity_holder_id(id).len;
			item->len[1] = tc_identity_holder_public_hex(id).len;
			item->len[2] = tc_identity_revocation_id(id).len;
			item->chain_count = tc_identity_chain_count(id);
			delegated = delegated || item->chain_count > 1;
		} else {
			item->len[0] = strlen(tc_batch_result_message(result, i));
			item->len[1] = item->len[2] = 0;
		}
		total += item->len[0] + item->len[1] + item->len[2];
	}
	*needed = total;
	if (total > buf_len || delegated) {
		*kept = result;
		return TC_OK;
	}
	tc_go_batch_text(result, items, buf);
	return TC_OK;
}
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// BatchRequest is one request of a batch: its proof and the request it signs.
type BatchRequest struct {
	Proof   *Proof
	Request Request
}

// BatchResult is one request's outcome: on success its Token (shared with the verifier's cache)
// and Identity; otherwise Err, the *Error that Verifier.Authenticate would have returned for it
// alone (errors.Is(r.Err, ErrReplayed) works).
type BatchResult struct {
	Token    *Token
	Identity Identity
	Err      error
}

// batchTextGuess is the text buffer's first size per request: an identity (a 64-digit key, a
// holder id and a revocation id) or a message. Longer texts cost a second cgo call, nothing else.
const batchTextGuess = 192

// AuthenticateBatch authenticates many requests at once, in one cgo call: one result per request,
// in order, each what Authenticate would have returned for it alone. Every request goes through
// Authenticate's checks; the proofs of those that reach that step are checked together with one
// Ed25519 batch verification (about half the cost of checking them one by one), and when that
// fails each is checked on its own (strict) to name the failing ones. Nonces are recorded in order,
// so a (holder, nonce) pair used twice in one batch is ErrReplayed the second time, before any
// signature work. now nil is the system clock, read once for the whole batch. A nil Proof is that
// request's ErrMalformedInput.
//
// Batch verification is not strict verification: it accepts a signature that strict checking
// refuses only when the holder built it with small-order components, which needs the holder's own
// key (no one else can forge one). Where that matters, use Authenticate.
//
// The error is the call's own, with no results: ErrLimitExceeded for a batch of more than the
// verifier's MaxBatchRequests requests or MaxBatchBodyBytes of bodies (refused whole, before any
// work: no nonce is spent), ErrMalformedInput for a closed Verifier. An empty batch is an empty
// result.
func (v *Verifier) AuthenticateBatch(reqs []BatchRequest, now *float64) ([]BatchResult, error) {
	return v.authenticateBatch(reqs, now, batchTextGuess)
}

func (v *Verifier) authenticateBatch(reqs []BatchRequest, now *float64, guess int) ([]BatchResult, error) {
	if len(reqs) == 0 {
		return []BatchResult{}, nil
	}
	defer runtime.KeepAlive(v)
	defer runtime.KeepAlive(reqs) // and so every Proof it holds
	var pin runtime.Pinner
	defer pin.Unpin()
	vC, err := v.acquire()
	if err != nil {
		return nil, err
	}
	defer v.release(vC)
	proofs := make([]*C.tc_proof, len(reqs))
	requests := make([]C.tc_request, len(reqs))
	defer func() {
		for i := range reqs {
			reqs[i].Proof.release(proofs[i])
		}
	}()
	for i := range reqs {
		// a closed Proof reaches C as NULL: that request's ErrMalformedInput, as a nil one is
		proofs[i], _ = reqs[i].Proof.acquire()
		requests[i] = cRequest(&pin, &reqs[i].Request)
	}
	items := make([]C.tc_go_batch_item, len(reqs))
	buf := make([]byte, guess*len(reqs)+1)
	var needed C.size_t
	var kept *C.tc_batch_result
	var cerr *C.tc_error
	status := C.tc_go_authenticate_batch(vC, &proofs[0], &requests[0], C.size_t(len(reqs)), cNow(now), &items[0],
		(*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &needed, &kept, &cerr)
	if err := toError(status, cerr); err != nil {
		return nil, err
	}
	results := make([]BatchResult, len(reqs))
	if kept != nil {
		// the chains of delegated tokens first: tc_go_batch_text frees the result
		for i, item := range items {
			if item.status == C.TC_OK && item.chain_count > 1 {
				results[i].Identity.Chain = chainOf(C.tc_batch_result_identity(kept, C.size_t(i)), item.chain_count,
					Identity{})
			}
		}
		if int(needed) >= len(buf) {
			buf = make([]byte, int(needed)+1)
		}
		C.tc_go_batch_text(kept, &items[0], (*C.char)(unsafe.Pointer(&buf[0])))
	}
	text := string(buf[:needed]) // one copy for every text: the fields below are slices of it
	at := 0
	next := func(n C.size_t) string {
		s := text[at : at+int(n)]
		at += int(n)
		return s
	}
	for i, item := range items {
		if item.status != C.TC_OK {
			results[i].Err = &Error{Code: Code(item.status), Message: next(item.len[0])}
			continue
		}
		results[i].Token = newToken(item.token)
		id := Identity{HolderID: next(item.len[0]), HolderPublicHex: next(item.len[1]),
			RevocationID: next(item.len[2]), Chain: results[i].Identity.Chain}
		if id.Chain == nil {
			id.Chain = chainOf(nil, item.chain_count, id)
		}
		results[i].Identity = id
	}
	return results, nil
}
