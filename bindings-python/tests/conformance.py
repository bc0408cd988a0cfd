"""The Python conformance runner: the same ops, sources and counts as cli/tests/conformance.rs.

Vectors are read in place: ``$TRUSTCORE_SHARED`` (default ``../shared`` beside the repository) for
trust-core 0.1's vectors and the Biscuit samples, ``tests/vectors/`` for the project's own. Codes
are compared, never messages. Ops and fields: tests/vectors/README.md. Each case's input has its
large values (``$repeat``, ``$nest``, ``$nest_list``) written out by :func:`expand` before it runs.

A file with ``signer`` settings (tests/vectors/signer.json) runs against a live
``$TRUSTCORE_BIN signer serve``, started once for the file (:class:`SignerDaemons`) and stopped
after it with SIGTERM, which must exit 0 and remove the socket, as cli/tests/conformance/signer.rs
does: ``signer_exchange`` sends raw frames on a fresh connection, ``signer_call`` makes the same
requests through :class:`trustcore.SignerClient`.

The HTTP ops (tests/vectors/http.json) and the RFC 9421 examples
(``$TRUSTCORE_SHARED/vectors/rfc9421/ed25519.json``, read in place, a fourth source:
B.2.6's signature base and signature, and each B.4 message) go through :mod:`trustcore.http` and
:meth:`trustcore.Verifier.decide`, as tests/vectors/README.md ("HTTP") says.

``verifier_sequence`` (tests/vectors/verifier.json, identifiers.json) runs steps through one
stateful :class:`trustcore.Verifier` (memory stores), as core's runner does; an
``authenticate_batch`` step's outcome is the list of its requests' outcomes, or the one code of a
batch refused whole; ``revoke_token`` parses its token with the case's issuer key(s) first.

The delegation ops (tests/vectors/delegation.json, README "Delegation"): ``delegate`` runs
:func:`trustcore.delegate` and gives the new token's chain (:meth:`trustcore.Token.delegation_chain`,
the token parsed with the issuer key); ``delegation_sequence`` runs each step (a holder's
``POST /lease`` proof, then its policy) through one :class:`trustcore.Verifier` and gives the
identity's holder id and chain, or the step's code.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trustcore as tc

from signer_daemon import Daemon

REPO_ROOT = Path(__file__).resolve().parents[2]


def shared_dir() -> Path:
    return Path(os.environ.get("TRUSTCORE_SHARED") or REPO_ROOT.parent / "shared")


@dataclass(frozen=True)
class Case:
    source: str
    name: str  # file (and validation) plus case id, for the report
    op: str
    input: Any
    expect: dict[str, Any]
    signer: SignerSettings | None = None  # the file's `signer` settings, for the signer_* ops


@dataclass(frozen=True)
class SignerSettings:
    """A vector file's ``signer`` object: the daemon to start for its cases."""

    file: str
    issuer_seed_hex: str
    issuer_public_hex: str
    args: tuple[str, ...]


@dataclass
class Source:
    name: str
    declared: int = 0
    cases: list[Case] = field(default_factory=list)
    problem: str | None = None  # why the source could not be loaded
    signer_files: list[SignerSettings] = field(default_factory=list)


# ---- loading ------------------------------------------------------------------------------------


def load_vector_dir(name: str, directory: Path) -> Source:
    source = Source(name)
    files = sorted(directory.glob("*.json")) if directory.is_dir() else []
    if not files:
        source.problem = f"no vector files in {directory}"
        return source
    for path in files:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("schema") != "trustcore-vectors/1":
            source.problem = f"{path}: schema is not trustcore-vectors/1"
            return source
        source.declared += int(doc["numberOfTests"])
        given = doc.get("signer")
        settings = None
        if given is not None:
            settings = SignerSettings(
                path.name, given["issuer_seed_hex"], given["issuer_public_hex"], tuple(given["args"])
            )
            source.signer_files.append(settings)
        for case in doc["cases"]:
            source.cases.append(
                Case(name, f"{path.name}::{case.get('id', '?')}", case["op"], case["input"], case["expect"], settings)
            )
    return source


# The samples' error kinds, as codes (tests/vectors/README.md).
SAMPLE_ERRORS = {
    "Format": "TOKEN_INVALID",
    "FailedLogic": "DENIED",
    "Execution": "DENIED",
    "RunLimit": "LIMIT_EXCEEDED",
}


def load_biscuit_samples(directory: Path) -> Source:
    source = Source("biscuit-samples")
    samples = directory / "samples.json"
    if not samples.is_file():
        source.problem = f"{samples} not found (set TRUSTCORE_SHARED)"
        return source
    doc = json.loads(samples.read_text(encoding="utf-8"))
    root = doc["root_public_key"]
    for case in doc["testcases"]:
        filename = case["filename"]
        validations = case["validations"]
        source.declared += len(validations)
        for name in sorted(validations):  # the Rust runner's BTreeMap order
            validation = validations[name]
            result = validation["result"]
            if "Ok" in result:
                expect: dict[str, Any] = {"policy": result["Ok"]}
            else:
                kind = next(iter(result["Err"]))
                if kind not in SAMPLE_ERRORS:
                    raise ValueError(f"{filename}: unmapped error kind {kind!r}")
                expect = {"error": SAMPLE_ERRORS[kind]}
            sample_input = {
                "root_public_key": root,
                "token_path": str(directory / filename),
                "authorizer_code": validation["authorizer_code"],
                "revocation_ids": validation["revocation_ids"],
            }
            source.cases.append(Case(source.name, f"{filename} [{name}]", "biscuit_sample", sample_input, expect))
    return source


def http_request_value(method: str, target: str, headers: list[list[str]], body: bytes) -> dict[str, Any]:
    """A request as the HTTP vectors write it."""
    return {"method": method, "target": target, "headers": headers, "body_hex": body.hex()}


def load_rfc9421(path: Path) -> Source:
    """RFC 9421's own Ed25519 examples (tests/vectors/README.md, "The RFC's own examples"): 2 cases
    for B.2.6 (the signature base, then the signature) and one per B.4 message."""
    source = Source("rfc9421")
    if not path.is_file():
        source.problem = f"{path} not found (set TRUSTCORE_SHARED)"
        return source
    doc = json.loads(path.read_text(encoding="utf-8"))
    transform = doc["appendix_b4_transform"]
    source.declared = 2 + len(transform["messages"])
    given = doc["request"]
    body = given["body"].encode("utf-8")
    with_input = [list(pair) for pair in given["headers"]] + [["Signature-Input", doc["signature_input"]]]
    public_hex = doc["key"]["public_raw_hex"]
    label = doc["label"]
    source.cases.append(
        Case(
            source.name,
            f"{path.name}::B.2.6 signature base",
            "http_signature_base",
            {"request": http_request_value(given["method"], given["target"], with_input, body), "label": label},
            {"base": doc["signature_base"]},
        )
    )
    signed = with_input + [["Signature", doc["signature"]]]
    source.cases.append(
        Case(
            source.name,
            f"{path.name}::B.2.6 signature",
            "http_verify_signature",
            {
                "request": http_request_value(given["method"], given["target"], signed, body),
                "label": label,
                "public_hex": public_hex,
            },
            {},
        )
    )
    for index, message in enumerate(transform["messages"]):
        request_line, *lines = message["message"].split("\n")
        method, target, _version = request_line.split(" ")
        headers = [list(line.split(": ", 1)) for line in lines]
        source.cases.append(
            Case(
                source.name,
                f"{path.name}::B.4 message {index}",
                "http_verify_signature",
                {
                    "request": http_request_value(method, target, headers, b""),
                    "label": "transform",
                    "public_hex": public_hex,
                },
                {} if message["expect_valid"] else {"error": "POP_FAILED"},
            )
        )
    return source


def load_sources() -> list[Source]:
    shared = shared_dir() / "vectors"
    return [
        load_vector_dir("trust-core-0.1", shared / "trust-core-0.1"),
        load_vector_dir("tests/vectors", REPO_ROOT / "tests" / "vectors"),
        load_biscuit_samples(shared / "biscuit-samples" / "current"),
        load_rfc9421(shared / "rfc9421" / "ed25519.json"),
    ]


# ---- large values ------------------------------------------------------------------------------


def expand(value: Any) -> Any:
    """A case's input with its large values written out (tests/vectors/README.md, "Large values"),
    as cli/tests/conformance.rs's ``expand`` does: an object whose only member is
    ``{"$repeat": [TEXT, N]}`` is TEXT N times, ``{"$nest": [KEY, N, LEAF]}`` LEAF inside N objects
    ``{KEY: …}``, ``{"$nest_list": [N, LEAF]}`` LEAF inside N arrays; LEAF is expanded first. The
    nesting is built bottom-up in a loop (10,000 levels would pass Python's recursion limit); only the
    file's own, compact form is walked recursively."""
    if isinstance(value, list):
        return [expand(item) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, args),) = value.items()
        if key == "$repeat" and isinstance(args, list) and len(args) == 2:
            text, count = args
            if not isinstance(text, str) or as_u64(count) is None:
                raise ValueError(f"$repeat takes [TEXT, N], not {args!r}")
            return text * count
        if key == "$nest" and isinstance(args, list) and len(args) == 3:
            name, count, leaf = args
            if not isinstance(name, str) or as_u64(count) is None:
                raise ValueError(f"$nest takes [KEY, N, LEAF], not {args!r}")
            nested = expand(leaf)
            for _ in range(count):
                nested = {name: nested}
            return nested
        if key == "$nest_list" and isinstance(args, list) and len(args) == 2:
            count, leaf = args
            if as_u64(count) is None:
                raise ValueError(f"$nest_list takes [N, LEAF], not {args!r}")
            nested = expand(leaf)
            for _ in range(count):
                nested = [nested]
            return nested
    return {key: expand(item) for key, item in value.items()}


# ---- ops ----------------------------------------------------------------------------------------


# The integer settings of `limits`, as core's runner reads them (`as_u64`).
LIMIT_COUNTS = (
    "max_facts",
    "max_iterations",
    "max_token_bytes",
    "max_blocks",
    "max_block_facts",
    "max_block_rules",
    "max_body_atoms",
    "max_body_ops",
    "max_join_size",
)


def as_u64(value: Any) -> int | None:
    """serde_json's ``as_u64``: an integer in u64's range (not a bool, not a float), else None."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 64:
        return value
    return None


def as_f64(value: Any) -> float | None:
    """serde_json's ``as_f64``: any number (not a bool), else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def limits(i: dict[str, Any]) -> tc.Limits | None:
    """The case's ``limits`` (core's runner: a field missing, or of another JSON type, keeps the
    default)."""
    given = i.get("limits")
    if not isinstance(given, dict):
        return None
    regex = given.get("allow_appended_regex")
    return tc.Limits(
        max_time_ms=as_f64(given.get("max_time_ms")),
        allow_appended_regex=regex if isinstance(regex, bool) else None,
        **{name: as_u64(given.get(name)) for name in LIMIT_COUNTS},
    )


def issuer(i: dict[str, Any]) -> tc.IssuerPublicKeys:
    keys = i.get("issuer_keys")
    if isinstance(keys, dict):
        return {int(key_id): public_hex for key_id, public_hex in keys.items()}
    return str(i["issuer_public_hex"])


def request(i: dict[str, Any]) -> tc.RequestParts:
    return tc.RequestParts(i["method"], i["path"], bytes.fromhex(i["body_hex"]))


def proof_value(p: tc.WorkerProof) -> dict[str, str]:
    return {"token": p.token, "signature": p.signature, "timestamp": p.timestamp, "nonce": p.nonce}


def run_op(op: str, i: dict[str, Any]) -> dict[str, Any]:
    """Run one case; returns the result fields, or raises the TrustError the call raised."""
    if op == "public_key":
        return {"public_hex": tc.WorkerKey.from_secret_hex(i["seed_hex"]).public_hex}
    if op == "canonical_request":
        return {"canonical_hex": request(i).canonical(timestamp=i["timestamp"], nonce=i["nonce"]).hex()}
    if op == "make_proof":
        worker = tc.WorkerKey.from_secret_hex(i["worker_seed_hex"])
        proof = tc.make_proof(worker, i["token"], request(i), timestamp=i["timestamp"], nonce=i["nonce"])
        return {"signature_hex": proof.signature, "headers": proof.headers()}
    if op == "authenticate":
        _, identity = tc.authenticate(
            issuer(i),
            tc.WorkerProof(**i["proof"]),
            request(i["request"]),
            now=i["now"],
            revoked_ids=list(i["revoked_ids"]),
            max_skew_seconds=i["max_skew_seconds"],
            limits=limits(i),
        )
        return {
            "identity": {
                "holder_id": identity.holder_id,
                "holder_public_hex": identity.holder_public_hex,
                "revocation_id": identity.revocation_id,
            }
        }
    if op == "check_policy":
        token = tc.parse_token(issuer(i), i["token"])
        tc.check_policy(token, request_facts=i["request_facts"], allow=i["allow"], now=i["now"], limits=limits(i))
        return {"ok": True}
    if op == "authorize":
        token = tc.parse_token(issuer(i), i["token"])
        extern = i.get("extern_functions") or []
        return {"policy": token.authorize(i["code"], i["now"], limits=limits(i), extern_functions=extern)}
    if op == "inspect":
        token = tc.parse_token(issuer(i), i["token"])
        return {
            "block_count": token.block_count(),
            "blocks": [token.block_source(n) for n in range(token.block_count())],
            "revocation_ids": token.revocation_ids,
            "root_key_id": token.root_key_id(),
        }
    if op == "mint":
        issuer_key = tc.IssuerKey.from_secret_hex(i["issuer_seed_hex"])
        token_b64 = tc.mint_biscuit(
            issuer_key,
            public_hex=i["public_hex"],
            holder_id=i["holder_id"],
            facts=i["facts"],
            revocation_id=i["revocation_id"],
            expires_at=i["expires_at"],
            root_key_id=i.get("root_key_id"),
            delegation_depth=i.get("delegation_depth", 0),
        )
        return {"authority_source": tc.parse_token(issuer_key.public_hex, token_b64).block_source(0)}
    if op == "sign_job":
        issuer_key = tc.IssuerKey.from_secret_hex(i["issuer_seed_hex"])
        return {"signature_hex": tc.sign_job(issuer_key, i["job"], worker_id=i["worker_id"])}
    if op == "verify_job":
        tc.verify_job(i["issuer_public_hex"], i["job"], worker_id=i["worker_id"], now=i.get("now"))
        return {"ok": True}
    if op == "frame_encode":
        return {"frame_hex": tc.wire.encode_frame(i["object"]).hex()}
    if op == "frame_decode":
        return {"object": tc.wire.decode_frame(bytes.fromhex(i["frame_hex"]))}
    if op == "proof_from_headers":
        return {"proof": proof_value(tc.proof_from_headers(i["headers"]))}
    if op == "proof_from_query":
        return {"proof": proof_value(tc.proof_from_query(i["query"]))}
    if op == "biscuit_sample":
        # parsed from the raw .bc bytes; no time fact, default limits, the extern function `test`
        token = tc.parse_token(i["root_public_key"], Path(i["token_path"]).read_bytes())
        if token.revocation_ids != i["revocation_ids"]:
            raise tc.Internal(f"revocation ids differ: {token.revocation_ids} != {i['revocation_ids']}")
        return {"policy": token.authorize(i["authorizer_code"], None, extern_functions=["test"])}
    if op == "verifier_sequence":
        return verifier_sequence(i)
    if op == "delegate":
        return delegate(i)
    if op == "delegation_sequence":
        return delegation_sequence(i)
    if op == "http_decide":
        return http_decide(i)
    if op == "http_policy":
        policy = tc.HttpPolicy.from_json(i["policy"])
        return {"routes": len(policy), "max_body_bytes": policy.max_body_bytes}
    if op == "http_sign":
        headers = tc.http.sign_request(
            tc.WorkerKey.from_secret_hex(i["holder_secret_hex"]),
            i["token"],
            i["method"],
            i["url"],
            pairs(i["headers"]),
            bytes.fromhex(i["body_hex"]),
            profile=i["profile"],
            created=i["created"],
            nonce=i["nonce"],
        )
        return {"headers": [[name, value] for name, value in headers.items()]}
    if op == "http_signature_base":
        r = i["request"]
        base = tc.http.signature_base(r["method"], r["target"], pairs(r["headers"]), i["label"], bytes.fromhex(r["body_hex"]))
        return {"base": base.decode("utf-8")}
    if op == "http_verify_signature":
        r = i["request"]
        tc.http.verify_signature(
            r["method"], r["target"], pairs(r["headers"]), i["label"], i["public_hex"], bytes.fromhex(r["body_hex"])
        )
        return {}
    raise ValueError(f"unknown op {op!r}")


def pairs(given: list[list[str]]) -> list[tuple[str, str]]:
    """``[[name, value], …]`` as the pairs the binding takes, in order."""
    return [(name, value) for name, value in given]


def http_decide(i: dict[str, Any]) -> dict[str, Any]:
    """One Verifier (memory stores) and one route policy through a list of requests: each step's
    decision as the vectors write it, or ``{"error": CODE}`` for a call that raised (a bad
    application fact); a refusal does not end the steps."""
    settings = i["verifier"]
    verifier = tc.Verifier(
        str(settings["issuer_public_hex"]),
        max_skew_seconds=settings["max_skew_seconds"],
        revoked_ids=settings.get("revoked_ids"),
        authorities=settings["authorities"],
        profiles=settings["profiles"],
    )
    policy = tc.HttpPolicy.from_json(i["policy"])
    decisions: list[dict[str, Any]] = []
    for step in i["steps"]:
        r = step["request"]
        facts = step.get("facts")
        try:
            decision = verifier.decide(
                r["method"],
                r["target"],
                pairs(r["headers"]),
                bytes.fromhex(r["body_hex"]),
                policy=policy,
                facts=None if facts is None else pairs(facts),
                now=step["now"],
            )
        except tc.TrustError as err:
            decisions.append({"error": err.code})
            continue
        decisions.append(
            {
                "allowed": decision.allowed,
                "status": decision.status,
                "code": decision.code,
                "route": decision.route,
                "profile": decision.profile,
                "holder_id": None if decision.identity is None else decision.identity.holder_id,
                "facts": [[name, value] for name, value in decision.facts],
                "headers": [[name, value] for name, value in decision.headers],
            }
        )
    return {"decisions": decisions}


def verifier_sequence(i: dict[str, Any]) -> dict[str, Any]:
    """The stateful Verifier through a sequence of steps (cli/tests/conformance.rs does the same):
    each step's outcome is "OK", its error code, for ``cache_stats`` "hits=H misses=M", and for
    ``authenticate_batch`` the list of "OK" or code, one per request (or the one code of a batch
    refused whole); a step's failure does not end the sequence. A verifier that cannot be built
    fails the case."""
    verifier = tc.Verifier(
        issuer(i),
        max_skew_seconds=i["max_skew_seconds"],
        limits=limits(i),
        replay_capacity=as_u64(i.get("replay_capacity")),
        replay_capacity_per_holder=as_u64(i.get("replay_capacity_per_holder")),
        revoked_ids=i.get("revoked_ids"),
        token_cache_max_bytes=as_u64(i.get("token_cache_max_bytes")),
        max_batch_requests=as_u64(i.get("max_batch_requests")),
        max_batch_body_bytes=as_u64(i.get("max_batch_body_bytes")),
    )
    token: tc.Token | None = None
    outcomes: list[str | list[str]] = []
    for step in i["steps"]:
        if len(step) != 1:
            raise ValueError(f"a step has exactly one action, not {sorted(step)}")
        ((action, args),) = step.items()
        if action == "authenticate_batch":
            # a TrustError only for a batch refused whole (each request carries its own); sets no token
            outcomes.append(verifier_batch(verifier, args))
            continue
        try:
            if action == "authenticate":
                token, _ = verifier.authenticate(tc.WorkerProof(**args["proof"]), request(args["request"]), now=args["now"])
                outcome = "OK"
            elif action == "check_policy":
                if token is None:
                    raise ValueError("check_policy before an accepted authenticate")
                verifier.check_policy(token, request_facts=args["request_facts"], allow=args["allow"], now=args["now"])
                outcome = "OK"
            elif action == "revoke":
                if not isinstance(args, str):
                    raise ValueError(f"revoke takes an id, not {args!r}")
                verifier.revoke(args)
                outcome = "OK"
            elif action == "revoke_token":
                if not isinstance(args, str):
                    raise ValueError(f"revoke_token takes a token, not {args!r}")
                # parsed with the case's issuer key(s), as core's runner does
                verifier.revoke_token(tc.parse_token(issuer(i), args))
                outcome = "OK"
            elif action == "verify_job":
                verifier.verify_job(args["job"], worker_id=args["worker_id"], now=args["now"])
                outcome = "OK"
            elif action == "cache_stats":
                hits, misses = verifier.cache_stats()
                outcome = f"hits={hits} misses={misses}"
            else:
                raise ValueError(f"unknown verifier step {action!r}")
        except tc.TrustError as err:
            outcome = err.code
        outcomes.append(outcome)
    return {"outcomes": outcomes}


def chain_value(chain: list[tc.Holder] | tuple[tc.Holder, ...]) -> list[list[str]]:
    return [[holder.holder_id, holder.holder_public_hex] for holder in chain]


def delegate(i: dict[str, Any]) -> dict[str, Any]:
    """``delegate``: the delegated token's chain, read from it parsed with the issuer key."""
    token = tc.delegate(
        i["token"],
        tc.WorkerKey.from_secret_hex(i["holder_secret_hex"]),
        i["to_public_hex"],
        i["to_holder_id"],
        i["checks"],
        expires_at=i["expires_at"],
    )
    chain = tc.parse_token(issuer(i), token).delegation_chain()
    if chain is None:
        raise tc.Internal("a delegated token has no delegation chain")
    return {"chain": chain_value(chain)}


def delegation_sequence(i: dict[str, Any]) -> dict[str, Any]:
    """``delegation_sequence``: one Verifier (memory stores); each step signs ``POST /lease`` with
    body ``{}`` at ``now`` (whole seconds) and its nonce with its holder's key, authenticates, then
    checks its policy; its outcome is the identity's holder id and chain, or ``{"error": CODE}``.
    A step's failure does not end the sequence."""
    verifier = tc.Verifier(issuer(i), revoked_ids=i.get("revoked_ids"))
    now = i["now"]
    timestamp = str(int(now // 1))
    outcomes: list[dict[str, Any]] = []
    for step in i["steps"]:
        parts = tc.RequestParts("POST", "/lease", b"{}")
        try:
            key = tc.WorkerKey.from_secret_hex(step["holder_secret_hex"])
            proof = tc.make_proof(key, step["token"], parts, timestamp=timestamp, nonce=step["nonce"])
            token, identity = verifier.authenticate(proof, parts, now=now)
            verifier.check_policy(token, request_facts=step["request_facts"], allow=step["allow"], now=now)
        except tc.TrustError as err:
            outcomes.append({"error": err.code})
            continue
        outcomes.append({"holder_id": identity.holder_id, "chain": chain_value(identity.chain)})
    return {"outcomes": outcomes}


def verifier_batch(verifier: tc.Verifier, args: dict[str, Any]) -> str | list[str]:
    """An ``authenticate_batch`` step (core's ``verifier_batch``): one outcome per request, in
    order, or the one code of a batch refused whole (raised)."""
    batch = [(tc.WorkerProof(**r["proof"]), request(r["request"])) for r in args["requests"]]
    try:
        outcomes = verifier.authenticate_batch(batch, now=args["now"])
    except tc.TrustError as err:
        return err.code
    return [outcome.code if isinstance(outcome, tc.TrustError) else "OK" for outcome in outcomes]


# ---- the signer ops ------------------------------------------------------------------------------


class SignerDaemons:
    """The live daemons of the files with ``signer`` settings: one per file, started at its first
    case, stopped by :meth:`stop` (SIGTERM: exit status 0 and the socket removed, or it fails)."""

    def __init__(self) -> None:
        self.running: dict[str, Daemon] = {}

    def get(self, settings: SignerSettings) -> Daemon:
        daemon = self.running.get(settings.file)
        if daemon is None:
            daemon = Daemon(settings.issuer_seed_hex, settings.args).start()
            self.running[settings.file] = daemon
        return daemon

    def stop(self, settings: SignerSettings) -> None:
        daemon = self.running.pop(settings.file, None)
        if daemon is None:
            return
        try:
            daemon.stop()
        finally:
            daemon.cleanup()

    def stop_all(self) -> None:
        for daemon in self.running.values():
            daemon.cleanup()
        self.running.clear()


def signer_exchange(daemon: Daemon, frame: bytes) -> dict[str, Any]:
    """Send ``frame`` on a fresh connection, close the writing half, read one answer frame."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10.0)
        sock.connect(str(daemon.socket_path))
        sock.sendall(frame)
        sock.shutdown(socket.SHUT_WR)
        try:
            answer = tc.wire.recv_frame(sock)
        except tc.TrustError as err:
            # the daemon's answer itself is broken: a failure of the case, never an expected code
            raise AssertionError(f"no answer frame from the signer: {err.code} ({err})") from err
        while sock.recv(65536):
            pass
    return answer


def signer_outcome(settings: SignerSettings, result: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The result, plus what its token says (block 0, root key id) when it has one."""
    outcome: dict[str, Any] = {"result": result, **extra}
    token = result.get("token")
    if isinstance(token, str):
        parsed = tc.parse_token(settings.issuer_public_hex, token)
        outcome["token_authority_source"] = parsed.block_source(0)
        outcome["token_root_key_id"] = parsed.root_key_id()
    return outcome


def run_signer_op(settings: SignerSettings, daemon: Daemon, op: str, i: dict[str, Any]) -> dict[str, Any]:
    if op == "signer_exchange":
        answer = signer_exchange(daemon, bytes.fromhex(i["frame_hex"]))
        if answer.get("ok") is True:
            return signer_outcome(settings, answer["result"], id=answer.get("id"))
        code = answer["error"]["code"]
        raise tc.ERRORS_BY_CODE[code]("signer refused")  # an unknown code is a KeyError: the case fails
    if op == "signer_call":
        client = tc.SignerClient(i.get("address") or str(daemon.socket_path))
        args = i["args"]
        call = i["call"]
        if call == "public_key":
            public_key, key_id = client.public_key()
            result: dict[str, Any] = {"public_key": public_key, "key_id": key_id}
        elif call == "health":
            result = client.health()
        elif call == "mint":
            minted = client.mint(
                args["public_hex"],
                args["holder_id"],
                {predicate: values for predicate, values in args["facts"]},  # pairs, in order
                expires_at=args["expires_at"],
                revocation_id=args.get("revocation_id"),
            )
            result = {"token": minted.token, "revocation_id": minted.revocation_id, "expires_at": minted.expires_at}
        elif call == "sign_job":
            result = {"sig": client.sign_job(args["job"], args["worker_id"])}
        else:
            raise ValueError(f"unknown signer call {call!r}")
        return signer_outcome(settings, result)
    raise ValueError(f"unknown signer op {op!r}")


_MISSING = object()


def check(case: Case, daemons: SignerDaemons | None = None) -> str | None:
    """None when the case passes, else why it failed. The signer ops need ``daemons``."""
    want_code = case.expect.get("error")
    given = expand(case.input)  # written out for this case only: the huge values are not kept
    try:
        if case.op.startswith("signer_"):
            if case.signer is None or daemons is None:
                raise ValueError(f"{case.name}: op {case.op} needs the file's signer settings and a daemon")
            got = run_signer_op(case.signer, daemons.get(case.signer), case.op, given)
        else:
            got = run_op(case.op, given)
    except tc.TrustError as err:
        if want_code == err.code:
            return None
        wanted = want_code or "success"
        return f"expected {wanted}, got {err.code} ({err})"
    if want_code is not None:
        return f"expected {want_code}, got success {got}"
    for key, want in case.expect.items():
        if key == "result":
            # the signer ops: field by field (a field not there compares as null, as in Rust)
            for name, want_field in want.items():
                got_field = got["result"].get(name)
                if not same_json(got_field, want_field):
                    return f"result.{name}: expected {want_field!r}, got {got_field!r}"
        elif key == "result_has":
            for name in want:
                if got["result"].get(name, _MISSING) is _MISSING:
                    return f"result has no {name}"
        elif key not in got or not same_json(got[key], want):
            return f"{key}: expected {want!r}, got {got.get(key)!r}"
    return None


def same_json(got: Any, want: Any) -> bool:
    """Equality as JSON values: 1 and 1.0 differ, as do True and 1 (serde_json's equality)."""
    if type(got) is not type(want) and not (isinstance(got, (list, tuple)) and isinstance(want, list)):
        return False
    if isinstance(want, dict):
        return got.keys() == want.keys() and all(same_json(got[k], want[k]) for k in want)
    if isinstance(want, list):
        return len(got) == len(want) and all(same_json(g, w) for g, w in zip(got, want))
    return bool(got == want)
