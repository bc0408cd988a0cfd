package trustcore

/*
#include <trustcore.h>
*/
import "C"

import "fmt"

// Code is a stable error code of docs/DESIGN.md §5; its number is the C tc_status.
type Code uint32

const (
	MalformedInput    Code = C.TC_MALFORMED_INPUT
	TokenInvalid      Code = C.TC_TOKEN_INVALID
	TokenUnbound      Code = C.TC_TOKEN_UNBOUND
	Revoked           Code = C.TC_REVOKED
	StaleRequest      Code = C.TC_STALE_REQUEST
	Replayed          Code = C.TC_REPLAYED
	PopFailed         Code = C.TC_POP_FAILED
	Denied            Code = C.TC_DENIED
	LimitExceeded     Code = C.TC_LIMIT_EXCEEDED
	JobInvalid        Code = C.TC_JOB_INVALID
	FrameInvalid      Code = C.TC_FRAME_INVALID
	SignerUnavailable Code = C.TC_SIGNER_UNAVAILABLE
	SignerRefused     Code = C.TC_SIGNER_REFUSED
	StoreUnavailable  Code = C.TC_STORE_UNAVAILABLE
	Internal          Code = C.TC_INTERNAL
	WrongAudience     Code = C.TC_WRONG_AUDIENCE
	DelegationInvalid Code = C.TC_DELEGATION_INVALID
)

// String is the code's name, as every binding spells it ("DENIED").
func (c Code) String() string { return C.GoString(C.tc_status_name(C.uint32_t(c))) }

// Error is a failed trustcore call: a stable code and a message for logs (never a secret). Compare
// codes, not messages.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Is makes errors.Is(err, ErrDenied) (or any *Error with the same code) true.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// One sentinel per code, for errors.Is.
var (
	ErrMalformedInput    = &Error{Code: MalformedInput}
	ErrTokenInvalid      = &Error{Code: TokenInvalid}
	ErrTokenUnbound      = &Error{Code: TokenUnbound}
	ErrRevoked           = &Error{Code: Revoked}
	ErrStaleRequest      = &Error{Code: StaleRequest}
	ErrReplayed          = &Error{Code: Replayed}
	ErrPopFailed         = &Error{Code: PopFailed}
	ErrDenied            = &Error{Code: Denied}
	ErrLimitExceeded     = &Error{Code: LimitExceeded}
	ErrJobInvalid        = &Error{Code: JobInvalid}
	ErrFrameInvalid      = &Error{Code: FrameInvalid}
	ErrSignerUnavailable = &Error{Code: SignerUnavailable}
	ErrSignerRefused     = &Error{Code: SignerRefused}
	ErrStoreUnavailable  = &Error{Code: StoreUnavailable}
	ErrInternal          = &Error{Code: Internal}
	ErrWrongAudience     = &Error{Code: WrongAudience}
	ErrDelegationInvalid = &Error{Code: DelegationInvalid}
)

// toError turns a status and its details into an error (nil for TC_OK) and frees the details.
func toError(status C.tc_status, details *C.tc_error) error {
	if details != nil { // a successful call leaves none: no call into C for nothing
		defer C.tc_error_free(details)
	}
	if status == C.TC_OK {
		return nil
	}
	return &Error{Code: Code(status), Message: C.GoString(C.tc_error_message(details))}
}
