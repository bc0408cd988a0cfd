"""`SignerClient` against the real signer (`$TRUSTCORE_BIN signer serve`, a subprocess on a socket in
a temp dir), and against peers written here that misbehave on purpose (silent, killed mid-request,
answering oddly). No timing is measured: a call that must not hang is bounded by its timeout plus
a margin, nothing tighter.
"""

from __future__ import annotations

import os
import pickle
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import trustcore as tc
from trustcore import wire

from signer_daemon import Daemon
from test_bad_input import BAD

ISSUER = tc.IssuerKey(seed=bytes(range(100, 132)))
HOLDER = tc.WorkerKey(seed=bytes(range(132, 164)))
KEY_ID = 3
#: The issuer key that succeeds ISSUER in a key rotation, and its root key id.
SUCCESSOR = tc.IssuerKey(seed=bytes(range(164, 196)))
SUCCESSOR_KEY_ID = 4
ALLOW = "allow if right($r), req_right($r)"
GRANTED = ["--allow-predicate", "right", "--allow-predicate", "lane"]
#: What a call may take beyond its request_timeout before it counts as hanging (a loaded machine).
MARGIN = 5.0


@pytest.fixture
def workdir() -> Iterator[Path]:
    # short and private: a Unix socket path must fit in 108 bytes
    directory = Path(tempfile.mkdtemp(prefix="tc-sig-"))
    try:
        yield directory
    finally:
        for child in directory.iterdir():
            child.unlink()
        directory.rmdir()


@pytest.fixture
def signer() -> Iterator[Daemon]:
    """The signer with a one-hour max ttl, two grantable predicates and a root key id."""
    daemon = Daemon(ISSUER.secret_hex, [*GRANTED, "--max-ttl", "3600", "--key-id", str(KEY_ID)])
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.cleanup()


def client_for(daemon: Daemon, **options: float) -> tc.SignerClient:
    return tc.SignerClient(str(daemon.socket_path), **options)


def mint(client: tc.SignerClient, **overrides: Any) -> tc.MintedToken:
    args: dict[str, Any] = {
        "facts": {"right": ["lease", "read"], "lane": ["transcribe"]},
        "expires_at": time.time() + 600,
    }
    args.update(overrides)
    return client.mint(HOLDER.public_hex, "gpu-1", args.pop("facts"), **args)


def signed_request(token: str, nonce: str = "n-1") -> tuple[tc.WorkerProof, tc.RequestParts]:
    request = tc.RequestParts("POST", "/lease", b'{"episode":"e1"}')
    return tc.make_proof(HOLDER, token, request, timestamp=str(int(time.time())), nonce=nonce), request


# ---- end to end -----------------------------------------------------------------------------------


def test_minted_token_authenticates_and_is_authorized_in_process(signer: Daemon) -> None:
    client = client_for(signer)
    public_hex, key_id = client.public_key()
    assert (public_hex, key_id) == (ISSUER.public_hex, KEY_ID)

    minted = mint(client, revocation_id="rev-7")
    assert (minted.revocation_id, type(minted.expires_at)) == ("rev-7", int)
    assert minted.expires_at <= time.time() + 600

    proof, request = signed_request(minted.token)
    token, identity = tc.authenticate(
        public_hex, proof, request, now=time.time(), revoked_ids=frozenset(), max_skew_seconds=300
    )
    assert identity == tc.VerifiedIdentity("gpu-1", HOLDER.public_hex, "rev-7")
    assert token.root_key_id() == KEY_ID
    tc.check_policy(token, request_facts={"req_right": "lease"}, allow=ALLOW, now=time.time())
    with pytest.raises(tc.Denied):
        tc.check_policy(token, request_facts={"req_right": "admin"}, allow=ALLOW, now=time.time())

    # the stateful verifier, trusting the signer's key under its root key id
    verifier = tc.Verifier({KEY_ID: public_hex})
    token, identity = verifier.authenticate(proof, request)
    assert identity.holder_id == "gpu-1"
    verifier.check_policy(token, request_facts={"req_right": "read"}, allow=ALLOW)
    with pytest.raises(tc.Replayed):
        verifier.authenticate(proof, request)


def test_mint_facts_keep_their_order_and_the_signer_picks_a_revocation_id(signer: Daemon) -> None:
    client = client_for(signer)
    first, second = mint(client), mint(client, facts={"lane": ["b", "a"], "right": iter(["lease"])})
    assert first.revocation_id != second.revocation_id
    assert len(first.revocation_id) == 32 and int(first.revocation_id, 16) >= 0
    block = tc.parse_token(ISSUER.public_hex, second.token).block_source(0)
    assert block.index('lane("a")') < block.index('lane("b")') < block.index('right("lease")')


def test_the_signer_refuses_an_ungranted_predicate(signer: Daemon) -> None:
    with pytest.raises(tc.SignerRefused) as refused:
        mint(client_for(signer), facts={"right": ["lease"], "admin": ["yes"]})
    assert refused.value.code == "SIGNER_REFUSED"


def test_the_signer_refuses_a_ttl_over_its_max(signer: Daemon) -> None:
    client = client_for(signer)
    with pytest.raises(tc.SignerRefused):
        mint(client, expires_at=time.time() + 7200)
    mint(client, expires_at=time.time() + 1800)  # within --max-ttl 3600


def test_the_signer_checks_what_it_mints(signer: Daemon) -> None:
    client = client_for(signer)
    with pytest.raises(tc.MalformedInput):
        client.mint("zz", "gpu-1", {"right": ["lease"]}, expires_at=time.time() + 60)
    with pytest.raises(tc.SignerRefused):  # a reserved predicate is never granted
        client.mint(HOLDER.public_hex, "gpu-1", {"worker_key": ["00"]}, expires_at=time.time() + 60)


def test_sign_job_through_the_signer_verifies(signer: Daemon) -> None:
    client = client_for(signer)
    job: dict[str, Any] = {"job_id": "j-1", "episode": "e1", "steps": 3, "params": {"lr": 0.5, "tags": ["a"]}}
    sig = client.sign_job(job, "gpu-1")
    assert sig == tc.sign_job(ISSUER, job, worker_id="gpu-1")  # Ed25519 is deterministic
    tc.verify_job(ISSUER.public_hex, {**job, "sig": sig}, worker_id="gpu-1")
    with pytest.raises(tc.JobInvalid):
        tc.verify_job(ISSUER.public_hex, {**job, "sig": sig}, worker_id="gpu-2")
    with pytest.raises(tc.JobInvalid):
        tc.verify_job(ISSUER.public_hex, {**job, "steps": 4, "sig": sig}, worker_id="gpu-1")
    # a `sig` already in the job is left out of what is signed
    assert client.sign_job({**job, "sig": "old"}, worker_id="gpu-1") == sig


def test_health(signer: Daemon) -> None:
    health = client_for(signer).health()
    assert health["status"] == "ok"
    assert (health["public_key"], health["key_id"]) == (ISSUER.public_hex, KEY_ID)
    assert health["audit"] is None and isinstance(health["version"], str)


def test_loopback_tcp_with_a_tuple_address() -> None:
    daemon = Daemon(ISSUER.secret_hex, tcp=True)
    try:
        port = daemon.start().port
        addresses: list[tc.signer.SignerAddress] = [
            ("127.0.0.1", port),
            f"tcp:127.0.0.1:{port}",
            f"127.0.0.1:{port}",
        ]
        for address in addresses:
            client = tc.SignerClient(address)
            assert client.address == f"tcp:127.0.0.1:{port}"
            assert client.public_key() == (ISSUER.public_hex, None)
        daemon.stop()
    finally:
        daemon.cleanup()


# ---- a signer that goes away ----------------------------------------------------------------------


def test_a_killed_signer_is_unavailable(signer: Daemon) -> None:
    client = client_for(signer)
    client.health()  # a connection is now pooled
    signer.kill()  # kill -9: the socket file stays, nobody listens
    assert signer.socket_path.exists()
    with pytest.raises(tc.SignerUnavailable):
        client.health()
    with pytest.raises(tc.SignerUnavailable):
        client_for(signer).mint(HOLDER.public_hex, "gpu-1", {}, expires_at=time.time() + 60)


def test_no_signer_at_the_path_is_unavailable(workdir: Path) -> None:
    client = tc.SignerClient(str(workdir / "nobody.sock"))  # lazy: constructing does not connect
    with pytest.raises(tc.SignerUnavailable):
        client.public_key()


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGKILL"])
def test_a_restarted_signer_is_used_again_by_the_same_client(signer: Daemon, stop: str) -> None:
    client = client_for(signer)
    assert client.public_key() == (ISSUER.public_hex, KEY_ID)  # pooled after this
    before = signer.pid
    if stop == "SIGTERM":
        signer.stop()
    else:
        signer.kill()  # leaves a stale socket file, which the next signer replaces
    # both return once the old process is gone: whatever answers now is its successor
    signer.restart()  # the same arguments, on the same socket path
    assert signer.pid != before
    # the pooled connection is to the old process: the client retries on a fresh one
    assert client.public_key() == (ISSUER.public_hex, KEY_ID)
    assert client.health()["key_id"] == KEY_ID
    signer.stop()


def test_a_signer_restarted_with_a_successor_key_mints_what_a_verifier_with_both_keys_accepts(
    signer: Daemon,
) -> None:
    client = client_for(signer)
    old = mint(client)  # ISSUER's, root key id KEY_ID; the connection is pooled after this
    # key rotation: the same path, now the successor's key under its own root key id
    signer.stop()
    signer.restart(
        [*GRANTED, "--max-ttl", "3600", "--key-id", str(SUCCESSOR_KEY_ID)], seed_hex=SUCCESSOR.secret_hex
    )
    # the pooled connection is to the old process: the client retries on a fresh one, the successor's
    assert client.public_key() == (SUCCESSOR.public_hex, SUCCESSOR_KEY_ID)
    assert client.health()["key_id"] == SUCCESSOR_KEY_ID
    new = mint(client)

    # a verifier trusting both keys, each under its root key id, accepts the tokens of both signers
    verifier = tc.Verifier({KEY_ID: ISSUER.public_hex, SUCCESSOR_KEY_ID: SUCCESSOR.public_hex})
    for minted, key_id, nonce in ((old, KEY_ID, "n-old"), (new, SUCCESSOR_KEY_ID, "n-new")):
        proof, request = signed_request(minted.token, nonce)
        token, identity = verifier.authenticate(proof, request)
        assert (token.root_key_id(), identity.holder_id) == (key_id, "gpu-1")
        verifier.check_policy(token, request_facts={"req_right": "lease"}, allow=ALLOW)
    # one trusting the old key alone refuses the successor's tokens
    with pytest.raises(tc.TokenInvalid):
        tc.Verifier({KEY_ID: ISSUER.public_hex}).authenticate(*signed_request(new.token, "n-new"))
    signer.stop()


@contextmanager
def silent_peer(path: Path, answer: Callable[[socket.socket], None] | None = None) -> Iterator[None]:
    """A Unix socket server in a thread that accepts and then, unless ``answer`` is given, never
    says anything; every accepted connection is held open until the end."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(16)
    listener.settimeout(0.05)  # so the accept loop sees `done`
    held: list[socket.socket] = []
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)
            if answer is not None:
                threading.Thread(target=answer, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=MARGIN)
        listener.close()
        for conn in held:
            conn.close()


def test_a_signer_that_never_answers_is_unavailable_within_the_timeout(workdir: Path) -> None:
    path = workdir / "silent.sock"
    with silent_peer(path):
        client = tc.SignerClient(str(path), request_timeout=0.5)
        started = time.monotonic()
        with pytest.raises(tc.SignerUnavailable):
            client.health()
        assert time.monotonic() - started < 0.5 + MARGIN


# A peer in its own process, so it can be SIGKILLed while a request is in flight: it says "read"
# once it has read a whole request frame, then stays silent.
SILENT_PROCESS = """
import socket, struct, sys
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind(sys.argv[1])
listener.listen(4)
print("listening", flush=True)
conn, _ = listener.accept()
length = struct.unpack(">I", conn.recv(4, socket.MSG_WAITALL))[0]
conn.recv(length, socket.MSG_WAITALL)
print("read", flush=True)
sys.stdin.read()
"""


def test_a_signer_killed_mid_request_is_unavailable_never_a_hang(workdir: Path) -> None:
    path = workdir / "doomed.sock"
    peer = subprocess.Popen(
        [sys.executable, "-c", SILENT_PROCESS, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert peer.stdout is not None
        assert peer.stdout.readline().strip() == "listening"
        timeout = 5.0
        client = tc.SignerClient(str(path), request_timeout=timeout)
        outcome: list[BaseException | dict[str, Any]] = []

        def call() -> None:
            try:
                outcome.append(client.health())
            except BaseException as err:  # noqa: BLE001  (whatever it is, the test reports it)
                outcome.append(err)

        started = time.monotonic()
        caller = threading.Thread(target=call)
        caller.start()
        assert peer.stdout.readline().strip() == "read"  # the request is in flight now
        os.kill(peer.pid, signal.SIGKILL)
        peer.wait()
        caller.join(timeout=timeout + MARGIN)
        assert not caller.is_alive(), "the call hung after the signer died"
        assert time.monotonic() - started < timeout + MARGIN
        assert len(outcome) == 1 and isinstance(outcome[0], tc.SignerUnavailable), outcome
    finally:
        peer.kill()
        peer.wait()


# ---- a signer written here, answering as told -----------------------------------------------------


def answering(reply: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[socket.socket], None]:
    """A peer that answers every request frame with ``reply(request)``, in Python: it can only run
    while the client waits if the client released the GIL."""

    def serve(conn: socket.socket) -> None:
        try:
            while True:
                request = wire.recv_frame(conn)
                wire.send_frame(conn, reply(request))
        except (tc.TrustError, OSError):
            return

    return serve


def ok(result: dict[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda request: {"v": 1, "id": request["id"], "ok": True, "result": result}


def test_the_gil_is_released_while_the_client_waits(workdir: Path) -> None:
    # the answer is written by a Python thread of this process: were the GIL held during the
    # request, that thread could not run and the call would time out
    path = workdir / "py.sock"
    with silent_peer(path, answering(ok({"public_key": ISSUER.public_hex, "key_id": None}))):
        client = tc.SignerClient(str(path), request_timeout=5.0)
        assert client.public_key() == (ISSUER.public_hex, None)
        assert client.public_key() == (ISSUER.public_hex, None)  # again, on the pooled connection


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (lambda r: {"v": 1, "id": r["id"], "ok": False, "error": {"code": "SIGNER_REFUSED", "message": "no"}}, tc.SignerRefused),
        (lambda r: {"v": 1, "id": r["id"], "ok": False, "error": {"code": "DENIED", "message": "no"}}, tc.Denied),
        (lambda r: {"v": 1, "id": None, "ok": False, "error": {"code": "SIGNER_UNAVAILABLE", "message": "busy"}}, tc.SignerUnavailable),
        (lambda r: {"v": 1, "id": r["id"], "ok": False, "error": {"code": "NEW_CODE", "message": "?"}}, tc.Internal),
        (lambda r: {"v": 1, "id": r["id"] + 1, "ok": True, "result": {}}, tc.FrameInvalid),
        (lambda r: {"v": 2, "id": r["id"], "ok": True, "result": {}}, tc.FrameInvalid),
        (lambda r: {"v": 1, "id": r["id"], "ok": True, "result": {"public_key": 7}}, tc.FrameInvalid),
        (lambda r: {"v": 1, "id": r["id"], "ok": True, "result": {"public_key": "ab", "key_id": -1}}, tc.FrameInvalid),
    ],
    ids=["refused", "other-code", "refused-early", "unknown-code", "other-id", "other-version", "bad-field", "bad-key-id"],
)
def test_answers_map_to_the_error_classes(
    workdir: Path, reply: Callable[[dict[str, Any]], dict[str, Any]], error: type[tc.TrustError]
) -> None:
    path = workdir / "odd.sock"
    with silent_peer(path, answering(reply)):
        with pytest.raises(error):
            tc.SignerClient(str(path)).public_key()


# ---- threads --------------------------------------------------------------------------------------


def test_threads_share_one_client(signer: Daemon) -> None:
    client = client_for(signer)
    threads, per_thread = 8, 12
    start = threading.Barrier(threads)
    failures: list[BaseException] = []
    minted: list[tuple[int, int, tc.MintedToken]] = []
    signatures: list[tuple[int, int, str]] = []

    def work(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                if i % 3 == 0:
                    minted.append((n, i, mint(client, revocation_id=f"rev-{n}-{i}")))
                elif i % 3 == 1:
                    signatures.append((n, i, client.sign_job({"job_id": f"j-{n}-{i}"}, f"w-{n}")))
                else:
                    assert client.public_key() == (ISSUER.public_hex, KEY_ID)
        except BaseException as err:  # noqa: BLE001  (collected, reported below)
            failures.append(err)

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in pool)
    assert failures == []
    assert len(minted) == threads * per_thread // 3 and len(signatures) == threads * per_thread // 3
    for n, i, token in minted:
        assert token.revocation_id == f"rev-{n}-{i}"
        proof, request = signed_request(token.token, nonce=f"{n}-{i}")
        _, identity = tc.authenticate(
            ISSUER.public_hex, proof, request, now=time.time(), revoked_ids=frozenset(), max_skew_seconds=300
        )
        assert identity.revocation_id == f"rev-{n}-{i}"
    for n, i, sig in signatures:
        tc.verify_job(ISSUER.public_hex, {"job_id": f"j-{n}-{i}", "sig": sig}, worker_id=f"w-{n}")


# ---- the objects and bad arguments ----------------------------------------------------------------


def test_minted_token_is_frozen_and_never_shows_its_token(signer: Daemon) -> None:
    minted = mint(client_for(signer), revocation_id="rev-9")
    assert minted.token not in repr(minted) and "token=" not in repr(minted)
    assert "rev-9" in repr(minted)
    with pytest.raises(AttributeError):
        minted.token = "x"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(minted)) == minted


def test_client_repr_and_settings(workdir: Path) -> None:
    client = tc.SignerClient(str(workdir / "s.sock"), connect_timeout=0.25, request_timeout=2)
    assert client.address == f"unix:{workdir / 's.sock'}"
    assert (client.connect_timeout, client.request_timeout) == (0.25, 2.0)
    assert repr(client) == f"SignerClient(address='unix:{workdir / 's.sock'}', connect_timeout=0.25, request_timeout=2.0)"
    assert tc.SignerClient(f"unix:{workdir}/s.sock").address == client.address
    assert tc.SignerClient("unix:relative.sock").address == "unix:relative.sock"
    with pytest.raises(TypeError):
        pickle.dumps(client)  # it holds connections, not data


class BytesPath:
    def __fspath__(self) -> bytes:
        return b"/tmp/s.sock"


@pytest.mark.parametrize(
    ("address", "error"),
    [
        (("10.0.0.1", 80), tc.MalformedInput),  # not loopback: frames are not encrypted
        (("0.0.0.0", 80), tc.MalformedInput),
        (("::ffff:10.0.0.1", 80), tc.MalformedInput),
        (("localhost", 80), tc.MalformedInput),  # a name, not an IP
        (("127.0.0.1", 70000), tc.MalformedInput),
        (("127.0.0.1", -1), tc.MalformedInput),
        ("tcp:10.0.0.1:80", tc.MalformedInput),
        ("192.168.1.1:80", tc.MalformedInput),
        ("signer.sock", tc.MalformedInput),  # neither a path with a / nor an address: say ./signer.sock
        ("", tc.MalformedInput),
        ("unix:", tc.MalformedInput),
        ("\udcff/x", tc.MalformedInput),
        (("127.0.0.1",), TypeError),
        (("127.0.0.1", 80, 1), TypeError),
        (("127.0.0.1", "80"), TypeError),
        (("127.0.0.1", 80.0), TypeError),
        (("127.0.0.1", True), TypeError),
        ((b"127.0.0.1", 80), TypeError),
        (["127.0.0.1", 80], TypeError),
        (b"/tmp/s.sock", TypeError),
        (BytesPath(), TypeError),
        (None, TypeError),
        (7, TypeError),
    ],
)
def test_bad_addresses(address: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        tc.SignerClient(address)


def test_good_addresses_are_taken_lazily() -> None:
    # nothing listens at any of these: constructing a client does not connect
    for address, shown in [
        (("127.0.0.1", 9), "tcp:127.0.0.1:9"),
        (("127.1.2.3", 9), "tcp:127.1.2.3:9"),
        (("::1", 9), "tcp:[::1]:9"),
        ("tcp:[::1]:9", "tcp:[::1]:9"),
        ("/abs/path.sock", "unix:/abs/path.sock"),
        ("./rel.sock", "unix:./rel.sock"),
        (Path("signer.sock"), "unix:signer.sock"),  # a path object is always a path
        (Path("/run/x/signer.sock"), "unix:/run/x/signer.sock"),
    ]:
        assert tc.SignerClient(address).address == shown  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["connect_timeout", "request_timeout"])
@pytest.mark.parametrize(
    ("value", "error"),
    [
        (0, tc.MalformedInput),
        (0.0, tc.MalformedInput),
        (-1, tc.MalformedInput),
        (-0.5, tc.MalformedInput),
        (float("nan"), tc.MalformedInput),
        (float("inf"), tc.MalformedInput),
        (10**400, tc.MalformedInput),
        ("1", TypeError),
        (None, TypeError),
        (b"1", TypeError),
    ],
)
def test_bad_timeouts(name: str, value: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        tc.SignerClient("/tmp/trustcore-test.sock", **{name: value})


CALLS: list[tuple[str, Callable[[tc.SignerClient], object], type[Exception]]] = [
    ("public_hex int", lambda c: c.mint(1, "h", {}, expires_at=1e9), TypeError),  # type: ignore[arg-type]
    ("holder_id None", lambda c: c.mint("ab", None, {}, expires_at=1e9), TypeError),  # type: ignore[arg-type]
    ("facts str", lambda c: c.mint("ab", "h", "right", expires_at=1e9), TypeError),  # type: ignore[arg-type]
    ("facts list", lambda c: c.mint("ab", "h", [("right", ["a"])], expires_at=1e9), TypeError),  # type: ignore[arg-type]
    ("fact values str", lambda c: c.mint("ab", "h", {"right": "lease"}, expires_at=1e9), TypeError),
    ("fact value int", lambda c: c.mint("ab", "h", {"right": [1]}, expires_at=1e9), TypeError),  # type: ignore[list-item]
    ("fact predicate int", lambda c: c.mint("ab", "h", {1: ["a"]}, expires_at=1e9), TypeError),  # type: ignore[dict-item]
    ("expires_at str", lambda c: c.mint("ab", "h", {}, expires_at="soon"), TypeError),  # type: ignore[arg-type]
    ("expires_at nan", lambda c: c.mint("ab", "h", {}, expires_at=float("nan")), tc.MalformedInput),
    ("expires_at huge", lambda c: c.mint("ab", "h", {}, expires_at=10**400), tc.MalformedInput),
    ("revocation_id int", lambda c: c.mint("ab", "h", {}, expires_at=1e9, revocation_id=1), TypeError),  # type: ignore[arg-type]
    ("lone surrogate", lambda c: c.mint("ab", "\udcff", {}, expires_at=1e9), tc.MalformedInput),
    ("expires_at positional", lambda c: c.mint("ab", "h", {}, 1e9), TypeError),  # type: ignore[call-arg]
    ("job list", lambda c: c.sign_job([1], "w"), TypeError),  # type: ignore[arg-type]
    ("job value object", lambda c: c.sign_job({"x": object()}, "w"), TypeError),
    ("job int key", lambda c: c.sign_job({1: "x"}, "w"), TypeError),  # type: ignore[dict-item]
    ("job nan", lambda c: c.sign_job({"x": float("nan")}, "w"), tc.MalformedInput),
    ("worker_id None", lambda c: c.sign_job({}, None), TypeError),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("call", "error"), [(c, e) for _, c, e in CALLS], ids=[n for n, _, _ in CALLS])
def test_bad_arguments_are_refused_before_anything_is_sent(
    workdir: Path, call: Callable[[tc.SignerClient], object], error: type[Exception]
) -> None:
    # no signer listens here: an argument error must come first, not SIGNER_UNAVAILABLE
    client = tc.SignerClient(str(workdir / "nobody.sock"))
    with pytest.raises(error):
        call(client)


# ---- every argument replaced by every bad value (as tests/test_bad_input.py does elsewhere) -------

#: Stands for the shared signer's socket path in the good arguments.
SOCKET = "<the shared signer's socket>"


def construct_and_ask(daemon: Daemon, address: Any, connect_timeout: Any, request_timeout: Any) -> object:
    address = str(daemon.socket_path) if address is SOCKET else address
    return tc.SignerClient(address, connect_timeout=connect_timeout, request_timeout=request_timeout).health()


# each: a call on the shared signer and the arguments that succeed
MATRIX: dict[str, tuple[Callable[..., object], dict[str, Any]]] = {
    "SignerClient": (construct_and_ask, {"address": SOCKET, "connect_timeout": 1.0, "request_timeout": 5.0}),
    "SignerClient.mint": (
        lambda daemon, **args: client_for(daemon).mint(**args),
        {"public_hex": HOLDER.public_hex, "holder_id": "h", "facts": {"right": ["read"]},
         "expires_at": time.time() + 600, "revocation_id": "r"},
    ),
    "SignerClient.sign_job": (
        lambda daemon, **args: client_for(daemon).sign_job(**args),
        {"job": {"id": "j1", "n": 1}, "worker_id": "w"},
    ),
}


@pytest.fixture(scope="module")
def shared_signer() -> Iterator[Daemon]:
    daemon = Daemon(ISSUER.secret_hex, [*GRANTED, "--max-ttl", "3600", "--key-id", str(KEY_ID)]).start()
    try:
        yield daemon
        daemon.stop()  # after every bad request it was sent, it still stops cleanly
    finally:
        daemon.cleanup()


@pytest.mark.parametrize("name", list(MATRIX))
def test_the_good_signer_call_succeeds(shared_signer: Daemon, name: str) -> None:
    function, good = MATRIX[name]
    function(shared_signer, **good)


@pytest.mark.parametrize(
    ("name", "arg", "bad"),
    [
        pytest.param(name, arg, bad, id=f"{name}-{arg}-{bad_name}")
        for name, (_, good) in MATRIX.items()
        for arg in good
        for bad_name, bad in BAD.items()
    ],
)
def test_bad_signer_argument_raises_trust_error_or_type_error(
    shared_signer: Daemon, name: str, arg: str, bad: Any
) -> None:
    function, good = MATRIX[name]
    try:
        function(shared_signer, **{**good, arg: bad})
    except (tc.TrustError, TypeError):
        pass
