"""The error family: one TrustError subclass per core code, each with `.code`, picklable."""

from __future__ import annotations

import pickle

import pytest

import trustcore as tc
from trustcore import _trustcore

from helpers import scene


def test_one_class_per_core_code() -> None:
    assert tuple(tc.ERRORS_BY_CODE) == _trustcore.ERROR_CODES
    for code, cls in tc.ERRORS_BY_CODE.items():
        assert issubclass(cls, tc.TrustError)
        assert cls.code == code
        assert getattr(tc, cls.__name__) is cls
        assert getattr(tc.errors, cls.__name__) is cls


@pytest.mark.parametrize("cls", list(tc.ERRORS_BY_CODE.values()), ids=lambda c: c.__name__)
def test_errors_pickle_with_their_code(cls: type[tc.TrustError]) -> None:
    err = cls("what failed")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls
    assert back.code == cls.code
    assert str(back) == "what failed"


def test_trust_error_is_still_raisable_by_apps() -> None:
    # trust-core 0.1 apps alias and raise TrustError themselves
    with pytest.raises(tc.TrustError) as info:
        raise tc.TrustError("job not found")
    assert info.value.code == "INTERNAL"


def test_a_panic_becomes_internal() -> None:
    with pytest.raises(tc.Internal) as info:
        _trustcore._panic_for_tests()
    assert info.value.code == "INTERNAL"
    assert isinstance(info.value, tc.TrustError)


def test_messages_keep_trust_core_phrases() -> None:
    s = scene()
    with pytest.raises(tc.Revoked, match="worker credential is revoked"):
        s.authenticate(revoked_ids={"rev-1"})
    with pytest.raises(tc.StaleRequest, match=r"stale request \(replay or clock skew\)"):
        s.authenticate(now=s.now + 3600)
    with pytest.raises(tc.TokenInvalid, match="biscuit failed verification"):
        tc.authenticate(tc.IssuerKey.generate().public_hex, s.proof, s.request, now=s.now, revoked_ids=(), max_skew_seconds=30)
    tampered = tc.RequestParts(s.request.method, s.request.path, b"other body")
    with pytest.raises(tc.PopFailed, match="proof-of-possession signature failed"):
        tc.authenticate(s.issuer.public_hex, s.proof, tampered, now=s.now, revoked_ids=(), max_skew_seconds=30)
    token, _ = s.authenticate()
    with pytest.raises(tc.Denied, match="worker not authorized for this operation"):
        tc.check_policy(token, request_facts={"req_right": "admin"}, allow="allow if right($r), req_right($r)", now=s.now)


def test_messages_carry_no_secret() -> None:
    s = scene()
    secret = s.issuer.secret_hex
    for bad in (secret[:-1], secret + "zz", "nothex"):
        with pytest.raises(tc.MalformedInput) as info:
            tc.IssuerKey.from_secret_hex(bad)
        assert secret[:16] not in str(info.value)
