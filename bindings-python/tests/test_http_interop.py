"""RFC 9421 interop with PyPI's http-message-signatures 3.0.0, an implementation no one here wrote.

Both ways, with the holder's Ed25519 key and the trustcore profile (covered: @method @authority
@path @query authorization content-digest; parameters created, nonce, keyid = the key's RFC 7638
thumbprint, tag="trustcore"):

- the package signs a request, and a trustcore Verifier's decide() allows it; changed on its way
  (body, path, query, host) it is refused;
- trustcore.http.sign_request signs, and the package's verifier verifies it with the holder's
  public key (changed on its way: refused);
- for the same request and parameters both build the same signature base and the same headers,
  byte for byte (Ed25519 is deterministic), the URL's path and query as written and the default
  port dropped from the authority (RFC 9421 §2.2.3, §2.2.6-7; core once disagreed on both).
"""

from __future__ import annotations

import datetime
import json
import time
import urllib.parse
from dataclasses import dataclass, field

import http_message_signatures as hms
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

import trustcore as tc
from trustcore import http

HOST = "api.example.com"
COMPONENTS = ("@method", "@authority", "@path", "@query", "authorization", "content-digest")
POLICY = tc.HttpPolicy.from_json(
    json.dumps(
        {"routes": [{"method": "POST", "path": "/lease/{lane}", "allow": 'allow if right("lease"), req_param_lane($l), lane($l)'}]}
    )
)


@dataclass
class Message:
    """A request as http-message-signatures reads and writes it: method, absolute URL, headers."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def target(self) -> str:
        parts = urllib.parse.urlsplit(self.url)
        return (parts.path or "/") + (f"?{parts.query}" if "?" in self.url else "")

    @property
    def host(self) -> str:
        """The Host header a client sends: lower-cased, without the scheme's default port."""
        parts = urllib.parse.urlsplit(self.url)
        host = parts.netloc.rsplit("@", 1)[-1].lower()
        default = {"http": ":80", "https": ":443"}[parts.scheme]
        return host.removesuffix(default)

    def lines(self) -> list[tuple[str, str]]:
        """The header lines a server receives: Host (from the URL), then the message's."""
        return [("Host", self.host), *self.headers.items()]


@dataclass(frozen=True)
class Holder:
    key: tc.WorkerKey
    token: str
    issuer: tc.IssuerKey

    @property
    def keyid(self) -> str:
        return http.jwk_thumbprint(self.key.public_hex)

    def private_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.key.seed)

    def public_key(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(self.key.public_hex))

    def resolver(self) -> hms.MappingKeyResolver:
        return hms.MappingKeyResolver(
            public_keys={self.keyid: self.public_key()}, private_keys={self.keyid: self.private_key()}
        )

    def verifier(self) -> tc.Verifier:
        return tc.Verifier(self.issuer.public_hex, authorities=[HOST])


@pytest.fixture
def holder() -> Holder:
    issuer, key = tc.IssuerKey.generate(), tc.WorkerKey.generate()
    token = tc.mint_biscuit(
        issuer,
        public_hex=key.public_hex,
        holder_id="gpu-1",
        facts={"right": ["lease"], "lane": ["a"]},
        revocation_id="rev-1",
        expires_at=time.time() + 3600,
    )
    return Holder(key, token, issuer)


def package_signs(
    holder: Holder,
    url: str,
    body: bytes,
    *,
    nonce: str = "n-1",
    created: int | None = None,
    label: str = "sig1",
    include_alg: bool = False,
    components: tuple[str, ...] = COMPONENTS,
    key: hms.MappingKeyResolver | None = None,
) -> Message:
    """A request signed by http-message-signatures in the trustcore profile."""
    message = Message("POST", url, {"Authorization": f"Biscuit {holder.token}"})
    signer = hms.HTTPMessageSigner(signature_algorithm=hms.algorithms.ED25519, key_resolver=key or holder.resolver())
    signer.sign(
        message,
        key_id=holder.keyid,
        created=None if created is None else datetime.datetime.fromtimestamp(created, tz=datetime.timezone.utc),
        nonce=nonce,
        tag="trustcore",
        label=label,
        include_alg=include_alg,
        covered_component_ids=components,
        body=body,  # the package adds Content-Digest (sha-256) for it
    )
    return message


def decide(verifier: tc.Verifier, message: Message, body: bytes) -> http.Decision:
    return verifier.decide(message.method, message.target, message.lines(), body, policy=POLICY)


# ---- the package signs, trustcore decides ---------------------------------------------------------


@pytest.mark.parametrize("include_alg", [False, True], ids=["no-alg", "alg-ed25519"])
@pytest.mark.parametrize("label", ["sig1", "pyhms"])
def test_trustcore_allows_what_the_package_signs(holder: Holder, include_alg: bool, label: str) -> None:
    message = package_signs(holder, f"https://{HOST}/lease/a?tier=gold", b'{"episode":"e1"}', label=label, include_alg=include_alg)
    assert message.headers["Content-Digest"] == http.content_digest(b'{"episode":"e1"}')
    decision = decide(holder.verifier(), message, b'{"episode":"e1"}')
    assert decision.allowed, decision
    assert (decision.profile, decision.route) == ("rfc9421", "/lease/{lane}")
    assert decision.identity == tc.VerifiedIdentity("gpu-1", holder.key.public_hex, "rev-1")
    assert ("req_authority", HOST) in decision.facts and ("req_query_tier", "gold") in decision.facts


def test_an_empty_body_signed_by_the_package_is_allowed(holder: Holder) -> None:
    message = package_signs(holder, f"https://{HOST}/lease/a", b"")
    assert decide(holder.verifier(), message, b"").allowed


def test_trustcore_refuses_what_the_package_signed_once_changed(holder: Holder) -> None:
    verifier = holder.verifier()
    body = b'{"episode":"e1"}'

    def refused(message: Message, sent_body: bytes = body) -> tuple[int, str | None]:
        decision = decide(verifier, message, sent_body)
        assert not decision.allowed
        return decision.status, decision.code

    # the body changed: it no longer matches the signed Content-Digest
    assert refused(package_signs(holder, f"https://{HOST}/lease/a", body, nonce="b"), b'{"episode":"e2"}') == (401, "POP_FAILED")
    # the path changed (still a route the token could use)
    moved = package_signs(holder, f"https://{HOST}/lease/a", body, nonce="p")
    moved.url = f"https://{HOST}/lease/b"
    assert refused(moved) == (401, "POP_FAILED")
    # a query parameter added
    queried = package_signs(holder, f"https://{HOST}/lease/a?x=1", body, nonce="q")
    queried.url = f"https://{HOST}/lease/a?x=1&y=2"
    assert refused(queried) == (401, "POP_FAILED")
    # the Content-Digest swapped for the new body's: the signature covers it
    swapped = package_signs(holder, f"https://{HOST}/lease/a", body, nonce="d")
    swapped.headers["Content-Digest"] = http.content_digest(b'{"episode":"e2"}')
    assert refused(swapped, b'{"episode":"e2"}') == (401, "POP_FAILED")
    # signed for another service that trusts the same issuer
    assert refused(package_signs(holder, "https://billing.example.com/lease/a", body, nonce="h")) == (401, "WRONG_AUDIENCE")
    # signed with another key that names the holder's
    thief = Ed25519PrivateKey.generate()
    forged = hms.MappingKeyResolver(public_keys={}, private_keys={holder.keyid: thief})
    assert refused(package_signs(holder, f"https://{HOST}/lease/a", body, nonce="f", key=forged)) == (401, "POP_FAILED")
    # covering too little (no authorization): not a trustcore signature trustcore accepts
    short = package_signs(holder, f"https://{HOST}/lease/a", body, nonce="s", components=COMPONENTS[:4])
    assert refused(short) == (401, "MALFORMED_INPUT")
    # sent twice
    once = package_signs(holder, f"https://{HOST}/lease/a", body, nonce="r")
    assert decide(verifier, once, body).allowed
    assert refused(once) == (401, "REPLAYED")


# ---- trustcore signs, the package verifies --------------------------------------------------------


def package_verifier(holder: Holder) -> hms.HTTPMessageVerifier:
    resolver = hms.MappingKeyResolver(public_keys={holder.keyid: holder.public_key()}, private_keys={})
    return hms.HTTPMessageVerifier(signature_algorithm=hms.algorithms.ED25519, key_resolver=resolver)


def trustcore_signs(holder: Holder, url: str, body: bytes, **kw: object) -> Message:
    added = http.sign_request(holder.key, holder.token, "POST", url, body=body, **kw)  # type: ignore[arg-type]
    return Message("POST", url, dict(added))


def test_the_package_verifies_what_trustcore_signs(holder: Holder) -> None:
    body = b'{"episode":"e1"}'
    message = trustcore_signs(holder, f"https://{HOST}/lease/a?tier=gold", body, nonce="n-7")
    (result,) = package_verifier(holder).verify(message, expect_tag="trustcore", require_components=COMPONENTS, body=body)
    assert result.label == "tc" and result.body == body and result.nonce == "n-7"
    assert result.parameters["keyid"] == holder.keyid and result.parameters["tag"] == "trustcore"
    assert list(result.covered_components)[:-1] == [f'"{name}"' for name in COMPONENTS]
    # an empty body: its Content-Digest is there and covered all the same
    empty = trustcore_signs(holder, f"https://{HOST}/lease/a", b"")
    (result,) = package_verifier(holder).verify(empty, expect_tag="trustcore", require_components=COMPONENTS, body=b"")
    assert result.body == b""


def test_the_package_refuses_what_trustcore_signed_once_changed(holder: Holder) -> None:
    body = b'{"episode":"e1"}'
    verifier = package_verifier(holder)
    message = trustcore_signs(holder, f"https://{HOST}/lease/a", body)
    with pytest.raises(hms.InvalidSignature):
        verifier.verify(message, expect_tag="trustcore", body=b'{"episode":"e2"}')
    moved = trustcore_signs(holder, f"https://{HOST}/lease/a", body)
    moved.url = f"https://{HOST}/lease/b"
    with pytest.raises(hms.InvalidSignature):
        verifier.verify(moved, expect_tag="trustcore", body=body)
    other = tc.WorkerKey.generate()
    stolen = Message("POST", f"https://{HOST}/lease/a", dict(http.sign_request(other, holder.token, "POST", f"https://{HOST}/lease/a")))
    with pytest.raises(hms.InvalidSignature):  # another key's thumbprint: unknown to the resolver
        verifier.verify(stolen, expect_tag="trustcore")


# ---- the same bytes --------------------------------------------------------------------------------

AGREED_URLS = [
    f"https://{HOST}/lease/a",
    f"https://{HOST}/lease/a?x=1&y=",
    "https://API.Example.COM:443/lease/a?x=1",  # host lower-cased, the default port dropped
    "http://api.example.com:8080/a?",  # an empty query
    f"https://{HOST}",  # no path: /
    f"https://{HOST}/a%20b?q=a%20b&r=%7e",  # escapes as sent, never decoded
    f"https://{HOST}/a%2fb",
    "https://[::1]:8443/a",
]


@pytest.mark.parametrize("url", AGREED_URLS)
def test_both_sign_the_same_bytes(holder: Holder, url: str) -> None:
    created, body = 1_700_000_000, b"{}"
    ours = http.sign_request(holder.key, holder.token, "POST", url, body=body, created=created, nonce="n-1")
    theirs = package_signs(holder, url, body, created=created, label="tc")
    assert theirs.headers == {"Authorization": f"Biscuit {holder.token}", **ours}
    assert http.signature_base("POST", theirs.target, theirs.lines(), "tc", body) == (
        hms.HTTPMessageSigner(signature_algorithm=hms.algorithms.ED25519)
        .prepare(
            Message("POST", url, {"Authorization": f"Biscuit {holder.token}", "Content-Digest": ours["Content-Digest"]}),
            key_id=holder.keyid,
            created=datetime.datetime.fromtimestamp(created, tz=datetime.timezone.utc),
            nonce="n-1",
            tag="trustcore",
            label="tc",
            include_alg=False,
            covered_component_ids=COMPONENTS,
            use_existing_digest=True,
        )
        .signature_base
    )


def test_both_sign_the_same_bytes_for_a_query_holding_an_apostrophe(holder: Holder) -> None:
    url = f"https://{HOST}/lease/a?q=it's"
    ours = http.sign_request(holder.key, holder.token, "POST", url, body=b"{}", created=1_700_000_000, nonce="n-1")
    theirs = package_signs(holder, url, b"{}", created=1_700_000_000, label="tc")
    assert theirs.headers["Signature"] == ours["Signature"]


def test_an_explicit_default_port_in_host_is_the_same_authority(holder: Holder) -> None:
    message = package_signs(holder, f"https://{HOST}:443/lease/a", b"{}")
    verifier = tc.Verifier(holder.issuer.public_hex, authorities=[HOST, f"{HOST}:443"])
    lines = [("Host", f"{HOST}:443"), *message.headers.items()]
    assert verifier.decide("POST", "/lease/a", lines, b"{}", policy=POLICY).allowed
