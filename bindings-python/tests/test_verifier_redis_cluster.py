"""The Verifier on a real Redis Cluster (``testenv redis-cluster``: 3 masters and 3 replicas on
loopback ports): ``RedisOptions(cluster=...)`` takes the seed nodes; a nonce is accepted once, one
by one and in a batch; a revocation reaches every shard; the core refuses a URL and seed nodes
together, and a key prefix holding a hash tag.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import trustcore as tc

from helpers import Scene, scene
from testenv import Launched


@pytest.fixture(scope="module")
def cluster() -> Iterator[list[str]]:
    try:
        env = Launched("redis-cluster")
    except RuntimeError as err:
        pytest.fail(str(err))  # never a skip: a missing redis-server is a broken setup
    try:
        yield list(env.ready["urls"])
    finally:
        env.close()


def proof(s: Scene, nonce: str) -> tc.WorkerProof:
    return tc.make_proof(s.worker, s.token, s.request, timestamp=str(int(s.now)), nonce=nonce)


def outcome(call: Any) -> str:
    try:
        call()
    except tc.TrustError as err:
        return err.code
    return "OK"


def test_a_verifier_on_a_cluster_accepts_each_nonce_once_and_revokes_on_every_shard(cluster: list[str]) -> None:
    s = scene()
    verifier = tc.Verifier(s.issuer.public_hex, redis=tc.RedisOptions(cluster=cluster, key_prefix="py-cluster:"))
    nonces = [f"n-{i}" for i in range(48)]
    for nonce in nonces:
        assert outcome(lambda: verifier.authenticate(proof(s, nonce), s.request)) == "OK"
    for nonce in nonces:
        assert outcome(lambda: verifier.authenticate(proof(s, nonce), s.request)) == "REPLAYED"
    batch = [(proof(s, f"b-{i}"), s.request) for i in range(16)]
    assert all(not isinstance(r, tc.TrustError) for r in verifier.authenticate_batch(batch))
    assert all(isinstance(r, tc.Replayed) for r in verifier.authenticate_batch(batch))
    verifier.revoke("rev-1")
    for i in range(48):
        assert outcome(lambda: verifier.authenticate(proof(s, f"r-{i}"), s.request)) == "REVOKED"


def test_the_cluster_setting_is_checked_in_core(cluster: list[str]) -> None:
    s = scene()
    for options in (
        tc.RedisOptions("redis://127.0.0.1:6379/", cluster=cluster),
        tc.RedisOptions(cluster=cluster, key_prefix="{py}:"),
        tc.RedisOptions(cluster=["redis://127.0.0.1:7000/2"]),
        tc.RedisOptions(),
    ):
        assert outcome(lambda: tc.Verifier(s.issuer.public_hex, redis=options)) == "MALFORMED_INPUT"
    with pytest.raises(TypeError):
        tc.RedisOptions(cluster="redis://127.0.0.1:7000")
