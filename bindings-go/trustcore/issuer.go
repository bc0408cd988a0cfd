package trustcore

/*
#include <trustcore.h>
*/
import "C"

import (
	"runtime"
	"sort"
)

// IssuerKeys is the issuer public key (or keys, for rotation) a verifier trusts.
type IssuerKeys struct {
	n native[*C.tc_issuer_keys]
}

func newIssuerKeys(p *C.tc_issuer_keys) *IssuerKeys {
	k := &IssuerKeys{}
	k.n.ptr = p
	k.n.cleanup = runtime.AddCleanup(k, func(p *C.tc_issuer_keys) { C.tc_issuer_keys_free(p) }, p)
	return k
}

// TrustIssuer trusts one issuer public key (64 hex digits).
func TrustIssuer(publicHex string) (*IssuerKeys, error) {
	p, n := cText(publicHex)
	var out *C.tc_issuer_keys
	var cerr *C.tc_error
	if err := toError(C.tc_issuer_keys_from_hex(p, n, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	return newIssuerKeys(out), nil
}

// TrustIssuersByKeyID trusts several issuer public keys, each picked by the root key id a token
// names (key rotation). A token naming no id, or an unknown one, is TOKEN_INVALID. An empty map is
// ErrMalformedInput (from the core: it would trust nobody).
func TrustIssuersByKeyID(publicHexByID map[uint32]string) (*IssuerKeys, error) {
	ids := make([]uint32, 0, len(publicHexByID))
	for id := range publicHexByID {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var pin runtime.Pinner
	defer pin.Unpin()
	entries := make([]C.tc_issuer_key_entry, len(ids)+1) // +1: never a zero-length array
	for i, id := range ids {
		p, n := pinText(&pin, publicHexByID[id])
		entries[i] = C.tc_issuer_key_entry{root_key_id: C.uint32_t(id), public_hex: p, public_hex_len: n}
	}
	var out *C.tc_issuer_keys
	var cerr *C.tc_error
	if err := toError(C.tc_issuer_keys_by_key_id(&entries[0], C.size_t(len(ids)), &out, &cerr), cerr); err != nil {
		return nil, err
	}
	return newIssuerKeys(out), nil
}

// Close releases the keys now (see IssuerKey.Close).
func (k *IssuerKeys) Close() {
	if k != nil {
		k.n.close(func(p *C.tc_issuer_keys) { C.tc_issuer_keys_free(p) })
	}
}
