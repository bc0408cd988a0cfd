"""Sign httpx requests: :class:`TrustcoreAuth`, an ``httpx.Auth`` for ``httpx.Client`` and
``httpx.AsyncClient``. ``pip install 'trustcore[httpx]'``.

::

    client = httpx.Client(auth=TrustcoreAuth(holder_key, token))           # RFC 9421 by default
    client.post("https://api.example.com/lease/a", content=b'{"episode":"e1"}')

Each request is signed as httpx will send it, with :func:`trustcore.http.sign_request`: its method,
the request target httpx writes on the request line (``request.url.raw_path``, path and query
already percent-encoded), its ``Host`` header, and its body. A streamed body (an iterator, a file)
is read into memory first (``requires_request_body``), as a signature over a body needs the body;
httpx then sends those bytes, framed as it would have. A fresh ``created`` and nonce are made for
every request, so a request httpx retries or redirects is signed anew: httpx runs the auth flow
again for every redirect it follows (``follow_redirects=True``), each for its own authority (RFC
9421 covers it, the legacy profile does not: follow redirects only to hosts you trust with it).
"""

from __future__ import annotations

from collections.abc import Generator

import httpx

from .http import PROFILES, Profile, sign_request
from .keys import WorkerKey


class TrustcoreAuth(httpx.Auth):
    """Sign each request with the holder's ``key`` and its ``token``: ``profile="rfc9421"`` (an
    RFC 9421 HTTP Message Signature and ``Content-Digest``, the default) or ``"legacy"``
    (trust-core 0.1's ``X-EP-*`` headers). The headers it adds replace any of the same name."""

    requires_request_body = True

    def __init__(self, key: WorkerKey, token: str, profile: Profile = "rfc9421") -> None:
        if not isinstance(key, WorkerKey):
            raise TypeError(f"key must be a trustcore.WorkerKey, not {type(key).__name__}")
        if not isinstance(token, str):
            raise TypeError(f"token must be a str, not {type(token).__name__}")
        if profile not in PROFILES:
            raise ValueError(f"profile must be one of {', '.join(PROFILES)}, not {profile!r}")
        self._key = key
        self._token = token
        self._profile: Profile = profile

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        yield request

    def sign(self, request: httpx.Request) -> None:
        """Add the signing headers to ``request`` (its body must have been read: the flows do it)."""
        added = sign_request(
            self._key,
            self._token,
            request.method,
            request.url.raw_path.decode("ascii"),
            headers=[("Host", request.headers["Host"])],
            body=request.content,
            profile=self._profile,
        )
        for name, value in added.items():
            request.headers[name] = value

    def __repr__(self) -> str:
        return f"TrustcoreAuth(key={self._key!r}, profile={self._profile!r})"


__all__ = ["TrustcoreAuth"]
