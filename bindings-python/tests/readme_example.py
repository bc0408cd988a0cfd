"""Runs the Python quick start of bindings-python/README.md, as written there.

Used by tests/test_readme.py and, in a venv holding nothing but the package, by make test-python.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def quick_start() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "no python block in the README's quick start"
    return match.group(1)


if __name__ == "__main__":
    exec(compile(quick_start(), str(README), "exec"), {"__name__": "__readme__"})
    sys.exit(0)
