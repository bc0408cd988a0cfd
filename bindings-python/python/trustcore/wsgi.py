"""WSGI middleware: every request decided by :meth:`Verifier.decide <trustcore.Verifier.decide>` before
the app sees it (Flask, Django, any WSGI app). ``pip install 'trustcore[wsgi]'`` (no dependency).

::

    app.wsgi_app = TrustcoreMiddleware(app.wsgi_app, verifier=verifier, policy=policy)   # Flask
    application = TrustcoreMiddleware(get_wsgi_application(), verifier=verifier, policy=policy)

The middleware converts and nothing more; every rule, status and header is core's
(docs/DESIGN.md §10):

- **the target** is the request line's, as sent: ``environ["RAW_URI"]`` (gunicorn, Werkzeug's
  server) or else ``environ["REQUEST_URI"]`` (waitress, uWSGI, mod_wsgi, Werkzeug's server).
  ``PATH_INFO`` and ``QUERY_STRING`` are percent-decoded and cannot be turned back into the bytes
  that were signed, so a server that gives neither (``wsgiref``) is refused: the request raises
  ``RuntimeError`` and the server answers 500;
- **the headers** are rebuilt from the ``HTTP_*`` keys plus ``CONTENT_TYPE`` and
  ``CONTENT_LENGTH``. WSGI loses what RFC 9421 may need: a name sent twice reaches the app as one
  value joined by the server (gunicorn joins with ``,``, core with ``, ``), so a request whose
  signed fields (``Authorization``, ``Content-Digest``, ``Signature*``) came on several lines
  fails verification here, and servers drop or merge names written with ``_``. That fails closed
  (401), and trustcore's own clients send each of those fields once. Use ASGI where every line
  must reach core as sent;
- **the body** is read once from ``wsgi.input``, bounded by the policy's ``max_body_bytes``: a
  ``CONTENT_LENGTH`` over it is refused (413, core's
  :meth:`~trustcore.HttpPolicy.body_length_refusal`) before anything is read; without one, a body is
  read only when the server marks ``wsgi.input_terminated`` (chunked), and no further than just
  past the cap. The app gets the same bytes as a new ``wsgi.input`` (and ``CONTENT_LENGTH`` when
  there was none). Note that some servers (waitress) buffer the whole body themselves before
  calling the app; gunicorn streams it;
- **a refusal** is answered exactly as decided (status, headers, JSON body, plus its
  ``Content-Length``); the app is not called;
- **an allowed request** reaches the app with its :class:`~trustcore.http.Decision` in
  ``environ["trustcore"]``: ``identity`` (``None`` on a public route), ``facts``, ``route``,
  ``profile``.

The decision runs in the calling thread, without the GIL: a threaded server's other requests go on
meanwhile.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from http import HTTPStatus
from types import TracebackType
from typing import IO, Any, Protocol, TypeAlias

from . import _middleware
from .http import Decision, HttpPolicy
from .verifier import Verifier

ExcInfo: TypeAlias = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


class StartResponse(Protocol):
    """PEP 3333's ``start_response``."""

    def __call__(
        self, status: str, headers: list[tuple[str, str]], exc_info: ExcInfo | None = ..., /
    ) -> Callable[[bytes], object]: ...


#: A WSGI environ and application (PEP 3333), typed here so that this module imports nothing.
Environ = dict[str, Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

#: The environ key holding an allowed request's :class:`~trustcore.http.Decision`.
ENVIRON_KEY = _middleware.KEY

#: The size of one read from ``wsgi.input``.
READ_CHUNK = 65536


class TrustcoreMiddleware:
    """Decide every request with ``verifier`` under ``policy`` before ``app`` sees it (see the
    module's documentation). ``verifier`` is a :class:`~trustcore.Verifier` told this service's
    ``authorities``; ``policy`` an :class:`~trustcore.HttpPolicy`."""

    __slots__ = ("_cap", "app", "policy", "verifier")

    def __init__(self, app: WSGIApp, *, verifier: Verifier, policy: HttpPolicy) -> None:
        _middleware.check_arguments(verifier, policy)
        self.app = app
        self.verifier = verifier
        self.policy = policy
        self._cap = policy.max_body_bytes  # fixed for the policy's life

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        method: str = environ["REQUEST_METHOD"]
        target = _target(environ)
        headers = _headers(environ)
        cap = self._cap
        announced = _middleware.announced_length(environ.get("CONTENT_LENGTH"))
        refusal = None if announced is None else self.policy.body_length_refusal(announced)
        if refusal is not None:
            return _answer(start_response, refusal, method)
        stream: IO[bytes] = environ["wsgi.input"]
        if announced is not None:
            body = _read(stream, announced, cap)
        elif environ.get("wsgi.input_terminated"):
            body = _read(stream, None, cap)
        else:
            body = b""  # PEP 3333: no CONTENT_LENGTH, nothing to read
        decision = self.verifier.decide(method, target, headers, body, policy=self.policy)
        if not decision.allowed:
            return _answer(start_response, decision, method)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["wsgi.input_terminated"] = True
        if announced is None and body:
            environ["CONTENT_LENGTH"] = str(len(body))
        environ[ENVIRON_KEY] = decision
        return self.app(environ, start_response)


def _target(environ: Environ) -> str:
    for name in ("RAW_URI", "REQUEST_URI"):
        target = environ.get(name)
        if isinstance(target, str) and target:
            return target
    raise RuntimeError(
        "trustcore.wsgi: the WSGI server gave neither RAW_URI nor REQUEST_URI; the request target as "
        "sent is what is verified, and PATH_INFO/QUERY_STRING (percent-decoded) cannot stand in for "
        "it: refused (serve with gunicorn, waitress, uWSGI, mod_wsgi or Werkzeug)"
    )


def _headers(environ: Environ) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    for key, value in environ.items():
        if key.startswith("HTTP_") and isinstance(value, str):
            headers.append((key[5:].replace("_", "-"), value))
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and isinstance(value, str) and value:
            headers.append((key.replace("_", "-"), value))
    return headers


def _read(stream: IO[bytes], length: int | None, cap: int) -> bytes:
    """``length`` bytes, or without a length up to the end but no more than ``cap + 1`` bytes: core
    refuses a body over the cap (413), and the rest is not worth reading."""
    chunks: list[bytes] = []
    size = 0
    end = cap + 1 if length is None else length  # length <= cap: the caller refused more
    while size < end:
        chunk = stream.read(min(READ_CHUNK, end - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _answer(start_response: StartResponse, decision: Decision, method: str) -> list[bytes]:
    body = _middleware.response_body(decision)
    status = HTTPStatus(decision.status)
    start_response(f"{status.value} {status.phrase}", [*decision.headers, ("Content-Length", str(len(body)))])
    return [] if method == "HEAD" else [body]  # a response to HEAD has no content (RFC 9110 §9.3.2)


__all__ = ["ENVIRON_KEY", "TrustcoreMiddleware"]
