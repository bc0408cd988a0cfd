"""asgi_overhead.py's twin for WSGI (bench/README.md, "Adapter cost"): the CPU per request (process
time) of trustcore.wsgi.TrustcoreMiddleware around an app that only reads the body, against
Verifier.decide alone (the headers rebuilt from the environ as the middleware does, the body read
from wsgi.input) on the same kind of signed requests (the matrix's POST /lease/a, RFC 9421), as
gunicorn hands them over (RAW_URI, HTTP_* keys, a streamed body), one at a time, five rounds of 2,000
each. The difference is what the middleware adds to the binding's own decision, without the server,
the sockets and the threads.

    usage: python wsgi_overhead.py ROUTES.json   (in a venv with trustcore installed)
"""

import io
import time
from typing import Any

import trustcore as tc
from trustcore import wsgi
from trustcore.http import sign_request

from overhead_fixture import BODY, HOST, REQUESTS, holder, new_verifier, policy, rounds, token


def environs() -> list[dict[str, Any]]:
    """Signed requests as gunicorn hands them over (each its own nonce), made before timing."""
    out = []
    for _ in range(REQUESTS):
        signed = sign_request(holder, token, "POST", f"http://{HOST}/lease/a", body=BODY)
        environ: dict[str, Any] = {
            "REQUEST_METHOD": "POST", "RAW_URI": "/lease/a", "PATH_INFO": "/lease/a", "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(BODY)), "HTTP_HOST": HOST,
            "HTTP_USER_AGENT": "Go-http-client/1.1", "wsgi.input": io.BytesIO(BODY), "wsgi.url_scheme": "http",
        }
        environ.update(("HTTP_" + name.upper().replace("-", "_"), value) for name, value in signed.items())
        out.append(environ)
    return out


def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    assert environ["trustcore"].allowed
    environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Length", "2")])
    return [b"ok"]


def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
    if not status.startswith("200 "):
        raise AssertionError(f"refused: {status} {headers}")
    return lambda data: None


def decide_alone(verifier: tc.Verifier, requests: list[dict[str, Any]]) -> float:
    start = time.process_time()
    for environ in requests:
        body = environ["wsgi.input"].read()
        assert verifier.decide("POST", environ["RAW_URI"], wsgi._headers(environ), body, policy=policy).allowed
    return (time.process_time() - start) / len(requests) * 1e6


def middleware(verifier: tc.Verifier, requests: list[dict[str, Any]]) -> float:
    protected = wsgi.TrustcoreMiddleware(app, verifier=verifier, policy=policy)
    start = time.process_time()
    for environ in requests:
        protected(environ, start_response)
    return (time.process_time() - start) / len(requests) * 1e6



def one_round() -> tuple[float, float]:
    return decide_alone(new_verifier(), environs()), middleware(new_verifier(), environs())


rounds("WSGI", one_round)
