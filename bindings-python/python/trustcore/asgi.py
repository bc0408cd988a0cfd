"""ASGI middleware: every HTTP request decided by :meth:`Verifier.decide <trustcore.Verifier.decide>`
before the app sees it (Starlette, FastAPI, Quart, any ASGI 3 app). ``pip install 'trustcore[asgi]'``.

::

    app = TrustcoreMiddleware(app, verifier=verifier, policy=HttpPolicy.from_file("routes.json"))
    # Starlette / FastAPI: app.add_middleware(TrustcoreMiddleware, verifier=verifier, policy=policy)

The middleware converts and nothing more; every rule, status and header is core's
(docs/DESIGN.md §10):

- **the request core decides on** is the one the client sent: the method, the raw target
  (``scope["raw_path"]``, plus ``?`` and ``scope["query_string"]`` when there is a query: never
  ``scope["path"]``, which the server has percent-decoded), the header lines of ``scope["headers"]``
  in order with a name sent twice kept twice (bytes read as Latin-1, one character per byte), and
  the body. A server that gives no ``raw_path`` (it is optional in the ASGI spec; uvicorn and
  hypercorn give it) is refused: the request raises ``RuntimeError`` and the server answers 500,
  rather than the path being re-encoded;
- **the body** is read once, bounded by the policy's ``max_body_bytes``: a ``Content-Length`` over
  it is refused (413, core's :meth:`~trustcore.HttpPolicy.body_length_refusal`) without reading
  anything; a body without one (chunked) is read until it is complete or past the cap, and no
  further. The same bytes are replayed to the app's ``receive``; after them, ``receive`` is the
  server's again (``http.disconnect``);
- **the decision** runs where it costs least without ever blocking the event loop on the network
  (core's :attr:`Verifier.may_wait_on_network <trustcore.Verifier.may_wait_on_network>`): with
  the stores on Redis in a worker thread (``anyio.to_thread.run_sync``; core releases the GIL), so
  the loop keeps serving while Redis answers or times out; with the stores in memory inline on
  the loop (CPU only, tens of µs: less than the thread hop would cost);
- **a refusal** is sent exactly as decided (status, headers, JSON body, plus its
  ``content-length``); the app is not called;
- **an allowed request** reaches the app with its :class:`~trustcore.http.Decision` in
  ``scope["trustcore"]`` (a copy of the scope): ``identity`` (``None`` on a public route),
  ``facts``, ``route``, ``profile``.

Other scopes: ``lifespan`` passes through. ``websocket`` is **refused** (fail closed): a
handshake carries no body to digest and browsers cannot sign it, so no websocket route is
protected; the middleware closes it before accepting (code 1008), which servers answer with HTTP
403. Mount websocket endpoints outside the middleware if they authenticate otherwise. Any other
scope type raises ``RuntimeError``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from functools import partial
from typing import Any

import anyio.to_thread

from . import _middleware
from .http import Decision, HttpPolicy
from .verifier import Verifier

#: An ASGI scope, message, ``receive``, ``send`` and application (ASGI 3), typed here so that this
#: module imports no framework.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The scope key holding an allowed request's :class:`~trustcore.http.Decision`.
SCOPE_KEY = _middleware.KEY

#: The close code a refused websocket gets (RFC 6455 §7.4.1: policy violation).
WEBSOCKET_CLOSE_CODE = 1008


class TrustcoreMiddleware:
    """Decide every HTTP request with ``verifier`` under ``policy`` before ``app`` sees it (see the
    module's documentation). ``verifier`` is a :class:`~trustcore.Verifier` told this service's
    ``authorities``; ``policy`` an :class:`~trustcore.HttpPolicy`."""

    __slots__ = ("_cap", "_inline", "app", "policy", "verifier")

    def __init__(self, app: ASGIApp, *, verifier: Verifier, policy: HttpPolicy) -> None:
        _middleware.check_arguments(verifier, policy)
        self.app = app
        self.verifier = verifier
        self.policy = policy
        # both fixed for the verifier's and the policy's life
        self._cap = policy.max_body_bytes
        self._inline = not verifier.may_wait_on_network

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self.app(scope, receive, send)
        elif kind == "websocket":
            await _refuse_websocket(receive, send)
        else:
            raise RuntimeError(f"trustcore.asgi: ASGI scope type {kind!r} is not protected: refused")

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        target = _target(scope)
        raw_headers = scope["headers"]
        refusal = _middleware.announced_refusal(self.policy, _content_length(raw_headers))
        if refusal is not None:
            await _answer(send, refusal)
            return
        body = await _read_body(receive, self._cap)
        if body is None:  # the client left before its body arrived: nobody to answer
            return
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw_headers]
        if self._inline:
            decision = self.verifier.decide(method, target, headers, body, policy=self.policy)
        else:
            decide = partial(self.verifier.decide, policy=self.policy)
            decision = await anyio.to_thread.run_sync(decide, method, target, headers, body)
        if not decision.allowed:
            await _answer(send, decision)
            return
        await self.app({**scope, SCOPE_KEY: decision}, _replay(body, receive), send)


def _target(scope: Scope) -> str:
    raw_path = scope.get("raw_path")
    if not isinstance(raw_path, bytes | bytearray) or not raw_path:
        raise RuntimeError(
            "trustcore.asgi: the ASGI server gave no raw_path; the request target as sent is what is "
            "verified, and scope['path'] (percent-decoded) cannot stand in for it: refused"
        )
    target = bytes(raw_path).decode("latin-1")
    query = scope.get("query_string") or b""
    return f"{target}?{bytes(query).decode('latin-1')}" if query else target


def _content_length(headers: Iterable[tuple[bytes, bytes]]) -> bytes | None:
    for name, value in headers:
        if name.lower() == b"content-length":  # ASGI servers give names in lower case; not all do
            return bytes(value)
    return None


async def _read_body(receive: Receive, cap: int) -> bytes | None:
    """The request's body, complete, or cut just past ``cap`` (core then refuses it: 413); None if
    the client disconnected first."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        if chunk:
            chunks.append(bytes(chunk))
            size += len(chunk)
        if size > cap or not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the app the body read, whole, then is the server's ``receive``."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _answer(send: Send, decision: Decision) -> None:
    body = _middleware.response_body(decision)
    headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in decision.headers]
    headers.append((b"content-length", str(len(body)).encode("ascii")))
    await send({"type": "http.response.start", "status": decision.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _refuse_websocket(receive: Receive, send: Send) -> None:
    message = await receive()
    if message["type"] == "websocket.connect":
        await send({"type": "websocket.close", "code": WEBSOCKET_CLOSE_CODE})


__all__ = ["SCOPE_KEY", "TrustcoreMiddleware"]
