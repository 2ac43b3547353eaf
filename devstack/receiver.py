"""A webhook receiver on loopback for trying webhooks under `make dev`.

    .venv/bin/python -m devstack.receiver --port 9000 [--secret whsec_...] [--status 200]

Prints one line per delivery: the `webhook-id`, the notification type and its data, and (with
`--secret`) whether the Standard Webhooks signature verifies. Answers `--status` (default 204).
The local stack allows webhook URLs on 127.0.0.1 (`TURNSTILE_ALLOW_LOOPBACK_WEBHOOKS=true`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from chalicelib.webhooks.signing import InvalidSignature, verify


def describe(headers: dict[str, str], body: bytes, secret: str | None) -> str:
    try:
        payload = json.loads(body)
        summary = f"{payload.get('type')} {json.dumps(payload.get('data'), sort_keys=True)}"
    except ValueError:
        summary = f"(not JSON) {body[:200]!r}"
    line = f"{headers.get('webhook-id', '?')} {summary}"
    if secret is None:
        return line
    try:
        verify(secret, headers, body, now=int(time.time()))
    except InvalidSignature as error:
        return f"{line} signature: INVALID ({error})"
    return f"{line} signature: ok"


def serve(port: int, secret: str | None, status: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            print(describe(headers, body, secret), flush=True)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.receiver", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--secret", help="the subscription's whsec_ secret, to verify signatures")
    parser.add_argument("--status", type=int, default=204, help="the status code to answer")
    options = parser.parse_args(argv)
    server = serve(options.port, options.secret, options.status)
    print(f"receiving webhooks at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
