"""The fail-closed error family: :class:`TrustError` and one subclass per code (docs/DESIGN.md §5).

Every failure raises a :class:`TrustError`, as in trust-core 0.1, so one ``except TrustError``
still catches them all. The subclass and its ``code`` (the same name in every language) say which
step failed; the message is for the server log and never carries a secret.

This module is pure Python (the native module raises these classes by name), so the errors
pickle and type-check like any exception.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import ClassVar, Mapping


class TrustError(Exception):
    """A trust-plane verification, authorization, or transport step failed: extend no trust.

    ``code`` names the failure (``"DENIED"``, ``"POP_FAILED"``, …). Errors raised by trustcore are
    always one of the subclasses below; a plain ``TrustError`` raised by application code (an app
    may alias this class) reports ``"INTERNAL"``.
    """

    code: ClassVar[str] = "INTERNAL"


class MalformedInput(TrustError):
    """Bad hex, wrong key length, bad predicate, missing header, malformed timestamp, CR/LF in a
    request part."""

    code: ClassVar[str] = "MALFORMED_INPUT"


class TokenInvalid(TrustError):
    """The token does not parse, or its signatures do not verify against the issuer key."""

    code: ClassVar[str] = "TOKEN_INVALID"


class TokenUnbound(TrustError):
    """The token binds no (or more than one) holder key or revocation id."""

    code: ClassVar[str] = "TOKEN_UNBOUND"


class Revoked(TrustError):
    """A revocation id of the token is on the deny-list."""

    code: ClassVar[str] = "REVOKED"


class StaleRequest(TrustError):
    """The request timestamp is outside the allowed skew."""

    code: ClassVar[str] = "STALE_REQUEST"


class Replayed(TrustError):
    """The (holder, nonce) pair was already used inside the window."""

    code: ClassVar[str] = "REPLAYED"


class PopFailed(TrustError):
    """The proof-of-possession signature does not verify."""

    code: ClassVar[str] = "POP_FAILED"


class Denied(TrustError):
    """No allow policy matched, or a check failed (expiry included)."""

    code: ClassVar[str] = "DENIED"


class LimitExceeded(TrustError):
    """The authorizer ran past its limits (time, facts, iterations)."""

    code: ClassVar[str] = "LIMIT_EXCEEDED"


class JobInvalid(TrustError):
    """A job's signature is missing, malformed, or does not verify."""

    code: ClassVar[str] = "JOB_INVALID"


class FrameInvalid(TrustError):
    """A wire frame is oversize, cut short, not JSON, or not an object."""

    code: ClassVar[str] = "FRAME_INVALID"


class SignerUnavailable(TrustError):
    """The signer cannot be reached."""

    code: ClassVar[str] = "SIGNER_UNAVAILABLE"


class SignerRefused(TrustError):
    """The signer refused the request."""

    code: ClassVar[str] = "SIGNER_REFUSED"


class StoreUnavailable(TrustError):
    """A replay or revocation store cannot answer."""

    code: ClassVar[str] = "STORE_UNAVAILABLE"


class Internal(TrustError):
    """A bug, including a panic caught at the binding boundary."""

    code: ClassVar[str] = "INTERNAL"


class WrongAudience(TrustError):
    """An RFC 9421 signature was made for another authority (host[:port]) than this verifier's."""

    code: ClassVar[str] = "WRONG_AUDIENCE"


class DelegationInvalid(TrustError):
    """A delegation chain is broken: a link not signed by the holder of that moment, more links
    than the issuer allowed, a link outliving the one before, or a delegation that cannot be made."""

    code: ClassVar[str] = "DELEGATION_INVALID"


#: Every code, by name, to its class (for mapping a code received over the wire to an exception).
ERRORS_BY_CODE: Mapping[str, type[TrustError]] = MappingProxyType({
    cls.code: cls
    for cls in (
        MalformedInput,
        TokenInvalid,
        TokenUnbound,
        Revoked,
        StaleRequest,
        Replayed,
        PopFailed,
        Denied,
        LimitExceeded,
        JobInvalid,
        FrameInvalid,
        SignerUnavailable,
        SignerRefused,
        StoreUnavailable,
        Internal,
        WrongAudience,
        DelegationInvalid,
    )
})

__all__ = [
    "ERRORS_BY_CODE",
    "Denied",
    "FrameInvalid",
    "Internal",
    "JobInvalid",
    "LimitExceeded",
    "MalformedInput",
    "PopFailed",
    "Replayed",
    "Revoked",
    "SignerRefused",
    "SignerUnavailable",
    "StaleRequest",
    "StoreUnavailable",
    "TokenInvalid",
    "TokenUnbound",
    "TrustError",
    "WrongAudience",
    "DelegationInvalid",
]
