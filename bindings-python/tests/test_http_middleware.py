"""The HTTP adapters called directly: what a server test cannot reach (other ASGI scopes, a server
without the raw target, a client leaving mid-body, the event loop measured while a decision waits
on Redis), the FastAPI dependencies, and the signing clients checked against ``Verifier.decide``.
tests/test_http_adapters.py runs them all over real servers and clients."""

from __future__ import annotations

import asyncio
import io
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests

import trustcore as tc
from trustcore import asgi, wsgi
from trustcore.http import Decision, sign_request
from trustcore.httpx import TrustcoreAuth as HttpxAuth
from trustcore.requests import TrustcoreAuth as RequestsAuth

from http_servers import ROUTES, SilentRedis, listening_socket, serve_asgi

HOST = "api.example.com"


@pytest.fixture(scope="module")
def scene() -> dict[str, Any]:
    issuer, holder = tc.IssuerKey.generate(), tc.WorkerKey.generate()
    token = tc.mint_biscuit(
        issuer, public_hex=holder.public_hex, holder_id="gpu-1", facts={"right": ["lease"], "lane": ["a"]},
        revocation_id="rev-1", expires_at=time.time() + 3600,
    )
    return {"issuer": issuer, "holder": holder, "token": token, "policy": tc.HttpPolicy.from_file(ROUTES)}


def verifier(scene: dict[str, Any], **options: Any) -> tc.Verifier:
    return tc.Verifier(scene["issuer"].public_hex, authorities=[HOST], **options)


class Recorder:
    """An ASGI app that records what it was called with and answers 204."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        messages = []
        if scope["type"] == "http":
            messages.append(await receive())
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
        self.calls.append((dict(scope), messages))


def http_scope(target: bytes, query: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": target.decode(), "raw_path": target, "query_string": query, "headers": headers or [],
    }


def run_asgi(app: Any, scope: dict[str, Any], messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    incoming = iter(messages)

    async def receive() -> dict[str, Any]:
        try:
            return next(incoming)
        except StopIteration:
            await asyncio.sleep(3600)
            raise AssertionError("unreachable") from None

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def signed_scope(scene: dict[str, Any], body: bytes, target: str = "/lease/a") -> dict[str, Any]:
    added = sign_request(scene["holder"], scene["token"], "POST", f"http://{HOST}{target}", body=body)
    path, _, query = target.partition("?")
    headers = [(b"host", HOST.encode()), *((k.lower().encode(), v.encode()) for k, v in added.items())]
    headers.append((b"content-length", str(len(body)).encode()))
    return http_scope(path.encode(), query.encode(), headers)


# ---- ASGI ----


def test_asgi_body_arrives_in_chunks_and_is_replayed_whole(scene: dict[str, Any]) -> None:
    app = Recorder()
    middleware = asgi.TrustcoreMiddleware(app, verifier=verifier(scene), policy=scene["policy"])
    body = b'{"episode":"e1"}'
    chunks = [{"type": "http.request", "body": body[:5], "more_body": True},
              {"type": "http.request", "body": body[5:], "more_body": False}]
    sent = run_asgi(middleware, signed_scope(scene, body, "/lease/a?x=%20y"), chunks)
    assert sent[0]["status"] == 204
    scope, received = app.calls[0]
    assert received == [{"type": "http.request", "body": body, "more_body": False}]
    decision = scope["trustcore"]
    assert isinstance(decision, Decision) and decision.allowed and decision.identity.holder_id == "gpu-1"
    assert ("req_query_x", "%20y") in decision.facts and decision.profile == "rfc9421"


def test_asgi_refusal_is_sent_as_decided(scene: dict[str, Any]) -> None:
    app = Recorder()
    middleware = asgi.TrustcoreMiddleware(app, verifier=verifier(scene), policy=scene["policy"])
    sent = run_asgi(middleware, http_scope(b"/lease/a"), [{"type": "http.request", "body": b"{}"}])
    decision = verifier(scene).decide("POST", "/lease/a", [], b"{}", policy=scene["policy"])
    headers = [(n.lower().encode(), v.encode()) for n, v in decision.headers]
    headers.append((b"content-length", str(len(decision.body)).encode()))
    assert sent[0] == {"type": "http.response.start", "status": 401, "headers": headers}
    assert sent[1] == {"type": "http.response.body", "body": decision.body.encode(), "more_body": False}
    assert not app.calls


def test_asgi_announced_body_over_the_cap_is_not_read(scene: dict[str, Any]) -> None:
    app = Recorder()
    middleware = asgi.TrustcoreMiddleware(app, verifier=verifier(scene), policy=scene["policy"])
    scope = http_scope(b"/lease/a", headers=[(b"host", HOST.encode()), (b"content-length", b"1025")])
    sent = run_asgi(middleware, scope, [])  # receive() would hang: it is never called
    assert sent[0]["status"] == 413 and not app.calls
    # chunked, no length announced: read until just past the cap, then refused
    scope = http_scope(b"/lease/a", headers=[(b"host", HOST.encode())])
    endless = [{"type": "http.request", "body": b"x" * 600, "more_body": True}] * 2
    assert run_asgi(middleware, scope, endless)[0]["status"] == 413


def test_asgi_announced_refusal_is_cores(scene: dict[str, Any]) -> None:
    """The 413 of an announced length is core's HttpPolicy.body_length_refusal, as sent."""
    policy: tc.HttpPolicy = scene["policy"]
    middleware = asgi.TrustcoreMiddleware(Recorder(), verifier=verifier(scene), policy=policy)
    announced = policy.max_body_bytes + 1
    scope = http_scope(b"/lease/a", headers=[(b"host", HOST.encode()), (b"content-length", str(announced).encode())])
    sent = run_asgi(middleware, scope, [])
    refusal = policy.body_length_refusal(announced)
    assert refusal is not None and refusal.status == 413 and refusal.code == "LIMIT_EXCEEDED"
    assert sent[0]["status"] == refusal.status and sent[1]["body"] == refusal.body.encode()
    assert (b"content-type", b"application/json") in sent[0]["headers"]


def test_body_length_refusal(scene: dict[str, Any]) -> None:
    policy: tc.HttpPolicy = scene["policy"]
    cap = policy.max_body_bytes
    assert policy.body_length_refusal(0) is None and policy.body_length_refusal(cap) is None
    for length in (cap + 1, 2**64 - 1, 2**80):
        refusal = policy.body_length_refusal(length)
        assert isinstance(refusal, Decision) and not refusal.allowed, length
        assert (refusal.status, refusal.code, refusal.identity, refusal.route) == (413, "LIMIT_EXCEEDED", None, None)
    # the very decision decide gives a body of that length
    assert policy.body_length_refusal(cap + 1) == verifier(scene).decide("POST", "/lease/a", [], b"x" * (cap + 1), policy=policy)
    with pytest.raises(tc.MalformedInput):
        policy.body_length_refusal(-1)
    for wrong in ("10", 1.5, None, True):
        with pytest.raises(TypeError):
            policy.body_length_refusal(wrong)  # type: ignore[arg-type]


class ThreadNoting(tc.Verifier):
    """A Verifier that notes the thread each decision runs on."""

    __slots__ = ("threads",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.threads: list[int] = []

    def decide(self, *args: Any, **kwargs: Any) -> Decision:
        self.threads.append(threading.get_ident())
        return super().decide(*args, **kwargs)


def test_asgi_decides_on_the_loop_unless_the_verifier_may_wait(scene: dict[str, Any]) -> None:
    """In memory (CPU only) the decision runs inline on the event loop's thread, a thread hop
    saved; with Redis it runs on a worker thread (nothing listens on the port: a fast 503)."""
    sock = listening_socket()
    port = sock.getsockname()[1]
    sock.close()  # a port nobody listens on: connection refused at once
    unreachable = tc.RedisOptions(f"redis://127.0.0.1:{port}/", request_timeout=0.5)
    for redis, on_loop, status in ((None, True, 204), (unreachable, False, 503)):
        noting = ThreadNoting(scene["issuer"].public_hex, authorities=[HOST], redis=redis)
        assert noting.may_wait_on_network is (redis is not None)
        middleware = asgi.TrustcoreMiddleware(Recorder(), verifier=noting, policy=scene["policy"])
        body = b"{}"
        loop_thread: list[int] = []

        async def main() -> list[dict[str, Any]]:
            loop_thread.append(threading.get_ident())
            sent: list[dict[str, Any]] = []

            async def receive() -> dict[str, Any]:
                return {"type": "http.request", "body": body, "more_body": False}

            async def send(message: dict[str, Any]) -> None:
                sent.append(message)

            await middleware(signed_scope(scene, body), receive, send)
            return sent

        sent = asyncio.run(main())
        assert sent[0]["status"] == status
        assert (noting.threads == loop_thread) is on_loop, (redis, noting.threads, loop_thread)
        assert len(noting.threads) == 1


def test_asgi_client_gone_mid_body_calls_nothing(scene: dict[str, Any]) -> None:
    app = Recorder()
    middleware = asgi.TrustcoreMiddleware(app, verifier=verifier(scene), policy=scene["policy"])
    messages = [{"type": "http.request", "body": b"{", "more_body": True}, {"type": "http.disconnect"}]
    assert run_asgi(middleware, http_scope(b"/lease/a"), messages) == [] and not app.calls


def test_asgi_other_scopes(scene: dict[str, Any]) -> None:
    app = Recorder()
    middleware = asgi.TrustcoreMiddleware(app, verifier=verifier(scene), policy=scene["policy"])
    run_asgi(middleware, {"type": "lifespan", "asgi": {"version": "3.0"}}, [])
    assert app.calls[0][0]["type"] == "lifespan"  # passed through
    sent = run_asgi(middleware, {"type": "websocket", "path": "/ws", "raw_path": b"/ws", "headers": []},
                    [{"type": "websocket.connect"}])
    assert sent == [{"type": "websocket.close", "code": 1008}] and len(app.calls) == 1  # refused, app not called
    with pytest.raises(RuntimeError, match="not protected"):
        run_asgi(middleware, {"type": "webtransport"}, [])


def test_asgi_without_raw_path_is_refused_not_reencoded(scene: dict[str, Any]) -> None:
    app = Recorder()
    middleware = asgi.TrustcoreMiddleware(app, verifier=verifier(scene), policy=scene["policy"])
    scope = http_scope(b"/health")
    del scope["raw_path"]
    with pytest.raises(RuntimeError, match="raw_path"):
        run_asgi(middleware, scope, [{"type": "http.request", "body": b""}])
    assert not app.calls


def test_middlewares_check_their_arguments(scene: dict[str, Any]) -> None:
    for module in (asgi, wsgi):
        with pytest.raises(TypeError, match="verifier"):
            module.TrustcoreMiddleware(Recorder(), verifier="v", policy=scene["policy"])  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="policy"):
            module.TrustcoreMiddleware(Recorder(), verifier=verifier(scene), policy={})  # type: ignore[arg-type]


def test_asgi_decision_waiting_on_a_silent_redis_leaves_the_event_loop_running(scene: dict[str, Any]) -> None:
    silent = SilentRedis()
    try:
        redis = tc.RedisOptions(silent.url, command_timeout=0.3, request_timeout=0.5)
        middleware = asgi.TrustcoreMiddleware(Recorder(), verifier=verifier(scene, redis=redis), policy=scene["policy"])
        body = b"{}"
        scope = signed_scope(scene, body)

        async def main() -> tuple[list[dict[str, Any]], float, list[float]]:
            loop = asyncio.get_running_loop()
            gaps: list[float] = []
            finished = asyncio.Event()

            async def ticker() -> None:
                last = loop.time()
                while not finished.is_set():
                    await asyncio.sleep(0.01)
                    gaps.append(loop.time() - last)
                    last = loop.time()

            sent: list[dict[str, Any]] = []

            async def receive() -> dict[str, Any]:
                return {"type": "http.request", "body": body, "more_body": False}

            async def send(message: dict[str, Any]) -> None:
                sent.append(message)

            ticking = asyncio.create_task(ticker())
            started = loop.time()
            await middleware(scope, receive, send)
            elapsed = loop.time() - started
            finished.set()
            await ticking
            return sent, elapsed, gaps

        sent, elapsed, gaps = asyncio.run(main())
        assert sent[0]["status"] == 503
        assert elapsed >= 0.25  # the command timeout was waited out ...
        assert max(gaps) < min(0.3, elapsed / 2), (max(gaps), elapsed)  # ... and the loop ticked all along
        assert len(gaps) >= elapsed / 0.03
    finally:
        silent.close()


# ---- WSGI ----


def wsgi_call(app: Any, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    started: list[Any] = []
    body = b"".join(app(environ, lambda status, headers, exc_info=None: started.append((status, headers))))
    return started[0][0], started[0][1], body


def wsgi_environ(target: str | None, body: bytes = b"", **extra: Any) -> dict[str, Any]:
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/lease/a", "QUERY_STRING": "", "wsgi.input": io.BytesIO(body),
               "CONTENT_LENGTH": str(len(body)), "HTTP_HOST": HOST, **extra}
    if target is not None:
        environ["RAW_URI"] = target
    return environ


def test_wsgi_without_the_raw_target_is_refused_not_reencoded(scene: dict[str, Any]) -> None:
    middleware = wsgi.TrustcoreMiddleware(lambda e, s: [b""], verifier=verifier(scene), policy=scene["policy"])
    with pytest.raises(RuntimeError, match="RAW_URI nor REQUEST_URI"):
        wsgi_call(middleware, wsgi_environ(None))
    status, _, _ = wsgi_call(middleware, {**wsgi_environ(None), "REQUEST_URI": "/lease/a"})
    assert status == "401 Unauthorized"


def test_wsgi_allowed_request_gets_the_decision_and_the_same_body(scene: dict[str, Any]) -> None:
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen["decision"], seen["body"] = environ["trustcore"], environ["wsgi.input"].read()
        start_response("200 OK", [])
        return [b"ok"]

    middleware = wsgi.TrustcoreMiddleware(app, verifier=verifier(scene), policy=scene["policy"])
    body = b'{"episode":"e1"}'
    added = sign_request(scene["holder"], scene["token"], "POST", f"http://{HOST}/lease/a", body=body, profile="legacy")
    extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in added.items()}
    status, _, _ = wsgi_call(middleware, wsgi_environ("/lease/a", body, **extra))
    assert status == "200 OK" and seen["body"] == body and seen["decision"].identity.holder_id == "gpu-1"
    assert seen["decision"].profile == "legacy"
    # chunked (no CONTENT_LENGTH, wsgi.input_terminated): read to the end, and the length given to the app
    added = sign_request(scene["holder"], scene["token"], "POST", f"http://{HOST}/lease/a", body=body)
    extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in added.items()}
    environ = wsgi_environ("/lease/a", body, **extra, **{"wsgi.input_terminated": True})
    del environ["CONTENT_LENGTH"]
    status, _, _ = wsgi_call(middleware, environ)
    assert status == "200 OK" and seen["body"] == body and environ["CONTENT_LENGTH"] == str(len(body))


def test_wsgi_over_the_cap(scene: dict[str, Any]) -> None:
    class Unreadable(io.RawIOBase):
        def read(self, size: int = -1) -> bytes:
            raise AssertionError("the body was read")

    middleware = wsgi.TrustcoreMiddleware(lambda e, s: [b""], verifier=verifier(scene), policy=scene["policy"])
    environ = wsgi_environ("/lease/a", **{"wsgi.input": Unreadable(), "CONTENT_LENGTH": "5000000"})
    status, headers, body = wsgi_call(middleware, environ)
    assert status == "413 Request Entity Too Large" and b"LIMIT_EXCEEDED" in body
    assert ("Content-Length", str(len(body))) in headers
    chunked = io.BytesIO(b"x" * 10_000)
    environ = wsgi_environ("/lease/a", **{"wsgi.input": chunked, "wsgi.input_terminated": True})
    del environ["CONTENT_LENGTH"]
    assert wsgi_call(middleware, environ)[0].startswith("413")
    assert chunked.tell() < 10_000  # stopped reading past the cap
    with pytest.raises(ValueError, match="Content-Length"):
        wsgi_call(middleware, wsgi_environ("/lease/a", CONTENT_LENGTH="12a"))


# ---- FastAPI dependencies, over uvicorn ----


def test_fastapi_dependencies_refuse_when_nothing_was_decided(scene: dict[str, Any]) -> None:
    from fastapi import Depends, FastAPI

    from trustcore.fastapi import require, verified_identity

    def build(protected: bool) -> Any:
        app = FastAPI()

        @app.get("/health")
        def health(who: tc.VerifiedIdentity = Depends(verified_identity)) -> dict[str, str]:
            return {"holder": who.holder_id}

        @app.get("/admin")
        def admin(decision: Decision = Depends(require(identity=False))) -> dict[str, str | None]:
            return {"route": decision.route}

        if protected:
            app.add_middleware(asgi.TrustcoreMiddleware, verifier=verifier(scene), policy=scene["policy"])
        return app

    for protected in (False, True):
        sock = listening_socket()
        with serve_asgi(build(protected), sock), httpx.Client() as client:
            url = f"http://127.0.0.1:{sock.getsockname()[1]}"
            health = client.get(url + "/health")
            assert health.status_code == 403  # no decision, or a public route without a holder
            assert ("is public" in health.text) == protected, health.text
            admin = client.get(url + "/admin")  # unprotected: no decision (403); protected: core's 401
            assert admin.status_code == (401 if protected else 403), admin.text
            assert ("TrustcoreMiddleware installed" in admin.text) == (not protected), admin.text


# ---- signing clients, checked against the decision ----


def decide_on(scene: dict[str, Any], method: str, target: str, headers: Any, body: bytes) -> Decision:
    return verifier(scene).decide(method, target, headers, body, policy=scene["policy"])


@pytest.mark.parametrize("profile", ["rfc9421", "legacy"])
def test_httpx_auth_signs_what_httpx_sends(scene: dict[str, Any], profile: str) -> None:
    auth = HttpxAuth(scene["holder"], scene["token"], profile=profile)  # type: ignore[arg-type]

    def stream() -> Iterator[bytes]:
        yield b'{"episode":'
        yield b'"e1"}'

    request = httpx.Request("POST", f"HTTP://API.Example.com:80/lease/a?q=a b&x='1'", content=stream())
    signed = next(auth.sync_auth_flow(request))
    assert signed.url.raw_path == b"/lease/a?q=a%20b&x='1'"  # as httpx writes it (no WHATWG re-encoding)
    decision = decide_on(scene, "POST", signed.url.raw_path.decode(), signed.headers.multi_items(), signed.content)
    assert decision.allowed, decision.message
    assert decision.profile == profile


def test_httpx_auth_async(scene: dict[str, Any]) -> None:
    auth = HttpxAuth(scene["holder"], scene["token"])
    request = httpx.Request("POST", f"http://{HOST}/lease/a", content=b"{}")

    async def flow() -> httpx.Request:
        return await auth.async_auth_flow(request).__anext__()

    signed = asyncio.run(flow())
    assert decide_on(scene, "POST", "/lease/a", signed.headers.multi_items(), b"{}").allowed


@pytest.mark.parametrize(
    "body", [b'{"a":1}', bytearray(b'{"a":1}'), '{"a":"\u00e9"}', io.BytesIO(b'{"a":1}'), iter([b'{"a"', b":1}"]), None]
)
def test_requests_auth_signs_what_requests_sends(scene: dict[str, Any], body: Any) -> None:
    prepared = requests.Request("POST", f"http://{HOST.upper()}:80/lease/a?q=a b", data=body).prepare()
    RequestsAuth(scene["holder"], scene["token"])(prepared)
    sent = prepared.body if prepared.body is not None else b""
    assert isinstance(sent, bytes)
    assert prepared.headers.get("Content-Length") == str(len(sent)) and "Transfer-Encoding" not in prepared.headers
    headers = [("Host", HOST), *prepared.headers.items()]
    assert decide_on(scene, "POST", prepared.path_url, headers, sent).allowed


def test_auth_classes_check_their_arguments(scene: dict[str, Any]) -> None:
    for auth in (HttpxAuth, RequestsAuth):
        with pytest.raises(TypeError):
            auth("key", scene["token"])  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            auth(scene["holder"], b"token")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="profile"):
            auth(scene["holder"], scene["token"], profile="jwt")  # type: ignore[arg-type]
        assert scene["token"] not in repr(auth(scene["holder"], scene["token"]))


def test_wsgi_refusal_to_head_has_no_content(scene: dict[str, Any]) -> None:
    middleware = wsgi.TrustcoreMiddleware(lambda e, s: [b""], verifier=verifier(scene), policy=scene["policy"])
    status, headers, body = wsgi_call(middleware, wsgi_environ("/health", REQUEST_METHOD="HEAD"))
    assert status == "403 Forbidden" and body == b"" and int(dict(headers)["Content-Length"]) > 0


def test_import_trustcore_imports_no_framework() -> None:
    import subprocess
    import sys

    code = (
        "import sys, trustcore, trustcore.wsgi; "
        "print(sorted(m for m in ('anyio', 'fastapi', 'flask', 'httpx', 'requests', 'starlette') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert run.stdout.strip() == "[]"
