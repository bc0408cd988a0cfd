"""Mint a token, authenticate a request, authorize it, sign jobs (trust-core 0.1's
``trust_core.engine``), plus token inspection and the general authorizer.

Everything fails closed with a :class:`~trustcore.errors.TrustError` subclass. Signature checks
and authorization run in Rust without the GIL, so threads verify in parallel.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass

from . import _trustcore as _native
from ._trustcore import (
    Limits,
    Token,
    authorize,
    check_policy,
    constant_time_equal,
    is_hex_key,
    mint_biscuit,
    parse_token,
    sign_job,
    verify_job,
)
from .errors import TrustError  # noqa: F401  (importable from here in trust-core 0.1)
from .keys import IssuerKey  # noqa: F401
from .proof import RequestParts, WorkerProof

#: The issuer key(s) a verifier trusts: one public key as hex, or ``{root_key_id: public_hex}``
#: when several are trusted during a key rotation.
IssuerPublicKeys = str | Mapping[int, str]


@dataclass(frozen=True)
class VerifiedIdentity:
    """Who made an authenticated request: the holder id, the bound public key the proof verified
    against, and the revocation id. Identifiers, never capabilities: :func:`check_policy` decides
    what the holder may do."""

    holder_id: str
    holder_public_hex: str
    revocation_id: str


def authenticate(
    issuer_public_hex: IssuerPublicKeys,
    proof: WorkerProof,
    request: RequestParts,
    *,
    now: float,
    revoked_ids: Container[str] | Iterable[str],
    max_skew_seconds: float,
    limits: Limits | None = None,
) -> tuple[Token, VerifiedIdentity]:
    """Authenticate one request and return ``(token, identity)``; authorize it next with
    :func:`check_policy`.

    In order, cheapest first: the token's size against ``limits.max_token_bytes``
    (LIMIT_EXCEEDED), its signatures against the issuer key (TOKEN_INVALID), exactly one bound
    holder key and revocation id (TOKEN_UNBOUND), the deny-list against the token's revocation ids
    (REVOKED), the timestamp within ``max_skew_seconds`` of ``now`` (MALFORMED_INPUT,
    STALE_REQUEST), the issuer's expiry (TOKEN_INVALID), and the holder's signature over this
    request (POP_FAILED). The identity and expiry are read from the issuer's block: none of the
    token's Datalog runs here (it runs, within ``limits``, in :func:`check_policy`).
    ``revoked_ids`` is any container of ids (a set, or your own store with ``__contains__``):

    - an exact ``set``, ``frozenset``, ``list`` or ``tuple``, and any iterable without a
      ``__contains__`` of its own (an iterator, a generator, a ``map``), is read once, before any
      check; each entry must be a ``str`` (anything else, bytes included, is a :class:`TypeError`)
      and is taken in its one spelling (hex in upper case is the same id; surrounding spaces, a
      ``0x`` prefix or an empty id are :class:`~trustcore.errors.MalformedInput`);
    - any other object with its own ``__contains__`` (a subclass of a built-in container, a dict,
      your store) is asked ``id in revoked_ids``, never copied, with each id in its canonical
      spelling (block ids in lower-case hex): it should hold them so. An exception it raises is
      raised as is; the token never passes.
    """
    if not isinstance(proof, WorkerProof):
        raise TypeError(f"proof must be a WorkerProof, not {type(proof).__name__}")
    if not isinstance(request, RequestParts):
        raise TypeError(f"request must be a RequestParts, not {type(request).__name__}")
    token, holder_id, holder_public_hex, revocation_id = _native.authenticate(
        issuer_public_hex,
        proof.token,
        proof.signature,
        proof.timestamp,
        proof.nonce,
        request.method,
        request.path,
        request.body,
        now,
        revoked_ids,
        max_skew_seconds,
        limits,
    )
    return token, VerifiedIdentity(holder_id, holder_public_hex, revocation_id)


__all__ = [
    "IssuerPublicKeys",
    "Limits",
    "Token",
    "VerifiedIdentity",
    "authenticate",
    "authorize",
    "check_policy",
    "constant_time_equal",
    "is_hex_key",
    "mint_biscuit",
    "parse_token",
    "sign_job",
    "verify_job",
]
