"""The HTTP matrix's Python server (tests/http-matrix/README.md): a tiny app behind trustcore's
middleware, on a real server, per TRUSTCORE_MATRIX_FRAMEWORK:

- ``starlette`` (the default): a Starlette app under uvicorn, behind ``trustcore.asgi.TrustcoreMiddleware``;
- ``fastapi``: a FastAPI app under uvicorn, the same middleware, the holder handed to the path
  operations by ``trustcore.fastapi``'s dependencies;
- ``wsgi``: a Flask app under gunicorn (one gthread worker; RAW_URI, the body streamed), behind
  ``trustcore.wsgi.TrustcoreMiddleware``.

Binds 127.0.0.1:0, prints ``LISTENING <port>`` once the socket listens and the Verifier (authorities
``127.0.0.1:<port>``, stores in memory or on TRUSTCORE_MATRIX_REDIS_URL) is made, and serves until
SIGTERM. Every allowed request is answered 200 with ``{"holder_id", "body_hex", "route"}``.

With TRUSTCORE_MATRIX_PLAIN=1 (the HTTP bench's baseline, bench/README.md) the same app is served
without trustcore: no middleware, every request answered 200, ``holder_id`` and ``route`` null.
"""

# no `from __future__ import annotations`: FastAPI reads the path operations' annotations, which
# name classes imported inside the functions below (each framework is imported only when served)
import os
import socket
import sys
from typing import Any

import trustcore
from trustcore.http import Decision

FRAMEWORKS = ("starlette", "fastapi", "wsgi")


def plain() -> bool:
    """The bench's baseline: the same app, no middleware (TRUSTCORE_MATRIX_PLAIN=1)."""
    return os.environ.get("TRUSTCORE_MATRIX_PLAIN") == "1"


def verifier(port: int) -> trustcore.Verifier:
    return trustcore.Verifier(
        os.environ["TRUSTCORE_MATRIX_ISSUER_PUBLIC"],
        authorities=[f"127.0.0.1:{port}"],
        redis=os.environ.get("TRUSTCORE_MATRIX_REDIS_URL") or None,
        max_skew_seconds=float(skew) if (skew := os.environ.get("TRUSTCORE_MATRIX_MAX_SKEW_SECONDS")) else None,
    )


def policy() -> trustcore.HttpPolicy:
    return trustcore.HttpPolicy.from_file(os.environ["TRUSTCORE_MATRIX_POLICY"])


def answer(decision: Decision | None, body: bytes) -> dict[str, Any]:
    """What the app answers: who (None on a public route), the exact body it received, the route
    (no decision: served without the middleware, TRUSTCORE_MATRIX_PLAIN=1)."""
    holder = decision.identity.holder_id if decision is not None and decision.identity is not None else None
    return {"holder_id": holder, "body_hex": body.hex(), "route": decision.route if decision is not None else None}


def listening(port: int) -> None:
    print(f"LISTENING {port}", flush=True)


def starlette_app(port: int) -> Any:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from trustcore.asgi import TrustcoreMiddleware

    async def endpoint(request: Request) -> JSONResponse:
        return JSONResponse(answer(request.scope.get("trustcore"), await request.body()))

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    return Starlette(
        routes=[Route("/{rest:path}", endpoint, methods=methods)],
        middleware=[] if plain() else [Middleware(TrustcoreMiddleware, verifier=verifier(port), policy=policy())],
    )


def fastapi_app(port: int) -> Any:
    from fastapi import Depends, FastAPI, Request

    from trustcore.asgi import TrustcoreMiddleware
    from trustcore.fastapi import require, verified_identity

    app = FastAPI()
    public = require(identity=False)
    if plain():  # the same path operations, their dependencies handing over nothing
        app.dependency_overrides[verified_identity] = lambda: None
        app.dependency_overrides[public] = lambda: None
    else:
        app.add_middleware(TrustcoreMiddleware, verifier=verifier(port), policy=policy())

    @app.post("/lease/{lane}")
    async def lease(request: Request, who: trustcore.VerifiedIdentity = Depends(verified_identity)) -> dict[str, Any]:
        body = await request.body()  # the holder, from the dependency; the rest from the decision
        return {**answer(request.scope.get("trustcore"), body), "holder_id": who.holder_id if who else None}

    @app.api_route("/{rest:path}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
    async def anything(request: Request, decision: Decision = Depends(public)) -> dict[str, Any]:
        return answer(decision, await request.body())

    return app


def serve_asgi(framework: str) -> None:
    import uvicorn

    # IPPROTO_TCP named, not 0: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and
    # without it a keep-alive connection waits out the client's delayed ACK (~40 ms) per response
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    app = starlette_app(port) if framework == "starlette" else fastapi_app(port)
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=1)
    listening(port)
    uvicorn.Server(config).run(sockets=[sock])


def flask_app(port: int) -> Any:
    from flask import Flask, request

    from trustcore.wsgi import TrustcoreMiddleware

    app = Flask(__name__)
    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    @app.route("/", defaults={"rest": ""}, methods=methods)
    @app.route("/<path:rest>", methods=methods)
    def anything(rest: str) -> dict[str, Any]:
        return answer(request.environ.get("trustcore"), request.get_data())

    if not plain():
        app.wsgi_app = TrustcoreMiddleware(app.wsgi_app, verifier=verifier(port), policy=policy())  # type: ignore[method-assign]
    return app


def serve_wsgi() -> None:
    from gunicorn.app.base import BaseApplication

    state: dict[str, int] = {}

    def when_ready(server: Any) -> None:  # in the arbiter, once it listens, before any worker
        state["port"] = server.LISTENERS[0].sock.getsockname()[1]
        listening(state["port"])

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            settings = {
                "bind": "127.0.0.1:0",
                "workers": 1,
                "worker_class": "gthread",
                "threads": 8,
                "graceful_timeout": 1,
                "loglevel": "warning",
                "when_ready": when_ready,
            }
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self) -> Any:  # in the worker, after the fork: the Verifier is the worker's own
            return flask_app(state["port"])

    Server().run()


def main() -> None:
    framework = os.environ.get("TRUSTCORE_MATRIX_FRAMEWORK") or "starlette"
    if framework not in FRAMEWORKS:
        sys.exit(f"server.py: TRUSTCORE_MATRIX_FRAMEWORK must be one of {', '.join(FRAMEWORKS)}, not {framework!r}")
    if framework == "wsgi":
        serve_wsgi()
    else:
        serve_asgi(framework)


if __name__ == "__main__":
    main()
