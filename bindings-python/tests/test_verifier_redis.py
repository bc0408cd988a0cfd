"""The Verifier's Redis stores against a real redis-server (tests/redis_server.py), and its memory
stores through Python.

Redis: verifier *processes* (tests/verifier_child.py, the same interpreter and wheel) sharing one
Redis accept each nonce exactly once between them and see each other's revocations at once; Redis
going away is StoreUnavailable for every request, never a pass, until it comes back on its port and
service resumes by itself (past the circuit breaker's ``retry_interval``); a Redis that is down or
never answers is met by the breaker: one connection per interval, not one per request.
Memory: entries expire after their window (``now=``), a full store refuses rather than forgets,
one holder past its share is refused alone, and threads racing on one nonce let exactly one through.
"""

from __future__ import annotations

import json
import queue
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import trustcore as tc

from helpers import ALLOW, Scene, scene
from redis_server import RedisServer

CHILD = Path(__file__).with_name("verifier_child.py")
#: How long a child may take to answer one line: a bound, never a measurement.
ANSWER_SECONDS = 120.0


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    try:
        server = RedisServer().start()
    except RuntimeError as err:
        pytest.fail(str(err))  # never a skip: a missing redis-server is a broken setup
    try:
        yield server
    finally:
        server.close()


def test_redis_server_is_installed() -> None:
    # the same start the fixture makes, on its own line in the report
    try:
        RedisServer().start().close()
    except RuntimeError as err:
        pytest.fail(str(err))


def proof(s: Scene, nonce: str, *, token: str | None = None, stamp: float | None = None) -> tc.WorkerProof:
    timestamp = str(int(s.now if stamp is None else stamp))
    return tc.make_proof(s.worker, token or s.token, s.request, timestamp=timestamp, nonce=nonce)


def outcome(call: Any) -> str:
    try:
        call()
    except tc.TrustError as err:
        return err.code
    return "OK"


#: A short breaker interval for the tests where Redis returns, so service resumes soon after.
RETRY = 0.05
#: How many times `first_success` tries: a bound, never a measurement (about 100 intervals).
ATTEMPTS = 500


def first_success(verifier: tc.Verifier, s: Scene, prefix: str) -> int:
    """Authenticate fresh proofs (nonces ``<prefix>-<k>``), a little apart, until one is accepted:
    how many were refused first. Each refusal must be STORE_UNAVAILABLE (the breaker still open, or
    its probe refused), never another code; no success in ATTEMPTS tries fails the test."""
    for k in range(ATTEMPTS):
        got = outcome(lambda: verifier.authenticate(proof(s, f"{prefix}-{k}"), s.request))
        if got == "OK":
            return k
        assert got == "STORE_UNAVAILABLE", (k, got)
        time.sleep(RETRY / 5)
    raise AssertionError(f"service did not resume in {ATTEMPTS} tries after Redis came back")


def other_token(s: Scene, revocation_id: str) -> str:
    return tc.mint_biscuit(
        s.issuer,
        public_hex=s.worker.public_hex,
        holder_id="worker-1",
        facts={"right": ["lease"]},
        revocation_id=revocation_id,
        expires_at=s.now + 3600,
    )


# ---- other verifier processes ---------------------------------------------------------------------


class Child:
    """tests/verifier_child.py: a verifier process of its own, on the same Redis."""

    def __init__(self, s: Scene, redis: RedisServer, prefix: str, **settings: Any) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(CHILD)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.request = {"method": s.request.method, "path": s.request.path, "body_hex": s.request.body.hex()}
        self.send({"issuer": s.issuer.public_hex, "redis": {"url": redis.url, "key_prefix": prefix}, **settings})
        ready = self.receive()
        assert ready == {"ready": True}, ready

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put("")  # the end

    def send(self, value: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(value) + "\n")
        self.process.stdin.flush()

    def receive(self) -> Any:
        try:
            line = self.lines.get(timeout=ANSWER_SECONDS)
        except queue.Empty:
            raise AssertionError(f"the verifier process gave no answer in {ANSWER_SECONDS} s") from None
        if not line:
            assert self.process.stderr is not None
            raise AssertionError(f"the verifier process ended: {self.process.stderr.read()}")
        return json.loads(line)

    def send_proofs(self, proofs: list[tc.WorkerProof], *, start_at: float = 0.0, threads: int = 1) -> None:
        wire = [{"token": p.token, "signature": p.signature, "timestamp": p.timestamp, "nonce": p.nonce} for p in proofs]
        self.send({"op": "authenticate", "proofs": wire, "request": self.request, "start_at": start_at, "threads": threads})

    def authenticate(self, *proofs: tc.WorkerProof) -> list[str]:
        self.send_proofs(list(proofs))
        return list(self.receive()["outcomes"])

    def revoke(self, revocation_id: str) -> str:
        self.send({"op": "revoke", "id": revocation_id})
        return str(self.receive()["outcome"])

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            assert self.process.wait(timeout=ANSWER_SECONDS) == 0
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            for stream in (self.process.stdout, self.process.stderr):
                if stream is not None:
                    stream.close()


@pytest.fixture
def children() -> Iterator[list[Child]]:
    started: list[Child] = []
    try:
        yield started
    finally:
        for child in started:
            if child.process.poll() is None:
                child.process.kill()
                child.process.wait()


def test_two_processes_on_one_redis_accept_each_nonce_exactly_once(redis: RedisServer, children: list[Child]) -> None:
    s = scene()
    proofs = [proof(s, f"nonce-{n}") for n in range(1000)]
    a, b = Child(s, redis, "t1:"), Child(s, redis, "t1:")
    children += [a, b]
    # both get the same 1,000 proofs and start on the same instant, two threads each
    start_at = time.time() + 1.0
    a.send_proofs(proofs, start_at=start_at, threads=2)
    b.send_proofs(proofs, start_at=start_at, threads=2)
    got_a, got_b = a.receive()["outcomes"], b.receive()["outcomes"]
    tally = Counter(got_a) + Counter(got_b)
    assert tally == {"OK": 1000, "REPLAYED": 1000}, (Counter(got_a), Counter(got_b))
    # and per nonce: exactly one of the two processes accepted it
    assert all(sorted(pair) == ["OK", "REPLAYED"] for pair in zip(got_a, got_b))
    a.close()
    b.close()


def test_a_revocation_written_by_one_process_refuses_the_token_in_another(
    redis: RedisServer, children: list[Child]
) -> None:
    s = scene()
    a, b = Child(s, redis, "t2:"), Child(s, redis, "t2:")
    children += [a, b]
    here = tc.Verifier(s.issuer.public_hex, redis=tc.RedisOptions(redis.url, key_prefix="t2:"))
    assert a.authenticate(proof(s, "a-1")) == ["OK"]
    assert b.authenticate(proof(s, "b-1")) == ["OK"]  # b has the token cached now
    here.authenticate(proof(s, "here-1"), s.request)
    assert a.revoke("rev-1") == "OK"
    assert b.authenticate(proof(s, "b-2")) == ["REVOKED"]  # its next request
    with pytest.raises(tc.Revoked):
        here.authenticate(proof(s, "here-2"), s.request)
    assert a.authenticate(proof(s, "a-2")) == ["REVOKED"]
    # a block's own revocation id (hex), revoked here, refuses that token in the other processes
    second = other_token(s, "rev-2")
    block_id = tc.parse_token(s.issuer.public_hex, second).revocation_ids[0]
    assert b.authenticate(proof(s, "b-3", token=second)) == ["OK"]
    here.revoke(block_id)
    assert b.authenticate(proof(s, "b-4", token=second)) == ["REVOKED"]
    # revoked_ids given to one verifier at construction are written to the shared set
    third = other_token(s, "rev-3")
    tc.Verifier(s.issuer.public_hex, redis=tc.RedisOptions(redis.url, key_prefix="t2:"), revoked_ids=["rev-3"])
    assert a.authenticate(proof(s, "a-3", token=third)) == ["REVOKED"]
    # another prefix is another deployment: nothing shared
    apart = Child(s, redis, "t2-other:")
    children.append(apart)
    assert apart.authenticate(proof(s, "a-1"), proof(s, "a-1")) == ["OK", "REPLAYED"]
    for child in (a, b, apart):
        child.close()


def test_redis_gone_is_store_unavailable_for_every_request_then_service_resumes(redis: RedisServer) -> None:
    s = scene()
    options = tc.RedisOptions(redis.url, retry_interval=RETRY)
    verifier = tc.Verifier(s.issuer.public_hex, redis=options, max_skew_seconds=300)
    for n in range(20):
        token, _ = verifier.authenticate(proof(s, f"up-{n}"), s.request)
        verifier.check_policy(token, request_facts={"req_right": "lease"}, allow=ALLOW)
    redis.stop()
    down = [outcome(lambda: verifier.authenticate(proof(s, f"down-{n}"), s.request)) for n in range(50)]
    assert down == ["STORE_UNAVAILABLE"] * 50
    # a replay too (the revocation check cannot answer first), and revocations cannot be written
    with pytest.raises(tc.StoreUnavailable):
        verifier.authenticate(proof(s, "up-0"), s.request)
    with pytest.raises(tc.StoreUnavailable):
        verifier.revoke("rev-9")
    # a verifier may be built while Redis is down (it connects on use), unless it has ids to write
    later = tc.Verifier(s.issuer.public_hex, redis=options)
    with pytest.raises(tc.StoreUnavailable):
        later.authenticate(proof(s, "later-1"), s.request)
    with pytest.raises(tc.StoreUnavailable):
        tc.Verifier(s.issuer.public_hex, redis=options, revoked_ids=["rev-9"])
    redis.restart()  # empty: a Redis without persistence has forgotten every nonce
    # each verifier's breaker lets a probe through once its interval has passed: service resumes
    # by itself, and from the first success on every request is served
    first_success(verifier, s, "probe")
    for n in range(20):
        verifier.authenticate(proof(s, f"back-{n}"), s.request)
    first_success(later, s, "later-probe")
    later.authenticate(proof(s, "later-1"), s.request)
    with pytest.raises(tc.Replayed):
        verifier.authenticate(proof(s, "back-0"), s.request)


def test_redis_killed_under_load_accepts_nothing_until_it_is_back(redis: RedisServer) -> None:
    s = scene()
    verifier = tc.Verifier(s.issuer.public_hex, redis=tc.RedisOptions(redis.url, retry_interval=RETRY))
    # set by this thread around the kill and the restart; each request notes the phase before and
    # after it ran, so the edges (a request in flight when Redis died) are told apart, and when it
    # began and ended on one counter, so "began after that one ended" is an order, not a time
    phase = ["up"]
    results: list[tuple[str, str, str, int, int]] = []
    clock = [0]
    lock = threading.Lock()
    stop = threading.Event()

    def tick() -> int:
        with lock:
            clock[0] += 1
            return clock[0]

    def work(t: int) -> None:
        n = 0
        while not stop.is_set():
            before, began = phase[0], tick()
            got = outcome(lambda: verifier.authenticate(proof(s, f"{t}-{n}"), s.request))
            with lock:
                clock[0] += 1
                results.append((before, phase[0], got, began, clock[0]))
            n += 1

    def served_since_back() -> list[tuple[str, str, str, int, int]]:
        with lock:
            return [r for r in results if r[0] == "back" and r[2] == "OK"]

    workers = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for worker in workers:
        worker.start()
    try:
        time.sleep(0.3)
        phase[0] = "stopping"
        redis.stop()  # returns once the process is gone
        phase[0] = "down"
        time.sleep(0.3)
        phase[0] = "restarting"
        redis.restart()  # returns once it answers PING
        phase[0] = "back"
        # the load goes on until the breaker has let a probe through and it succeeded, then for about
        # 50 more requests (both waits bounded by a number of looks, never a measured time)
        for _ in range(ATTEMPTS):
            if served_since_back():
                break
            time.sleep(RETRY / 5)
        for _ in range(ATTEMPTS):
            if len(served_since_back()) > 50:
                break
            time.sleep(RETRY / 5)
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    tally: dict[str, Counter[str]] = {}
    for before, after, got, _, _ in results:
        # "up": ended before the kill began; "down": began after the kill, ended before the restart
        # began; "back": began after the restart; the rest overlapped a kill or a restart
        key = before if before == after in ("up", "down") or before == "back" else "edge"
        tally.setdefault(key, Counter())[got] += 1
    up, down, back = (tally.get(key, Counter()) for key in ("up", "down", "back"))
    assert set(up) == {"OK"}, tally
    assert set(down) == {"STORE_UNAVAILABLE"}, tally  # not one accepted
    assert down["STORE_UNAVAILABLE"] >= 4, tally
    assert set(tally.get("edge", Counter())) <= {"OK", "STORE_UNAVAILABLE"}, tally
    # service resumed by itself: back, refused only until the first success (the breaker's
    # interval), and every request that began after the first success ended was served (all but
    # the few in flight on the other threads meanwhile)
    assert back["OK"] > 0, tally
    first_served = min(ended for before, _, got, _, ended in results if before == "back" and got == "OK")
    assert set(back) <= {"OK", "STORE_UNAVAILABLE"}, tally
    after_first = Counter(got for before, _, got, began, _ in results if before == "back" and began > first_served)
    assert set(after_first) == {"OK"} and after_first["OK"] >= 40, (after_first, tally)


def test_a_redis_that_stops_answering_is_store_unavailable_after_the_command_timeout(redis: RedisServer) -> None:
    s = scene()
    options = tc.RedisOptions(redis.url, command_timeout=0.2, connect_timeout=0.2, retry_interval=RETRY)
    verifier = tc.Verifier(s.issuer.public_hex, redis=options)
    verifier.authenticate(proof(s, "before"), s.request)
    # while one thread waits on the silent Redis, the GIL is free: another thread keeps running
    ticks = [0]
    done = threading.Event()

    def tick() -> None:
        while not done.is_set():
            ticks[0] += 1
            time.sleep(0.001)

    ticker = threading.Thread(target=tick)
    redis.pause()
    try:
        ticker.start()
        start = time.monotonic()
        with pytest.raises(tc.StoreUnavailable):
            verifier.authenticate(proof(s, "paused-1"), s.request)
        with pytest.raises(tc.StoreUnavailable):
            verifier.revoke("rev-7")
        waited = time.monotonic() - start
        during = ticks[0]
    finally:
        done.set()
        redis.resume()
        if ticker.is_alive():
            ticker.join()
    assert waited < 10.0  # bounded by the timeouts, never a hang
    assert during >= 10, "the GIL was held while waiting on Redis"
    # answering again: past the breaker's interval a probe goes through, and from the first success
    # on every request is served
    first_success(verifier, s, "probe")
    for n in range(20):
        verifier.authenticate(proof(s, f"after-{n}"), s.request)
    with pytest.raises(tc.Replayed):
        verifier.authenticate(proof(s, "before"), s.request)


class BlackHole:
    """A loopback listener that never accepts on its own and never answers: the kernel completes
    each handshake (to the client, an open connection that never replies); `accepted` takes every
    connection made so far off the queue and counts it (each kept open until `close`)."""

    def __init__(self) -> None:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)  # room for far more connections than a failing test would make
        self.listener.setblocking(False)
        self.connections: list[socket.socket] = []

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.listener.getsockname()[1]}/"

    def accepted(self) -> int:
        while True:
            try:
                connection, _ = self.listener.accept()
            except BlockingIOError:
                return len(self.connections)
            self.connections.append(connection)

    def close(self) -> None:
        for connection in self.connections:
            connection.close()
        self.listener.close()


def test_a_redis_down_or_black_holed_gets_one_connection_per_interval_not_one_per_request(
    redis: RedisServer,
) -> None:
    s = scene()
    # a Redis that is stopped: every request refused, never a pass
    verifier = tc.Verifier(s.issuer.public_hex, redis=redis.url)
    verifier.authenticate(proof(s, "up"), s.request)
    redis.stop()
    down = [outcome(lambda: verifier.authenticate(proof(s, f"down-{n}"), s.request)) for n in range(50)]
    assert down == ["STORE_UNAVAILABLE"] * 50
    # a Redis that accepts and never answers: the first request finds out (bounded by the
    # timeouts), the next 49 fail at once without a connection; an hour's interval keeps all 50
    # inside it however slow this machine is
    hole = BlackHole()
    try:
        options = tc.RedisOptions(hole.url, connect_timeout=0.3, command_timeout=0.3, retry_interval=3600)
        silent = tc.Verifier(s.issuer.public_hex, redis=options)
        refused = [outcome(lambda: silent.authenticate(proof(s, f"hole-{n}"), s.request)) for n in range(50)]
        assert refused == ["STORE_UNAVAILABLE"] * 50
        assert outcome(lambda: silent.revoke("rev-1")) == "STORE_UNAVAILABLE"
        assert hole.accepted() == 1, "one connection for 50 requests inside the interval"
    finally:
        hole.close()


def test_threads_racing_on_one_nonce_through_redis_let_exactly_one_through(redis: RedisServer) -> None:
    s = scene()
    verifier = tc.Verifier(s.issuer.public_hex, redis=tc.RedisOptions(redis.url, max_idle=2))
    assert race(verifier, [proof(s, f"race-{n}") for n in range(10)], s.request, threads=8) == [1] * 10


def test_bad_redis_options() -> None:
    pk = scene().issuer.public_hex
    for url in ("not a url", "", "http://127.0.0.1:6379/", "redis://127.0.0.1:99999/", "redis://[::1/"):
        with pytest.raises(tc.MalformedInput):
            tc.Verifier(pk, redis=url)
    with pytest.raises(tc.MalformedInput):
        tc.Verifier(pk, redis="redis://127.0.0.1:6379/\udcff")  # a lone surrogate
    for bad in (0, 0.0, -1, -0.5, float("nan"), float("inf"), 86_401, 10**400):
        for name in ("connect_timeout", "command_timeout", "request_timeout", "retry_interval"):
            timeout: dict[str, Any] = {name: bad}
            with pytest.raises(tc.MalformedInput):
                tc.Verifier(pk, redis=tc.RedisOptions("redis://127.0.0.1:6379/", **timeout))
    with pytest.raises(tc.MalformedInput):
        tc.Verifier(pk, redis=tc.RedisOptions("redis://127.0.0.1:6379/", max_idle=-1))
    wrong_types: list[dict[str, Any]] = [
        {"connect_timeout": "1"},
        {"command_timeout": b"1"},
        {"command_timeout": [1]},
        {"retry_interval": "1"},
        {"request_timeout": "1"},
        {"key_prefix": 5},
        {"key_prefix": b"app:"},
        {"max_idle": "8"},
        {"max_idle": 1.5},
    ]
    for kwargs in wrong_types:
        with pytest.raises(TypeError):
            tc.Verifier(pk, redis=tc.RedisOptions("redis://127.0.0.1:6379/", **kwargs))
    not_urls: tuple[Any, ...] = (5, None, b"redis://127.0.0.1:6379/")
    for not_url in not_urls:
        with pytest.raises(TypeError):
            tc.RedisOptions(not_url)
    not_options: tuple[Any, ...] = (5, b"redis://127.0.0.1:6379/", {"url": "redis://127.0.0.1:6379/"})
    for not_option in not_options:
        with pytest.raises(TypeError):
            tc.Verifier(pk, redis=not_option)
    with pytest.raises(TypeError):
        tc.RedisOptions("redis://127.0.0.1:6379/", "app:")  # type: ignore[call-arg]  # keywords only
    with pytest.raises(tc.MalformedInput):  # the native settings without a URL (as in C)
        tc._trustcore.NativeVerifier(pk, redis_key_prefix="app:")
    with pytest.raises(tc.MalformedInput):
        tc._trustcore.NativeVerifier(pk, redis_retry_interval=1.0)
    with pytest.raises(TypeError):
        tc.Verifier(pk, token_cache_capacity="10")  # type: ignore[arg-type]
    with pytest.raises(tc.MalformedInput):
        tc.Verifier(pk, token_cache_capacity=-1)
    # valid settings build a verifier without reaching Redis (nothing listens on port 1)
    nowhere = tc.RedisOptions(
        "redis://user:pw@127.0.0.1:1/3",
        key_prefix="",
        connect_timeout=86_400,
        command_timeout=0.01,
        max_idle=0,
        retry_interval=86_400,
    )
    s = scene()
    with pytest.raises(tc.StoreUnavailable):
        tc.Verifier(pk, redis=nowhere).authenticate(s.proof, s.request, now=s.now)
    with pytest.raises(tc.StoreUnavailable):
        tc.Verifier(pk, redis="redis+unix:///nonexistent/redis.sock").revoke("rev-1")


def test_the_redis_password_is_never_shown() -> None:
    pk = scene().issuer.public_hex
    for url in ("redis://admin:hunter2@127.0.0.1:1/0", "redis+unix:///nonexistent/r.sock?pass=hunter2"):
        options = tc.RedisOptions(url, key_prefix="app:")
        verifier = tc.Verifier(pk, redis=options)
        assert "hunter2" not in repr(options) and "hunter2" not in str(options)
        assert "hunter2" not in repr(verifier)
        assert repr(verifier).endswith("store='redis', redis_key_prefix='app:')"), repr(verifier)
        with pytest.raises(tc.StoreUnavailable) as caught:
            verifier.revoke("rev-1")
        assert "hunter2" not in str(caught.value) and "hunter2" not in repr(caught.value)
    with pytest.raises(tc.MalformedInput) as refused:
        tc.Verifier(pk, redis="redis://admin:hunter2@127.0.0.1:bad/")
    assert "hunter2" not in str(refused.value)
    assert repr(tc.Verifier(pk)) == (
        "Verifier(max_skew_seconds=300.0, token_cache_capacity=10000, store='memory', replay_capacity=100000)"
    )


# ---- the memory store, through Python -------------------------------------------------------------


def race(verifier: tc.Verifier, proofs: list[tc.WorkerProof], request: tc.RequestParts, *, threads: int) -> list[int]:
    """For each proof, `threads` threads authenticate it at once; how many were accepted, per proof."""
    accepted: list[int] = []
    for p in proofs:
        barrier = threading.Barrier(threads)
        got: list[str] = []
        lock = threading.Lock()

        def run(p: tc.WorkerProof = p, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            result = outcome(lambda: verifier.authenticate(p, request))
            with lock:
                got.append(result)

        workers = [threading.Thread(target=run) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert Counter(got) == {"OK": got.count("OK"), "REPLAYED": threads - got.count("OK")}, got
        accepted.append(got.count("OK"))
    return accepted


def test_memory_entries_expire_after_their_window() -> None:
    s = scene()
    t0 = float(int(s.now))
    # entries live 2 × 10 s + 1 s (a timestamp's resolution), through their last instant
    verifier = tc.Verifier(s.issuer.public_hex, max_skew_seconds=10)
    verifier.authenticate(proof(s, "x", stamp=t0), s.request, now=t0)
    with pytest.raises(tc.Replayed):
        verifier.authenticate(proof(s, "x", stamp=t0), s.request, now=t0 + 9)
    # signed again later, still inside the window: the nonce is still taken
    for later in (t0 + 19, t0 + 21):
        with pytest.raises(tc.Replayed):
            verifier.authenticate(proof(s, "x", stamp=later), s.request, now=later)
    # past the window the entry is gone, and the same nonce, freshly signed, is accepted
    verifier.authenticate(proof(s, "x", stamp=t0 + 22), s.request, now=t0 + 22)
    with pytest.raises(tc.Replayed):
        verifier.authenticate(proof(s, "x", stamp=t0 + 22), s.request, now=t0 + 23)


def test_a_full_memory_store_refuses_rather_than_forgets() -> None:
    s = scene()
    t0 = float(int(s.now))
    # one holder, with a share larger than the store: only the store's own bound applies
    verifier = tc.Verifier(s.issuer.public_hex, max_skew_seconds=10, replay_capacity=2, replay_capacity_per_holder=3)
    verifier.authenticate(proof(s, "a", stamp=t0), s.request, now=t0)
    verifier.authenticate(proof(s, "b", stamp=t0), s.request, now=t0)
    with pytest.raises(tc.StoreUnavailable):
        verifier.authenticate(proof(s, "c", stamp=t0), s.request, now=t0 + 1)
    with pytest.raises(tc.Replayed):  # the refusal did not make room by forgetting a live nonce
        verifier.authenticate(proof(s, "a", stamp=t0), s.request, now=t0 + 1)
    # once the entries' window has passed, the sweep makes room: c (refused, so never recorded) fits
    later = t0 + 25
    verifier.authenticate(proof(s, "c", stamp=later), s.request, now=later)
    verifier.authenticate(proof(s, "a", stamp=later), s.request, now=later)
    with pytest.raises(tc.StoreUnavailable):
        verifier.authenticate(proof(s, "d", stamp=later), s.request, now=later)
    with pytest.raises(tc.Replayed):
        verifier.authenticate(proof(s, "c", stamp=later), s.request, now=later)
    with pytest.raises(tc.StoreUnavailable):  # capacity 0 holds nothing: every request refused
        tc.Verifier(s.issuer.public_hex, replay_capacity=0).authenticate(s.proof, s.request, now=s.now)


def test_one_holder_cannot_fill_the_memory_store() -> None:
    s = scene()
    t0 = float(int(s.now))
    verifier = tc.Verifier(s.issuer.public_hex, max_skew_seconds=10, replay_capacity=8)  # a quarter: 2
    for nonce in ("a", "b"):
        verifier.authenticate(proof(s, nonce, stamp=t0), s.request, now=t0)
    with pytest.raises(tc.LimitExceeded):  # past its share, this holder alone is refused
        verifier.authenticate(proof(s, "c", stamp=t0), s.request, now=t0)
    with pytest.raises(tc.Replayed):  # its replays are still replays
        verifier.authenticate(proof(s, "a", stamp=t0), s.request, now=t0)
    # another holder is served
    worker = tc.WorkerKey.generate()
    token = tc.mint_biscuit(s.issuer, public_hex=worker.public_hex, holder_id="worker-2", facts={"right": ["lease"]},
                            revocation_id="rev-2", expires_at=s.now + 3600)
    other = tc.make_proof(worker, token, s.request, timestamp=str(int(t0)), nonce="a")
    verifier.authenticate(other, s.request, now=t0)
    # the share frees as the holder's entries expire (2 × 10 s + 1 s)
    verifier.authenticate(proof(s, "c", stamp=t0 + 22), s.request, now=t0 + 22)
    # a share set explicitly: the whole store for one holder; then it has used its share, and the
    # store is full for every other holder
    roomy = tc.Verifier(s.issuer.public_hex, max_skew_seconds=10, replay_capacity=8, replay_capacity_per_holder=8)
    for n in range(8):
        roomy.authenticate(proof(s, f"r-{n}", stamp=t0), s.request, now=t0)
    with pytest.raises(tc.LimitExceeded):
        roomy.authenticate(proof(s, "r-8", stamp=t0), s.request, now=t0)
    with pytest.raises(tc.StoreUnavailable):
        roomy.authenticate(tc.make_proof(worker, token, s.request, timestamp=str(int(t0)), nonce="b"), s.request, now=t0)
    with pytest.raises(TypeError):
        tc.Verifier(s.issuer.public_hex, replay_capacity_per_holder="8")  # type: ignore[arg-type]
    with pytest.raises(tc.MalformedInput):
        tc.Verifier(s.issuer.public_hex, replay_capacity_per_holder=-1)


def test_threads_racing_on_one_nonce_in_memory_let_exactly_one_through() -> None:
    s = scene()
    verifier = tc.Verifier(s.issuer.public_hex)
    assert race(verifier, [proof(s, f"race-{n}") for n in range(20)], s.request, threads=8) == [1] * 20


def test_cache_stats_count_hits_and_misses() -> None:
    s = scene()
    verifier = tc.Verifier(s.issuer.public_hex)
    assert verifier.cache_stats() == (0, 0)
    for n in range(5):
        verifier.authenticate(proof(s, f"n-{n}"), s.request, now=s.now)
    assert verifier.cache_stats() == (4, 1)
    # a replay and a forgery still read the (cached) token; a token that does not verify is a
    # miss every time, never cached
    with pytest.raises(tc.Replayed):
        verifier.authenticate(proof(s, "n-0"), s.request, now=s.now)
    broken = tc.WorkerProof(s.token[:-4] + "AAAA", s.proof.signature, s.proof.timestamp, "x")
    for _ in range(2):
        with pytest.raises(tc.TokenInvalid):
            verifier.authenticate(broken, s.request, now=s.now)
    assert verifier.cache_stats() == (5, 3)
    # a second token is a miss once, then hits
    second = other_token(s, "rev-2")
    for n in range(3):
        verifier.authenticate(proof(s, f"m-{n}", token=second), s.request, now=s.now)
    assert verifier.cache_stats() == (7, 4)
    # one slot: two tokens in turn evict each other
    small = tc.Verifier(s.issuer.public_hex, token_cache_capacity=1)
    for n in range(4):
        small.authenticate(proof(s, f"k-{n}", token=(s.token, second)[n % 2]), s.request, now=s.now)
    assert small.cache_stats() == (0, 4)
    # no cache: nothing counted; a huge bound costs nothing up front
    none = tc.Verifier(s.issuer.public_hex, token_cache_capacity=0)
    none.authenticate(proof(s, "z-1"), s.request, now=s.now)
    assert none.cache_stats() == (0, 0)
    assert "token_cache_capacity=0" in repr(none)
    huge = tc.Verifier(s.issuer.public_hex, token_cache_capacity=2**63, replay_capacity=2**63)
    huge.authenticate(proof(s, "z-2"), s.request, now=s.now)
    assert huge.cache_stats() == (0, 1)


def test_cache_stats_with_redis_count_in_each_process(redis: RedisServer) -> None:
    s = scene()
    one, two = (tc.Verifier(s.issuer.public_hex, redis=redis.url) for _ in range(2))
    for n in range(3):
        one.authenticate(proof(s, f"one-{n}"), s.request)
    two.authenticate(proof(s, "two-0"), s.request)
    with pytest.raises(tc.Replayed):
        two.authenticate(proof(s, "one-0"), s.request)
    assert one.cache_stats() == (2, 1)  # the cache is this process's own
    assert two.cache_stats() == (1, 1)
