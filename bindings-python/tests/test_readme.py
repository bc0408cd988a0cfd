"""The README's quick start runs and says what it claims."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).with_name("readme_example.py")


def test_readme_quick_start_runs() -> None:
    run = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "allowed: gpu-1",
        "refused: DENIED - worker not authorized for this operation",
    ]
