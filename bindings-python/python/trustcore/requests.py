"""Sign requests' requests: :class:`TrustcoreAuth`, a ``requests.auth.AuthBase``.
``pip install 'trustcore[requests]'``.

::

    session = requests.Session()
    session.auth = TrustcoreAuth(holder_key, token)                    # RFC 9421 by default
    session.post("https://api.example.com/lease/a", data=b'{"episode":"e1"}')

Each prepared request is signed as it will be sent, with :func:`trustcore.http.sign_request`: its
method, its request target (``PreparedRequest.path_url``, path and query as requests encoded them),
the ``Host`` the connection writes (the URL's host, lower-cased, with its port unless it is the
scheme's default; or a ``Host`` header you set), and its body. A body that is not bytes (a str,
which is sent as Latin-1; a file; an iterator of chunks) is read into bytes first, and the request
then sends those bytes with their ``Content-Length``. requests does not call an auth object again on
a redirect, so a redirected request carries no new proof: the server refuses it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
from requests.auth import AuthBase

from .http import PROFILES, Profile, sign_request
from .keys import WorkerKey

#: The port a scheme's URL implies.
DEFAULT_PORTS = {"http": 80, "https": 443}


class TrustcoreAuth(AuthBase):
    """Sign each request with the holder's ``key`` and its ``token``: ``profile="rfc9421"`` (an
    RFC 9421 HTTP Message Signature and ``Content-Digest``, the default) or ``"legacy"``
    (trust-core 0.1's ``X-EP-*`` headers). The headers it adds replace any of the same name."""

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

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if request.url is None or request.method is None:
            raise ValueError("the request is not prepared (no URL or method)")
        body = _body(request)
        host = request.headers.get("Host") or _host(request.url)
        added = sign_request(
            self._key,
            self._token,
            request.method,
            request.path_url,
            headers=[("Host", host)],
            body=body,
            profile=self._profile,
        )
        request.headers.update(added)
        return request

    def __repr__(self) -> str:
        return f"TrustcoreAuth(key={self._key!r}, profile={self._profile!r})"


def _body(request: requests.PreparedRequest) -> bytes:
    """The bytes the request will send; a body of another kind is replaced by those bytes."""
    body = request.body
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, bytearray):
        data = bytes(body)
    elif isinstance(body, str):
        data = body.encode("latin-1")  # what http.client sends for a str body
    elif hasattr(body, "read"):
        data = body.read()
        if isinstance(data, str):
            data = data.encode("utf-8")
    else:
        data = b"".join(chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk) for chunk in body)
    request.body = data
    request.headers.pop("Transfer-Encoding", None)
    request.headers["Content-Length"] = str(len(data))
    return data


def _host(url: str) -> str:
    """The ``Host`` line http.client writes for ``url``."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise ValueError(f"no host in {url!r}")
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is None or port == DEFAULT_PORTS.get(parts.scheme.lower()):
        return host
    return f"{host}:{port}"


__all__ = ["TrustcoreAuth"]
