"""What the ASGI and WSGI middlewares share: conversions around :meth:`Verifier.decide`, no rule.

Every status, header and body a middleware answers is the :class:`~trustcore.http.Decision`'s. The
one thing a server must do before core can decide is not read a body that is announced to be over
the policy's cap (docs/DESIGN.md §10.3: "compare a request's announced Content-Length with
max_body_bytes and answer 413 before reading the body"). Core's first check is the body's length
against that cap, so the middlewares hand core the request with a stand-in body one byte over the
cap (:func:`stand_in_body`: zero bytes the allocator maps lazily, nothing read from the client)
and answer the refusal core returns.
"""

from __future__ import annotations

from .http import Decision, HttpPolicy
from .verifier import Verifier

#: The key under which the middlewares put the allowed request's :class:`~trustcore.http.Decision`:
#: ``scope["trustcore"]`` (ASGI), ``environ["trustcore"]`` (WSGI).
KEY = "trustcore"


def check_arguments(verifier: object, policy: object) -> None:
    """TypeError, when the middleware is built, for a verifier or policy of the wrong type."""
    if not isinstance(verifier, Verifier):
        raise TypeError(f"verifier must be a trustcore.Verifier, not {type(verifier).__name__}")
    if not isinstance(policy, HttpPolicy):
        raise TypeError(f"policy must be a trustcore.HttpPolicy, not {type(policy).__name__}")


def announced_length(value: str | None) -> int | None:
    """The body length a ``Content-Length`` value announces; None when there is none. The server
    has already refused a malformed one; if one gets through anyway, ValueError (the request is
    not served: fail closed)."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"Content-Length {value!r} is not a decimal number")
    return int(text)


def stand_in_body(policy: HttpPolicy) -> bytes:
    """A body one byte longer than ``policy`` allows, never read from anyone: ``bytes(n)`` is
    allocated zeroed (calloc: untouched pages cost no memory), and core only measures it."""
    return bytes(policy.max_body_bytes + 1)


def over_cap(decision: Decision) -> Decision:
    """The decision on a request whose body was announced over the cap: a refusal, as core's first
    check gives. Should core ever allow it, this raises (the app would see a body it was not sent)."""
    if decision.allowed:
        raise RuntimeError("trustcore: core allowed a request with a body over the policy's cap")
    return decision


def response_body(decision: Decision) -> bytes:
    """The refusal's body as sent (its JSON text, UTF-8)."""
    return decision.body.encode("utf-8")
