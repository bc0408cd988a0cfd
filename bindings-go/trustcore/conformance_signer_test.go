package trustcore

// The signer_exchange and signer_call ops of the conformance runner: a real `trustcore signer serve`
// started once from the file's "signer" settings, raw frames sent to it, and the same requests
// through SignerClient. Mirrors cli/tests/conformance/signer.rs.

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"time"
)

type signerSettings struct {
	IssuerSeedHex   string   `json:"issuer_seed_hex"`
	IssuerPublicHex string   `json:"issuer_public_hex"`
	Args            []string `json:"args"`
}

type vectorSigner struct {
	*signerDaemon
	issuerPublicHex string
}

func startVectorSigner(settings *signerSettings) (*vectorSigner, error) {
	d, err := startSignerDaemon(settings.IssuerSeedHex, settings.Args...)
	if err != nil {
		return nil, err
	}
	return &vectorSigner{signerDaemon: d, issuerPublicHex: settings.IssuerPublicHex}, nil
}

// exchange sends frame on a fresh connection, closes the writing half and reads one answer frame.
func (v *vectorSigner) exchange(frame []byte) fields {
	conn, err := net.Dial("unix", v.socket)
	if err != nil {
		panic(fmt.Sprintf("connect to the signer: %v", err))
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	// the signer may refuse before reading it all (an oversize length): its answer still counts
	_, _ = conn.Write(frame)
	_ = conn.(*net.UnixConn).CloseWrite()
	header := make([]byte, 4)
	if _, err := io.ReadFull(conn, header); err != nil {
		panic(fmt.Sprintf("no answer frame: %v", err))
	}
	length, err := FrameBodyLength(header)
	if err != nil {
		panic(fmt.Sprintf("answer frame header: %v", err))
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(conn, body); err != nil {
		panic(fmt.Sprintf("answer frame cut short: %v", err))
	}
	object, err := DecodeFrameBody(body)
	if err != nil {
		panic(fmt.Sprintf("answer frame: %v", err))
	}
	_, _ = io.Copy(io.Discard, conn)
	var answer fields
	if err := json.Unmarshal(object, &answer); err != nil {
		panic("answer frame: " + err.Error())
	}
	return answer
}

// outcome is the result itself (and the answer's id, for an exchange) plus what its token says.
func (v *vectorSigner) outcome(id json.RawMessage, res map[string]any) (result, error) {
	out := result{"result": res}
	if id != nil {
		var idValue any
		if err := decodeNumbers(id, &idValue); err != nil {
			panic("answer id: " + err.Error())
		}
		out["id"] = idValue
	}
	if b64, ok := res["token"].(string); ok {
		keys, err := TrustIssuer(v.issuerPublicHex)
		if err != nil {
			return nil, err
		}
		token, err := ParseToken(keys, b64)
		if err != nil {
			return nil, err
		}
		source, err := token.BlockSource(0)
		if err != nil {
			return nil, err
		}
		out["token_authority_source"] = source
		if rootKeyID, ok := token.RootKeyID(); ok {
			out["token_root_key_id"] = rootKeyID
		} else {
			out["token_root_key_id"] = nil
		}
	}
	return out, nil
}

func objectOf(raw json.RawMessage) map[string]any {
	var value any
	if err := decodeNumbers(raw, &value); err != nil {
		panic("not JSON: " + err.Error())
	}
	object, ok := value.(map[string]any)
	if !ok {
		panic("not a JSON object")
	}
	return object
}

func (v *vectorSigner) run(op string, in fields) (result, error) {
	switch op {
	case "signer_exchange":
		answer := v.exchange(in.hexBytes("frame_hex"))
		id := answer["id"]
		if id == nil {
			id = json.RawMessage("null")
		}
		if string(answer["ok"]) == "true" {
			return v.outcome(id, objectOf(answer["result"]))
		}
		code := answer.obj("error").str("code")
		for c := MalformedInput; c <= Internal; c++ {
			if c.String() == code {
				return nil, &Error{Code: c, Message: "signer refused"}
			}
		}
		panic("unknown error code " + code)
	case "signer_call":
		address := "unix:" + v.socket
		if in.has("address") {
			address = in.str("address")
		}
		client, err := NewSignerClient(address, time.Second, 5*time.Second) // core's defaults
		if err != nil {
			return nil, err
		}
		defer client.Close()
		args := in.obj("args")
		var res map[string]any
		switch call := in.str("call"); call {
		case "public_key":
			publicHex, keyID, err := client.PublicKey()
			if err != nil {
				return nil, err
			}
			res = map[string]any{"public_key": publicHex, "key_id": nil}
			if keyID != nil {
				res["key_id"] = *keyID
			}
		case "health":
			report, err := client.Health()
			if err != nil {
				return nil, err
			}
			res = objectOf(report)
		case "mint":
			var pairs [][]json.RawMessage
			if err := json.Unmarshal(args["facts"], &pairs); err != nil {
				panic("facts: " + err.Error())
			}
			var facts []Fact
			for _, pair := range pairs {
				var f Fact
				if len(pair) != 2 || json.Unmarshal(pair[0], &f.Predicate) != nil || json.Unmarshal(pair[1], &f.Values) != nil {
					panic("facts: [predicate, [values]] expected")
				}
				facts = append(facts, f)
			}
			r := SignerMintRequest{PublicHex: args.str("public_hex"), HolderID: args.str("holder_id"), Facts: facts,
				ExpiresAt: args.num("expires_at")}
			if args.has("revocation_id") {
				r.RevocationID = args.str("revocation_id")
			}
			if args.has("delegation_depth") {
				r.DelegationDepth = uint32(args.num("delegation_depth"))
			}
			minted, err := client.Mint(r)
			if err != nil {
				return nil, err
			}
			res = map[string]any{"token": minted.Token, "revocation_id": minted.RevocationID, "expires_at": minted.ExpiresAt}
		case "sign_job":
			sig, err := client.SignJob(args["job"], args.str("worker_id"))
			if err != nil {
				return nil, err
			}
			res = map[string]any{"sig": sig}
		default:
			panic("unknown signer call " + call)
		}
		return v.outcome(nil, res)
	}
	panic(fmt.Sprintf("unknown signer op %q", op))
}
