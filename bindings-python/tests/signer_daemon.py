"""The real signer daemon (`$TRUSTCORE_BIN signer serve`, built by `make signer-bin`) for the
conformance runner, the signer tests and the benchmark: ``testenv signer`` (tests/testenv.py) writes
its key file 0600 in a private temp dir, starts it on a socket there (or on a free loopback port),
returns once it accepts connections, and removes everything when :meth:`Daemon.cleanup` (or this
process ending) closes its stdin.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from testenv import Launched


class Daemon:
    """One `trustcore signer serve` on a Unix socket (or on loopback TCP with ``tcp=True``)."""

    def __init__(self, seed_hex: str, args: Sequence[str] = (), *, tcp: bool = False) -> None:
        self.command = ["signer", "--seed-hex", seed_hex, *(["--tcp"] if tcp else []), "--", *args]
        self.env: Launched | None = None
        self.ready: dict[str, Any] = {}

    def start(self) -> Daemon:
        """Start it; returns once it accepts connections (a RuntimeError with its log if it cannot)."""
        self.env = Launched(*self.command)
        self.ready = self.env.ready
        return self

    def _request(self, command: str, **options: Any) -> dict[str, Any]:
        assert self.env is not None, "not started"
        return self.env.request(command, **options)

    @property
    def address(self) -> str:
        """``unix:PATH`` or ``tcp:127.0.0.1:PORT``, as SignerClient takes it."""
        return str(self.ready["address"])

    @property
    def socket_path(self) -> Path:
        assert self.ready.get("socket"), "not started, or on TCP"
        return Path(self.ready["socket"])

    @property
    def port(self) -> int:
        assert self.ready.get("port"), "not started, or on a Unix socket"
        return int(self.ready["port"])

    @property
    def pid(self) -> int:
        assert self.ready, "not started"
        return int(self.ready["pid"])

    def log(self) -> str:
        return str(self._request("log")["log"])

    def stop(self) -> None:
        """SIGTERM, as an operator stops it: it must exit 0 and remove its socket."""
        answer = self._request("stop")
        assert answer["status"] == 0, f"the signer exited with {answer['status']} on SIGTERM:\n{self.log()}"
        assert answer["socket_gone"], "the signer left its socket behind"

    def kill(self) -> None:
        """SIGKILL (kill -9): no draining, the socket file stays behind."""
        if self.env is not None:
            self._request("kill")

    def restart(self, args: Sequence[str] | None = None, *, seed_hex: str | None = None) -> None:
        """Start it again on the same socket or port (a stale socket file is replaced): with the same
        arguments, or ``args`` from now on; with the same issuer key, or ``seed_hex`` (a successor
        after a key rotation)."""
        options: dict[str, Any] = {}
        if args is not None:
            options["args"] = list(args)
        if seed_hex is not None:
            options["seed_hex"] = seed_hex
        self.ready["pid"] = self._request("restart", **options)["pid"]

    def pause(self) -> None:
        """SIGSTOP: the kernel still queues connections, nothing answers."""
        self._request("pause")

    def resume(self) -> None:
        self._request("resume")

    def cleanup(self) -> None:
        """Kill it if it still runs and remove its temp dir."""
        if self.env is not None:
            self.env.close()
