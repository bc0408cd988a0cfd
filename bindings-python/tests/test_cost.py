"""What a request may cost, as the binding passes it to core: every field of Limits (kwargs,
properties, repr, equality, pickle) and each one reaching core's budget; a hostile appended block
refused before its Datalog runs; authenticate that runs no appended Datalog and refuses an expired
token; the token cache that admits a token only after its proof verified, bounded by bytes; and
authenticate_batch refused whole past the verifier's batch bounds, before anything is copied or
checked, with a (holder, nonce) repeated inside one batch REPLAYED. Codes are compared, never
messages."""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Callable
from typing import Any

import biscuit_auth as bp
import pytest

import trustcore as tc

from helpers import ALLOW, Scene, scene

MB = 1 << 20

# every field of Limits, its default (core's Limits::DEFAULT, as documented) and another value
FIELDS: list[tuple[str, Any, Any]] = [
    ("max_time_ms", 10.0, 250.0),
    ("max_facts", 1000, 7),
    ("max_iterations", 100, 8),
    ("max_token_bytes", 32 * 1024, 1 << 40),
    ("max_blocks", 32, 2),
    ("max_block_facts", 1000, 3),
    ("max_block_rules", 64, 4),
    ("max_body_atoms", 32, 5),
    ("max_body_ops", 128, 6),
    ("max_join_size", 10_000, 2**64 - 1),
    ("allow_appended_regex", False, True),
]


def proof(s: Scene, nonce: str, *, token: str | None = None, request: tc.RequestParts | None = None,
          stamp: float | None = None) -> tc.WorkerProof:
    timestamp = str(int(s.now if stamp is None else stamp))
    return tc.make_proof(s.worker, token or s.token, request or s.request, timestamp=timestamp, nonce=nonce)


def codes(results: list[Any]) -> list[str]:
    return [result.code if isinstance(result, tc.TrustError) else "OK" for result in results]


def attenuate(s: Scene, block_code: str) -> str:
    """What a holder can do with its token: append a block (biscuit-python)."""
    root = bp.PublicKey.from_bytes(bytes.fromhex(s.issuer.public_hex), bp.Algorithm.Ed25519)
    biscuit = bp.Biscuit.from_base64(s.token, root)
    return str(biscuit.append(bp.BlockBuilder(block_code)).to_base64())


# --- Limits -------------------------------------------------------------------------------------


def test_limits_defaults_are_cores() -> None:
    default = tc.Limits()
    assert [getattr(default, name) for name, _, _ in FIELDS] == [value for _, value, _ in FIELDS]
    assert default == tc.Limits(**{name: value for name, value, _ in FIELDS})


@pytest.mark.parametrize(("name", "default", "value"), FIELDS, ids=[name for name, _, _ in FIELDS])
def test_each_limits_field_round_trips(name: str, default: Any, value: Any) -> None:
    limits = tc.Limits(**{name: value})
    assert getattr(limits, name) == value and type(getattr(limits, name)) is type(value)
    # the other fields keep their defaults
    for other, other_default, _ in FIELDS:
        if other != name:
            assert getattr(limits, other) == other_default, other
    assert limits != tc.Limits() and limits == tc.Limits(**{name: value})
    assert hash(limits) == hash(tc.Limits(**{name: value}))
    assert f"{name}={value!r}" in repr(limits)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        again = pickle.loads(pickle.dumps(limits, protocol=protocol))
        assert again == limits and hash(again) == hash(limits) and getattr(again, name) == value
    with pytest.raises(AttributeError):  # read-only
        setattr(limits, name, default)


def test_every_field_at_once_round_trips() -> None:
    values = {name: value for name, _, value in FIELDS}
    limits = tc.Limits(**values)
    assert {name: getattr(limits, name) for name in values} == values
    again = pickle.loads(pickle.dumps(limits))
    assert again == limits and hash(again) == hash(limits)
    assert eval(repr(limits), {"Limits": tc.Limits}) == limits  # the repr is the call that makes it
    # positional, in the order of the repr
    assert tc.Limits(*values.values()) == limits


@pytest.mark.parametrize(
    "kwargs",
    [{"max_token_bytes": -1}, {"max_blocks": 2**64}, {"max_join_size": 10**30}, {"max_body_ops": -5}],
    ids=str,
)
def test_a_count_out_of_range_is_malformed_input(kwargs: dict[str, Any]) -> None:
    with pytest.raises(tc.TrustError) as info:
        tc.Limits(**kwargs)
    assert info.value.code == "MALFORMED_INPUT"


# --- the budget, field by field -------------------------------------------------------------------


@pytest.mark.parametrize(
    "tight",
    [
        {"max_blocks": 1},  # the token has two
        {"max_block_facts": 1},  # the authority block has six
        {"max_block_rules": 0},  # it has one check (the expiry)
        {"max_body_atoms": 1},  # the allow policy has two predicates
        {"max_body_ops": 0},  # the expiry check has operations
        {"max_join_size": 1},
    ],
    ids=lambda kwargs: next(iter(kwargs)),
)
def test_each_budget_field_reaches_core(tight: dict[str, Any]) -> None:
    s = scene()
    token = tc.parse_token(s.issuer.public_hex, attenuate(s, 'check if req_right("read");'))
    facts = {"req_right": "read"}
    tc.check_policy(token, request_facts=facts, allow=ALLOW, now=s.now)  # fits the default budget
    with pytest.raises(tc.TrustError) as info:
        tc.check_policy(token, request_facts=facts, allow=ALLOW, now=s.now, limits=tc.Limits(**tight))
    assert info.value.code == "LIMIT_EXCEEDED"
    code = 'req_right("read"); allow if right($r), req_right($r);'
    assert token.authorize(code, s.now) == 0
    with pytest.raises(tc.TrustError) as info:
        token.authorize(code, s.now, limits=tc.Limits(**tight))
    assert info.value.code == "LIMIT_EXCEEDED"
    verifier = tc.Verifier(s.issuer.public_hex, limits=tc.Limits(**tight))
    with pytest.raises(tc.TrustError) as info:
        verifier.check_policy(token, request_facts=facts, allow=ALLOW, now=s.now)
    assert info.value.code == "LIMIT_EXCEEDED"


def test_max_token_bytes_bounds_authenticate() -> None:
    s = scene()
    s.authenticate(limits=tc.Limits(max_token_bytes=len(s.token)))
    with pytest.raises(tc.TrustError) as info:
        s.authenticate(limits=tc.Limits(max_token_bytes=len(s.token) - 1))
    assert info.value.code == "LIMIT_EXCEEDED"
    small = tc.Verifier(s.issuer.public_hex, limits=tc.Limits(max_token_bytes=len(s.token) - 1))
    with pytest.raises(tc.TrustError) as info:
        small.authenticate(proof(s, "a"), s.request, now=s.now)
    assert info.value.code == "LIMIT_EXCEEDED"
    assert codes(small.authenticate_batch([(proof(s, "b"), s.request)], now=s.now)) == ["LIMIT_EXCEEDED"]
    assert small.cache_stats() == (0, 0)  # refused before the cache is read


def test_a_regex_in_an_appended_block_needs_allow_appended_regex() -> None:
    s = scene()
    token = tc.parse_token(s.issuer.public_hex, attenuate(s, 'check if req_right($r), $r.matches("^re");'))
    facts = {"req_right": "read"}
    with pytest.raises(tc.TrustError) as info:
        tc.check_policy(token, request_facts=facts, allow=ALLOW, now=s.now)
    assert info.value.code == "LIMIT_EXCEEDED"
    tc.check_policy(token, request_facts=facts, allow=ALLOW, now=s.now, limits=tc.Limits(allow_appended_regex=True))


# --- a hostile appended block ---------------------------------------------------------------------

# 20 facts and a rule joining five of them (20^5 combinations) on an expression that is never true
HOSTILE_BLOCK = "".join(f"f({n});" for n in range(20)) + (
    "g($v0) <- f($v0), f($v1), f($v2), f($v3), f($v4), $v0 + $v1 + $v2 + $v3 + $v4 < 0;"
)


def test_a_hostile_appended_block_is_refused_before_its_datalog_runs() -> None:
    s = scene()
    hostile = attenuate(s, HOSTILE_BLOCK)
    hostile_proof = proof(s, "hostile", token=hostile)
    # authenticate runs none of it: the identity is the issuer's
    token, identity = tc.authenticate(s.issuer.public_hex, hostile_proof, s.request, now=s.now, revoked_ids=(),
                                      max_skew_seconds=30)
    assert identity == tc.VerifiedIdentity("worker-1", s.worker.public_hex, "rev-1")
    assert token.block_count() == 2
    verifier = tc.Verifier(s.issuer.public_hex, max_skew_seconds=30)
    cached, _ = verifier.authenticate(hostile_proof, s.request, now=s.now)
    # where it would run, the budget refuses it first (the join estimate), with the default limits
    calls: list[Callable[[], object]] = [
        lambda: tc.check_policy(token, request_facts={"req_right": "read"}, allow=ALLOW, now=s.now),
        lambda: verifier.check_policy(cached, request_facts={"req_right": "read"}, allow=ALLOW, now=s.now),
        lambda: token.authorize("allow if true;", s.now),
        lambda: verifier.authorize(cached, "allow if true;", s.now),
    ]
    for call in calls:
        with pytest.raises(tc.TrustError) as info:
            call()
        assert info.value.code == "LIMIT_EXCEEDED"
    # the same verifier still serves the holder's own token
    plain, _ = verifier.authenticate(proof(s, "plain"), s.request, now=s.now)
    verifier.check_policy(plain, request_facts={"req_right": "read"}, allow=ALLOW, now=s.now)


# --- authenticate: expiry, the cache --------------------------------------------------------------


def test_authenticate_refuses_an_expired_token() -> None:
    s = scene()
    short = tc.mint_biscuit(s.issuer, public_hex=s.worker.public_hex, holder_id="worker-1", facts={},
                            revocation_id="rev-1", expires_at=s.now + 60)
    later = s.now + 120
    expired = proof(s, "late", token=short, stamp=later)
    with pytest.raises(tc.TrustError) as info:
        tc.authenticate(s.issuer.public_hex, expired, s.request, now=later, revoked_ids=(), max_skew_seconds=30)
    assert info.value.code == "TOKEN_INVALID"
    verifier = tc.Verifier(s.issuer.public_hex, max_skew_seconds=30)
    verifier.authenticate(proof(s, "early", token=short), s.request, now=s.now)  # cached while valid
    with pytest.raises(tc.TrustError) as info:
        verifier.authenticate(expired, s.request, now=later)
    assert info.value.code == "TOKEN_INVALID"
    assert codes(verifier.authenticate_batch([(expired, s.request)], now=later)) == ["TOKEN_INVALID"]


def test_a_forged_requests_token_is_not_cached() -> None:
    s = scene()
    verifier = tc.Verifier(s.issuer.public_hex, max_skew_seconds=30)
    forged = dataclasses.replace(proof(s, "f"), signature="00" * 64)
    for _ in range(2):
        with pytest.raises(tc.TrustError) as info:
            verifier.authenticate(forged, s.request, now=s.now)
        assert info.value.code == "POP_FAILED"
    assert verifier.cache_stats() == (0, 2)  # a miss each time: never admitted
    assert codes(verifier.authenticate_batch([(forged, s.request)], now=s.now)) == ["POP_FAILED"]
    assert verifier.cache_stats() == (0, 3)
    verifier.authenticate(proof(s, "a"), s.request, now=s.now)  # the proof verifies: admitted
    verifier.authenticate(proof(s, "b"), s.request, now=s.now)
    assert verifier.cache_stats() == (1, 4)


def test_token_cache_max_bytes_bounds_the_cache() -> None:
    s = scene()
    tiny = tc.Verifier(s.issuer.public_hex, max_skew_seconds=30, token_cache_max_bytes=1)  # no token fits
    for n in range(3):
        tiny.authenticate(proof(s, f"t{n}"), s.request, now=s.now)
    assert tiny.cache_stats() == (0, 3)
    off = tc.Verifier(s.issuer.public_hex, max_skew_seconds=30, token_cache_max_bytes=0)  # no cache at all
    off.authenticate(proof(s, "o"), s.request, now=s.now)
    assert off.cache_stats() == (0, 0)
    roomy = tc.Verifier(s.issuer.public_hex, max_skew_seconds=30, token_cache_max_bytes=2**64 - 1)
    for n in range(3):
        roomy.authenticate(proof(s, f"r{n}"), s.request, now=s.now)
    assert roomy.cache_stats() == (2, 1)


# --- batches --------------------------------------------------------------------------------------


def test_a_batch_over_max_batch_requests_is_refused_whole_before_any_work() -> None:
    s = scene()
    verifier = tc.Verifier(s.issuer.public_hex, max_skew_seconds=30, max_batch_requests=3)
    requests = [(proof(s, f"n{n}"), s.request) for n in range(4)]
    with pytest.raises(tc.TrustError) as info:
        verifier.authenticate_batch(requests, now=s.now)
    assert info.value.code == "LIMIT_EXCEEDED" and type(info.value) is tc.LimitExceeded
    # counted before a request is looked at: entries that are not requests at all, a great many
    for too_many in ([None] * 4, [None] * 10**6):
        with pytest.raises(tc.TrustError) as info:
            verifier.authenticate_batch(too_many, now=s.now)  # type: ignore[arg-type]
        assert info.value.code == "LIMIT_EXCEEDED"
    assert verifier.cache_stats() == (0, 0)  # no token was looked up
    # no nonce was recorded: the first three, at the bound, all pass
    assert codes(verifier.authenticate_batch(requests[:3], now=s.now)) == ["OK"] * 3
    assert verifier.authenticate_batch([], now=s.now) == []
    none = tc.Verifier(s.issuer.public_hex, max_batch_requests=0)
    with pytest.raises(tc.LimitExceeded):
        none.authenticate_batch([requests[3]], now=s.now)


def test_a_batch_over_max_batch_body_bytes_is_refused_whole() -> None:
    s = scene()
    verifier = tc.Verifier(s.issuer.public_hex, max_skew_seconds=30, max_batch_body_bytes=10 * MB)
    body = b"\x00" * MB
    big = tc.RequestParts("PUT", "/blob", body)
    # 100 references to one 1 MB object: 100 MB of bodies, refused before any is copied or hashed
    refs = [(proof(s, "same", request=big), big)] * 100
    with pytest.raises(tc.TrustError) as info:
        verifier.authenticate_batch(refs, now=s.now)
    assert info.value.code == "LIMIT_EXCEEDED" and type(info.value) is tc.LimitExceeded
    # measured before any field is converted: a request whose token is bytes (a TypeError once
    # its fields are read) does not get that far
    bad_field = (dataclasses.replace(proof(s, "x"), token=b"t"), s.request)  # type: ignore[arg-type]
    with pytest.raises(tc.LimitExceeded):
        verifier.authenticate_batch([bad_field, *refs], now=s.now)
    with pytest.raises(TypeError):  # within the bound, the field is read, and refused
        verifier.authenticate_batch([bad_field], now=s.now)
    # bytearray bodies are measured alike
    mutable = tc.RequestParts("PUT", "/blob", bytearray(body))
    with pytest.raises(tc.LimitExceeded):
        verifier.authenticate_batch([(proof(s, "m", request=mutable), mutable)] * 11, now=s.now)
    assert verifier.cache_stats() == (0, 0)
    # at the bound: ten bodies of 1 MB pass, each request on its own merits
    within = [(proof(s, f"b{n}", request=big), big) for n in range(10)]
    assert codes(verifier.authenticate_batch(within, now=s.now)) == ["OK"] * 10
    # "same" was never recorded
    assert codes(verifier.authenticate_batch(refs[:1], now=s.now)) == ["OK"]


def test_a_repeated_token_and_nonce_inside_one_batch_is_replayed() -> None:
    s = scene()
    verifier = tc.Verifier(s.issuer.public_hex, max_skew_seconds=30)
    once = proof(s, "once")
    results = verifier.authenticate_batch([(once, s.request), (once, s.request)], now=s.now)
    assert codes(results) == ["OK", "REPLAYED"]
    assert type(results[1]) is tc.Replayed
    # the first failing does not spare the second: a repeat is refused before any work
    stale = proof(s, "stale", stamp=s.now - 100)
    assert codes(verifier.authenticate_batch([(stale, s.request), (stale, s.request)], now=s.now)) == [
        "STALE_REQUEST",
        "REPLAYED",
    ]
