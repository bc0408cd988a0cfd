"""FastAPI dependencies over :class:`trustcore.asgi.TrustcoreMiddleware`'s decision.
``pip install 'trustcore[fastapi]'``.

The middleware decides every request under the route policy; a path operation states what it
relies on, and gets it::

    from trustcore.fastapi import require, verified_identity

    app = FastAPI()
    app.add_middleware(TrustcoreMiddleware, verifier=verifier, policy=policy)

    @app.post("/lease/{lane}")
    def lease(lane: str, who: VerifiedIdentity = Depends(verified_identity)): ...  # the holder

    @app.get("/health")
    def health(decision: Decision = Depends(require(identity=False))): ...  # a public route

(or, once, ``Holder = Annotated[VerifiedIdentity, Depends(verified_identity)]`` and ``who: Holder``.)

These dependencies add no rule: they hand over what core decided, and refuse (403, the path
operation not run) a request that has no decision to hand over, so a route can never be served
unprotected because the middleware was left out or mounted below it:

- no ``scope["trustcore"]`` (the middleware did not run): 403;
- an identity required (``require()``'s default, and :func:`verified_identity`) on a route the
  policy makes public, so that no credential was verified: 403.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException, Request

from .asgi import SCOPE_KEY
from .engine import VerifiedIdentity
from .http import Decision

#: The status of a request the dependency has no decision for.
STATUS_UNDECIDED = 403


def _decided(request: Request, identity: bool) -> Decision:
    decision = request.scope.get(SCOPE_KEY)
    if not isinstance(decision, Decision) or not decision.allowed:
        raise HTTPException(
            status_code=STATUS_UNDECIDED,
            detail="no trustcore decision for this request (is trustcore.asgi.TrustcoreMiddleware installed?)",
        )
    if identity and decision.identity is None:
        raise HTTPException(
            status_code=STATUS_UNDECIDED,
            detail=f"route {decision.route} is public in the trustcore policy: no holder was verified",
        )
    return decision


def require(*, identity: bool = True) -> Callable[[Request], Decision]:
    """A dependency giving the request's :class:`~trustcore.http.Decision` (``identity``,
    ``facts``, ``route``, ``profile``). With ``identity=True`` (the default) it also refuses a
    request without a verified holder: one on a route the policy makes public."""

    def trustcore_decision(request: Request) -> Decision:
        return _decided(request, identity)

    return trustcore_decision


def verified_identity(request: Request) -> VerifiedIdentity:
    """A dependency giving the verified holder (``holder_id``, ``holder_public_hex``,
    ``revocation_id``); a request on a route the policy makes public is refused (403)."""
    found = _decided(request, True).identity
    assert found is not None  # _decided refused it otherwise
    return found


__all__ = ["STATUS_UNDECIDED", "require", "verified_identity"]
