"""The two Ed25519 identities: :class:`IssuerKey` (mints tokens, signs jobs) and
:class:`WorkerKey` (a holder's proof-of-possession key).

Both hold a 32-byte seed inside Rust, where it is wiped on drop. It leaves only through ``seed``
and ``secret_hex``, as in trust-core 0.1; ``repr`` shows the public key only. Keys are immutable,
compare equal when their seeds are equal, hash, and pickle (carrying the seed, as trust-core
0.1's dataclasses did).
"""

from __future__ import annotations

from ._trustcore import IssuerKey, WorkerKey
from .errors import TrustError  # noqa: F401  (importable from here in trust-core 0.1)

__all__ = ["IssuerKey", "WorkerKey"]
