"""The README's quick start and signer example run and say what they claim."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import trustcore as tc

from readme_example import SIGNER_EXAMPLE_SOCKET, signer_example
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
