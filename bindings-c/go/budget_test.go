package trustcore

// The budget a token must fit (Limits), the token cache's bounds and admission, and the expiry
// authenticate reads: every field reaches the core and has its effect. Codes only, never timings.

import (
	"errors"
	"testing"
)

// regexToken is signed by the fixture's issuer (seed 11…) for its worker (seed 22…): an authority
// block like the fixture's (expiring at fixtureNow + 3600), then an appended block
// `check if operation($o), $o.matches("^lea");` (made once with biscuit-python 0.4.0: appended
// blocks use random ephemeral keys, so it is kept as it was made).
const regexToken = "EsgCCt0BCgp3b3JrZXJfa2V5CkBhMDlhYTVmNDdhNjc1OTgwMmZmOTU1ZjhkYzJkMmExNGE1Yzk5ZDIzYmU5N2Y4NjQxMjdm" +
	"ZjkzODM0NTVhNGYwCgpyZXZvY2F0aW9uCgVyZXYtMQoJd29ya2VyX2lkCgVncHUtMQoEbGFuZQoDZ3B1CgF0GAMiCgoICIAIEgMYgQgiCgoICIII" +
	"EgMYgwgiCgoICIQIEgMYhQgiCgoICIYIEgMYhwgyKAomCgIIGxIHCAUSAwiICBoXCgUKAwiICAoICgYgkP7PqgYKBBoCCAISJAgAEiDHbPfw7Fyk" +
	"WXC55njUJefrz-OOujVpdu5Lq15Gkj-bgxpAEb7mpH2OU-lYWfFnY5Zk-3QVdV7daUoEYksxsnT6rfbKg51D5IcFhzzOREdEkYlm1_diEAfQzw9_" +
	"SU24uEHrBhqcAQoyCgFvCgRebGVhGAMyJQojCgIIGxIHCAMSAwiJCBoUCgUKAwiJCAoFCgMYiggKBBoCCAgSJAgAEiDGnhRzK_7vH9LG4YTcDN3Y" +
	"laMY5oIbA9a1ZwpftuxC8RpArMfytWMoumaFTLjI9WCvkiZqRlGLGISGVroNhdnT9MAz-zLzYe2UZ5aZ0X9GK1PMvxC86zEdufBl8qMNoxgqByIi" +
	"CiAGGjFh4JYPB0DBuboxTHQFJhwVtK_M0htPGNWl1yEx2g=="

func wantCodeOf(t *testing.T, what string, err error, want *Error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Errorf("%s: want success, got %v", what, err)
	case want != nil && !errors.Is(err, want):
		t.Errorf("%s: want %v, got %v", what, want.Code, err)
	}
}

// TestDefaultLimits: DefaultLimits is the core's Limits::DEFAULT, read through the library.
func TestDefaultLimits(t *testing.T) {
	got := DefaultLimits()
	want := Limits{MaxTime: 10_000_000, MaxFacts: 1000, MaxIterations: 100, MaxTokenBytes: 32768, MaxBlocks: 32,
		MaxBlockFacts: 1000, MaxBlockRules: 64, MaxBodyAtoms: 32, MaxBodyOps: 128, MaxJoinSize: 10_000}
	if got != want {
		t.Fatalf("DefaultLimits() = %+v, want %+v", got, want)
	}
	var none *Limits
	if none.orDefault() != got.orDefault() {
		t.Fatal("a nil *Limits is not the defaults")
	}
}

// TestLimitsEveryFieldHasEffect: each budget field, set tight, refuses what the defaults accept.
func TestLimitsEveryFieldHasEffect(t *testing.T) {
	f := newFixture(t)
	token, err := ParseToken(f.trusted, f.token)
	if err != nil {
		t.Fatal(err)
	}
	facts := []Pair{{"operation", "lease"}}
	const allow = `allow if operation($o), lane($l)` // two predicates
	defaults := DefaultLimits()
	wantCodeOf(t, "defaults", token.CheckPolicy(facts, allow, fixtureNow, &defaults), nil)
	wantCodeOf(t, "nil limits", token.CheckPolicy(facts, allow, fixtureNow, nil), nil)
	// the fixture's token: one block of five facts and one check (its expiry: one predicate, three
	// operations); the policy adds a body of two predicates
	tight := []struct {
		name string
		set  func(*Limits)
	}{
		{"MaxBlocks 0", func(l *Limits) { l.MaxBlocks = 0 }},
		{"MaxBlockFacts 1", func(l *Limits) { l.MaxBlockFacts = 1 }},
		{"MaxBlockRules 0", func(l *Limits) { l.MaxBlockRules = 0 }},
		{"MaxBodyAtoms 1", func(l *Limits) { l.MaxBodyAtoms = 1 }},
		{"MaxBodyOps 2", func(l *Limits) { l.MaxBodyOps = 2 }},
		{"MaxJoinSize 1", func(l *Limits) { l.MaxJoinSize = 1 }},
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
	small.MaxTokenBytes = 100
	opts := f.options
	opts.Limits = &small
	_, _, err = Authenticate(f.trusted, f.proof, f.request, opts)
	wantCodeOf(t, "MaxTokenBytes 100: authenticate", err, ErrLimitExceeded)
	exact := DefaultLimits()
	exact.MaxTokenBytes = uint64(len(f.token))
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
	const lease = `allow if operation("lease")`
	wantCodeOf(t, "appended regex, defaults", regex.CheckPolicy(facts, lease, fixtureNow, nil), ErrLimitExceeded)
	allowed := DefaultLimits()
	allowed.AllowAppendedRegex = true
	wantCodeOf(t, "appended regex, allowed", regex.CheckPolicy(facts, lease, fixtureNow, &allowed), nil)
	wantCodeOf(t, "appended regex, allowed, its check fails", regex.CheckPolicy([]Pair{{"operation", "drop"}},
		`allow if operation("drop")`, fixtureNow, &allowed), ErrDenied)
	// and MaxBlocks 1 refuses the appended block
	one := DefaultLimits()
	one.MaxBlocks = 1
	one.AllowAppendedRegex = true
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
// leave nothing behind), TokenCacheMaxBytes bounds it, and a negative value turns it off.
func TestTokenCache(t *testing.T) {
	f := newFixture(t)
	now := fixtureNow
	forged, err := NewProof(f.token, f.proof.Signature(), "1700000000", "other-nonce")
	if err != nil {
		t.Fatal(err)
	}
	stats := func(v *Verifier) [2]uint64 {
		hits, misses := v.CacheStats()
		return [2]uint64{hits, misses}
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
		maxBytes int64
		want     [2]uint64
	}{
		{"TokenCacheMaxBytes 1: no entry fits", 1, [2]uint64{0, 2}},
		{"TokenCacheMaxBytes negative: no cache", -1, [2]uint64{0, 0}},
		{"TokenCacheMaxBytes 1 MiB", 1 << 20, [2]uint64{1, 1}},
	} {
		cv, err := NewVerifier(f.trusted, VerifierOptions{TokenCacheMaxBytes: c.maxBytes})
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
		cv.Close()
	}
}
