"""A minted token, a signed request and the inputs around them, for the tests."""

from __future__ import annotations

import time
from dataclasses import dataclass

import trustcore as tc

ALLOW = "allow if right($r), req_right($r)"


@dataclass(frozen=True)
class Scene:
    issuer: tc.IssuerKey
    worker: tc.WorkerKey
    token: str
    request: tc.RequestParts
    proof: tc.WorkerProof
    now: float

    def authenticate(self, **overrides: object) -> tuple[tc.Token, tc.VerifiedIdentity]:
        kwargs: dict[str, object] = {"now": self.now, "revoked_ids": frozenset(), "max_skew_seconds": 30}
        kwargs.update(overrides)
        return tc.authenticate(self.issuer.public_hex, self.proof, self.request, **kwargs)  # type: ignore[arg-type]


def scene(*, nonce: str = "n-1", body: bytes = b'{"lane":"transcribe"}', holder_id: str = "worker-1") -> Scene:
    issuer = tc.IssuerKey(seed=bytes(range(32)))
    worker = tc.WorkerKey(seed=bytes(range(32, 64)))
    now = time.time()
    token = tc.mint_biscuit(
        issuer,
        public_hex=worker.public_hex,
        holder_id=holder_id,
        facts={"right": ["lease", "read"], "lane": ["transcribe"]},
        revocation_id="rev-1",
        expires_at=now + 3600,
    )
    request = tc.RequestParts("POST", "/lease?x=1", body)
    proof = tc.make_proof(worker, token, request, timestamp=str(int(now)), nonce=nonce)
    return Scene(issuer, worker, token, request, proof, now)
