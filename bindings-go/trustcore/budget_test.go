package trustcore

// The budget a token must fit (Limits), the token cache's bounds and admission, and the expiry
// authenticate reads: every field reaches the core and has its effect. Codes only, never timings.

import (
	"errors"
	"testing"
	"time"
)

// regexToken is signed by the fixture's issuer (seed 11…) for its worker (seed 22…): an authority
// block like the fixture's (expiring at fixtureNow + 3600), then an appended block
// `check if req_operation($o), $o.matches("^lea");` (made once with trustcore-core's mint_biscuit and
// biscuit-auth 6's append: appended blocks use random ephemeral keys, so it is kept as it was made).
// tests/c/misuse.c has the same.
const regexToken = "EsgCCt0BCgp3b3JrZXJfa2V5CkBhMDlhYTVmNDdhNjc1OTgwMmZmOTU1ZjhkYzJkMmExNGE1Yzk5ZDIzYmU5N2Y4NjQxMjdmZjkzODM0NTVhNG" +
	"YwCgl3b3JrZXJfaWQKBWdwdS0xCgRsYW5lCgNncHUKCnJldm9jYXRpb24KBXJldi0xCgF0GAMiCgoICIAIEgMYgQgiCgoICIIIEgMYgwgiCgoI" +
	"CIQIEgMYhQgiCgoICIYIEgMYhwgyKAomCgIIGxIHCAUSAwiICBoXCgUKAwiICAoICgYgkP7PqgYKBBoCCAISJAgAEiBmjXRgJc5MQHwF7wPS39" +
	"54ImozQNCpnQKyMT9gx-RyeRpAL8sREdnjYJMvFwW01s4Lg4u4HVUMwky_r-9ygxW4dCUR1p803eGXxJ40vDvj1EZOVxKW_R1SbDLfCtVj4x1d" +
	"BRqsAQpCCg1yZXFfb3BlcmF0aW9uCgFvCgRebGVhGAMyJgokCgIIGxIICIkIEgMIiggaFAoFCgMIiggKBQoDGIsICgQaAggIEiQIABIgIWIbAl" +
	"Jg2bqyXrzWo2YIc3ajSYIP1u1jyamp47F0YtcaQPy7PbL3ZLolcFCshm9FBjUqOlTR67HsVhnbRVu2sgZyOZPObyO001VJooKtatJ_j-mOmTfV" +
	"Nu4xso14C1Y6dgYiIgogVOrMNvXyQuexNEnLfiPHIzAGVL_EjkYTgnMNhS8GHYY="

func wantCodeOf(t *testing.T, what string, err error, want *Error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Errorf("%s: want success, got %v", what, err)
	case want != nil && !errors.Is(err, want):
		t.Errorf("%s: want %v, got %v", what, want.Code, err)
	}
}

// TestDefaultLimits: DefaultLimits is the core's Limits::DEFAULT, read through the library, every
// field set.
func TestDefaultLimits(t *testing.T) {
	got := DefaultLimits()
	want := Limits{MaxTime: Duration(10_000_000), MaxFacts: Uint64(1000), MaxIterations: Uint64(100),
		MaxTokenBytes: Uint64(32768), MaxBlocks: Uint64(32), MaxBlockFacts: Uint64(1000), MaxBlockRules: Uint64(64),
		MaxBodyAtoms: Uint64(32), MaxBodyOps: Uint64(128), MaxJoinSize: Uint64(10_000), AllowAppendedRegex: Bool(false)}
	if got.String() != want.String() {
		t.Fatalf("DefaultLimits() = %v, want %v", got, want)
	}
	var none *Limits
	if none.orDefault() != got.orDefault() || (&Limits{}).orDefault() != got.orDefault() {
		t.Fatal("a nil *Limits, or one with no field set, is not the defaults")
	}
	if DefaultLimits().MaxTime == got.MaxTime {
		t.Fatal("DefaultLimits shares its pointers between calls")
	}
}

// TestLimitsUnsetFieldsKeepTheDefaults: a literal naming only some fields keeps the core's defaults
// for the others (were an unset field a zero limit, it would refuse every token); a field set to
// zero is a zero limit.
func TestLimitsUnsetFieldsKeepTheDefaults(t *testing.T) {
	f := newFixture(t)
	token, err := ParseToken(f.trusted, f.token)
	if err != nil {
		t.Fatal(err)
	}
	some := &Limits{MaxTime: Duration(2 * time.Second), MaxFacts: Uint64(1000), MaxIterations: Uint64(100)}
	c := some.orDefault()
	d := defaultLimits
	if c.max_time_ns != 2_000_000_000 || c.max_token_bytes != d.max_token_bytes || c.max_blocks != d.max_blocks ||
		c.max_join_size != d.max_join_size || c.allow_appended_regex != d.allow_appended_regex {
		t.Fatalf("%v reaches the core as %+v", some, c)
	}
	facts := []Pair{{"req_operation", "lease"}}
	wantCodeOf(t, "three fields set", token.CheckPolicy(facts, `allow if lane("gpu")`, fixtureNow, some), nil)
	opts := f.options
	opts.Limits = some
	_, _, err = Authenticate(f.trusted, f.proof, f.request, opts)
	wantCodeOf(t, "three fields set: authenticate", err, nil)
	v, err := NewVerifier(f.trusted, VerifierOptions{Limits: some})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	now := fixtureNow
	vt, _, err := v.Authenticate(f.proof, f.request, &now)
	wantCodeOf(t, "three fields set: verifier authenticate", err, nil)
	if vt != nil {
		wantCodeOf(t, "three fields set: verifier check_policy", v.CheckPolicy(vt, facts, `allow if true`, &now), nil)
	}
	// set to zero is zero
	wantCodeOf(t, "MaxBlocks 0", token.CheckPolicy(facts, `allow if true`, fixtureNow, &Limits{MaxBlocks: Uint64(0)}),
		ErrLimitExceeded)
	opts.Limits = &Limits{MaxTokenBytes: Uint64(0)}
	_, _, err = Authenticate(f.trusted, f.proof, f.request, opts)
	wantCodeOf(t, "MaxTokenBytes 0", err, ErrLimitExceeded)
}

// TestLimitsEveryFieldHasEffect: each budget field, set tight, refuses what the defaults accept.
func TestLimitsEveryFieldHasEffect(t *testing.T) {
	f := newFixture(t)
	token, err := ParseToken(f.trusted, f.token)
	if err != nil {
		t.Fatal(err)
	}
	facts := []Pair{{"req_operation", "lease"}}
	const allow = `allow if req_operation($o), lane($l)` // two predicates
	defaults := DefaultLimits()
	wantCodeOf(t, "defaults", token.CheckPolicy(facts, allow, fixtureNow, &defaults), nil)
	wantCodeOf(t, "nil limits", token.CheckPolicy(facts, allow, fixtureNow, nil), nil)
	// the fixture's token: one block of five facts and one check (its expiry: one predicate, three
	// operations); the policy adds a body of two predicates
	tight := []struct {
		name string
		set  func(*Limits)
	}{
		{"MaxBlocks 0", func(l *Limits) { l.MaxBlocks = Uint64(0) }},
		{"MaxBlockFacts 1", func(l *Limits) { l.MaxBlockFacts = Uint64(1) }},
		{"MaxBlockRules 0", func(l *Limits) { l.MaxBlockRules = Uint64(0) }},
		{"MaxBodyAtoms 1", func(l *Limits) { l.MaxBodyAtoms = Uint64(1) }},
		{"MaxBodyOps 2", func(l *Limits) { l.MaxBodyOps = Uint64(2) }},
		{"MaxJoinSize 1", func(l *Limits) { l.MaxJoinSize = Uint64(1) }},
	}
	v, err := NewVerifier(f.trusted, VerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	now := fixtureNow
	for _, c := range tight {
		l := DefaultLimits()
		c.set(&l)
		wantCodeOf(t, c.name+": check_policy", token.CheckPolicy(facts, allow, fixtureNow, &l), ErrLimitExceeded)
		_, err := token.Authorize(allow+";", AuthorizeOptions{Now: &now, Limits: &l})
		wantCodeOf(t, c.name+": authorize", err, ErrLimitExceeded)
		lv, err := NewVerifier(f.trusted, VerifierOptions{Limits: &l})
		if err != nil {
			t.Fatal(err)
		}
		wantCodeOf(t, c.name+": verifier check_policy", lv.CheckPolicy(token, facts, allow, &now), ErrLimitExceeded)
		lv.Close()
	}
	wantCodeOf(t, "verifier defaults", v.CheckPolicy(token, facts, allow, &now), nil)

	// MaxTokenBytes: checked by authenticate (package-level and verifier) before decoding
	small := DefaultLimits()
	small.MaxTokenBytes = Uint64(100)
	opts := f.options
	opts.Limits = &small
	_, _, err = Authenticate(f.trusted, f.proof, f.request, opts)
	wantCodeOf(t, "MaxTokenBytes 100: authenticate", err, ErrLimitExceeded)
	exact := DefaultLimits()
	exact.MaxTokenBytes = Uint64(uint64(len(f.token)))
	opts.Limits = &exact
	_, _, err = Authenticate(f.trusted, f.proof, f.request, opts)
	wantCodeOf(t, "MaxTokenBytes = the token's length: authenticate", err, nil)
	sv, err := NewVerifier(f.trusted, VerifierOptions{Limits: &small})
	if err != nil {
		t.Fatal(err)
	}
	defer sv.Close()
	_, _, err = sv.Authenticate(f.proof, f.request, &now)
	wantCodeOf(t, "MaxTokenBytes 100: verifier authenticate", err, ErrLimitExceeded)
	_, _, err = v.Authenticate(f.proof, f.request, &now) // the nonce was not spent
	wantCodeOf(t, "default verifier after it", err, nil)

	// AllowAppendedRegex: a regular expression in an appended block
	regex, err := ParseToken(f.trusted, regexToken)
	if err != nil {
		t.Fatal(err)
	}
	if regex.BlockCount() != 2 {
		t.Fatalf("regexToken has %d blocks", regex.BlockCount())
	}
	const lease = `allow if req_operation("lease")`
	wantCodeOf(t, "appended regex, defaults", regex.CheckPolicy(facts, lease, fixtureNow, nil), ErrLimitExceeded)
	allowed := DefaultLimits()
	allowed.AllowAppendedRegex = Bool(true)
	wantCodeOf(t, "appended regex, allowed", regex.CheckPolicy(facts, lease, fixtureNow, &allowed), nil)
	wantCodeOf(t, "appended regex, allowed, its check fails", regex.CheckPolicy([]Pair{{"req_operation", "drop"}},
		`allow if req_operation("drop")`, fixtureNow, &allowed), ErrDenied)
	// and MaxBlocks 1 refuses the appended block
	one := DefaultLimits()
	one.MaxBlocks = Uint64(1)
	one.AllowAppendedRegex = Bool(true)
	wantCodeOf(t, "MaxBlocks 1, two blocks", regex.CheckPolicy(facts, lease, fixtureNow, &one), ErrLimitExceeded)
}

// TestAuthenticateReadsTheExpiry: authenticate refuses a token past the expiry its issuer wrote
// (ErrTokenInvalid), and accepts it at the last second of its life.
func TestAuthenticateReadsTheExpiry(t *testing.T) {
	f := newFixture(t)
	v, err := NewVerifier(f.trusted, VerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	for _, c := range []struct {
		at   float64
		ts   string
		want *Error
	}{{fixtureNow + 3601, "1700003601", ErrTokenInvalid}, {fixtureNow + 3600, "1700003600", nil}} {
		p, err := f.worker.MakeProof(f.token, f.request, c.ts, "exp-"+c.ts)
		if err != nil {
			t.Fatal(err)
		}
		opts := f.options
		opts.Now = c.at
		_, _, err = Authenticate(f.trusted, p, f.request, opts)
		wantCodeOf(t, "authenticate at "+c.ts, err, c.want)
		at := c.at
		_, _, err = v.Authenticate(p, f.request, &at)
		wantCodeOf(t, "verifier authenticate at "+c.ts, err, c.want)
	}
}

// TestTokenCache: a token enters the cache only once a proof with it verified (forged requests
// leave nothing behind), TokenCacheMaxBytes bounds it, and 0 turns it off.
func TestTokenCache(t *testing.T) {
	f := newFixture(t)
	now := fixtureNow
	forged, err := NewProof(f.token, f.proof.Signature(), "1700000000", "other-nonce")
	if err != nil {
		t.Fatal(err)
	}
	stats := func(v *Verifier) [2]uint64 {
		s := v.CacheStats()
		return [2]uint64{s.Hits, s.Misses}
	}
	v, err := NewVerifier(f.trusted, VerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	_, _, err = v.Authenticate(forged, f.request, &now)
	wantCodeOf(t, "forged", err, ErrPopFailed)
	_, _, err = v.Authenticate(forged, f.request, &now)
	wantCodeOf(t, "forged again", err, ErrPopFailed)
	if got := stats(v); got != [2]uint64{0, 2} {
		t.Errorf("after two forged requests: hits/misses %v, want [0 2] (not cached)", got)
	}
	_, _, err = v.Authenticate(f.proof, f.request, &now)
	wantCodeOf(t, "genuine", err, nil)
	second, _ := f.worker.MakeProof(f.token, f.request, "1700000000", "n2")
	_, _, err = v.Authenticate(second, f.request, &now)
	wantCodeOf(t, "genuine again", err, nil)
	if got := stats(v); got != [2]uint64{1, 3} {
		t.Errorf("after two genuine requests: hits/misses %v, want [1 3]", got)
	}

	for _, c := range []struct {
		name     string
		maxBytes uint64
		want     [2]uint64
	}{
		{"TokenCacheMaxBytes 1: no entry fits", 1, [2]uint64{0, 2}},
		{"TokenCacheMaxBytes 0: no cache", 0, [2]uint64{0, 0}},
		{"TokenCacheMaxBytes 1 MiB", 1 << 20, [2]uint64{1, 1}},
	} {
		cv, err := NewVerifier(f.trusted, VerifierOptions{TokenCacheMaxBytes: Uint64(c.maxBytes)})
		if err != nil {
			t.Fatal(err)
		}
		for _, nonce := range []string{"c-1", "c-2"} {
			p, _ := f.worker.MakeProof(f.token, f.request, "1700000000", nonce)
			_, _, err = cv.Authenticate(p, f.request, &now)
			wantCodeOf(t, c.name+" "+nonce, err, nil)
		}
		if got := stats(cv); got != c.want {
			t.Errorf("%s: hits/misses %v, want %v", c.name, got, c.want)
		}
		// what it holds now: the one token where it fits (costed as documented), nothing elsewhere
		s := cv.CacheStats()
		wantEntries, wantBytes := c.want[0], uint64(0)
		if wantEntries == 1 {
			wantBytes = 4096 + 4*uint64(len(f.token))
		}
		if s.Entries != wantEntries || s.Bytes != wantBytes {
			t.Errorf("%s: entries %d bytes %d, want %d and %d", c.name, s.Entries, s.Bytes, wantEntries, wantBytes)
		}
		cv.Close()
	}
}
