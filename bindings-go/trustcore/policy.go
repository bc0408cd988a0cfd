package trustcore

/*
#include <trustcore.h>
*/
import "C"

import (
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Limits are the authorizer's run limits, and the budget a token must fit before any of its Datalog
// runs (its size, its blocks, what each block and each body holds, appended regular expressions, an
// estimate of the join work); exceeding any is ErrLimitExceeded, never a pass.
//
// Every field is optional: a nil field keeps the core's default, a set one is passed as it is (zero
// included: a zero limit refuses everything it bounds). So a literal names only what it changes,
//
//	limits := &trustcore.Limits{MaxTime: trustcore.Duration(50 * time.Millisecond), MaxFacts: trustcore.Uint64(5000)}
//
// and keeps the core's defaults for the rest; a nil *Limits (or Limits{}) is the defaults. Set a field
// to a new pointer (Duration, Uint64, Bool) rather than writing through one: DefaultLimits() returns
// fresh pointers, but a copied Limits shares them with its original.
type Limits struct {
	MaxTime       *time.Duration // time one authorization may take (default 10 ms; 0 is always exceeded)
	MaxFacts      *uint64        // facts the authorizer may hold, derived ones included (default 1000)
	MaxIterations *uint64        // rule-evaluation iterations (default 100)
	// MaxTokenBytes is the largest token accepted, in bytes of its base64 text, checked before it is
	// decoded (default 32768).
	MaxTokenBytes *uint64
	MaxBlocks     *uint64 // blocks in a token, the authority block included (default 32)
	MaxBlockFacts *uint64 // facts written in one block (default 1000)
	MaxBlockRules *uint64 // rules plus checks written in one block (default 64)
	MaxBodyAtoms  *uint64 // predicates in one rule, check or policy body (default 32)
	MaxBodyOps    *uint64 // expression operations in one body (default 128)
	// MaxJoinSize bounds the join-size estimate of every body of the token and the authorizer
	// together (default 10000).
	MaxJoinSize *uint64
	// AllowAppendedRegex lets a block a holder appended use a regular expression (default false).
	AllowAppendedRegex *bool
}

// Duration is a pointer to d, for Limits.MaxTime.
func Duration(d time.Duration) *time.Duration { return &d }

// Uint64 is a pointer to n, for the counting fields of Limits.
func Uint64(n uint64) *uint64 { return &n }

// Bool is a pointer to b, for Limits.AllowAppendedRegex.
func Bool(b bool) *bool { return &b }

// DefaultLimits are the core's defaults (read from the library, never copied here), every field set:
// 10 ms, 1000 facts, 100 iterations; a token of at most 32 KiB and 32 blocks, 1000 facts and 64 rules
// or checks per block, 32 atoms and 128 operations per body, a join estimate of 10 000, no regular
// expression in an appended block.
func DefaultLimits() Limits {
	return goLimits(C.tc_limits_default())
}

// goLimits is the Go view of C limits, every field set.
func goLimits(l C.tc_limits) Limits {
	return Limits{
		MaxTime:            Duration(time.Duration(l.max_time_ns)),
		MaxFacts:           Uint64(uint64(l.max_facts)),
		MaxIterations:      Uint64(uint64(l.max_iterations)),
		MaxTokenBytes:      Uint64(uint64(l.max_token_bytes)),
		MaxBlocks:          Uint64(uint64(l.max_blocks)),
		MaxBlockFacts:      Uint64(uint64(l.max_block_facts)),
		MaxBlockRules:      Uint64(uint64(l.max_block_rules)),
		MaxBodyAtoms:       Uint64(uint64(l.max_body_atoms)),
		MaxBodyOps:         Uint64(uint64(l.max_body_ops)),
		MaxJoinSize:        Uint64(uint64(l.max_join_size)),
		AllowAppendedRegex: Bool(bool(l.allow_appended_regex)),
	}
}

// String shows the fields that are set ("MaxTime=10ms MaxFacts=1000 …"), "defaults" when none is.
func (l Limits) String() string {
	var parts []string
	if l.MaxTime != nil {
		parts = append(parts, "MaxTime="+l.MaxTime.String())
	}
	for _, f := range []struct {
		name  string
		value *uint64
	}{
		{"MaxFacts", l.MaxFacts}, {"MaxIterations", l.MaxIterations}, {"MaxTokenBytes", l.MaxTokenBytes},
		{"MaxBlocks", l.MaxBlocks}, {"MaxBlockFacts", l.MaxBlockFacts}, {"MaxBlockRules", l.MaxBlockRules},
		{"MaxBodyAtoms", l.MaxBodyAtoms}, {"MaxBodyOps", l.MaxBodyOps}, {"MaxJoinSize", l.MaxJoinSize},
	} {
		if f.value != nil {
			parts = append(parts, f.name+"="+strconv.FormatUint(*f.value, 10))
		}
	}
	if l.AllowAppendedRegex != nil {
		parts = append(parts, "AllowAppendedRegex="+strconv.FormatBool(*l.AllowAppendedRegex))
	}
	if len(parts) == 0 {
		return "defaults"
	}
	return strings.Join(parts, " ")
}

// defaultLimits is read once: a nil *Limits (or an unset field) costs no extra call into C.
var defaultLimits = C.tc_limits_default()

// orDefault is the C view of l: the core's defaults, with each field l sets in their place. A
// negative MaxTime is passed as what it is in two's complement, a duration far over core's bound
// of a day: core refuses it (MALFORMED_INPUT), as every language's out-of-range setting.
func (l *Limits) orDefault() C.tc_limits {
	c := defaultLimits
	if l == nil {
		return c
	}
	if l.MaxTime != nil {
		c.max_time_ns = C.uint64_t(uint64(*l.MaxTime))
	}
	for _, f := range []struct {
		set   *uint64
		field *C.uint64_t
	}{
		{l.MaxFacts, &c.max_facts}, {l.MaxIterations, &c.max_iterations}, {l.MaxTokenBytes, &c.max_token_bytes},
		{l.MaxBlocks, &c.max_blocks}, {l.MaxBlockFacts, &c.max_block_facts}, {l.MaxBlockRules, &c.max_block_rules},
		{l.MaxBodyAtoms, &c.max_body_atoms}, {l.MaxBodyOps, &c.max_body_ops}, {l.MaxJoinSize, &c.max_join_size},
	} {
		if f.set != nil {
			*f.field = C.uint64_t(*f.set)
		}
	}
	if l.AllowAppendedRegex != nil {
		c.allow_appended_regex = C.bool(*l.AllowAppendedRegex)
	}
	return c
}

// CheckPolicy makes one authorization decision: time(now), the request facts name("value") in
// order, the allow policy, then `deny if true`. Request fact names must start with "req_"
// (req_operation, req_right…), a namespace no token can carry. nil when allowed; ErrDenied (expiry
// included), ErrLimitExceeded when the token (with the facts and the policy) is over the budget of
// limits (nil = defaults) or the run is past them, ErrMalformedInput for a bad name or policy.
func (t *Token) CheckPolicy(facts []Pair, allow string, now float64, limits *Limits) error {
	defer runtime.KeepAlive(t)
	tC, err := t.acquire()
	if err != nil {
		return err
	}
	defer t.release(tC)
	var pin runtime.Pinner
	defer pin.Unpin()
	cf := cPairs(&pin, facts)
	al, alLen := cText(allow)
	cl := limits.orDefault()
	var cerr *C.tc_error
	return toError(C.tc_check_policy(tC, &cf[0], C.size_t(len(facts)), al, alLen, C.double(now), &cl, &cerr), cerr)
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
	tC, err := t.acquire()
	if err != nil {
		return 0, err
	}
	defer t.release(tC)
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
	status := C.tc_authorize(tC, cd, cdLen, now, &cl, &externs[0], C.size_t(len(opts.ExternFunctions)), &policy, &cerr)
	if err := toError(status, cerr); err != nil {
		return 0, err
	}
	return int(policy), nil
}
