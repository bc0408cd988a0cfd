"""The HTTP matrix (tests/http-matrix/README.md): every language's protected server against every
signing client, with one route policy file and one Redis, then what only a raw socket can send.

Run by `make test-matrix` with the Python test venv (trustcore installed) and the environment the
Makefile exports (TRUSTCORE_BIN, TRUSTCORE_TESTENV, MATRIX_* commands). Exits 1 on any mismatch,
after printing one line per failed check and a table of servers × clients.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trustcore as tc
from trustcore import http

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "bindings-python" / "tests"))
import testenv  # noqa: E402  (the shared test environment's client)

import hostile  # noqa: E402  (tests/http-matrix/hostile.py)

POLICY = HERE / "routes.json"
MAX_BODY = json.loads(POLICY.read_text())["max_body_bytes"]
START_SECONDS = 60.0


def commands(variable: str) -> dict[str, list[str]]:
    """`name=command line;name=command line` from the environment (the Makefile writes them)."""
    out: dict[str, list[str]] = {}
    for item in filter(None, os.environ.get(variable, "").split(";")):
        name, _, line = item.partition("=")
        out[name.strip()] = shlex.split(line)
    return out


@dataclass
class Server:
    name: str
    argv: list[str]
    env: dict[str, str]
    process: subprocess.Popen[str] | None = None
    port: int = 0

    def start(self) -> None:
        env = {**os.environ, **self.env}
        self.process = subprocess.Popen(self.argv, stdout=subprocess.PIPE, text=True, env=env, start_new_session=True)
        assert self.process.stdout is not None
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"server {self.name} exited ({self.process.wait()}) before LISTENING")
            if line.startswith("LISTENING "):
                self.port = int(line.split()[1])
                return
        raise RuntimeError(f"server {self.name} did not print LISTENING in {START_SECONDS} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@dataclass
class Client:
    name: str
    argv: list[str]
    process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def send(self, line: dict[str, Any]) -> dict[str, Any]:
        assert self.process is not None and self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(line) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError(f"client {self.name} exited ({self.process.wait()})")
        parsed: dict[str, Any] = json.loads(answer)
        return parsed

    def stop(self) -> None:
        if self.process is not None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            self.process.wait(timeout=30)


@dataclass
class Tally:
    failures: list[str] = field(default_factory=list)
    cells: dict[tuple[str, str], str] = field(default_factory=dict)
    checks: int = 0

    def check(self, where: tuple[str, str], what: str, ok: bool, detail: str = "") -> None:
        self.checks += 1
        if not ok:
            self.failures.append(f"{where[0]} × {where[1]}: {what}: {detail}")
            self.cells[where] = "FAIL"
        else:
            self.cells.setdefault(where, "ok")


def raw_request(port: int, head: str, body: bytes = b"", read_all: bool = True) -> tuple[int, bytes]:
    """Send exactly these bytes (request line and headers as written, CRLF added) and read the
    status and body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(head.replace("\n", "\r\n").encode("latin-1") + b"\r\n\r\n" + body)
        data = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
            if not read_all and b"\r\n\r\n" in data:
                break
    status = int(data.split(b" ", 2)[1])
    return status, data.partition(b"\r\n\r\n")[2]


def signed_head(holder: tc.WorkerKey, token: str, server: Server, method: str, path: str, body: bytes) -> str:
    headers = http.sign_request(holder, token, method, server.url(path), body=body)
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}", f"Content-Length: {len(body)}",
             "Connection: close", *(f"{name}: {value}" for name, value in headers.items())]
    return "\n".join(lines)


def main() -> int:
    issuer = tc.IssuerKey.generate()
    holder, stranger = tc.WorkerKey.generate(), tc.WorkerKey.generate()
    token = tc.mint_biscuit(issuer, public_hex=holder.public_hex, holder_id="gpu-1",
                            facts={"right": ["lease"], "lane": ["a"]}, revocation_id="matrix-1",
                            expires_at=time.time() + 3600)
    redis = testenv.Launched("redis")
    base_env = {"TRUSTCORE_MATRIX_ISSUER_PUBLIC": issuer.public_hex, "TRUSTCORE_MATRIX_POLICY": str(POLICY),
                "TRUSTCORE_MATRIX_REDIS_URL": redis.ready["url"]}
    servers = [Server(name, argv, {**base_env, "TRUSTCORE_MATRIX_FRAMEWORK": name.split("-")[-1]})
               for name, argv in commands("MATRIX_SERVERS").items()]
    clients = [Client(name, argv) for name, argv in commands("MATRIX_CLIENTS").items()]
    if not servers or not clients:
        print("no servers or clients given (MATRIX_SERVERS, MATRIX_CLIENTS)")
        return 1
    tally = Tally()
    try:
        for server in servers:
            server.start()
        for client in clients:
            client.start()
        body = b'{"episode":"e1"}'
        for server in servers:
            for client in clients:
                where = (server.name, client.name)
                line = {"method": "POST", "url": server.url("/lease/a"), "body_hex": body.hex(),
                        "holder_secret_hex": holder.secret_hex, "token": token}
                for profile in ("rfc9421", "legacy"):
                    got = client.send({**line, "profile": profile})
                    served = json.loads(got["body"]) if got.get("status") == 200 else {}
                    tally.check(where, f"allowed ({profile})", got.get("status") == 200, str(got))
                    tally.check(where, f"app sees the identity and the exact body ({profile})",
                                served.get("holder_id") == "gpu-1" and served.get("body_hex") == body.hex(), str(served))
                got = client.send({**line, "unsigned": True})
                tally.check(where, "no proof: 401", got.get("status") == 401, str(got))
                got = client.send({**line, "holder_secret_hex": stranger.secret_hex})
                tally.check(where, "forged (another key): 401", got.get("status") == 401, str(got))
                got = client.send({**line, "method": "GET", "url": server.url("/admin"), "body_hex": ""})
                tally.check(where, "ungranted: 403", got.get("status") == 403, str(got))
                got = client.send({**line, "method": "GET", "url": server.url("/health"), "body_hex": "", "unsigned": True})
                tally.check(where, "public route: 200 without a proof", got.get("status") == 200, str(got))
                got = client.send({**line, "body_hex": (b"x" * (MAX_BODY + 1)).hex()})
                tally.check(where, "body over the cap: 413", got.get("status") == 413, str(got))
        for server in servers:
            where = (server.name, "raw socket")
            head = signed_head(holder, token, server, "POST", "/lease/a", body)
            first, second = raw_request(server.port, head, body), raw_request(server.port, head, body)
            tally.check(where, "replayed: 200 then 401", (first[0], second[0]) == (200, 401), f"{first} {second}")
            for trick in ("/lease/%2e%2e/admin", "/lease/../admin", "//admin", "/lease/a%2Fb"):
                status, _ = raw_request(server.port, signed_head(holder, token, server, "POST", trick, body), body)
                tally.check(where, f"path trick {trick}: refused", status in (400, 401, 403, 404), str(status))
            start = time.monotonic()
            status, _ = raw_request(server.port, f"POST /lease/a HTTP/1.1\nHost: 127.0.0.1:{server.port}\n"
                                    "Content-Length: 1073741824", b"x" * 1024, read_all=False)
            tally.check(where, "1 GB announced: 413 before reading it", status == 413 and time.monotonic() - start < 10,
                        str(status))
            hostile.run(tally, (server.name, "hostile"), server,
                        lambda method, path, data, server=server: signed_head(holder, token, server, method, path, data),
                        body)
        redis.request("kill")
        for server in servers:
            where = (server.name, "raw socket")
            status, _ = raw_request(server.port, signed_head(holder, token, server, "POST", "/lease/a", body), body)
            tally.check(where, "Redis stopped: 503", status == 503, str(status))
            tally.check(where, "still alive", server.alive())
    finally:
        for client in clients:
            client.stop()
        for server in servers:
            server.stop()
        redis.close()
    columns = [c.name for c in clients] + ["raw socket", "hostile"]
    print("| server | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for server in servers:
        print(f"| {server.name} | " + " | ".join(tally.cells.get((server.name, c), "–") for c in columns) + " |")
    for failure in tally.failures:
        print("FAILED", failure)
    print(f"matrix: {tally.checks - len(tally.failures)} passed, {len(tally.failures)} failed")
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())
