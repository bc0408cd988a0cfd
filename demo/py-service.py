"""A service of `make demo`, in Python, over HTTP: a Starlette app under uvicorn behind
trustcore.asgi.TrustcoreMiddleware, with the demo's route policy file. It pins the issuer key it
asks the signer for; every refusal is the middleware's (core's status table). An allowed request is
answered with who sent it and, for a delegated token, the chain of holders it came through.

usage: py-service.py SIGNER_SOCKET ROUTES_JSON STATE_DIR

It writes its port to STATE_DIR/py.port once it listens, reads operator commands on standard input
("revoke <id>": done, it creates STATE_DIR/py.revoked), and stops when standard input closes.
"""

from __future__ import annotations

import os
import socket
import sys
import threading

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import trustcore
from trustcore.asgi import TrustcoreMiddleware


def say(text: str) -> None:
    print(f"   [service · python] {text}", flush=True)


def main() -> None:
    socket_path, routes, state = sys.argv[1:4]
    public_hex, key_id = trustcore.SignerClient(socket_path, connect_timeout=1.0, request_timeout=5.0).public_key()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    verifier = trustcore.Verifier({key_id: public_hex}, authorities=[f"127.0.0.1:{port}"])
    say(f"pins the issuer key {public_hex[:16]}… (root key id {key_id}), answers to 127.0.0.1:{port}, "
        f"routes from {os.path.basename(routes)}")

    async def lease(request: Request) -> JSONResponse:
        identity = request.scope["trustcore"].identity
        chain = [{"holder_id": h.holder_id, "holder_public_hex": h.holder_public_hex} for h in identity.chain]
        through = f", delegated through {' → '.join(h.holder_id for h in identity.chain)}" if len(chain) > 1 else ""
        say(f"allowed: holder {identity.holder_id}, {request.method} {request.url.path}{through}")
        return JSONResponse({"served_by": "python", "holder_id": identity.holder_id, "chain": chain})

    app = Starlette(
        routes=[Route("/{rest:path}", lease, methods=["GET", "POST"])],
        middleware=[Middleware(TrustcoreMiddleware, verifier=verifier, policy=trustcore.HttpPolicy.from_file(routes))],
    )
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))

    def operator() -> None:
        for line in sys.stdin:
            if line.startswith("revoke "):
                revocation_id = line.split(maxsplit=1)[1].strip()
                verifier.revoke(revocation_id)
                say(f"the operator revokes {revocation_id}")
                open(os.path.join(state, "py.revoked"), "w").close()
        server.should_exit = True

    threading.Thread(target=operator, daemon=True).start()
    with open(os.path.join(state, "py.port.tmp"), "w") as f:
        f.write(str(port))
    os.rename(os.path.join(state, "py.port.tmp"), os.path.join(state, "py.port"))
    server.run(sockets=[listener])


if __name__ == "__main__":
    main()
