"""The panic boundary (docs/DESIGN.md §5): no panic crosses into Python.

Run only against a `fault-injection` build (`make test-panic-python` builds one into
target/python-wheels-fault and installs it in bindings-python/.venv-fault): there core panics inside
`canonical_request` whenever the request method is ``TRUSTCORE-INJECTED-PANIC``. Every entry point
that reaches it must raise :class:`trustcore.Internal` (a :class:`trustcore.TrustError` with code
INTERNAL, never PyO3's ``PanicException``, a BaseException that ``except Exception`` misses), the
process lives on, and the same keys and Verifier keep working afterwards. Outside the default
pytest collection (pyproject.toml: norecursedirs): a release build does not panic, so these
tests would fail there.
"""

from __future__ import annotations

import threading
import time

import pytest

import trustcore as tc

PANIC_METHOD = "TRUSTCORE-INJECTED-PANIC"
ALLOW = 'allow if req_operation("lease"), lane("transcribe")'
NOW = time.time()
STAMP = str(int(NOW))

ISSUER = tc.IssuerKey.from_secret_hex("11" * 32)
HOLDER = tc.WorkerKey.from_secret_hex("22" * 32)
TOKEN = tc.mint_biscuit(
    ISSUER,
    public_hex=HOLDER.public_hex,
    holder_id="gpu-1",
    facts={"lane": ["transcribe", "gpu"]},
    revocation_id="rev-1",
    expires_at=NOW + 3600,
)
GOOD = tc.RequestParts("POST", "/lease", b"{}")
PANICS = tc.RequestParts(PANIC_METHOD, "/lease", b"{}")
NONCES = iter(range(1_000_000))


def fresh_proof() -> tc.WorkerProof:
    """A valid proof of GOOD with a nonce never used before: against PANICS it passes every check
    before the canonical request (token, identity, revocation, freshness), then core panics."""
    return tc.make_proof(HOLDER, TOKEN, GOOD, timestamp=STAMP, nonce=f"n-{next(NONCES)}")


def authenticate(proof: tc.WorkerProof, request: tc.RequestParts) -> tuple[tc.Token, tc.VerifiedIdentity]:
    return tc.authenticate(ISSUER.public_hex, proof, request, now=NOW, revoked_ids=frozenset(), max_skew_seconds=300)


def expect_internal(call: object, *args: object, **kwargs: object) -> tc.TrustError:
    """The call raises INTERNAL as a TrustError (so `except Exception` catches it)."""
    assert callable(call)
    try:
        call(*args, **kwargs)
    except Exception as err:  # a PanicException (BaseException) would escape this and fail the test
        assert isinstance(err, tc.Internal), f"{type(err).__name__}: {err}"
        assert isinstance(err, tc.TrustError)
        assert err.code == "INTERNAL"
        return err
    raise AssertionError(f"{call!r} did not raise")


def test_canonical_request() -> None:
    expect_internal(PANICS.canonical, timestamp=STAMP, nonce="n")
    assert GOOD.canonical(timestamp=STAMP, nonce="n") == (
        b"POST\n/lease\n44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\n" + STAMP.encode() + b"\nn"
    )


def test_make_proof_then_the_same_key_still_signs() -> None:
    expect_internal(tc.make_proof, HOLDER, TOKEN, PANICS, timestamp=STAMP, nonce="n-p")
    proof = tc.make_proof(HOLDER, TOKEN, GOOD, timestamp=STAMP, nonce="n-p")
    _, identity = authenticate(proof, GOOD)
    assert identity.holder_public_hex == HOLDER.public_hex


def test_http_sign_request_then_the_same_key_still_signs() -> None:
    # the legacy profile signs the canonical request; decide() never reaches it with this method
    # (a route's method is upper-case letters only, so the request is refused before any proof)
    url = "https://api.example.com/lease"
    expect_internal(tc.http.sign_request, HOLDER, TOKEN, PANIC_METHOD, url, body=b"{}", profile="legacy")
    added = tc.http.sign_request(HOLDER, TOKEN, "POST", url, body=b"{}", profile="legacy", created=int(NOW), nonce="n-h")
    _, identity = authenticate(tc.proof_from_headers(added), GOOD)
    assert identity.holder_id == "gpu-1"


def test_stateless_authenticate_then_a_normal_request() -> None:
    proof = fresh_proof()
    expect_internal(authenticate, proof, PANICS)
    expect_internal(
        tc.authenticate,
        ISSUER.public_hex,
        proof,
        PANICS,
        now=NOW,
        revoked_ids=set(),
        max_skew_seconds=300,
        limits=tc.Limits(),
    )
    token, identity = authenticate(proof, GOOD)
    assert identity.holder_id == "gpu-1"
    tc.check_policy(token, request_facts={"req_operation": "lease"}, allow=ALLOW, now=NOW)


def test_verifier_authenticate_then_the_same_verifier_works() -> None:
    verifier = tc.Verifier(ISSUER.public_hex, max_skew_seconds=300)
    proof = fresh_proof()
    expect_internal(verifier.authenticate, proof, PANICS, now=NOW)
    # the panic came before the proof and the replay store: the nonce is not used up, and the
    # token is not cached yet (a token is admitted only once a proof verified with it)
    token, identity = verifier.authenticate(proof, GOOD, now=NOW)
    assert identity.revocation_id == "rev-1"
    verifier.check_policy(token, request_facts={"req_operation": "lease"}, allow=ALLOW, now=NOW)
    with pytest.raises(tc.Replayed):
        verifier.authenticate(proof, GOOD, now=NOW)
    hits, misses = verifier.cache_stats()
    assert (hits, misses) == (1, 2)
    # the system clock path too
    expect_internal(verifier.authenticate, fresh_proof(), PANICS)
    verifier.authenticate(fresh_proof(), GOOD)


def test_verifier_authenticate_batch_then_the_same_verifier_works() -> None:
    verifier = tc.Verifier(ISSUER.public_hex, max_skew_seconds=300)
    alone = fresh_proof()
    [outcome] = verifier.authenticate_batch([(alone, PANICS)], now=NOW)
    assert isinstance(outcome, tc.Internal) and outcome.code == "INTERNAL"

    good, panicking = fresh_proof(), fresh_proof()
    outcomes = verifier.authenticate_batch([(good, GOOD), (panicking, PANICS), (alone, GOOD)], now=NOW)
    assert len(outcomes) == 3
    assert isinstance(outcomes[1], tc.Internal) and outcomes[1].code == "INTERNAL"
    # the panic stops the whole batch before any nonce is recorded: its other requests are
    # INTERNAL too (returned, not raised), and can be sent again
    assert all(isinstance(o, tc.Internal) for o in outcomes)

    again = verifier.authenticate_batch([(good, GOOD), (alone, GOOD), (panicking, GOOD)], now=NOW)
    assert [o[1].holder_id for o in again if not isinstance(o, tc.TrustError)] == ["gpu-1"] * 3
    token, _ = verifier.authenticate(fresh_proof(), GOOD, now=NOW)
    verifier.check_policy(token, request_facts={"req_operation": "lease"}, allow=ALLOW, now=NOW)


def test_many_panics_leave_everything_usable() -> None:
    verifier = tc.Verifier(ISSUER.public_hex, max_skew_seconds=300)
    for _ in range(200):
        expect_internal(verifier.authenticate, fresh_proof(), PANICS, now=NOW)
        expect_internal(tc.make_proof, HOLDER, TOKEN, PANICS, timestamp=STAMP, nonce="n-x")
    verifier.authenticate(fresh_proof(), GOOD, now=NOW)
    authenticate(fresh_proof(), GOOD)


def test_panics_on_two_threads_at_once_with_normal_requests_between() -> None:
    """The GIL is released around core: panics on one thread while the other verifies through the
    same Verifier (its locks are not left poisoned)."""
    verifier = tc.Verifier(ISSUER.public_hex, max_skew_seconds=300)
    work = [[fresh_proof() for _ in range(100)] for _ in range(2)]
    failures: list[BaseException] = []
    accepted = [0, 0]

    def run(t: int) -> None:
        try:
            for n, proof in enumerate(work[t]):
                if n % 2:
                    expect_internal(verifier.authenticate, proof, PANICS, now=NOW)
                else:
                    verifier.authenticate(proof, GOOD, now=NOW)
                    accepted[t] += 1
        except BaseException as err:  # noqa: BLE001  (reported below)
            failures.append(err)

    threads = [threading.Thread(target=run, args=(t,)) for t in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert accepted == [50, 50]
