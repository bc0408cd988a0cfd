"""Length-prefixed JSON frames over a stream socket: the signer's wire (trust-core 0.1's
``trust_core.wire``).

A frame is a 4-byte big-endian length, then a JSON object (written as JCS). The reader refuses a
length over :data:`MAX_FRAME` before reading the body, a peer that closes or times out mid-frame,
and a body that is not a JSON object: all FRAME_INVALID. Set a timeout on the socket
(``sock.settimeout``) to bound a slow peer.

An address picks the socket family: a ``str`` is a Unix socket path, a ``(host, port)`` tuple is
loopback TCP (tests, platforms without ``AF_UNIX``).
"""

from __future__ import annotations

import socket
import struct
from typing import Any

from . import _trustcore as _native
from ._trustcore import decode_frame, encode_frame
from .errors import FrameInvalid, SignerUnavailable, TrustError  # noqa: F401  (TrustError: as in trust-core 0.1)

#: The 4-byte big-endian frame length.
FRAME_HEADER = struct.Struct(">I")
#: The largest frame body: 1 MiB.
MAX_FRAME: int = _native.MAX_FRAME


def family(address: str | tuple[str, int]) -> int:
    """``AF_UNIX`` for a path, ``AF_INET`` for ``(host, port)``. SIGNER_UNAVAILABLE for a path on
    a platform without Unix sockets."""
    if isinstance(address, str):
        unix = getattr(socket, "AF_UNIX", None)
        if unix is None:
            raise SignerUnavailable("Unix domain sockets are unavailable on this platform")
        return int(unix)
    return socket.AF_INET


def send_frame(sock: socket.socket, payload: dict[str, Any]) -> None:
    """Send ``payload`` (a JSON object) as one frame."""
    _native.send_frame(sock, payload)


def recv_frame(sock: socket.socket) -> dict[str, Any]:
    """Read one frame and return its object, fail-closed (FRAME_INVALID)."""
    return _native.recv_frame(sock)


def recv_exact(sock: socket.socket, count: int) -> bytes:
    """Read exactly ``count`` bytes; FRAME_INVALID if the peer closes first."""
    out = bytearray()
    while len(out) < count:
        chunk = sock.recv(count - len(out))
        if not chunk:
            raise FrameInvalid("signer connection closed mid-frame")
        out.extend(chunk)
    return bytes(out)


__all__ = [
    "FRAME_HEADER",
    "MAX_FRAME",
    "decode_frame",
    "encode_frame",
    "family",
    "recv_exact",
    "recv_frame",
    "send_frame",
]
