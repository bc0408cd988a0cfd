"""What asgi_overhead.py and wsgi_overhead.py share: the matrix's request (POST /lease/a, a 16-byte
body, RFC 9421) to one authority, a holder and its token, the route policy given on the command
line, and the rounds loop that prints each round and the median of what the middleware adds."""

import statistics
import sys
import time
from collections.abc import Callable

import trustcore as tc

REQUESTS = 2000
ROUNDS = 5
HOST = "127.0.0.1:8000"
BODY = b'{"episode":"e1"}'

issuer, holder = tc.IssuerKey.generate(), tc.WorkerKey.generate()
token = tc.mint_biscuit(
    issuer, public_hex=holder.public_hex, holder_id="gpu-1", facts={"right": ["lease"], "lane": ["a"]},
    revocation_id="rev-1", expires_at=time.time() + 3600,
)
policy = tc.HttpPolicy.from_file(sys.argv[1])


def new_verifier() -> tc.Verifier:
    """A fresh Verifier answering to HOST (each round's nonces are its own)."""
    return tc.Verifier(issuer.public_hex, authorities=[HOST])


def rounds(name: str, one_round: Callable[[], tuple[float, float]]) -> None:
    """Runs ROUNDS rounds of `one_round` (CPU µs per request of decide alone, then through the
    middleware) and prints each and the median difference."""
    added = []
    for _ in range(ROUNDS):
        alone, wrapped = one_round()
        added.append(wrapped - alone)
        print(f"decide alone {alone:.1f} µs CPU, middleware {wrapped:.1f} µs CPU: "
              f"the middleware adds {wrapped - alone:.1f} µs", flush=True)
    print(f"median: the {name} middleware adds {statistics.median(added):.1f} µs CPU per request")
