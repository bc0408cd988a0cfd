"""Two threads verify at once (the GIL is released while Rust works) and every result is right.
Speed is the benchmark's business (make bench-python), never a timed assertion here."""

from __future__ import annotations

import dataclasses
import threading

import trustcore as tc

from helpers import ALLOW, scene

PER_THREAD = 150
# the authorizer's default 10 ms is wall-clock time: on a busy machine a descheduled thread would
# see LIMIT_EXCEEDED, which is right but not what these tests are about
ROOMY = tc.Limits(max_time_ms=2000)


def cases(thread: int) -> list[tuple[tc.WorkerProof, tc.RequestParts, str, str]]:
    """(proof, request, requested right, expected outcome): valid, tampered, stale, denied mixed."""
    s = scene()
    out = []
    for n in range(PER_THREAD):
        request = tc.RequestParts("POST", f"/lease/{thread}/{n}", f"body {n}".encode())
        timestamp = str(int(s.now) - (100 if n % 5 == 4 else 0))
        proof = tc.make_proof(s.worker, s.token, request, timestamp=timestamp, nonce=f"{thread}-{n}")
        right, expected = "lease", "ok"
        if n % 5 == 4:
            expected = "STALE_REQUEST"
        elif n % 3 == 1:
            proof = dataclasses.replace(proof, nonce=proof.nonce + "x")
            expected = "POP_FAILED"
        elif n % 7 == 2:
            right, expected = "admin", "DENIED"
        out.append((proof, request, right, expected))
    return out


def test_two_threads_verify_concurrently_and_every_result_is_right() -> None:
    s = scene()
    shared = tc.parse_token(s.issuer.public_hex, s.token)  # one Token used by both threads at once
    work = [cases(0), cases(1)]
    results: list[list[str]] = [[], []]
    start = threading.Barrier(2)

    def run(thread: int) -> None:
        start.wait()
        for proof, request, right, _ in work[thread]:
            try:
                token, identity = tc.authenticate(
                    s.issuer.public_hex,
                    proof,
                    request,
                    now=s.now,
                    revoked_ids=frozenset(),
                    max_skew_seconds=30,
                    limits=ROOMY,
                )
                assert identity.holder_public_hex == s.worker.public_hex
                tc.check_policy(token, request_facts={"req_right": right}, allow=ALLOW, now=s.now, limits=ROOMY)
                tc.check_policy(shared, request_facts={"req_right": right}, allow=ALLOW, now=s.now, limits=ROOMY)
                results[thread].append("ok")
            except tc.TrustError as err:
                results[thread].append(err.code)

    threads = [threading.Thread(target=run, args=(t,)) for t in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for thread in (0, 1):
        assert results[thread] == [expected for *_, expected in work[thread]]
    assert {"ok", "POP_FAILED", "STALE_REQUEST", "DENIED"} <= set(results[0])


def test_minting_and_signing_from_two_threads() -> None:
    s = scene()
    outputs: list[list[tuple[str, str]]] = [[], []]

    def run(thread: int) -> None:
        for n in range(40):
            token = tc.mint_biscuit(
                s.issuer,
                public_hex=s.worker.public_hex,
                holder_id=f"h{thread}-{n}",
                facts={"right": ["read"]},
                revocation_id=f"r{thread}-{n}",
                expires_at=s.now + 60,
            )
            sig = tc.sign_job(s.issuer, {"n": n, "t": thread}, worker_id="w")
            outputs[thread].append((token, sig))

    threads = [threading.Thread(target=run, args=(t,)) for t in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for thread in (0, 1):
        assert len(outputs[thread]) == 40
        for n, (token, sig) in enumerate(outputs[thread]):
            parsed = tc.parse_token(s.issuer.public_hex, token)
            assert f'worker_id("h{thread}-{n}")' in parsed.block_source(0)
            tc.verify_job(s.issuer.public_hex, {"n": n, "t": thread, "sig": sig}, worker_id="w")
