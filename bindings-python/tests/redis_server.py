"""A real ``redis-server`` on a free loopback port, in memory only, for the Redis store tests and the
benchmark (core/tests/support/redis_server.rs does the same for Rust): started, stopped with
SIGKILL (no goodbye to the clients), paused, and restarted on the same port.

``redis-server`` is Debian's package (``make setup-redis`` installs it). When it is missing the
tests fail with that message: they never skip.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time

#: How long redis-server may take to answer PING after starting: a bound, never a measurement.
STARTUP_SECONDS = 10.0

MISSING = "redis-server is not installed: `make setup-redis` installs Debian's package (the Redis tests never skip)"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(7) == b"+PONG\r\n"
    except OSError:
        return False


class RedisServer:
    """One redis-server, bound to 127.0.0.1 only, no persistence (a restart forgets everything)."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(MISSING)
        self.binary = binary
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/"

    def start(self) -> RedisServer:
        """Start on a free port (another one if a racing process took it first)."""
        for _ in range(5):
            self.port = free_port()
            if self._launch():
                return self
        raise RuntimeError("redis-server did not start on a free loopback port (5 tries)")

    def restart(self) -> None:
        """Start again on the same port, empty."""
        if self.process is not None:
            raise RuntimeError("redis-server is already running")
        if not self._launch():
            raise RuntimeError(f"redis-server did not start again on port {self.port}")

    def _launch(self) -> bool:
        command = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + STARTUP_SECONDS
        while not answers_ping(self.port):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                process.wait()
                return False
            time.sleep(0.01)
        self.process = process
        return True

    def stop(self) -> None:
        """SIGKILL, and wait until it is gone (its port then refuses connections)."""
        process, self.process = self.process, None
        if process is not None:
            if process.poll() is None:
                process.kill()  # a paused (SIGSTOP) one too
            process.wait()

    def pause(self) -> None:
        """SIGSTOP: connections still open (the kernel accepts them), nothing answers."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
