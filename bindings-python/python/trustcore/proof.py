"""The canonical request and the per-request proof of possession (trust-core 0.1's
``trust_core.proof``).

A holder signs ``METHOD \\n PATH \\n hex(sha256(BODY)) \\n TIMESTAMP \\n NONCE`` with its own key on
every request; the verifier recomputes it. The proof says "the holder of the bound key signed
this request", nothing more: capabilities come from the issuer's token only.

The value objects are frozen dataclasses, exactly as in trust-core 0.1 (equality, hashing,
``dataclasses.replace``, pickling); the work is done by the Rust core.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from . import _trustcore as _native
from .errors import TrustError  # noqa: F401  (importable from here in trust-core 0.1)
from .keys import WorkerKey


class SupportsItems(Protocol):
    """A dict, or any headers / query object with ``.items()`` yielding (name, value) pairs."""

    def items(self) -> Iterable[tuple[str, str]]: ...


@dataclass(frozen=True)
class RequestParts:
    """One request as the proof binds it: its verb, route (with query string) and exact body."""

    method: str
    path: str
    body: bytes

    def canonical(self, *, timestamp: str, nonce: str) -> bytes:
        """The exact bytes the holder signs and the verifier re-derives. A part holding CR or LF
        is MALFORMED_INPUT (two requests could otherwise sign alike)."""
        return _native.canonical_request(self.method, self.path, self.body, timestamp, nonce)


@dataclass(frozen=True)
class WorkerProof:
    """What a holder attaches to a request: the token (base64), its signature over the canonical
    request (hex), the timestamp and the nonce, all as sent. ``repr`` leaves the token out: it is
    half a credential, and reprs end up in logs."""

    token: str = field(repr=False)
    signature: str
    timestamp: str
    nonce: str

    def headers(self) -> dict[str, str]:
        """The HTTP headers carrying this proof (read back by :func:`proof_from_headers`)."""
        return dict(_native.proof_headers(self.token, self.signature, self.timestamp, self.nonce))

    def query(self) -> dict[str, str]:
        """The query parameters carrying this proof (read back by :func:`proof_from_query`)."""
        return dict(_native.proof_query(self.token, self.signature, self.timestamp, self.nonce))


def _require(value: object, cls: type, name: str) -> None:
    if not isinstance(value, cls):
        raise TypeError(f"{name} must be a {cls.__name__}, not {type(value).__name__}")


def make_proof(
    worker: WorkerKey, token: str, request: RequestParts, *, timestamp: str, nonce: str
) -> WorkerProof:
    """Sign ``request`` with the holder's key. The caller picks ``timestamp`` and ``nonce``, so
    what is signed is provably what is sent."""
    _require(request, RequestParts, "request")
    return WorkerProof(
        *_native.make_proof(worker, token, request.method, request.path, request.body, timestamp, nonce)
    )


def proof_from_headers(headers: SupportsItems) -> WorkerProof:
    """Read a proof from request headers (a dict, or any object with ``.items()`` such as
    Starlette's or Werkzeug's headers). Names match in any case, values are trimmed; a missing,
    blank or repeated header, or a scheme other than ``Biscuit``, is MALFORMED_INPUT."""
    return WorkerProof(*_native.proof_from_headers(headers))


def proof_from_query(query: SupportsItems) -> WorkerProof:
    """Read a proof from query parameters ``token``, ``sig``, ``ts``, ``nonce`` (for clients that
    cannot set headers, such as an ``<audio>`` element)."""
    return WorkerProof(*_native.proof_from_query(query))


__all__ = [
    "RequestParts",
    "SupportsItems",
    "WorkerProof",
    "make_proof",
    "proof_from_headers",
    "proof_from_query",
]
