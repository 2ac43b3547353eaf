"""Imports tests: in-memory fakes for the API, and the local stack in this process for the rest.

The stack fixture runs what `make dev` runs (the API under chalice's local server, the queue
runner with the real registration and import workers) on the session's DynamoDB Local and
LocalStack, with one difference: the import worker's registrations feed is wrapped so tests can
count every row it sends and make it crash mid-import.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from chalicelib.registrations.messages import CommandMessage
from tests.fakes import session


class CrashedOnPurpose(RuntimeError):
    pass


@dataclass
class CountingFeed:
    """Wraps a RegistrationFeed: counts sends per deduplication id; can crash before a send."""

    inner: Any
    sent: Counter[str] = field(default_factory=Counter)
    batches: int = 0
    crash_before_batch: int | None = None  # 1-based: crash instead of sending this batch (once)
    crashes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, messages: list[CommandMessage]) -> None:
        with self._lock:
            self.batches += 1
            if self.crash_before_batch is not None and self.batches == self.crash_before_batch:
                self.crash_before_batch = None
                self.crashes += 1
                raise CrashedOnPurpose(f"import worker killed before batch {self.batches}")
        self.inner.send(messages)
        with self._lock:
            self.sent.update(f"import:{m.importId}:{m.row}" for m in messages)


@dataclass
class LocalImportStack:
    api: str
    feed: CountingFeed
    imports_poller: Any
    http: requests.Session


@pytest.fixture(scope="module")
def import_stack(emulators) -> Iterator[LocalImportStack]:
    from chalicelib import bootstrap
    from chalicelib.shared.aws import client
    from chalicelib.shared.config import Settings, settings
    from devstack.api import api_server, serve_in_thread
    from devstack.emulators import free_port
    from devstack.runner import QueuePoller, QueueRunner, load_handler

    settings.cache_clear()  # the emulators' environment is exported now
    client.cache_clear()
    built = bootstrap.build(Settings.from_environment())
    feed = CountingFeed(built.import_processor.feed)
    built.import_processor.feed = feed
    bootstrap.use(built)

    import os

    registrations = QueuePoller(
        os.environ["TURNSTILE_REGISTRATIONS_QUEUE_URL"],
        load_handler("workers.registration.handler"),
        name="registrations",
    )
    imports_poller = QueuePoller(
        os.environ["TURNSTILE_IMPORTS_QUEUE_URL"], load_handler("workers.imports.handler"), name="imports"
    )
    runner = QueueRunner([registrations, imports_poller])
    port = free_port()
    server = api_server("127.0.0.1", port)
    serve_in_thread(server)
    runner.start()
    with session() as http:
        try:
            yield LocalImportStack(f"http://127.0.0.1:{port}", feed, imports_poller, http)
        finally:
            runner.stop()
            server.shutdown()
            bootstrap.use(None)
