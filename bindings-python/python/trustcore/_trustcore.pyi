# Stubs of the private native module (src/*.rs). The public, documented API is the package
# (trustcore/__init__.py and its submodules); they re-export what is defined here.
# Checked against the built module by `python -m mypy.stubtest trustcore` (make test-python).

from collections.abc import Container, Iterable, Mapping
from socket import socket
from os import PathLike
from typing import Any, Literal, Protocol, final

from typing_extensions import Self

from .engine import Holder
from .errors import TrustError
from .http import Decision

__all__ = [
    "IssuerKey",
    "WorkerKey",
    "Token",
    "Limits",
    "NativeVerifier",
    "NativeSignerClient",
    "HttpPolicy",
    "canonical_request",
    "make_proof",
    "proof_headers",
    "proof_query",
    "proof_from_headers",
    "proof_from_query",
    "is_hex_key",
    "constant_time_equal",
    "authenticate",
    "check_policy",
    "mint_biscuit",
    "delegate",
    "parse_token",
    "authorize",
    "sign_job",
    "verify_job",
    "sign_request",
    "signature_base",
    "verify_message_signature",
    "content_digest",
    "jwk_thumbprint",
    "encode_frame",
    "decode_frame",
    "send_frame",
    "recv_frame",
    "_panic_for_tests",
    "MAX_FRAME",
    "ERROR_CODES",
    "__version__",
]

__version__: str
MAX_FRAME: int
ERROR_CODES: tuple[str, ...]

class _SupportsItems(Protocol):
    def items(self) -> Iterable[tuple[Any, Any]]: ...

_IssuerKeys = str | Mapping[int, str]
_Bytes = bytes | bytearray
_Headers = Mapping[str, str] | _SupportsItems | Iterable[tuple[str, str]]
_Profile = Literal["rfc9421", "legacy"]
# holder_id, holder_public_hex, revocation_id, chain ((holder_id, holder_public_hex) pairs, in order)
_IdentityTuple = tuple[str, str, str, list[tuple[str, str]]]
# allowed, status, code, message, headers, body, identity, facts, route, profile
_DecisionTuple = tuple[
    bool,
    int,
    str | None,
    str,
    list[tuple[str, str]],
    str,
    _IdentityTuple | None,
    list[tuple[str, str]],
    str | None,
    _Profile | None,
]

@final
class IssuerKey:
    """The issuer's Ed25519 key: the Biscuit root key and the job signer."""

    def __new__(cls, seed: _Bytes) -> Self: ...
    @classmethod
    def generate(cls) -> IssuerKey: ...
    @classmethod
    def from_secret_hex(cls, secret_hex: str) -> IssuerKey: ...
    @property
    def seed(self) -> bytes: ...
    @property
    def secret_hex(self) -> str: ...
    @property
    def public_hex(self) -> str: ...
    def sign(self, message: _Bytes) -> bytes: ...
    def biscuit_private_key(self) -> Any: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[type[IssuerKey], tuple[bytes]]: ...

@final
class WorkerKey:
    """A holder's Ed25519 key: signs the per-request proof of possession."""

    def __new__(cls, seed: _Bytes) -> Self: ...
    @classmethod
    def generate(cls) -> WorkerKey: ...
    @classmethod
    def from_secret_hex(cls, secret_hex: str) -> WorkerKey: ...
    @property
    def seed(self) -> bytes: ...
    @property
    def secret_hex(self) -> str: ...
    @property
    def public_hex(self) -> str: ...
    def sign(self, message: _Bytes) -> bytes: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[type[WorkerKey], tuple[bytes]]: ...

@final
class Limits:
    """Run limits of one authorization, and the budget a token must fit before any of its Datalog
    runs; a field left out keeps the core's default (10 ms, 1000 facts, 100 iterations; a token of
    at most 32 KiB, 32 blocks, 1000 facts and 64 rules per block, 32 atoms and 128 operations per
    body, a join estimate of 10 000, no regular expression in an appended block)."""

    def __new__(
        cls,
        max_time_ms: float | None = None,
        max_facts: int | None = None,
        max_iterations: int | None = None,
        max_token_bytes: int | None = None,
        max_blocks: int | None = None,
        max_block_facts: int | None = None,
        max_block_rules: int | None = None,
        max_body_atoms: int | None = None,
        max_body_ops: int | None = None,
        max_join_size: int | None = None,
        allow_appended_regex: bool | None = None,
    ) -> Self: ...
    @property
    def max_time_ms(self) -> float: ...
    @property
    def max_facts(self) -> int: ...
    @property
    def max_iterations(self) -> int: ...
    @property
    def max_token_bytes(self) -> int: ...
    @property
    def max_blocks(self) -> int: ...
    @property
    def max_block_facts(self) -> int: ...
    @property
    def max_block_rules(self) -> int: ...
    @property
    def max_body_atoms(self) -> int: ...
    @property
    def max_body_ops(self) -> int: ...
    @property
    def max_join_size(self) -> int: ...
    @property
    def allow_appended_regex(self) -> bool: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(
        self,
    ) -> tuple[type[Limits], tuple[float, int, int, int, int, int, int, int, int, int, bool]]: ...

@final
class Token:
    """A token whose signatures verified against a trusted issuer key."""

    def block_count(self) -> int: ...
    def block_source(self, index: int) -> str: ...
    @property
    def revocation_ids(self) -> list[str]: ...
    def root_key_id(self) -> int | None: ...
    def delegation_chain(self) -> list[Holder] | None: ...
    def to_base64(self) -> str: ...
    def to_bytes(self) -> bytes: ...
    def authorize(
        self,
        datalog: str,
        now: float | None,
        *,
        limits: Limits | None = None,
        extern_functions: Iterable[str] | None = None,
    ) -> int: ...

@final
class NativeVerifier:
    def __new__(
        cls,
        issuer_public_hex: _IssuerKeys,
        *,
        max_skew_seconds: float | None = None,
        limits: Limits | None = None,
        replay_capacity: int | None = None,
        replay_capacity_per_holder: int | None = None,
        revoked_ids: Iterable[str] | None = None,
        token_cache_capacity: int | None = None,
        token_cache_max_bytes: int | None = None,
        max_batch_requests: int | None = None,
        max_batch_body_bytes: int | None = None,
        redis_url: str | None = None,
        redis_key_prefix: str | None = None,
        redis_connect_timeout: float | None = None,
        redis_command_timeout: float | None = None,
        redis_request_timeout: float | None = None,
        redis_max_idle: int | None = None,
        redis_retry_interval: float | None = None,
        authorities: Iterable[str] | None = None,
        profiles: Iterable[str] | None = None,
        redis_cluster: Iterable[str] | None = None,
    ) -> Self: ...
    def authenticate(
        self,
        token: str,
        signature: str,
        timestamp: str,
        nonce: str,
        method: str,
        path: str,
        body: _Bytes,
        now: float | None = None,
    ) -> tuple[Token, str, str, str, list[tuple[str, str]]]: ...
    def authenticate_batch(
        self, requests: list[tuple[str, str, str, str, str, str, _Bytes]], now: float | None = None
    ) -> list[tuple[Token, str, str, str, list[tuple[str, str]]] | TrustError]: ...
    def decide(
        self,
        method: str,
        target: str,
        headers: _Headers,
        body: _Bytes,
        policy: HttpPolicy,
        facts: _Headers | None = None,
        now: float | None = None,
    ) -> _DecisionTuple: ...
    def check_batch_size(self, count: int) -> None: ...
    @property
    def may_wait_on_network(self) -> bool: ...
    def check_policy(
        self, token: Token, request_facts: Mapping[str, str] | _SupportsItems, allow: str, now: float | None = None
    ) -> None: ...
    def authorize(
        self, token: Token, datalog: str, now: float | None = None, extern_functions: Iterable[str] | None = None
    ) -> int: ...
    def verify_job(self, job: Mapping[str, object], *, worker_id: str, now: float | None = None) -> None: ...
    def set_issuer(self, issuer_public_hex: _IssuerKeys) -> None: ...
    def revoke(self, revocation_id: str) -> None: ...
    def revoke_token(self, token: Token | str) -> None: ...
    def cache_stats(self) -> tuple[int, int]: ...
    def cache_usage(self) -> tuple[int, int]: ...

@final
class NativeSignerClient:
    def __new__(
        cls, address: str | tuple[str, int], *, connect_timeout: float, request_timeout: float
    ) -> Self: ...
    @property
    def address(self) -> str: ...
    @property
    def connect_timeout(self) -> float: ...
    @property
    def request_timeout(self) -> float: ...
    def public_key(self) -> tuple[str, int | None]: ...
    def mint(
        self,
        public_hex: str,
        holder_id: str,
        facts: Mapping[str, Iterable[str]],
        *,
        expires_at: float,
        revocation_id: str | None = None,
        delegation_depth: int = 0,
    ) -> tuple[str, str, int]: ...
    def sign_job(self, job: Mapping[str, object], worker_id: str) -> str: ...
    def health(self) -> dict[str, Any]: ...

@final
class HttpPolicy:
    """A route policy: routes by method and path template, each public or guarded by an allow
    policy, read from one JSON document and checked whole."""

    @classmethod
    def from_json(cls, text: str | _Bytes) -> HttpPolicy: ...
    @classmethod
    def from_file(cls, path: str | PathLike[str]) -> HttpPolicy: ...
    @property
    def max_body_bytes(self) -> int: ...
    @property
    def routes(self) -> list[tuple[str, str, str | None]]: ...
    def body_length_refusal(self, length: int) -> Decision | None: ...
    def __len__(self) -> int: ...

def sign_request(
    key: WorkerKey,
    token: str,
    method: str,
    url: str,
    headers: _Headers | None,
    body: _Bytes,
    profile: str,
    created: int | None = None,
    nonce: str | None = None,
) -> list[tuple[str, str]]: ...
def signature_base(method: str, target: str, headers: _Headers, label: str, body: _Bytes) -> bytes: ...
def verify_message_signature(
    method: str, target: str, headers: _Headers, label: str, public_hex: str, body: _Bytes
) -> None: ...
def content_digest(body: _Bytes) -> str: ...
def jwk_thumbprint(public_hex: str) -> str: ...
def canonical_request(method: str, path: str, body: _Bytes, timestamp: str, nonce: str) -> bytes: ...
def make_proof(
    worker: WorkerKey, token: str, method: str, path: str, body: _Bytes, timestamp: str, nonce: str
) -> tuple[str, str, str, str]: ...
def proof_headers(token: str, signature: str, timestamp: str, nonce: str) -> list[tuple[str, str]]: ...
def proof_query(token: str, signature: str, timestamp: str, nonce: str) -> list[tuple[str, str]]: ...
def proof_from_headers(headers: _SupportsItems) -> tuple[str, str, str, str]: ...
def proof_from_query(query: _SupportsItems) -> tuple[str, str, str, str]: ...
def is_hex_key(value: str) -> bool: ...
def constant_time_equal(left: str | bytes, right: str | bytes) -> bool: ...
def authenticate(
    issuer_public_hex: _IssuerKeys,
    token: str,
    signature: str,
    timestamp: str,
    nonce: str,
    method: str,
    path: str,
    body: _Bytes,
    now: float,
    revoked_ids: Container[str] | Iterable[str],
    max_skew_seconds: float,
    limits: Limits | None = None,
) -> tuple[Token, str, str, str, list[tuple[str, str]]]: ...
def check_policy(
    token: Token, *, request_facts: Mapping[str, str] | _SupportsItems, allow: str, now: float, limits: Limits | None = None
) -> None: ...
def mint_biscuit(
    issuer: IssuerKey,
    *,
    public_hex: str,
    holder_id: str,
    facts: Mapping[str, Iterable[str]],
    revocation_id: str,
    expires_at: float,
    root_key_id: int | None = None,
    delegation_depth: int = 0,
) -> str: ...
def delegate(
    token: str, holder_key: WorkerKey, to_public_hex: str, to_holder_id: str, checks: str, expires_at: float
) -> str: ...
def parse_token(issuer_public_hex: _IssuerKeys, token: str | bytes) -> Token: ...
def authorize(
    token: Token,
    datalog: str,
    now: float | None,
    *,
    limits: Limits | None = None,
    extern_functions: Iterable[str] | None = None,
) -> int: ...
def sign_job(issuer: IssuerKey, job: Mapping[str, object], *, worker_id: str) -> str: ...
def verify_job(
    issuer_public_hex: str, job: Mapping[str, object], *, worker_id: str, now: float | None = None
) -> None: ...
def encode_frame(payload: Mapping[str, Any]) -> bytes: ...
def decode_frame(frame: _Bytes) -> dict[str, Any]: ...
def send_frame(sock: socket, payload: Mapping[str, Any]) -> None: ...
def recv_frame(sock: socket) -> dict[str, Any]: ...
def _panic_for_tests() -> None: ...
