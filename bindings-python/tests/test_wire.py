"""The signer's wire over real sockets: round trips, and every refusal is FRAME_INVALID."""

from __future__ import annotations

import socket
import threading

import pytest

import trustcore as tc
from trustcore import wire


def pair() -> tuple[socket.socket, socket.socket]:
    a, b = socket.socketpair()
    a.settimeout(2)
    b.settimeout(2)
    return a, b


def test_round_trip_writes_jcs() -> None:
    a, b = pair()
    with a, b:
        wire.send_frame(a, {"v": 1, "op": "mint", "args": {"z": [1, 2.5, None, True], "a": "é"}})
        assert wire.recv_frame(b) == {"args": {"a": "é", "z": [1, 2.5, None, True]}, "op": "mint", "v": 1}
        wire.send_frame(a, {"b": 1, "a": 2})
        header = wire.recv_exact(b, 4)
        (length,) = wire.FRAME_HEADER.unpack(header)
        assert wire.recv_exact(b, length) == b'{"a":2,"b":1}'


def test_oversize_length_is_refused_before_the_body() -> None:
    a, b = pair()
    with a, b:
        a.sendall((wire.MAX_FRAME + 1).to_bytes(4, "big"))  # and no body at all
        with pytest.raises(tc.FrameInvalid, match="too large"):
            wire.recv_frame(b)
    with pytest.raises(tc.FrameInvalid):
        wire.encode_frame({"x": "y" * wire.MAX_FRAME})


def test_a_peer_closing_mid_frame() -> None:
    a, b = pair()
    with b:
        a.sendall(b"\x00\x00\x00\x10{")
        a.close()
        with pytest.raises(tc.FrameInvalid, match="closed mid-frame"):
            wire.recv_frame(b)


def test_a_slow_peer_times_out_as_frame_invalid() -> None:
    a, b = pair()
    with a, b:
        b.settimeout(0.05)
        a.sendall(b"\x00\x00\x00\x09{")  # then silence
        with pytest.raises(tc.FrameInvalid, match="timed out") as info:
            wire.recv_frame(b)
        assert isinstance(info.value.__cause__, TimeoutError)


@pytest.mark.parametrize("body", [b"[1,2]", b"not json", b"\xff\xfe", b"", b'"s"'])
def test_a_body_that_is_no_json_object(body: bytes) -> None:
    a, b = pair()
    with a, b:
        a.sendall(len(body).to_bytes(4, "big") + body)
        with pytest.raises(tc.FrameInvalid):
            wire.recv_frame(b)


def test_decode_frame_refuses_trailing_bytes() -> None:
    frame = wire.encode_frame({"a": 1})
    assert wire.decode_frame(frame) == {"a": 1}
    with pytest.raises(tc.FrameInvalid):
        wire.decode_frame(frame + b"\x00")


class Interrupting:
    """A socket whose recv is interrupted (as by Ctrl-C): that is no frame error to swallow."""

    def recv(self, n: int) -> bytes:
        raise KeyboardInterrupt

    def sendall(self, data: bytes) -> None:
        raise KeyboardInterrupt


def test_interrupts_pass_through() -> None:
    with pytest.raises(KeyboardInterrupt):
        wire.recv_frame(Interrupting())  # type: ignore[arg-type]
    with pytest.raises(KeyboardInterrupt):
        wire.send_frame(Interrupting(), {"a": 1})  # type: ignore[arg-type]


def test_a_unix_socket_server_and_client() -> None:
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "signer.sock")
        server = socket.socket(wire.family(path), socket.SOCK_STREAM)
        server.bind(path)
        server.listen(1)

        def serve() -> None:
            conn, _ = server.accept()
            with conn:
                request = wire.recv_frame(conn)
                wire.send_frame(conn, {"v": 1, "id": request["id"], "ok": True, "result": {}})

        thread = threading.Thread(target=serve)
        thread.start()
        with socket.socket(wire.family(path), socket.SOCK_STREAM) as client:
            client.settimeout(2)
            client.connect(path)
            wire.send_frame(client, {"v": 1, "id": 7, "op": "health", "args": {}})
            assert wire.recv_frame(client) == {"v": 1, "id": 7, "ok": True, "result": {}}
        thread.join()
        server.close()
    assert wire.family(("127.0.0.1", 1)) == socket.AF_INET


def test_a_frame_with_a_duplicated_key_is_refused() -> None:
    # one reading for every reader: JSON parsers disagree on which of two equal keys wins
    def frame(body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + body

    assert wire.decode_frame(frame(b'{"a":1,"b":{"c":[{"d":2}]}}')) == {"a": 1, "b": {"c": [{"d": 2}]}}
    for body in (b'{"a":1,"a":2}', b'{"a":{"b":1,"b":1}}', b'{"a":[{"x":1,"x":1}]}', b'{"a":1,"\\u0061":2}'):
        with pytest.raises(tc.FrameInvalid):
            wire.decode_frame(frame(body))
        a, b = pair()
        with a, b:
            a.sendall(frame(body))
            with pytest.raises(tc.FrameInvalid):
                wire.recv_frame(b)
