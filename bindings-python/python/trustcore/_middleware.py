"""What the ASGI and WSGI middlewares share: conversions around :meth:`Verifier.decide`, no rule.

Every status, header and body a middleware answers is the :class:`~trustcore.http.Decision`'s. The
one thing a server must do before core can decide is not read a body that is announced to be over
the policy's cap (docs/DESIGN.md §10.3): the middlewares hand core the announced ``Content-Length``
(:meth:`HttpPolicy.body_length_refusal <trustcore.HttpPolicy.body_length_refusal>`, the decision's
first step on its own) and answer its refusal, 413, without reading anything.
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


def announced_length(value: str | bytes | None) -> int | None:
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


def announced_refusal(policy: HttpPolicy, value: str | bytes | None) -> Decision | None:
    """Core's refusal (413) of the body a ``Content-Length`` value announces, answered before
    anything is read; None when none is announced or the policy allows its length."""
    length = announced_length(value)
    return None if length is None else policy.body_length_refusal(length)


def response_body(decision: Decision) -> bytes:
    """The refusal's body as sent (its JSON text, UTF-8)."""
    return decision.body.encode("utf-8")
