"""The shared test environment's client (tools/src/bin/testenv.rs has the protocol): a redis-server
or a signer started by ``$TRUSTCORE_TESTENV`` (the Makefile exports it; ``make signer-bin`` builds
it), driven over its stdin and stdout, one JSON line each way. Free ports, readiness, key files and
cleanup live there: when its stdin closes (:meth:`Launched.close`, or this process ending in any
way) it kills what it started and removes its files.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from typing import Any

#: How long testenv may take to exit once its stdin is closed: a bound, never a measurement.
CLOSE_SECONDS = 30.0


def binary() -> str:
    path = os.environ.get("TRUSTCORE_TESTENV")
    if not path:
        raise RuntimeError("TRUSTCORE_TESTENV is not set: run the tests through make (`make signer-bin` builds it)")
    if not os.path.isfile(path):
        raise RuntimeError(f"no testenv at {path} ($TRUSTCORE_TESTENV): `make signer-bin` builds it")
    return path


class Launched:
    """One `testenv redis` or `testenv signer ...`; :attr:`ready` is its first line."""

    def __init__(self, *args: str) -> None:
        # stderr is inherited: what testenv says there shows in the test's output. A session of its
        # own: a Ctrl-C meant for the tests must not kill it before it cleans up (their end does that)
        self.process = subprocess.Popen(
            [binary(), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            start_new_session=True,
        )
        self.lock = threading.Lock()
        self.ready = self._read(args[0])
        if self.ready.get("ok") is False:
            self.close()
            raise RuntimeError(f"testenv {args[0]}: {self.ready['error']}")

    def _read(self, what: str) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"testenv exited ({self.process.wait()}) without answering {what}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def request(self, command: str, **options: Any) -> dict[str, Any]:
        """Send one command (with ``options``: as a JSON object, ``{"cmd": command, **options}``),
        return its answer (its ``ok`` taken out); a refusal raises RuntimeError."""
        assert self.process.stdin is not None
        line = json.dumps({"cmd": command, **options}) if options else command
        with self.lock:
            self.process.stdin.write(line + "\n")
            self.process.stdin.flush()
            answer = self._read(command)
        if not answer.pop("ok", False):
            raise RuntimeError(f"testenv {command}: {answer.get('error')}")
        return answer

    def close(self) -> None:
        """Close its stdin: it kills what it started, removes its files and exits. Idempotent."""
        with self.lock:
            for pipe in (self.process.stdin, self.process.stdout):
                if pipe is not None and not pipe.closed:
                    pipe.close()
            self.process.wait(timeout=CLOSE_SECONDS)
