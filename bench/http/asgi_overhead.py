"""The HTTP bench's in-process companion for ASGI (bench/README.md, "Adapter cost"): the CPU per
request (process time: waiting on a busy machine is not counted) of trustcore.asgi.TrustcoreMiddleware
around an app that only reads the body, against Verifier.decide alone (the headers converted as the
middleware converts them) on the same kind of signed requests (the matrix's POST /lease/a, RFC 9421),
one at a time on one event loop, five rounds of 2,000 each. The difference is what the middleware
adds to the binding's own decision, without the server, the sockets and the scheduler.

    usage: python asgi_overhead.py ROUTES.json   (in a venv with trustcore installed)
"""

import asyncio
import time
from typing import Any

import trustcore as tc
from trustcore import asgi
from trustcore.http import sign_request

from overhead_fixture import BODY, HOST, REQUESTS, holder, new_verifier, policy, rounds, token


def scopes() -> list[dict[str, Any]]:
    """Signed requests as uvicorn hands them over (each its own nonce), made before timing."""
    out = []
    for _ in range(REQUESTS):
        signed = sign_request(holder, token, "POST", f"http://{HOST}/lease/a", body=BODY)
        headers = [(b"host", HOST.encode()), (b"content-length", str(len(BODY)).encode()),
                   *((name.lower().encode(), value.encode()) for name, value in signed.items()),
                   (b"content-type", b"application/json"), (b"user-agent", b"Go-http-client/1.1")]
        out.append({"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                    "scheme": "http", "path": "/lease/a", "raw_path": b"/lease/a", "query_string": b"",
                    "headers": headers})
    return out


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": BODY, "more_body": False}


async def send(message: dict[str, Any]) -> None:
    raise AssertionError(f"refused: {message}")


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["trustcore"].allowed
    await receive()


async def decide_alone(verifier: tc.Verifier, requests: list[dict[str, Any]]) -> float:
    start = time.process_time()
    for scope in requests:
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]]
        assert verifier.decide("POST", "/lease/a", headers, BODY, policy=policy).allowed
    return (time.process_time() - start) / len(requests) * 1e6


async def middleware(verifier: tc.Verifier, requests: list[dict[str, Any]]) -> float:
    protected = asgi.TrustcoreMiddleware(app, verifier=verifier, policy=policy)
    start = time.process_time()
    for scope in requests:
        await protected(scope, receive, send)
    return (time.process_time() - start) / len(requests) * 1e6



def one_round() -> tuple[float, float]:
    return asyncio.run(decide_alone(new_verifier(), scopes())), asyncio.run(middleware(new_verifier(), scopes()))


rounds("ASGI", one_round)
