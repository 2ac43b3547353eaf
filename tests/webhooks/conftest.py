"""Webhook fixtures: a real HTTP receiver on loopback, containers on fakes or on the emulators."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.shared.clock import SystemClock
from chalicelib.shared.config import Settings
from chalicelib.webhooks.memory import (
    MemoryDeliveryQueue,
    MemoryDeliveryRepository,
    MemorySubscriptionRepository,
    StaticResolver,
)
from tests.fakes import TEST_SETTINGS, CountingIds


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1: answers from `script` (then `default`), records requests."""

    port: int = 0
    script: list[int] = field(default_factory=list)
    default: int = 200
    received: list[Received] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                status = receiver.script.pop(0) if receiver.script else receiver.default
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


class FixedRandomness:
    def __init__(self) -> None:
        self.count = 0

    def token_bytes(self, n: int) -> bytes:
        self.count += 1
        return bytes([self.count]) * n

    def draw(self) -> float:
        return 0.5  # no jitter


@dataclass
class MemoryWebhooks:
    container: bootstrap.Services
    subscriptions: MemorySubscriptionRepository
    deliveries: MemoryDeliveryRepository
    queue: MemoryDeliveryQueue
    resolver: StaticResolver


def memory_webhooks(sender: Any = None, schedule: str = "1s,2s", disable_after: int = 3) -> MemoryWebhooks:
    resolver = StaticResolver({"hooks.example.com": ["93.184.216.34"], "internal.example.com": ["10.0.0.7"]})
    config = replace(
        TEST_SETTINGS,
        webhook_retry_schedule=schedule,
        webhook_disable_after_failures=disable_after,
        allow_loopback_webhooks=True,
        allow_http_webhooks=True,
    )
    services = bootstrap.in_memory(
        config, SystemClock(), CountingIds(), FixedRandomness(), sender=sender, resolver=resolver
    )
    relay = services.relay
    return MemoryWebhooks(services, relay.subscriptions, relay.deliveries, relay.queue, resolver)  # type: ignore[arg-type]


def emulator_settings(**overrides: Any) -> Settings:
    config = replace(
        Settings.from_environment(),
        allow_loopback_webhooks=True,
        allow_http_webhooks=True,
        webhook_retry_schedule="0s,1s",
        webhook_disable_after_failures=3,
    )
    return replace(config, **overrides)


def caller(client: Any) -> Callable[..., tuple[int, Any]]:
    """`call(who, method, path, body=None)` on a chalice test client, as `who` (their headers):
    (status code, JSON body or None)."""

    def call(who: dict[str, str], method: str, path: str, body: Any = None) -> tuple[int, Any]:
        response = getattr(client.http, method)(
            path,
            headers={"Content-Type": "application/json", **who},
            body=json.dumps(body) if body is not None else b"",
        )
        return response.status_code, json.loads(response.body) if response.body else None

    return call


def wait_for(condition: Callable[[], Any], step: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Run `step` until `condition()` is truthy (returns it) or the timeout passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        step()
    raise AssertionError("condition not met in time")
