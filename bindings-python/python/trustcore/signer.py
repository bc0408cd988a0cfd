"""The client of the signer daemon (``trustcore signer serve``): the process that holds the issuer
key and mints tokens and signs jobs for the apps that ask it (docs/DESIGN.md §4).

A :class:`SignerClient` is the core's client: it connects lazily (the first request connects),
keeps a few connections open between requests and uses one again, retrying once on a fresh
connection when the signer closed an idle one (an idle timeout, a restart), and bounds every request
in time. A signer that cannot be reached, or does not answer in time, is
:class:`~trustcore.errors.SignerUnavailable`; what the signer refuses (its ``--max-ttl``,
``--allow-predicate``, ``--allow-uid``) is :class:`~trustcore.errors.SignerRefused`; bad
arguments are :class:`~trustcore.errors.MalformedInput`, as the signer's own checks say. Every
request runs in Rust without the GIL, and one client may be shared by many threads.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import _trustcore as _native

#: Where a signer listens: a Unix socket path (``"/run/trustcore/signer.sock"``, ``"unix:PATH"``,
#: or a path object), ``"tcp:127.0.0.1:PORT"``, or a loopback ``(ip, port)`` tuple.
SignerAddress = str | os.PathLike[str] | tuple[str, int]


@dataclass(frozen=True)
class MintedToken:
    """A token the signer minted: the token (URL-safe base64, for ``Authorization: Biscuit …``),
    its revocation id (the one asked for, or one the signer picked) and its expiry in whole seconds
    since the epoch. Its ``repr`` leaves the token out: it is half a credential."""

    token: str = field(repr=False)
    revocation_id: str
    expires_at: int


class SignerClient:
    """A client of one signer. Thread-safe: share one instance between threads.

    ``address`` is a Unix socket path: a ``str`` holding a ``/`` (``"./signer.sock"`` for a
    relative one), ``"unix:PATH"``, or a path object (:class:`pathlib.Path`); or loopback TCP:
    ``"tcp:IP:PORT"`` (or ``"IP:PORT"``) or an ``(ip, port)`` tuple. An IP that is not loopback, or
    a host name, is :class:`~trustcore.errors.MalformedInput` (frames are not encrypted).
    ``connect_timeout`` bounds opening a connection and ``request_timeout`` one request, from
    sending it to the whole answer (seconds, positive).
    """

    __slots__ = ("_native",)

    def __init__(
        self, address: SignerAddress, *, connect_timeout: float = 1.0, request_timeout: float = 5.0
    ) -> None:
        if isinstance(address, os.PathLike):
            path = os.fspath(address)
            if not isinstance(path, str):
                raise TypeError(f"address must be a str path, not {type(path).__name__}")
            address = "unix:" + path  # a path object is a path, whatever it looks like
        self._native = _native.NativeSignerClient(
            address, connect_timeout=connect_timeout, request_timeout=request_timeout
        )

    @property
    def address(self) -> str:
        """The address, as ``"unix:PATH"`` or ``"tcp:IP:PORT"``."""
        return self._native.address

    @property
    def connect_timeout(self) -> float:
        return self._native.connect_timeout

    @property
    def request_timeout(self) -> float:
        return self._native.request_timeout

    def public_key(self) -> tuple[str, int | None]:
        """``(public_hex, key_id)``: the issuer's public key and the signer's root key id (None when
        it has none): what a verifier pins."""
        return self._native.public_key()

    def mint(
        self,
        public_hex: str,
        holder_id: str,
        facts: Mapping[str, Iterable[str]],
        *,
        expires_at: float,
        revocation_id: str | None = None,
        delegation_depth: int = 0,
    ) -> MintedToken:
        """Ask the signer for a token binding the holder's key ``public_hex``, carrying ``facts``
        (predicate → values, as for :func:`~trustcore.mint_biscuit`) and expiring at
        ``expires_at`` (seconds since the epoch, cut to whole seconds). Without ``revocation_id``
        the signer picks a random one. The signer sets the root key id (its ``--key-id``).
        ``delegation_depth`` (default 0: not delegable) lets the holder :func:`~trustcore.delegate`
        it that many times; the signer mints it only up to its ``--max-delegation-depth``
        (default 0), else :class:`~trustcore.errors.SignerRefused`."""
        token, minted_revocation_id, minted_expires_at = self._native.mint(
            public_hex,
            holder_id,
            facts,
            expires_at=expires_at,
            revocation_id=revocation_id,
            delegation_depth=delegation_depth,
        )
        return MintedToken(token, minted_revocation_id, minted_expires_at)

    def sign_job(self, job: Mapping[str, Any], worker_id: str) -> str:
        """Ask the signer to sign ``job`` (its ``sig`` field left out) for ``worker_id``; returns
        the signature (hex) for ``job["sig"]``, as :func:`~trustcore.sign_job` makes it."""
        return self._native.sign_job(job, worker_id)

    def health(self) -> dict[str, Any]:
        """The signer's health report: ``status``, ``public_key``, ``key_id``, ``version`` and
        ``audit`` (its entry count and head hash, or None without an audit log)."""
        return self._native.health()

    def __repr__(self) -> str:
        return repr(self._native)


__all__ = ["MintedToken", "SignerAddress", "SignerClient"]
