"""Hostile HTTP against each protected server of the matrix, over raw sockets (`make test-matrix`):
Content-Length lies, a trickled body, duplicated and folded signature headers, CR/LF/NUL in values,
100 KB values, absolute-form and asterisk-form targets, methods in odd case. After each: the answer
is a status code (or the server closes a connection it cannot parse), the process is alive, and the
next good request is served; the server's memory stays bounded over the whole sequence.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# what the server may answer to a request it must refuse: a parser's 400/431, core's 401/403/413,
# a framework's 404/405/501 for a method or target it does not route; None = closed without answer
REFUSED = {400, 401, 403, 404, 405, 408, 413, 414, 431, 501, None}
# the most a server may grow over the whole hostile sequence
MAX_GROWTH_KB = 64 * 1024


def exchange(port: int, data: bytes, timeout: float = 5.0, hold: float = 0.0) -> int | None:
    """Send `data`, then read one answer's status line: its status, or None when the server closes
    the connection without one. `hold` keeps the connection open that long before reading."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        try:
            conn.sendall(data)
        except OSError:
            pass  # a server may close on what it read so far: the answer (if any) is still there
        time.sleep(hold)
        received = b""
        try:
            while b"\r\n" not in received:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                received += chunk
        except (ConnectionResetError, socket.timeout):
            pass
    if not received.startswith(b"HTTP/"):
        return None
    return int(received.split(b" ", 2)[1])


def tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants (a gunicorn arbiter and its worker)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return total


def wire(head: str, body: bytes = b"") -> bytes:
    """A head written as given (LF line ends become CRLF), then the body."""
    return head.replace("\n", "\r\n").encode("latin-1") + b"\r\n\r\n" + body


def hostile_cases(port: int, signed: Callable[[str, str, bytes], str], body: bytes) -> list[tuple[str, bytes, dict[str, Any]]]:
    """(name, bytes to send, options) for one server. `signed(method, path, body)` is a signed head
    (with Content-Length, Connection: close) for a fresh nonce."""
    host = f"Host: 127.0.0.1:{port}"
    good = signed("POST", "/lease/a", body)
    no_length = "\n".join(line for line in good.split("\n") if not line.lower().startswith("content-length"))
    return [
        ("Content-Length over the body", wire(f"{no_length}\nContent-Length: {len(body) + 40}", body), {"shut": True}),
        ("Content-Length under the body", wire(f"{no_length}\nContent-Length: 5", body), {}),
        ("Content-Length twice, differing", wire(f"{good}\nContent-Length: {len(body) + 1}", body), {}),
        ("two Signature lines", wire(f"{good}\nSignature: tc=:AAAA:", body), {}),
        ("two Signature-Input lines", wire(f'{good}\nSignature-Input: tc=("@method")', body), {}),
        ("two Authorization lines", wire(f"{good}\nAuthorization: Biscuit AAAA", body), {}),
        # RFC 9112 §5.2: a server rejects obs-fold (400) or replaces it with a space before reading the
        # field (h11 and Go do): the value, and so the signature base, is then the one signed
        ("a folded Signature-Input", wire(good.replace("Signature-Input: ", "Signature-Input:\n ", 1), body),
         {"may_pass": True}),
        ("NUL in a header value", wire(f"{good}\nX-Note: a\x00b", body), {}),
        ("a bare CR in a header value", wire(f"{good}\nX-Note: a\rb", body), {}),
        ("a 100 KB header value", wire(f"{good}\nX-Big: {'a' * 100_000}", body), {"may_pass": True}),
        ("a 100 KB Signature-Input", wire(f"{good}\nSignature-Input: x=(\"{'a' * 100_000}\")", body), {}),
        ("absolute-form target", wire(good.replace("POST /lease/a ", f"POST http://127.0.0.1:{port}/lease/a ", 1), body),
         {"may_pass": True}),
        # Go's net/http answers `OPTIONS *` itself (200, empty), never calling a handler
        ("asterisk-form target", wire(f"OPTIONS * HTTP/1.1\n{host}\nConnection: close"), {"may_pass": True}),
        ("a method in odd case", wire(signed("post", "/lease/a", body), body), {}),
        ("a method in odd case, unsigned", wire(f"Post /lease/a HTTP/1.1\n{host}\nContent-Length: 0\nConnection: close"),
         {}),
        ("a percent-encoded dot segment", wire(signed("POST", "/lease/%2E%2E/admin", body), body), {}),
    ]


def run(tally: Any, where: tuple[str, str], server: Any, signed: Callable[[str, str, bytes], str], body: bytes) -> None:
    """Every hostile case against `server`, each followed by a good request; memory checked last."""
    assert server.process is not None
    port, pid = server.port, server.process.pid

    def good_request_served(after: str) -> None:
        status = exchange(port, wire(signed("POST", "/lease/a", body), body), timeout=10)
        tally.check(where, f"after {after}: alive, the next good request served", server.alive() and status == 200,
                    f"alive={server.alive()} status={status}")

    before = tree_rss_kb(pid)
    for name, data, options in hostile_cases(port, signed, body):
        if options.get("shut"):
            # announced more than sent, then the write side closed: the server sees the body end early
            with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
                conn.sendall(data)
                conn.shutdown(socket.SHUT_WR)
                answer = conn.recv(4096)
            status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else None
        else:
            status = exchange(port, data)
        allowed = REFUSED | ({200} if options.get("may_pass") else set())
        tally.check(where, f"{name}: refused with a code", status in allowed, f"status={status}")
        good_request_served(name)
    # a body trickled a byte at a time holds its own connection only: another request is served
    with socket.create_connection(("127.0.0.1", port), timeout=10) as slow:
        head = signed("POST", "/lease/a", body)
        slow.sendall(wire(head) + body[:1])
        for i in range(1, 3):
            time.sleep(1)
            slow.sendall(body[i:i + 1])
            good_request_served(f"a body trickled at 1 byte/s ({i} s in)")
    grown = tree_rss_kb(pid) - before
    tally.check(where, "memory bounded over the hostile requests", grown < MAX_GROWTH_KB, f"grew {grown} KiB")
