package trustcore

// One reading of every JSON text and one spelling of every identifier, through this package: a job
// with a duplicated key never verifies, revocation ids reach the core as given and are taken in their
// canonical form, RevokeToken, and the replay store's per-holder share. Codes only, never timings.

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestDuplicatedKeys: a job the issuer genuinely signed, with a key prepended that a first-occurrence
// reader would take, is ErrJobInvalid; so is a duplicate at any depth. The other JSON texts: each
// place's own code.
func TestDuplicatedKeys(t *testing.T) {
	f := newFixture(t)
	issuerHex, err := f.issuer.PublicHex()
	if err != nil {
		t.Fatal(err)
	}
	sig, err := f.issuer.SignJob(json.RawMessage(`{"cmd":"ls","id":"j-1"}`), "gpu-1")
	if err != nil {
		t.Fatal(err)
	}
	signed := fmt.Sprintf(`{"cmd":"ls","id":"j-1","sig":%q}`, sig)
	wantCodeOf(t, "the signed job", VerifyJob(issuerHex, json.RawMessage(signed), "gpu-1", nil), nil)
	for _, doubled := range []string{
		`{"cmd":"rm -rf /",` + signed[1:], // encoding/json keeps the last "cmd" too: the signed one
		signed[:len(signed)-1] + `,"cmd":"ls"}`,
		fmt.Sprintf(`{"cmd":"ls","id":"j-1","x":[{"a":1,"a":2}],"sig":%q}`, sig),
	} {
		wantCode(t, VerifyJob(issuerHex, json.RawMessage(doubled), "gpu-1", nil), ErrJobInvalid)
	}
	wantCode(t, VerifyJob(issuerHex, json.RawMessage(`[1,2]`), "gpu-1", nil), ErrJobInvalid)

	_, err = f.issuer.SignJob(json.RawMessage(`{"cmd":"x","cmd":"ls"}`), "gpu-1")
	wantCode(t, err, ErrMalformedInput)
	_, err = EncodeFrame(json.RawMessage(`{"v":1,"op":"health","op":"mint"}`))
	wantCode(t, err, ErrMalformedInput)
	body := []byte(`{"op":"mint","v":1,"op":"health"}`)
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	_, err = DecodeFrame(append(frame, body...))
	wantCode(t, err, ErrFrameInvalid)
	_, err = DecodeFrameBody(body)
	wantCode(t, err, ErrFrameInvalid)
}

// TestRevocationIDSpelling: a block id in upper case is the same id (ErrRevoked); an id with
// whitespace, a 0x prefix or nothing at all is ErrMalformedInput, for stateless deny-lists, a
// verifier's initial list and Revoke alike.
func TestRevocationIDSpelling(t *testing.T) {
	f := newFixture(t)
	token, err := ParseToken(f.trusted, f.token)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := token.RevocationIDs()
	if err != nil || len(ids) != 1 {
		t.Fatalf("revocation ids %v %v", ids, err)
	}
	upper := strings.ToUpper(ids[0])
	authenticate := func(revoked ...string) error {
		opts := f.options
		opts.Revoked = revoked
		_, _, err := Authenticate(f.trusted, f.proof, f.request, opts)
		return err
	}
	wantCode(t, authenticate("rev-0", upper), ErrRevoked)
	for _, bad := range []string{" rev-1", "rev-1\n", "", "0x" + ids[0]} {
		wantCode(t, authenticate(bad), ErrMalformedInput)
	}
	wantCodeOf(t, "REV-1", authenticate("REV-1"), nil) // not hex: taken as written, so not "rev-1"

	now := fixtureNow
	v, err := NewVerifier(f.trusted, VerifierOptions{Revoked: []string{upper}})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = v.Authenticate(f.proof, f.request, &now)
	wantCode(t, err, ErrRevoked)
	v.Close()
	_, err = NewVerifier(f.trusted, VerifierOptions{Revoked: []string{"rev-9", " rev-1"}})
	wantCode(t, err, ErrMalformedInput)

	v, err = NewVerifier(f.trusted, VerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	wantCode(t, v.Revoke(" rev-1"), ErrMalformedInput)
	wantCode(t, v.Revoke("0x"+ids[0]), ErrMalformedInput)
	wantCode(t, v.Revoke(""), ErrMalformedInput)
	_, _, err = v.Authenticate(f.proof, f.request, &now)
	wantCodeOf(t, "before the revocation", err, nil)
	wantCodeOf(t, "revoke in upper case", v.Revoke(upper), nil)
	wantCode(t, authenticateNonce(v, f, "id-1"), ErrRevoked)
}

// TestRevokeToken: every id of a token at once, from the next request on; the token may be one the
// verifier returned or one parsed with the issuer keys.
func TestRevokeToken(t *testing.T) {
	f := newFixture(t)
	now := fixtureNow
	for _, parsed := range []bool{false, true} {
		v, err := NewVerifier(f.trusted, VerifierOptions{})
		if err != nil {
			t.Fatal(err)
		}
		token, _, err := v.Authenticate(f.proof, f.request, &now)
		if err != nil {
			t.Fatal(err)
		}
		if parsed {
			if token, err = ParseToken(f.trusted, f.token); err != nil {
				t.Fatal(err)
			}
		}
		wantCodeOf(t, "revoke_token", v.RevokeToken(token), nil)
		wantCode(t, authenticateNonce(v, f, "rt-1"), ErrRevoked)
		wantCode(t, v.RevokeToken(nil), ErrMalformedInput)
		var none *Verifier
		wantCode(t, none.RevokeToken(token), ErrMalformedInput)
		v.Close()
	}
}

// TestReplayCapacityPerHolder: nil keeps the core's share (a quarter of ReplayCapacity); a set value
// is passed as it is, that many pairs a holder (0 reaches the core, which refuses it). Past its share
// a holder is ErrLimitExceeded, its replays still ErrReplayed.
func TestReplayCapacityPerHolder(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		name  string
		share *uint64
		want  [3]*Error // the 1st, 2nd and 3rd distinct nonce
	}{
		{"nil: the core's quarter of 8", nil, [3]*Error{nil, nil, ErrLimitExceeded}},
		{"1", Uint64(1), [3]*Error{nil, ErrLimitExceeded, ErrLimitExceeded}},
		{"3", Uint64(3), [3]*Error{nil, nil, nil}},
	} {
		v, err := NewVerifier(f.trusted, VerifierOptions{ReplayCapacity: Uint64(8), ReplayCapacityPerHolder: c.share})
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range c.want {
			wantCodeOf(t, fmt.Sprintf("%s: nonce %d", c.name, i), authenticateNonce(v, f, fmt.Sprintf("share-%d", i)), want)
		}
		if c.want[0] == nil {
			wantCode(t, authenticateNonce(v, f, "share-0"), ErrReplayed)
		}
		v.Close()
	}
	// a share of 0 would refuse every request: core refuses the setting instead
	_, err := NewVerifier(f.trusted, VerifierOptions{ReplayCapacity: Uint64(8), ReplayCapacityPerHolder: Uint64(0)})
	wantCode(t, err, ErrMalformedInput)
}
