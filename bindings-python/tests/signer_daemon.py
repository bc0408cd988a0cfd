"""The real signer daemon (`trustcore signer serve`) as a subprocess, for the conformance runner and
the signer tests: a key file written 0600 in a temp dir, a socket beside it, and a clean stop.

The binary is $TRUSTCORE_BIN (the Makefile exports it; `make signer-bin` builds it), else the
workspace's release or debug build.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
#: How long a daemon may take to start listening or to stop: a bound, never a measurement.
STARTUP_SECONDS = 15.0


def binary() -> Path:
    given = os.environ.get("TRUSTCORE_BIN")
    if given:
        path = Path(given)
    else:
        built = [REPO_ROOT / "target" / kind / "trustcore" for kind in ("release", "debug")]
        path = next((p for p in built if p.is_file()), built[0])
    if not path.is_file():
        raise RuntimeError(f"no trustcore binary at {path}: run `make signer-bin` or set TRUSTCORE_BIN")
    return path


def write_key_file(path: Path, seed_hex: str) -> None:
    """The seed in hex, in a file only its owner can read (the daemon refuses anything looser)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(seed_hex)
    os.chmod(path, 0o600)


class Daemon:
    """One `trustcore signer serve` on a Unix socket (or on loopback TCP with ``tcp=``)."""

    def __init__(
        self,
        seed_hex: str,
        args: Sequence[str] = (),
        *,
        directory: Path | None = None,
        socket_path: Path | None = None,
        tcp: tuple[str, int] | None = None,
    ) -> None:
        self.own_directory = directory is None
        self.directory = Path(tempfile.mkdtemp(prefix="tc-signer-")) if directory is None else directory
        self.key_file = self.directory / "issuer.key"
        write_key_file(self.key_file, seed_hex)
        self.socket_path = socket_path or self.directory / "signer.sock"
        self.tcp = tcp
        self.args = list(args)
        self.log_path = self.directory / f"daemon-{time.monotonic_ns()}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        where = (
            ["--tcp", f"{self.tcp[0]}:{self.tcp[1]}", "--tcp-without-peer-check"]
            if self.tcp
            else ["--socket", str(self.socket_path)]
        )
        return [str(binary()), "signer", "serve", "--key-file", str(self.key_file), *where, *self.args]

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def _accepts(self) -> bool:
        family = socket.AF_INET if self.tcp else socket.AF_UNIX
        target: str | tuple[str, int] = self.tcp if self.tcp else str(self.socket_path)
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.settimeout(1.0)
            try:
                probe.connect(target)
            except OSError:
                return False
        return True

    def start(self) -> Daemon:
        """Start it and wait until its socket accepts connections."""
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self._accepts():
            if self.process.poll() is not None:
                raise RuntimeError(f"the signer exited with {self.process.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"the signer did not start listening:\n{self.log()}")
            time.sleep(0.01)
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    def stop(self) -> None:
        """SIGTERM, as an operator stops it: it must exit 0 and remove its socket."""
        assert self.process is not None, "not started"
        self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(timeout=STARTUP_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"the signer did not stop on SIGTERM:\n{self.log()}") from None
        self.process = None
        assert status == 0, f"the signer exited with {status} on SIGTERM:\n{self.log()}"
        if not self.tcp:
            assert not self.socket_path.exists(), "the signer left its socket behind"

    def kill(self) -> None:
        """SIGKILL (kill -9): no draining, the socket file stays behind."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def cleanup(self) -> None:
        """Kill it if it still runs and remove its temp dir."""
        self.kill()
        if self.own_directory:
            shutil.rmtree(self.directory, ignore_errors=True)
