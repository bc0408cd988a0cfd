"""HTTP: sign a request, and decide one (docs/DESIGN.md §10).

A holder signs a request with :func:`sign_request`: the headers it returns carry the token and the
proof of possession, either as an RFC 9421 HTTP Message Signature with an RFC 9530
``Content-Digest`` (the trustcore profile, ``profile="rfc9421"``, the default) or as trust-core
0.1's ``X-EP-*`` headers (``profile="legacy"``). A service keeps a :class:`HttpPolicy` (its routes,
as one JSON document shared between services in any language) and a
:class:`~trustcore.Verifier` told its own ``authorities``, and asks
:meth:`Verifier.decide <trustcore.Verifier.decide>` for a :class:`Decision` on each request: allowed
(with who and the request facts the policy saw), or refused with the status, headers and body to
answer. Every rule, status and header is the Rust core's.

:func:`signature_base` and :func:`verify_signature` are the generic RFC 9421 functions (any label,
any covered components core supports, a key given): for debugging a client, and for the RFC's own
examples. :func:`content_digest` and :func:`jwk_thumbprint` give a signature's ``Content-Digest``
value and ``keyid``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Literal

from . import _trustcore as _native
from ._trustcore import HttpPolicy
from .engine import VerifiedIdentity, _identity
from .keys import WorkerKey
from .proof import SupportsItems

#: How a proof travels on a request: ``"rfc9421"`` (RFC 9421 + Content-Digest) or ``"legacy"``
#: (trust-core 0.1's ``X-EP-*`` headers or query parameters).
Profile = Literal["rfc9421"] | Literal["legacy"]

#: Header lines: a mapping (or any object with ``.items()`` such as Starlette's or Werkzeug's
#: headers, whose items repeat a name sent twice), or ``(name, value)`` pairs in the order received.
Headers = Mapping[str, str] | SupportsItems | Iterable[tuple[str, str]]

#: The profiles a :class:`~trustcore.Verifier` accepts unless told otherwise.
PROFILES: tuple[Profile, ...] = ("rfc9421", "legacy")


@dataclass(frozen=True)
class Decision:
    """What to do with one request, as :meth:`trustcore.Verifier.decide` returns it.

    - ``allowed``: serve it (``status`` 200), or answer ``status`` with ``headers`` and ``body``;
    - ``status``: 200 when allowed; else 400 (a request no router reads one way), 401 (an
      authentication failure, with ``WWW-Authenticate: Biscuit error="<CODE>"``), 403 (DENIED,
      LIMIT_EXCEEDED, or no route), 413 (a body over the policy's cap), 503 (STORE_UNAVAILABLE,
      with ``Retry-After``) or 500;
    - ``code``: ``None`` when allowed, else the error code's name (``"REPLAYED"``, …), as
      :attr:`TrustError.code <trustcore.TrustError.code>` names it;
    - ``message``: which check refused and why, for the server log ("allowed" when allowed);
    - ``headers``: the refusal's header lines as ``(name, value)`` pairs, in order
      (``Content-Type`` first); empty when allowed;
    - ``body``: the refusal's JSON text ``{"error": CODE, "message": …}``; empty when allowed;
    - ``identity``: who sent it (the :class:`~trustcore.VerifiedIdentity` ``authenticate``
      returns); ``None`` on a public route or a refusal;
    - ``facts``: the request facts the route's policy saw, ``(name, value)`` pairs, core's
      (``req_method``, ``req_path``, ``req_route``, ``req_param_<name>``, ``req_query_<name>``,
      ``req_authority`` when signed) then the application's; empty on a refusal;
    - ``route``: the route template that matched (``None`` when none did);
    - ``profile``: how the credentials came, ``"rfc9421"`` or ``"legacy"`` (``None`` on a public
      route or when none were read).
    """

    allowed: bool
    status: int
    code: str | None
    message: str
    headers: list[tuple[str, str]]
    body: str
    identity: VerifiedIdentity | None
    facts: list[tuple[str, str]]
    route: str | None
    profile: Profile | None


_DECISION_FIELDS = tuple(field.name for field in fields(Decision))


def _decision(native: _native._DecisionTuple) -> Decision:
    """The native decision tuple as a Decision, its fields filled in directly (as ``_identity``
    does, for the same reason: a frozen dataclass's ``__init__`` costs a microsecond a request)."""
    decision = object.__new__(Decision)
    decision.__dict__.update(zip(_DECISION_FIELDS, native))
    identity = native[6]
    if identity is not None:
        decision.__dict__["identity"] = _identity(*identity)
    return decision


def sign_request(
    key: WorkerKey,
    token: str,
    method: str,
    url: str,
    headers: Headers | None = None,
    body: bytes | bytearray = b"",
    *,
    profile: Profile = "rfc9421",
    created: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The headers to add to a request so that it carries ``token`` and the holder's proof, in
    the order to send them.

    ``url`` is a full ``http(s)://host[:port]/path?query`` URL (the authority is lower-cased and
    loses a default port, as a server's ``Host`` reads), or an origin-form target
    (``/path?query``) with the authority in a ``Host`` header of ``headers`` (a mapping or
    ``(name, value)`` pairs; only ``Host`` is read). ``body`` is the exact body sent.

    With ``profile="rfc9421"``: ``Authorization: Biscuit <token>``, ``Content-Digest`` (SHA-256 of
    the body, empty bodies too), ``Signature-Input`` and ``Signature`` (label ``tc``), covering
    ``@method``, ``@authority``, ``@path``, ``@query``, ``authorization`` and ``content-digest``,
    with ``created``, ``keyid`` (the key's :func:`jwk_thumbprint`), ``nonce`` and
    ``tag="trustcore"``. With ``profile="legacy"``: ``Authorization`` and trust-core 0.1's three
    ``X-EP-*`` headers over the target. ``created`` defaults to now (whole seconds), ``nonce`` to
    128 random bits in hex; a bad URL, target, token or profile is
    :class:`~trustcore.errors.MalformedInput`. Signs without the GIL."""
    return dict(_native.sign_request(key, token, method, url, headers, body, profile, created, nonce))


def signature_base(
    method: str, target: str, headers: Headers, label: str, body: bytes | bytearray = b""
) -> bytes:
    """The RFC 9421 signature base of the signature labelled ``label`` (named in the request's
    ``Signature-Input``): the exact bytes its signer signed. ``target`` is the origin-form request
    target; ``headers`` the request's header lines. Covered components core does not support
    (component parameters, ``@target-uri``, …) are :class:`~trustcore.errors.MalformedInput`."""
    return _native.signature_base(method, target, headers, label, body)


def verify_signature(
    method: str, target: str, headers: Headers, label: str, public_hex: str, body: bytes | bytearray = b""
) -> None:
    """Verify the RFC 9421 signature labelled ``label`` with an Ed25519 public key (hex), strictly,
    and nothing else: no profile, clock, replay or Content-Digest check (use
    :meth:`trustcore.Verifier.decide` for a request). :class:`~trustcore.errors.PopFailed` when it
    does not verify, :class:`~trustcore.errors.MalformedInput` when the request cannot be read."""
    _native.verify_message_signature(method, target, headers, label, public_hex, body)


def content_digest(body: bytes | bytearray) -> str:
    """The RFC 9530 ``Content-Digest`` value of ``body``: ``sha-256=:<base64>:``."""
    return _native.content_digest(body)


def jwk_thumbprint(public_hex: str) -> str:
    """The RFC 7638 JWK thumbprint (base64url, no padding) of an Ed25519 public key given as hex:
    the ``keyid`` a trustcore signature carries."""
    return _native.jwk_thumbprint(public_hex)


__all__ = [
    "PROFILES",
    "Decision",
    "Headers",
    "HttpPolicy",
    "Profile",
    "content_digest",
    "jwk_thumbprint",
    "sign_request",
    "signature_base",
    "verify_signature",
]
