"""Real servers and raw clients on loopback for the HTTP adapters' tests.

- :class:`MatrixServer`: the HTTP matrix's Python server (tests/http-matrix/python/server.py) as a
  subprocess: Starlette or FastAPI under uvicorn, or Flask under gunicorn, behind trustcore's
  middleware, with the matrix's route policy (tests/http-matrix/routes.json);
- :func:`serve_asgi` / :func:`serve_waitress`: an app in this process, on a thread (uvicorn,
  waitress), on a socket bound before the app is made (its port goes into the Verifier);
- :func:`raw_request`: bytes written as they are (no client normalizes a path here) and the
  response read back;
- :class:`SilentRedis`: a TCP server that accepts connections and never answers (a Redis that
  hangs), for the event loop tests.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MATRIX = Path(__file__).resolve().parents[2] / "tests" / "http-matrix"
ROUTES = MATRIX / "routes.json"
SERVER = MATRIX / "python" / "server.py"
CLIENT = MATRIX / "python" / "client.py"

#: Bounds on waiting, never measurements.
START_SECONDS = 30.0
STOP_SECONDS = 15.0


class MatrixServer:
    """tests/http-matrix/python/server.py for ``framework``; :meth:`start` returns before it
    listens, :meth:`wait` reads its ``LISTENING <port>`` (so several start at once)."""

    def __init__(self, framework: str, issuer_public_hex: str, redis_url: str | None = None) -> None:
        env = {
            **os.environ,
            "TRUSTCORE_MATRIX_ISSUER_PUBLIC": issuer_public_hex,
            "TRUSTCORE_MATRIX_POLICY": str(ROUTES),
            "TRUSTCORE_MATRIX_FRAMEWORK": framework,
        }
        env.pop("TRUSTCORE_MATRIX_REDIS_URL", None)
        if redis_url is not None:
            env["TRUSTCORE_MATRIX_REDIS_URL"] = redis_url
        self.framework = framework
        self.process = subprocess.Popen(
            [sys.executable, str(SERVER)], env=env, stdout=subprocess.PIPE, text=True, start_new_session=True
        )
        self.port = 0

    def wait(self) -> MatrixServer:
        assert self.process.stdout is not None
        deadline = time.monotonic() + START_SECONDS
        line = self.process.stdout.readline()
        assert time.monotonic() < deadline, f"{self.framework} server took too long"
        assert line.startswith("LISTENING "), f"{self.framework} server said {line!r} ({self.process.poll()})"
        self.port = int(line.split()[1])
        return self

    @property
    def authority(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, target: str) -> str:
        return f"http://{self.authority}{target}"

    def stop(self) -> None:
        """SIGTERM, as the matrix stops it; then SIGKILL if it lingers."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


@contextmanager
def matrix_servers(issuer_public_hex: str, frameworks: tuple[str, ...], redis_url: str | None = None) -> Iterator[
    dict[str, MatrixServer]
]:
    servers = {name: MatrixServer(name, issuer_public_hex, redis_url) for name in frameworks}
    try:
        for server in servers.values():
            server.wait()
        yield servers
    finally:
        for server in servers.values():
            server.stop()


def listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


@contextmanager
def serve_asgi(app: Any, sock: socket.socket) -> Iterator[None]:
    """uvicorn serving ``app`` on ``sock`` from a thread of this process."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + START_SECONDS
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
            time.sleep(0.01)
        yield
    finally:
        server.should_exit = True
        thread.join(STOP_SECONDS)
        sock.close()


@contextmanager
def serve_waitress(app: Any, sock: socket.socket) -> Iterator[None]:
    """waitress serving the WSGI ``app`` on ``sock`` from a thread of this process."""
    import waitress

    server = waitress.create_server(app, sockets=[sock], threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.close()
        thread.join(STOP_SECONDS)


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]  # names lower-cased; a name sent twice keeps the last
    body: bytes


def raw_request(port: int, data: bytes, *, timeout: float = 10.0) -> RawResponse:
    """Write ``data`` to 127.0.0.1:``port`` as is, and read one response (by its Content-Length,
    or to the connection's end). The request may promise more body than it sends."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(data)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = conn.recv(65536)
            if not chunk:
                break
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            length = int(headers["content-length"])
            while len(body) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                body += chunk
        elif headers.get("transfer-encoding") != "chunked":
            while chunk := conn.recv(65536):
                body += chunk
        return RawResponse(status, headers, body)


class SilentRedis:
    """Accepts TCP connections on a loopback port and never answers: every Redis command waits out
    its timeout. Connections are held until :meth:`close`."""

    def __init__(self) -> None:
        self.sock = listening_socket()
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for conn in self.held:
            conn.close()
        self.thread.join(STOP_SECONDS)
