"""The issuer service, in Python: it decides who gets which rights and asks the signer daemon to
mint the token. It never holds the issuer key: only the signer does.

usage: issuer.py SIGNER_SOCKET HOLDER_PUBLIC_HEX OUT_JSON
"""

from __future__ import annotations

import json
import sys
import time

from trustcore import SignerClient, SignerRefused


def say(text: str) -> None:
    print(f"   [issuer · python] {text}", flush=True)


def main() -> int:
    socket_path, holder_public, out = sys.argv[1:4]
    signer = SignerClient(socket_path, connect_timeout=1.0, request_timeout=5.0)
    public_hex, key_id = signer.public_key()
    say(f"asks the signer for its public key: {public_hex[:16]}… (root key id {key_id})")

    # delegation_depth 1: the holder may hand this token on once (to a key of its choosing, narrowed)
    minted = signer.mint(
        holder_public,
        "gpu-1",
        {"right": ["lease"], "lane": ["transcribe", "summarize"]},
        expires_at=time.time() + 600,
        delegation_depth=1,
    )
    say("asks the signer to mint a token for holder gpu-1: right=lease, lane=transcribe and summarize, "
        "10 minutes, delegable once")
    say(f"got it: revocation id {minted.revocation_id}, {len(minted.token)} characters of Biscuit")

    # the signer's own policy holds whatever this service asks for
    for what, facts, ttl, depth in [
        ("a right the signer was not told to grant (admin)", {"admin": ["yes"]}, 600, 0),
        ("a token for a whole day (the signer allows an hour)", {"right": ["lease"]}, 86_400, 0),
        ("a token delegable twice (the signer allows one link)", {"right": ["lease"]}, 600, 2),
    ]:
        try:
            signer.mint(holder_public, "gpu-1", facts, expires_at=time.time() + ttl, delegation_depth=depth)
        except SignerRefused as refused:
            say(f"asks for {what}: refused by the signer, {refused.code}")
        else:
            print(f"demo failed: the signer minted {what}", file=sys.stderr)
            return 1

    with open(out, "w", encoding="utf-8") as f:
        json.dump({"token": minted.token, "revocation_id": minted.revocation_id, "expires_at": minted.expires_at,
                   "issuer_public_hex": public_hex, "key_id": key_id}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
