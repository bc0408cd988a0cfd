"""Seed each fuzz target's corpus from the conformance vectors, read in place (nothing from
../shared is copied into the repository: corpora live in fuzz/corpus/, which git ignores).

usage: python3 seed_corpora.py REPO_ROOT SHARED_DIR
"""

import json
import pathlib
import sys


def cases(paths):
    for path in paths:
        doc = json.loads(path.read_text())
        for case in doc.get("cases", []):
            yield case


def raw_request(request: dict) -> bytes:
    head = [f"{request['method']} {request['target']}"] + [f"{name}: {value}" for name, value in request["headers"]]
    body = request.get("body", "")
    body = bytes.fromhex(request["body_hex"]) if "body_hex" in request else body.encode()
    return "\r\n".join(head).encode() + b"\r\n\r\n" + body


def main() -> int:
    root, shared = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    files = sorted((shared / "vectors" / "trust-core-0.1").glob("*.json")) + sorted((root / "tests" / "vectors").glob("*.json"))
    seeds: dict[str, list[bytes]] = {t: [] for t in
        ["frame_decode", "proof_parse", "token_authenticate", "canonical_request", "jcs_jobs", "signer_dispatch",
         "http_signature", "http_route_policy", "http_decide", "delegated_token", "signature_base_differential"]}
    for case in cases(files):
        op, data = case["op"], case["input"]
        if op in ("frame_decode", "signer_exchange") and "frame_hex" in data:
            frame = bytes.fromhex(data["frame_hex"])
            seeds["frame_decode"].append(frame)
            seeds["signer_dispatch"].append(frame[4:])
        if op == "frame_encode":
            seeds["jcs_jobs"].append(json.dumps(data["object"]).encode())
        if op == "proof_from_headers":
            seeds["proof_parse"].append("\n".join(f"{k}: {v}" for k, v in data["headers"].items()).encode())
        if op == "proof_from_query":
            seeds["proof_parse"].append("&".join(f"{k}={v}" for k, v in data["query"].items()).encode())
        token = data.get("token") or (data.get("proof") or {}).get("token")
        if isinstance(token, str):
            seeds["token_authenticate"].append(token.encode())
        if op == "canonical_request":
            body = bytes.fromhex(data["body_hex"]).decode("utf-8", "replace")
            seeds["canonical_request"].append(
                "\x1f".join([data["method"], data["path"], data["timestamp"], data["nonce"], body]).encode())
        if op in ("sign_job", "verify_job"):
            seeds["jcs_jobs"].append(json.dumps(data["job"]).encode())
        # the HTTP targets read a request as on the wire (fuzz/fuzz_targets/common/raw_request.rs)
        requests = [step["request"] for step in data.get("steps", []) if "request" in step]
        requests += [data["request"]] if isinstance(data.get("request"), dict) else []
        requests = [r for r in requests if {"method", "target", "headers"} <= r.keys()]
        for request in requests:
            wire = raw_request(request)
            for target in ("http_signature", "http_decide", "signature_base_differential"):
                seeds[target].append(wire)
        if isinstance(data.get("policy"), str):
            for line in ("GET /health", "POST /lease/a", "GET /health/../admin"):
                seeds["http_route_policy"].append(data["policy"].encode() + b"\0" + line.encode())
    for biscuit in sorted((shared / "vectors" / "biscuit-samples" / "current").glob("*.bc")):
        seeds["token_authenticate"].append(biscuit.read_bytes())
    seeds["delegated_token"].append(b"")  # no edit: the token as delegated, accepted
    for target, items in seeds.items():
        folder = root / "fuzz" / "corpus" / target
        folder.mkdir(parents=True, exist_ok=True)
        for i, item in enumerate(dict.fromkeys(items)):
            (folder / f"seed-{i:04d}").write_bytes(item)
        print(f"{target}: {len(set(items))} seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
