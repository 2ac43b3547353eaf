"""Serve app.py with chalice's local dev server, as `chalice local` does, with a deep backlog.

`chalice local` listens with Python's default backlog of 5, which resets connections under a
few dozen concurrent clients; the server class here only raises that backlog.
"""

from __future__ import annotations

import threading

from chalice.cli.factory import CLIFactory
from chalice.local import CustomLocalChalice, LocalChalice, LocalDevServer, ThreadedHTTPServer

from devstack.emulators import ROOT


class DeepBacklogServer(ThreadedHTTPServer):
    request_queue_size = 256


def api_server(host: str, port: int, stage: str = "local") -> LocalDevServer:
    config = CLIFactory(project_dir=str(ROOT)).create_config_obj(chalice_stage_name=stage)
    app = config.chalice_app
    if not isinstance(app, LocalChalice):
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice
    return LocalDevServer(app, config, host, port, server_cls=DeepBacklogServer)


def serve_in_thread(server: LocalDevServer) -> threading.Thread:
    thread = threading.Thread(target=server.server.serve_forever, name="api", daemon=True)
    thread.start()
    return thread
