package trustcore

/*
#include <trustcore.h>
*/
import "C"

import (
	"runtime"
	"time"
)

// Limits are the authorizer's run limits, and the budget a token must fit before any of its Datalog
// runs (its size, its blocks, what each block and each body holds, appended regular expressions, an
// estimate of the join work); exceeding any is ErrLimitExceeded, never a pass. Every field is passed
// as it is (a zero field is a zero limit): start from DefaultLimits() and change what you need. A nil
// *Limits means the defaults.
type Limits struct {
	MaxTime       time.Duration // time one authorization may take (default 10 ms; 0 is always exceeded)
	MaxFacts      uint64        // facts the authorizer may hold, derived ones included (default 1000)
	MaxIterations uint64        // rule-evaluation iterations (default 100)
	// MaxTokenBytes is the largest token accepted, in bytes of its base64 text, checked before it is
	// decoded (default 32768).
	MaxTokenBytes uint64
	MaxBlocks     uint64 // blocks in a token, the authority block included (default 32)
	MaxBlockFacts uint64 // facts written in one block (default 1000)
	MaxBlockRules uint64 // rules plus checks written in one block (default 64)
	MaxBodyAtoms  uint64 // predicates in one rule, check or policy body (default 32)
	MaxBodyOps    uint64 // expression operations in one body (default 128)
	// MaxJoinSize bounds the join-size estimate of every body of the token and the authorizer
	// together (default 10000).
	MaxJoinSize uint64
	// AllowAppendedRegex lets a block a holder appended use a regular expression (default false).
	AllowAppendedRegex bool
}

// DefaultLimits are the core's defaults (read from the library, never copied here): 10 ms, 1000
// facts, 100 iterations; a token of at most 32 KiB and 32 blocks, 1000 facts and 64 rules or checks
// per block, 32 atoms and 128 operations per body, a join estimate of 10 000, no regular expression
// in an appended block.
func DefaultLimits() Limits {
	return goLimits(C.tc_limits_default())
}

// goLimits is the Go view of C limits.
func goLimits(l C.tc_limits) Limits {
	return Limits{
		MaxTime:            time.Duration(l.max_time_ns),
		MaxFacts:           uint64(l.max_facts),
		MaxIterations:      uint64(l.max_iterations),
		MaxTokenBytes:      uint64(l.max_token_bytes),
		MaxBlocks:          uint64(l.max_blocks),
		MaxBlockFacts:      uint64(l.max_block_facts),
		MaxBlockRules:      uint64(l.max_block_rules),
		MaxBodyAtoms:       uint64(l.max_body_atoms),
		MaxBodyOps:         uint64(l.max_body_ops),
		MaxJoinSize:        uint64(l.max_join_size),
		AllowAppendedRegex: bool(l.allow_appended_regex),
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
		max_time_ns:          C.uint64_t(maxTime),
		max_facts:            C.uint64_t(l.MaxFacts),
		max_iterations:       C.uint64_t(l.MaxIterations),
		max_token_bytes:      C.uint64_t(l.MaxTokenBytes),
		max_blocks:           C.uint64_t(l.MaxBlocks),
		max_block_facts:      C.uint64_t(l.MaxBlockFacts),
		max_block_rules:      C.uint64_t(l.MaxBlockRules),
		max_body_atoms:       C.uint64_t(l.MaxBodyAtoms),
		max_body_ops:         C.uint64_t(l.MaxBodyOps),
		max_join_size:        C.uint64_t(l.MaxJoinSize),
		allow_appended_regex: C.bool(l.AllowAppendedRegex),
	}
}

// CheckPolicy makes one authorization decision: time(now), the request facts name("value") in
// order, the allow policy, then `deny if true`. nil when allowed; ErrDenied (expiry included),
// ErrLimitExceeded when the token (with the facts and the policy) is over the budget of limits (nil =
// defaults) or the run is past them, ErrMalformedInput for a bad name or policy.
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
