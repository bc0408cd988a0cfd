"""The unified benchmark (bench/README.md) for Python: this binding (`python`) and trust-core 0.1
from PyPI (`trust-core-0.1`), the same fixture, operations and timing loop as every other harness,
one JSON line per figure.

trust-core 0.1 has the same API but no Verifier and no SignerClient: its lines are the stateless
operations (mint, make_proof, authenticate_uncached_*, check_policy, per_request_uncached,
sign_job, verify_job, throughput_uncached). Throughput runs on 1 and then 2 Python threads; this
binding releases the GIL while Rust works, trust-core 0.1 holds it.

The Verifier on Redis uses a redis-server started here on a free loopback port (the tests'
launcher); the signer op starts ``$TRUSTCORE_BIN signer serve`` on a Unix socket in a temporary
directory. Both are stopped at the end.

    python bench/python/bench.py OUT.jsonl      (or ``-`` for standard output; progress on stderr)
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, TextIO

import trust_core

import trustcore
from trustcore.http import sign_request

# the Python binding's test launchers (the bench shares them)
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bindings-python" / "tests"))
from redis_server import RedisServer  # noqa: E402  (a free loopback port, no persistence)
from signer_daemon import Daemon  # noqa: E402  (the key file 0600 in a temp dir, a clean stop)

# the fixture (bench/README.md), identical in every harness
ISSUER_SEED, HOLDER_SEED = "11" * 32, "22" * 32
NOW = 1700000000.0
TIMESTAMP = "1700000000"
SKEW = 300.0
FACTS = {"lane": ["transcribe", "gpu"]}
REQUEST_FACTS = {"req_operation": "lease"}
ALLOW = 'allow if req_operation("lease"), lane("transcribe")'
JOB = {"id": "job-1", "kind": "transcribe", "n": 3, "url": "https://example.invalid/a.mp3"}
BODIES = {"2B": b"{}", "1KiB": b"x" * 1024, "1MiB": b"x" * 1048576}
# the HTTP ops: `POST /lease` to this authority, the 1 KiB body, under this route policy
HTTP_AUTHORITY = "bench.example"
HTTP_POLICY = json.dumps({"routes": [{"method": "POST", "path": "/lease", "allow": ALLOW}]})
HTTP_OPS = {"http_rfc9421_cached": "rfc9421", "http_legacy_cached": "legacy"}

# the timing loop
WARM_SECONDS = 0.2
SAMPLE_SECONDS = 0.010
SAMPLES = 21
THROUGHPUT_SECONDS = 1.0
BATCH = 64
BATCH_POOL = 400 * BATCH


def pool_for(body: str) -> int:
    return 600 if body == "1MiB" else 10_000


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class PoolExhausted(Exception):
    """The proofs made before timing ran out: a bench bug; a nonce is never reused."""


def drawing(pool: list[Any]) -> Callable[[], Any]:
    items: Iterator[Any] = iter(pool)

    def draw() -> Any:
        item = next(items, None)
        if item is None:
            raise PoolExhausted("proof pool exhausted")
        return item

    return draw


class Out:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def line(self, record: dict[str, Any]) -> None:
        self.stream.write(json.dumps(record) + "\n")
        self.stream.flush()

    def measure(self, impl: str, op: str, call: Callable[[], object], *, pool: int | None = None, per: int = 1) -> float:
        """bench/README.md's loop: warm up 0.2 s (at least 3 calls, at most a fifth of the pool),
        `k` calls per ~10 ms sample (at most what the pool has left for 21 samples), 21 samples;
        per-iteration times (divided by `per` for ops reported per request). Returns the median."""
        warm_cap = pool // 5 if pool is not None else sys.maxsize
        calls = 0
        start = time.perf_counter()
        while calls < 3 or (time.perf_counter() - start < WARM_SECONDS and calls < warm_cap):
            call()
            calls += 1
        per_call = (time.perf_counter() - start) / calls
        k = max(1, round(SAMPLE_SECONDS / per_call))
        if pool is not None:
            k = max(1, min(k, (pool - calls) // SAMPLES))
        times = []
        clock = time.perf_counter_ns
        for _ in range(SAMPLES):
            begin = clock()
            for _ in range(k):
                call()
            times.append((clock() - begin) / (k * per))
        times.sort()
        median = float(times[SAMPLES // 2])
        progress(f"{impl} {op}: {median / 1000:.1f} us")
        self.line(
            {
                "impl": impl,
                "op": op,
                "unit": "ns",
                "median": median,
                "min": float(times[0]),
                "max": float(times[-1]),
                "samples": SAMPLES,
                "k": k,
            }
        )
        return median

    def throughput(self, impl: str, op: str, threads: int, requests: int, seconds: float) -> None:
        value = requests / seconds
        progress(f"{impl} {op} x{threads}: {value:.0f} req/s")
        self.line(
            {
                "impl": impl,
                "op": op,
                "threads": threads,
                "unit": "req/s",
                "value": round(value, 1),
                "requests": requests,
                "seconds": round(seconds, 4),
            }
        )


def run_threads(threads: int, work: Callable[[int, float], int]) -> tuple[int, float]:
    """`work(t, deadline)` on `threads` Python threads started together, for about a second;
    the requests they made and the seconds it took. An error in any thread fails the harness."""
    counts: list[int] = [0] * threads
    errors: list[BaseException] = []
    ready = threading.Barrier(threads + 1)
    box: dict[str, float] = {}

    def run(t: int) -> None:
        ready.wait()
        try:
            counts[t] = work(t, box["deadline"])
        except BaseException as err:  # noqa: BLE001  (re-raised in the main thread)
            errors.append(err)

    workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    start = time.perf_counter()
    box["deadline"] = start + THROUGHPUT_SECONDS
    ready.wait()
    for w in workers:
        w.join()
    seconds = time.perf_counter() - start
    if errors:
        raise errors[0]
    return sum(counts), seconds


class Scene:
    """The fixture built with one package's API (trust-core 0.1's, which this binding keeps)."""

    def __init__(self, m: Any) -> None:
        self.m = m
        self.issuer = m.IssuerKey.from_secret_hex(ISSUER_SEED)
        self.holder = m.WorkerKey.from_secret_hex(HOLDER_SEED)
        self.token = self.mint()
        self.requests = {name: m.RequestParts("POST", "/lease", body) for name, body in BODIES.items()}
        self.small = self.requests["2B"]
        self.proof = {name: self.make_proof(request, "n-1") for name, request in self.requests.items()}
        self.parsed, _ = self.authenticate("2B")
        self.signed_job = {**JOB, "sig": self.sign_job()}

    def mint(self) -> str:
        return str(
            self.m.mint_biscuit(
                self.issuer,
                public_hex=self.holder.public_hex,
                holder_id="gpu-1",
                facts=FACTS,
                revocation_id="rev-1",
                expires_at=NOW + 3600,
            )
        )

    def make_proof(self, request: Any, nonce: str) -> Any:
        return self.m.make_proof(self.holder, self.token, request, timestamp=TIMESTAMP, nonce=nonce)

    def proofs(self, body: str, count: int, tag: str) -> list[Any]:
        request = self.requests[body]
        return [self.make_proof(request, f"{tag}-{n}") for n in range(count)]

    def authenticate(self, body: str) -> Any:
        return self.m.authenticate(
            self.issuer.public_hex,
            self.proof[body],
            self.requests[body],
            now=NOW,
            revoked_ids=frozenset(),
            max_skew_seconds=SKEW,
        )

    def check_policy(self, token: Any) -> None:
        self.m.check_policy(token, request_facts=REQUEST_FACTS, allow=ALLOW, now=NOW)

    def per_request_uncached(self) -> None:
        token, _ = self.authenticate("2B")
        self.check_policy(token)

    def sign_job(self) -> str:
        return str(self.m.sign_job(self.issuer, JOB, worker_id="gpu-1"))

    def verify_job(self) -> None:
        self.m.verify_job(self.issuer.public_hex, self.signed_job, worker_id="gpu-1")

    def verifier(
        self, capacity: int, redis: str | None = None, authorities: list[str] | None = None
    ) -> trustcore.Verifier:
        # the fixture has one holder, whose fresh nonces fill the store: its share is all of it
        # (by default a holder may hold a quarter of the store, then LIMIT_EXCEEDED)
        capacity = max(capacity, 1000)
        return trustcore.Verifier(
            self.issuer.public_hex,
            max_skew_seconds=SKEW,
            replay_capacity=capacity,
            replay_capacity_per_holder=capacity,
            redis=redis,
            authorities=authorities,
        )

    def http_requests(self, profile: str, count: int, tag: str) -> list[list[tuple[str, str]]]:
        """Signed HTTP requests (`POST /lease` to HTTP_AUTHORITY, the 1 KiB body) in `profile`, each
        with a nonce of its own and created = NOW, as header lines (the Host line first)."""
        host = [("Host", HTTP_AUTHORITY)]
        body = BODIES["1KiB"]

        def signed(nonce: str) -> list[tuple[str, str]]:
            added = sign_request(self.holder, self.token, "POST", "/lease", host, body, profile=profile,
                                 created=int(NOW), nonce=nonce)
            return host + list(added.items())

        return [signed(f"{tag}-{n}") for n in range(count)]


RETRIED: dict[str, int] = {}


def retrying_limits(op: str, call: Callable[[], object]) -> Callable[[], object]:
    """trust-core 0.1's authorizer runs with biscuit-python's default limits (1 ms): on a busy
    machine a call now and then stops with "Reached Datalog execution limits". That one refusal is
    retried (at most 9 times; counted and reported on stderr), every other error fails the run.
    (check_policy wraps it in TrustError("worker not authorized ..."): the cause says which.)"""

    def run() -> object:
        for attempt in range(10):
            try:
                return call()
            except Exception as err:
                said = f"{err} {err.__cause__}"
                if attempt == 9 or "Reached Datalog execution limits" not in said:
                    raise
                RETRIED[op] = RETRIED.get(op, 0) + 1
        raise AssertionError("unreachable")

    return run


def stateless_ops(out: Out, impl: str, s: Scene) -> float:
    """The operations both packages have; returns per_request_uncached's median (ns)."""
    ops: dict[str, Callable[[], object]] = {
        "mint": s.mint,
        "make_proof": lambda: s.make_proof(s.small, "n-1"),
        **{f"authenticate_uncached_{body}": partial(s.authenticate, body) for body in BODIES},
        "check_policy": lambda: s.check_policy(s.parsed),
        "per_request_uncached": s.per_request_uncached,
        "sign_job": s.sign_job,
        "verify_job": s.verify_job,
    }
    medians = {}
    for op, call in ops.items():
        medians[op] = out.measure(impl, op, call if s.m is trustcore else retrying_limits(op, call))
    return medians["per_request_uncached"]


def throughput_uncached(out: Out, impl: str, s: Scene) -> None:
    for threads in (1, 2):

        call = s.per_request_uncached if s.m is trustcore else retrying_limits("throughput_uncached", s.per_request_uncached)

        def work(t: int, deadline: float, call: Callable[[], object] = call) -> int:
            n = 0
            while time.perf_counter() < deadline:
                call()
                n += 1
            return n

        out.throughput(impl, "throughput_uncached", threads, *run_threads(threads, work))


def verifier_ops(out: Out, s: Scene, redis_url: str) -> float:
    """The Verifier's operations (this binding only), the HTTP ops right after per_request_cached;
    returns per_request_cached's median (ns)."""
    for body in BODIES:
        pool = pool_for(body)
        verifier = s.verifier(pool)
        request, draw = s.requests[body], drawing(s.proofs(body, pool, f"c{body}"))

        def call(verifier: trustcore.Verifier = verifier, request: Any = request, draw: Callable[[], Any] = draw) -> None:
            verifier.authenticate(draw(), request, now=NOW)

        out.measure("python", f"authenticate_cached_{body}", call, pool=pool)
    medians = {}
    for op, redis in (("per_request_cached", None), ("per_request_cached_redis", redis_url)):
        pool = pool_for("2B")
        verifier, draw = s.verifier(pool, redis), drawing(s.proofs("2B", pool, op))

        def per_request(verifier: trustcore.Verifier = verifier, draw: Callable[[], Any] = draw) -> None:
            token, _ = verifier.authenticate(draw(), s.small, now=NOW)
            verifier.check_policy(token, request_facts=REQUEST_FACTS, allow=ALLOW, now=NOW)

        medians[op] = out.measure("python", op, per_request, pool=pool)
        if op == "per_request_cached":
            http_ops(out, s)  # right after it: the HTTP goal compares the two
    return medians["per_request_cached"]


def http_ops(out: Out, s: Scene) -> None:
    """The HTTP decision function (Verifier.decide) on a cached token, the 1 KiB body, a fresh
    nonce per request, in each profile; every decision must be allowed."""
    policy = trustcore.HttpPolicy.from_json(HTTP_POLICY)
    body = BODIES["1KiB"]
    for op, profile in HTTP_OPS.items():
        pool = pool_for("1KiB")
        verifier = s.verifier(pool, authorities=[HTTP_AUTHORITY])
        draw = drawing(s.http_requests(profile, pool, op))

        def decide(headers: list[tuple[str, str]], verifier: trustcore.Verifier = verifier, op: str = op) -> None:
            decision = verifier.decide("POST", "/lease", headers, body, policy=policy, facts=REQUEST_FACTS, now=NOW)
            if not decision.allowed:
                raise RuntimeError(f"{op}: refused, {decision.status} {decision.code}: {decision.message}")

        decide(s.http_requests(profile, 1, f"{op}-warm")[0])  # the token cached
        out.measure("python", op, lambda decide=decide, draw=draw: decide(draw()), pool=pool)


def signer_op(out: Out, s: Scene) -> None:
    daemon = Daemon(ISSUER_SEED, ["--max-ttl", "86400"]).start()
    try:
        client = trustcore.SignerClient(daemon.socket_path)
        expires_at = time.time() + 3600  # the signer checks the expiry on its own clock
        out.measure(
            "python",
            "signer_mint_socket",
            lambda: client.mint(s.holder.public_hex, "gpu-1", FACTS, expires_at=expires_at, revocation_id="rev-1"),
        )
    finally:
        daemon.cleanup()


def batch_ops(out: Out, s: Scene) -> None:
    """64 fresh requests through a Verifier of their own, one by one and as one batch; per request."""
    for op, batched in (("batch64_one_by_one", False), ("batch64", True)):
        proofs = s.proofs("2B", BATCH_POOL, op)
        groups = drawing([[(p, s.small) for p in proofs[i : i + BATCH]] for i in range(0, BATCH_POOL, BATCH)])
        verifier = s.verifier(BATCH_POOL)

        def call(verifier: trustcore.Verifier = verifier, groups: Callable[[], Any] = groups, batched: bool = batched) -> None:
            group = groups()
            if batched:
                for result in verifier.authenticate_batch(group, now=NOW):
                    if isinstance(result, trustcore.TrustError):
                        raise result
            else:
                for proof, request in group:
                    verifier.authenticate(proof, request, now=NOW)

        out.measure("python", op, call, pool=BATCH_POOL // BATCH, per=BATCH)


def free_cpu_control() -> None:
    """Progress only (no JSON line): hashlib.sha256 over 64 KiB, which releases the GIL in C, on 1
    and 2 threads. Below ~1.8x the machine has no free second core now, and the 2-thread
    throughput lines say more about the machine than about the GIL."""
    blob = b"x" * 65536
    rates = []
    for threads in (1, 2):

        def work(t: int, deadline: float) -> int:
            n = 0
            while time.perf_counter() < deadline:
                hashlib.sha256(blob).digest()
                n += 1
            return n

        requests, seconds = run_threads(threads, work)
        rates.append(requests / seconds)
    progress(f"control: hashlib.sha256 64 KiB (GIL released in C), 2 threads vs 1: {rates[1] / rates[0]:.2f}x")


def throughput_cached(out: Out, s: Scene, per_request_ns: float) -> None:
    """One shared Verifier, each thread with proofs of its own (made before timing: enough for
    twice the one-thread rate measured by per_request_cached, for the whole second)."""
    per_thread = int(2.0 * THROUGHPUT_SECONDS / (per_request_ns / 1e9)) + 1000
    for threads in (1, 2):
        pools = [s.proofs("2B", per_thread, f"t{threads}-{t}") for t in range(threads)]
        verifier = s.verifier(threads * per_thread + 10)
        verifier.authenticate(s.proofs("2B", 1, f"t{threads}-warm")[0], s.small, now=NOW)

        def work(t: int, deadline: float, pools: list[list[Any]] = pools, verifier: trustcore.Verifier = verifier) -> int:
            n = 0
            for proof in pools[t]:
                if time.perf_counter() >= deadline:
                    return n
                token, _ = verifier.authenticate(proof, s.small, now=NOW)
                verifier.check_policy(token, request_facts=REQUEST_FACTS, allow=ALLOW, now=NOW)
                n += 1
            raise PoolExhausted("throughput proof pool exhausted")

        out.throughput("python", "throughput_cached", threads, *run_threads(threads, work))


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: bench.py OUT.jsonl (or - for standard output)", file=sys.stderr)
        return 2
    target = sys.argv[1]
    if shutil.which("redis-server") is None:
        print("redis-server is not installed: `make setup-redis` installs it", file=sys.stderr)
        return 1
    stream = sys.stdout if target == "-" else open(target, "w", encoding="utf-8")  # noqa: SIM115
    started = time.perf_counter()
    try:
        out = Out(stream)
        progress(
            f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; "
            f"trustcore {trustcore.__version__} vs trust-core 0.1.0"
        )
        new = Scene(trustcore)
        stateless_ops(out, "python", new)
        with RedisServer() as redis:
            cached = verifier_ops(out, new, redis.url)
        signer_op(out, new)
        batch_ops(out, new)
        free_cpu_control()
        throughput_uncached(out, "python", new)
        throughput_cached(out, new, cached)

        old = Scene(trust_core)
        stateless_ops(out, "trust-core-0.1", old)
        throughput_uncached(out, "trust-core-0.1", old)
    finally:
        if stream is not sys.stdout:
            stream.close()
    if RETRIED:
        progress(f"trust-core-0.1 calls retried after hitting biscuit-python's 1 ms limit: {RETRIED}")
    progress(f"done in {time.perf_counter() - started:.1f} s, load {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
