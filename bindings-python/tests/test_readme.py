"""The README's examples (quick start, signer, Verifier, batches, scaling out on Redis) run and say
what they claim."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import trustcore as tc

from readme_example import (
    REDIS_EXAMPLE_URL,
    SIGNER_EXAMPLE_SOCKET,
    batch_example,
    delegate_example,
    http_example,
    scaling_example,
    signer_example,
    verifier_example,
)
from redis_server import RedisServer
from signer_daemon import Daemon

EXAMPLE = Path(__file__).with_name("readme_example.py")


def test_readme_quick_start_runs() -> None:
    run = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "allowed: gpu-1",
        "refused: DENIED - worker not authorized for this operation",
    ]


def test_readme_signer_example_runs_against_the_daemon() -> None:
    code = signer_example()
    assert SIGNER_EXAMPLE_SOCKET in code
    daemon = Daemon(
        tc.IssuerKey.generate().secret_hex,
        ["--max-ttl", "3600", "--allow-predicate", "right", "--allow-predicate", "lane"],
    )
    try:
        daemon.start()
        code = code.replace(SIGNER_EXAMPLE_SOCKET, str(daemon.socket_path))
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        lines = run.stdout.splitlines()
        assert len(lines) == 2, run.stdout
        assert lines[0].startswith("MintedToken(revocation_id='") and "expires_at=" in lines[0]
        assert lines[1] == "refused: SIGNER_REFUSED"
        daemon.stop()
    finally:
        daemon.cleanup()


def run_code(code: str) -> list[str]:
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return run.stdout.splitlines()


def test_readme_verifier_example_runs() -> None:
    assert run_code(verifier_example()) == [
        "allowed: gpu-1",
        "refused: REPLAYED",
        "refused: REVOKED",
        "cache (hits, misses): (2, 1)",
    ]


def test_readme_http_example_runs() -> None:
    lines = run_code(http_example())
    assert lines[:2] == [
        "allowed: gpu-1 /lease/{lane} rfc9421",
        'refused: 401 REPLAYED Biscuit error="REPLAYED"',
    ]
    assert lines[2].startswith('refused: 403 DENIED {"error":"DENIED","message":')
    assert len(lines) == 3


def test_readme_batch_example_runs() -> None:
    assert run_code(batch_example()) == ["allowed: gpu-1", "allowed: gpu-1", "refused: REPLAYED", "allowed: gpu-1"]


def test_readme_scaling_example_runs_against_redis() -> None:
    code = scaling_example()
    assert REDIS_EXAMPLE_URL in code
    redis = RedisServer().start()
    try:
        lines = run_code(code.replace(REDIS_EXAMPLE_URL, redis.url))
        assert lines == [
            "Verifier(max_skew_seconds=300.0, token_cache_capacity=10000, store='redis', redis_key_prefix='billing:')",
            "host b refused: REPLAYED",
            "host b refused: REVOKED",
        ]
        redis.stop()
        lines = run_code(code.replace(REDIS_EXAMPLE_URL, redis.url))
        assert lines[1:] == ["Redis is down: answer 503, never let the request through"]
    finally:
        redis.close()
    # nothing listens there: refused the same way, and the password never shows
    lines = run_code(code.replace(REDIS_EXAMPLE_URL, "redis://:s3cret@127.0.0.1:1/0"))
    assert lines[1:] == ["Redis is down: answer 503, never let the request through"]
    assert "s3cret" not in "\n".join(lines)


def test_readme_delegate_example_runs() -> None:
    assert run_code(delegate_example()) == [
        "allowed: gpu-1 -> gpu-2",
        "refused (another lane): DENIED",
        "refused (gpu-1's key on gpu-2's token): POP_FAILED",
        "refused (no second link): DELEGATION_INVALID",
    ]
