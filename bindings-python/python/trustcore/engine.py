"""Mint a token, authenticate a request, authorize it, sign jobs (trust-core 0.1's
``trust_core.engine``), plus token inspection, the general authorizer and delegation
(:func:`delegate`).

Everything fails closed with a :class:`~trustcore.errors.TrustError` subclass. Signature checks
and authorization run in Rust without the GIL, so threads verify in parallel.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

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
from .keys import IssuerKey, WorkerKey  # noqa: F401  (IssuerKey: importable from here in trust-core 0.1)
from .proof import RequestParts, WorkerProof

#: The issuer key(s) a verifier trusts: one public key as hex, or ``{root_key_id: public_hex}``
#: when several are trusted during a key rotation.
IssuerPublicKeys = str | Mapping[int, str]


class Holder(NamedTuple):
    """One holder of a delegation chain: its id and its public key (hex). A tuple, so
    ``holder_id, holder_public_hex = holder`` works too."""

    holder_id: str
    holder_public_hex: str


@dataclass(frozen=True)
class VerifiedIdentity:
    """Who made an authenticated request: the holder id, the bound public key the proof verified
    against, and the revocation id (the issuer's). Identifiers, never capabilities:
    :func:`check_policy` decides what the holder may do.

    ``chain`` is every holder in order, each a :class:`Holder`: the one the issuer bound first,
    then each delegate (:func:`delegate`); the last is ``holder_id`` / ``holder_public_hex``, the
    key the proof came from. A token never delegated has one entry, and an identity built without
    a chain gets that one (pairs given are made into :class:`Holder` values)."""

    holder_id: str
    holder_public_hex: str
    revocation_id: str
    chain: tuple[Holder, ...] = ()

    def __post_init__(self) -> None:
        chain = tuple(Holder(*holder) for holder in self.chain)
        object.__setattr__(self, "chain", chain or (Holder(self.holder_id, self.holder_public_hex),))


_new_object = object.__new__
_new_tuple = tuple.__new__


def _identity(
    holder_id: str, holder_public_hex: str, revocation_id: str, chain: Iterable[tuple[str, str]]
) -> VerifiedIdentity:
    """The identity the native module gives as flat fields, the chain as pairs.

    Filled in directly, not through ``__init__``: a frozen dataclass sets each field through
    ``object.__setattr__`` and ``__post_init__`` makes the chain again, 1.9 us a request where this
    takes 0.5 (every authenticated request pays it). The fields are the ones ``__init__`` would
    set, the chain already :class:`Holder` values; the instance stays frozen."""
    identity = _new_object(VerifiedIdentity)
    fields = identity.__dict__
    fields["holder_id"] = holder_id
    fields["holder_public_hex"] = holder_public_hex
    fields["revocation_id"] = revocation_id
    chain = tuple([_new_tuple(Holder, holder) for holder in chain])
    fields["chain"] = chain or (_new_tuple(Holder, (holder_id, holder_public_hex)),)
    return identity


def delegate(
    token: str,
    holder_key: WorkerKey,
    to_public_hex: str,
    to_holder_id: str,
    checks: str = "",
    *,
    expires_at: float,
) -> str:
    """Delegate ``token`` to another holder's key, offline: the token with one more block, a Biscuit
    third-party block signed by ``holder_key`` (the token's current holder) that names the next
    holder's key ``to_public_hex`` and id ``to_holder_id``, carries the narrowing ``checks``
    (Datalog ``check if …;``, any number, maybe none) and expires at ``expires_at`` (seconds since
    the epoch, cut to whole seconds). Only ``to_public_hex``'s key can prove possession of the new
    token; it can do no more than the token allowed and the checks leave (a delegate can add checks,
    never grants), and it dies with the token (revoking any block of the chain refuses it).

    Raises :class:`~trustcore.errors.MalformedInput` when ``holder_key`` is not the token's current
    holder, ``checks`` hold a fact, a rule or a scope or do not parse, ``to_public_hex`` is not a
    valid Ed25519 key, or the expiry is later than the token's (its own or any earlier link's);
    :class:`~trustcore.errors.DelegationInvalid` when the issuer allowed no further link (its
    ``delegation_depth``, 0 unless :func:`mint_biscuit` was given one);
    :class:`~trustcore.errors.TokenInvalid` when the token does not parse. Signs in Rust without
    the GIL."""
    return _native.delegate(token, holder_key, to_public_hex, to_holder_id, checks, expires_at)


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
    token, holder_id, holder_public_hex, revocation_id, chain = _native.authenticate(
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
    return token, _identity(holder_id, holder_public_hex, revocation_id, chain)


__all__ = [
    "Holder",
    "IssuerPublicKeys",
    "Limits",
    "Token",
    "VerifiedIdentity",
    "authenticate",
    "authorize",
    "check_policy",
    "constant_time_equal",
    "delegate",
    "is_hex_key",
    "mint_biscuit",
    "parse_token",
    "sign_job",
    "verify_job",
]
