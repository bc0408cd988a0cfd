"""Verifier.authenticate_batch: each request of a batch gets exactly what it would get alone (a
second verifier, used one request at a time, is the reference) as long as no (holder, nonce)
repeats within the batch; a repeat is REPLAYED before any work, even when the first failed; nonces
are recorded in order; one bad request never fails the others (only a batch over the verifier's
bounds is refused whole: test_cost.py), and arguments of the wrong type are refused before anything
runs."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

import trustcore as tc

from helpers import ALLOW, Scene, scene
from redis_server import RedisServer

Pair = tuple[tc.WorkerProof, tc.RequestParts]


def proof(s: Scene, nonce: str, *, request: tc.RequestParts | None = None, stamp: float | None = None,
          token: str | None = None, worker: tc.WorkerKey | None = None) -> tc.WorkerProof:
    timestamp = str(int(s.now if stamp is None else stamp))
    return tc.make_proof(worker or s.worker, token or s.token, request or s.request, timestamp=timestamp, nonce=nonce)


def mint(s: Scene, worker: tc.WorkerKey, holder_id: str, revocation_id: str, issuer: tc.IssuerKey | None = None) -> str:
    return tc.mint_biscuit(
        issuer or s.issuer,
        public_hex=worker.public_hex,
        holder_id=holder_id,
        facts={"right": ["lease"]},
        revocation_id=revocation_id,
        expires_at=s.now + 3600,
    )


def verifier(s: Scene, **settings: Any) -> tc.Verifier:
    return tc.Verifier(s.issuer.public_hex, max_skew_seconds=30, revoked_ids=["rev-revoked"], **settings)


def codes(results: Sequence[object]) -> list[str]:
    return [result.code if isinstance(result, tc.TrustError) else "OK" for result in results]


def alone(v: tc.Verifier, requests: Sequence[Pair], now: float) -> list[object]:
    """What each request gets from `authenticate`, one after the other."""
    out: list[object] = []
    for p, r in requests:
        try:
            _, identity = v.authenticate(p, r, now=now)
            out.append(identity)
        except tc.TrustError as err:
            out.append(err.code)
    return out


def batched(v: tc.Verifier, requests: Sequence[Pair], now: float | None) -> list[object]:
    """`authenticate_batch`, in the same shape: the identity, or the code of the returned error."""
    results = v.authenticate_batch(requests, now=now)
    assert len(results) == len(requests)
    out: list[object] = []
    for result in results:
        if isinstance(result, tc.TrustError):
            assert type(result) is tc.ERRORS_BY_CODE[result.code]  # the subclass, as authenticate raises
            out.append(result.code)
        else:
            token, identity = result
            assert isinstance(token, tc.Token) and isinstance(identity, tc.VerifiedIdentity)
            out.append(identity)
    return out


def mixed(s: Scene, *, forged: bool) -> tuple[list[Pair], list[str]]:
    """A batch of every kind of request, and the code each must get ("OK" for accepted). With
    `forged`, some proofs do not verify, so the batch verification fails and core checks each one
    on its own; without, the batch verification passes and the failures are all found before it.
    No (holder, nonce) repeats but the first request's, which was accepted: alone it is REPLAYED
    too (repeats after a failure: test_a_repeat_within_a_batch_is_replayed_even_after_a_failure)."""
    other = tc.WorkerKey(seed=bytes(range(64, 96)))
    other_token = mint(s, other, "worker-2", "rev-2")
    revoked_token = mint(s, s.worker, "worker-1", "rev-revoked")
    foreign_token = mint(s, s.worker, "worker-1", "rev-1", issuer=tc.IssuerKey(seed=b"\x07" * 32))
    first = proof(s, "a")
    body = tc.RequestParts("POST", "/lease?x=1", bytearray(s.request.body))
    items: list[tuple[Pair, str]] = [
        ((first, s.request), "OK"),
        ((proof(s, "b", stamp=s.now - 100), s.request), "STALE_REQUEST"),
        ((first, s.request), "REPLAYED"),  # the first request again, within the batch
        ((dataclasses.replace(proof(s, "c"), token="not-a-token"), s.request), "TOKEN_INVALID"),
        ((proof(s, "d", token=foreign_token), s.request), "TOKEN_INVALID"),
        ((dataclasses.replace(proof(s, "e"), signature="zz" * 64), s.request), "MALFORMED_INPUT"),
        ((dataclasses.replace(proof(s, "f"), signature="ab"), s.request), "MALFORMED_INPUT"),
        ((proof(s, "g", token=revoked_token), s.request), "REVOKED"),
        ((proof(s, "h", worker=other, token=other_token), s.request), "OK"),  # another holder
        ((proof(s, "i", request=body), body), "OK"),  # a bytearray body
        ((dataclasses.replace(proof(s, "j"), nonce="\udcff"), s.request), "MALFORMED_INPUT"),  # a lone surrogate
        ((proof(s, "k"), tc.RequestParts("POST\n", "/lease?x=1", s.request.body)), "MALFORMED_INPUT"),  # CR/LF
    ]
    if forged:
        stolen = proof(s, "m", worker=other)  # the holder's token, signed with someone else's key
        tampered = proof(s, "n")
        items += [
            ((dataclasses.replace(proof(s, "l"), signature="00" * 64), s.request), "POP_FAILED"),
            ((stolen, s.request), "POP_FAILED"),
            ((tampered, tc.RequestParts("POST", "/lease?x=1", b"another body")), "POP_FAILED"),
            ((dataclasses.replace(first, nonce="o"), s.request), "POP_FAILED"),  # signed for another nonce
        ]
    items.append(((proof(s, "z"), s.request), "OK"))
    return [pair for pair, _ in items], [code for _, code in items]


@pytest.mark.parametrize("forged", [True, False], ids=["with forgeries", "without forgeries"])
def test_each_request_of_a_mixed_batch_gets_what_it_gets_alone(forged: bool) -> None:
    s = scene()
    requests, expected = mixed(s, forged=forged)
    one_by_one, batch = verifier(s), verifier(s)
    reference = alone(one_by_one, requests, s.now)
    got = batched(batch, requests, s.now)
    assert got == reference
    assert [code if isinstance(code, str) else "OK" for code in got] == expected
    # one lookup per distinct token that reached core (5: the holder's, the other holder's, the
    # revoked one, the foreign one, the broken one), all misses; only the two whose proofs verified
    # were cached
    assert batch.cache_stats() == (0, 5)
    # the same nonces recorded: a second pass is refused alike, everything accepted before REPLAYED
    again = batched(batch, requests, s.now)
    assert again == alone(one_by_one, requests, s.now)
    assert [code for code, was in zip(again, expected) if was == "OK"] == ["REPLAYED"] * expected.count("OK")
    assert batch.cache_stats() == (2, 8)


def test_a_repeat_within_a_batch_is_replayed_even_after_a_failure() -> None:
    """A (holder, nonce) seen earlier in the batch is REPLAYED before any work, whether the first
    was accepted or refused; a refused one still does not use the nonce up for a later batch."""
    s = scene()
    v = verifier(s)
    other = tc.WorkerKey(seed=bytes(range(64, 96)))
    second_token = mint(s, s.worker, "worker-1", "rev-3")  # the same holder, another token
    tampered = proof(s, "n")
    first: list[tuple[Pair, str]] = [
        ((proof(s, "b", stamp=s.now - 100), s.request), "STALE_REQUEST"),
        ((proof(s, "b"), s.request), "REPLAYED"),  # alone: OK (the stale one did not record "b")
        ((proof(s, "m", worker=other), s.request), "POP_FAILED"),  # the holder's token, another key
        ((proof(s, "m"), s.request), "REPLAYED"),
        ((tampered, tc.RequestParts("POST", "/lease?x=1", b"another body")), "POP_FAILED"),
        ((tampered, s.request), "REPLAYED"),
        ((proof(s, "a"), s.request), "OK"),
        ((proof(s, "a"), s.request), "REPLAYED"),
        ((proof(s, "a", token=second_token), s.request), "REPLAYED"),  # the same (holder, nonce)
    ]
    assert codes(v.authenticate_batch([pair for pair, _ in first], now=s.now)) == [code for _, code in first]
    # in a later batch the nonces the refused requests carried are still unused
    later = [(proof(s, "b"), s.request), (proof(s, "m"), s.request), (tampered, s.request), (proof(s, "a"), s.request)]
    assert codes(v.authenticate_batch(later, now=s.now)) == ["OK", "OK", "OK", "REPLAYED"]


def test_an_accepted_request_of_a_batch_gives_a_usable_token() -> None:
    s = scene()
    v = verifier(s)
    (result,) = v.authenticate_batch([(proof(s, "a"), s.request)], now=s.now)
    assert not isinstance(result, tc.TrustError)
    token, identity = result
    assert identity == tc.VerifiedIdentity("worker-1", s.worker.public_hex, "rev-1")
    v.check_policy(token, request_facts={"req_right": "lease"}, allow=ALLOW, now=s.now)
    with pytest.raises(tc.Denied):
        v.check_policy(token, request_facts={"req_right": "admin"}, allow=ALLOW, now=s.now)
    assert "worker_key" in token.block_source(0)


def test_a_batch_of_64_valid_requests_is_all_ok_then_all_replayed() -> None:
    s = scene()
    v = verifier(s)
    requests = [(proof(s, f"n{n}"), s.request) for n in range(64)]
    first = v.authenticate_batch(requests, now=s.now)
    assert all(not isinstance(result, tc.TrustError) for result in first)
    assert {result[1] for result in first if not isinstance(result, tc.TrustError)} == {
        tc.VerifiedIdentity("worker-1", s.worker.public_hex, "rev-1")
    }
    again = v.authenticate_batch(requests, now=s.now)
    assert [type(result) for result in again] == [tc.Replayed] * 64
    assert v.cache_stats() == (1, 1)  # one token: looked up once a batch, parsed once for all 128 requests


def test_the_system_clock_is_the_default_now() -> None:
    s = scene()
    v = verifier(s)
    results = v.authenticate_batch([(proof(s, "a"), s.request), (proof(s, "b", stamp=s.now - 3600), s.request)])
    assert not isinstance(results[0], tc.TrustError)
    assert isinstance(results[1], tc.StaleRequest)


def test_an_empty_batch_is_an_empty_list() -> None:
    s = scene()
    v = verifier(s)
    assert v.authenticate_batch([]) == []
    assert v.authenticate_batch((), now=s.now) == []
    assert v.authenticate_batch([], now=10**400) == []
    assert v.cache_stats() == (0, 0)


def test_a_now_that_cannot_be_a_time_is_each_requests_error_never_raised() -> None:
    s = scene()
    v = verifier(s)
    requests = [(proof(s, "a"), s.request), (proof(s, "b"), s.request)]
    for now in (10**400, float("nan"), float("inf")):
        assert batched(v, requests, now) == alone(verifier(s), requests, now) == ["MALFORMED_INPUT"] * 2
    # none of them recorded a nonce
    assert batched(v, requests, s.now) == [tc.VerifiedIdentity("worker-1", s.worker.public_hex, "rev-1")] * 2


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(lambda good: None, id="None"),
        pytest.param(lambda good: good, id="a bare pair"),
        pytest.param(lambda good: "requests", id="str"),
        pytest.param(lambda good: b"requests", id="bytes"),
        pytest.param(lambda good: iter([good]), id="an iterator"),
        pytest.param(lambda good: {good: 1}, id="a dict"),
        pytest.param(lambda good: [good, None], id="None in the list"),
        pytest.param(lambda good: [good, list(good)], id="a list for a tuple"),
        pytest.param(lambda good: [good, (good[0],)], id="a 1-tuple"),
        pytest.param(lambda good: [good, (*good, good[1])], id="a 3-tuple"),
        pytest.param(lambda good: [good, (good[1], good[0])], id="swapped"),
        pytest.param(lambda good: [good, (good[0].headers(), good[1])], id="headers for a proof"),
        pytest.param(lambda good: [good, (dataclasses.replace(good[0], token=b"t"), good[1])], id="bytes token"),
        pytest.param(lambda good: [good, (dataclasses.replace(good[0], nonce=None), good[1])], id="None nonce"),
        pytest.param(lambda good: [good, (good[0], tc.RequestParts("POST", 1, b""))], id="int path"),  # type: ignore[arg-type]
        pytest.param(lambda good: [good, (good[0], tc.RequestParts("POST", "/", "{}"))], id="str body"),  # type: ignore[arg-type]
        pytest.param(lambda good: [good, (good[0], tc.RequestParts("POST", "/", memoryview(b"")))], id="memoryview body"),  # type: ignore[arg-type]
    ],
)
def test_arguments_of_the_wrong_type_raise_type_error_before_anything_runs(bad: Any) -> None:
    s = scene()
    v = verifier(s)
    good = (proof(s, "a"), s.request)
    with pytest.raises(TypeError):
        v.authenticate_batch(bad(good), now=s.now)
    with pytest.raises(TypeError):
        v.authenticate_batch([good], now="1")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        v.authenticate_batch([good], s.now)  # type: ignore[misc]  # now is keyword-only
    # nothing ran: the good request's nonce is still unused, its token never looked up
    assert v.cache_stats() == (0, 0)
    v.authenticate(*good, now=s.now)


def test_two_threads_send_batches_at_once() -> None:
    s = scene()
    # the authorizer's default 10 ms is wall-clock time, which a busy machine may exceed
    v = verifier(s, limits=tc.Limits(max_time_ms=2000))
    rounds, size = 20, 16
    shared = [proof(s, f"shared-{b}") for b in range(rounds)]  # both threads send each of these

    def batches(t: int) -> list[tuple[list[Pair], list[str]]]:
        out = []
        for b in range(rounds):
            requests: list[Pair] = [(proof(s, f"{t}-{b}-{n}"), s.request) for n in range(size)]
            expected = ["OK"] * size
            if b % 3 == 1:  # a forgery: core checks this batch's proofs one by one
                requests[5] = (dataclasses.replace(requests[5][0], signature="00" * 64), s.request)
                expected[5] = "POP_FAILED"
            requests[9] = requests[2]  # a replay within the batch
            expected[9] = "REPLAYED"
            requests.append((shared[b], s.request))
            expected.append("SHARED")
            out.append((requests, expected))
        return out

    work = [batches(0), batches(1)]
    results: list[list[list[str]]] = [[], []]
    start = threading.Barrier(2)

    def run(t: int) -> None:
        start.wait()
        for requests, _ in work[t]:
            outcomes = v.authenticate_batch(requests, now=s.now)
            for r in outcomes:
                if not isinstance(r, tc.TrustError):
                    v.check_policy(r[0], request_facts={"req_right": "lease"}, allow=ALLOW, now=s.now)
            results[t].append(codes(outcomes))

    threads = [threading.Thread(target=run, args=(t,)) for t in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for t in (0, 1):
        assert len(results[t]) == rounds
        for got, (_, expected) in zip(results[t], work[t]):
            assert got[:-1] == expected[:-1]
    # each shared nonce was accepted by exactly one of the two threads
    for b in range(rounds):
        assert sorted([results[0][b][-1], results[1][b][-1]]) == ["OK", "REPLAYED"]
    hits, misses = v.cache_stats()
    assert hits + misses == 2 * rounds and misses <= 2  # one token: one lookup per batch


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    try:
        server = RedisServer().start()
    except RuntimeError as err:
        pytest.fail(str(err))
    try:
        yield server
    finally:
        server.close()


def test_batches_on_a_shared_redis_store(redis: RedisServer) -> None:
    s = scene()
    host_a = tc.Verifier(s.issuer.public_hex, max_skew_seconds=30, redis=redis.url)
    host_b = tc.Verifier(s.issuer.public_hex, max_skew_seconds=30, redis=redis.url)
    requests = [(proof(s, f"r{n}"), s.request) for n in range(8)]
    assert codes(host_a.authenticate_batch(requests)) == ["OK"] * 8
    assert codes(host_b.authenticate_batch(requests)) == ["REPLAYED"] * 8  # on another host
    host_b.revoke("rev-1")
    fresh = [(proof(s, f"f{n}"), s.request) for n in range(3)]
    assert codes(host_a.authenticate_batch(fresh)) == ["REVOKED"] * 3
    redis.stop()
    # Redis gone: every request is refused (returned, never raised), none lets anything through
    later = [(proof(s, f"g{n}"), s.request) for n in range(3)]
    assert codes(host_a.authenticate_batch(later)) == ["STORE_UNAVAILABLE"] * 3
