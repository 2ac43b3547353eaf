"""The running local stack: environment, tables and queues, API server, queue runner, the
table's stream relay and the schedules."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import boto3

from chalicelib.shared import resources
from devstack import keys
from devstack.api import api_server, serve_in_thread
from devstack.bootstrap import bootstrap
from devstack.emulators import Emulators
from devstack.runner import QueueRunner, ScheduleRunner
from devstack.streams import StreamRunner


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
class LocalStack:
    api_url: str
    environment: dict[str, str]
    _server: Any = field(repr=False)
    _runner: Any = field(default=None, repr=False)
    _streams: Any = field(default=None, repr=False)
    _schedules: Any = field(default=None, repr=False)

    @classmethod
    def start(cls, emulators: Emulators, host: str, port: int) -> LocalStack:
        environment = configure_environment(emulators)
        server = api_server(host, port)
        serve_in_thread(server)
        runner = _start_runner()
        streams = StreamRunner.for_local_stack(resources.TABLE.name)  # webhook outbox relay
        streams.start()
        schedules = ScheduleRunner.for_local_stack()  # the offer sweep
        schedules.start()
        return cls(f"http://{host}:{port}", environment, server, runner, streams, schedules)

    def stop(self, seconds: float = 4.0) -> list[str]:
        """Ask every background part to stop at once, then wait for them all until one deadline
        (a queue poll, a handler call, a webhook delivery in flight). Returns what was still
        running at the deadline; those are daemon threads and end with the process."""
        parts = [part for part in (self._schedules, self._streams, self._runner) if part is not None]
        for part in parts:
            part.request_stop()
        deadline = time.monotonic() + seconds
        self._server.shutdown()
        return [name for part in parts for name in part.join(deadline)]


def _start_runner() -> QueueRunner:
    runner = QueueRunner.for_local_stack()
    runner.start()
    return runner
