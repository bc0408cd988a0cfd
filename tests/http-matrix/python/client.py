"""The HTTP matrix's Python client (tests/http-matrix/README.md): one JSON request per line on
standard input, one JSON answer per line on standard output, until standard input closes.

Signs with ``trustcore.httpx.TrustcoreAuth`` and sends with ``httpx.Client`` (the default), or with
``trustcore.requests.TrustcoreAuth`` and ``requests.Session`` when run with ``--requests``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import trustcore

#: How long one request may take before it is reported as an error.
TIMEOUT_SECONDS = 30.0


class Httpx:
    def __init__(self) -> None:
        import httpx

        self.client = httpx.Client(timeout=TIMEOUT_SECONDS)

    def send(self, method: str, url: str, body: bytes, auth: Any) -> tuple[int, str]:
        response = self.client.request(method, url, content=body, auth=auth)
        return response.status_code, response.text

    def auth(self, key: trustcore.WorkerKey, token: str, profile: Any) -> Any:
        from trustcore.httpx import TrustcoreAuth

        return TrustcoreAuth(key, token, profile=profile)


class Requests:
    def __init__(self) -> None:
        import requests

        self.session = requests.Session()

    def send(self, method: str, url: str, body: bytes, auth: Any) -> tuple[int, str]:
        response = self.session.request(method, url, data=body, auth=auth, timeout=TIMEOUT_SECONDS)
        return response.status_code, response.text

    def auth(self, key: trustcore.WorkerKey, token: str, profile: Any) -> Any:
        from trustcore.requests import TrustcoreAuth

        return TrustcoreAuth(key, token, profile=profile)


def handle(client: Httpx | Requests, line: str, keys: dict[str, trustcore.WorkerKey]) -> dict[str, Any]:
    try:
        request = json.loads(line)
        body = bytes.fromhex(request.get("body_hex") or "")
        method = request.get("method") or "GET"
        auth = None
        if not request.get("unsigned"):
            secret = request["holder_secret_hex"]
            if secret not in keys:
                keys[secret] = trustcore.WorkerKey.from_secret_hex(secret)
            auth = client.auth(keys[secret], request["token"], request.get("profile") or "rfc9421")
        status, text = client.send(method, request["url"], body, auth)
        return {"status": status, "body": text}
    except Exception as err:  # the protocol reports it, and the next line is served
        return {"error": f"{type(err).__name__}: {err}"}


def main() -> None:
    client: Httpx | Requests = Requests() if "--requests" in sys.argv[1:] else Httpx()
    keys: dict[str, trustcore.WorkerKey] = {}
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(handle(client, line, keys)), flush=True)


if __name__ == "__main__":
    main()
