"""A real ``redis-server`` on a free loopback port, in memory only, for the Redis store tests and the
benchmark: ``testenv redis`` (tests/testenv.py) starts it, kills it with SIGKILL (no goodbye to the
clients), pauses it, restarts it on the same port, and kills it when :meth:`RedisServer.close` (or
this process ending) closes its stdin.

``redis-server`` is Debian's package (``make setup-redis`` installs it). When it is missing the
tests fail with that message: they never skip.
"""

from __future__ import annotations

from typing import Any

from testenv import Launched


class RedisServer:
    """One redis-server, bound to 127.0.0.1 only, no persistence (a restart forgets everything)."""

    def __init__(self) -> None:
        self.env: Launched | None = None
        self.port = 0
        self.pid = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/"

    def start(self) -> RedisServer:
        """Start on a free port; returns once it answers PING."""
        self.env = Launched("redis")
        self.port, self.pid = self.env.ready["port"], self.env.ready["pid"]
        return self

    def _request(self, command: str) -> dict[str, Any]:
        assert self.env is not None, "not started"
        return self.env.request(command)

    def restart(self) -> None:
        """Start again on the same port, empty; returns once it answers PING."""
        self.pid = self._request("restart")["pid"]

    def stop(self) -> None:
        """SIGKILL, and wait until it is gone (its port then refuses connections)."""
        self._request("kill")

    def pause(self) -> None:
        """SIGSTOP: connections still open (the kernel accepts them), nothing answers."""
        self._request("pause")

    def resume(self) -> None:
        self._request("resume")

    def close(self) -> None:
        """Kill it for good (testenv exits). Idempotent."""
        if self.env is not None:
            self.env.close()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
