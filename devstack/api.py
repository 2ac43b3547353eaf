"""Serve app.py with chalice's local dev server, as `chalice local` does, with two changes.

- A deep listen backlog: `chalice local` listens with Python's default of 5, which resets
  connections under a few dozen concurrent clients.
- An unknown route is a 404 problem+json, as the deployed API answers it (chalice mimics API
  Gateway's raw 403 "Missing Authentication Token", which the stack's gateway responses replace).
"""

from __future__ import annotations

import json
import threading

from chalice.cli.factory import CLIFactory
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    ForbiddenError,
    LocalChalice,
    LocalDevServer,
    LocalGatewayException,
    ThreadedHTTPServer,
)

from chalicelib.shared.http import PROBLEM_JSON, UNKNOWN_ROUTE
from devstack.emulators import ROOT


class DeepBacklogServer(ThreadedHTTPServer):
    request_queue_size = 256


class RequestHandler(ChaliceRequestHandler):
    def _send_error_response(self, error: LocalGatewayException) -> None:
        if isinstance(error, ForbiddenError):  # no route matches
            body = json.dumps(UNKNOWN_ROUTE).encode()
            self._send_http_response(404, {"Content-Type": PROBLEM_JSON}, body)
            return
        super()._send_error_response(error)


def api_server(host: str, port: int, stage: str = "local") -> LocalDevServer:
    config = CLIFactory(project_dir=str(ROOT)).create_config_obj(chalice_stage_name=stage)
    app = config.chalice_app
    if not isinstance(app, LocalChalice):
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice
    return LocalDevServer(app, config, host, port, handler_cls=RequestHandler, server_cls=DeepBacklogServer)


def serve_in_thread(server: LocalDevServer) -> threading.Thread:
    thread = threading.Thread(target=server.server.serve_forever, name="api", daemon=True)
    thread.start()
    return thread
