"""Python has no close(): a Verifier's or a SignerClient's native state is freed when its last
reference goes. Dropping every reference while other threads are inside calls must be safe: each
call ends with a result or a TrustError code (compared by code), the object really is freed once
its calls are done, and the process goes on working. Outcomes are asserted, never times.
"""

from __future__ import annotations

import dataclasses
import gc
import socket
import socketserver
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import trustcore as tc

from helpers import Scene, scene
from signer_daemon import Daemon

THREADS = 8
#: How long the test waits for something that must happen (a bound, never a measurement).
BOUND_SECONDS = 10.0


class TrackedVerifier(tc.Verifier):
    # Verifier's __slots__ has no __weakref__: this adds one, so the test can see it freed
    __slots__ = ("__weakref__",)


class TrackedSignerClient(tc.SignerClient):
    __slots__ = ("__weakref__",)


class Lifetimes:
    """Weak references to every object made, and the thread each was freed on."""

    def __init__(self) -> None:
        self.refs: list[weakref.ref[Any]] = []
        self.freed_on: list[str] = []

    def track(self, obj: Any) -> Any:
        self.refs.append(weakref.ref(obj, lambda _: self.freed_on.append(threading.current_thread().name)))
        return obj

    def alive(self) -> int:
        return sum(ref() is not None for ref in self.refs)


def code_of(call: Callable[[], object]) -> str:
    """"OK", a TrustError's code, or "RAISED <repr>" for anything else (which fails the test)."""
    try:
        call()
    except tc.TrustError as err:
        return err.code
    except BaseException as err:  # noqa: BLE001 - anything but a TrustError is the bug looked for
        return f"RAISED {err!r}"
    return "OK"


def run_threads(
    work: Callable[[int, list[tuple[str, str]]], None], main: Callable[[Callable[[], bool]], None]
) -> list[tuple[str, str]]:
    """`work(thread, out)` on THREADS threads while `main(busy)` runs here (`busy()`: a thread
    still runs); every (kind, outcome) the threads appended."""
    outcomes: list[tuple[str, str]] = []
    threads = [threading.Thread(target=work, args=(t, outcomes), name=f"caller-{t}") for t in range(THREADS)]
    for thread in threads:
        thread.start()
    try:
        main(lambda: any(thread.is_alive() for thread in threads))
    finally:
        for thread in threads:
            thread.join()
    return outcomes


def assert_outcomes(outcomes: list[tuple[str, str]], allowed: dict[str, set[str]]) -> Counter[tuple[str, str]]:
    tally = Counter(outcomes)
    unexpected = {key: n for key, n in tally.items() if key[1] not in allowed[key[0]]}
    assert not unexpected, (unexpected, tally)
    return tally


def fresh_proof(s: Scene, nonce: str) -> tc.WorkerProof:
    return tc.make_proof(s.worker, s.token, s.request, timestamp=str(int(s.now)), nonce=nonce)


# ---- the memory stores ----------------------------------------------------------------------------

ROUNDS = 40
#: Per thread: a bound on the calls, whatever the main thread does meanwhile.
MAX_CALLS = 3000


def test_a_memory_verifier_released_while_threads_authenticate() -> None:
    s = scene()
    life = Lifetimes()
    forged = dataclasses.replace(fresh_proof(s, "forged"), nonce="forged-x")  # not the nonce signed
    # the only reference outside the calls: each call takes box[0] and lets it go when it returns
    box: list[tc.Verifier] = [life.track(TrackedVerifier(s.issuer.public_hex))]
    stop = threading.Event()

    def work(thread: int, out: list[tuple[str, str]]) -> None:
        again = fresh_proof(s, f"again-{thread}")  # OK once per verifier, then REPLAYED
        for n in range(MAX_CALLS):
            if stop.is_set():
                return
            kind = ("fresh", "forged", "again")[n % 3]
            proof = fresh_proof(s, f"{thread}-{n}") if kind == "fresh" else forged if kind == "forged" else again
            out.append((kind, code_of(lambda: box[0].authenticate(proof, s.request, now=s.now))))

    def main(busy: Callable[[], bool]) -> None:
        for _ in range(ROUNDS):
            if not busy():
                break
            verifier = life.track(TrackedVerifier(s.issuer.public_hex))
            box[0] = verifier  # the one before goes once the calls holding it return
            del verifier
            life.track(TrackedVerifier(s.issuer.public_hex, token_cache_capacity=0))  # built and dropped unused
            gc.collect()
        stop.set()

    outcomes = run_threads(work, main)
    tally = assert_outcomes(outcomes, {"fresh": {"OK"}, "forged": {"POP_FAILED"}, "again": {"OK", "REPLAYED"}})
    assert tally["fresh", "OK"] > 0 and tally["forged", "POP_FAILED"] > 0, tally
    box.clear()
    gc.collect()
    assert life.alive() == 0, f"{life.alive()} of {len(life.refs)} verifiers never freed"
    assert len(life.freed_on) == len(life.refs)
    # and the process goes on working
    verifier = tc.Verifier(s.issuer.public_hex)
    verifier.authenticate(fresh_proof(s, "after"), s.request, now=s.now)
    assert code_of(lambda: verifier.authenticate(forged, s.request, now=s.now)) == "POP_FAILED"


# ---- a Redis that never answers -------------------------------------------------------------------


class _Swallow(socketserver.BaseRequestHandler):
    server: SilentRedis

    def handle(self) -> None:
        with self.server.lock:
            self.server.connections += 1
            self.server.changed.notify_all()
        self.request.settimeout(0.1)  # only to notice `closing`
        while not self.server.closing.is_set():
            try:
                if not self.request.recv(4096):
                    return
            except socket.timeout:
                continue
            except OSError:
                return


class SilentRedis(socketserver.ThreadingTCPServer):
    """A loopback server that accepts every connection, reads what comes, never answers."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Swallow)
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.connections = 0
        self.closing = threading.Event()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.server_address[1]}/"

    def wait_for_connections(self, more_than: int) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: self.connections > more_than, BOUND_SECONDS), (
                f"no call reached the silent Redis in {BOUND_SECONDS} s"
            )


@contextmanager
def silent_redis() -> Iterator[SilentRedis]:
    server = SilentRedis()
    # a short poll interval: shutdown() waits for the loop to notice it
    serving = threading.Thread(target=server.serve_forever, args=(0.02,), name="silent-redis")
    serving.start()
    try:
        yield server
    finally:
        server.closing.set()
        server.shutdown()
        serving.join()
        server.server_close()


REDIS_ROUNDS = 6
#: Per thread: a bound far past what the rounds take, so it never cuts them short.
REDIS_MAX_CALLS = 20_000


def test_a_redis_verifier_released_while_threads_wait_on_a_silent_redis() -> None:
    s = scene()
    life = Lifetimes()
    with ExitStack() as stack:
        # one silent server per verifier: a connection to holes[i] is a call of verifier i waiting
        holes = [stack.enter_context(silent_redis()) for _ in range(REDIS_ROUNDS + 1)]

        def options(i: int) -> tc.RedisOptions:
            # every call that reaches a hole waits out the timeouts; a short retry_interval sends a
            # probe there again soon after, so calls keep waiting on it all along
            return tc.RedisOptions(holes[i].url, connect_timeout=0.2, command_timeout=0.2, retry_interval=0.05)

        box: list[tc.Verifier] = [life.track(TrackedVerifier(s.issuer.public_hex, redis=options(0)))]
        stop = threading.Event()

        def work(thread: int, out: list[tuple[str, str]]) -> None:
            for n in range(REDIS_MAX_CALLS):
                if stop.is_set():
                    return
                proof = fresh_proof(s, f"{thread}-{n}")
                out.append(("redis", code_of(lambda: box[0].authenticate(proof, s.request, now=s.now))))
                time.sleep(0.001)  # the breaker fails most calls at once: let the others in

        def main(busy: Callable[[], bool]) -> None:
            for i in range(REDIS_ROUNDS):
                holes[i].wait_for_connections(more_than=0)  # a call of box[0] waits on the hole: drop it
                verifier = life.track(TrackedVerifier(s.issuer.public_hex, redis=options(i + 1)))
                box[0] = verifier
                del verifier
                life.track(TrackedVerifier(s.issuer.public_hex, redis=options(i)))  # built and dropped unused
                for _ in range(3):
                    gc.collect()
            stop.set()

        outcomes = run_threads(work, main)
        tally = assert_outcomes(outcomes, {"redis": {"STORE_UNAVAILABLE"}})
        assert tally["redis", "STORE_UNAVAILABLE"] >= REDIS_ROUNDS, tally  # one waited on each hole at least
        box.clear()
        gc.collect()
        assert life.alive() == 0, f"{life.alive()} of {len(life.refs)} verifiers never freed"
        # and the process goes on working: a new verifier on a silent Redis, one in memory
        again = tc.Verifier(s.issuer.public_hex, redis=options(0))
        assert code_of(lambda: again.authenticate(fresh_proof(s, "after"), s.request, now=s.now)) == "STORE_UNAVAILABLE"
    tc.Verifier(s.issuer.public_hex).authenticate(fresh_proof(s, "after"), s.request, now=s.now)


# ---- a SignerClient -------------------------------------------------------------------------------

GRANTS = ["--allow-predicate", "right", "--allow-predicate", "lane", "--max-ttl", "3600"]
SIGNER_CALLS = 40


def signer_call(client: tc.SignerClient, s: Scene, kind: str) -> object:
    if kind == "mint":
        return client.mint(s.worker.public_hex, "gpu-1", {"right": ["lease"]}, expires_at=time.time() + 600)
    if kind == "sign_job":
        return client.sign_job({"job_id": "j-1", "steps": 3}, "gpu-1")
    return client.public_key()


@contextmanager
def running_signer(s: Scene) -> Iterator[Daemon]:
    daemon = Daemon(s.issuer.secret_hex, GRANTS)
    try:
        yield daemon.start()
    finally:
        daemon.cleanup()


def queued_connections(port: int) -> int:
    """Connections waiting in the accept queue of the loopback TCP listener on `port` (Linux: a
    LISTEN socket's rx_queue in /proc/net/tcp)."""
    with open("/proc/net/tcp", encoding="ascii") as table:
        for line in table.read().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                return int(fields[4].split(":")[1], 16)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")


def test_a_signer_client_released_while_its_calls_wait_on_a_stopped_signer() -> None:
    s = scene()
    life = Lifetimes()
    daemon = Daemon(s.issuer.secret_hex, GRANTS, tcp=True)
    try:
        port = daemon.start().port
        # stopped (SIGSTOP): a call connects (the kernel queues it) and waits; none ends before SIGCONT
        daemon.pause()
        try:
            client = TrackedSignerClient(f"tcp:127.0.0.1:{port}", request_timeout=BOUND_SECONDS)
            box: list[tc.SignerClient] = [life.track(client)]
            del client
            holding = threading.Barrier(THREADS + 1)

            def work(thread: int, out: list[tuple[str, str]]) -> None:
                client = box[0]
                holding.wait()  # every thread holds it before the main thread lets go
                kind = ("mint", "sign_job", "public_key")[thread % 3]
                got = code_of(lambda: signer_call(client, s, kind))
                del client  # the last thread here frees it
                out.append((kind, got))

            def main(busy: Callable[[], bool]) -> None:
                holding.wait()
                for _ in range(int(BOUND_SECONDS / 0.01)):
                    if queued_connections(port) > 0:
                        break
                    time.sleep(0.01)
                assert queued_connections(port) > 0, "no call reached the stopped signer"
                box.clear()  # the calls in flight hold the only references now
                for _ in range(5):
                    gc.collect()
                still = life.alive()
                daemon.resume()
                assert still == 1, "freed while its calls were in flight"

            outcomes = run_threads(work, main)
        finally:
            daemon.resume()
        assert_outcomes(outcomes, {kind: {"OK"} for kind in ("mint", "sign_job", "public_key")})
        assert len(outcomes) == THREADS
        gc.collect()
        assert life.alive() == 0
        # the last reference went on a calling thread, as its call returned
        assert len(life.freed_on) == 1 and life.freed_on[0].startswith("caller-"), life.freed_on
        tc.SignerClient(f"tcp:127.0.0.1:{port}").public_key()
    finally:
        daemon.cleanup()


def test_a_signer_client_released_while_threads_mint() -> None:
    s = scene()
    life = Lifetimes()
    with running_signer(s) as daemon:
        box: list[tc.SignerClient] = [life.track(TrackedSignerClient(str(daemon.socket_path)))]
        minted: list[str] = []

        def work(thread: int, out: list[tuple[str, str]]) -> None:
            for n in range(SIGNER_CALLS):
                kind = ("mint", "sign_job", "public_key")[n % 3]

                def call(kind: str = kind) -> None:
                    result = signer_call(box[0], s, kind)
                    if isinstance(result, tc.MintedToken):
                        minted.append(result.token)

                out.append((kind, code_of(call)))

        def main(busy: Callable[[], bool]) -> None:
            while busy():
                client = life.track(TrackedSignerClient(str(daemon.socket_path)))
                box[0] = client
                del client
                life.track(TrackedSignerClient(str(daemon.socket_path)))  # built and dropped unused
                gc.collect()

        outcomes = run_threads(work, main)
        assert_outcomes(outcomes, {kind: {"OK"} for kind in ("mint", "sign_job", "public_key")})
        assert len(outcomes) == THREADS * SIGNER_CALLS
        box.clear()
        gc.collect()
        assert life.alive() == 0, f"{life.alive()} of {len(life.refs)} clients never freed"
        # what was minted meanwhile is a good token, and a new client still works
        assert minted and all(tc.parse_token(s.issuer.public_hex, token).block_count() == 1 for token in minted)
        after = tc.SignerClient(str(daemon.socket_path)).mint(
            s.worker.public_hex, "gpu-1", {"right": ["lease"]}, expires_at=time.time() + 600
        )
        tc.parse_token(s.issuer.public_hex, after.token)
