"""Interop with biscuit-python 0.4 (PyPI): tokens go both ways, and attenuation only restricts."""

from __future__ import annotations

import datetime

import biscuit_auth as bp
import pytest

import trustcore as tc

from helpers import ALLOW, scene


def biscuit_public_key(public_hex: str) -> bp.PublicKey:
    return bp.PublicKey.from_bytes(bytes.fromhex(public_hex), bp.Algorithm.Ed25519)


def attenuate(token: str, issuer_public_hex: str, block_code: str) -> str:
    """What a holder does with biscuit-python: append a block to the token it was given."""
    biscuit = bp.Biscuit.from_base64(token, biscuit_public_key(issuer_public_hex))
    return str(biscuit.append(bp.BlockBuilder(block_code)).to_base64())


def authenticate_token(token: str, s=None):  # type: ignore[no-untyped-def]
    s = s or scene()
    proof = tc.make_proof(s.worker, token, s.request, timestamp=str(int(s.now)), nonce="n")
    return tc.authenticate(s.issuer.public_hex, proof, s.request, now=s.now, revoked_ids=(), max_skew_seconds=30)


def test_a_token_minted_here_authenticates_after_biscuit_python_appends_a_block() -> None:
    s = scene()
    attenuated = attenuate(s.token, s.issuer.public_hex, 'check if req_right("read");')
    token, identity = authenticate_token(attenuated, s)
    assert token.block_count() == 2
    assert identity.holder_id == "worker-1"
    tc.check_policy(token, request_facts={"req_right": "read"}, allow=ALLOW, now=s.now)
    # the holder's own check restricts: "lease" was granted by the issuer but the block forbids it
    with pytest.raises(tc.Denied):
        tc.check_policy(token, request_facts={"req_right": "lease"}, allow=ALLOW, now=s.now)


def test_an_appended_block_cannot_grant_or_rebind() -> None:
    s = scene()
    other = tc.WorkerKey.generate()
    grabby = attenuate(
        s.token, s.issuer.public_hex, f'right("admin"); worker_key("{other.public_hex}"); revocation("fresh");'
    )
    token, identity = authenticate_token(grabby, s)
    # identity comes from the issuer's block only; the appended facts are outside the trust scope
    assert identity.holder_public_hex == s.worker.public_hex and identity.revocation_id == "rev-1"
    with pytest.raises(tc.Denied):
        tc.check_policy(token, request_facts={"req_right": "admin"}, allow=ALLOW, now=s.now)
    # and the appended block's own revocation id is on the deny-list check too
    with pytest.raises(tc.Revoked):
        proof = tc.make_proof(s.worker, grabby, s.request, timestamp=str(int(s.now)), nonce="n")
        tc.authenticate(
            s.issuer.public_hex, proof, s.request, now=s.now, revoked_ids={token.revocation_ids[1]}, max_skew_seconds=30
        )


def test_a_token_biscuit_python_builds_with_the_same_facts_authenticates_here() -> None:
    s = scene()
    builder = bp.BiscuitBuilder(
        """
        worker_key({key});
        worker_id({id});
        right("lease");
        right("read");
        lane("transcribe");
        revocation({rev});
        check if time($t), $t <= {expires};
        """,
        {
            "key": s.worker.public_hex,
            "id": "worker-1",
            "rev": "rev-bp",
            "expires": datetime.datetime.fromtimestamp(s.now + 600, tz=datetime.timezone.utc),
        },
    )
    token_b64 = str(builder.build(s.issuer.biscuit_private_key()).to_base64())
    token, identity = authenticate_token(token_b64, s)
    assert (identity.holder_id, identity.holder_public_hex, identity.revocation_id) == (
        "worker-1",
        s.worker.public_hex,
        "rev-bp",
    )
    tc.check_policy(token, request_facts={"req_right": "lease"}, allow=ALLOW, now=s.now)
    with pytest.raises(tc.Denied):  # expired per the check biscuit-python wrote
        tc.check_policy(token, request_facts={"req_right": "lease"}, allow=ALLOW, now=s.now + 601)


def test_biscuit_python_reads_what_trustcore_mints() -> None:
    s = scene()
    biscuit = bp.Biscuit.from_base64(s.token, biscuit_public_key(s.issuer.public_hex))
    token = tc.parse_token(s.issuer.public_hex, s.token)
    assert biscuit.block_source(0) == token.block_source(0)
    assert biscuit.revocation_ids == token.revocation_ids
    assert biscuit.block_count() == token.block_count()


def test_biscuit_private_key_is_the_issuer_seed() -> None:
    s = scene()
    key = s.issuer.biscuit_private_key()
    assert bytes(key.to_bytes()) == s.issuer.seed
