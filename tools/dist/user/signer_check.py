"""A user's check of the released `trustcore signer serve`: through the wheel's SignerClient, its health,
its public key (the one of the key file it was given) and a token it mints, verified with that key.

    python signer_check.py SOCKET ISSUER_PUBLIC_HEX
"""

import sys
import time

import trustcore

socket, issuer_public_hex = sys.argv[1], sys.argv[2]
signer = trustcore.SignerClient(socket, connect_timeout=1.0, request_timeout=5.0)
signer.health()
public_hex, key_id = signer.public_key()
assert public_hex == issuer_public_hex, (public_hex, issuer_public_hex)

holder = trustcore.WorkerKey.generate()
minted = signer.mint(holder.public_hex, "gpu-1", {"right": ["lease"]}, expires_at=time.time() + 600)
trustcore.parse_token(issuer_public_hex, minted.token)  # signed by that key, or it raises
print(f"signer: healthy, key id {key_id}, {minted}")
