"""Serve app.py with chalice's local dev server, as `chalice local` does, with two changes.

- A deep listen backlog: `chalice local` listens with Python's default of 5, which resets
  connections under a few dozen concurrent clients.
- An unknown route is a 404 problem+json, as the deployed API answers it (chalice mimics API
  Gateway's raw 403 "Missing Authentication Token", which the stack's gateway responses replace).
- A method no route accepts (TRACE, QUERY, anything http.server has no `do_` for) is a 405
  problem+json, not http.server's 501 HTML page.
"""

from __future__ import annotations

import json
import threading
from typing import Any

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
from chalicelib.shared.problems import problem_type
from devstack.emulators import ROOT


class DeepBacklogServer(ThreadedHTTPServer):
    request_queue_size = 256


MAX_UNREAD_BODY = 16 * 1024 * 1024


class RequestHandler(ChaliceRequestHandler):
    def _send_error_response(self, error: LocalGatewayException) -> None:
        if isinstance(error, ForbiddenError):  # no route matches
            body = json.dumps(UNKNOWN_ROUTE).encode()
            self._send_http_response(404, {"Content-Type": PROBLEM_JSON}, body)
            return
        super()._send_error_response(error)

    def _method_not_allowed(self) -> None:
        length = self.headers.get("Content-Length", "0")
        if length.isdigit() and int(length) <= MAX_UNREAD_BODY:
            self.rfile.read(int(length))  # read what was sent, or the client sees a reset socket
        self.close_connection = True
        body = json.dumps(
            {
                "type": problem_type("method-not-allowed"),
                "title": "Method Not Allowed",
                "status": 405,
                "detail": f"No route accepts {self.command}.",
            }
        ).encode()
        self._send_http_response(405, {"Content-Type": PROBLEM_JSON}, body)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):  # http.server looks up do_<METHOD> for each request
            return self._method_not_allowed
        raise AttributeError(name)


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
