"""Hostile input that is this binding's own, one table: wrong types, None, empty values, huge values
carried by the binding's own conversions (100 MB bodies, a 10 MB header value and query value, a 1 MB
token through the Verifier, its batch and as bytes), invalid UTF-8, NUL bytes inside strings, and
Datalog that explodes in an attenuated block (read at test time from tests/vectors/limits.json). A
token over the size limit (32 KiB by default) is LIMIT_EXCEEDED before it is decoded; an appended
block's Datalog never runs in authenticate, only in check_policy and authorize, within the limits.
Each row names the exact outcome: a TrustError code, TypeError (a value of the wrong Python type), or
OK. Then the process is alive, the same objects still work, and the resident memory after the huge
rows is bounded.

Hostile input that is pure data runs in every runner from tests/vectors/hostile.json (through
conformance.py): the 1 MiB token in authenticate and inspect (parse_token), the 2 MiB signature, the
10 MiB timestamp and nonce, the 1 MiB and the 100,000-deep allow policy, jobs nested 10,000 deep
(sign_job objects and arrays, verify_job). test_moved_kinds_are_in_the_vectors checks they are there.

test_bad_input.py feeds every argument of every function each bad value and only asserts "TrustError
or TypeError, no crash"; this table pins the code for the hostile cases."""

from __future__ import annotations

import gc
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import trustcore as tc
from trustcore import wire

REPO = Path(__file__).resolve().parents[2]
LIMITS = {case["id"]: case for case in json.loads((REPO / "tests" / "vectors" / "limits.json").read_text())["cases"]}
HOSTILE = json.loads((REPO / "tests" / "vectors" / "hostile.json").read_text())["cases"]

ISSUER = tc.IssuerKey.from_secret_hex("11" * 32)
HOLDER = tc.WorkerKey.from_secret_hex("22" * 32)
NOW = time.time()
STAMP = str(int(NOW))
TOKEN = tc.mint_biscuit(
    ISSUER, public_hex=HOLDER.public_hex, holder_id="gpu-1", facts={"lane": ["transcribe"]}, revocation_id="rev-1",
    expires_at=NOW + 3600,
)
REQUEST = tc.RequestParts("POST", "/lease", b"{}")
PROOF = tc.make_proof(HOLDER, TOKEN, REQUEST, timestamp=STAMP, nonce="n-1")
ALLOW = 'allow if lane("transcribe")'
JOB = {"id": "job-1", "n": 3}
SIGNED_JOB = {**JOB, "sig": tc.sign_job(ISSUER, JOB, worker_id="gpu-1")}

MB = 1 << 20
OK = "OK"


def authenticate(proof: tc.WorkerProof = PROOF, request: tc.RequestParts = REQUEST, issuer: Any = ISSUER.public_hex,
                 now: Any = NOW) -> object:
    return tc.authenticate(issuer, proof, request, now=now, revoked_ids=frozenset(), max_skew_seconds=300)


def proof_with(**fields: Any) -> tc.WorkerProof:
    values = {"token": PROOF.token, "signature": PROOF.signature, "timestamp": PROOF.timestamp, "nonce": PROOF.nonce}
    return tc.WorkerProof(**{**values, **fields})


def verifier() -> tc.Verifier:
    return tc.Verifier(ISSUER.public_hex, max_skew_seconds=300)


def parsed() -> tc.Token:
    return tc.parse_token(ISSUER.public_hex, TOKEN)


# --- huge values -------------------------------------------------------------------------------


def huge_body_proof() -> tuple[tc.WorkerProof, tc.RequestParts]:
    request = tc.RequestParts("PUT", "/blob", b"\x00" * (100 * MB))
    return tc.make_proof(HOLDER, TOKEN, request, timestamp=STAMP, nonce="big"), request


def huge_body_authenticates() -> object:
    proof, request = huge_body_proof()
    return authenticate(proof, request)


def huge_body_verifier_authenticates() -> object:
    proof, request = huge_body_proof()
    return verifier().authenticate(proof, request, now=NOW)


def huge_body_other_body_fails() -> object:
    proof, request = huge_body_proof()
    return authenticate(proof, tc.RequestParts("PUT", "/blob", b"\x00" * (100 * MB - 1) + b"\x01"))


def huge_header(name: str, value: str) -> Callable[[], object]:
    """A 10 MB header value: the binding's header conversion and proof_from_headers carry it (core has
    no header size cap), and the request then fails on its content, never crashes."""

    def call() -> object:
        proof = tc.proof_from_headers({**PROOF.headers(), name: value})
        return authenticate(proof)

    return call


HUGE_ROWS: list[tuple[str, Callable[[], object], Any]] = [
    ("make_proof 100 MB body", lambda: huge_body_proof(), OK),
    ("canonical 100 MB body", lambda: tc.RequestParts("PUT", "/", b"x" * (100 * MB)).canonical(timestamp="1", nonce="n"), OK),
    ("authenticate 100 MB body", huge_body_authenticates, OK),
    ("Verifier.authenticate 100 MB body", huge_body_verifier_authenticates, OK),
    ("authenticate 100 MB body, one byte changed", huge_body_other_body_fails, "POP_FAILED"),
    # the transport of a huge value through the binding's own header and query conversion (the
    # values' codes themselves, given directly, are tests/vectors/hostile.json's)
    ("proof_from_headers 10 MB token then authenticate",
     huge_header("Authorization", "Biscuit " + "A" * (10 * MB)), "LIMIT_EXCEEDED"),
    ("proof_from_query 10 MB sig", lambda: authenticate(tc.proof_from_query({**PROOF.query(), "sig": "0" * (10 * MB)})),
     "MALFORMED_INPUT"),
    # a 1 MB token where hostile.json does not reach: the Verifier, its batch (an entry's error, not
    # raised), and bytes rather than str
    ("Verifier.authenticate 1 MB token", lambda: verifier().authenticate(proof_with(token="A" * MB), REQUEST, now=NOW),
     "LIMIT_EXCEEDED"),
    ("Verifier.authenticate_batch 1 MB token", lambda: batch_outcome(proof_with(token="A" * MB), REQUEST),
     "LIMIT_EXCEEDED"),
    ("parse_token 1 MB bytes", lambda: tc.parse_token(ISSUER.public_hex, b"\x00" * MB), "LIMIT_EXCEEDED"),
]


# --- the rest ----------------------------------------------------------------------------------


def limits_case(case_id: str) -> dict[str, Any]:
    return dict(LIMITS[case_id]["input"])


def exploding_token() -> tc.Token:
    """tc-limits-0001: an appended (attenuation) block whose rules generate 1600 facts."""
    i = limits_case("tc-limits-0001")
    return tc.parse_token(i["issuer_public_hex"], i["token"])


def exploding_check_policy() -> object:
    i = limits_case("tc-limits-0001")
    return tc.check_policy(exploding_token(), request_facts=i["request_facts"], allow=i["allow"], now=i["now"])


def exploding_verifier_check_policy() -> object:
    i = limits_case("tc-limits-0001")
    v = tc.Verifier(i["issuer_public_hex"])
    return v.check_policy(exploding_token(), request_facts=i["request_facts"], allow=i["allow"], now=i["now"])


def recursive_block_check_policy() -> object:
    """tc-limits-0004: a recursive rule in an appended block, against max_iterations 2."""
    i = limits_case("tc-limits-0004")
    token = tc.parse_token(i["issuer_public_hex"], i["token"])
    return tc.check_policy(token, request_facts=i["request_facts"], allow=i["allow"], now=i["now"],
                           limits=tc.Limits(**i["limits"]))


def exploding_authenticate(stateful: bool, then_check_policy: bool = False) -> Callable[[], object]:
    """tc-limits-0013: authenticate reads the identity from the authority block alone, so the
    appended exploding rule does not run there (OK); check_policy on the token it returns is
    where that rule would run, and is refused before it does."""

    def call() -> object:
        i = limits_case("tc-limits-0013")
        proof = tc.WorkerProof(**i["proof"])
        r = i["request"]
        request = tc.RequestParts(r["method"], r["path"], bytes.fromhex(r["body_hex"]))
        if stateful:
            v = tc.Verifier(i["issuer_public_hex"], max_skew_seconds=i["max_skew_seconds"])
            token, _ = v.authenticate(proof, request, now=i["now"])
            if then_check_policy:
                v.check_policy(token, request_facts={}, allow="allow if true", now=i["now"])
            return token
        token, _ = tc.authenticate(i["issuer_public_hex"], proof, request, now=i["now"], revoked_ids=frozenset(),
                                   max_skew_seconds=i["max_skew_seconds"])
        if then_check_policy:
            tc.check_policy(token, request_facts={}, allow="allow if true", now=i["now"])
        return token

    return call


def exploding_authorize() -> object:
    return exploding_token().authorize("allow if true", limits_case("tc-limits-0001")["now"])


def batch_outcome(proof: Any, request: Any) -> object:
    """authenticate_batch returns (not raises) each request's error: raise it, for the table."""
    [outcome] = verifier().authenticate_batch([(proof, request)], now=NOW)
    if isinstance(outcome, tc.TrustError):
        raise outcome
    return outcome


ROWS: list[tuple[str, Callable[[], object], Any]] = [
    # wrong types and None
    ("make_proof worker None", lambda: tc.make_proof(None, TOKEN, REQUEST, timestamp=STAMP, nonce="n"), TypeError),  # type: ignore[arg-type]
    ("make_proof token None", lambda: tc.make_proof(HOLDER, None, REQUEST, timestamp=STAMP, nonce="n"), TypeError),  # type: ignore[arg-type]
    ("make_proof request a str", lambda: tc.make_proof(HOLDER, TOKEN, "POST /", timestamp=STAMP, nonce="n"), TypeError),  # type: ignore[arg-type]
    ("make_proof body None", lambda: tc.make_proof(HOLDER, TOKEN, tc.RequestParts("POST", "/", None), timestamp=STAMP,  # type: ignore[arg-type]
                                                   nonce="n"), TypeError),
    ("make_proof body a str", lambda: tc.make_proof(HOLDER, TOKEN, tc.RequestParts("POST", "/", "x"), timestamp=STAMP,  # type: ignore[arg-type]
                                                    nonce="n"), TypeError),
    ("authenticate proof None", lambda: authenticate(None), TypeError),  # type: ignore[arg-type]
    ("authenticate issuer None", lambda: authenticate(issuer=None), TypeError),
    ("authenticate now None", lambda: authenticate(now=None), TypeError),
    ("authenticate now a str", lambda: authenticate(now="1"), TypeError),
    ("Verifier.authenticate proof None", lambda: verifier().authenticate(None, REQUEST), TypeError),  # type: ignore[arg-type]
    ("Verifier.authenticate_batch None", lambda: verifier().authenticate_batch(None), TypeError),  # type: ignore[arg-type]
    ("check_policy token None", lambda: tc.check_policy(None, request_facts={}, allow=ALLOW, now=NOW), TypeError),  # type: ignore[arg-type]
    ("check_policy token a str", lambda: tc.check_policy(TOKEN, request_facts={}, allow=ALLOW, now=NOW), TypeError),  # type: ignore[arg-type]
    ("check_policy facts None", lambda: tc.check_policy(parsed(), request_facts=None, allow=ALLOW, now=NOW), TypeError),  # type: ignore[arg-type]
    ("Verifier.check_policy token None", lambda: verifier().check_policy(None, request_facts={}, allow=ALLOW), TypeError),  # type: ignore[arg-type]
    ("parse_token None", lambda: tc.parse_token(ISSUER.public_hex, None), TypeError),  # type: ignore[arg-type]
    ("parse_token int", lambda: tc.parse_token(ISSUER.public_hex, 5), TypeError),  # type: ignore[arg-type]
    ("proof_from_headers None", lambda: tc.proof_from_headers(None), TypeError),  # type: ignore[arg-type]
    ("proof_from_headers int value", lambda: tc.proof_from_headers({**PROOF.headers(), "X-EP-Nonce": 5}), TypeError),
    ("sign_job None", lambda: tc.sign_job(ISSUER, None, worker_id="w"), TypeError),  # type: ignore[arg-type]
    ("sign_job a list", lambda: tc.sign_job(ISSUER, [1], worker_id="w"), TypeError),  # type: ignore[arg-type]
    ("verify_job None", lambda: tc.verify_job(ISSUER.public_hex, None, worker_id="w"), TypeError),  # type: ignore[arg-type]
    ("mint issuer None", lambda: tc.mint_biscuit(None, public_hex=HOLDER.public_hex, holder_id="h", facts={},  # type: ignore[arg-type]
                                                 revocation_id="r", expires_at=NOW + 60), TypeError),
    ("encode_frame None", lambda: wire.encode_frame(None), TypeError),  # type: ignore[arg-type]
    # empty values
    ("authenticate empty token", lambda: authenticate(proof_with(token="")), "TOKEN_INVALID"),
    ("authenticate empty signature", lambda: authenticate(proof_with(signature="")), "MALFORMED_INPUT"),
    ("authenticate empty timestamp", lambda: authenticate(proof_with(timestamp="")), "MALFORMED_INPUT"),
    # an empty nonce is not refused by itself: the signature was made over another nonce
    ("authenticate empty nonce", lambda: authenticate(proof_with(nonce="")), "POP_FAILED"),
    ("authenticate empty issuer key", lambda: authenticate(issuer=""), "MALFORMED_INPUT"),
    ("Verifier.authenticate_batch empty token", lambda: batch_outcome(proof_with(token=""), REQUEST), "TOKEN_INVALID"),
    ("proof_from_headers empty", lambda: tc.proof_from_headers({}), "MALFORMED_INPUT"),
    ("proof_from_headers blank nonce", lambda: tc.proof_from_headers({**PROOF.headers(), "X-EP-Nonce": "  "}),
     "MALFORMED_INPUT"),
    ("proof_from_query empty", lambda: tc.proof_from_query({}), "MALFORMED_INPUT"),
    ("parse_token empty", lambda: tc.parse_token(ISSUER.public_hex, ""), "TOKEN_INVALID"),
    ("verify_job empty job", lambda: tc.verify_job(ISSUER.public_hex, {}, worker_id="gpu-1"), "JOB_INVALID"),
    ("check_policy empty allow", lambda: tc.check_policy(parsed(), request_facts={}, allow="", now=NOW), "MALFORMED_INPUT"),
    ("authorize empty datalog", lambda: tc.authorize(parsed(), "", NOW), "DENIED"),
    ("IssuerKey empty secret", lambda: tc.IssuerKey.from_secret_hex(""), "MALFORMED_INPUT"),
    ("mint empty revocation id", lambda: tc.mint_biscuit(ISSUER, public_hex=HOLDER.public_hex, holder_id="h", facts={},
                                                         revocation_id="", expires_at=NOW + 60), "MALFORMED_INPUT"),
    ("decode_frame empty", lambda: wire.decode_frame(b""), "FRAME_INVALID"),
    # invalid UTF-8: a lone surrogate in a str, non-UTF-8 bytes where text is carried
    ("authenticate token with a lone surrogate", lambda: authenticate(proof_with(token="\udcff")), "MALFORMED_INPUT"),
    ("make_proof path with a lone surrogate",
     lambda: tc.make_proof(HOLDER, TOKEN, tc.RequestParts("POST", "/\udcff", b""), timestamp=STAMP, nonce="n"),
     "MALFORMED_INPUT"),
    ("Verifier.authenticate nonce with a lone surrogate",
     lambda: verifier().authenticate(proof_with(nonce="\udcff"), REQUEST, now=NOW), "MALFORMED_INPUT"),
    ("Verifier.authenticate_batch nonce with a lone surrogate",
     lambda: batch_outcome(proof_with(nonce="\udcff"), REQUEST), "MALFORMED_INPUT"),
    ("proof_from_headers lone surrogate", lambda: tc.proof_from_headers({**PROOF.headers(), "X-EP-Nonce": "\udcff"}),
     "MALFORMED_INPUT"),
    ("sign_job lone surrogate", lambda: tc.sign_job(ISSUER, {"a": "\udcff"}, worker_id="w"), "MALFORMED_INPUT"),
    ("parse_token non-UTF-8 bytes", lambda: tc.parse_token(ISSUER.public_hex, b"\xff\xfe\xfd" * 100), "TOKEN_INVALID"),
    ("decode_frame non-UTF-8 body", lambda: wire.decode_frame(b"\x00\x00\x00\x03\xff\xfe\xfd"), "FRAME_INVALID"),
    # NUL bytes inside strings
    ("authenticate token with NUL", lambda: authenticate(proof_with(token=TOKEN + "\x00")), "TOKEN_INVALID"),
    ("authenticate nonce with NUL", lambda: authenticate(proof_with(nonce="n-1\x00")), "POP_FAILED"),
    ("authenticate issuer key of NULs", lambda: authenticate(issuer="\x00" * 64), "MALFORMED_INPUT"),
    ("IssuerKey secret of NULs", lambda: tc.IssuerKey.from_secret_hex("\x00" * 64), "MALFORMED_INPUT"),
    ("mint predicate with NUL", lambda: tc.mint_biscuit(ISSUER, public_hex=HOLDER.public_hex, holder_id="h",
                                                        facts={"la\x00ne": ["x"]}, revocation_id="r",
                                                        expires_at=NOW + 60), "MALFORMED_INPUT"),
    ("check_policy fact name with NUL",
     lambda: tc.check_policy(parsed(), request_facts={"req_o\x00p": "a"}, allow=ALLOW, now=NOW), "MALFORMED_INPUT"),
    # a NUL in a value is a value (bound as a parameter, never spliced): it simply does not match
    ("check_policy fact value with NUL", lambda: tc.check_policy(parsed(), request_facts={"req_op": "a\x00"},
                                                                  allow='allow if req_op("a")', now=NOW), "DENIED"),
    ("check_policy allow with NUL", lambda: tc.check_policy(parsed(), request_facts={}, allow=ALLOW + "\x00", now=NOW),
     "MALFORMED_INPUT"),
    ("canonical method with NUL (only CR and LF are refused)",
     lambda: tc.RequestParts("PO\x00ST", "/", b"").canonical(timestamp="1", nonce="n"), OK),
    ("canonical method with CR", lambda: tc.RequestParts("PO\rST", "/", b"").canonical(timestamp="1", nonce="n"),
     "MALFORMED_INPUT"),
    # Datalog that explodes in an attenuated block (tests/vectors/limits.json)
    ("check_policy, appended block of 1600 facts", exploding_check_policy, "LIMIT_EXCEEDED"),
    ("Verifier.check_policy, appended block of 1600 facts", exploding_verifier_check_policy, "LIMIT_EXCEEDED"),
    ("Token.authorize, appended block of 1600 facts", exploding_authorize, "LIMIT_EXCEEDED"),
    ("check_policy, appended recursive rule past 2 iterations", recursive_block_check_policy, "LIMIT_EXCEEDED"),
    ("authenticate, an appended exploding rule does not run", exploding_authenticate(False), OK),
    ("Verifier.authenticate, an appended exploding rule does not run", exploding_authenticate(True), OK),
    ("check_policy after authenticate, the appended exploding rule", exploding_authenticate(False, True),
     "LIMIT_EXCEEDED"),
    ("Verifier.check_policy after authenticate, the appended exploding rule", exploding_authenticate(True, True),
     "LIMIT_EXCEEDED"),
]


def run_row(call: Callable[[], object], expected: Any) -> None:
    if expected is OK:
        call()
    elif expected is TypeError:
        with pytest.raises(TypeError) as info:
            call()
        assert not isinstance(info.value, tc.TrustError)
    else:
        with pytest.raises(tc.TrustError) as info:
            call()
        assert info.value.code == expected, f"{info.value.code}: {info.value}"
        assert type(info.value) is tc.ERRORS_BY_CODE[expected]


def still_alive() -> None:
    """The same objects keep working after a hostile row."""
    token, identity = tc.authenticate(ISSUER.public_hex, PROOF, REQUEST, now=NOW, revoked_ids=(), max_skew_seconds=300)
    assert identity.holder_id == "gpu-1"
    tc.check_policy(token, request_facts={}, allow=ALLOW, now=NOW)
    proof = tc.make_proof(HOLDER, TOKEN, REQUEST, timestamp=STAMP, nonce=f"alive-{time.monotonic_ns()}")
    verifier().authenticate(proof, REQUEST, now=NOW)
    tc.verify_job(ISSUER.public_hex, SIGNED_JOB, worker_id="gpu-1")


@pytest.mark.parametrize(("call", "expected"), [pytest.param(c, e, id=name) for name, c, e in ROWS + HUGE_ROWS])
def test_hostile_input(call: Callable[[], object], expected: Any) -> None:
    run_row(call, expected)
    still_alive()


# The rows this table no longer has, which tests/vectors/hostile.json holds for every runner: the row,
# then the case's op, where in its input the compact form ($repeat, $nest, $nest_list) is written, and
# the code.
MOVED_TO_VECTORS: list[tuple[str, str, tuple[str, ...], str, str]] = [
    ("authenticate 1 MB token", "authenticate", ("proof", "token"), "$repeat", "LIMIT_EXCEEDED"),
    ("parse_token 1 MB str", "inspect", ("token",), "$repeat", "LIMIT_EXCEEDED"),
    ("authenticate 1 MB signature", "authenticate", ("proof", "signature"), "$repeat", "MALFORMED_INPUT"),
    ("10 MB timestamp", "authenticate", ("proof", "timestamp"), "$repeat", "MALFORMED_INPUT"),
    ("10 MB nonce", "authenticate", ("proof", "nonce"), "$repeat", "POP_FAILED"),
    ("check_policy 1 MB allow", "check_policy", ("allow",), "$repeat", "MALFORMED_INPUT"),
    ("sign_job 10,000 deep", "sign_job", ("job", "a"), "$nest", "MALFORMED_INPUT"),
    ("sign_job 10,000 deep list", "sign_job", ("job", "a"), "$nest_list", "MALFORMED_INPUT"),
    ("verify_job 10,000 deep", "verify_job", ("job", "a"), "$nest", "JOB_INVALID"),
]


def written_at(case: dict[str, Any], where: tuple[str, ...]) -> Any:
    value: Any = case["input"]
    for key in where:
        value = value.get(key) if isinstance(value, dict) else None
    return value


@pytest.mark.parametrize(("op", "where", "form", "code"), [pytest.param(*m[1:], id=m[0]) for m in MOVED_TO_VECTORS])
def test_moved_kinds_are_in_the_vectors(op: str, where: tuple[str, ...], form: str, code: str) -> None:
    """Each kind of hostile input that left this table is a case of hostile.json (run by
    test_conformance.py), with the code this table had for it."""
    found = [
        case["id"]
        for case in HOSTILE
        if case["op"] == op
        and isinstance(written_at(case, where), dict)
        and form in written_at(case, where)
        and case["expect"].get("error") == code
    ]
    assert found, f"tests/vectors/hostile.json has no {op} case with {form} at {'.'.join(where)} expecting {code}"


def rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_memory_stays_bounded_after_the_huge_rows() -> None:
    """Every huge row three times over; after releasing, resident memory has grown by < 400 MB
    (one 100 MB body alive at a time, nothing kept by the binding)."""
    gc.collect()
    before = rss_bytes()
    for _ in range(3):
        for _, call, expected in HUGE_ROWS:
            run_row(call, expected)
    gc.collect()
    grown = rss_bytes() - before
    assert grown < 400 * MB, f"resident memory grew by {grown / MB:.0f} MB"
    still_alive()
