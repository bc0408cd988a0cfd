package trustcore

/*
#include <trustcore.h>
*/
import "C"

import (
	"runtime"
	"time"
)

// Limits are the authorizer's run limits; exceeding any is LIMIT_EXCEEDED, never a pass.
type Limits struct {
	MaxTime       time.Duration
	MaxFacts      uint64
	MaxIterations uint64
}

// DefaultLimits are the core's defaults: 10 ms, 1000 facts, 100 iterations.
func DefaultLimits() Limits {
	l := C.tc_limits_default()
	return Limits{
		MaxTime:       time.Duration(l.max_time_ns),
		MaxFacts:      uint64(l.max_facts),
		MaxIterations: uint64(l.max_iterations),
	}
}

// defaultLimits is read once: a nil *Limits costs no extra call into C per request.
var defaultLimits = C.tc_limits_default()

// orDefault is the C view of l, or the core's defaults when l is nil.
func (l *Limits) orDefault() C.tc_limits {
	if l == nil {
		return defaultLimits
	}
	maxTime := l.MaxTime
	if maxTime < 0 {
		maxTime = 0
	}
	return C.tc_limits{
		max_time_ns:    C.uint64_t(maxTime),
		max_facts:      C.uint64_t(l.MaxFacts),
		max_iterations: C.uint64_t(l.MaxIterations),
	}
}

// CheckPolicy makes one authorization decision: time(now), the request facts name("value") in
// order, the allow policy, then `deny if true`. nil when allowed; ErrDenied (expiry included),
// ErrLimitExceeded past the limits (nil = defaults), ErrMalformedInput for a bad name or policy.
func (t *Token) CheckPolicy(facts []Pair, allow string, now float64, limits *Limits) error {
	defer runtime.KeepAlive(t)
	var pin runtime.Pinner
	defer pin.Unpin()
	cf := cPairs(&pin, facts)
	al, alLen := cText(allow)
	cl := limits.orDefault()
	var cerr *C.tc_error
	return toError(C.tc_check_policy(t.handle(), &cf[0], C.size_t(len(facts)), al, alLen, C.double(now), &cl, &cerr), cerr)
}

// AuthorizeOptions tune Authorize. A nil Now adds no time fact; nil Limits means the defaults.
type AuthorizeOptions struct {
	Now             *float64
	Limits          *Limits
	ExternFunctions []string // Datalog extern functions to enable, by name (known: "test")
}

// Authorize runs any authorizer code (facts, rules, checks, policies) against the token and returns
// the index of the allow policy that matched.
func (t *Token) Authorize(code string, opts AuthorizeOptions) (int, error) {
	defer runtime.KeepAlive(t)
	var pin runtime.Pinner
	defer pin.Unpin()
	cd, cdLen := cText(code)
	cl := opts.Limits.orDefault()
	externs := cStrs(&pin, opts.ExternFunctions)
	var now *C.double
	if opts.Now != nil {
		v := C.double(*opts.Now)
		now = &v
	}
	var policy C.size_t
	var cerr *C.tc_error
	status := C.tc_authorize(t.handle(), cd, cdLen, now, &cl, &externs[0], C.size_t(len(opts.ExternFunctions)), &policy, &cerr)
	if err := toError(status, cerr); err != nil {
		return 0, err
	}
	return int(policy), nil
}
