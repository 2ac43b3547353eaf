"""`python -m devstack.functions`: the local stack's Lambda side, in a process of its own.

Runs what invokes the worker handlers on AWS: the queue pollers (SQS event source mappings), the
table's stream relay (the DynamoDB Streams mapping) and the schedules (EventBridge). `make dev`
starts it beside the API server with the environment already set (endpoints, queue URLs, table),
as Lambda runs beside API Gateway: the handlers do not share the API's interpreter lock, so a
rush of HTTP requests does not slow the decisions down (measured in bench.e2e).

It prints `ready` once every poller is in place (the stream relay reads from LATEST, so a change
made before that would be missed), and stops on SIGTERM or SIGINT within `STOP_SECONDS`.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

from chalicelib.shared import resources
from devstack.background import Background
from devstack.runner import QueueRunner, ScheduleRunner
from devstack.streams import StreamRunner

STOP_SECONDS = 3.0
READY = "ready"


def start() -> list[Background]:
    runner = QueueRunner.for_local_stack()
    streams = StreamRunner.for_local_stack(resources.TABLE.name)  # webhook outbox relay
    schedules = ScheduleRunner.for_local_stack()  # the offer sweep
    for part in (runner, streams, schedules):
        part.start()
    return [runner, streams, schedules]


def stop(parts: list[Background], seconds: float = STOP_SECONDS) -> list[str]:
    """Ask every part at once, then wait for all of them until one deadline."""
    for part in parts:
        part.request_stop()
    deadline = time.monotonic() + seconds
    return [name for part in parts for name in part.join(deadline)]


def main() -> int:
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    parts = start()
    print(READY, flush=True)
    stopping.wait()
    unfinished = stop(parts)
    if unfinished:
        print(f"functions left unfinished at the deadline: {', '.join(unfinished)}", flush=True)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # a handler still running past the deadline dies with the process
