"""The stateful :class:`Verifier`: what a service keeps for its lifetime.

It holds the issuer key(s), the allowed skew, the authorizer limits, a replay store (a
(holder, nonce) pair is accepted once inside the window: REPLAYED), a revocation store, and a cache
of verified tokens keyed by the token's hash, so a holder's repeated requests pay one signature
check (the proof of possession) instead of two. Stores are in memory; everything runs in Rust
without the GIL. The stateless :func:`~trustcore.authenticate` of trust-core 0.1 stays as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from . import _trustcore as _native
from .engine import IssuerPublicKeys, Limits, Token, VerifiedIdentity
from .proof import RequestParts, SupportsItems, WorkerProof


class Verifier:
    """A verifier for one service. Thread-safe: share one instance between threads.

    Settings left as ``None`` keep the core's defaults (a 300 s skew, 100 000 remembered nonces,
    the default :class:`Limits`); the cache keeps the core's 10 000 tokens.
    """

    __slots__ = ("_native",)

    def __init__(
        self,
        issuer_public_hex: IssuerPublicKeys,
        *,
        max_skew_seconds: float | None = None,
        limits: Limits | None = None,
        replay_capacity: int | None = None,
        revoked_ids: Iterable[str] | None = None,
    ) -> None:
        self._native = _native.NativeVerifier(
            issuer_public_hex,
            max_skew_seconds=max_skew_seconds,
            limits=limits,
            replay_capacity=replay_capacity,
            revoked_ids=revoked_ids,
        )

    def authenticate(
        self, proof: WorkerProof, request: RequestParts, *, now: float | None = None
    ) -> tuple[Token, VerifiedIdentity]:
        """As :func:`trustcore.authenticate`, with the cached token, this verifier's revocation
        store, and the replay check last (REPLAYED). ``now`` defaults to the system clock."""
        if not isinstance(proof, WorkerProof):
            raise TypeError(f"proof must be a WorkerProof, not {type(proof).__name__}")
        if not isinstance(request, RequestParts):
            raise TypeError(f"request must be a RequestParts, not {type(request).__name__}")
        token, holder_id, holder_public_hex, revocation_id = self._native.authenticate(
            proof.token,
            proof.signature,
            proof.timestamp,
            proof.nonce,
            request.method,
            request.path,
            request.body,
            now,
        )
        return token, VerifiedIdentity(holder_id, holder_public_hex, revocation_id)

    def check_policy(
        self,
        token: Token,
        *,
        request_facts: Mapping[str, str] | SupportsItems,
        allow: str,
        now: float | None = None,
    ) -> None:
        """:func:`trustcore.check_policy` with this verifier's limits."""
        self._native.check_policy(token, request_facts, allow, now)

    def authorize(
        self, token: Token, datalog: str, now: float | None = None, *, extern_functions: Iterable[str] | None = None
    ) -> int:
        """:func:`trustcore.authorize` with this verifier's limits (``now`` defaults to the clock)."""
        return self._native.authorize(token, datalog, now, extern_functions)

    def revoke(self, revocation_id: str) -> None:
        """Refuse this id (an app revocation id, or a block's revocation id in hex) from now on."""
        self._native.revoke(revocation_id)

    def cache_stats(self) -> tuple[int, int]:
        """``(hits, misses)`` of the token cache."""
        return self._native.cache_stats()

    def __repr__(self) -> str:
        return repr(self._native)


__all__ = ["Verifier"]
