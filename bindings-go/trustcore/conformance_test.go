package trustcore

// The Go conformance runner: every case of the four vector sources through this package, counted
// against what the files declare, so no case can be skipped silently. Codes are compared, never
// messages. Mirrors cli/tests/conformance.rs; ops and fields: tests/vectors/README.md.

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// repoRoot is TRUSTCORE_ROOT, or two levels up from this package (bindings-go/trustcore).
func repoRoot() string {
	if dir := os.Getenv("TRUSTCORE_ROOT"); dir != "" {
		return dir
	}
	abs, _ := filepath.Abs(filepath.Join("..", ".."))
	return abs
}

func sharedDir() string {
	if dir := os.Getenv("TRUSTCORE_SHARED"); dir != "" {
		return dir
	}
	return filepath.Join(repoRoot(), "..", "shared")
}

// ---- JSON in order ---------------------------------------------------------------------------

// fields is a JSON object with its members' raw text: the runner decodes each where it is used.
type fields map[string]json.RawMessage

// orderedPairs decodes a JSON object of strings keeping member order (request_facts, headers, query).
func orderedPairs(raw json.RawMessage) ([]Pair, error) {
	var pairs []Pair
	err := walkObject(raw, func(name string, value json.RawMessage) error {
		var s string
		if err := json.Unmarshal(value, &s); err != nil {
			return fmt.Errorf("member %q is not a string", name)
		}
		pairs = append(pairs, Pair{name, s})
		return nil
	})
	return pairs, err
}

// walkObject calls visit for each member of a JSON object, in order.
func walkObject(raw json.RawMessage, visit func(string, json.RawMessage) error) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("not a JSON object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return err
		}
		if err := visit(tok.(string), value); err != nil {
			return err
		}
	}
	return nil
}

// ---- large values (tests/vectors/README.md, "Large values") ------------------------------------

// expandInput writes out the case's large values: in each member's raw text, an object whose only
// member is "$repeat" [TEXT, N], "$nest" [KEY, N, LEAF] or "$nest_list" [N, LEAF] is replaced by the
// text of the value it stands for; everything else stays byte for byte. Jobs and frame objects are
// handed over as that text, never decoded: encoding/json refuses to read past 10,000 levels (the
// other members are decoded where they are used, a 10 MiB string among them).
func expandInput(in fields) fields {
	out := make(fields, len(in))
	for key, raw := range in {
		out[key] = expandRaw(raw)
	}
	return out
}

// expandRaw is one JSON value's text with its markers written out (it is known to be JSON: the file
// was decoded).
func expandRaw(raw json.RawMessage) json.RawMessage {
	if !bytes.Contains(raw, []byte(`"$`)) {
		return raw
	}
	var out []byte
	expandValue(raw, skipSpace(raw, 0), &out)
	return out
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue is the end of the JSON value at b[i:]: brackets are counted outside strings, without
// recursion, so any depth.
func skipValue(b []byte, i int) int {
	switch {
	case b[i] == '"':
		for i++; b[i] != '"'; i++ {
			if b[i] == '\\' {
				i++
			}
		}
		return i + 1
	case b[i] != '{' && b[i] != '[':
		for i < len(b) && !strings.ContainsRune(",}] \t\n\r", rune(b[i])) {
			i++
		}
		return i
	}
	depth := 0
	for ; ; i++ {
		switch b[i] {
		case '"':
			i = skipValue(b, i) - 1
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return i + 1
			}
		}
	}
}

// members calls visit with the start and end of each key (objects) and value in the container at
// b[i:], and returns the container's end.
func members(b []byte, i int, visit func(keyStart, keyEnd, start, end int)) int {
	object := b[i] == '{'
	i = skipSpace(b, i+1)
	for b[i] != '}' && b[i] != ']' {
		keyStart, keyEnd := -1, -1
		if object {
			keyStart, keyEnd = i, skipValue(b, i)
			i = skipSpace(b, skipSpace(b, keyEnd)+1) // past the colon
		}
		end := skipValue(b, i)
		visit(keyStart, keyEnd, i, end)
		if i = skipSpace(b, end); b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return i + 1
}

// expandValue appends the value at b[i:] to out, its markers written out, and returns its end.
func expandValue(b []byte, i int, out *[]byte) int {
	if b[i] != '{' && b[i] != '[' {
		end := skipValue(b, i)
		*out = append(*out, b[i:end]...)
		return end
	}
	if b[i] == '{' {
		count, name, argsStart, argsEnd := 0, "", 0, 0
		end := members(b, i, func(keyStart, keyEnd, start, end int) {
			if count++; count == 1 {
				_ = json.Unmarshal(b[keyStart:keyEnd], &name)
				argsStart, argsEnd = start, end
			}
		})
		if count == 1 && (name == "$repeat" || name == "$nest" || name == "$nest_list") {
			expandMarker(name, b[argsStart:argsEnd], out)
			return end
		}
	}
	copied := i // written out up to here
	end := members(b, i, func(_, _, start, end int) {
		*out = append(*out, b[copied:start]...)
		expandValue(b, start, out)
		copied = end
	})
	*out = append(*out, b[copied:end]...)
	return end
}

// expandMarker appends the value a marker stands for; malformed arguments panic (a vector problem).
func expandMarker(name string, args []byte, out *[]byte) {
	var list []json.RawMessage
	if err := json.Unmarshal(args, &list); err != nil {
		panic(fmt.Sprintf("%s: arguments are not a list", name))
	}
	count := func(raw json.RawMessage) int {
		var n uint64
		if err := json.Unmarshal(raw, &n); err != nil {
			panic(fmt.Sprintf("%s: a count that is not a whole number: %s", name, raw))
		}
		return int(n)
	}
	literal := func(raw json.RawMessage) []byte { // a string's JSON literal, quotes included
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			panic(fmt.Sprintf("%s: not a string: %s", name, raw))
		}
		lit, _ := json.Marshal(s)
		return lit
	}
	switch {
	case name == "$repeat" && len(list) == 2:
		lit := literal(list[0])
		*out = append(*out, '"')
		*out = append(*out, bytes.Repeat(lit[1:len(lit)-1], count(list[1]))...)
		*out = append(*out, '"')
	case name == "$nest" && len(list) == 3:
		n := count(list[1])
		open := append(append([]byte{'{'}, literal(list[0])...), ':')
		*out = append(*out, bytes.Repeat(open, n)...)
		expandValue(list[2], skipSpace(list[2], 0), out)
		*out = append(*out, bytes.Repeat([]byte{'}'}, n)...)
	case name == "$nest_list" && len(list) == 2:
		n := count(list[0])
		*out = append(*out, bytes.Repeat([]byte{'['}, n)...)
		expandValue(list[1], skipSpace(list[1], 0), out)
		*out = append(*out, bytes.Repeat([]byte{']'}, n)...)
	default:
		panic(fmt.Sprintf("%s: %d arguments", name, len(list)))
	}
}

// ---- field access (a malformed vector panics, as in the Rust runner) ----------------------------

func (f fields) str(key string) string {
	var s string
	if err := json.Unmarshal(f[key], &s); err != nil {
		panic(fmt.Sprintf("field %s is not a string", key))
	}
	return s
}

func (f fields) num(key string) float64 {
	var n float64
	if err := json.Unmarshal(f[key], &n); err != nil {
		panic(fmt.Sprintf("field %s is not a number", key))
	}
	return n
}

func (f fields) boolean(key string) bool {
	var b bool
	if err := json.Unmarshal(f[key], &b); err != nil {
		panic(fmt.Sprintf("field %s is not a bool", key))
	}
	return b
}

func (f fields) has(key string) bool {
	raw, ok := f[key]
	return ok && string(raw) != "null"
}

func (f fields) obj(key string) fields {
	var o fields
	if err := json.Unmarshal(f[key], &o); err != nil || o == nil {
		panic(fmt.Sprintf("field %s is not an object", key))
	}
	return o
}

func (f fields) strs(key string) []string {
	var s []string
	if err := json.Unmarshal(f[key], &s); err != nil || s == nil {
		panic(fmt.Sprintf("field %s is not a list of strings", key))
	}
	return s
}

func (f fields) hexBytes(key string) []byte {
	b, err := hex.DecodeString(f.str(key))
	if err != nil {
		panic(fmt.Sprintf("field %s is not hex", key))
	}
	return b
}

func (f fields) pairs(key string) []Pair {
	p, err := orderedPairs(f[key])
	if err != nil {
		panic(fmt.Sprintf("field %s: %v", key, err))
	}
	return p
}

func (f fields) limits() *Limits {
	l := DefaultLimits()
	if !f.has("limits") {
		return &l
	}
	in := f.obj("limits")
	if in.has("max_time_ms") {
		l.MaxTime = Duration(time.Duration(in.num("max_time_ms") * float64(time.Millisecond)))
	}
	if in.has("max_facts") {
		l.MaxFacts = Uint64(uint64(in.num("max_facts")))
	}
	if in.has("max_iterations") {
		l.MaxIterations = Uint64(uint64(in.num("max_iterations")))
	}
	// the budget a token must fit (as cli/tests/conformance.rs, fn limits)
	budget := []struct {
		name  string
		field **uint64
	}{
		{"max_token_bytes", &l.MaxTokenBytes}, {"max_blocks", &l.MaxBlocks}, {"max_block_facts", &l.MaxBlockFacts},
		{"max_block_rules", &l.MaxBlockRules}, {"max_body_atoms", &l.MaxBodyAtoms}, {"max_body_ops", &l.MaxBodyOps},
		{"max_join_size", &l.MaxJoinSize},
	}
	for _, b := range budget {
		if in.has(b.name) {
			*b.field = Uint64(uint64(in.num(b.name)))
		}
	}
	if in.has("allow_appended_regex") {
		l.AllowAppendedRegex = Bool(in.boolean("allow_appended_regex"))
	}
	return &l
}

func (f fields) issuerKeys() (*IssuerKeys, error) {
	if !f.has("issuer_keys") {
		return TrustIssuer(f.str("issuer_public_hex"))
	}
	byID := map[uint32]string{}
	for id, raw := range f.obj("issuer_keys") {
		n, err := strconv.ParseUint(id, 10, 32)
		if err != nil {
			panic("root key id " + id)
		}
		var hexKey string
		if err := json.Unmarshal(raw, &hexKey); err != nil {
			panic("issuer key " + id)
		}
		byID[uint32(n)] = hexKey
	}
	return TrustIssuersByKeyID(byID)
}

func (f fields) request() Request {
	return Request{Method: f.str("method"), Path: f.str("path"), Body: f.hexBytes("body_hex")}
}

// headerList decodes [[name, value], …], in order.
func (f fields) headerList(key string) []Pair {
	var raw [][]string
	if err := json.Unmarshal(f[key], &raw); err != nil || raw == nil {
		panic(fmt.Sprintf("field %s is not a list of [name, value]", key))
	}
	pairs := make([]Pair, len(raw))
	for i, p := range raw {
		if len(p) != 2 {
			panic(fmt.Sprintf("field %s: an item that is not [name, value]", key))
		}
		pairs[i] = Pair{p[0], p[1]}
	}
	return pairs
}

// httpRequest is a vector request {"method", "target", "headers", "body_hex"}.
func (f fields) httpRequest() HttpRequest {
	return HttpRequest{Method: f.str("method"), Target: f.str("target"), Headers: f.headerList("headers"),
		Body: f.hexBytes("body_hex")}
}

// pairsValue is [[name, value], …].
func pairsValue(pairs []Pair) [][]string {
	out := make([][]string, len(pairs))
	for i, p := range pairs {
		out[i] = []string{p.Name, p.Value}
	}
	return out
}

// orNull is nil (JSON null) for "".
func orNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// decisionValue is a decision as the vectors write it.
func decisionValue(d *Decision) map[string]any {
	var code, holder any
	if d.Code != 0 {
		code = d.Code.String()
	}
	if d.Identity != nil {
		holder = d.Identity.HolderID
	}
	return map[string]any{"allowed": d.Allowed, "status": d.Status, "code": code, "route": orNull(d.Route),
		"profile": orNull(d.Profile), "holder_id": holder, "facts": pairsValue(d.Facts),
		"headers": pairsValue(d.Headers)}
}

// runHttpDecide runs one Verifier (memory stores) and one route policy through the case's steps: each
// step's decision, or {"error": CODE} when the call fails; a refusal does not end the steps.
func runHttpDecide(in fields) (result, error) {
	cfg := in.obj("verifier")
	keys, err := cfg.issuerKeys()
	if err != nil {
		return nil, err
	}
	opts := VerifierOptions{MaxSkewSeconds: Float64(cfg.num("max_skew_seconds")), Limits: in.limits(),
		Authorities: cfg.strs("authorities"), Profiles: cfg.strs("profiles")}
	if cfg.has("revoked_ids") {
		opts.Revoked = cfg.strs("revoked_ids")
	}
	v, err := NewVerifier(keys, opts)
	if err != nil {
		return nil, err
	}
	policy, err := HttpPolicyFromJSON([]byte(in.str("policy")))
	if err != nil {
		return nil, err
	}
	var steps []fields
	if err := json.Unmarshal(in["steps"], &steps); err != nil {
		panic("steps is not a list of objects")
	}
	decisions := []any{}
	for _, step := range steps {
		var now *float64
		if step.has("now") {
			now = Float64(step.num("now"))
		}
		var facts []Pair
		if step.has("facts") {
			facts = step.headerList("facts")
		}
		d, err := v.Decide(step.obj("request").httpRequest(), policy, facts, now)
		var te *Error
		switch {
		case err == nil:
			decisions = append(decisions, decisionValue(d))
		case errors.As(err, &te):
			decisions = append(decisions, map[string]any{"error": te.Code.String()})
		default:
			return nil, err
		}
	}
	return result{"decisions": decisions}, nil
}

func proofValue(p *Proof) map[string]any {
	return map[string]any{"token": p.Token(), "signature": p.Signature(), "timestamp": p.Timestamp(), "nonce": p.Nonce()}
}

// ---- ops ---------------------------------------------------------------------------------------

type result = map[string]any

func runOp(op string, in fields) (result, error) {
	switch op {
	case "public_key":
		key, err := WorkerKeyFromSecretHex(in.str("seed_hex"))
		if err != nil {
			return nil, err
		}
		pub, err := key.PublicHex()
		return result{"public_hex": pub}, err
	case "canonical_request":
		c, err := CanonicalRequest(in.request(), in.str("timestamp"), in.str("nonce"))
		return result{"canonical_hex": hex.EncodeToString(c)}, err
	case "make_proof":
		worker, err := WorkerKeyFromSecretHex(in.str("worker_seed_hex"))
		if err != nil {
			return nil, err
		}
		proof, err := worker.MakeProof(in.str("token"), in.request(), in.str("timestamp"), in.str("nonce"))
		if err != nil {
			return nil, err
		}
		pairs, err := proof.Headers()
		headers := map[string]any{}
		for _, p := range pairs {
			headers[p.Name] = p.Value
		}
		return result{"signature_hex": proof.Signature(), "headers": headers}, err
	case "authenticate":
		keys, err := in.issuerKeys()
		if err != nil {
			return nil, err
		}
		p := in.obj("proof")
		proof, err := NewProof(p.str("token"), p.str("signature"), p.str("timestamp"), p.str("nonce"))
		if err != nil {
			return nil, err
		}
		opts := AuthenticateOptions{Now: in.num("now"), MaxSkewSeconds: in.num("max_skew_seconds"),
			Limits: in.limits(), Revoked: in.strs("revoked_ids")}
		_, id, err := Authenticate(keys, proof, in.obj("request").request(), opts)
		return result{"identity": map[string]any{
			"holder_id": id.HolderID, "holder_public_hex": id.HolderPublicHex, "revocation_id": id.RevocationID,
		}}, err
	case "check_policy":
		token, err := parseInputToken(in)
		if err != nil {
			return nil, err
		}
		err = token.CheckPolicy(in.pairs("request_facts"), in.str("allow"), in.num("now"), in.limits())
		return result{"ok": true}, err
	case "authorize":
		token, err := parseInputToken(in)
		if err != nil {
			return nil, err
		}
		opts := AuthorizeOptions{Limits: in.limits()}
		if in.has("now") {
			now := in.num("now")
			opts.Now = &now
		}
		if in.has("extern_functions") {
			opts.ExternFunctions = in.strs("extern_functions")
		}
		policy, err := token.Authorize(in.str("code"), opts)
		return result{"policy": policy}, err
	case "inspect":
		token, err := parseInputToken(in)
		if err != nil {
			return nil, err
		}
		blocks := []string{}
		for i := 0; i < token.BlockCount(); i++ {
			source, err := token.BlockSource(i)
			if err != nil {
				return nil, err
			}
			blocks = append(blocks, source)
		}
		ids, err := token.RevocationIDs()
		var rootKeyID any
		if id, ok := token.RootKeyID(); ok {
			rootKeyID = id
		}
		return result{"block_count": token.BlockCount(), "blocks": blocks, "revocation_ids": ids,
			"root_key_id": rootKeyID}, err
	case "mint":
		return runMint(in)
	case "sign_job":
		issuer, err := IssuerKeyFromSecretHex(in.str("issuer_seed_hex"))
		if err != nil {
			return nil, err
		}
		sig, err := issuer.SignJob(in["job"], in.str("worker_id"))
		return result{"signature_hex": sig}, err
	case "verify_job":
		var now *float64
		if in.has("now") {
			n := in.num("now")
			now = &n
		}
		err := VerifyJob(in.str("issuer_public_hex"), in["job"], in.str("worker_id"), now)
		return result{"ok": true}, err
	case "frame_encode":
		frame, err := EncodeFrame(in["object"])
		return result{"frame_hex": hex.EncodeToString(frame)}, err
	case "frame_decode":
		object, err := DecodeFrame(in.hexBytes("frame_hex"))
		return result{"object": object}, err
	case "proof_from_headers":
		proof, err := ProofFromHeaders(in.pairs("headers"))
		if err != nil {
			return nil, err
		}
		return result{"proof": proofValue(proof)}, nil
	case "proof_from_query":
		proof, err := ProofFromQuery(in.pairs("query"))
		if err != nil {
			return nil, err
		}
		return result{"proof": proofValue(proof)}, nil
	case "verifier_sequence":
		return runVerifierSequence(in)
	case "delegate":
		return runDelegate(in)
	case "delegation_sequence":
		return runDelegationSequence(in)
	case "http_decide":
		return runHttpDecide(in)
	case "http_policy":
		policy, err := HttpPolicyFromJSON([]byte(in.str("policy")))
		if err != nil {
			return nil, err
		}
		return result{"routes": policy.RouteCount(), "max_body_bytes": policy.MaxBodyBytes()}, nil
	case "http_sign":
		key, err := WorkerKeyFromSecretHex(in.str("holder_secret_hex"))
		if err != nil {
			return nil, err
		}
		opts := SignRequestOptions{Method: in.str("method"), URL: in.str("url"), Headers: in.headerList("headers"),
			Body: in.hexBytes("body_hex"), Profile: in.str("profile")}
		if in.has("created") {
			opts.Created = Int64(int64(in.num("created")))
		}
		if in.has("nonce") {
			opts.Nonce = String(in.str("nonce"))
		}
		headers, err := SignRequest(key, in.str("token"), opts)
		return result{"headers": pairsValue(headers)}, err
	case "http_signature_base":
		base, err := SignatureBase(in.obj("request").httpRequest(), in.str("label"))
		return result{"base": base}, err
	case "http_verify_signature":
		err := VerifyMessageSignature(in.obj("request").httpRequest(), in.str("label"), in.str("public_hex"))
		return result{}, err
	}
	panic(fmt.Sprintf("unknown op %q", op))
}

// runVerifierSequence runs one Verifier through the case's steps (authenticate, authenticate_batch,
// check_policy on the last token accepted by authenticate, revoke, revoke_token, cache_stats); each
// step's outcome is "OK", the code's name, "hits=H misses=M", or (authenticate_batch) the list of its
// requests' or the one code of a batch refused whole. A failing step does not end the sequence.
func runVerifierSequence(in fields) (result, error) {
	keys, err := in.issuerKeys()
	if err != nil {
		return nil, err
	}
	// every setting the case names is passed as it is, 0 included; the others keep the core's defaults
	opts := VerifierOptions{MaxSkewSeconds: Float64(in.num("max_skew_seconds")), Limits: in.limits()}
	count := func(name string) *uint64 {
		if !in.has(name) {
			return nil
		}
		return Uint64(uint64(in.num(name)))
	}
	opts.ReplayCapacity = count("replay_capacity")
	opts.ReplayCapacityPerHolder = count("replay_capacity_per_holder")
	opts.TokenCacheMaxBytes = count("token_cache_max_bytes")
	opts.MaxBatchRequests = count("max_batch_requests")
	opts.MaxBatchBodyBytes = count("max_batch_body_bytes")
	if in.has("revoked_ids") {
		opts.Revoked = in.strs("revoked_ids")
	}
	v, err := NewVerifier(keys, opts)
	if err != nil {
		return nil, err
	}
	defer v.Close()
	var steps []fields
	if err := json.Unmarshal(in["steps"], &steps); err != nil {
		panic("steps is not a list of objects")
	}
	var token *Token
	outcomes := []any{}
	for _, step := range steps {
		if len(step) != 1 {
			panic("one action per step")
		}
		for action, raw := range step {
			var err error
			switch action {
			case "authenticate":
				var args fields
				if json.Unmarshal(raw, &args) != nil || args == nil {
					panic("authenticate step is not an object")
				}
				p := args.obj("proof")
				var proof *Proof
				if proof, err = NewProof(p.str("token"), p.str("signature"), p.str("timestamp"), p.str("nonce")); err == nil {
					now := args.num("now")
					var accepted *Token
					if accepted, _, err = v.Authenticate(proof, args.obj("request").request(), &now); err == nil {
						token = accepted
					}
				}
			case "authenticate_batch":
				var args fields
				if json.Unmarshal(raw, &args) != nil || args == nil {
					panic("authenticate_batch step is not an object")
				}
				outcomes = append(outcomes, runVerifierBatch(v, args))
				continue
			case "check_policy":
				var args fields
				if json.Unmarshal(raw, &args) != nil || args == nil {
					panic("check_policy step is not an object")
				}
				if token == nil {
					panic("check_policy after an accepted authenticate")
				}
				now := args.num("now")
				err = v.CheckPolicy(token, args.pairs("request_facts"), args.str("allow"), &now)
			case "revoke":
				var id string
				if json.Unmarshal(raw, &id) != nil {
					panic("revoke step: an id")
				}
				err = v.Revoke(id)
			case "revoke_token":
				// TOKEN parsed with the case's issuer key(s), then the whole token revoked
				var text string
				if json.Unmarshal(raw, &text) != nil {
					panic("revoke_token step: a token")
				}
				var revoked *Token
				if revoked, err = ParseToken(keys, text); err == nil {
					err = v.RevokeToken(revoked)
				}
			case "verify_job":
				var args fields
				if json.Unmarshal(raw, &args) != nil || args == nil {
					panic("verify_job step is not an object")
				}
				now := args.num("now")
				err = v.VerifyJob(args["job"], args.str("worker_id"), &now)
			case "cache_stats":
				s := v.CacheStats()
				outcomes = append(outcomes, fmt.Sprintf("hits=%d misses=%d", s.Hits, s.Misses))
				continue
			default:
				panic(fmt.Sprintf("unknown verifier step %q", action))
			}
			var te *Error
			switch {
			case err == nil:
				outcomes = append(outcomes, "OK")
			case errors.As(err, &te):
				outcomes = append(outcomes, te.Code.String())
			default:
				panic(fmt.Sprintf("a non-trustcore error: %v", err))
			}
		}
	}
	return result{"outcomes": outcomes}, nil
}

// runVerifierBatch is one authenticate_batch step ({"requests": [{"proof", "request"}, ...],
// "now"}): one AuthenticateBatch call, and each request's "OK" or code name, in order, or the one
// code name of a batch refused whole (as cli/tests/conformance.rs, fn verifier_batch: the accepted
// tokens are not kept).
func runVerifierBatch(v *Verifier, args fields) any {
	var requests []fields
	if err := json.Unmarshal(args["requests"], &requests); err != nil || requests == nil {
		panic("requests is not a list of objects")
	}
	batch := make([]BatchRequest, len(requests))
	for i, r := range requests {
		p := r.obj("proof")
		proof, err := NewProof(p.str("token"), p.str("signature"), p.str("timestamp"), p.str("nonce"))
		if err != nil {
			panic(fmt.Sprintf("request %d: a proof of strings: %v", i, err))
		}
		batch[i] = BatchRequest{Proof: proof, Request: r.obj("request").request()}
	}
	now := args.num("now")
	results, err := v.AuthenticateBatch(batch, &now)
	if err != nil {
		var te *Error
		if !errors.As(err, &te) {
			panic(fmt.Sprintf("a non-trustcore error: %v", err))
		}
		return te.Code.String()
	}
	outcomes := []any{}
	for _, r := range results {
		var te *Error
		switch {
		case r.Err == nil:
			outcomes = append(outcomes, "OK")
		case errors.As(r.Err, &te):
			outcomes = append(outcomes, te.Code.String())
		default:
			panic(fmt.Sprintf("a non-trustcore error: %v", r.Err))
		}
	}
	return outcomes
}

// ---- delegation (tests/vectors/README.md, "Delegation") -----------------------------------------

// chainValue is an identity's chain as [[holder_id, holder_public_hex], …], in order.
func chainValue(chain []Holder) [][]string {
	out := make([][]string, len(chain))
	for i, h := range chain {
		out[i] = []string{h.HolderID, h.HolderPublicHex}
	}
	return out
}

// runDelegate delegates the token with the holder's key, then parses what it made with the issuer
// key: its identity's chain.
func runDelegate(in fields) (result, error) {
	holder, err := WorkerKeyFromSecretHex(in.str("holder_secret_hex"))
	if err != nil {
		return nil, err
	}
	delegated, err := Delegate(in.str("token"), holder, DelegateRequest{ToPublicHex: in.str("to_public_hex"),
		ToHolderID: in.str("to_holder_id"), Checks: in.str("checks"), ExpiresAt: in.num("expires_at")})
	if err != nil {
		return nil, err
	}
	keys, err := in.issuerKeys()
	if err != nil {
		return nil, err
	}
	token, err := ParseToken(keys, delegated)
	if err != nil {
		return nil, err
	}
	identity, err := token.Identity()
	if err != nil {
		return nil, err
	}
	return result{"chain": chainValue(identity.Chain)}, nil
}

// runDelegationSequence: one Verifier (memory stores) for every step; each signs POST /lease {} at
// now with its holder's key and nonce, is authenticated, then checked against its policy. A step's
// failure does not end the sequence: its outcome is {"error": CODE}.
func runDelegationSequence(in fields) (result, error) {
	keys, err := in.issuerKeys()
	if err != nil {
		return nil, err
	}
	opts := VerifierOptions{Limits: in.limits()}
	if in.has("revoked_ids") {
		opts.Revoked = in.strs("revoked_ids")
	}
	v, err := NewVerifier(keys, opts)
	if err != nil {
		return nil, err
	}
	defer v.Close()
	var steps []fields
	if err := json.Unmarshal(in["steps"], &steps); err != nil {
		panic("steps is not a list of objects")
	}
	now := in.num("now")
	timestamp := strconv.FormatInt(int64(math.Floor(now)), 10)
	request := Request{Method: "POST", Path: "/lease", Body: []byte("{}")}
	outcomes := []any{}
	for _, step := range steps {
		identity, err := func() (Identity, error) {
			key, err := WorkerKeyFromSecretHex(step.str("holder_secret_hex"))
			if err != nil {
				return Identity{}, err
			}
			proof, err := key.MakeProof(step.str("token"), request, timestamp, step.str("nonce"))
			if err != nil {
				return Identity{}, err
			}
			token, identity, err := v.Authenticate(proof, request, &now)
			if err != nil {
				return Identity{}, err
			}
			return identity, v.CheckPolicy(token, step.pairs("request_facts"), step.str("allow"), &now)
		}()
		var te *Error
		switch {
		case err == nil:
			outcomes = append(outcomes, map[string]any{"holder_id": identity.HolderID,
				"chain": chainValue(identity.Chain)})
		case errors.As(err, &te):
			outcomes = append(outcomes, map[string]any{"error": te.Code.String()})
		default:
			panic(fmt.Sprintf("a non-trustcore error: %v", err))
		}
	}
	return result{"outcomes": outcomes}, nil
}

func parseInputToken(in fields) (*Token, error) {
	keys, err := in.issuerKeys()
	if err != nil {
		return nil, err
	}
	return ParseToken(keys, in.str("token"))
}

func runMint(in fields) (result, error) {
	issuer, err := IssuerKeyFromSecretHex(in.str("issuer_seed_hex"))
	if err != nil {
		return nil, err
	}
	var facts []Fact
	err = walkObject(in["facts"], func(name string, raw json.RawMessage) error {
		var values []string
		if err := json.Unmarshal(raw, &values); err != nil {
			return err
		}
		facts = append(facts, Fact{Predicate: name, Values: values})
		return nil
	})
	if err != nil {
		panic("facts: " + err.Error())
	}
	r := MintRequest{PublicHex: in.str("public_hex"), HolderID: in.str("holder_id"), Facts: facts,
		RevocationID: in.str("revocation_id"), ExpiresAt: in.num("expires_at")}
	if in.has("root_key_id") {
		id := uint32(in.num("root_key_id"))
		r.RootKeyID = &id
	}
	if in.has("delegation_depth") {
		r.DelegationDepth = uint32(in.num("delegation_depth"))
	}
	token, err := issuer.Mint(r)
	if err != nil {
		return nil, err
	}
	public, err := issuer.PublicHex()
	if err != nil {
		return nil, err
	}
	keys, err := TrustIssuer(public)
	if err != nil {
		return nil, err
	}
	parsed, err := ParseToken(keys, token)
	if err != nil {
		return nil, err
	}
	source, err := parsed.BlockSource(0)
	return result{"authority_source": source}, err
}

// ---- comparison ----------------------------------------------------------------------------------

// check compares an outcome with expect: {"error": CODE}, or every expected field equal; for the
// signer ops "result" is matched field by field and "result_has" names fields that must be present.
func check(got result, err error, expect fields) error {
	if expect.has("error") {
		want := expect.str("error")
		var te *Error
		switch {
		case err == nil:
			return fmt.Errorf("expected %s, got success", want)
		case !errors.As(err, &te):
			return fmt.Errorf("expected %s, got a non-trustcore error %v", want, err)
		case te.Code.String() != want:
			return fmt.Errorf("expected %s, got %v", want, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("expected success, got %v", err)
	}
	for key, want := range expect {
		switch key {
		case "result":
			if err := checkResultFields(got, want); err != nil {
				return err
			}
			continue
		case "result_has":
			var names []string
			if err := json.Unmarshal(want, &names); err != nil {
				panic("result_has is not a list of names")
			}
			have, _ := got["result"].(map[string]any)
			for _, name := range names {
				if _, ok := have[name]; !ok {
					return fmt.Errorf("result has no %s", name)
				}
			}
			continue
		}
		have, err := normalize(got[key])
		if err != nil {
			return err
		}
		var wantValue any
		if err := decodeNumbers(want, &wantValue); err != nil {
			return err
		}
		if !jsonEqual(have, wantValue) {
			return fmt.Errorf("%s: expected %s, got %v", key, want, have)
		}
	}
	return nil
}

// checkResultFields matches the outcome's "result" object with want's fields, one by one (a missing
// field is null).
func checkResultFields(got result, want json.RawMessage) error {
	var fieldsWanted fields
	if err := json.Unmarshal(want, &fieldsWanted); err != nil || fieldsWanted == nil {
		panic("expect.result is not an object")
	}
	have, _ := got["result"].(map[string]any)
	for field, raw := range fieldsWanted {
		value, err := normalize(have[field])
		if err != nil {
			return err
		}
		var wantValue any
		if err := decodeNumbers(raw, &wantValue); err != nil {
			return err
		}
		if !jsonEqual(value, wantValue) {
			return fmt.Errorf("result.%s: expected %s, got %v", field, raw, value)
		}
	}
	return nil
}

// normalize turns a result value into what encoding/json decodes (numbers as json.Number).
func normalize(v any) (any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	return out, decodeNumbers(raw, &out)
}

func decodeNumbers(raw []byte, out *any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(out)
}

// jsonEqual is JSON value equality as serde_json's: objects ignore member order; integers compare
// with integers, other numbers as floats.
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !jsonEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		isInt := func(n json.Number) bool { return !strings.ContainsAny(string(n), ".eE") }
		if isInt(x) != isInt(y) {
			return false
		}
		if isInt(x) {
			return string(x) == string(y)
		}
		fx, e1 := x.Float64()
		fy, e2 := y.Float64()
		return e1 == nil && e2 == nil && fx == fy
	default:
		return a == b
	}
}

// ---- sources ------------------------------------------------------------------------------------

type tally struct {
	ran      int
	failures []string
}

type vectorFile struct {
	Schema        string          `json:"schema"`
	NumberOfTests int             `json:"numberOfTests"`
	Signer        *signerSettings `json:"signer"`
	Cases         []struct {
		ID     string `json:"id"`
		Op     string `json:"op"`
		Input  fields `json:"input"`
		Expect fields `json:"expect"`
	} `json:"cases"`
}

// runCase runs one op (a signer op against the file's daemon) on the input with its large values
// written out, turning a panic (a malformed vector or marker, an unknown op) into a failure.
func runCase(daemon *vectorSigner, op string, in fields) (got result, err error, problem error) {
	defer func() {
		if p := recover(); p != nil {
			problem = fmt.Errorf("vector problem: %v", p)
		}
	}()
	in = expandInput(in)
	if strings.HasPrefix(op, "signer_") {
		if daemon == nil {
			panic("op " + op + " needs the file's signer settings (and a signer that started)")
		}
		got, err = daemon.run(op, in)
	} else {
		got, err = runOp(op, in)
	}
	return got, err, nil
}

func runVectorDir(t *tally, dir string) (ran, declared int) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	sort.Strings(files)
	if len(files) == 0 {
		t.failures = append(t.failures, "no vector files in "+dir)
		return 0, 1
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		var doc vectorFile
		if err == nil {
			err = json.Unmarshal(data, &doc)
		}
		if err != nil || doc.Schema != "trustcore-vectors/1" {
			t.failures = append(t.failures, fmt.Sprintf("%s: not a trustcore-vectors/1 file", file))
			declared++
			continue
		}
		declared += doc.NumberOfTests
		// a file with signer settings runs against a live daemon, started for it and stopped after
		var daemon *vectorSigner
		if doc.Signer != nil {
			if daemon, err = startVectorSigner(doc.Signer); err != nil {
				t.failures = append(t.failures, fmt.Sprintf("%s: (signer): %v", filepath.Base(file), err))
			}
		}
		for _, c := range doc.Cases {
			ran++
			t.ran++
			got, err, problem := runCase(daemon, c.Op, c.Input)
			if problem == nil {
				problem = check(got, err, c.Expect)
			}
			if problem != nil {
				t.failures = append(t.failures, fmt.Sprintf("%s: %s: %v", filepath.Base(file), c.ID, problem))
			}
		}
		if daemon != nil {
			if err := daemon.stop(); err != nil {
				t.failures = append(t.failures, fmt.Sprintf("%s: (signer): %v", filepath.Base(file), err))
			}
		}
	}
	return ran, declared
}

// runBiscuitSamples runs the Biscuit specification's samples through Authorize (no time fact,
// default limits, extern function "test"); revocation ids are compared too.
func runBiscuitSamples(t *tally, dir string) (ran, declared int) {
	var doc struct {
		RootPublicKey string `json:"root_public_key"`
		Testcases     []struct {
			Filename    string `json:"filename"`
			Validations map[string]struct {
				Result         map[string]json.RawMessage `json:"result"`
				AuthorizerCode string                     `json:"authorizer_code"`
				RevocationIDs  []string                   `json:"revocation_ids"`
			} `json:"validations"`
		} `json:"testcases"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "samples.json"))
	if err == nil {
		err = json.Unmarshal(data, &doc)
	}
	root, keyErr := TrustIssuer(doc.RootPublicKey)
	if err != nil || keyErr != nil {
		t.failures = append(t.failures, "biscuit-samples: unreadable samples.json")
		return 0, 1
	}
	for _, tc := range doc.Testcases {
		token, readErr := os.ReadFile(filepath.Join(dir, tc.Filename))
		declared += len(tc.Validations)
		for name, v := range tc.Validations {
			ran++
			t.ran++
			where := fmt.Sprintf("biscuit-samples: %s [%s]", tc.Filename, name)
			expect, ok := sampleExpect(v.Result)
			if !ok || readErr != nil {
				t.failures = append(t.failures, where+": unmapped result or unreadable token")
				continue
			}
			got, err := runSample(root, token, v.AuthorizerCode, v.RevocationIDs)
			if problem := check(got, err, expect); problem != nil {
				t.failures = append(t.failures, fmt.Sprintf("%s: %v", where, problem))
			}
		}
	}
	return ran, declared
}

func sampleExpect(r map[string]json.RawMessage) (fields, bool) {
	if ok, found := r["Ok"]; found {
		return fields{"policy": ok}, true
	}
	var kinds map[string]json.RawMessage
	if err := json.Unmarshal(r["Err"], &kinds); err != nil || len(kinds) != 1 {
		return nil, false
	}
	code := ""
	for kind := range kinds {
		switch kind {
		case "Format":
			code = "TOKEN_INVALID"
		case "FailedLogic", "Execution":
			code = "DENIED"
		case "RunLimit":
			code = "LIMIT_EXCEEDED"
		default:
			return nil, false
		}
	}
	return fields{"error": json.RawMessage(strconv.Quote(code))}, true
}

func runSample(root *IssuerKeys, raw []byte, code string, wantIDs []string) (result, error) {
	token, err := ParseTokenBytes(root, raw)
	if err != nil {
		return nil, err
	}
	ids, err := token.RevocationIDs()
	if err != nil {
		return nil, err
	}
	if strings.Join(ids, ",") != strings.Join(wantIDs, ",") {
		return nil, &Error{Code: Internal, Message: "revocation ids differ"}
	}
	policy, err := token.Authorize(code, AuthorizeOptions{ExternFunctions: []string{"test"}})
	return result{"policy": policy}, err
}

// runRFC9421 runs the RFC's own examples ($TRUSTCORE_SHARED/vectors/rfc9421/ed25519.json, read in
// place): the B.2.6 signature base and its verification, then each B.4 message (valid, or
// POP_FAILED): 2 + len(messages) cases.
func runRFC9421(t *tally, dir string) (ran, declared int) {
	var doc struct {
		Key struct {
			PublicRawHex string `json:"public_raw_hex"`
		} `json:"key"`
		Request struct {
			Method  string     `json:"method"`
			Target  string     `json:"target"`
			Headers [][]string `json:"headers"`
			Body    string     `json:"body"`
		} `json:"request"`
		Label          string `json:"label"`
		SignatureInput string `json:"signature_input"`
		Signature      string `json:"signature"`
		SignatureBase  string `json:"signature_base"`
		B4             struct {
			Messages []struct {
				Message     string `json:"message"`
				ExpectValid *bool  `json:"expect_valid"`
			} `json:"messages"`
		} `json:"appendix_b4_transform"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "ed25519.json"))
	if err == nil {
		err = json.Unmarshal(data, &doc)
	}
	if err != nil || doc.Key.PublicRawHex == "" || doc.Label == "" || doc.SignatureBase == "" ||
		len(doc.B4.Messages) == 0 {
		t.failures = append(t.failures, "rfc9421: unreadable ed25519.json, or a field missing")
		return 0, 1
	}
	declared = 2 + len(doc.B4.Messages)
	request := func(method, target string, headers []Pair, body string) json.RawMessage {
		raw, _ := json.Marshal(map[string]any{"method": method, "target": target, "headers": pairsValue(headers),
			"body_hex": hex.EncodeToString([]byte(body))})
		return raw
	}
	quote := func(s string) json.RawMessage {
		raw, _ := json.Marshal(s)
		return raw
	}
	run := func(id, op string, in, expect fields) {
		ran++
		t.ran++
		got, err, problem := runCase(nil, op, in)
		if problem == nil {
			problem = check(got, err, expect)
		}
		if problem != nil {
			t.failures = append(t.failures, fmt.Sprintf("rfc9421: %s: %v", id, problem))
		}
	}
	var headers []Pair
	for _, h := range doc.Request.Headers {
		if len(h) != 2 {
			t.failures = append(t.failures, "rfc9421: a request header that is not [name, value]")
			return ran, declared
		}
		headers = append(headers, Pair{h[0], h[1]})
	}
	withInput := append(append([]Pair{}, headers...), Pair{"Signature-Input", doc.SignatureInput})
	run("B.2.6 signature base", "http_signature_base",
		fields{"request": request(doc.Request.Method, doc.Request.Target, withInput, doc.Request.Body),
			"label": quote(doc.Label)},
		fields{"base": quote(doc.SignatureBase)})
	signed := append(withInput, Pair{"Signature", doc.Signature})
	run("B.2.6 verify", "http_verify_signature",
		fields{"request": request(doc.Request.Method, doc.Request.Target, signed, doc.Request.Body),
			"label": quote(doc.Label), "public_hex": quote(doc.Key.PublicRawHex)},
		fields{})
	for i, m := range doc.B4.Messages {
		id := fmt.Sprintf("B.4 message %d", i)
		lines := strings.Split(m.Message, "\n")
		requestLine := strings.Fields(lines[0])
		var b4 []Pair
		ok := len(requestLine) == 3 && m.ExpectValid != nil
		for _, line := range lines[1:] {
			name, value, found := strings.Cut(line, ": ")
			ok = ok && found
			b4 = append(b4, Pair{name, value})
		}
		if !ok {
			ran++
			t.ran++
			t.failures = append(t.failures, fmt.Sprintf("rfc9421: %s: vector problem: a message that does not read", id))
			continue
		}
		expect := fields{}
		if !*m.ExpectValid {
			expect["error"] = quote("POP_FAILED")
		}
		run(id, "http_verify_signature",
			fields{"request": request(requestLine[0], requestLine[1], b4, ""), "label": quote("transform"),
				"public_hex": quote(doc.Key.PublicRawHex)},
			expect)
	}
	return ran, declared
}

func TestConformance(t *testing.T) {
	shared := sharedDir()
	sources := []struct {
		name string
		run  func(*tally) (int, int)
	}{
		{"trust-core-0.1", func(t *tally) (int, int) {
			return runVectorDir(t, filepath.Join(shared, "vectors", "trust-core-0.1"))
		}},
		{"tests/vectors", func(t *tally) (int, int) {
			return runVectorDir(t, filepath.Join(repoRoot(), "tests", "vectors"))
		}},
		{"biscuit-samples", func(t *tally) (int, int) {
			return runBiscuitSamples(t, filepath.Join(shared, "vectors", "biscuit-samples", "current"))
		}},
		{"rfc9421", func(t *tally) (int, int) {
			return runRFC9421(t, filepath.Join(shared, "vectors", "rfc9421"))
		}},
	}
	var all tally
	countsOK := true
	for _, s := range sources {
		ran, declared := s.run(&all)
		fmt.Printf("conformance %s: %d cases run, %d declared\n", s.name, ran, declared)
		if ran != declared {
			countsOK = false
			t.Errorf("COUNT MISMATCH %s: ran %d cases but the files declare %d", s.name, ran, declared)
		}
	}
	for _, f := range all.failures {
		t.Errorf("FAILED %s", f)
	}
	fmt.Printf("conformance: %d passed, %d failed\n", all.ran-len(all.failures), len(all.failures))
	if !countsOK || len(all.failures) > 0 {
		t.Fail()
	}
}
