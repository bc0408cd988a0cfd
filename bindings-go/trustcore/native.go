package trustcore

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// closedFlag marks a native handle closed in native.state, far above any count of calls in flight.
const closedFlag = int64(1) << 62

// native is the native pointer a Go handle owns, shared by the calls that use it at once: each call
// holds it (acquire, then release once its cgo calls returned); close marks it closed, so a call
// that starts later gets the closed-handle error without reaching C, waits for the calls in flight
// to release it, and then frees it, exactly once. The C ABI cannot tell a freed pointer from a live
// one, so this is what keeps Close from freeing memory a call is still using.
//
// acquire never blocks (a closed handle is refused, not waited for), so a call may hold several
// handles, or the same one twice (a batch naming one Proof twice), without any lock order.
type native[P comparable] struct {
	ptr     P            // set when made, never changed: state says whether it is still live
	state   atomic.Int64 // calls in flight, plus closedFlag once close began
	mu      sync.Mutex   // close's hand-off with the last call out
	drained chan struct{}
	cleanup runtime.Cleanup // the collector's free, for a handle never closed
}

// closedError is a call on a closed handle: ErrMalformedInput, the code the C ABI gives a NULL
// handle (what every call on a closed handle returned before Close waited for calls in flight).
func closedError(what string) error {
	return &Error{Code: MalformedInput, Message: what + " is closed"}
}

// acquire holds the pointer for one call: nil and nil for a nil handle (the C ABI refuses NULL
// with MALFORMED_INPUT), nil and the closed-handle error once Close began. Every non-nil pointer it
// returns is given back to release.
func (n *native[P]) acquire(what string) (P, error) {
	var none P
	if n == nil {
		return none, nil
	}
	if n.state.Add(1)&closedFlag != 0 {
		n.leave()
		return none, closedError(what)
	}
	return n.ptr, nil
}

// release gives back a pointer acquire returned (nil: nothing was held).
func (n *native[P]) release(p P) {
	var none P
	if p != none {
		n.leave()
	}
}

func (n *native[P]) leave() {
	if n.state.Add(-1) == closedFlag {
		// the last call out of a closing handle: wake close (a buffered, non-blocking send, so a
		// refused acquire passing through zero as well does no harm)
		n.mu.Lock()
		select {
		case n.drained <- struct{}{}:
		default:
		}
		n.mu.Unlock()
	}
}

// close refuses new calls, waits for those in flight and frees the pointer; a second close (or one
// racing the first) returns at once and frees nothing.
func (n *native[P]) close(free func(P)) {
	var none P
	if n == nil {
		return
	}
	n.mu.Lock()
	if n.ptr == none || n.state.Load()&closedFlag != 0 {
		n.mu.Unlock()
		return
	}
	n.drained = make(chan struct{}, 1)
	inFlight := n.state.Add(closedFlag) != closedFlag
	n.mu.Unlock()
	if inFlight {
		<-n.drained
	}
	n.cleanup.Stop()
	free(n.ptr)
}
