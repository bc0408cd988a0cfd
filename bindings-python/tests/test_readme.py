"""The README's examples (quick start, signer, Verifier, batches, scaling out on Redis) run and say
what they claim."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import time
from pathlib import Path

import trustcore as tc

from readme_example import (
    EXAMPLE_AUTHORITIES,
    EXAMPLE_ORIGIN,
    REDIS_EXAMPLE_URL,
    SIGNER_EXAMPLE_SOCKET,
    batch_example,
    client_example,
    delegate_example,
    http_example,
    policy_file_example,
    protect_example,
    scaling_example,
    signer_example,
    verifier_example,
)
from http_servers import STOP_SECONDS, listening_socket
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


def test_readme_http_adapters_serve_and_sign(tmp_path: Path) -> None:
    """The README's routes.json, its service (the FastAPI app under uvicorn, the Flask app under
    gunicorn, on sockets bound here so their ports are known to the Verifier) and its client, run
    against each."""
    issuer, holder = tc.IssuerKey.generate(), tc.WorkerKey.generate()
    token = tc.mint_biscuit(
        issuer, public_hex=holder.public_hex, holder_id="gpu-1",
        facts={"right": ["lease"], "lane": ["transcribe"]}, revocation_id="rev-1", expires_at=time.time() + 600,
    )
    asgi_sock, wsgi_sock = listening_socket(), listening_socket()
    ports = [sock.getsockname()[1] for sock in (asgi_sock, wsgi_sock)]
    service = protect_example()
    assert EXAMPLE_AUTHORITIES in service
    authorities = ", ".join(f'"127.0.0.1:{port}"' for port in ports)
    (tmp_path / "service.py").write_text(service.replace(EXAMPLE_AUTHORITIES, f"authorities=[{authorities}]"))
    (tmp_path / "routes.json").write_text(policy_file_example())
    env = {**os.environ, "ISSUER_PUBLIC_HEX": issuer.public_hex, "PYTHONPATH": str(tmp_path)}
    bin_dir = Path(sys.executable).parent
    uvicorn_main = (
        "import os, socket, uvicorn, service; "
        "uvicorn.Server(uvicorn.Config(service.api, log_level='warning')).run("
        "sockets=[socket.socket(fileno=int(os.environ['FD']))])"
    )
    servers = [
        subprocess.Popen(
            [sys.executable, "-c", uvicorn_main], cwd=tmp_path, env={**env, "FD": str(asgi_sock.fileno())},
            pass_fds=[asgi_sock.fileno()],
        ),
        subprocess.Popen(
            [str(bin_dir / "gunicorn"), "--bind", f"fd://{wsgi_sock.fileno()}", "--log-level", "warning",
             "--graceful-timeout", "1", "service:web"],
            cwd=tmp_path, env=env, pass_fds=[wsgi_sock.fileno()],
        ),
    ]
    asgi_sock.close()
    wsgi_sock.close()
    try:
        client = client_example()
        assert EXAMPLE_ORIGIN in client
        client_env = {**os.environ, "HOLDER_SECRET_HEX": holder.secret_hex, "TRUSTCORE_TOKEN": token}
        for port in ports:
            run = subprocess.run(
                [sys.executable, "-c", client.replace(EXAMPLE_ORIGIN, f"http://127.0.0.1:{port}")],
                capture_output=True, text=True, timeout=60, env=client_env,
            )
            assert run.returncode == 0, run.stderr
            lines = run.stdout.splitlines()
            assert len(lines) == 2, run.stdout
            assert ast.literal_eval(lines[0]) == {"lane": "transcribe", "holder": "gpu-1"}
            assert lines[1] == "403"
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()

def test_readme_delegate_example_runs() -> None:
    assert run_code(delegate_example()) == [
        "allowed: gpu-1 -> gpu-2",
        "refused (another lane): DENIED",
        "refused (gpu-1's key on gpu-2's token): POP_FAILED",
        "refused (no second link): DELEGATION_INVALID",
    ]
