"""A delegated token is standard Biscuit (docs/DESIGN.md §3.13): biscuit-python 0.4 (PyPI) parses and
verifies it, prints the facts each link carries (``delegate_key``, ``delegate_id``, the checks and the
expiry), names the key that signed each link, and a link biscuit-python writes with a holder's key
is one trustcore accepts. trust-core 0.1 (PyPI), which knows no delegation, refuses it cleanly: a
TrustError, never a crash.
"""

from __future__ import annotations

import datetime
import json
import time
from pathlib import Path
from typing import Any

import biscuit_auth as bp
import pytest
import trust_core

import trustcore as tc

VECTORS = Path(__file__).resolve().parents[2] / "tests" / "vectors" / "delegation.json"
ALLOW = "allow if right($r), req_right($r)"


def root(public_hex: str) -> bp.PublicKey:
    return bp.PublicKey.from_bytes(bytes.fromhex(public_hex), bp.Algorithm.Ed25519)


def key_hex(key: bp.PublicKey) -> str:
    return bytes(key.to_bytes()).hex()


def date(seconds: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)


def link_with_biscuit_python(token: str, issuer_hex: str, signer: tc.WorkerKey, to: tc.WorkerKey, to_id: str, until: float) -> str:
    """A delegation link as a holder writes it with biscuit-python: a third-party block signed by
    ``signer`` naming the next key and id, with an expiry."""
    biscuit = bp.Biscuit.from_base64(token, root(issuer_hex))
    builder = bp.BlockBuilder(
        "delegate_key({key}); delegate_id({id}); check if time($t), $t <= {until};",
        {"key": to.public_hex, "id": to_id, "until": date(until)},
    )
    private = bp.PrivateKey.from_bytes(signer.seed, bp.Algorithm.Ed25519)
    block = biscuit.third_party_request().create_block(private, builder)
    return str(biscuit.append_third_party(root(signer.public_hex), block).to_base64())


@pytest.fixture
def keys() -> dict[str, Any]:
    issuer = tc.IssuerKey(bytes(range(32)))
    a, b, c = (tc.WorkerKey(bytes([n]) * 32) for n in (1, 2, 3))
    now = time.time()
    token = tc.mint_biscuit(
        issuer,
        public_hex=a.public_hex,
        holder_id="a",
        facts={"right": ["lease", "read"]},
        revocation_id="rev-a",
        expires_at=now + 3600,
        delegation_depth=2,
    )
    return {"issuer": issuer, "a": a, "b": b, "c": c, "token": token, "now": now}


# ---- biscuit-python reads what trustcore delegates ---------------------------------------------------


def test_biscuit_python_verifies_a_delegated_token_and_prints_each_link(keys: dict[str, Any]) -> None:
    issuer, a, b, c, now = keys["issuer"], keys["a"], keys["b"], keys["c"], keys["now"]
    ab = tc.delegate(keys["token"], a, b.public_hex, "b", 'check if req_right("read");', expires_at=now + 600)
    abc = tc.delegate(ab, b, c.public_hex, "c", expires_at=now + 300)
    biscuit = bp.Biscuit.from_base64(abc, root(issuer.public_hex))  # every signature checked, links included
    ours = tc.parse_token(issuer.public_hex, abc)
    assert biscuit.block_count() == ours.block_count() == 3
    assert biscuit.revocation_ids == ours.revocation_ids
    expiry = lambda seconds: f"check if time($t), $t <= {date(int(seconds)).strftime('%Y-%m-%dT%H:%M:%SZ')};\n"  # noqa: E731
    assert biscuit.block_source(1) == (
        f'delegate_key("{b.public_hex}");\ndelegate_id("b");\ncheck if req_right("read");\n{expiry(now + 600)}'
    )
    assert biscuit.block_source(2) == f'delegate_key("{c.public_hex}");\ndelegate_id("c");\n{expiry(now + 300)}'
    for index in range(3):
        assert biscuit.block_source(index) == ours.block_source(index)
    # each link is signed by the holder of that moment: A, then B
    assert biscuit.block_external_key(0) is None
    assert [key_hex(biscuit.block_external_key(i)) for i in (1, 2)] == [a.public_hex, b.public_hex]


def test_biscuit_python_authorizes_a_delegated_token_as_standard_biscuit(keys: dict[str, Any]) -> None:
    issuer, a, b, now = keys["issuer"], keys["a"], keys["b"], keys["now"]
    ab = tc.delegate(keys["token"], a, b.public_hex, "b", 'check if req_right("read");', expires_at=now + 600)
    biscuit = bp.Biscuit.from_base64(ab, root(issuer.public_hex))

    def authorize(code: str, at: float = now) -> int:
        return int(bp.AuthorizerBuilder(f"time({{t}}); {code}", {"t": date(at)}).build(biscuit).authorize())

    assert authorize(f'req_right("read"); {ALLOW};') == 0
    with pytest.raises(bp.AuthorizationError):  # the link's narrowing check
        authorize(f'req_right("lease"); {ALLOW};')
    with pytest.raises(bp.AuthorizationError):  # the link's expiry, before the token's
        authorize(f'req_right("read"); {ALLOW};', now + 1200)
    # the link's facts are outside the default scope, readable only by trusting A's key
    with pytest.raises(bp.AuthorizationError):
        authorize('req_right("read"); allow if delegate_id("b");')
    assert authorize(f'req_right("read"); allow if delegate_id("b") trusting ed25519/{a.public_hex};') == 0


def test_biscuit_python_reads_the_links_the_vectors_pin() -> None:
    """Every token of tests/vectors/delegation.json accepted by a delegation_sequence step: biscuit-python
    verifies it, and its third-party blocks name the chain the vector expects, each signed by the
    holder before."""
    doc = json.loads(VECTORS.read_text(encoding="utf-8"))
    checked = 0
    for case in doc["cases"]:
        if case["op"] != "delegation_sequence":
            continue
        issuer_hex = case["input"]["issuer_public_hex"]
        for step, outcome in zip(case["input"]["steps"], case["expect"]["outcomes"]):
            if "error" in outcome:
                continue
            biscuit = bp.Biscuit.from_base64(step["token"], root(issuer_hex))
            chain = outcome["chain"]
            links = [i for i in range(biscuit.block_count()) if biscuit.block_external_key(i) is not None]
            assert len(links) == len(chain) - 1, case["id"]
            for n, index in enumerate(links):
                (_, signer_hex), (next_id, next_hex) = chain[n], chain[n + 1]
                source = biscuit.block_source(index)
                assert f'delegate_key("{next_hex}");\ndelegate_id("{next_id}");\n' in source, case["id"]
                assert "check if time($t), $t <= " in source
                assert key_hex(biscuit.block_external_key(index)) == signer_hex, case["id"]
            checked += 1
    assert checked >= 20


# ---- trustcore reads what biscuit-python writes ------------------------------------------------------


def test_a_link_written_with_biscuit_python_by_the_holder_is_accepted(keys: dict[str, Any]) -> None:
    issuer, a, b, now = keys["issuer"], keys["a"], keys["b"], keys["now"]
    ab = link_with_biscuit_python(keys["token"], issuer.public_hex, a, b, "b", now + 600)
    parts = tc.RequestParts("POST", "/lease", b"{}")
    proof = tc.make_proof(b, ab, parts, timestamp=str(int(now)), nonce="n")
    token, identity = tc.authenticate(issuer.public_hex, proof, parts, now=now, revoked_ids=(), max_skew_seconds=30)
    assert identity.chain == (tc.Holder("a", a.public_hex), tc.Holder("b", b.public_hex))
    tc.check_policy(token, request_facts={"req_right": "lease"}, allow=ALLOW, now=now)


def test_a_link_a_thief_writes_with_biscuit_python_is_delegation_invalid(keys: dict[str, Any]) -> None:
    issuer, now = keys["issuer"], keys["now"]
    thief = tc.WorkerKey(b"\x09" * 32)
    stolen = link_with_biscuit_python(keys["token"], issuer.public_hex, thief, thief, "t", now + 60)
    parts = tc.RequestParts("POST", "/lease", b"{}")
    proof = tc.make_proof(thief, stolen, parts, timestamp=str(int(now)), nonce="n")
    with pytest.raises(tc.DelegationInvalid):
        tc.authenticate(issuer.public_hex, proof, parts, now=now, revoked_ids=(), max_skew_seconds=30)
    with pytest.raises(tc.DelegationInvalid):
        tc.Verifier(issuer.public_hex).authenticate(proof, parts, now=now)
    with pytest.raises(tc.DelegationInvalid):
        tc.parse_token(issuer.public_hex, stolen).delegation_chain()


# ---- trust-core 0.1 knows no delegation ------------------------------------------------------------------


def old_authenticate(issuer_hex: str, token: str, key: tc.WorkerKey, now: float) -> tuple[Any, Any]:
    request = trust_core.RequestParts("POST", "/lease", b"{}")
    proof = trust_core.make_proof(trust_core.WorkerKey(seed=key.seed), token, request, timestamp=str(int(now)), nonce="n")
    return trust_core.authenticate(issuer_hex, proof, request, now=now, revoked_ids=frozenset(), max_skew_seconds=30)


def test_trust_core_0_1_refuses_the_delegate_cleanly(keys: dict[str, Any]) -> None:
    issuer, a, b, c, now = keys["issuer"], keys["a"], keys["b"], keys["c"], keys["now"]
    ab = tc.delegate(keys["token"], a, b.public_hex, "b", expires_at=now + 600)
    abc = tc.delegate(ab, b, c.public_hex, "c", expires_at=now + 300)
    # it parses the token (third-party blocks are standard Biscuit) and reads the holder from the
    # authority block alone: the delegate's proof is not A's, so it is refused, a TrustError
    for token, key in ((ab, b), (abc, c)):
        with pytest.raises(trust_core.TrustError, match="proof-of-possession signature failed"):
            old_authenticate(issuer.public_hex, token, key, now)


def test_trust_core_0_1_sees_a_delegated_token_as_the_delegators_narrowed_token(keys: dict[str, Any]) -> None:
    """What trust-core 0.1 does with it, pinned: A's own proof on the token A delegated passes (the
    delegation is invisible to it: an appended block whose facts are outside its scope), and the
    link's checks still narrow what A may do. Nothing is granted to anyone the token did not bind."""
    issuer, a, b, now = keys["issuer"], keys["a"], keys["b"], keys["now"]
    ab = tc.delegate(keys["token"], a, b.public_hex, "b", 'check if req_right("read");', expires_at=now + 600)
    token, identity = old_authenticate(issuer.public_hex, ab, a, now)
    assert (identity.holder_id, identity.holder_public_hex, identity.revocation_id) == ("a", a.public_hex, "rev-a")
    trust_core.check_policy(token, request_facts={"req_right": "read"}, allow=ALLOW, now=now)
    with pytest.raises(trust_core.TrustError):
        trust_core.check_policy(token, request_facts={"req_right": "lease"}, allow=ALLOW, now=now)
    with pytest.raises(trust_core.TrustError):  # the link's expiry holds there too
        trust_core.check_policy(token, request_facts={"req_right": "read"}, allow=ALLOW, now=now + 1200)
    # trustcore refuses A's proof on B's token
    parts = tc.RequestParts("POST", "/lease", b"{}")
    proof = tc.make_proof(a, ab, parts, timestamp=str(int(now)), nonce="n")
    with pytest.raises(tc.PopFailed):
        tc.authenticate(issuer.public_hex, proof, parts, now=now, revoked_ids=(), max_skew_seconds=30)
