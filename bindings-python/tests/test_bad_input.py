"""Every public function, with every argument replaced in turn by a bad value (wrong type, None,
empty, huge, non-UTF-8, bytes where str is expected): the call returns or raises TrustError or
TypeError, never anything else, and never crashes the interpreter."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest

import trustcore as tc
from trustcore import wire

from helpers import scene

S = scene()
TOKEN, _ = S.authenticate()
JOB = {"id": "j1", "n": 1}
SIGNED_JOB = {**JOB, "sig": tc.sign_job(S.issuer, JOB, worker_id="w")}
HUGE = "A" * (1 << 21)
DELEGABLE = tc.mint_biscuit(
    S.issuer,
    public_hex=S.worker.public_hex,
    holder_id="h",
    facts={"right": ["read"]},
    revocation_id="r",
    expires_at=S.now + 60,
    delegation_depth=1,
)
NEXT_HOLDER = tc.WorkerKey(seed=b"\x05" * 32)

BAD: dict[str, Any] = {
    "None": None,
    "int": 7,
    "negative": -1,
    "float": 1.5,
    "nan": float("nan"),
    "inf": float("inf"),
    "huge_int": 10**400,
    "bool": True,
    "bytes": b"abc",
    "non_utf8_bytes": b"\xff\xfe\xfd",
    "bytearray": bytearray(b"\x00" * 32),
    "empty_str": "",
    "lone_surrogate": "\udcff",
    "nul": "a\x00b",
    "huge_str": HUGE,
    "huge_bytes": b"\x00" * (1 << 22),
    "list": ["a", None],
    "dict": {"a": None},
    "object": object(),
}


def sign(message: Any) -> object:
    return S.worker.sign(message)


def canonical(method: Any, path: Any, body: Any, timestamp: Any, nonce: Any) -> object:
    return tc.RequestParts(method, path, body).canonical(timestamp=timestamp, nonce=nonce)


def headers(token: Any, signature: Any, timestamp: Any, nonce: Any) -> object:
    return tc.WorkerProof(token, signature, timestamp, nonce).headers()


def authenticate_fields(**fields: Any) -> object:
    proof = {"token": S.proof.token, "signature": S.proof.signature, "timestamp": S.proof.timestamp, "nonce": S.proof.nonce}
    request = {"method": S.request.method, "path": S.request.path, "body": S.request.body}
    proof.update({k: v for k, v in fields.items() if k in proof})
    request.update({k: v for k, v in fields.items() if k in request})
    return tc.authenticate(
        S.issuer.public_hex,
        tc.WorkerProof(**proof),
        tc.RequestParts(**request),
        now=S.now,
        revoked_ids=frozenset(),
        max_skew_seconds=30,
    )


def block_source(index: Any) -> object:
    return TOKEN.block_source(index)


def token_authorize(datalog: Any, now: Any, limits: Any, extern_functions: Any) -> object:
    return TOKEN.authorize(datalog, now, limits=limits, extern_functions=extern_functions)


def verifier_authenticate(proof: Any, request: Any, now: Any) -> object:
    return tc.Verifier(S.issuer.public_hex).authenticate(proof, request, now=now)


def verifier_batch(requests: Any, now: Any) -> object:
    return tc.Verifier(S.issuer.public_hex).authenticate_batch(requests, now=now)


def verifier_batch_fields(**fields: Any) -> object:
    # the fields of the second request of a batch; the first is good
    proof = {"token": S.proof.token, "signature": S.proof.signature, "timestamp": S.proof.timestamp, "nonce": S.proof.nonce}
    request = {"method": S.request.method, "path": S.request.path, "body": S.request.body}
    proof.update({k: v for k, v in fields.items() if k in proof})
    request.update({k: v for k, v in fields.items() if k in request})
    batch = [(S.proof, S.request), (tc.WorkerProof(**proof), tc.RequestParts(**request))]
    return tc.Verifier(S.issuer.public_hex).authenticate_batch(batch, now=S.now)


def verifier_call(method: str) -> Callable[..., object]:
    def call(*args: Any, **kwargs: Any) -> object:
        return getattr(tc.Verifier(S.issuer.public_hex), method)(*args, **kwargs)

    return call


def over_socket(kind: str) -> Callable[..., object]:
    def call(sock: Any = None, payload: Any = None) -> object:
        a, b = socket.socketpair()
        with a, b:
            a.settimeout(1)
            b.settimeout(1)
            if kind == "send":
                return wire.send_frame(a if sock == "ok" else sock, payload)
            wire.send_frame(a, {"ok": 1})
            return wire.recv_frame(b if sock == "ok" else sock)

    return call


# each: the function and arguments that succeed; every argument is then replaced by each bad value
CALLS: dict[str, tuple[Callable[..., object], dict[str, Any]]] = {
    "IssuerKey": (tc.IssuerKey, {"seed": b"\x01" * 32}),
    "WorkerKey": (tc.WorkerKey, {"seed": b"\x01" * 32}),
    "IssuerKey.from_secret_hex": (tc.IssuerKey.from_secret_hex, {"secret_hex": "01" * 32}),
    "WorkerKey.from_secret_hex": (tc.WorkerKey.from_secret_hex, {"secret_hex": "01" * 32}),
    "WorkerKey.sign": (sign, {"message": b"m"}),
    "RequestParts.canonical": (canonical, {"method": "GET", "path": "/", "body": b"", "timestamp": "1", "nonce": "n"}),
    "WorkerProof.headers": (headers, {"token": "t", "signature": "s", "timestamp": "1", "nonce": "n"}),
    "make_proof": (
        tc.make_proof,
        {"worker": S.worker, "token": S.token, "request": S.request, "timestamp": "1", "nonce": "n"},
    ),
    "proof_from_headers": (tc.proof_from_headers, {"headers": S.proof.headers()}),
    "proof_from_query": (tc.proof_from_query, {"query": S.proof.query()}),
    "mint_biscuit": (
        tc.mint_biscuit,
        {
            "issuer": S.issuer,
            "public_hex": S.worker.public_hex,
            "holder_id": "h",
            "facts": {"right": ["read"]},
            "revocation_id": "r",
            "expires_at": S.now + 60,
            "root_key_id": 1,
            "delegation_depth": 1,
        },
    ),
    "delegate": (
        tc.delegate,
        {"token": DELEGABLE, "holder_key": S.worker, "to_public_hex": NEXT_HOLDER.public_hex, "to_holder_id": "b",
         "checks": 'check if req_right("read");', "expires_at": S.now + 30},
    ),
    "authenticate": (
        tc.authenticate,
        {
            "issuer_public_hex": S.issuer.public_hex,
            "proof": S.proof,
            "request": S.request,
            "now": S.now,
            "revoked_ids": frozenset(),
            "max_skew_seconds": 30,
            "limits": tc.Limits(),
        },
    ),
    "authenticate (proof and request fields)": (
        authenticate_fields,
        {"token": S.proof.token, "signature": S.proof.signature, "timestamp": S.proof.timestamp, "nonce": S.proof.nonce,
         "method": S.request.method, "path": S.request.path, "body": S.request.body},
    ),
    "check_policy": (
        tc.check_policy,
        {"token": TOKEN, "request_facts": {"req_right": "read"}, "allow": "allow if right($r), req_right($r)",
         "now": S.now, "limits": tc.Limits()},
    ),
    "sign_job": (tc.sign_job, {"issuer": S.issuer, "job": JOB, "worker_id": "w"}),
    "verify_job": (tc.verify_job, {"issuer_public_hex": S.issuer.public_hex, "job": SIGNED_JOB, "worker_id": "w"}),
    "is_hex_key": (tc.is_hex_key, {"value": "ab" * 32}),
    "constant_time_equal": (tc.constant_time_equal, {"left": "a", "right": "a"}),
    "parse_token": (tc.parse_token, {"issuer_public_hex": S.issuer.public_hex, "token": S.token}),
    "authorize": (
        tc.authorize,
        {"token": TOKEN, "datalog": "allow if right(\"read\")", "now": S.now, "limits": tc.Limits(),
         "extern_functions": ["test"]},
    ),
    "Token.authorize": (
        token_authorize,
        {"datalog": "allow if right(\"read\")", "now": S.now, "limits": None, "extern_functions": []},
    ),
    "Token.block_source": (block_source, {"index": 0}),
    "Limits": (
        tc.Limits,
        {"max_time_ms": 5, "max_facts": 10, "max_iterations": 10, "max_token_bytes": 1000, "max_blocks": 2,
         "max_block_facts": 10, "max_block_rules": 10, "max_body_atoms": 4, "max_body_ops": 8, "max_join_size": 100,
         "allow_appended_regex": True},
    ),
    "Verifier": (
        tc.Verifier,
        {"issuer_public_hex": S.issuer.public_hex, "max_skew_seconds": 30, "limits": tc.Limits(),
         "replay_capacity": 10, "replay_capacity_per_holder": 5, "revoked_ids": ["x"], "token_cache_capacity": 10,
         "token_cache_max_bytes": 1 << 20, "max_batch_requests": 10, "max_batch_body_bytes": 1 << 20},
    ),
    "Verifier.authenticate": (verifier_authenticate, {"proof": S.proof, "request": S.request, "now": S.now}),
    "Verifier.authenticate_batch": (verifier_batch, {"requests": [(S.proof, S.request)], "now": S.now}),
    "Verifier.authenticate_batch (proof and request fields)": (
        verifier_batch_fields,
        {"token": S.proof.token, "signature": S.proof.signature, "timestamp": S.proof.timestamp, "nonce": S.proof.nonce,
         "method": S.request.method, "path": S.request.path, "body": S.request.body},
    ),
    "Verifier.check_policy": (
        verifier_call("check_policy"),
        {"token": TOKEN, "request_facts": {"req_right": "read"}, "allow": "allow if right($r), req_right($r)",
         "now": S.now},
    ),
    "Verifier.authorize": (
        verifier_call("authorize"),
        {"token": TOKEN, "datalog": "allow if true", "now": S.now, "extern_functions": ["test"]},
    ),
    "Verifier.revoke": (verifier_call("revoke"), {"revocation_id": "r"}),
    "Verifier.revoke_token": (verifier_call("revoke_token"), {"token": TOKEN}),
    "wire.encode_frame": (wire.encode_frame, {"payload": {"a": 1}}),
    "wire.decode_frame": (wire.decode_frame, {"frame": wire.encode_frame({"a": 1})}),
    "wire.send_frame": (over_socket("send"), {"sock": "ok", "payload": {"a": 1}}),
    "wire.recv_frame": (over_socket("recv"), {"sock": "ok"}),
    "wire.family": (wire.family, {"address": "/tmp/x.sock"}),
}

CASES = [
    pytest.param(name, arg, bad, id=f"{name}-{arg}-{bad_name}")
    for name, (_, good) in CALLS.items()
    for arg in good
    for bad_name, bad in BAD.items()
]


@pytest.mark.parametrize("name", list(CALLS))
def test_the_good_call_succeeds(name: str) -> None:
    function, good = CALLS[name]
    function(**good)


@pytest.mark.parametrize(("name", "arg", "bad"), CASES)
def test_bad_argument_raises_trust_error_or_type_error(name: str, arg: str, bad: Any) -> None:
    function, good = CALLS[name]
    try:
        function(**{**good, arg: bad})
    except (tc.TrustError, TypeError):
        pass


@pytest.mark.parametrize(
    ("call", "error"),
    [
        # None and bytes where str is expected: TypeError
        (lambda: tc.IssuerKey.from_secret_hex(None), TypeError),
        (lambda: tc.IssuerKey.from_secret_hex(b"00" * 32), TypeError),
        (lambda: tc.IssuerKey(seed=None), TypeError),
        (lambda: tc.IssuerKey(seed="00" * 16), TypeError),
        (lambda: tc.proof_from_headers(None), TypeError),
        (lambda: tc.proof_from_headers({"Authorization": b"Biscuit x"}), TypeError),
        (lambda: tc.check_policy(S.token, request_facts={}, allow="allow if true", now=1), TypeError),
        (lambda: tc.check_policy(TOKEN, request_facts={"a": 1}, allow="allow if true", now=1), TypeError),
        (lambda: tc.authenticate(None, S.proof, S.request, now=1, revoked_ids=(), max_skew_seconds=1), TypeError),
        (lambda: tc.authenticate(S.issuer.public_hex, None, S.request, now=1, revoked_ids=(), max_skew_seconds=1),
         TypeError),
        (lambda: S.authenticate(revoked_ids=None), TypeError),
        (lambda: S.authenticate(revoked_ids="rev-1"), TypeError),
        (lambda: tc.mint_biscuit(S.issuer, public_hex=S.worker.public_hex, holder_id="h", facts={"right": "read"},
                                 revocation_id="r", expires_at=S.now), TypeError),
        (lambda: tc.sign_job(S.issuer, {"x": object()}, worker_id="w"), TypeError),
        (lambda: tc.sign_job(S.issuer, {1: "x"}, worker_id="w"), TypeError),
        (lambda: tc.is_hex_key(None), TypeError),
        (lambda: tc.constant_time_equal("a", b"a"), TypeError),
        (lambda: wire.send_frame(None, {"a": 1}), TypeError),
        # right type, bad value: the code says what failed
        (lambda: tc.IssuerKey.from_secret_hex("\udcff"), tc.MalformedInput),
        (lambda: tc.IssuerKey(seed=b""), tc.MalformedInput),
        (lambda: tc.WorkerKey.from_secret_hex(""), tc.MalformedInput),
        (lambda: tc.RequestParts("GET\n", "/", b"").canonical(timestamp="1", nonce="n"), tc.MalformedInput),
        (lambda: S.authenticate(now=10**400), tc.MalformedInput),
        (lambda: S.authenticate(now=float("nan")), tc.MalformedInput),
        (lambda: tc.authenticate("\udcff", S.proof, S.request, now=1, revoked_ids=(), max_skew_seconds=1),
         tc.MalformedInput),
        (lambda: tc.authenticate({2**40: S.issuer.public_hex}, S.proof, S.request, now=1, revoked_ids=(),
                                 max_skew_seconds=1), tc.MalformedInput),
        (lambda: tc.parse_token(S.issuer.public_hex, HUGE), tc.LimitExceeded),  # over max_token_bytes
        (lambda: tc.parse_token(S.issuer.public_hex, b"\xff" * 100), tc.TokenInvalid),
        (lambda: tc.parse_token(S.issuer.public_hex, ""), tc.TokenInvalid),
        (lambda: TOKEN.block_source(5), tc.MalformedInput),
        (lambda: TOKEN.block_source(-1), tc.MalformedInput),
        (lambda: TOKEN.block_source(10**30), tc.MalformedInput),
        (lambda: tc.Limits(max_time_ms=-1), tc.MalformedInput),
        (lambda: tc.Limits(max_time_ms=float("inf")), tc.MalformedInput),
        (lambda: tc.Limits(max_facts=-1), tc.MalformedInput),
        (lambda: tc.Limits(max_iterations=10**30), tc.MalformedInput),
        (lambda: tc.Limits(max_token_bytes=-1), tc.MalformedInput),
        (lambda: tc.Limits(max_join_size=2**64), tc.MalformedInput),
        (lambda: tc.Limits(max_blocks="3"), TypeError),  # type: ignore[arg-type]
        (lambda: tc.Limits(allow_appended_regex=1), TypeError),  # type: ignore[arg-type]
        (lambda: tc.Verifier(S.issuer.public_hex, token_cache_max_bytes=-1), tc.MalformedInput),
        (lambda: tc.Verifier(S.issuer.public_hex, max_batch_requests=10**30), tc.MalformedInput),
        (lambda: tc.Verifier(S.issuer.public_hex, max_batch_body_bytes=1.5), TypeError),  # type: ignore[arg-type]
        (lambda: tc.authorize(TOKEN, "allow if", S.now), tc.MalformedInput),
        (lambda: tc.authorize(TOKEN, "allow if true", S.now, extern_functions=["nope"]), tc.MalformedInput),
        (lambda: tc.check_policy(TOKEN, request_facts={"bad name": "x"}, allow="allow if true", now=S.now),
         tc.MalformedInput),
        (lambda: tc.check_policy(TOKEN, request_facts={}, allow="not datalog", now=S.now), tc.MalformedInput),
        (lambda: tc.sign_job(S.issuer, {"x": float("nan")}, worker_id="w"), tc.MalformedInput),
        (lambda: tc.sign_job(S.issuer, {"x": 10**30}, worker_id="w"), tc.MalformedInput),
        (lambda: tc.verify_job(S.issuer.public_hex, {**SIGNED_JOB, "x": float("inf")}, worker_id="w"),
         tc.JobInvalid),
        (lambda: tc.verify_job(S.issuer.public_hex, {"sig": None}, worker_id="w"), tc.JobInvalid),
        (lambda: wire.encode_frame({"big": HUGE}), tc.FrameInvalid),
        (lambda: wire.decode_frame(b"\x00\x00\x00\x02\xff\xfe"), tc.FrameInvalid),
        (lambda: wire.decode_frame(b""), tc.FrameInvalid),
    ],
)
def test_specific_refusals(call: Callable[[], object], error: type[BaseException]) -> None:
    with pytest.raises(error):
        call()


def test_self_referencing_and_deep_values_are_refused_not_crashing() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(tc.MalformedInput):
        tc.sign_job(S.issuer, {"loop": loop}, worker_id="w")
    deep: Any = "x"
    for _ in range(10_000):
        deep = [deep]
    with pytest.raises(tc.MalformedInput):  # too deep: core's rule and code, as in Node and C
        wire.encode_frame({"deep": deep})
    nested = b"[" * 100_000 + b"]" * 100_000
    frame = len(nested).to_bytes(4, "big") + nested
    with pytest.raises(tc.FrameInvalid):
        wire.decode_frame(frame)


def test_huge_request_body_is_hashed_not_refused() -> None:
    body = b"\x00" * (64 << 20)
    request = tc.RequestParts("PUT", "/blob", body)
    proof = tc.make_proof(S.worker, S.token, request, timestamp=str(int(S.now)), nonce="big")
    tc.authenticate(S.issuer.public_hex, proof, request, now=S.now, revoked_ids=(), max_skew_seconds=30)
