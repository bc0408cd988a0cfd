"""The stateful :class:`Verifier`: what a service keeps for its lifetime.

It holds the issuer key(s), the allowed skew, the authorizer limits, a replay store (a
(holder, nonce) pair is accepted once inside the window: REPLAYED), a revocation store, and a cache
of verified tokens keyed by the token's hash, so a holder's repeated requests pay one signature
check (the proof of possession) instead of two. :meth:`Verifier.authenticate_batch` checks many
requests' proofs with one Ed25519 batch verification. The cache and a batch are bounded, so what a
caller sends cannot make a verifier hold or do more than its settings allow. Everything runs in
Rust without the GIL.
The stateless :func:`~trustcore.authenticate` of trust-core 0.1 stays as it was.

The stores are in this process by default. With :class:`RedisOptions` they live in Redis instead,
shared by every verifier (on every host) that names the same Redis and key prefix: a nonce is
accepted by exactly one of them (``SET NX PX``), a revocation written by one refuses the token in
all of them from their next request. Redis unreachable (or slower than ``command_timeout``) is
:class:`~trustcore.errors.StoreUnavailable` for the request: never a pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from dataclasses import KW_ONLY, dataclass, field

from . import _trustcore as _native
from .engine import IssuerPublicKeys, Limits, Token, VerifiedIdentity, _identity
from .errors import TrustError
from .http import Decision, Headers, HttpPolicy, _decision
from .proof import RequestParts, SupportsItems, WorkerProof


@dataclass(frozen=True)
class RedisOptions:
    """Where a :class:`Verifier` keeps its replay and revocation stores when they are shared.

    ``url`` is ``redis://[user:password@]host:port[/db]`` (``rediss://`` is not supported), or
    ``redis+unix:///path/to/redis.sock``; it is checked when the verifier is built (a bad one is
    :class:`~trustcore.errors.MalformedInput`), while Redis itself is reached on the first request,
    so a verifier may start before Redis does. For a Redis Cluster leave ``url`` empty and give
    ``cluster``: its seed nodes, ``redis://[user:password@]host:port`` each (any reachable one tells
    the cluster's layout); the key prefix must then not hold ``{`` or ``}``. Settings left as
    ``None`` keep the core's defaults:

    - ``key_prefix``: prepended to every key (default ``"trustcore:"``); verifiers share stores
      exactly when they share the Redis and the prefix;
    - ``connect_timeout``: opening a connection, in seconds (default 1.0);
    - ``command_timeout``: one command, sent and answered (default 0.5);
    - ``request_timeout``: all the Redis work of one request together (its commands, a connection
      it opens, a retry), in seconds (default 1.0): past it the request is
      :class:`~trustcore.errors.StoreUnavailable`;
    - ``max_idle``: idle connections kept for reuse (default 8);
    - ``retry_interval``: after a failure, every request fails at once
      (:class:`~trustcore.errors.StoreUnavailable`) for this long, in seconds (default 1.0); then
      one probe at a time goes to Redis until one succeeds.

    Timeouts and ``retry_interval`` must be positive and at most a day. The ``repr`` leaves the
    URL out: it may hold a password.
    """

    url: str = field(default="", repr=False)
    _: KW_ONLY
    cluster: Sequence[str] | None = field(default=None, repr=False)
    key_prefix: str | None = None
    connect_timeout: float | None = None
    command_timeout: float | None = None
    request_timeout: float | None = None
    max_idle: int | None = None
    retry_interval: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.url, str):
            raise TypeError(f"RedisOptions.url must be a str, not {type(self.url).__name__}")
        if isinstance(self.cluster, str):
            raise TypeError("RedisOptions.cluster is a list of seed node URLs, not one str")


class Verifier:
    """A verifier for one service. Thread-safe: share one instance between threads.

    Settings left as ``None`` keep the core's defaults: a 300 s skew, the default
    :class:`Limits`, 10 000 cached tokens (``token_cache_capacity=0`` turns the cache off; it
    grows as tokens arrive, so a large bound costs nothing up front) holding at most 64 MiB
    (``token_cache_max_bytes``; least recently used tokens leave first), batches of at most 1024
    requests (``max_batch_requests``) whose bodies total at most 64 MiB (``max_batch_body_bytes``)
    and, in memory, 100 000 remembered (holder, nonce) pairs (``replay_capacity``: full with nothing
    expired refuses with :class:`~trustcore.errors.StoreUnavailable`, never forgets a live nonce),
    of which one holder may hold at most ``replay_capacity_per_holder`` (default: a quarter of
    ``replay_capacity``; past it that holder alone is :class:`~trustcore.errors.LimitExceeded` until
    its entries expire: size it at the requests one holder sends in ``2 × max_skew_seconds + 1``).
    A replay entry lasts ``2 × max_skew_seconds + 1`` seconds. ``revoked_ids`` (any iterable of
    ``str``, read once; an entry of another type is a :class:`TypeError`, an id with no canonical
    spelling :class:`~trustcore.errors.MalformedInput`) are refused from the start.

    ``redis`` (a :class:`RedisOptions`, or a URL as a ``str``) moves the replay and revocation
    stores to Redis, shared with other verifiers; ``replay_capacity`` and
    ``replay_capacity_per_holder`` then have no effect (Redis expires the entries itself), and
    ``revoked_ids`` are added to the shared set now (:class:`~trustcore.errors.StoreUnavailable`
    if Redis cannot take them). The token cache always stays in this process.

    For :meth:`decide` (HTTP): ``authorities`` are the ``host[:port]`` this service answers to
    (any iterable of ``str``; compared in lower case, a port included when it is not the scheme's
    default): an RFC 9421 signature made for any other is :class:`~trustcore.errors.WrongAudience`,
    and with none configured every RFC 9421 request is (the legacy profile does not sign the
    host). ``profiles`` are those it accepts, ``"rfc9421"`` and/or ``"legacy"`` (default: both); an
    unknown name or an empty list is :class:`~trustcore.errors.MalformedInput`.
    """

    __slots__ = ("_native",)

    def __init__(
        self,
        issuer_public_hex: IssuerPublicKeys,
        *,
        max_skew_seconds: float | None = None,
        limits: Limits | None = None,
        replay_capacity: int | None = None,
        replay_capacity_per_holder: int | None = None,
        revoked_ids: Iterable[str] | None = None,
        token_cache_capacity: int | None = None,
        token_cache_max_bytes: int | None = None,
        max_batch_requests: int | None = None,
        max_batch_body_bytes: int | None = None,
        redis: RedisOptions | str | None = None,
        authorities: Iterable[str] | None = None,
        profiles: Iterable[str] | None = None,
    ) -> None:
        if isinstance(redis, str):
            redis = RedisOptions(redis)
        elif redis is not None and not isinstance(redis, RedisOptions):
            raise TypeError(f"redis must be a RedisOptions or a URL str, not {type(redis).__name__}")
        self._native = _native.NativeVerifier(
            issuer_public_hex,
            max_skew_seconds=max_skew_seconds,
            limits=limits,
            replay_capacity=replay_capacity,
            replay_capacity_per_holder=replay_capacity_per_holder,
            revoked_ids=revoked_ids,
            token_cache_capacity=token_cache_capacity,
            token_cache_max_bytes=token_cache_max_bytes,
            max_batch_requests=max_batch_requests,
            max_batch_body_bytes=max_batch_body_bytes,
            redis_url=None if redis is None else redis.url,
            redis_key_prefix=None if redis is None else redis.key_prefix,
            redis_connect_timeout=None if redis is None else redis.connect_timeout,
            redis_command_timeout=None if redis is None else redis.command_timeout,
            redis_request_timeout=None if redis is None else redis.request_timeout,
            redis_max_idle=None if redis is None else redis.max_idle,
            redis_retry_interval=None if redis is None else redis.retry_interval,
            redis_cluster=None if redis is None or redis.cluster is None else list(redis.cluster),
            authorities=authorities,
            profiles=profiles,
        )

    def authenticate(
        self, proof: WorkerProof, request: RequestParts, *, now: float | None = None
    ) -> tuple[Token, VerifiedIdentity]:
        """As :func:`trustcore.authenticate`, with the cached token, this verifier's revocation
        store, and the replay check last (REPLAYED), recorded only after the proof verifies, so a
        forgery cannot use up a holder's nonce. ``now`` defaults to the system clock; with Redis,
        entries expire on Redis's own clock. A store that cannot answer is StoreUnavailable."""
        if not isinstance(proof, WorkerProof):
            raise TypeError(f"proof must be a WorkerProof, not {type(proof).__name__}")
        if not isinstance(request, RequestParts):
            raise TypeError(f"request must be a RequestParts, not {type(request).__name__}")
        token, holder_id, holder_public_hex, revocation_id, chain = self._native.authenticate(
            proof.token,
            proof.signature,
            proof.timestamp,
            proof.nonce,
            request.method,
            request.path,
            request.body,
            now,
        )
        return token, _identity(holder_id, holder_public_hex, revocation_id, chain)

    def authenticate_batch(
        self, requests: Sequence[tuple[WorkerProof, RequestParts]], *, now: float | None = None
    ) -> list[tuple[Token, VerifiedIdentity] | TrustError]:
        """Authenticate many requests at once: one entry per request, in order, either
        ``(token, identity)`` as :meth:`authenticate` returns it, or the :class:`TrustError`
        subclass instance :meth:`authenticate` would have raised for that request alone (returned,
        not raised: one bad request never fails the others).

        A batch of more than ``max_batch_requests`` requests, or whose bodies total more than
        ``max_batch_body_bytes``, raises :class:`~trustcore.errors.LimitExceeded` as a whole,
        before any request is checked or any body copied.

        Every request goes through the same checks as :meth:`authenticate`, but the proofs of
        possession of those that reach that step are checked together with one Ed25519 batch
        verification, about half the cost of checking them one by one; when it fails, each is
        checked on its own (strictly) to name the forgeries. Nonces are recorded in order, after
        the proofs: a (holder, nonce) used twice in one batch is :class:`~trustcore.errors.Replayed`
        the second time (before any signature work is spent on it), and a forged request does not
        use up its nonce. ``now`` (default: the system
        clock, read once) applies to every request. The GIL is released for the whole batch, and
        ``bytes`` bodies are not copied.

        Batch verification is not strict verification: it accepts a signature that strict
        checking refuses only when the holder built it on purpose with small-order components,
        which needs the holder's own key (no one else can forge one). Use :meth:`authenticate`
        where that matters.

        A ``requests`` that is not a sequence of ``(WorkerProof, RequestParts)`` tuples, a field of
        the wrong type inside one, or a ``now`` that is not a number raises :class:`TypeError`
        before any request is looked at."""
        if isinstance(requests, (str, bytes, bytearray)) or not isinstance(requests, Sequence):
            raise TypeError(
                f"requests must be a sequence of (WorkerProof, RequestParts) tuples, not {type(requests).__name__}"
            )
        # the count before the requests are looked at: an oversized batch costs nothing
        self._native.check_batch_size(len(requests))
        flat: list[tuple[str, str, str, str, str, str, bytes | bytearray]] = []
        for index, pair in enumerate(requests):
            if not isinstance(pair, tuple) or len(pair) != 2:
                raise TypeError(
                    f"requests[{index}] must be a (WorkerProof, RequestParts) tuple, not {type(pair).__name__}"
                )
            proof, request = pair
            if not isinstance(proof, WorkerProof):
                raise TypeError(f"requests[{index}][0] must be a WorkerProof, not {type(proof).__name__}")
            if not isinstance(request, RequestParts):
                raise TypeError(f"requests[{index}][1] must be a RequestParts, not {type(request).__name__}")
            flat.append(
                (proof.token, proof.signature, proof.timestamp, proof.nonce, request.method, request.path, request.body)
            )
        return [
            outcome
            if isinstance(outcome, TrustError)
            else (outcome[0], _identity(*outcome[1:]))
            for outcome in self._native.authenticate_batch(flat, now)
        ]

    @property
    def may_wait_on_network(self) -> bool:
        """Whether a call may wait on the network: True with the stores on Redis (a round trip per
        request, up to the request timeout when Redis is slow or gone), False with the stores in
        memory, where every call is CPU work only (tens of µs). From asyncio, run the calls of a
        verifier that may wait in a worker thread; those of one that cannot cost less inline than
        the thread hop (``trustcore.asgi`` chooses so)."""
        return self._native.may_wait_on_network

    def decide(
        self,
        method: str,
        target: str,
        headers: Headers,
        body: bytes | bytearray,
        *,
        policy: HttpPolicy,
        facts: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        now: float | None = None,
    ) -> Decision:
        """Decide one HTTP request under ``policy``: a :class:`~trustcore.http.Decision`, allowed
        or refused with the status, headers and body to answer.

        ``method`` and ``target`` are the request line's (the target in origin form,
        ``/path?query``, exactly as received: it is matched on the bytes the holder signed),
        ``headers`` the header lines in the order received (a mapping, or ``(name, value)``
        pairs; a name sent twice must be there twice), ``body`` the exact body. In order: the body
        against the policy's ``max_body_bytes`` (413), the method and path (a path a router could
        read two ways, ``/a/../b``, ``%2e%2e``, ``//``, ``%2F``, is 400), the route (none: 403),
        then on a guarded route the credentials in whichever accepted profile they came (an RFC
        9421 signature tagged ``trustcore``, else the ``X-EP-*`` headers, else their query
        parameters) through this verifier's cache, revocation, freshness, proof and replay store
        (401), then the route's allow policy over the request facts (403).

        ``facts`` are the application's own request facts (a mapping, or pairs), added after
        core's: each named ``req_…`` and none of the names core derives, else
        :class:`~trustcore.errors.MalformedInput` is raised: the one thing this raises for rather
        than decides (besides a :class:`TypeError` for an argument of the wrong type). ``now``
        defaults to the system clock. Runs in Rust without the GIL, Redis waits included: from
        asyncio, when :attr:`may_wait_on_network`, ``await asyncio.to_thread(verifier.decide, …)``
        keeps the loop free."""
        if not isinstance(policy, HttpPolicy):
            raise TypeError(f"policy must be an HttpPolicy, not {type(policy).__name__}")
        return _decision(self._native.decide(method, target, headers, body, policy, facts, now))

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

    def verify_job(self, job: Mapping[str, Any], *, worker_id: str, now: float | None = None) -> None:
        """Verify a job as :func:`trustcore.verify_job` does (the signature against this verifier's
        issuer key(s), the worker, ``expires_at`` at ``now``), and use up a single-use job: one that
        carries a ``nonce`` is accepted once, then :class:`~trustcore.errors.Replayed` on this
        verifier and on every verifier sharing its Redis. The nonce is recorded only after the
        signature and expiry pass, and kept until the job expires (at most a day ahead, else
        JobInvalid)."""
        self._native.verify_job(job, worker_id=worker_id, now=now)

    def set_issuer(self, issuer_public_hex: IssuerPublicKeys) -> None:
        """Trust these issuer key(s) from now on, in place of those trusted so far (issuer key
        rotation: first the old and the new key, ``{1: old, 2: new}``, later the new one alone).
        Cached tokens are dropped, so a token of a key no longer trusted is TokenInvalid from the
        next request on. Checked as the constructor's (MalformedInput)."""
        self._native.set_issuer(issuer_public_hex)

    def revoke(self, revocation_id: str) -> None:
        """Refuse this id (an app revocation id, or a block's revocation id in hex) from the next
        request on; with Redis, in every verifier sharing the store (StoreUnavailable if Redis
        cannot take it). The id is taken in its one spelling (hex in upper case is the same id);
        one that has none (surrounding spaces, a ``0x`` prefix, empty) is MalformedInput."""
        self._native.revoke(revocation_id)

    def revoke_token(self, token: Token | str) -> None:
        """Refuse a whole token from the next request on: its app revocation id and every block's
        id, so the tokens derived from it (blocks appended) are refused too, and so are other tokens
        sharing its app revocation id. ``token`` is a :class:`Token`, or a token as base64, parsed
        with this verifier's issuer key(s) and limits (TokenInvalid if they do not verify it; an
        expired token is revoked all the same). With Redis, as :meth:`revoke`."""
        self._native.revoke_token(token)

    def cache_stats(self) -> tuple[int, int]:
        """``(hits, misses)`` of the token cache since this verifier was built: each
        :meth:`authenticate` (and each request of :meth:`authenticate_batch` that gets as far as
        its token) counts one or the other. A token is cached only once a request's proof of
        possession verified with it, so a token that does not verify, or a forged request's, is a
        miss every time. Within one batch each distinct token is looked up once. Without a cache
        (``token_cache_capacity=0`` or ``token_cache_max_bytes=0``) both stay 0."""
        return self._native.cache_stats()

    def cache_usage(self) -> tuple[int, int]:
        """``(entries, bytes)``: the tokens the cache holds now, and their cost as counted against
        ``token_cache_max_bytes``. Both 0 without a cache. (:meth:`cache_stats` keeps its
        ``(hits, misses)``.)"""
        return self._native.cache_usage()

    def __repr__(self) -> str:
        return repr(self._native)


__all__ = ["RedisOptions", "Verifier"]
