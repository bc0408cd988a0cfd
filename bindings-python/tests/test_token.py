"""Beyond trust-core 0.1: parse_token and Token, the general authorizer, limits, key rotation,
and deny-lists of any size or kind."""

from __future__ import annotations

import pickle

import pytest

import trustcore as tc

from helpers import ALLOW, scene


def test_parse_token_from_base64_and_bytes() -> None:
    s = scene()
    token = tc.parse_token(s.issuer.public_hex, s.token)
    assert token.block_count() == 1
    assert token.to_base64() == s.token
    again = tc.parse_token(s.issuer.public_hex, token.to_bytes())
    assert again.revocation_ids == token.revocation_ids
    assert len(token.revocation_ids) == 1 and len(token.revocation_ids[0]) == 128
    assert token.root_key_id() is None
    source = token.block_source(0)
    assert source.startswith(f'worker_key("{s.worker.public_hex}");\nworker_id("worker-1");\n')
    assert 'revocation("rev-1");' in source


def test_a_token_never_shows_its_bytes() -> None:
    s = scene()
    token = tc.parse_token(s.issuer.public_hex, s.token)
    assert repr(token) == "Token(blocks=1)"
    with pytest.raises(TypeError):
        pickle.dumps(token)


def test_authorize_returns_the_matching_policy() -> None:
    s = scene()
    token = tc.parse_token(s.issuer.public_hex, s.token)
    code = 'allow if right("admin"); allow if right("read");'
    assert token.authorize(code, s.now) == 1
    assert tc.authorize(token, code, s.now) == 1
    with pytest.raises(tc.Denied):
        token.authorize('deny if right("read"); allow if true;', s.now)
    with pytest.raises(tc.Denied):  # no time fact: the expiry check cannot pass
        token.authorize("allow if true;", None)
    assert token.authorize('allow if "a".extern::test("a") == "equal strings";', s.now, extern_functions=["test"]) == 0


def test_limits_are_enforced_and_reported() -> None:
    s = scene()
    token, _ = s.authenticate()
    default = tc.Limits()
    assert (default.max_time_ms, default.max_facts, default.max_iterations) == (10.0, 1000, 100)
    assert tc.Limits(max_facts=2) == tc.Limits(max_facts=2) != default
    assert pickle.loads(pickle.dumps(tc.Limits(max_iterations=3))) == tc.Limits(max_iterations=3)
    with pytest.raises(tc.LimitExceeded):
        tc.check_policy(token, request_facts={"req_right": "read"}, allow=ALLOW, now=s.now, limits=tc.Limits(max_time_ms=0))
    # the fact limit counts facts that rules generate
    code = "".join(f"f({n});" for n in range(20)) + "g($x) <- f($x); allow if true;"
    assert token.authorize(code, s.now, limits=tc.Limits(max_facts=100)) == 0
    with pytest.raises(tc.LimitExceeded):
        token.authorize(code, s.now, limits=tc.Limits(max_facts=30))
    # authenticate's own limits: the token's size, checked before it is decoded
    s.authenticate(limits=tc.Limits(max_token_bytes=len(s.token)))
    with pytest.raises(tc.LimitExceeded):
        s.authenticate(limits=tc.Limits(max_token_bytes=len(s.token) - 1))


def test_key_rotation_selects_the_issuer_key_by_root_key_id() -> None:
    s = scene()
    old, new = tc.IssuerKey.generate(), tc.IssuerKey.generate()
    minted = tc.mint_biscuit(
        new,
        public_hex=s.worker.public_hex,
        holder_id="h",
        facts={},
        revocation_id="r",
        expires_at=s.now + 60,
        root_key_id=2,
    )
    keys = {1: old.public_hex, 2: new.public_hex}
    token = tc.parse_token(keys, minted)
    assert token.root_key_id() == 2
    assert repr(token) == "Token(blocks=1, root_key_id=2)"
    proof = tc.make_proof(s.worker, minted, s.request, timestamp=str(int(s.now)), nonce="n")
    _, identity = tc.authenticate(keys, proof, s.request, now=s.now, revoked_ids=(), max_skew_seconds=5)
    assert identity.holder_id == "h"
    with pytest.raises(tc.TokenInvalid):
        tc.parse_token({1: old.public_hex}, minted)
    with pytest.raises(tc.TokenInvalid):  # a token naming no key id, with several keys trusted
        tc.parse_token(keys, s.token)


class DenyStore:
    """An app's own deny-list (say, backed by a database): anything with __contains__."""

    def __init__(self, ids: set[str], fail: bool = False) -> None:
        self.ids, self.fail = ids, fail
        self.asked: list[str] = []

    def __contains__(self, item: object) -> bool:
        assert isinstance(item, str)
        self.asked.append(item)
        if self.fail:
            raise ConnectionError("deny-list store is down")
        return item in self.ids


def test_deny_lists_of_any_size_and_kind() -> None:
    s = scene()
    many = {f"rev-{n}" for n in range(2, 5000)}
    s.authenticate(revoked_ids=many)
    with pytest.raises(tc.Revoked):
        s.authenticate(revoked_ids=many | {"rev-1"})
    for small in (["rev-1"], ("x", "rev-1"), {"rev-1"}, frozenset({"rev-1"}), {"rev-1": True}):
        with pytest.raises(tc.Revoked):
            s.authenticate(revoked_ids=small)
    store = DenyStore({"nope"})
    s.authenticate(revoked_ids=store)
    assert store.asked[0] == "rev-1"  # the app id first, then each block's own id
    with pytest.raises(tc.Revoked):
        s.authenticate(revoked_ids=DenyStore({"rev-1"}))
    # a store that cannot answer fails closed, with its own exception
    with pytest.raises(ConnectionError):
        s.authenticate(revoked_ids=DenyStore(set(), fail=True))


def test_cr_lf_and_timestamp_hardening() -> None:
    s = scene()
    for bad in ("yesterday", "nan", "inf", " 1", "1_000", ""):
        proof = tc.WorkerProof(s.proof.token, s.proof.signature, bad, s.proof.nonce)
        with pytest.raises(tc.MalformedInput):
            tc.authenticate(s.issuer.public_hex, proof, s.request, now=s.now, revoked_ids=(), max_skew_seconds=30)
    with pytest.raises(tc.MalformedInput):
        tc.make_proof(s.worker, s.token, s.request, timestamp="1", nonce="a\r\nb")
