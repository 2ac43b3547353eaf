"""The running local stack: environment, tables and queues, the API server in this process, and
the Lambda side (queue pollers, the table's stream relay, the schedules) in a process of its own
(devstack/functions.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import boto3

from chalicelib.shared import resources
from devstack import functions, keys
from devstack.api import api_server, serve_in_thread
from devstack.bootstrap import bootstrap
from devstack.emulators import ROOT, Emulators, StackError, die_with_parent


def configure_environment(emulators: Emulators) -> dict[str, str]:
    """Point boto3 at the emulators, create the resources, export their names. Returns the env."""
    os.environ.update(emulators.environment())
    region = os.environ["AWS_DEFAULT_REGION"]
    dynamodb = boto3.client("dynamodb", region_name=region)
    sqs = boto3.client("sqs", region_name=region)
    urls = bootstrap(dynamodb, sqs, boto3.client("s3", region_name=region))
    turnstile = {
        "TURNSTILE_TABLE": resources.TABLE.name,
        "TURNSTILE_REGISTRATIONS_QUEUE_URL": urls[resources.REGISTRATIONS.name],
        "TURNSTILE_REGISTRATIONS_DLQ_URL": urls[resources.REGISTRATIONS_DLQ.name],
        "TURNSTILE_WEBHOOKS_QUEUE_URL": urls[resources.WEBHOOKS.name],
        "TURNSTILE_WEBHOOKS_DLQ_URL": urls[resources.WEBHOOKS_DLQ.name],
        "TURNSTILE_WEBHOOK_RELAY_QUEUE_URL": urls[resources.WEBHOOK_RELAY.name],
        "TURNSTILE_IMPORTS_QUEUE_URL": urls[resources.IMPORTS.name],
        "TURNSTILE_IMPORTS_DLQ_URL": urls[resources.IMPORTS_DLQ.name],
        "TURNSTILE_IMPORTS_BUCKET": resources.IMPORTS_BUCKET,
        "TURNSTILE_ALLOW_LOOPBACK_WEBHOOKS": "true",
        "TURNSTILE_ALLOW_HTTP_WEBHOOKS": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "Turnstile",
        **keys.environment(),  # tokens from `python -m cli.turnstile token` verify
    }
    os.environ.update(turnstile)
    return {**emulators.environment(), **turnstile}


@dataclass
class DevStack:
    api_url: str
    environment: dict[str, str]
    _server: Any = field(repr=False)
    _functions: subprocess.Popen[str] = field(repr=False)

    @classmethod
    def start(cls, emulators: Emulators, host: str, port: int) -> DevStack:
        environment = configure_environment(emulators)
        functions = _start_functions()
        server = api_server(host, port)
        serve_in_thread(server)
        return cls(f"http://{host}:{port}", environment, server, functions)

    def stop(self, seconds: float = 4.0) -> None:
        """Stop the functions process (it stops its pollers, a handler call or a webhook delivery
        in flight included, within its own deadline) and the API server, together; kill the
        functions process if it is still there after `seconds`."""
        deadline = time.monotonic() + seconds
        if self._functions.poll() is None:
            self._functions.send_signal(signal.SIGTERM)
        self._server.shutdown()
        try:
            self._functions.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self._functions.kill()
            self._functions.wait()


def _start_functions() -> subprocess.Popen[str]:
    """`python -m devstack.functions` with this environment; returns once it is ready, then
    passes its output (the handlers' logs) on to this process's."""
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack.functions"],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # stopped by this process, not by the terminal's Ctrl-C
        preexec_fn=die_with_parent,  # nothing but a prctl in the child
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.strip() == functions.READY:
            threading.Thread(
                target=_forward, args=(process.stdout,), name="functions-output", daemon=True
            ).start()
            return process
        sys.stdout.write(line)
    raise StackError(f"the functions process exited at start (code {process.wait()})")


def _forward(lines: Iterable[str]) -> None:
    for line in lines:
        sys.stdout.write(line)
        sys.stdout.flush()
