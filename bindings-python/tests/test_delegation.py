"""Delegation through the binding (docs/DESIGN.md §3.13): ``trustcore.delegate``, ``mint_biscuit``'s
and the signer client's ``delegation_depth``, the identity's ``chain`` everywhere an identity is
returned (authenticate, Verifier, batch, HTTP decision), ``Token.delegation_chain``, and the GIL
released while a holder delegates. The rules are core's, pinned by tests/vectors/delegation.json
(test_conformance.py); this file checks the binding's conversions and which class each failure
raises. Interop with biscuit-python and trust-core 0.1: test_delegation_interop.py.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import pickle
import threading
import time
from dataclasses import dataclass

import pytest

import trustcore as tc
from trustcore import http

from signer_daemon import Daemon

ALLOW = "allow if right($r), req_right($r)"


@dataclass(frozen=True)
class Chain:
    issuer: tc.IssuerKey
    a: tc.WorkerKey
    b: tc.WorkerKey
    c: tc.WorkerKey
    token: str  # A's, delegable twice
    now: float

    def request(self, token: str, key: tc.WorkerKey, nonce: str = "n-1") -> tuple[tc.WorkerProof, tc.RequestParts]:
        parts = tc.RequestParts("POST", "/lease", b"{}")
        return tc.make_proof(key, token, parts, timestamp=str(int(self.now)), nonce=nonce), parts

    def authenticate(self, token: str, key: tc.WorkerKey, **kw: object) -> tuple[tc.Token, tc.VerifiedIdentity]:
        proof, parts = self.request(token, key)
        options: dict[str, object] = {"now": self.now, "revoked_ids": (), "max_skew_seconds": 30, **kw}
        return tc.authenticate(self.issuer.public_hex, proof, parts, **options)  # type: ignore[arg-type]


@pytest.fixture
def fx() -> Chain:
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
    return Chain(issuer, a, b, c, token, now)


def holders(*pairs: tuple[str, tc.WorkerKey]) -> tuple[tc.Holder, ...]:
    return tuple(tc.Holder(name, key.public_hex) for name, key in pairs)


# ---- minting --------------------------------------------------------------------------------------


def test_mint_writes_the_depth_and_refuses_more_than_eight(fx: Chain) -> None:
    block = tc.parse_token(fx.issuer.public_hex, fx.token).block_source(0)
    assert 'revocation("rev-a");\ndelegation_depth(2);\n' in block

    def mint(depth: object) -> str:
        return tc.mint_biscuit(
            fx.issuer,
            public_hex=fx.a.public_hex,
            holder_id="a",
            facts={},
            revocation_id="r",
            expires_at=fx.now + 60,
            delegation_depth=depth,  # type: ignore[arg-type]
        )

    assert "delegation_depth" not in tc.parse_token(fx.issuer.public_hex, mint(0)).block_source(0)
    assert "delegation_depth(8)" in tc.parse_token(fx.issuer.public_hex, mint(8)).block_source(0)
    for over in (9, -1, 1 << 40, 10**30):
        with pytest.raises(tc.MalformedInput):
            mint(over)
    for wrong in ("2", 2.0, None):
        with pytest.raises(TypeError):
            mint(wrong)


def test_the_new_keywords_are_optional_and_named_as_in_core() -> None:
    assert inspect.signature(tc.mint_biscuit).parameters["delegation_depth"].default == 0
    assert inspect.signature(tc.SignerClient.mint).parameters["delegation_depth"].default == 0
    params = inspect.signature(tc.delegate).parameters
    # core's DelegateRequest: to_public_hex, to_holder_id, checks, expires_at
    assert list(params) == ["token", "holder_key", "to_public_hex", "to_holder_id", "checks", "expires_at"]
    assert params["checks"].default == ""
    assert params["expires_at"].kind is inspect.Parameter.KEYWORD_ONLY
    assert params["expires_at"].default is inspect.Parameter.empty


# ---- delegating -----------------------------------------------------------------------------------


def test_a_holder_delegates_and_the_next_holder_proves(fx: Chain) -> None:
    ab = tc.delegate(fx.token, fx.a, fx.b.public_hex, "b", expires_at=fx.now + 600)
    token, identity = fx.authenticate(ab, fx.b)
    assert (identity.holder_id, identity.holder_public_hex, identity.revocation_id) == ("b", fx.b.public_hex, "rev-a")
    assert identity.chain == holders(("a", fx.a), ("b", fx.b))
    assert all(isinstance(h, tc.Holder) for h in identity.chain)
    assert identity.chain[-1].holder_id == identity.holder_id
    assert token.delegation_chain() == list(identity.chain)
    tc.check_policy(token, request_facts={"req_right": "lease"}, allow=ALLOW, now=fx.now)

    abc = tc.delegate(ab, fx.b, fx.c.public_hex, "c", 'check if req_right("read");', expires_at=fx.now + 300)
    token, identity = fx.authenticate(abc, fx.c)
    assert identity.chain == holders(("a", fx.a), ("b", fx.b), ("c", fx.c))
    tc.check_policy(token, request_facts={"req_right": "read"}, allow=ALLOW, now=fx.now)
    with pytest.raises(tc.Denied):  # b's narrowing check
        tc.check_policy(token, request_facts={"req_right": "lease"}, allow=ALLOW, now=fx.now)
    # the policy sees the chain
    tc.check_policy(token, request_facts={"req_right": "read"}, allow=f'{ALLOW}, holder_chain(1, "b", "{fx.b.public_hex}")', now=fx.now)
    with pytest.raises(tc.Denied):
        tc.check_policy(token, request_facts={"req_right": "read"}, allow=f'{ALLOW}, holder_chain(3, $id, $k)', now=fx.now)
    # the proof must come from the last holder
    with pytest.raises(tc.PopFailed):
        fx.authenticate(abc, fx.b)


def test_a_link_costs_about_half_a_kilobyte(fx: Chain) -> None:
    # the README's figure: a block, its two signatures and the next key
    ab = tc.delegate(fx.token, fx.a, fx.b.public_hex, "b", expires_at=fx.now + 600)
    abc = tc.delegate(ab, fx.b, fx.c.public_hex, "c", expires_at=fx.now + 600)
    for before, after in ((fx.token, ab), (ab, abc)):
        assert 400 <= len(after) - len(before) <= 700


def test_delegate_refusals_raise_their_classes(fx: Chain) -> None:
    later = fx.now + 600
    with pytest.raises(tc.MalformedInput):  # not the current holder
        tc.delegate(fx.token, fx.b, fx.c.public_hex, "c", expires_at=later)
    with pytest.raises(tc.MalformedInput):  # outlives the token
        tc.delegate(fx.token, fx.a, fx.b.public_hex, "b", expires_at=fx.now + 7200)
    with pytest.raises(tc.MalformedInput):  # a fact is no check
        tc.delegate(fx.token, fx.a, fx.b.public_hex, "b", 'right("admin");', expires_at=later)
    with pytest.raises(tc.MalformedInput):
        tc.delegate(fx.token, fx.a, "zz" * 32, "b", expires_at=later)
    with pytest.raises(tc.MalformedInput):
        tc.delegate(fx.token, fx.a, fx.b.public_hex, "b", expires_at=float("nan"))
    with pytest.raises(tc.TokenInvalid):
        tc.delegate("not a token", fx.a, fx.b.public_hex, "b", expires_at=later)
    plain = tc.mint_biscuit(
        fx.issuer, public_hex=fx.a.public_hex, holder_id="a", facts={}, revocation_id="r", expires_at=fx.now + 60
    )
    with pytest.raises(tc.DelegationInvalid) as refused:  # minted without a depth
        tc.delegate(plain, fx.a, fx.b.public_hex, "b", expires_at=fx.now + 30)
    assert refused.value.code == "DELEGATION_INVALID"
    ab = tc.delegate(fx.token, fx.a, fx.b.public_hex, "b", expires_at=later)
    abc = tc.delegate(ab, fx.b, fx.c.public_hex, "c", expires_at=later)
    with pytest.raises(tc.DelegationInvalid):  # depth 2 used up
        tc.delegate(abc, fx.c, fx.a.public_hex, "a", expires_at=later)


def test_delegate_wants_a_worker_key_and_strs(fx: Chain) -> None:
    with pytest.raises(TypeError):
        tc.delegate(fx.token, fx.a.secret_hex, fx.b.public_hex, "b", expires_at=fx.now + 60)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        tc.delegate(fx.token, fx.a, fx.b.public_hex, "b", None, expires_at=fx.now + 60)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        tc.delegate(fx.token, fx.a, fx.b.public_hex, "b", expires_at="soon")  # type: ignore[arg-type]
    with pytest.raises(TypeError):  # expires_at is keyword-only
        tc.delegate(fx.token, fx.a, fx.b.public_hex, "b", "", fx.now + 60)  # type: ignore[misc]
    with pytest.raises(tc.MalformedInput):
        tc.delegate(fx.token, fx.a, fx.b.public_hex, "\udcff", expires_at=fx.now + 60)


def test_delegating_from_two_threads(fx: Chain) -> None:
    # the GIL is let go while core signs: both threads finish, and every token is right
    out: list[list[str]] = [[], []]

    def run(thread: int) -> None:
        for n in range(30):
            out[thread].append(tc.delegate(fx.token, fx.a, fx.b.public_hex, f"b-{thread}-{n}", expires_at=fx.now + 60))

    threads = [threading.Thread(target=run, args=(t,)) for t in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for thread in (0, 1):
        for n, token in enumerate(out[thread]):
            chain = tc.parse_token(fx.issuer.public_hex, token).delegation_chain()
            assert chain == [tc.Holder("a", fx.a.public_hex), tc.Holder(f"b-{thread}-{n}", fx.b.public_hex)]


# ---- the identity's chain -------------------------------------------------------------------------


def test_an_identity_built_without_a_chain_names_its_one_holder() -> None:
    identity = tc.VerifiedIdentity("h", "k", "r")
    assert identity.chain == (tc.Holder("h", "k"),)
    assert identity == tc.VerifiedIdentity("h", "k", "r", (tc.Holder("h", "k"),))
    given = tc.VerifiedIdentity("b", "kb", "r", (("a", "ka"), ("b", "kb")))  # type: ignore[arg-type]
    assert given.chain == (tc.Holder("a", "ka"), tc.Holder("b", "kb")) and isinstance(given.chain[0], tc.Holder)
    assert given != identity and hash(given) == hash(dataclasses.replace(given))
    assert pickle.loads(pickle.dumps(given)) == given
    with pytest.raises(dataclasses.FrozenInstanceError):
        given.chain = ()  # type: ignore[misc]
    holder_id, holder_public_hex = given.chain[0]
    assert (holder_id, holder_public_hex) == ("a", "ka")


def test_a_token_never_delegated_has_no_delegation_chain_and_a_one_holder_identity(fx: Chain) -> None:
    token, identity = fx.authenticate(fx.token, fx.a)
    assert token.delegation_chain() is None
    assert identity.chain == holders(("a", fx.a))
    assert identity == tc.VerifiedIdentity("a", fx.a.public_hex, "rev-a")


def test_the_verifier_and_its_batch_return_the_chain(fx: Chain) -> None:
    ab = tc.delegate(fx.token, fx.a, fx.b.public_hex, "b", expires_at=fx.now + 600)
    verifier = tc.Verifier(fx.issuer.public_hex)
    token, identity = verifier.authenticate(*fx.request(ab, fx.b), now=fx.now)
    assert identity.chain == holders(("a", fx.a), ("b", fx.b))
    verifier.check_policy(token, request_facts={"req_right": "lease"}, allow=f'{ALLOW}, holder_chain(0, "a", $k)', now=fx.now)
    with pytest.raises(tc.Replayed):  # the replay store is keyed by the last holder
        verifier.authenticate(*fx.request(ab, fx.b), now=fx.now)
    verifier.authenticate(*fx.request(fx.token, fx.a), now=fx.now)  # the same nonce from A: its own first use
    outcomes = verifier.authenticate_batch(
        [fx.request(ab, fx.b, "n-2"), fx.request(ab, fx.a, "n-3"), fx.request(fx.token, fx.a, "n-4")], now=fx.now
    )
    first, second, third = outcomes
    assert isinstance(first, tuple) and first[1].chain == holders(("a", fx.a), ("b", fx.b))
    assert isinstance(second, tc.PopFailed)
    assert isinstance(third, tuple) and third[1].chain == holders(("a", fx.a))
    # revoking the link refuses the delegated token, not A's own
    verifier.revoke(tc.parse_token(fx.issuer.public_hex, ab).revocation_ids[1])
    with pytest.raises(tc.Revoked):
        verifier.authenticate(*fx.request(ab, fx.b, "n-5"), now=fx.now)
    verifier.authenticate(*fx.request(fx.token, fx.a, "n-5"), now=fx.now)


# ---- HTTP -------------------------------------------------------------------------------------------


def test_a_decision_on_a_delegated_token_names_the_chain(fx: Chain) -> None:
    host = "api.example"
    policy = tc.HttpPolicy.from_json(
        json.dumps({"routes": [{"method": "POST", "path": "/lease", "allow": 'allow if right("lease"), holder_chain(1, "b", $k)'}]})
    )
    verifier = tc.Verifier(fx.issuer.public_hex, authorities=[host])
    ab = tc.delegate(fx.token, fx.a, fx.b.public_hex, "b", expires_at=fx.now + 600)

    def decide(token: str, key: tc.WorkerKey, nonce: str) -> tc.Decision:
        added = http.sign_request(key, token, "POST", f"https://{host}/lease", body=b"{}", nonce=nonce)
        return verifier.decide("POST", "/lease", [("Host", host), *added.items()], b"{}", policy=policy, now=fx.now)

    allowed = decide(ab, fx.b, "h-1")
    assert allowed.allowed, allowed
    assert allowed.identity is not None and allowed.identity.chain == holders(("a", fx.a), ("b", fx.b))
    refused = decide(fx.token, fx.a, "h-2")  # A's own token: no holder_chain(1, …)
    assert not refused.allowed and refused.status == 403
    assert decide(ab, fx.a, "h-3").code == "POP_FAILED"


# ---- the signer ---------------------------------------------------------------------------------------


def test_the_signer_client_mints_a_delegable_token_under_the_signers_ceiling(fx: Chain) -> None:
    args = ["--allow-predicate", "right", "--max-ttl", "3600", "--max-delegation-depth", "2"]
    with_ceiling, without = Daemon(fx.issuer.secret_hex, args), Daemon(fx.issuer.secret_hex, args[:-2])
    try:
        client = tc.SignerClient(str(with_ceiling.start().socket_path))
        minted = client.mint(fx.a.public_hex, "a", {"right": ["lease"]}, expires_at=time.time() + 600, delegation_depth=2)
        assert "delegation_depth(2);" in tc.parse_token(fx.issuer.public_hex, minted.token).block_source(0)
        ab = tc.delegate(minted.token, fx.a, fx.b.public_hex, "b", expires_at=time.time() + 300)
        assert tc.parse_token(fx.issuer.public_hex, ab).delegation_chain() == list(holders(("a", fx.a), ("b", fx.b)))
        with pytest.raises(tc.SignerRefused):
            client.mint(fx.a.public_hex, "a", {"right": ["lease"]}, expires_at=time.time() + 600, delegation_depth=3)
        plain = client.mint(fx.a.public_hex, "a", {"right": ["lease"]}, expires_at=time.time() + 600)
        assert "delegation_depth" not in tc.parse_token(fx.issuer.public_hex, plain.token).block_source(0)
        with pytest.raises(tc.MalformedInput):
            client.mint(fx.a.public_hex, "a", {}, expires_at=time.time() + 600, delegation_depth=-1)
        # the default ceiling is 0: no delegable token at all
        other = tc.SignerClient(str(without.start().socket_path))
        with pytest.raises(tc.SignerRefused):
            other.mint(fx.a.public_hex, "a", {"right": ["lease"]}, expires_at=time.time() + 600, delegation_depth=1)
    finally:
        with_ceiling.cleanup()
        without.cleanup()
