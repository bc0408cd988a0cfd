"""The HTTP adapters over real servers and real clients on loopback (issue 17, Python).

Servers: the HTTP matrix's Python server (tests/http-matrix/python/server.py) serving Starlette and
FastAPI under uvicorn (trustcore.asgi) and Flask under gunicorn (trustcore.wsgi), and Flask under
waitress in this process; all with the matrix's route policy (tests/http-matrix/routes.json:
``POST /lease/{lane}`` for ``right("lease")`` on a granted lane, ``GET /admin`` for
``right("admin")``, ``GET /health`` public, bodies up to 1024 bytes). Clients: httpx (sync and
async) and requests through trustcore's auth classes, curl with the headers of ``trustcore proof``,
the matrix's client program, and raw sockets for what no client would send.

Every status, header and body checked here is core's decision; the adapters only carry it.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests

import trustcore as tc
from trustcore.http import sign_request
from trustcore.httpx import TrustcoreAuth as HttpxAuth
from trustcore.requests import TrustcoreAuth as RequestsAuth

from http_servers import (
    CLIENT,
    ROUTES,
    MatrixServer,
    SilentRedis,
    listening_socket,
    matrix_servers,
    raw_request,
    serve_waitress,
)
from redis_server import RedisServer

FRAMEWORKS = ("starlette", "fastapi", "wsgi")
PROFILES = ("rfc9421", "legacy")
CLIENTS = ("httpx", "httpx-async", "requests")
BODY = '{"episode":"e1","note":"caf\u00e9 \u2615"}'.encode()
TARGET = "/lease/a?episode=e1&q=a%20b"


class Keys:
    def __init__(self) -> None:
        self.issuer = tc.IssuerKey.generate()
        self.holder = tc.WorkerKey.generate()
        self.token = tc.mint_biscuit(
            self.issuer,
            public_hex=self.holder.public_hex,
            holder_id="gpu-1",
            facts={"right": ["lease"], "lane": ["a"]},
            revocation_id="rev-1",
            expires_at=time.time() + 3600,
        )


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


@pytest.fixture(scope="module")
def servers(keys: Keys) -> Iterator[dict[str, MatrixServer]]:
    with matrix_servers(keys.issuer.public_hex, FRAMEWORKS) as started:
        yield started


def send(
    client: str, keys: Keys, url: str, *, method: str = "POST", body: bytes = b"", profile: str = "rfc9421"
) -> tuple[int, dict[str, str], str]:
    """One request signed by trustcore's auth class for ``client``: (status, headers, text)."""
    if client == "httpx":
        with httpx.Client(auth=HttpxAuth(keys.holder, keys.token, profile=profile)) as session:
            response = session.request(method, url, content=body)
            return response.status_code, dict(response.headers), response.text
    if client == "httpx-async":

        async def call() -> tuple[int, dict[str, str], str]:
            async with httpx.AsyncClient(auth=HttpxAuth(keys.holder, keys.token, profile=profile)) as session:
                response = await session.request(method, url, content=body)
                return response.status_code, dict(response.headers), response.text

        return asyncio.run(call())
    assert client == "requests"
    auth = RequestsAuth(keys.holder, keys.token, profile=profile)
    answer = requests.request(method, url, data=body, auth=auth, timeout=30)
    return answer.status_code, dict(answer.headers), answer.text


def unsigned(url: str, *, method: str = "POST", body: bytes = b"", headers: Any = None) -> httpx.Response:
    return httpx.request(method, url, content=body, headers=headers)


def refused(response: httpx.Response | tuple[int, dict[str, str], str], status: int, code: str) -> None:
    if isinstance(response, httpx.Response):
        response = (response.status_code, dict(response.headers), response.text)
    got, headers, text = response
    assert got == status, text
    assert json.loads(text)["error"] == code, text
    lower = {name.lower(): value for name, value in headers.items()}
    assert lower["content-type"] == "application/json"
    if status == 401:
        assert lower["www-authenticate"] == f'Biscuit error="{code}"'
    if status == 503:
        assert lower["retry-after"] == "1"


def served(text: str, *, holder: str | None, body: bytes, route: str) -> None:
    """What the app behind the middleware answered: who, the exact body it received, the route."""
    assert json.loads(text) == {"holder_id": holder, "body_hex": body.hex(), "route": route}


# ---- allowed: every client, both profiles, every server ----


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_allowed_requests_reach_the_app_with_the_identity_and_the_exact_body(
    servers: dict[str, MatrixServer], keys: Keys, framework: str
) -> None:
    server = servers[framework]
    for client in CLIENTS:
        for profile in PROFILES:
            status, _, text = send(client, keys, server.url(TARGET), body=BODY, profile=profile)
            assert status == 200, (client, profile, text)
            served(text, holder="gpu-1", body=BODY, route="/lease/{lane}")
    status, _, text = send("httpx", keys, server.url("/lease/a"))  # an empty body is signed too
    assert status == 200, text
    served(text, holder="gpu-1", body=b"", route="/lease/{lane}")


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_streamed_body_is_signed_buffered_once_and_capped(
    servers: dict[str, MatrixServer], keys: Keys, framework: str
) -> None:
    server = servers[framework]

    def chunks(size: int) -> Iterator[bytes]:
        for start in range(0, size, 100):
            yield bytes(range(256))[: min(100, size - start)]

    expected = b"".join(chunks(900))
    with httpx.Client(auth=HttpxAuth(keys.holder, keys.token)) as client:
        # httpx sends an iterator chunked (no Content-Length): the server reads to the end
        response = client.post(server.url("/lease/a"), content=chunks(900))
        assert response.status_code == 200, response.text
        served(response.text, holder="gpu-1", body=expected, route="/lease/{lane}")
        refused(client.post(server.url("/lease/a"), content=chunks(5000)), 413, "LIMIT_EXCEEDED")


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_the_public_route_needs_no_proof(servers: dict[str, MatrixServer], keys: Keys, framework: str) -> None:
    response = unsigned(servers[framework].url("/health"), method="GET")
    assert response.status_code == 200, response.text
    served(response.text, holder=None, body=b"", route="/health")
    # signed all the same: no credential is read on a public route
    status, _, text = send("requests", keys, servers[framework].url("/health"), method="GET")
    assert status == 200
    served(text, holder=None, body=b"", route="/health")


# ---- refusals, as core decides them ----


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_no_proof_is_401(servers: dict[str, MatrixServer], framework: str) -> None:
    refused(unsigned(servers[framework].url("/lease/a"), body=BODY), 401, "MALFORMED_INPUT")


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_forged_requests_are_401(servers: dict[str, MatrixServer], keys: Keys, framework: str) -> None:
    server = servers[framework]
    host = [("Host", server.authority)]
    for profile in PROFILES:
        # signed for one body, sent with another
        headers = sign_request(keys.holder, keys.token, "POST", "/lease/a", headers=host, body=b"{}", profile=profile)
        response = unsigned(server.url("/lease/a"), body=b'{"x":1}', headers=headers)
        assert response.status_code == 401, response.text
        # signed by a key the token does not bind
        other = tc.WorkerKey.generate()
        headers = sign_request(other, keys.token, "POST", "/lease/a", headers=host, body=BODY, profile=profile)
        refused(unsigned(server.url("/lease/a"), body=BODY, headers=headers), 401, "POP_FAILED")
        # the same token, a foreign issuer
        stranger = tc.IssuerKey.generate()
        token = tc.mint_biscuit(
            stranger, public_hex=keys.holder.public_hex, holder_id="gpu-1",
            facts={"right": ["lease"], "lane": ["a"]}, revocation_id="rev-2", expires_at=time.time() + 600,
        )
        headers = sign_request(keys.holder, token, "POST", "/lease/a", headers=host, body=BODY, profile=profile)
        refused(unsigned(server.url("/lease/a"), body=BODY, headers=headers), 401, "TOKEN_INVALID")
    # RFC 9421 signs the authority: a request signed for (and sent with the Host of) another
    # service is refused here, and one signed for another but sent with this Host does not verify
    headers = sign_request(keys.holder, keys.token, "POST", "http://other.example/lease/a", body=BODY)
    elsewhere = {**headers, "Host": "other.example"}
    refused(unsigned(server.url("/lease/a"), body=BODY, headers=elsewhere), 401, "WRONG_AUDIENCE")
    refused(unsigned(server.url("/lease/a"), body=BODY, headers=headers), 401, "POP_FAILED")


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_replayed_request_is_401(servers: dict[str, MatrixServer], keys: Keys, framework: str) -> None:
    server = servers[framework]
    for profile in PROFILES:
        headers = sign_request(
            keys.holder, keys.token, "POST", server.url("/lease/a"), body=BODY, profile=profile
        )
        first = unsigned(server.url("/lease/a"), body=BODY, headers=headers)
        assert first.status_code == 200, first.text
        refused(unsigned(server.url("/lease/a"), body=BODY, headers=headers), 401, "REPLAYED")


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_ungranted_and_unrouted_requests_are_403(servers: dict[str, MatrixServer], keys: Keys, framework: str) -> None:
    server = servers[framework]
    for client in CLIENTS:
        refused(send(client, keys, server.url("/lease/b"), body=BODY), 403, "DENIED")  # lane b not granted
    refused(send("httpx", keys, server.url("/admin"), method="GET"), 403, "DENIED")  # no right("admin")
    refused(send("requests", keys, server.url("/nowhere"), method="GET"), 403, "DENIED")  # no route
    refused(send("httpx", keys, server.url("/health"), method="POST"), 403, "DENIED")  # methods are exact


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_body_over_the_cap_is_413_without_being_read(
    servers: dict[str, MatrixServer], keys: Keys, framework: str
) -> None:
    server = servers[framework]
    for client in CLIENTS:
        refused(send(client, keys, server.url("/lease/a"), body=b"x" * 1025), 413, "LIMIT_EXCEEDED")
    assert send("httpx", keys, server.url("/lease/a"), body=b"x" * 1024)[0] == 200  # the cap itself is fine
    # 50 MB announced, 10 bytes sent: the refusal comes back without the server waiting for the rest
    started = time.monotonic()
    response = raw_request(
        server.port,
        f"POST /lease/a HTTP/1.1\r\nHost: {server.authority}\r\nContent-Length: 50000000\r\n\r\n".encode() + b"x" * 10,
        timeout=10,
    )
    assert response.status == 413, response
    assert json.loads(response.body)["error"] == "LIMIT_EXCEEDED"
    assert time.monotonic() - started < 5


#: Targets that two routers could read two ways: core refuses them before any route (400).
PATH_TRICKS = (
    "/lease/%2e%2e/admin",
    "/lease/../admin",
    "/lease/a/../../admin",
    "/./health",
    "//health",
    "/health/",
    "/lease/a%2Fb",
    "/lease/%252e%252e/admin",
    "/lease/a%00",
    "/lease/a;x=1",
    "/lease\\a",
)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_path_tricks_sent_raw_are_refused(servers: dict[str, MatrixServer], keys: Keys, framework: str) -> None:
    server = servers[framework]
    for target in PATH_TRICKS:
        method = "GET" if "health" in target or "admin" in target else "POST"
        request = f"{method} {target} HTTP/1.1\r\nHost: {server.authority}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        response = raw_request(server.port, request.encode())
        assert response.status == 400, (target, response)
        assert json.loads(response.body)["error"] == "MALFORMED_INPUT", (target, response)
    # curl sends the dot segments as written only when told to; signed or not, refused
    run = subprocess.run(
        ["curl", "-s", "--path-as-is", "-o", "/dev/null", "-w", "%{http_code}", server.url("/lease/%2e%2e/admin")],
        capture_output=True, text=True, timeout=30, check=True,
    )
    assert run.stdout == "400"


# ---- curl, with the headers of `trustcore proof` ----


@pytest.fixture(scope="module")
def key_file(keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("holder") / "holder.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(keys.holder.seed.hex() + "\n")
    return path


def curl_command(keys: Keys, key_file: Path, method: str, url: str, body: str, rfc9421: bool) -> str:
    binary = os.environ.get("TRUSTCORE_BIN")
    assert binary and os.path.isfile(binary), "TRUSTCORE_BIN: run through make (`make signer-bin` builds it)"
    args = [binary, "proof", "--key-file", str(key_file), "--token", keys.token, "--method", method, "--url", url]
    args += ["--body", body, "--curl"] + (["--rfc9421"] if rfc9421 else [])
    return subprocess.run(args, capture_output=True, text=True, timeout=30, check=True).stdout.strip()


def run_curl(command: str) -> tuple[int, str]:
    assert command.startswith("curl ")
    run = subprocess.run(
        ["bash", "-c", command + " --silent --show-error -w '\\n%{http_code}'"],
        capture_output=True, text=True, timeout=30, check=True,
    )
    text, _, status = run.stdout.rpartition("\n")
    return int(status), text


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_curl_with_the_headers_of_trustcore_proof(
    servers: dict[str, MatrixServer], keys: Keys, key_file: Path, framework: str
) -> None:
    server = servers[framework]
    body = '{"episode":"e1"}'
    for rfc9421 in (True, False):
        command = curl_command(keys, key_file, "POST", server.url("/lease/a?episode=e1"), body, rfc9421)
        assert ("Signature-Input: tc=" in command) == rfc9421
        status, text = run_curl(command)
        assert status == 200, text
        served(text, holder="gpu-1", body=body.encode(), route="/lease/{lane}")
        status, text = run_curl(command)  # the very same headers again
        assert status == 401 and json.loads(text)["error"] == "REPLAYED", text
    status, text = run_curl(curl_command(keys, key_file, "POST", server.url("/lease/b"), body, True))
    assert status == 403, text


# ---- the matrix's client program ----


def test_the_matrix_client_program_speaks_the_protocol(servers: dict[str, MatrixServer], keys: Keys) -> None:
    server = servers["starlette"]
    holder = {"holder_secret_hex": keys.holder.secret_hex, "token": keys.token}
    lines = [
        {"url": server.url("/lease/a"), "method": "POST", "body_hex": BODY.hex(), **holder},
        {"url": server.url("/lease/a"), "method": "POST", "body_hex": "", **holder, "profile": "legacy"},
        {"url": server.url("/lease/a"), "method": "POST", "body_hex": "7b7d", "unsigned": True},
        {"url": server.url("/health"), "method": "GET", "unsigned": True},
        {"url": "http://127.0.0.1:1/health", "method": "GET", "unsigned": True},
    ]
    stdin = "".join(json.dumps(line) + "\n" for line in lines)
    for flags in ([], ["--requests"]):
        run = subprocess.run(
            [sys.executable, str(CLIENT), *flags], input=stdin, capture_output=True, text=True, timeout=60, check=True
        )
        answers = [json.loads(line) for line in run.stdout.splitlines()]
        assert [answer.get("status") for answer in answers] == [200, 200, 401, 200, None], answers
        served(answers[0]["body"], holder="gpu-1", body=BODY, route="/lease/{lane}")
        served(answers[1]["body"], holder="gpu-1", body=b"", route="/lease/{lane}")
        assert json.loads(answers[2]["body"])["error"] == "MALFORMED_INPUT"
        assert "error" in answers[4]


# ---- the stores: Redis stopped, Redis silent ----


def test_redis_stopped_is_503_with_retry_after(keys: Keys) -> None:
    redis = RedisServer().start()
    try:
        with matrix_servers(keys.issuer.public_hex, FRAMEWORKS, redis_url=redis.url) as servers:
            for server in servers.values():
                status, _, text = send("httpx", keys, server.url("/lease/a"), body=BODY)
                assert status == 200, (server.framework, text)
            redis.stop()
            for server in servers.values():
                for client in ("httpx", "requests"):
                    refused(send(client, keys, server.url("/lease/a"), body=BODY), 503, "STORE_UNAVAILABLE")
                assert unsigned(server.url("/health"), method="GET").status_code == 200  # no store needed
    finally:
        redis.close()


def test_a_silent_redis_never_blocks_the_event_loop(keys: Keys) -> None:
    """While a signed request waits on a Redis that never answers (the decision in a worker
    thread), the same server answers other requests at once; then the waiting one gets its 503.
    The three servers are asked at once (each signed request waits out the Redis timeouts)."""
    silent = SilentRedis()
    try:
        with matrix_servers(keys.issuer.public_hex, FRAMEWORKS, redis_url=silent.url) as servers:
            done: dict[str, tuple[tuple[int, dict[str, str], str], float]] = {}

            def waiting(server: MatrixServer) -> None:
                response = send("httpx", keys, server.url("/lease/a"), body=BODY)
                done[server.framework] = (response, time.monotonic())

            started = time.monotonic()
            threads = [threading.Thread(target=waiting, args=(server,)) for server in servers.values()]
            for thread in threads:
                thread.start()
            time.sleep(0.15)  # the signed requests are in, waiting on Redis
            answered: dict[str, float] = {}
            with httpx.Client() as client:
                for server in servers.values():
                    for _ in range(3):
                        asked = time.monotonic()
                        response = client.get(server.url("/health"))
                        assert response.status_code == 200
                        # milliseconds when the loop is free; the signed request waits seconds
                        assert time.monotonic() - asked < 0.5, (server.framework, time.monotonic() - asked)
                    answered[server.framework] = time.monotonic()
            for thread in threads:
                thread.join(30)
            for framework, (response, at) in done.items():
                refused(response, 503, "STORE_UNAVAILABLE")
                assert at > answered[framework], framework  # it was still waiting meanwhile
                assert at - started >= 0.4  # Redis's command timeout (0.5 s) was waited out
            assert sorted(done) == sorted(FRAMEWORKS)
    finally:
        silent.close()


# ---- WSGI under waitress (REQUEST_URI; it buffers the body itself) ----


def test_flask_under_waitress(keys: Keys) -> None:
    from flask import Flask, request

    from trustcore.wsgi import TrustcoreMiddleware

    sock = listening_socket()
    port = sock.getsockname()[1]
    app = Flask("waitress-test")

    @app.post("/lease/<lane>")
    def lease(lane: str) -> dict[str, Any]:
        decision = request.environ["trustcore"]
        assert request.environ["REQUEST_URI"] and "RAW_URI" not in request.environ
        return {"holder_id": decision.identity.holder_id, "body_hex": request.get_data().hex(), "route": decision.route}

    verifier = tc.Verifier(keys.issuer.public_hex, authorities=[f"127.0.0.1:{port}"])
    app.wsgi_app = TrustcoreMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, verifier=verifier, policy=tc.HttpPolicy.from_file(ROUTES)
    )
    with serve_waitress(app, sock):
        url = f"http://127.0.0.1:{port}"
        for client in CLIENTS:
            status, _, text = send(client, keys, url + TARGET, body=BODY)
            assert status == 200, text
            served(text, holder="gpu-1", body=BODY, route="/lease/{lane}")
        refused(unsigned(url + "/lease/a", body=BODY), 401, "MALFORMED_INPUT")
        refused(send("requests", keys, url + "/lease/a", body=b"x" * 2000), 413, "LIMIT_EXCEEDED")
        trick = f"GET /lease/%2e%2e/admin HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
        response = raw_request(port, trick.encode())
        assert response.status == 400 and json.loads(response.body)["error"] == "MALFORMED_INPUT"

