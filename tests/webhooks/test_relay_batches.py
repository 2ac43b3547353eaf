"""The outbox relay reads the subscriptions once per stream batch, and still delivers every change
of the batch to every subscription that wants it."""

from __future__ import annotations

import json
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
        "type": "register",
        "createdAt": "2026-01-01T00:00:00Z",
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
    hooks.subscriptions.add(subscription("confirmations", "registration.confirmed"), 25)
    everything = subscription("everything", "registration.confirmed", "registration.waitlisted")
    hooks.subscriptions.add(everything, 25)
    reads: list[int] = []
    reaching = hooks.subscriptions.reaching
    monkeypatch.setattr(hooks.subscriptions, "reaching", lambda owner: reads.append(1) or reaching(owner))

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


def test_a_change_that_fails_is_parked_and_the_batch_goes_on(hooks, monkeypatch):
    hooks.subscriptions.add(subscription("confirmations", "registration.confirmed"), 25)
    parked: list[dict] = []
    monkeypatch.setattr(hooks.container.parked_changes, "park", parked.append)
    relay, calls = hooks.container.relay.relay, []
    monkeypatch.setattr(
        hooks.container.relay,
        "relay",
        lambda n, s=None: 1 / 0 if not calls.append(n) and len(calls) == 1 else relay(n, s),
    )
    batch = [decided("r1", "confirmed"), decided("r2", "confirmed")]
    assert handler({"Records": batch}, None) == {"batchItemFailures": []}
    assert [change["sequenceNumber"] for change in parked] == ["r1"]
    assert len(hooks.queue.sent) == 1, "the change after it was relayed"


def test_when_parking_fails_too_every_such_change_is_reported_to_the_stream(hooks, monkeypatch):
    monkeypatch.setattr(hooks.container.relay, "relay", lambda n, s=None: 1 / 0)
    monkeypatch.setattr(hooks.container.parked_changes, "park", lambda change: 1 / 0)
    batch = [decided("r1", "confirmed"), decided("r2", "confirmed")]
    result = handler({"Records": batch}, None)
    assert result["batchItemFailures"] == [{"itemIdentifier": "r1"}, {"itemIdentifier": "r2"}]


def test_a_parked_change_that_fails_again_is_reported_by_its_message_id(hooks, monkeypatch):
    monkeypatch.setattr(hooks.container.relay, "relay", lambda n, s=None: 1 / 0)
    change = decided("r1", "confirmed")["dynamodb"]
    parked = {"old": change["OldImage"], "new": change["NewImage"], "sequenceNumber": "r1"}
    record = {"messageId": "m-1", "body": json.dumps(parked), "eventSource": "aws:sqs", "attributes": {}}
    assert handler({"Records": [record]}, None) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}


def test_an_empty_batch_is_no_failure(hooks):
    assert handler({"Records": []}, None) == {"batchItemFailures": []}
