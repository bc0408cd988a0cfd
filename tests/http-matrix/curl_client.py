"""The matrix's curl client (tests/http-matrix/README.md): each request is signed by
`trustcore proof --curl` (RFC 9421 unless the line asks for legacy) and sent by the curl command it
prints, run by a shell, exactly as the README shows a user doing it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile


def send(line: dict[str, object], work: str) -> dict[str, object]:
    body_path = os.path.join(work, "body")
    with open(body_path, "wb") as f:
        f.write(bytes.fromhex(str(line.get("body_hex", ""))))
    out_path = os.path.join(work, "out")
    method, url = str(line["method"]), str(line["url"])
    has_body = os.path.getsize(body_path) > 0
    if line.get("unsigned"):
        command = ["curl", "-X", method, *(["--data-binary", f"@{body_path}"] if has_body else []), url]
    else:
        key_path = os.path.join(work, "holder.key")
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(str(line["holder_secret_hex"]))
        proof = [os.environ["TRUSTCORE_BIN"], "proof", "--key-file", key_path, "--token", str(line["token"]),
                 "--method", method, "--url", url, "--curl"]
        proof += ["--body-file", body_path] if has_body else []
        proof += [] if line.get("profile") == "legacy" else ["--rfc9421"]
        printed = subprocess.run(proof, capture_output=True, text=True, check=False)
        if printed.returncode != 0:
            return {"error": printed.stderr.strip()}
        command = ["sh", "-c", printed.stdout.strip() + ' "$@"', "curl"]
    command += ["--silent", "--show-error", "-o", out_path, "-w", "%{http_code}"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": done.stderr.strip()}
    with open(out_path, encoding="utf-8", errors="replace") as f:
        return {"status": int(done.stdout), "body": f.read()}


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="trustcore-matrix-curl-") as work:
        for raw in sys.stdin:
            if raw.strip():
                print(json.dumps(send(json.loads(raw), work)), flush=True)


if __name__ == "__main__":
    main()
