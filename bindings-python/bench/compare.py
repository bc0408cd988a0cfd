"""trustcore (this binding) against trust-core 0.1 from PyPI, per operation, in one run.

Prints medians in µs and the speed-up (trust-core 0.1 time / trustcore time), then the per-request
path (authenticate + check_policy) on 1 and 2 threads: with the GIL released while Rust works, two
threads should do nearly twice the work of one (trust-core 0.1 holds the GIL).

The stateful Verifier's rows are the per-request path with the token cached, against trust-core
0.1's authenticate + check_policy (it has no Verifier): with the stores in memory, and with them on
Redis (a redis-server started here on a free loopback port, stopped at the end; two round trips a
request, SMISMEMBER and SET NX PX). The goal for the cached path in memory: at least 4× trust-core 0.1.

Then 64 requests through one Verifier (memory store, token cached, fresh nonces): one by one with
``authenticate`` against one ``authenticate_batch`` call (one Ed25519 batch verification for the 64
proofs), in requests per second; the goal for the batch: at least 1.6× one by one.

    python bench/compare.py [--quick]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
import socket
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trust_core
import trust_core.wire

import trustcore

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from redis_server import RedisServer  # noqa: E402  (the tests' launcher: a free port, no persistence)

ALLOW = "allow if right($r), req_right($r)"
REFUSED: Counter[str] = Counter()


class ProofsExhausted(Exception):
    """A Verifier row ran out of the proofs made for it before timing."""


class Scene:
    """The same inputs, built with one package's API (which is the same API)."""

    def __init__(self, m: Any) -> None:
        # the Rust core's bench fixture (core/benches/core.rs), so the rows compare with it too
        self.m = m
        self.issuer = m.IssuerKey.from_secret_hex("11" * 32)
        self.worker = m.WorkerKey.from_secret_hex("22" * 32)
        self.now = time.time()
        self.token = self.mint()
        self.request = m.RequestParts("POST", "/lease", b"{}")
        self.proof = m.make_proof(self.worker, self.token, self.request, timestamp=str(int(self.now)), nonce="n-1")
        self.headers = self.proof.headers()
        self.parsed, _ = self.authenticate()
        self.job = {"id": "job-1", "kind": "transcribe", "n": 3, "url": "https://example.invalid/a.mp3"}
        self.signed_job = {**self.job, "sig": m.sign_job(self.issuer, self.job, worker_id="worker-1")}
        self.a, self.b = socket.socketpair()
        self.verifiers: dict[str, Any] = {}
        if m is trustcore:
            self.verifiers["memory"] = m.Verifier(self.issuer.public_hex, max_skew_seconds=3600)
        self.counter = 0

    def add_redis_verifier(self, url: str) -> None:
        self.verifiers["redis"] = self.m.Verifier(self.issuer.public_hex, max_skew_seconds=3600, redis=url)

    def proofs(self, count: int, tag: str) -> list[Any]:
        """Distinct proofs (a Verifier accepts each nonce once), made before timing starts."""
        request, stamp = self.request, str(int(self.now))
        return [self.m.make_proof(self.worker, self.token, request, timestamp=stamp, nonce=f"{tag}-{n}") for n in range(count)]

    def verifier_calls(self, store: str, count: int, tag: str) -> Callable[[], object]:
        """The per-request path through a Verifier (cached token), over `count` fresh proofs."""
        pending = iter(self.proofs(count, f"{store}-{tag}"))
        verifier = self.verifiers[store]

        def call() -> None:
            proof = next(pending, None)
            if proof is None:
                raise ProofsExhausted("the bench made too few proofs")
            token, _ = verifier.authenticate(proof, self.request, now=self.now)
            verifier.check_policy(token, request_facts={"req_right": "lease"}, allow=ALLOW, now=self.now)

        return call

    def mint(self) -> str:
        return str(
            self.m.mint_biscuit(
                self.issuer,
                public_hex=self.worker.public_hex,
                holder_id="gpu-1",
                facts={"right": ["lease"], "lane": ["transcribe"]},
                revocation_id="rev-1",
                expires_at=self.now + 3600,
            )
        )

    def authenticate(self) -> Any:
        return self.m.authenticate(
            self.issuer.public_hex,
            self.proof,
            self.request,
            now=self.now,
            revoked_ids=frozenset(),
            max_skew_seconds=3600,
        )

    def check_policy(self, token: Any) -> None:
        self.m.check_policy(token, request_facts={"req_right": "lease"}, allow=ALLOW, now=self.now)

    def per_request(self) -> None:
        token, _ = self.authenticate()
        self.check_policy(token)

    def frame_round_trip(self) -> None:
        self.m.wire.send_frame(self.a, {"v": 1, "id": 1, "op": "mint", "args": {"holder_id": "worker-1"}})
        self.m.wire.recv_frame(self.b)

    def operations(self) -> dict[str, Callable[[], object]]:
        m = self.m
        return {
            "authenticate + check_policy": self.per_request,
            "authenticate": self.authenticate,
            "check_policy": lambda: self.check_policy(self.parsed),
            "mint_biscuit": self.mint,
            "make_proof": lambda: m.make_proof(
                self.worker, self.token, self.request, timestamp=str(int(self.now)), nonce="n-2"
            ),
            "proof_from_headers": lambda: m.proof_from_headers(self.headers),
            "RequestParts.canonical": lambda: self.request.canonical(timestamp="1700000000", nonce="n"),
            "WorkerKey.sign": lambda: self.worker.sign(b"x" * 200),
            "WorkerKey.public_hex": lambda: self.worker.public_hex,
            "sign_job": lambda: m.sign_job(self.issuer, self.job, worker_id="worker-1"),
            "verify_job": lambda: m.verify_job(self.issuer.public_hex, self.signed_job, worker_id="worker-1"),
            "send_frame + recv_frame": self.frame_round_trip,
        }


def tolerant(call: Callable[[], object]) -> Callable[[], None]:
    """The call, with a refusal counted instead of raised: trust-core 0.1's authorizer stops at
    biscuit-python's 1 ms default, which a busy machine sometimes exceeds."""

    def run() -> None:
        try:
            call()
        except ProofsExhausted:
            raise  # a bug in the bench, never counted as a refusal
        except trustcore.TrustError:
            REFUSED["trustcore"] += 1
        except Exception:  # trust-core 0.1 lets biscuit-python's AuthorizationError escape
            REFUSED["trust-core 0.1"] += 1

    return run


def median_us(call: Callable[[], object], samples: int, target_s: float) -> float:
    """Median over `samples` batches; each batch sized to take about `target_s`."""
    call = tolerant(call)
    call()
    start = time.perf_counter()
    call()
    once = max(time.perf_counter() - start, 1e-7)
    batch = max(1, int(target_s / once))
    times = []
    for _ in range(samples):
        start = time.perf_counter_ns()
        for _ in range(batch):
            call()
        times.append((time.perf_counter_ns() - start) / batch / 1000)
    return statistics.median(times)


def verifier_median_us(scene: Scene, store: str, samples: int, target_s: float) -> float:
    """`median_us` for the Verifier, whose every call needs a fresh proof: the batch is sized on a
    trial run first, then exactly enough proofs are made, before any timing."""
    trial = scene.verifier_calls(store, 202, "trial")
    trial()
    trial()  # the token is cached now; each verifier sees one miss in all
    start = time.perf_counter()
    for _ in range(200):
        trial()
    once = max((time.perf_counter() - start) / 200, 1e-7)
    batch = max(1, int(target_s / once))
    calls = tolerant(scene.verifier_calls(store, samples * batch, "median"))
    times = []
    for _ in range(samples):
        start = time.perf_counter_ns()
        for _ in range(batch):
            calls()
        times.append((time.perf_counter_ns() - start) / batch / 1000)
    return statistics.median(times)


BATCH_SIZE = 64


def batch_throughput(scene: Scene, samples: int, rounds: int) -> tuple[float, float]:
    """Requests per second for `BATCH_SIZE` requests one by one and as one batch (medians over
    `samples`, each `rounds` groups of 64 per mode), the two modes interleaved so a change in the
    machine's load hits both alike. Every proof is made before timing, and every request must be
    accepted (a refusal would be a bug here, not a busy machine: authenticate has no time limit)."""
    m, request, now = scene.m, scene.request, scene.now
    total = 2 * (samples + 1) * rounds * BATCH_SIZE
    # its own verifier: the other rows' nonces must not fill its replay store
    verifier = m.Verifier(scene.issuer.public_hex, max_skew_seconds=3600, replay_capacity=total)
    pending = iter(scene.proofs(total, "batch"))

    def groups() -> list[list[tuple[Any, Any]]]:
        return [[(next(pending), request) for _ in range(BATCH_SIZE)] for _ in range(rounds)]

    def one_by_one(work: list[list[tuple[Any, Any]]]) -> None:
        for group in work:
            for proof, req in group:
                verifier.authenticate(proof, req, now=now)

    def batched(work: list[list[tuple[Any, Any]]]) -> None:
        for group in work:
            for result in verifier.authenticate_batch(group, now=now):
                if isinstance(result, trustcore.TrustError):
                    raise result

    one_by_one(groups())  # warm up (the token is cached from here on)
    batched(groups())
    single, batch = [], []
    for _ in range(samples):
        for mode, rates in ((one_by_one, single), (batched, batch)):
            work = groups()
            start = time.perf_counter()
            mode(work)
            rates.append(rounds * BATCH_SIZE / (time.perf_counter() - start))
    return statistics.median(single), statistics.median(batch)


UNIQUE = itertools.count()


def throughput(make_call: Callable[[int], Callable[[], object]], threads: int, per_thread: int) -> float:
    """Calls per second when `threads` threads each make `per_thread` calls; best of three runs.
    A refused call (a time limit hit on a busy machine) still counts: it did the work."""
    best = 0.0
    for _ in range(3):
        calls = [make_call(next(UNIQUE)) for _ in range(threads)]
        ready = threading.Barrier(threads + 1)

        def run(call: Callable[[], object]) -> None:
            call = tolerant(call)
            ready.wait()
            for _ in range(per_thread):
                call()

        workers = [threading.Thread(target=run, args=(call,)) for call in calls]
        for w in workers:
            w.start()
        ready.wait()
        start = time.perf_counter()
        for w in workers:
            w.join()
        best = max(best, threads * per_thread / (time.perf_counter() - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer, shorter samples")
    args = parser.parse_args()
    samples, target, per_thread = (5, 0.02, 300) if args.quick else (15, 0.05, 1500)

    with RedisServer() as redis:
        run(samples, target, per_thread, redis)


def run(samples: int, target: float, per_thread: int, redis: RedisServer) -> None:
    old, new = Scene(trust_core), Scene(trustcore)
    new.add_redis_verifier(redis.url)
    old_ops, new_ops = old.operations(), new.operations()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; trust-core 0.1.0 vs trustcore {trustcore.__version__}")
    # the machine may be shared: a busy second core shows in the 2-thread column first
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print(f"{'operation':<34} {'trust-core 0.1 µs':>18} {'trustcore µs':>13} {'speed-up':>9}")
    baseline = 0.0
    for name in new_ops:
        before = median_us(old_ops[name], samples, target)
        after = median_us(new_ops[name], samples, target)
        print(f"{name:<34} {before:>18.1f} {after:>13.1f} {before / after:>8.2f}x")
        if name == "authenticate + check_policy":
            baseline = before
    # the stateful Verifier (trust-core 0.1 has none): the same path with the token cached, against
    # trust-core 0.1's authenticate + check_policy
    for store in ("memory", "redis"):
        cached = verifier_median_us(new, store, samples, target)
        label = f"Verifier cached, {store} store"
        print(f"{label:<34} {baseline:>18.1f} {cached:>13.1f} {baseline / cached:>8.2f}x")

    print()
    single, batch = batch_throughput(new, samples, 4 if samples < 10 else 8)
    print(f"{f'{BATCH_SIZE} requests, one Verifier (memory)':<34} {'requests/s':>12} {'vs one by one':>14}")
    print(f"{'authenticate, one by one':<34} {single:>12.0f} {1.0:>13.2f}x")
    print(f"{'authenticate_batch, one call':<34} {batch:>12.0f} {batch / single:>13.2f}x")

    print()
    print(f"{'per-request path, threads':<34} {'1 thread /s':>12} {'2 threads /s':>13} {'2 vs 1':>8}")
    # a reference that releases the GIL in C: how much of a second core this machine has free now
    blob = b"x" * (1 << 16)
    rows: list[tuple[str, Callable[[int], Callable[[], object]]]] = [
        ("reference: hashlib.sha256 64 KiB", lambda i: lambda: hashlib.sha256(blob).digest()),
        ("trust-core 0.1", lambda i: old.per_request),
        ("trustcore", lambda i: new.per_request),
        ("trustcore Verifier, memory", lambda i: new.verifier_calls("memory", per_thread, f"t{i}")),
        ("trustcore Verifier, redis", lambda i: new.verifier_calls("redis", per_thread, f"t{i}")),
    ]
    for label, make_call in rows:
        one = throughput(make_call, 1, per_thread)
        two = throughput(make_call, 2, per_thread)
        print(f"{label:<34} {one:>12.0f} {two:>13.0f} {two / one:>7.2f}x")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if REFUSED:
        print(f"refused calls, counted in the times (authorizer time limits on a busy machine): {dict(REFUSED)}")


if __name__ == "__main__":
    main()
