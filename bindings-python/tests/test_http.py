"""trustcore.http and Verifier.decide: the binding's conversions (what it takes, what it returns,
which class each failure raises), the GIL released while a decision waits. The rules themselves are
core's, pinned by tests/vectors/http.json and the RFC's own examples (test_conformance.py)."""

from __future__ import annotations

import base64
import dataclasses
import json
import socket
import threading
import time
from pathlib import Path

import pytest

import trustcore as tc
from trustcore import http

HOST = "api.example.com"
POLICY = json.dumps(
    {
        "max_body_bytes": 1024,
        "routes": [
            {"method": "POST", "path": "/lease/{lane}", "allow": 'allow if right("lease"), req_param_lane($l), lane($l)'},
            {"method": "GET", "path": "/health", "public": True},
            {"method": "POST", "path": "/audited", "allow": 'allow if right("lease"), req_team("blue")'},
        ],
    }
)


@dataclasses.dataclass(frozen=True)
class Fixture:
    issuer: tc.IssuerKey
    holder: tc.WorkerKey
    token: str
    policy: tc.HttpPolicy
    now: float

    def verifier(self, **settings: object) -> tc.Verifier:
        settings.setdefault("authorities", [HOST])
        return tc.Verifier(self.issuer.public_hex, **settings)  # type: ignore[arg-type]

    def signed(
        self, target: str = "/lease/a", body: bytes = b"{}", *, host: str = HOST, nonce: str = "n-1", **kw: object
    ) -> list[tuple[str, str]]:
        """The header lines of a POST signed for https://host/target."""
        added = http.sign_request(self.holder, self.token, "POST", f"https://{host}{target}", body=body, nonce=nonce, **kw)  # type: ignore[arg-type]
        return [("Host", host), *added.items()]


@pytest.fixture
def fx() -> Fixture:
    issuer, holder = tc.IssuerKey(bytes(range(32))), tc.WorkerKey(bytes(range(32, 64)))
    now = time.time()
    token = tc.mint_biscuit(
        issuer,
        public_hex=holder.public_hex,
        holder_id="gpu-1",
        facts={"right": ["lease"], "lane": ["a"]},
        revocation_id="rev-1",
        expires_at=now + 3600,
    )
    return Fixture(issuer, holder, token, tc.HttpPolicy.from_json(POLICY), now)


# ---- signing --------------------------------------------------------------------------------------


def test_sign_request_returns_the_headers_to_add_in_cores_order(fx: Fixture) -> None:
    added = http.sign_request(fx.holder, fx.token, "POST", "https://API.example.com:443/lease/a?x=1", body=b"{}")
    assert list(added) == ["Authorization", "Content-Digest", "Signature-Input", "Signature"]
    assert added["Authorization"] == f"Biscuit {fx.token}"
    assert added["Content-Digest"] == http.content_digest(b"{}")
    keyid = http.jwk_thumbprint(fx.holder.public_hex)
    assert added["Signature-Input"].startswith(
        'tc=("@method" "@authority" "@path" "@query" "authorization" "content-digest");created='
    )
    assert f';keyid="{keyid}";' in added["Signature-Input"] and added["Signature-Input"].endswith(';tag="trustcore"')
    # what was signed: the authority lower-cased, its default port dropped
    headers = [("Host", HOST), *added.items()]
    base = http.signature_base("POST", "/lease/a?x=1", headers, "tc", b"{}")
    assert base.startswith(b'"@method": POST\n"@authority": api.example.com\n"@path": /lease/a\n"@query": ?x=1\n')
    http.verify_signature("POST", "/lease/a?x=1", headers, "tc", fx.holder.public_hex, b"{}")


def test_created_and_nonce_make_signing_reproducible(fx: Fixture) -> None:
    one = http.sign_request(fx.holder, fx.token, "GET", "https://api.example.com/", created=1_700_000_000, nonce="n")
    two = http.sign_request(fx.holder, fx.token, "GET", "https://api.example.com/", created=1_700_000_000, nonce="n")
    assert one == two and ";created=1700000000;" in one["Signature-Input"] and ';nonce="n";' in one["Signature-Input"]
    fresh = http.sign_request(fx.holder, fx.token, "GET", "https://api.example.com/")
    assert fresh["Signature"] != one["Signature"]  # now, and 128 random bits


@pytest.mark.parametrize(
    "headers",
    [{"Host": HOST}, [("Host", HOST)], [["host", HOST]], (("HOST", HOST),)],
    ids=["dict", "pairs", "lists", "tuple"],
)
def test_an_origin_form_target_takes_its_host_from_headers_in_any_form(fx: Fixture, headers: object) -> None:
    added = http.sign_request(fx.holder, fx.token, "POST", "/lease/a", headers, b"{}", created=1, nonce="n")  # type: ignore[arg-type]
    assert added == http.sign_request(fx.holder, fx.token, "POST", f"https://{HOST}/lease/a", None, b"{}", created=1, nonce="n")


def test_the_legacy_profile_gives_trust_core_0_1_headers(fx: Fixture) -> None:
    added = http.sign_request(
        fx.holder, fx.token, "POST", "http://api.example.com/lease?x=1", body=b"{}", profile="legacy", created=int(fx.now), nonce="n"
    )
    assert list(added) == ["Authorization", "X-EP-Signature", "X-EP-Timestamp", "X-EP-Nonce"]
    # what a trust-core 0.1 service reads: the canonical request over the target with its query
    proof = tc.proof_from_headers(added)
    _, identity = fx.verifier().authenticate(proof, tc.RequestParts("POST", "/lease?x=1", b"{}"), now=fx.now)
    assert identity.holder_id == "gpu-1"


def test_signing_refusals(fx: Fixture) -> None:
    sign = http.sign_request
    with pytest.raises(tc.MalformedInput):
        sign(fx.holder, fx.token, "POST", "/lease/a")  # no Host
    with pytest.raises(tc.MalformedInput):
        sign(fx.holder, fx.token, "POST", "https://user:pw@api.example.com/")
    with pytest.raises(tc.MalformedInput):
        sign(fx.holder, fx.token, "POST", "https://api.example.com/", profile="dpop")  # type: ignore[arg-type]
    with pytest.raises(tc.MalformedInput):
        sign(fx.holder, "two words", "POST", "https://api.example.com/")
    with pytest.raises(tc.MalformedInput):
        sign(fx.holder, fx.token, "POST", "https://api.example.com/", created=1 << 70)
    with pytest.raises(TypeError):
        sign(fx.holder, fx.token, "POST", "https://api.example.com/", created=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        sign(fx.holder, fx.token, "POST", "https://api.example.com/", "Host: x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        sign(fx.holder, fx.token, "POST", "https://api.example.com/", [("Host",)])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        sign(fx.holder, fx.token, "POST", "https://api.example.com/", body="{}")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        sign(fx.issuer, fx.token, "POST", "https://api.example.com/")  # type: ignore[arg-type]


# ---- the generic RFC 9421 functions -------------------------------------------------------------


def test_verify_signature_refuses_another_key_or_a_changed_request(fx: Fixture) -> None:
    headers = fx.signed()
    http.verify_signature("POST", "/lease/a", headers, "tc", fx.holder.public_hex, b"{}")
    with pytest.raises(tc.PopFailed):
        http.verify_signature("POST", "/lease/a", headers, "tc", tc.WorkerKey.generate().public_hex, b"{}")
    with pytest.raises(tc.PopFailed):
        http.verify_signature("POST", "/lease/b", headers, "tc", fx.holder.public_hex, b"{}")
    with pytest.raises(tc.MalformedInput):
        http.verify_signature("POST", "/lease/a", headers, "other", fx.holder.public_hex, b"{}")
    with pytest.raises(tc.MalformedInput):
        http.verify_signature("POST", "/lease/a", headers, "tc", "not hex", b"{}")
    with pytest.raises(tc.MalformedInput):
        http.signature_base("POST", "/lease/a", [("Host", HOST)], "tc")


def test_content_digest_and_thumbprint_match_their_rfcs() -> None:
    # RFC 9530 Appendix D; RFC 8037 Appendix A.3 (the thumbprint of its Ed25519 key, RFC 7638)
    assert http.content_digest(b'{"hello": "world"}') == "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
    x = base64.urlsafe_b64decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
    assert http.jwk_thumbprint(x.hex()) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    with pytest.raises(tc.MalformedInput):
        http.jwk_thumbprint("00")


# ---- the route policy ----------------------------------------------------------------------------


def test_a_policy_reads_from_text_bytes_or_a_file(fx: Fixture, tmp_path: Path) -> None:
    policy = fx.policy
    assert (len(policy), policy.max_body_bytes) == (3, 1024)
    assert policy.routes[1] == ("GET", "/health", None)
    assert policy.routes[0][:2] == ("POST", "/lease/{lane}")
    assert repr(policy) == "HttpPolicy(routes=3, max_body_bytes=1024)"
    assert tc.HttpPolicy.from_json(POLICY.encode()).routes == policy.routes
    path = tmp_path / "routes.json"
    path.write_text(POLICY)
    assert tc.HttpPolicy.from_file(path).routes == policy.routes
    assert tc.HttpPolicy.from_file(str(path)).routes == policy.routes
    assert tc.HttpPolicy.from_json('{"routes": []}').max_body_bytes == 1024 * 1024


def test_a_bad_policy_is_malformed_input(tmp_path: Path) -> None:
    for text in ("", "[]", '{"routes": [{"method": "GET", "path": "/a"}]}', '{"routes": [], "extra": 1}'):
        with pytest.raises(tc.MalformedInput):
            tc.HttpPolicy.from_json(text)
    with pytest.raises(tc.MalformedInput):
        tc.HttpPolicy.from_file(tmp_path / "missing.json")
    with pytest.raises(TypeError):
        tc.HttpPolicy.from_json({"routes": []})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        tc.HttpPolicy.from_file(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        tc.HttpPolicy()  # type: ignore[call-arg]


# ---- the Verifier's HTTP settings and its decision ------------------------------------------------


def test_verifier_http_settings_are_checked_by_core(fx: Fixture) -> None:
    for settings in ({"authorities": ["user@evil"]}, {"profiles": []}, {"profiles": ["dpop"]}):
        with pytest.raises(tc.MalformedInput):
            fx.verifier(**settings)
    with pytest.raises(TypeError):
        fx.verifier(authorities=HOST)  # a str is not a list of authorities
    with pytest.raises(TypeError):
        fx.verifier(profiles=[1])


def test_decide_allows_with_identity_facts_route_and_profile(fx: Fixture) -> None:
    decision = fx.verifier().decide("POST", "/lease/a?x=1", fx.signed("/lease/a?x=1"), b"{}", policy=fx.policy, now=fx.now)
    assert decision == http.Decision(
        allowed=True,
        status=200,
        code=None,
        message="allowed",
        headers=[],
        body="",
        identity=tc.VerifiedIdentity("gpu-1", fx.holder.public_hex, "rev-1"),
        facts=[
            ("req_method", "POST"),
            ("req_path", "/lease/a"),
            ("req_route", "/lease/{lane}"),
            ("req_param_lane", "a"),
            ("req_query_x", "1"),
            ("req_authority", HOST),
        ],
        route="/lease/{lane}",
        profile="rfc9421",
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.allowed = False  # type: ignore[misc]


def test_a_refusal_carries_cores_status_headers_and_body(fx: Fixture) -> None:
    verifier = fx.verifier()
    headers = fx.signed()
    verifier.decide("POST", "/lease/a", headers, b"{}", policy=fx.policy)
    again = verifier.decide("POST", "/lease/a", headers, b"{}", policy=fx.policy)
    assert (again.allowed, again.status, again.code, again.identity, again.facts) == (False, 401, "REPLAYED", None, [])
    assert again.headers == [("Content-Type", "application/json"), ("WWW-Authenticate", 'Biscuit error="REPLAYED"')]
    assert json.loads(again.body) == {"error": "REPLAYED", "message": again.message}
    assert again.code == tc.Replayed.code
    wrong = verifier.decide("POST", "/lease/a", fx.signed(host="billing.example.com"), b"{}", policy=fx.policy)
    assert (wrong.status, wrong.code) == (401, tc.WrongAudience.code)
    too_big = verifier.decide("POST", "/lease/a", fx.signed(body=b"x" * 1025), b"x" * 1025, policy=fx.policy)
    assert (too_big.status, too_big.code, too_big.route) == (413, "LIMIT_EXCEEDED", None)
    tricky = verifier.decide("GET", "/lease/%2e%2e/admin", [("Host", HOST)], b"", policy=fx.policy)
    assert (tricky.status, tricky.code) == (400, "MALFORMED_INPUT")
    nowhere = verifier.decide("GET", "/nowhere", [("Host", HOST)], b"", policy=fx.policy)
    assert (nowhere.status, nowhere.code, nowhere.route) == (403, "DENIED", None)


def test_decide_takes_headers_as_pairs_a_mapping_or_anything_with_items(fx: Fixture) -> None:
    class StarletteLikeHeaders:
        """Repeats nothing here, but yields its lines from .items() as Starlette's Headers do."""

        def __init__(self, lines: list[tuple[str, str]]) -> None:
            self.lines = lines

        def items(self) -> list[tuple[str, str]]:
            return list(self.lines)

    verifier = fx.verifier()
    for n, wrap in enumerate((list, dict, StarletteLikeHeaders)):
        decision = verifier.decide("POST", "/lease/a", wrap(fx.signed(nonce=f"n-{n}")), bytearray(b"{}"), policy=fx.policy)  # type: ignore[arg-type]
        assert decision.allowed, decision


def test_public_routes_and_the_legacy_profile(fx: Fixture) -> None:
    verifier = fx.verifier()
    public = verifier.decide("GET", "/health", {"Host": HOST}, b"", policy=fx.policy)
    assert (public.allowed, public.identity, public.profile, public.route) == (True, None, None, "/health")
    legacy = http.sign_request(fx.holder, fx.token, "POST", "/lease/a", {"Host": HOST}, b"{}", profile="legacy")
    decision = verifier.decide("POST", "/lease/a", legacy, b"{}", policy=fx.policy)
    assert (decision.allowed, decision.profile) == (True, "legacy")
    assert ("req_authority", HOST) not in decision.facts  # the legacy proof does not sign the host
    only_rfc = fx.verifier(profiles=["rfc9421"])
    refused = only_rfc.decide("POST", "/lease/a", legacy, b"{}", policy=fx.policy)
    assert (refused.status, refused.code) == (401, "MALFORMED_INPUT")


def test_application_facts_reach_the_policy_and_bad_ones_raise(fx: Fixture) -> None:
    verifier = fx.verifier()
    blue = verifier.decide(
        "POST", "/audited", fx.signed("/audited", nonce="a"), b"{}", policy=fx.policy, facts={"req_team": "blue"}
    )
    assert blue.allowed and blue.facts[-1] == ("req_team", "blue")
    red = verifier.decide(
        "POST", "/audited", fx.signed("/audited", nonce="b"), b"{}", policy=fx.policy, facts=[("req_team", "red")]
    )
    assert (red.allowed, red.code) == (False, "DENIED")
    for facts in ({"req_method": "GET"}, {"team": "blue"}):
        with pytest.raises(tc.MalformedInput):
            verifier.decide("POST", "/audited", fx.signed("/audited", nonce="c"), b"{}", policy=fx.policy, facts=facts)
    with pytest.raises(TypeError):
        verifier.decide("POST", "/audited", [], b"", policy=POLICY)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        verifier.decide("POST", "/audited", [], "", policy=fx.policy)  # type: ignore[arg-type]


def test_the_gil_is_released_while_a_decision_waits_on_redis(fx: Fixture) -> None:
    # a listener that never accepts: the connection opens (the kernel's backlog), no command is
    # ever answered, so the decision waits out the timeouts, then is 503 with Retry-After
    with socket.socket() as hole:
        hole.bind(("127.0.0.1", 0))
        hole.listen(8)
        url = f"redis://127.0.0.1:{hole.getsockname()[1]}/0"
        options = tc.RedisOptions(url, connect_timeout=0.5, command_timeout=0.5, request_timeout=0.5)
        verifier = fx.verifier(redis=options)
        ticks = [0]
        done = threading.Event()

        def tick() -> None:
            while not done.is_set():
                ticks[0] += 1
                time.sleep(0.001)

        ticker = threading.Thread(target=tick)
        ticker.start()
        try:
            decision = verifier.decide("POST", "/lease/a", fx.signed(), b"{}", policy=fx.policy)
        finally:
            done.set()
            ticker.join()
    assert (decision.status, decision.code) == (503, "STORE_UNAVAILABLE")
    assert ("Retry-After", "1") in decision.headers
    assert ticks[0] >= 10, "the GIL was held while the decision waited"
