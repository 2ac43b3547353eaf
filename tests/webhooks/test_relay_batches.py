"""The outbox relay reads the subscriptions once per stream batch, and still delivers every change
of the batch to every subscription that wants it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib import bootstrap
from chalicelib.shared.dynamo import to_item
from chalicelib.webhooks.domain import Subscription
from tests.webhooks.conftest import MemoryWebhooks, memory_webhooks
from workers.webhook_relay import handler


def decided(request_id: str, outcome: str) -> dict:
    """A stream record: a request that was pending and is now completed with `outcome`."""
    before = {
        "entity": "request",
        "requestId": request_id,
        "eventId": "e1",
        "userId": "u1",
        "status": "pending",
    }
    after = {
        **before,
        "status": "completed",
        "outcome": {"type": outcome},
        "countsAfter": {"confirmedCount": 1, "waitlistCount": 0},
        "completedAt": "2026-01-01T00:00:00Z",
    }
    change = {"OldImage": to_item(before), "NewImage": to_item(after), "SequenceNumber": request_id}
    return {"eventName": "MODIFY", "eventSource": "aws:dynamodb", "dynamodb": change}


def subscription(webhook_id: str, *events: str) -> Subscription:
    return Subscription(
        webhook_id,
        f"https://hooks.example.com/{webhook_id}",
        events,
        True,
        "whsec_x",
        "c",
        "c",
        covers_all=True,
    )


@pytest.fixture
def hooks() -> Iterator[MemoryWebhooks]:
    wired = memory_webhooks()
    bootstrap.use(wired.container)
    yield wired
    bootstrap.use(None)


def test_a_batch_reads_the_subscriptions_once_and_delivers_every_change(hooks, monkeypatch):
    hooks.subscriptions.add(subscription("confirmations", "registration.confirmed"))
    hooks.subscriptions.add(subscription("everything", "registration.confirmed", "registration.waitlisted"))
    reads: list[int] = []
    every = hooks.subscriptions.all
    monkeypatch.setattr(hooks.subscriptions, "all", lambda: reads.append(1) or every())

    batch = [decided("r1", "confirmed"), decided("r2", "waitlisted"), decided("r3", "confirmed")]
    assert handler({"Records": batch}, None) == {"batchItemFailures": []}
    assert len(reads) == 1
    queued = [hooks.deliveries.get(message["deliveryId"]) for message, _ in hooks.queue.sent]
    delivered = {(d.webhook_id, d.event_type) for d in queued if d is not None}
    assert delivered == {
        ("confirmations", "registration.confirmed"),
        ("everything", "registration.confirmed"),
        ("everything", "registration.waitlisted"),
    }
    assert len(queued) == 5

    assert handler({"Records": [decided("r4", "confirmed")]}, None) == {"batchItemFailures": []}
    assert len(reads) == 2, "the next batch reads them again: a new subscription is seen"
