"""Another verifier process, for the Redis store tests: a service host of its own, with its own
:class:`trustcore.Verifier` on the same Redis, run with the test's interpreter (the same wheel).

It speaks JSON lines on stdin/stdout. The first line is its settings (``issuer``, ``redis`` as the
keyword arguments of :class:`trustcore.RedisOptions``, optional ``revoked_ids``); it answers
``{"ready": true}``, or ``{"error": CODE}`` when the verifier cannot be built. Then, per line:

- ``{"op": "authenticate", "proofs": [...], "request": {...}, "start_at": t, "threads": n}``:
  each proof (``token``, ``signature``, ``timestamp``, ``nonce``) authenticated in order, split over
  ``threads`` threads (proof ``k`` on thread ``k % n``), from the wall-clock instant ``start_at``
  on, so two processes start together whatever their start-up took; answers ``{"outcomes": [...]}``
  ("OK" or the code, one per proof, in the proofs' order);
- ``{"op": "revoke", "id": ID}``: answers ``{"outcome": "OK" | CODE}``.

It exits at the end of its input.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

import trustcore as tc


def outcome(call: Any) -> str:
    try:
        call()
    except tc.TrustError as err:
        return err.code
    return "OK"


def authenticate_all(verifier: tc.Verifier, command: dict[str, Any]) -> list[str]:
    given = command["request"]
    request = tc.RequestParts(given["method"], given["path"], bytes.fromhex(given["body_hex"]))
    proofs = [tc.WorkerProof(**p) for p in command["proofs"]]
    outcomes = [""] * len(proofs)
    threads = int(command.get("threads", 1))

    def run(first: int) -> None:
        for k in range(first, len(proofs), threads):
            outcomes[k] = outcome(lambda: verifier.authenticate(proofs[k], request))

    wait = float(command.get("start_at", 0)) - time.time()
    if wait > 0:
        time.sleep(wait)
    workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return outcomes


def answer(value: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


def main() -> None:
    settings = json.loads(sys.stdin.readline())
    try:
        verifier = tc.Verifier(
            settings["issuer"],
            redis=tc.RedisOptions(**settings["redis"]),
            revoked_ids=settings.get("revoked_ids"),
        )
    except tc.TrustError as err:
        answer({"error": err.code})
        return
    answer({"ready": True})
    for line in sys.stdin:
        command = json.loads(line)
        if command["op"] == "authenticate":
            answer({"outcomes": authenticate_all(verifier, command)})
        elif command["op"] == "revoke":
            answer({"outcome": outcome(lambda: verifier.revoke(command["id"]))})
        else:
            raise ValueError(f"unknown op {command['op']!r}")


if __name__ == "__main__":
    main()
