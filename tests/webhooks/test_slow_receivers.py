"""A receiver that never answers, or trickles its answer, costs only its own attempt: the others
are delivered within seconds, and the slow one's attempt is recorded as a timeout."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest

import workers.webhooks as dispatcher_worker
from chalicelib import bootstrap
from chalicelib.webhooks.http import HttpSender
from chalicelib.webhooks.notifications import Notification
from tests.fakes import ADMIN_CALLER
from tests.webhooks.conftest import Receiver, memory_webhooks

DEADLINE = 1.5  # seconds per attempt, for the test


class SlowServer:
    """Accepts connections on 127.0.0.1; then says nothing (`trickle=None`) or one byte of an
    answer every `trickle` seconds, forever."""

    def __init__(self, trickle: float | None = None) -> None:
        self.trickle = trickle
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.stopped = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/hooks"

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._hold, args=(conn,), daemon=True).start()

    def _hold(self, conn: socket.socket) -> None:
        with conn:
            while not self.stopped.wait(self.trickle or 0.2):
                if self.trickle:
                    try:
                        conn.sendall(b"H")
                    except OSError:
                        return

    def stop(self) -> None:
        self.stopped.set()
        self.sock.close()


class Context:
    def __init__(self, seconds: float) -> None:
        self.ends = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self.ends - time.monotonic()) * 1000)


@pytest.fixture
def hooks() -> Iterator:
    wired = memory_webhooks(sender=HttpSender(timeout=DEADLINE))
    bootstrap.use(wired.container)
    yield wired
    bootstrap.use(None)


def _records(hooks) -> list[dict]:
    bodies = [message for message, _ in hooks.queue.sent]
    hooks.queue.sent.clear()
    return [{"messageId": f"m{i}", "body": json.dumps(b)} for i, b in enumerate(bodies)]


@pytest.mark.parametrize("trickle", [None, 0.3], ids=["silent", "trickling"])
def test_a_hung_receiver_does_not_delay_a_healthy_one_and_its_timeout_is_recorded(hooks, trickle):
    slow, healthy = SlowServer(trickle), Receiver().start()
    try:
        service = hooks.container.webhooks
        slow_hook, _ = service.create(ADMIN_CALLER, slow.url, ["registration.promoted"])
        good_hook, _ = service.create(ADMIN_CALLER, healthy.url, ["registration.promoted"])
        hooks.container.relay.relay(Notification("msg_1", "registration.promoted", "t", {"n": 1}, "olga"))
        records = _records(hooks)
        assert len(records) == 2

        started = time.monotonic()
        handled = threading.Thread(target=dispatcher_worker.handler, args=({"Records": records}, Context(30)))
        handled.start()
        while not healthy.received and time.monotonic() - started < 5:
            time.sleep(0.02)
        assert healthy.received and time.monotonic() - started < DEADLINE, "the healthy one waited"
        handled.join(timeout=DEADLINE + 5)
        assert not handled.is_alive() and time.monotonic() - started < DEADLINE + 3

        [slow_delivery] = service.deliveries_of(ADMIN_CALLER, slow_hook.webhook_id, 10, None)[0]
        [attempt] = slow_delivery.attempts
        assert attempt["statusCode"] is None and attempt["error"].startswith("timed out")
        assert DEADLINE * 1000 <= attempt["latencyMs"] < (DEADLINE + 1) * 1000
        assert slow_delivery.status == "pending"  # its retry is scheduled
        [good_delivery] = service.deliveries_of(ADMIN_CALLER, good_hook.webhook_id, 10, None)[0]
        assert good_delivery.status == "delivered"
    finally:
        slow.stop()
        healthy.stop()


def test_what_no_longer_fits_the_invocation_goes_back_on_the_queue_untried(hooks):
    healthy = Receiver().start()
    try:
        service = hooks.container.webhooks
        hook, _ = service.create(ADMIN_CALLER, healthy.url, ["registration.promoted"])
        hooks.container.relay.relay(Notification("msg_2", "registration.promoted", "t", {}, "olga"))
        records = _records(hooks)
        result = dispatcher_worker.handler({"Records": records}, Context(DEADLINE))  # too little left
        assert result == {"batchItemFailures": []}
        assert healthy.received == []
        [(message, delay)] = hooks.queue.sent  # the same attempt, queued again at once
        assert (json.loads(records[0]["body"]), delay) == (message, 0)
        [delivery] = service.deliveries_of(ADMIN_CALLER, hook.webhook_id, 10, None)[0]
        assert delivery.attempts == () and delivery.status == "pending"
    finally:
        healthy.stop()
