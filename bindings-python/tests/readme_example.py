"""Runs the Python quick start of bindings-python/README.md, as written there.

Used by tests/test_readme.py and, in a venv holding nothing but the package, by make test-python.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_block(heading: str) -> str:
    """The first python block of the README's section ``heading``."""
    text = README.read_text(encoding="utf-8")
    section = text.split(f"## {heading}\n", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, f"no python block in the README's {heading.lower()}"
    return match.group(1)


def quick_start() -> str:
    return python_block("Quick start")


#: The socket path the signer example names; tests/test_readme.py points it at a live daemon.
SIGNER_EXAMPLE_SOCKET = "/run/trustcore/signer.sock"


def signer_example() -> str:
    return python_block("Signer client")


def verifier_example() -> str:
    return python_block("Verifier")


def batch_example() -> str:
    return python_block("Many requests at once")  # a ### heading


#: The Redis URL the scaling-out example names; tests/test_readme.py points it at a live Redis.
REDIS_EXAMPLE_URL = "redis://:s3cret@redis.internal:6379/0"


def scaling_example() -> str:
    return python_block("Scaling out: several hosts on one Redis")  # a ### heading


def http_example() -> str:
    return python_block("HTTP: sign a request, decide on it")


HTTP_ADAPTERS = "HTTP: protect an app, sign a client"

#: What the README's examples name, replaced by the live servers' in tests/test_readme.py.
EXAMPLE_AUTHORITIES = 'authorities=["api.example.com"]'
EXAMPLE_ORIGIN = "https://api.example.com"


def policy_file_example() -> str:
    """The README's routes.json (the first json block of the HTTP adapters' section)."""
    section = README.read_text(encoding="utf-8").split(f"## {HTTP_ADAPTERS}\n", 1)[1]
    match = re.search(r"```json\n(.*?)```", section, re.DOTALL)
    assert match, "no json block in the README's HTTP adapters section"
    return match.group(1)


def protect_example() -> str:
    return python_block("Protect an app")  # a ### heading


def client_example() -> str:
    return python_block("Sign a client")  # a ### heading

def delegate_example() -> str:
    return python_block("Delegate")


if __name__ == "__main__":
    exec(compile(quick_start(), str(README), "exec"), {"__name__": "__readme__"})
    sys.exit(0)
