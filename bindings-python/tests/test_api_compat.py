"""trust-core 0.1's public API, unchanged: the same names, signatures and value-object behaviour,
and one program, written for `trust_core`, that runs on both packages by swapping the import.

trust-core 0.1 itself (from PyPI) is installed in the test venv to compare against.
"""

from __future__ import annotations

import dataclasses
import inspect
import pickle
import socket
import time
from types import ModuleType
from typing import Any

import pytest
import trust_core
import trust_core.wire  # trust-core 0.1 does not import its wire module itself

import trustcore

SUBMODULES = ["keys", "proof", "engine", "wire", "errors"]


def public_names(module: ModuleType) -> list[str]:
    names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
    # what trust-core's submodules merely import (socket, struct, Any…) is not their API
    return [
        n
        for n in names
        if getattr(getattr(module, n), "__module__", module.__name__).startswith("trust_core")
        or not callable(getattr(module, n))
    ]


@pytest.mark.parametrize("submodule", [""] + SUBMODULES)
def test_every_public_name_exists(submodule: str) -> None:
    old = getattr(trust_core, submodule) if submodule else trust_core
    new = getattr(trustcore, submodule) if submodule else trustcore
    for name in public_names(old):
        if isinstance(getattr(old, name), ModuleType) or name in ("annotations",):
            continue
        assert hasattr(new, name), f"trustcore{'.' + submodule if submodule else ''} lacks {name}"


def assert_compatible(old: Any, new: Any, where: str) -> None:
    """Every parameter of the old callable is in the new one, same name, kind and default, in the
    same order; anything the new one adds is optional."""
    # `self` of a native method is positional-only; nobody passes it by keyword
    old_params = [p for p in inspect.signature(old).parameters.values() if p.name != "self"]
    new_params = [p for p in inspect.signature(new).parameters.values() if p.name != "self"]
    assert len(new_params) >= len(old_params), where
    for o, n in zip(old_params, new_params):
        assert (o.name, o.kind, o.default) == (n.name, n.kind, n.default), f"{where}: {o} vs {n}"
    for extra in new_params[len(old_params) :]:
        assert extra.default is not inspect.Parameter.empty, f"{where}: added parameter {extra} is required"


CALLABLES = [
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
    "IssuerKey",
    "WorkerKey",
    "RequestParts",
    "WorkerProof",
    "VerifiedIdentity",
    "wire.send_frame",
    "wire.recv_frame",
    "wire.recv_exact",
    "wire.family",
    "RequestParts.canonical",
    "WorkerProof.headers",
    "IssuerKey.generate",
    "IssuerKey.from_secret_hex",
    "IssuerKey.biscuit_private_key",
    "WorkerKey.generate",
    "WorkerKey.from_secret_hex",
    "WorkerKey.sign",
]


def resolve(root: ModuleType, dotted: str) -> Any:
    obj: Any = root
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize("name", CALLABLES)
def test_signatures_are_compatible(name: str) -> None:
    old, new = resolve(trust_core, name), resolve(trustcore, name)
    assert_compatible(old, new, name)


def test_properties_stay_properties() -> None:
    for cls in ("IssuerKey", "WorkerKey"):
        key = getattr(trustcore, cls)(seed=b"\x01" * 32)
        old = getattr(trust_core, cls)(seed=b"\x01" * 32)
        assert key.secret_hex == old.secret_hex
        assert key.public_hex == old.public_hex
        assert key.seed == old.seed


# ---- one program, two packages ----------------------------------------------------------------


@pytest.fixture(params=["trust_core", "trustcore"])
def m(request: pytest.FixtureRequest) -> ModuleType:
    return trust_core if request.param == "trust_core" else trustcore


def a_program_written_for_trust_core(m: Any) -> dict[str, Any]:
    """Uses trust-core 0.1's API only; returns what it observed."""
    issuer = m.IssuerKey(seed=bytes(range(32)))
    worker = m.WorkerKey.from_secret_hex(bytes(range(32, 64)).hex())
    now = 1_700_000_000.0
    token = m.mint_biscuit(
        issuer,
        public_hex=worker.public_hex,
        holder_id="w-7",
        facts={"right": ["read", "lease"], "lane": ("transcribe",)},
        revocation_id="rev-7",
        expires_at=now + 600,
    )
    request = m.RequestParts("POST", "/lease", b'{"n":1}')
    proof = m.make_proof(worker, token, request, timestamp=str(int(now)), nonce="abc")
    headers = proof.headers()
    parsed = m.proof_from_headers({k.lower(): v for k, v in headers.items()})
    assert parsed == proof and hash(parsed) == hash(proof)
    query = {"token": proof.token, "sig": proof.signature, "ts": proof.timestamp, "nonce": proof.nonce}
    assert m.proof_from_query(query) == proof
    biscuit, identity = m.authenticate(
        issuer.public_hex, proof, request, now=now, revoked_ids=frozenset({"other"}), max_skew_seconds=30
    )
    m.check_policy(biscuit, request_facts={"req_right": "lease"}, allow="allow if right($r), req_right($r)", now=now)
    outcomes = {}
    for name, call in {
        "denied": lambda: m.check_policy(
            biscuit, request_facts={"req_right": "admin"}, allow="allow if right($r), req_right($r)", now=now
        ),
        "expired": lambda: m.check_policy(
            biscuit, request_facts={"req_right": "lease"}, allow="allow if right($r), req_right($r)", now=now + 601
        ),
        "revoked": lambda: m.authenticate(
            issuer.public_hex, proof, request, now=now, revoked_ids=frozenset({"rev-7"}), max_skew_seconds=30
        ),
        "stale": lambda: m.authenticate(
            issuer.public_hex, proof, request, now=now + 31, revoked_ids=frozenset(), max_skew_seconds=30
        ),
        "tampered": lambda: m.authenticate(
            issuer.public_hex,
            dataclasses.replace(proof, nonce="abd"),
            request,
            now=now,
            revoked_ids=frozenset(),
            max_skew_seconds=30,
        ),
        "wrong issuer": lambda: m.authenticate(
            m.IssuerKey(seed=b"\x09" * 32).public_hex,
            proof,
            request,
            now=now,
            revoked_ids=frozenset(),
            max_skew_seconds=30,
        ),
        "missing header": lambda: m.proof_from_headers({"Authorization": "Biscuit x"}),
        "bad seed": lambda: m.WorkerKey(seed=b"short"),
    }.items():
        try:
            call()
            outcomes[name] = "passed"
        except m.TrustError as err:
            outcomes[name] = str(err)
    job = {"id": "j1", "n": 3, "kind": "transcribe"}
    job["sig"] = m.sign_job(issuer, job, worker_id="w-7")
    m.verify_job(issuer.public_hex, job, worker_id="w-7")
    try:
        m.verify_job(issuer.public_hex, job, worker_id="w-8")
        outcomes["job for another holder"] = "passed"
    except m.TrustError as err:
        outcomes["job for another holder"] = str(err)
    a, b = socket.socketpair()
    with a, b:
        m.wire.send_frame(a, {"op": "health", "id": 1})
        frame = m.wire.recv_frame(b)
    with pytest.raises(dataclasses.FrozenInstanceError):
        proof.nonce = "x"  # type: ignore[misc]
    return {
        "public": (issuer.public_hex, worker.public_hex),
        "signature": proof.signature,
        # tokens hold random ephemeral keys, so compare the headers' shape, not the token
        "headers": [(k, v if k != "Authorization" else v.split(" ")[0]) for k, v in headers.items()],
        "identity": (identity.holder_id, identity.holder_public_hex, identity.revocation_id),
        "canonical": request.canonical(timestamp="1", nonce="n"),
        "worker_sig": worker.sign(b"message"),
        "job_sig": job["sig"],
        "frame": frame,
        "outcomes": outcomes,
        "helpers": (
            m.is_hex_key("ab" * 32),
            m.is_hex_key("xy" * 32),
            m.constant_time_equal("a", "a"),
            m.constant_time_equal("a", "b"),
        ),
    }


def test_one_program_runs_on_both(m: ModuleType) -> None:
    seen = a_program_written_for_trust_core(m)
    assert all(v != "passed" for v in seen["outcomes"].values()), seen["outcomes"]


def test_both_packages_observe_the_same() -> None:
    old = a_program_written_for_trust_core(trust_core)
    new = a_program_written_for_trust_core(trustcore)
    assert new == old


def test_tokens_cross_verify_between_the_packages() -> None:
    now = time.time()
    for minter, verifier in ((trust_core, trustcore), (trustcore, trust_core)):
        issuer = minter.IssuerKey.generate()
        worker = minter.WorkerKey.generate()
        token = minter.mint_biscuit(
            issuer,
            public_hex=worker.public_hex,
            holder_id="h",
            facts={"right": ["read"]},
            revocation_id="r",
            expires_at=now + 60,
        )
        request = verifier.RequestParts("GET", "/x", b"")
        proof = verifier.make_proof(
            verifier.WorkerKey(seed=worker.seed), token, request, timestamp=str(now), nonce="n"
        )
        biscuit, identity = verifier.authenticate(
            issuer.public_hex, proof, request, now=now, revoked_ids=frozenset(), max_skew_seconds=5
        )
        assert identity.holder_public_hex == worker.public_hex
        verifier.check_policy(biscuit, request_facts={"req_right": "read"}, allow="allow if right($r), req_right($r)", now=now)


# ---- value objects ------------------------------------------------------------------------------


def test_value_objects_are_frozen_dataclasses_with_equality() -> None:
    parts = trustcore.RequestParts("GET", "/", b"")
    proof = trustcore.WorkerProof(token="t", signature="s", timestamp="1", nonce="n")
    identity = trustcore.VerifiedIdentity("h", "k", "r")
    for value in (parts, proof, identity):
        assert dataclasses.is_dataclass(value)
        assert value == dataclasses.replace(value)
        assert hash(value) == hash(dataclasses.replace(value))
        assert pickle.loads(pickle.dumps(value)) == value
        with pytest.raises(dataclasses.FrozenInstanceError):
            value.__setattr__(dataclasses.fields(value)[0].name, "x")
    assert proof != dataclasses.replace(proof, nonce="m")
    assert repr(proof) == "WorkerProof(signature='s', timestamp='1', nonce='n')"  # the token stays out of logs


def test_keys_are_immutable_values_without_secrets_in_repr() -> None:
    seed = bytes(range(32))
    for cls in (trustcore.IssuerKey, trustcore.WorkerKey):
        key = cls(seed=seed)
        assert key == cls(seed) == cls.from_secret_hex(seed.hex())
        assert key != cls.generate()
        assert key != "not a key"
        assert hash(key) == hash(cls(seed=seed))
        assert len({key, cls(seed=seed)}) == 1
        assert pickle.loads(pickle.dumps(key)) == key
        for shown in (repr(key), str(key), f"{key!r}"):
            assert seed.hex() not in shown and key.public_hex in shown
        with pytest.raises(AttributeError):
            key.seed = b"\x00" * 32  # type: ignore[misc]
        assert len(cls.generate().seed) == 32
