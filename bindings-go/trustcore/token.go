package trustcore

/*
#include <trustcore.h>

// the three identity fields and the length of its chain in one call into C instead of four
static size_t tc_go_identity_fields(const tc_identity *identity, tc_str out[3]) {
	out[0] = tc_identity_holder_id(identity);
	out[1] = tc_identity_holder_public_hex(identity);
	out[2] = tc_identity_revocation_id(identity);
	return tc_identity_chain_count(identity);
}

// every holder of the chain (id, then key) into out, which holds 2 × tc_identity_chain_count
static void tc_go_identity_chain(const tc_identity *identity, tc_str *out) {
	size_t n = tc_identity_chain_count(identity);
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = tc_identity_chain_holder_id(identity, i);
		out[2 * i + 1] = tc_identity_chain_holder_public_hex(identity, i);
	}
}
*/
import "C"

import "runtime"

// Token is a Biscuit whose signatures verified against a trusted issuer key.
type Token struct {
	n native[*C.tc_token]
}

// Identity is the holder a token binds: identifiers, not capabilities. For a delegated token
// (Delegate) HolderID and HolderPublicHex name the last holder, the one whose key proved possession.
// Identity holds a slice, so compare two with reflect.DeepEqual (or field by field), not ==.
type Identity struct {
	HolderID        string
	HolderPublicHex string
	RevocationID    string
	// Chain is every holder in order (docs/DESIGN.md §3.13): the one the issuer bound first, then
	// each delegate; the last is HolderID / HolderPublicHex. One entry for a token never delegated.
	Chain []Holder
}

func newToken(p *C.tc_token) *Token {
	t := &Token{}
	t.n.ptr = p
	t.n.cleanup = runtime.AddCleanup(t, func(p *C.tc_token) { C.tc_token_free(p) }, p)
	return t
}

// takeIdentity copies an owned tc_identity into Go and frees it.
func takeIdentity(p *C.tc_identity) Identity {
	defer C.tc_identity_free(p)
	return identityOf(p)
}

// identityOf copies a tc_identity (owned or borrowed) into Go: one cgo call, two for a delegated
// token.
func identityOf(p *C.tc_identity) Identity {
	var fields [3]C.tc_str
	n := C.tc_go_identity_fields(p, &fields[0])
	id := Identity{HolderID: goText(fields[0]), HolderPublicHex: goText(fields[1]), RevocationID: goText(fields[2])}
	id.Chain = chainOf(p, n, id)
	return id
}

// chainOf is the chain of p, whose length is n: for a token never delegated (n 1) the holder
// alone, from id (no cgo call); for a delegated one, every holder read in one cgo call.
func chainOf(p *C.tc_identity, n C.size_t, id Identity) []Holder {
	if n <= 1 {
		return []Holder{{HolderID: id.HolderID, HolderPublicHex: id.HolderPublicHex}}
	}
	parts := make([]C.tc_str, 2*int(n))
	C.tc_go_identity_chain(p, &parts[0])
	chain := make([]Holder, n)
	for i := range chain {
		chain[i] = Holder{HolderID: goText(parts[2*i]), HolderPublicHex: goText(parts[2*i+1])}
	}
	return chain
}

// ParseToken parses a token (URL-safe base64) and verifies every block against the trusted keys;
// one longer than the default MaxTokenBytes (32 KiB) is ErrLimitExceeded before it is decoded.
func ParseToken(keys *IssuerKeys, token string) (*Token, error) {
	defer runtime.KeepAlive(keys)
	keysC, err := keys.acquire()
	if err != nil {
		return nil, err
	}
	defer keys.release(keysC)
	p, n := cText(token)
	var out *C.tc_token
	var cerr *C.tc_error
	if err := toError(C.tc_token_parse(keysC, p, n, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	return newToken(out), nil
}

// ParseTokenBytes parses a token from its raw (protobuf) bytes, verifying it as ParseToken.
func ParseTokenBytes(keys *IssuerKeys, token []byte) (*Token, error) {
	defer runtime.KeepAlive(keys)
	keysC, err := keys.acquire()
	if err != nil {
		return nil, err
	}
	defer keys.release(keysC)
	p, n := cBytes(token)
	var out *C.tc_token
	var cerr *C.tc_error
	if err := toError(C.tc_token_parse_bytes(keysC, p, n, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	return newToken(out), nil
}

// BlockCount is the number of blocks (the authority block plus attenuation blocks).
func (t *Token) BlockCount() int {
	defer runtime.KeepAlive(t)
	tC, _ := t.acquire()
	defer t.release(tC)
	return int(C.tc_token_block_count(tC))
}

// BlockSource is block i's Datalog exactly as Biscuit prints it.
func (t *Token) BlockSource(i int) (string, error) {
	defer runtime.KeepAlive(t)
	tC, err := t.acquire()
	if err != nil {
		return "", err
	}
	defer t.release(tC)
	if i < 0 {
		return "", &Error{Code: MalformedInput, Message: "negative block index"}
	}
	var out *C.tc_bytes
	var cerr *C.tc_error
	if err := toError(C.tc_token_block_source(tC, C.size_t(i), &out, &cerr), cerr); err != nil {
		return "", err
	}
	return string(takeBytes(out)), nil
}

// RevocationIDs are the blocks' revocation ids (hex), in block order.
func (t *Token) RevocationIDs() ([]string, error) {
	defer runtime.KeepAlive(t)
	tC, err := t.acquire()
	if err != nil {
		return nil, err
	}
	defer t.release(tC)
	count := t.BlockCount()
	ids := make([]string, 0, count)
	for i := 0; i < count; i++ {
		id, err := buffer(C.TC_SIGNATURE_HEX_SIZE, func(b *C.char, l C.size_t, n *C.size_t, e **C.tc_error) C.tc_status {
			return C.tc_token_revocation_id(tC, C.size_t(i), b, l, n, e)
		})
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// RootKeyID is the root key id the token names, if any (key rotation).
func (t *Token) RootKeyID() (uint32, bool) {
	defer runtime.KeepAlive(t)
	tC, _ := t.acquire()
	defer t.release(tC)
	var id C.uint32_t
	ok := bool(C.tc_token_root_key_id(tC, &id))
	return uint32(id), ok
}

// Base64 is the token as URL-safe base64.
func (t *Token) Base64() (string, error) {
	defer runtime.KeepAlive(t)
	tC, err := t.acquire()
	if err != nil {
		return "", err
	}
	defer t.release(tC)
	var out *C.tc_bytes
	var cerr *C.tc_error
	if err := toError(C.tc_token_to_base64(tC, &out, &cerr), cerr); err != nil {
		return "", err
	}
	return string(takeBytes(out)), nil
}

// Bytes is the token's raw (protobuf) form.
func (t *Token) Bytes() ([]byte, error) {
	defer runtime.KeepAlive(t)
	tC, err := t.acquire()
	if err != nil {
		return nil, err
	}
	defer t.release(tC)
	var out *C.tc_bytes
	var cerr *C.tc_error
	if err := toError(C.tc_token_to_bytes(tC, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	return takeBytes(out), nil
}

// Identity is the holder the issuer bound in the authority block (TOKEN_UNBOUND unless exactly one
// holder key and one revocation id), read from the facts the issuer wrote: no Datalog runs.
func (t *Token) Identity() (Identity, error) {
	defer runtime.KeepAlive(t)
	tC, err := t.acquire()
	if err != nil {
		return Identity{}, err
	}
	defer t.release(tC)
	var out *C.tc_identity
	var cerr *C.tc_error
	if err := toError(C.tc_token_identity(tC, &out, &cerr), cerr); err != nil {
		return Identity{}, err
	}
	return takeIdentity(out), nil
}

// Close releases the token now (see IssuerKey.Close).
func (t *Token) Close() {
	if t != nil {
		t.n.close(func(p *C.tc_token) { C.tc_token_free(p) })
	}
}
