"""trustcore: Biscuit capability tokens bound to a holder key, a per-request Ed25519 proof of
possession, Datalog authorization, signed jobs and the signer's wire frames, verified by Rust.

The API of trust-core 0.1, unchanged: migrate with ``from trust_core import …`` →
``from trustcore import …``. Submodules as there: :mod:`trustcore.keys`, :mod:`trustcore.proof`,
:mod:`trustcore.engine`, :mod:`trustcore.wire`, :mod:`trustcore.errors`.

Beyond it: one :class:`TrustError` subclass per code (``.code``), :func:`parse_token` and
:class:`Token` (inspection, :meth:`Token.authorize`), authorizer :class:`Limits`, key rotation
(``{root_key_id: public_hex}`` wherever an issuer public key is taken), the stateful
:class:`Verifier` (replay store, revocation store, cache of verified tokens; the stores in
memory or, with :class:`RedisOptions`, shared through Redis), the
:class:`SignerClient` of the signer daemon (:mod:`trustcore.signer`), and the GIL released while
Rust verifies, so threads verify on several cores.

HTTP (:mod:`trustcore.http`): :func:`trustcore.http.sign_request` gives the headers that sign a
request (RFC 9421 HTTP Message Signatures with a Content-Digest, or trust-core 0.1's ``X-EP-*``),
an :class:`HttpPolicy` holds a service's routes, and :meth:`Verifier.decide` turns one request into
a :class:`Decision` (allowed, or the status, headers and body of the refusal). The adapters, each
imported on its own with its extra's framework (``import trustcore`` imports none of them):
:mod:`trustcore.asgi` and :mod:`trustcore.wsgi` (middlewares), :mod:`trustcore.fastapi`
(dependencies), :mod:`trustcore.httpx` and :mod:`trustcore.requests` (signing clients).

Delegation: a token minted with a ``delegation_depth`` can be handed on by its holder to another
holder's key with :func:`delegate` (offline, narrowed by checks, no later expiry); the verifier
walks the chain, the proof must come from the last holder, and :attr:`VerifiedIdentity.chain`
names every :class:`Holder` in order.
"""

from __future__ import annotations

from . import engine, errors, http, keys, proof, signer, verifier, wire
from ._trustcore import __version__
from .engine import (
    Holder,
    IssuerPublicKeys,
    Limits,
    Token,
    VerifiedIdentity,
    authenticate,
    authorize,
    check_policy,
    constant_time_equal,
    delegate,
    is_hex_key,
    mint_biscuit,
    parse_token,
    sign_job,
    verify_job,
)
from .errors import (
    ERRORS_BY_CODE,
    Denied,
    FrameInvalid,
    Internal,
    JobInvalid,
    LimitExceeded,
    MalformedInput,
    PopFailed,
    Replayed,
    Revoked,
    SignerRefused,
    SignerUnavailable,
    StaleRequest,
    StoreUnavailable,
    TokenInvalid,
    TokenUnbound,
    TrustError,
    WrongAudience,
    DelegationInvalid,
)
from .http import Decision, HttpPolicy
from .keys import IssuerKey, WorkerKey
from .proof import RequestParts, WorkerProof, make_proof, proof_from_headers, proof_from_query
from .signer import MintedToken, SignerClient
from .verifier import RedisOptions, Verifier

__all__ = [
    # trust-core 0.1
    "IssuerKey",
    "RequestParts",
    "TrustError",
    "VerifiedIdentity",
    "WorkerKey",
    "WorkerProof",
    "authenticate",
    "check_policy",
    "constant_time_equal",
    "is_hex_key",
    "make_proof",
    "mint_biscuit",
    "proof_from_headers",
    "proof_from_query",
    "sign_job",
    "verify_job",
    # additions
    "ERRORS_BY_CODE",
    "Decision",
    "Denied",
    "FrameInvalid",
    "Holder",
    "HttpPolicy",
    "Internal",
    "IssuerPublicKeys",
    "JobInvalid",
    "LimitExceeded",
    "Limits",
    "MalformedInput",
    "MintedToken",
    "PopFailed",
    "RedisOptions",
    "Replayed",
    "Revoked",
    "SignerClient",
    "SignerRefused",
    "SignerUnavailable",
    "StaleRequest",
    "StoreUnavailable",
    "Token",
    "TokenInvalid",
    "TokenUnbound",
    "Verifier",
    "WrongAudience",
    "DelegationInvalid",
    "__version__",
    "authorize",
    "delegate",
    "engine",
    "errors",
    "http",
    "keys",
    "parse_token",
    "proof",
    "signer",
    "verifier",
    "wire",
]
